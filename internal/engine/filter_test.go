package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/risk"
	"github.com/bitrader/bitrader/internal/strategy"
	"github.com/bitrader/bitrader/internal/trading"
)

// counting records the event kinds it is called with.
type counting struct{ got map[strategy.EventKind]int }

func (c *counting) Name() string { return "counting" }
func (c *counting) OnEvent(_ time.Time, ev strategy.Event, _ strategy.View) strategy.Output {
	c.got[ev.Kind]++
	return strategy.Output{}
}

// filtered wants trades only.
type filtered struct{ counting }

func (f *filtered) Wants(k strategy.EventKind) bool { return k == strategy.EventTrade }

// TestEventFilter: a strategy implementing strategy.EventFilter is called
// only for the kinds it wants; one without it gets every kind.
func TestEventFilter(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		strat interface {
			strategy.Strategy
			calls() map[strategy.EventKind]int
		}
		want map[strategy.EventKind]int
	}{
		{"no filter", &plain{counting{got: map[strategy.EventKind]int{}}},
			map[strategy.EventKind]int{strategy.EventBook: 1, strategy.EventTrade: 1, strategy.EventMark: 1, strategy.EventTimer: 1}},
		{"trades only", &filteredC{filtered{counting{got: map[strategy.EventKind]int{}}}},
			map[strategy.EventKind]int{strategy.EventTrade: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, tc.strat, nil, risk.DefaultLimits())
			at := t0.Add(time.Second)
			r.core.OnBook(ctx, at, book(at, "50000", "50001"))
			r.core.OnTrade(ctx, at, trading.Trade{Symbol: sym, Price: px("50000"), Qty: px("0.01"), Side: trading.Buy, Time: at})
			r.core.OnMark(ctx, at, trading.MarkPrice{Symbol: sym, Mark: px("50000"), Time: at})
			r.core.OnTimer(ctx, at)
			got := tc.strat.calls()
			if len(got) != len(tc.want) {
				t.Fatalf("calls %v, want %v", got, tc.want)
			}
			for k, n := range tc.want {
				if got[k] != n {
					t.Fatalf("calls %v, want %v", got, tc.want)
				}
			}
		})
	}
}

type plain struct{ counting }

func (p *plain) calls() map[strategy.EventKind]int { return p.got }

type filteredC struct{ filtered }

func (f *filteredC) calls() map[strategy.EventKind]int { return f.got }

// candleFiltered wants candles of one interval only.
type candleFiltered struct {
	counting
	iv time.Duration
}

func (c *candleFiltered) WantsCandle(iv time.Duration) bool { return iv == c.iv }
func (c *candleFiltered) calls() map[strategy.EventKind]int { return c.got }

// TestCandleFilter: a strategy implementing strategy.CandleFilter gets the
// candles of the intervals it wants only; one without it gets every candle.
func TestCandleFilter(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		strat interface {
			strategy.Strategy
			calls() map[strategy.EventKind]int
		}
		want int
	}{
		{"no filter", &plain{counting{got: map[strategy.EventKind]int{}}}, 3},
		{"wants 1m", &candleFiltered{counting{got: map[strategy.EventKind]int{}}, time.Minute}, 3},
		{"wants 5m", &candleFiltered{counting{got: map[strategy.EventKind]int{}}, 5 * time.Minute}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, tc.strat, nil, risk.DefaultLimits())
			for i := range 3 {
				open := t0.Add(time.Duration(i) * time.Minute)
				r.core.OnKline(ctx, open.Add(time.Minute), trading.Kline{Symbol: sym, OpenTime: open, Interval: time.Minute,
					Open: px("50000"), High: px("50010"), Low: px("49990"), Close: px("50005"), Volume: px("1")})
			}
			if got := tc.strat.calls()[strategy.EventCandle]; got != tc.want {
				t.Fatalf("%d candles delivered, want %d", got, tc.want)
			}
		})
	}
}
