package engine

import (
	"errors"
	"testing"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/instrument"
	"github.com/bitrader/bitrader/internal/trading"
)

// A symbol that stops trading refuses new orders, but a reduce-only one
// still reaches the exchange: closing risk stays possible.
func TestFitToSpecReduceOnlyIgnoresTradingStatus(t *testing.T) {
	spec := instrument.Default("BTCUSDT")
	spec.Status = "CLOSE"
	cases := []struct {
		name       string
		reduceOnly bool
		wantErr    error
	}{
		{"new exposure refused", false, instrument.ErrNotTrading},
		{"reduce-only passes", true, nil},
	}
	for _, c := range cases {
		in := trading.Intent{Symbol: "BTCUSDT", Side: trading.Sell, Type: trading.Limit, TimeInForce: trading.GTC,
			Price: fixed.MustParse("50000.01"), Qty: fixed.MustParse("0.01"), ReduceOnly: c.reduceOnly}
		err := fitToSpec(&in, &spec)
		if !errors.Is(err, c.wantErr) {
			t.Errorf("%s: err %v, want %v", c.name, err, c.wantErr)
		}
		if in.Price != fixed.MustParse("50000.1") { // a sell rounds up, away from the market
			t.Errorf("%s: price %s, want 50000.1", c.name, in.Price)
		}
	}
	if spec.Status != "CLOSE" {
		t.Errorf("fitToSpec changed the shared spec's status to %q", spec.Status)
	}
}
