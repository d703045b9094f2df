package engine

import (
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/risk"
)

// A drawdown release re-bases the equity peak; a replica that still holds
// the old high must not bring it back (it would re-trip at once), while
// two states without a re-base keep the higher peak.
func TestMergeRiskPeakFollowsTheLaterRebase(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	old := risk.State{PeakEquity: fixed.FromInt(13000)}
	rebased := risk.State{PeakEquity: fixed.FromInt(11000), PeakRebased: t0, Drawdown: risk.BreakerState{Resumed: t0}}
	tripped := risk.State{PeakEquity: fixed.FromInt(13000), Drawdown: risk.BreakerState{Tripped: true, Since: t0.Add(-time.Minute)}}
	cases := []struct {
		name          string
		local, remote risk.State
		wantPeak      int64
		wantTripped   bool
	}{
		{"remote re-based after the local high", old, rebased, 11000, false},
		{"local re-base kept against an old remote high", rebased, old, 11000, false},
		{"a trip before the resume is lifted", tripped, rebased, 11000, false},
		{"no re-base anywhere: the higher peak", old, risk.State{PeakEquity: fixed.FromInt(12000)}, 13000, false},
	}
	for _, c := range cases {
		got := mergeRisk(c.local, c.remote)
		if got.PeakEquity != fixed.FromInt(c.wantPeak) || got.Drawdown.Tripped != c.wantTripped {
			t.Errorf("%s: peak %s tripped %v, want %d %v", c.name, got.PeakEquity, got.Drawdown.Tripped, c.wantPeak, c.wantTripped)
		}
	}
}

// The rest of AdoptShared's merge rule, field by field: of two trips the
// earlier, of two releases the later; the daily baseline from the later
// day, or the higher on the same day; recent order times the union.
func TestMergeRiskFieldRules(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	day := t0.Truncate(24 * time.Hour)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	trip := func(s int) risk.BreakerState { return risk.BreakerState{Tripped: true, Since: at(s)} }
	released := func(s int) risk.BreakerState { return risk.BreakerState{Resumed: at(s)} }
	cases := []struct {
		name          string
		local, remote risk.State
		check         func(risk.State) bool
	}{
		{"two trips: the earlier", risk.State{Kill: trip(5)}, risk.State{Kill: trip(3)},
			func(s risk.State) bool { return s.Kill.Tripped && s.Kill.Since.Equal(at(3)) }},
		{"two trips, local earlier", risk.State{Kill: trip(3)}, risk.State{Kill: trip(5)},
			func(s risk.State) bool { return s.Kill.Tripped && s.Kill.Since.Equal(at(3)) }},
		{"two releases: the later", risk.State{Kill: released(3)}, risk.State{Kill: released(5)},
			func(s risk.State) bool { return !s.Kill.Tripped && s.Kill.Resumed.Equal(at(5)) }},
		{"a trip after the other side's release holds", risk.State{Kill: released(3)}, risk.State{Kill: trip(5)},
			func(s risk.State) bool { return s.Kill.Tripped && s.Kill.Since.Equal(at(5)) }},
		{"same day: the higher baseline",
			risk.State{Day: day, DayStartEquity: fixed.FromInt(10000)}, risk.State{Day: day, DayStartEquity: fixed.FromInt(10500)},
			func(s risk.State) bool { return s.DayStartEquity == fixed.FromInt(10500) }},
		{"a later remote day wins, lower baseline and all",
			risk.State{Day: day, DayStartEquity: fixed.FromInt(10500), DailyLoss: trip(1)},
			risk.State{Day: day.Add(24 * time.Hour), DayStartEquity: fixed.FromInt(9000)},
			func(s risk.State) bool {
				return s.Day.Equal(day.Add(24*time.Hour)) && s.DayStartEquity == fixed.FromInt(9000) && !s.DailyLoss.Tripped
			}},
		{"an older remote day is ignored",
			risk.State{Day: day, DayStartEquity: fixed.FromInt(10000)},
			risk.State{Day: day.Add(-24 * time.Hour), DayStartEquity: fixed.FromInt(12000), DailyLoss: trip(-86400)},
			func(s risk.State) bool {
				return s.Day.Equal(day) && s.DayStartEquity == fixed.FromInt(10000) && !s.DailyLoss.Tripped
			}},
		{"recent orders: the sorted union",
			risk.State{RecentOrders: []time.Time{at(1), at(4)}}, risk.State{RecentOrders: []time.Time{at(2), at(4)}},
			func(s risk.State) bool {
				want := []time.Time{at(1), at(2), at(4)}
				if len(s.RecentOrders) != len(want) {
					return false
				}
				for i := range want {
					if !s.RecentOrders[i].Equal(want[i]) {
						return false
					}
				}
				return true
			}},
	}
	for _, c := range cases {
		if got := mergeRisk(c.local, c.remote); !c.check(got) {
			t.Errorf("%s: merged %+v", c.name, got)
		}
	}
}
