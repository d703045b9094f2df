package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/engine"
	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/instrument"
	"github.com/bitrader/bitrader/internal/market"
	"github.com/bitrader/bitrader/internal/ordermanager"
	"github.com/bitrader/bitrader/internal/risk"
	"github.com/bitrader/bitrader/internal/strategy"
	"github.com/bitrader/bitrader/internal/trading"
	"github.com/bitrader/bitrader/internal/venue/local"
)

// counting records the event kinds it is called with; it filters nothing.
type counting struct{ got map[strategy.EventKind]int }

func newCounting() *counting { return &counting{got: map[strategy.EventKind]int{}} }

func (c *counting) Name() string { return "counting" }
func (c *counting) OnEvent(_ time.Time, ev strategy.Event, _ strategy.View) strategy.Output {
	c.got[ev.Kind]++
	return strategy.Output{}
}
func (c *counting) calls() map[strategy.EventKind]int { return c.got }

// countingStrategy is a counting strategy, with or without filters.
type countingStrategy interface {
	strategy.Strategy
	calls() map[strategy.EventKind]int
}

// filtered wants trades only.
type filtered struct{ *counting }

func (f *filtered) Wants(k strategy.EventKind) bool { return k == strategy.EventTrade }

// candleFiltered wants candles of one interval only.
type candleFiltered struct {
	*counting
	iv time.Duration
}

func (c *candleFiltered) WantsCandle(iv time.Duration) bool { return iv == c.iv }

// TestEventFilter: a strategy implementing strategy.EventFilter is called
// only for the kinds it wants; one without it gets every kind.
func TestEventFilter(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		strat countingStrategy
		want  map[strategy.EventKind]int
	}{
		{"no filter", newCounting(),
			map[strategy.EventKind]int{strategy.EventBook: 1, strategy.EventTrade: 1, strategy.EventMark: 1, strategy.EventTimer: 1}},
		{"trades only", &filtered{newCounting()}, map[strategy.EventKind]int{strategy.EventTrade: 1}},
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

// newCandleCore is a Core whose market builds 1m and 5m candles, so 1m
// klines also complete 5m candles (market.Symbol.AggregateKline).
func newCandleCore(t *testing.T, strat strategy.Strategy) *engine.Core {
	t.Helper()
	spec := instrument.Default(sym)
	v, err := local.New(local.Config{Balance: fixed.FromInt(10000), Specs: []instrument.Spec{spec}, Start: t0})
	if err != nil {
		t.Fatal(err)
	}
	mcfg := market.DefaultConfig()
	mcfg.CandleIntervals = []time.Duration{time.Minute, 5 * time.Minute}
	c, err := engine.NewCore(engine.CoreConfig{
		Strategies: map[string]strategy.Strategy{sym: strat},
		Specs:      map[string]instrument.Spec{sym: spec},
		Limits:     risk.DefaultLimits(),
		Market:     mcfg,
		Venue:      v, Store: engine.NewMemStore(),
		Orders: ordermanager.Config{Prefix: "t", Epoch: 1, StartBalance: fixed.FromInt(10000)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCandleFilter: a strategy implementing strategy.CandleFilter gets the
// candles of the intervals it wants only, the longer candles aggregated
// from klines included; one without it gets every candle. Six 1m klines
// from 12:00 complete one 5m candle (12:00-12:05) and open the next.
func TestCandleFilter(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		strat countingStrategy
		want  int
	}{
		{"no filter", newCounting(), 6 + 1},
		{"wants 1m", &candleFiltered{newCounting(), time.Minute}, 6},
		{"wants 5m", &candleFiltered{newCounting(), 5 * time.Minute}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCandleCore(t, tc.strat)
			for i := range 6 {
				open := t0.Add(time.Duration(i) * time.Minute)
				c.OnKline(ctx, open.Add(time.Minute), trading.Kline{Symbol: sym, OpenTime: open, Interval: time.Minute,
					Open: px("50000"), High: px("50010"), Low: px("49990"), Close: px("50005"), Volume: px("1")})
			}
			if got := tc.strat.calls()[strategy.EventCandle]; got != tc.want {
				t.Fatalf("%d candles delivered, want %d", got, tc.want)
			}
		})
	}
}
