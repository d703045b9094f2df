package marketdata

import (
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/trading"
)

func TestAggregator(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	tr := func(sec float64, price, qty string) trading.Trade {
		return trading.Trade{Symbol: "X", Price: fv(price), Qty: fv(qty), Side: trading.Buy, Time: t0.Add(time.Duration(sec * float64(time.Second)))}
	}
	kl := func(min int, o, h, l, c, v string) trading.Kline {
		return trading.Kline{Symbol: "X", OpenTime: t0.Add(time.Duration(min) * time.Minute), Interval: time.Minute,
			Open: fv(o), High: fv(h), Low: fv(l), Close: fv(c), Volume: fv(v)}
	}
	tests := []struct {
		name   string
		trades []trading.Trade
		want   []trading.Kline // closed, then the flushed one
	}{
		{name: "one candle", trades: []trading.Trade{tr(1, "10", "1"), tr(20, "12", "0.5"), tr(30, "9", "2"), tr(59.999, "11", "1")},
			want: []trading.Kline{kl(0, "10", "12", "9", "11", "4.5")}},
		{name: "boundary goes to the next candle", trades: []trading.Trade{tr(0, "10", "1"), tr(60, "11", "1"), tr(119, "12", "1")},
			want: []trading.Kline{kl(0, "10", "10", "10", "10", "1"), kl(1, "11", "12", "11", "12", "2")}},
		{name: "empty minutes are flat at the last close", trades: []trading.Trade{tr(5, "10", "1"), tr(6, "9", "1"), tr(200, "15", "3")},
			want: []trading.Kline{kl(0, "10", "10", "9", "9", "2"), kl(1, "9", "9", "9", "9", "0"), kl(2, "9", "9", "9", "9", "0"), kl(3, "15", "15", "15", "15", "3")}},
		{name: "start mid-interval aligns to the minute", trades: []trading.Trade{tr(90, "10", "1")},
			want: []trading.Kline{kl(1, "10", "10", "10", "10", "1")}},
		{name: "no trades", trades: nil, want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := NewAggregator("X", time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			var got []trading.Kline
			for _, x := range tc.trades {
				if got, err = a.Add(got, x); err != nil {
					t.Fatal(err)
				}
			}
			if k, ok := a.Flush(); ok {
				got = append(got, k)
			}
			if _, ok := a.Flush(); ok {
				t.Error("second Flush returned a candle")
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d klines %+v, want %d", len(got), got, len(tc.want))
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("kline %d = %+v\nwant %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestAggregatorRejectsOldTrade(t *testing.T) {
	a, _ := NewAggregator("X", time.Minute)
	t0 := time.Date(2024, 1, 1, 0, 5, 0, 0, time.UTC)
	if _, err := a.Add(nil, trading.Trade{Price: fv("1"), Qty: fv("1"), Time: t0}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Add(nil, trading.Trade{Price: fv("2"), Qty: fv("1"), Time: t0.Add(-time.Second)}); err == nil {
		t.Fatal("trade from an earlier candle accepted")
	}
	if k, _ := a.Current(); k.High != fv("1") {
		t.Errorf("rejected trade changed the candle: %+v", k)
	}
	if _, err := NewAggregator("X", 0); err == nil {
		t.Error("zero interval accepted")
	}
}

// A generated trade stream aggregated into klines must read back through
// the kline reader with no gaps and consistent OHLC.
func TestAggregatorOnGeneratorStream(t *testing.T) {
	cfg := testConfig(11)
	cfg.End = cfg.Start.Add(2 * time.Hour)
	var ks []trading.Kline
	err := GenerateKlines(t.Context(), cfg, 5*time.Minute, func(k trading.Kline) error { ks = append(ks, k); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(ks) != 24 {
		t.Fatalf("%d 5m klines in 2h, want 24", len(ks))
	}
	for i, k := range ks {
		if k.High < k.Low || k.Open > k.High || k.Open < k.Low || k.Close > k.High || k.Close < k.Low || k.Volume <= 0 {
			t.Errorf("kline %d inconsistent: %+v", i, k)
		}
		if i > 0 && k.OpenTime.Sub(ks[i-1].OpenTime) != 5*time.Minute {
			t.Errorf("kline %d not contiguous", i)
		}
	}
}
