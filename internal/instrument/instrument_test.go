package instrument

import (
	"errors"
	"testing"

	"github.com/bitrader/bitrader/internal/fixed"
)

func TestRounding(t *testing.T) {
	s := Default("BTCUSDT") // 4 qty decimals, 1 price decimal
	p := fixed.MustParse
	tests := []struct {
		name string
		got  fixed.Value
		want fixed.Value
	}{
		{"qty rounds down", s.RoundQty(p("0.12349")), p("0.1234")},
		{"qty exact", s.RoundQty(p("0.1234")), p("0.1234")},
		{"price nearest up", s.RoundPrice(p("60000.05")), p("60000.1")},
		{"price nearest down", s.RoundPrice(p("60000.04")), p("60000")},
		{"passive buy rounds down", s.RoundPricePassive(p("60000.09"), 1), p("60000")},
		{"passive sell rounds up", s.RoundPricePassive(p("60000.01"), -1), p("60000.1")},
		{"tick", s.Tick(), p("0.1")},
		{"lot step", s.LotStep(), p("0.0001")},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, tt.got, tt.want)
		}
	}
}

func TestCheck(t *testing.T) {
	s := Default("BTCUSDT")
	p := fixed.MustParse
	closed := s
	closed.Status = "CANCEL_ONLY"
	tests := []struct {
		name   string
		spec   Spec
		qty    fixed.Value
		price  fixed.Value
		market bool
		want   error
	}{
		{"ok limit", s, p("0.001"), p("60000"), false, nil},
		{"ok market", s, p("0.001"), 0, true, nil},
		{"at min", s, p("0.0001"), p("1"), false, nil},
		{"below min", s, p("0.00009"), p("1"), false, ErrQtyTooSmall},
		{"zero", s, 0, p("1"), false, ErrQtyTooSmall},
		{"limit max", s, p("500.0001"), p("1"), false, ErrQtyTooLarge},
		{"market max", s, p("100.0001"), 0, true, ErrQtyTooLarge},
		{"market max is smaller than limit max", s, p("200"), p("1"), false, nil},
		{"no price", s, p("1"), 0, false, ErrBadPrice},
		{"not trading", closed, p("1"), p("1"), false, ErrNotTrading},
	}
	for _, tt := range tests {
		err := tt.spec.Check(tt.qty, tt.price, tt.market)
		if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
		}
	}
}
