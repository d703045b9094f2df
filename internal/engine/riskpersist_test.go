package engine_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/engine"
	"github.com/bitrader/bitrader/internal/risk"
	"github.com/bitrader/bitrader/internal/strategy"
	"github.com/bitrader/bitrader/internal/trading"
)

// savedRisk is the risk state the Core last journalled.
func savedRisk(t *testing.T, store *engine.MemStore) risk.State {
	t.Helper()
	b, err := store.GetState("engine/risk")
	if err != nil {
		t.Fatalf("no risk state saved: %v", err)
	}
	var st risk.State
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatalf("decode saved risk state %s: %v", b, err)
	}
	return st
}

// The Core skips saving the risk state while a cheap key (breaker flags,
// the UTC day) and the equity peak stand still. A new day moves the gate's
// daily baseline, so it must be saved: a restart would otherwise measure
// the daily loss from yesterday's equity.
func TestRiskStateSavedOnNewDay(t *testing.T) {
	ctx := context.Background()
	day1 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC) // t0's UTC day
	day2 := day1.Add(24 * time.Hour)
	for _, tc := range []struct {
		name  string
		event func(c *engine.Core, at time.Time)
	}{
		{"timer", func(c *engine.Core, at time.Time) { c.OnTimer(ctx, at) }},
		{"mark", func(c *engine.Core, at time.Time) {
			c.OnMark(ctx, at, trading.MarkPrice{Symbol: sym, Mark: px("50000"), Time: at})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := engine.NewMemStore()
			r := newRig(t, strategy.NewScripted(nil), store, risk.DefaultLimits())
			tc.event(r.core, t0)
			if got := savedRisk(t, store).Day; !got.Equal(day1) {
				t.Fatalf("after the first event saved day %s, want %s", got, day1)
			}
			// Same equity, nothing tripped: only the day differs.
			tc.event(r.core, t0.Add(24*time.Hour))
			if got := savedRisk(t, store).Day; !got.Equal(day2) {
				t.Fatalf("a day later saved day %s, want %s", got, day2)
			}
		})
	}
}

// A daily-loss breaker tripped by a mark (not by Kill or Gate(), which
// drop the Core's cache) must be saved: the trip changes no cheap key the
// Core computes without asking the gate, so only the tripped-gate check
// makes it look.
func TestRiskStateSavedOnBreakerTrippedByMark(t *testing.T) {
	ctx := context.Background()
	limits := risk.DefaultLimits()
	// As in TestOnMarksQuietEqualsOnMark: a 0.0199 BTC long at 50001 with
	// 0.597 fees; a mark at 49940 loses 1.81 USDT, over 1.5 (0.015%).
	limits.MaxDailyLoss = px("0.00015")
	store := engine.NewMemStore()
	strat := markBlind{strategy.NewScripted([]strategy.Step{{At: t0.Add(time.Second), Intent: mkt(trading.Buy, "0.1", false)}})}
	r := newRig(t, strat, store, limits)
	r.core.OnBook(ctx, t0, book(t0, "50000", "50001"))
	r.core.OnBook(ctx, t0.Add(time.Second), book(t0.Add(time.Second), "50000", "50001"))
	if pos := r.core.Orders().Positions(); len(pos) != 1 {
		t.Fatalf("no position to mark: %+v", pos)
	}
	if savedRisk(t, store).DailyLoss.Tripped {
		t.Fatal("daily loss saved as tripped before the losing mark")
	}
	at := t0.Add(2 * time.Second)
	r.core.OnMark(ctx, at, trading.MarkPrice{Symbol: sym, Mark: px("49940"), Index: px("49940"), Time: at})
	if st := r.core.Status(); !tripped(st, "daily_loss") {
		t.Fatalf("the mark did not trip the daily-loss breaker: %+v", st.Breakers)
	}
	if !savedRisk(t, store).DailyLoss.Tripped {
		t.Fatal("daily-loss breaker tripped by a mark was not saved")
	}
}
