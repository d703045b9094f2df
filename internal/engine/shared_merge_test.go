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
