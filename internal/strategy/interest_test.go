package strategy

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/trading"
)

// TestTrendWantsMatchesOnEvent: the kinds Trend says it ignores give an
// empty output even with a position far through its stop, so the engine
// may skip them; the kinds it wants are the ones that can act.
func TestTrendWantsMatchesOnEvent(t *testing.T) {
	p := DefaultTrendParams()
	p.FastPeriod, p.SlowPeriod, p.ATRPeriod, p.Interval = 2, 3, 2, time.Minute
	s := NewTrend("BTCUSDT", DefaultSizing(), p)
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	long := View{Position: Position{Qty: fixed.MustParse("0.1"), EntryPrice: fixed.FromInt(100)}, Equity: fixed.FromInt(1000)}
	for i := range 4 { // warm the ATR so a stop exists
		px := fixed.FromInt(int64(100 + i))
		s.OnEvent(t0, Event{Kind: EventCandle, Symbol: "BTCUSDT", Candle: trading.Kline{Symbol: "BTCUSDT", Interval: time.Minute,
			OpenTime: t0.Add(time.Duration(i) * time.Minute), Open: px, High: px + fixed.One, Low: px - fixed.One, Close: px}}, long)
	}
	if s.Stop() == 0 {
		t.Fatal("no stop after warm-up: the test would prove nothing")
	}
	for k := EventBook; k <= EventTimer; k++ {
		ev := Event{Kind: k, Symbol: "BTCUSDT", Trade: trading.Trade{Symbol: "BTCUSDT", Price: fixed.One, Qty: fixed.One, Time: t0}}
		out := s.OnEvent(t0, ev, long)
		if !s.Wants(k) && !out.Empty() {
			t.Errorf("kind %d: Wants false but output %+v", k, out)
		}
		if k == EventTrade && (!s.Wants(k) || out.Empty()) {
			t.Errorf("a trade through the stop must act and be wanted (wants %v, out %+v)", s.Wants(k), out)
		}
	}
}

// TestTrendWantsCandleMatchesOnEvent: a candle of another interval leaves
// the trend strategy unchanged and silent (the engine may skip it), its
// own interval's candle is wanted and acts.
func TestTrendWantsCandleMatchesOnEvent(t *testing.T) {
	p := DefaultTrendParams()
	p.FastPeriod, p.SlowPeriod, p.ATRPeriod, p.Interval = 2, 3, 2, 5*time.Minute
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	flat := View{Equity: fixed.FromInt(1000)}
	candle := func(iv time.Duration, i int, px int64) Event {
		v := fixed.FromInt(px)
		return Event{Kind: EventCandle, Symbol: "BTCUSDT", Candle: trading.Kline{Symbol: "BTCUSDT", Interval: iv,
			OpenTime: t0.Add(time.Duration(i) * iv), Open: v, High: v + fixed.One, Low: v - fixed.One, Close: v}}
	}
	// Falling then rising closes make the fast average cross the slow one.
	closes := []int64{110, 105, 100, 95, 100, 110, 120}
	run := func(s *Trend, foreign bool) (outs []string) {
		for i, c := range closes {
			if foreign { // a 1m candle wildly off before each 5m one
				if out := s.OnEvent(t0, candle(time.Minute, i, 10*c), flat); !out.Empty() {
					t.Errorf("a 1m candle acted: %+v", out)
				}
			}
			outs = append(outs, fmt.Sprintf("%+v", s.OnEvent(t0, candle(5*time.Minute, i, c), flat)))
		}
		return outs
	}
	s := NewTrend("BTCUSDT", DefaultSizing(), p)
	if s.WantsCandle(time.Minute) || !s.WantsCandle(5*time.Minute) {
		t.Fatalf("WantsCandle(1m)=%v WantsCandle(5m)=%v, want false, true", s.WantsCandle(time.Minute), s.WantsCandle(5*time.Minute))
	}
	want := run(s, false)
	if !slices.ContainsFunc(want, func(o string) bool { return strings.Contains(o, "Place:[{") }) {
		t.Fatalf("the 5m series never placed an order: the test would prove nothing: %v", want)
	}
	if got := run(NewTrend("BTCUSDT", DefaultSizing(), p), true); !slices.Equal(got, want) {
		t.Errorf("1m candles changed what the strategy does on its 5m candles:\n got %v\nwant %v", got, want)
	}
}
