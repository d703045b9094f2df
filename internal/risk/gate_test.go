package risk

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/instrument"
	"github.com/bitrader/bitrader/internal/trading"
)

var now = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func d(s string) fixed.Value { return fixed.MustParse(s) }

func testLimits() Limits {
	return Limits{
		MaxOrderNotional:    d("1000"),
		MaxPositionNotional: d("5000"),
		MaxTotalNotional:    d("10000"),
		MaxLeverage:         d("5"),
		MaxOrdersPerMinute:  3,
		StaleData:           5 * time.Second,
		MaxDailyLoss:        d("0.05"),
		MaxDrawdown:         d("0.15"),
	}
}

func baseState() AccountState {
	return AccountState{Equity: d("10000"), Price: d("100"), MarketData: now}
}

func buy(qty string) trading.Intent {
	return trading.Intent{Symbol: "BTCUSDT", Side: trading.Buy, Type: trading.Market, Qty: d(qty)}
}

func sell(qty string) trading.Intent {
	in := buy(qty)
	in.Side = trading.Sell
	return in
}

func newGate(t *testing.T, l Limits) *Gate {
	t.Helper()
	g, err := New(l)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestThresholds: every limit and breaker at its threshold and one unit
// (1e-8, or 1 ns) before it.
func TestThresholds(t *testing.T) {
	spec := instrument.Default("BTCUSDT")
	tests := []struct {
		name    string
		limits  func(*Limits)
		prime   func(*Gate) // e.g. set the day's baseline / peak
		state   func(*AccountState)
		intent  trading.Intent
		verdict Verdict
		qty     string
		reason  Reason
		breaker Breaker
		// reduceOnly: approved only as a close while new exposure is
		// blocked, so it must go out reduce-only.
		reduceOnly bool
	}{
		{name: "order notional at limit", intent: buy("10"), verdict: Approve, qty: "10"},
		{name: "order notional one unit over", intent: buy("10.00000001"), verdict: Trim, qty: "10", reason: ReasonOrderNotional},
		{name: "order notional over, rounded to lot", intent: buy("10.5"), state: func(s *AccountState) { s.Spec = &spec; s.Price = d("99.99") },
			verdict: Trim, qty: "10.001", reason: ReasonOrderNotional}, // 1000/99.99 = 10.001000..
		{name: "limit price used for notional", intent: trading.Intent{Symbol: "BTCUSDT", Side: trading.Sell, Type: trading.Limit, Price: d("200"), Qty: d("5")}, verdict: Approve, qty: "5"},
		{name: "limit price over", intent: trading.Intent{Symbol: "BTCUSDT", Side: trading.Sell, Type: trading.Limit, Price: d("200"), Qty: d("5.00000001")}, verdict: Trim, qty: "5", reason: ReasonOrderNotional},

		{name: "position notional at limit", limits: func(l *Limits) { l.MaxOrderNotional = d("100000") },
			state: func(s *AccountState) { s.Position = d("40") }, intent: buy("10"), verdict: Approve, qty: "10"},
		{name: "position notional one unit over", limits: func(l *Limits) { l.MaxOrderNotional = d("100000") },
			state: func(s *AccountState) { s.Position = d("40") }, intent: buy("10.00000001"), verdict: Trim, qty: "10", reason: ReasonPositionNotional},
		{name: "position counts resting orders", limits: func(l *Limits) { l.MaxOrderNotional = d("100000") },
			state: func(s *AccountState) { s.Position = d("-10"); s.OpenSellQty = d("35") }, intent: sell("5.00000001"), verdict: Trim, qty: "5", reason: ReasonPositionNotional},
		{name: "position full refuses", limits: func(l *Limits) { l.MaxOrderNotional = d("100000") },
			state: func(s *AccountState) { s.Position = d("50") }, intent: buy("1"), verdict: Refuse, reason: ReasonPositionNotional},
		{name: "below min qty after trim", limits: func(l *Limits) { l.MaxOrderNotional = d("100000") },
			state: func(s *AccountState) { s.Position = d("49.9995"); sp := spec; sp.MinQty = d("0.001"); s.Spec = &sp }, intent: buy("1"), verdict: Refuse, reason: ReasonBelowMinQty},

		{name: "trim that rounds to zero refuses", limits: func(l *Limits) { l.MaxOrderNotional = d("100000") },
			state: func(s *AccountState) { s.Position = d("49.99999"); s.Spec = &spec }, intent: buy("1"), verdict: Refuse, reason: ReasonPositionNotional},
		{name: "total notional at limit", state: func(s *AccountState) { s.TotalNotional = d("9000") }, intent: buy("10"), verdict: Approve, qty: "10"},
		{name: "total notional one unit over", state: func(s *AccountState) { s.TotalNotional = d("9000.00000001") }, intent: buy("10"), verdict: Trim, qty: "9.99999999", reason: ReasonTotalNotional},
		{name: "flip: offsetting part is free", limits: func(l *Limits) { l.MaxOrderNotional = d("100000"); l.MaxTotalNotional = d("2000") },
			state: func(s *AccountState) { s.Position = d("-10"); s.TotalNotional = d("1000") }, intent: buy("30"), verdict: Approve, qty: "30"},
		{name: "flip: one unit over", limits: func(l *Limits) { l.MaxOrderNotional = d("100000"); l.MaxTotalNotional = d("2000") },
			state: func(s *AccountState) { s.Position = d("-10"); s.TotalNotional = d("1000") }, intent: buy("30.00000001"), verdict: Trim, qty: "30", reason: ReasonTotalNotional},

		{name: "leverage at limit", state: func(s *AccountState) { s.Equity = d("1000"); s.TotalNotional = d("4000") }, intent: buy("10"), verdict: Approve, qty: "10"},
		{name: "leverage one unit over", state: func(s *AccountState) { s.Equity = d("1000"); s.TotalNotional = d("4000.00000001") }, intent: buy("10"), verdict: Trim, qty: "9.99999999", reason: ReasonLeverage},
		{name: "no equity refuses", state: func(s *AccountState) { s.Equity = 0 }, intent: buy("1"), verdict: Refuse, reason: ReasonLeverage},

		{name: "data one ns before stale", state: func(s *AccountState) { s.MarketData = now.Add(-5*time.Second + 1) }, intent: buy("1"), verdict: Approve, qty: "1"},
		{name: "data stale at threshold", state: func(s *AccountState) { s.MarketData = now.Add(-5 * time.Second) }, intent: buy("1"), verdict: Refuse, reason: ReasonStaleData},
		{name: "no data is stale", state: func(s *AccountState) { s.MarketData = time.Time{} }, intent: buy("1"), verdict: Refuse, reason: ReasonStaleData},
		{name: "stale data lets a reduce through", state: func(s *AccountState) { s.MarketData = time.Time{}; s.Position = d("2") }, intent: sell("2"), verdict: Approve, qty: "2", reduceOnly: true},

		{name: "daily loss one unit before", prime: func(g *Gate) { g.Observe(now.Add(-time.Hour), d("10000")) },
			state: func(s *AccountState) { s.Equity = d("9500.00000001") }, intent: buy("1"), verdict: Approve, qty: "1"},
		{name: "daily loss at threshold", prime: func(g *Gate) { g.Observe(now.Add(-time.Hour), d("10000")) },
			state: func(s *AccountState) { s.Equity = d("9500") }, intent: buy("1"), verdict: Refuse, reason: ReasonDailyLoss, breaker: BreakerDailyLoss},
		{name: "drawdown one unit before", limits: func(l *Limits) { l.MaxDailyLoss = d("0.5") }, prime: func(g *Gate) { g.Observe(now.Add(-48*time.Hour), d("10000")) },
			state: func(s *AccountState) { s.Equity = d("8500.00000001") }, intent: buy("1"), verdict: Approve, qty: "1"},
		{name: "drawdown at threshold", limits: func(l *Limits) { l.MaxDailyLoss = d("0.5") }, prime: func(g *Gate) { g.Observe(now.Add(-48*time.Hour), d("10000")) },
			state: func(s *AccountState) { s.Equity = d("8500") }, intent: buy("1"), verdict: Refuse, reason: ReasonDrawdown, breaker: BreakerDrawdown},
		{name: "kill switch", prime: func(g *Gate) { g.Kill(now, "operator") }, intent: buy("1"), verdict: Refuse, reason: ReasonKillSwitch, breaker: BreakerKill},
		{name: "kill switch lets reduce through", prime: func(g *Gate) { g.Kill(now, "operator") },
			state: func(s *AccountState) { s.Position = d("5") }, intent: sell("5"), verdict: Approve, qty: "5", reduceOnly: true},
		{name: "kill switch trims a flip to the close", prime: func(g *Gate) { g.Kill(now, "operator") },
			state: func(s *AccountState) { s.Position = d("5") }, intent: sell("6"), verdict: Trim, qty: "5", reason: ReasonKillSwitch, breaker: BreakerKill, reduceOnly: true},
		// Resting sells close the position first: under a breaker only
		// what they leave may be added, and nothing beyond the position.
		{name: "kill switch counts resting sells against the close", prime: func(g *Gate) { g.Kill(now, "operator") },
			state: func(s *AccountState) { s.Position = d("2"); s.OpenSellQty = d("2") }, intent: sell("2"),
			verdict: Refuse, reason: ReasonKillSwitch, breaker: BreakerKill},
		{name: "kill switch trims a close to what resting sells leave", prime: func(g *Gate) { g.Kill(now, "operator") },
			state: func(s *AccountState) { s.Position = d("5"); s.OpenSellQty = d("2") }, intent: sell("5"),
			verdict: Trim, qty: "3", reason: ReasonKillSwitch, breaker: BreakerKill, reduceOnly: true},
		{name: "a reduce-only close is capped by the exchange, not by resting orders", prime: func(g *Gate) { g.Kill(now, "operator") },
			state:  func(s *AccountState) { s.Position = d("2"); s.OpenSellQty = d("2") },
			intent: trading.Intent{Symbol: "BTCUSDT", Side: trading.Sell, Type: trading.Market, Qty: d("2"), ReduceOnly: true}, verdict: Approve, qty: "2", reduceOnly: true},
		{name: "unblocked reducing order is not forced reduce-only", state: func(s *AccountState) { s.Position = d("5") },
			intent: sell("5"), verdict: Approve, qty: "5"},
		{name: "drawdown lets reduce-only short cover through", limits: func(l *Limits) { l.MaxDailyLoss = d("0.5") }, prime: func(g *Gate) { g.Observe(now.Add(-48*time.Hour), d("10000")) },
			state:  func(s *AccountState) { s.Equity = d("1000"); s.Position = d("-3") },
			intent: trading.Intent{Symbol: "BTCUSDT", Side: trading.Buy, Type: trading.Market, Qty: d("3"), ReduceOnly: true}, verdict: Approve, qty: "3", reduceOnly: true},

		{name: "reduce-only that adds is refused", intent: trading.Intent{Symbol: "BTCUSDT", Side: trading.Buy, Type: trading.Market, Qty: d("1"), ReduceOnly: true}, verdict: Refuse, reason: ReasonNotReducing},
		{name: "reduce-only larger than position is trimmed", state: func(s *AccountState) { s.Position = d("-2") },
			intent: trading.Intent{Symbol: "BTCUSDT", Side: trading.Buy, Type: trading.Market, Qty: d("3"), ReduceOnly: true}, verdict: Trim, qty: "2", reason: ReasonNotReducing},
		{name: "zero qty invalid", intent: buy("0"), verdict: Refuse, reason: ReasonInvalid},
		{name: "limit without price invalid", intent: trading.Intent{Symbol: "BTCUSDT", Side: trading.Buy, Type: trading.Limit, Qty: d("1")}, verdict: Refuse, reason: ReasonInvalid},
		{name: "market without reference price", state: func(s *AccountState) { s.Price = 0 }, intent: buy("1"), verdict: Refuse, reason: ReasonNoPrice},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := testLimits()
			if tt.limits != nil {
				tt.limits(&l)
			}
			g := newGate(t, l)
			if tt.prime != nil {
				tt.prime(g)
			}
			st := baseState()
			if tt.state != nil {
				tt.state(&st)
			}
			got := g.Check(now, tt.intent, st)
			want := Decision{Verdict: tt.verdict, Reason: tt.reason, Breaker: tt.breaker, ReduceOnly: tt.reduceOnly}
			if tt.qty != "" {
				want.Qty = d(tt.qty)
			}
			if got != want {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

func TestOrderRateSlidingWindow(t *testing.T) {
	g := newGate(t, testLimits()) // 3 per minute
	st := baseState()
	check := func(at time.Duration) Decision {
		s := st
		s.MarketData = now.Add(at)
		return g.Check(now.Add(at), buy("1"), s)
	}
	for _, at := range []time.Duration{0, 10 * time.Second, 20 * time.Second} {
		if dec := check(at); dec.Verdict != Approve {
			t.Fatalf("order at %s: %v", at, dec)
		}
	}
	if dec := check(60*time.Second - 1); dec.Reason != ReasonOrderRate {
		t.Errorf("4th order 1ns before the first leaves the window: %v", dec)
	}
	if dec := check(60 * time.Second); dec.Verdict != Approve {
		t.Errorf("first order left the window at exactly 60s: %v", dec)
	}
	if dec := check(69 * time.Second); dec.Reason != ReasonOrderRate {
		t.Errorf("window full again: %v", dec)
	}
	// A reduce passes even with a full window (and is counted).
	s := st
	s.Position = d("1")
	s.MarketData = now.Add(69 * time.Second)
	if dec := g.Check(now.Add(69*time.Second), sell("1"), s); dec.Verdict != Approve {
		t.Errorf("reduce refused by rate: %v", dec)
	}
	if g.OrdersInWindow() != 3 {
		t.Errorf("orders in window %d", g.OrdersInWindow())
	}
}

func TestDailyRolloverUTC(t *testing.T) {
	l := testLimits()
	l.MaxDrawdown = d("0.9")
	g := newGate(t, l)
	day1 := time.Date(2026, 3, 10, 23, 0, 0, 0, time.UTC)
	g.Observe(day1, d("10000"))
	g.Observe(day1.Add(30*time.Minute), d("9400")) // 6% down: trips
	if !g.Tripped() {
		t.Fatal("daily loss not tripped")
	}
	st := baseState()
	st.Equity = d("9400")
	// 23:59:59.999999999 UTC, in a UTC+2 location: still day 1 in UTC.
	late := time.Date(2026, 3, 11, 1, 59, 59, 999999999, time.FixedZone("EET", 2*3600))
	st.MarketData = late
	if dec := g.Check(late, buy("1"), st); dec.Breaker != BreakerDailyLoss {
		t.Errorf("before rollover: %v", dec)
	}
	midnight := time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC)
	st.MarketData = midnight
	if dec := g.Check(midnight, buy("1"), st); dec.Verdict != Approve {
		t.Errorf("after rollover: %v", dec)
	}
	snap := g.Snapshot()
	if !snap.Day.Equal(midnight) || snap.DayStartEquity != d("9400") {
		t.Errorf("new baseline: %+v", snap)
	}
	// New day's loss is measured from 9400: 5% = 470.
	g.Observe(midnight.Add(time.Hour), d("8930.00000001"))
	if g.Tripped() {
		t.Error("tripped one unit before the new day's threshold")
	}
	g.Observe(midnight.Add(time.Hour), d("8930"))
	if !g.Tripped() {
		t.Error("not tripped at the new day's threshold")
	}
}

func TestResume(t *testing.T) {
	g := newGate(t, testLimits())
	g.Observe(now, d("10000"))
	g.Kill(now, "maintenance")
	g.Observe(now.Add(48*time.Hour), d("8000")) // new day: baseline 8000; drawdown 20% trips
	var bs []BreakerStatus
	bs = g.Breakers(bs)
	if len(bs) != 3 || !bs[0].Tripped || bs[0].Detail != "maintenance" || bs[1].Tripped || !bs[2].Tripped || bs[2].Reason != ReasonDrawdown {
		t.Fatalf("breakers %+v", bs)
	}
	resumed := now.Add(48 * time.Hour)
	g.Resume(resumed)
	if g.Tripped() {
		t.Error("still tripped after resume")
	}
	// Replicas merge by these times (a release later than the other side's
	// trip wins), so they are part of the persistent state.
	snap := g.Snapshot()
	if !snap.Kill.Resumed.Equal(resumed) || !snap.Drawdown.Resumed.Equal(resumed) || !snap.PeakRebased.Equal(resumed) || snap.PeakEquity != d("8000") {
		t.Fatalf("release not recorded at %v: %+v", resumed, snap)
	}
	g2 := newGate(t, testLimits())
	g2.Restore(snap)
	if got := g2.Snapshot(); !reflect.DeepEqual(got, snap) {
		t.Fatalf("restore lost the release:\n%+v\n%+v", got, snap)
	}
	g.Observe(now.Add(48*time.Hour+time.Second), d("8000"))
	if g.Tripped() {
		t.Error("drawdown re-tripped from the old peak")
	}
}

func TestSnapshotRestore(t *testing.T) {
	g := newGate(t, testLimits())
	g.Observe(now, d("10000"))
	g.Kill(now, "test")
	st := baseState()
	st.Position = d("5")
	g.Check(now.Add(time.Second), sell("1"), st)
	g.Observe(now.Add(2*time.Second), d("9000")) // daily loss trips
	snap := g.Snapshot()

	b, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	var back State
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, snap) {
		t.Fatalf("json round trip:\n%+v\n%+v\n%s", back, snap, b)
	}
	g2 := newGate(t, testLimits())
	g2.Restore(back)
	if !reflect.DeepEqual(g2.Snapshot(), snap) {
		t.Errorf("restore round trip:\n%+v\n%+v", g2.Snapshot(), snap)
	}
	if dec := g2.Check(now.Add(3*time.Second), buy("1"), baseState()); dec.Breaker != BreakerKill {
		t.Errorf("restored gate approved new exposure: %v", dec)
	}
	if g2.OrdersInWindow() != 1 {
		t.Errorf("restored order window %d", g2.OrdersInWindow())
	}
}

func BenchmarkCheck(b *testing.B) {
	g, _ := New(DefaultLimits())
	g.limits.MaxOrdersPerMinute = 1 << 30 // measure the full path, not the rate refusal
	g.orders = make([]int64, 1<<16)
	st := AccountState{Equity: d("10000"), Price: d("100000"), Position: d("0.01"), TotalNotional: d("1000"), MarketData: now}
	spec := instrument.Default("BTCUSDT")
	st.Spec = &spec
	in := trading.Intent{Symbol: "BTCUSDT", Side: trading.Buy, Type: trading.Limit, Price: d("99990"), Qty: d("0.02")}
	b.ReportAllocs()
	t := now
	for b.Loop() {
		t = t.Add(time.Millisecond)
		st.MarketData = t
		if dec := g.Check(t, in, st); !dec.Approved() {
			b.Fatal(dec)
		}
	}
}

// TestDrawdownFollowsNewPeak: the drawdown threshold moves with each new
// peak, to the unit (Observe remembers the last threshold it computed).
func TestDrawdownFollowsNewPeak(t *testing.T) {
	l := testLimits()
	l.MaxDailyLoss = d("0.9")
	g := newGate(t, l)
	g.Observe(now, d("10000"))
	g.Observe(now, d("8500.00000001")) // 15% of 10000 is 1500: one unit short
	g.Observe(now, d("12000"))         // new peak: the threshold is now 1800
	g.Observe(now, d("10200.00000001"))
	if g.Tripped() {
		t.Fatal("tripped one unit before 15% below the new peak")
	}
	g.Observe(now, d("10200"))
	if !g.Tripped() {
		t.Fatal("not tripped at 15% below the new peak")
	}
}
