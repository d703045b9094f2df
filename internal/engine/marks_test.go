package engine_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/risk"
	"github.com/bitrader/bitrader/internal/strategy"
	"github.com/bitrader/bitrader/internal/trading"
	"github.com/bitrader/bitrader/internal/venue/local"
)

// markBlind is a scripted strategy that does not want marks.
type markBlind struct{ *strategy.Scripted }

func (markBlind) Wants(k strategy.EventKind) bool { return k != strategy.EventMark }

// TestOnMarksQuietEqualsOnMark: the shortcut leaves the Core, its order
// manager, its risk gate and the venue as OnMark on each mark does, down to
// a daily-loss breaker tripped by the middle mark only; and it refuses
// (changing nothing) when the strategy wants marks.
func TestOnMarksQuietEqualsOnMark(t *testing.T) {
	ctx := context.Background()
	limits := risk.DefaultLimits()
	// The risk gate trims the buy to 0.0199 BTC (fee 0.597): the middle
	// mark's loss, 1.21 + 0.6, passes 1.5 USDT; the others' do not.
	limits.MaxDailyLoss = px("0.00015")
	open := func(t *testing.T, strat strategy.Strategy) *rig {
		r := newRig(t, strat, nil, limits)
		r.core.OnBook(ctx, t0, book(t0, "50000", "50001"))
		r.core.OnBook(ctx, t0.Add(time.Second), book(t0.Add(time.Second), "50000", "50001"))
		if pos := r.core.Orders().Positions(); len(pos) != 1 {
			t.Fatalf("no position to mark: %+v", pos)
		}
		return r
	}
	steps := func() *strategy.Scripted {
		return strategy.NewScripted([]strategy.Step{{At: t0.Add(time.Second), Intent: mkt(trading.Buy, "0.1", false)}})
	}
	var marks []trading.MarkPrice
	for i, p := range []string{"50010", "49940", "50020"} {
		at := t0.Add(time.Duration(15*(i+1)) * time.Second)
		marks = append(marks, trading.MarkPrice{Symbol: sym, Mark: px(p), Index: px(p), Time: at})
	}
	state := func(r *rig) string {
		st := r.core.Status()
		mark, _ := r.core.Market().Symbol(sym).Mark()
		b, _ := json.Marshal(struct {
			Equity, Venue fixed.Value
			PnL           any
			Breakers      any
			Risk          risk.State
			Mark          trading.MarkPrice
		}{st.Equity, r.venue.Equity(), st.Orders.PnL, st.Breakers, r.core.Gate().Snapshot(), mark})
		return string(b)
	}

	each := open(t, markBlind{steps()})
	for _, m := range marks {
		each.core.OnMark(ctx, m.Time, m)
	}
	if !each.core.Gate().Tripped() {
		t.Fatal("the middle mark did not trip the daily-loss breaker: the test would prove nothing")
	}
	quiet := open(t, markBlind{steps()})
	if !quiet.core.OnMarksQuiet(ctx, marks) {
		t.Fatal("OnMarksQuiet refused a quiet path")
	}
	if got, want := state(quiet), state(each); got != want {
		t.Errorf("after OnMarksQuiet:\n %s\nafter OnMark on each:\n %s", got, want)
	}

	wants := open(t, steps()) // a Scripted strategy gets every event kind
	before := state(wants)
	if wants.core.OnMarksQuiet(ctx, marks) {
		t.Error("took the shortcut for a strategy that wants marks")
	}
	if after := state(wants); after != before {
		t.Errorf("a refused OnMarksQuiet changed the state:\n %s\n %s", before, after)
	}

	// A venue that settles funding from marks (paper trading) refuses:
	// which mark comes last decides the price funding settles at.
	funding := newRigVenue(t, markBlind{steps()}, nil, limits, local.Config{FundingFromMarks: true})
	funding.core.OnBook(ctx, t0, book(t0, "50000", "50001"))
	funding.core.OnBook(ctx, t0.Add(time.Second), book(t0.Add(time.Second), "50000", "50001"))
	before = state(funding)
	if funding.core.OnMarksQuiet(ctx, marks) {
		t.Error("took the shortcut on a venue that settles funding from marks")
	}
	if after := state(funding); after != before {
		t.Errorf("a refused OnMarksQuiet changed the state:\n %s\n %s", before, after)
	}
}
