package strategy

import (
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
