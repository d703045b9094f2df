package exchange

import (
	"errors"
	"fmt"
	"testing"

	"github.com/bitrader/bitrader/internal/bitunix"
	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/ordermanager"
	"github.com/bitrader/bitrader/internal/trading"
)

func TestMapError(t *testing.T) {
	api := func(code int) error { return fmt.Errorf("place: %w", &bitunix.APIError{Code: code, Msg: "m"}) }
	cases := []struct {
		name string
		in   error
		is   error
		code int // Rejected code when is == nil
	}{
		{"duplicate 30042", api(30042), ordermanager.ErrDuplicateClientID, 0},
		{"not found 20007", api(20007), ordermanager.ErrNotFound, 0},
		{"ambiguous 5xx", &bitunix.TransportError{Status: 502, Ambiguous: true, Err: errors.New("bad gateway")}, ordermanager.ErrAmbiguous, 0},
		{"unknown error is ambiguous", errors.New("weird"), ordermanager.ErrAmbiguous, 0},
		{"business code", api(20003), nil, 20003},
		{"dial failed never sent", &bitunix.TransportError{Err: errors.New("dial")}, nil, 0},
	}
	for _, c := range cases {
		got := MapError(c.in)
		if c.is != nil {
			if !errors.Is(got, c.is) {
				t.Errorf("%s: %v is not %v", c.name, got, c.is)
			}
			continue
		}
		var rej *ordermanager.Rejected
		if !errors.As(got, &rej) || rej.Code != c.code {
			t.Errorf("%s: got %v, want Rejected %d", c.name, got, c.code)
		}
	}
}

func TestReportFillFromDealAmount(t *testing.T) {
	q := fixed.MustParse
	cases := []struct {
		o    bitunix.Order
		want fixed.Value
	}{
		{bitunix.Order{Status: trading.StatusFilled, Qty: q("0.5")}, q("0.5")},
		{bitunix.Order{Status: trading.StatusPartiallyFilled, Qty: q("0.5"), DealAmount: q("0.2")}, q("0.2")},
		{bitunix.Order{Status: trading.StatusPartiallyFilled, Qty: q("0.5"), DealAmount: q("2000"), AvgPrice: q("10000")}, q("0.2")},
		{bitunix.Order{Status: trading.StatusPartiallyFilled, Qty: q("0.5"), FilledQty: q("0.3"), DealAmount: q("0.2")}, q("0.3")},
	}
	for i, c := range cases {
		if got := Report(&c.o).FilledQty; got != c.want {
			t.Errorf("case %d: filled %s, want %s", i, got, c.want)
		}
	}
}
