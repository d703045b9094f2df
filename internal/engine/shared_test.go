package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/bitunix"
	"github.com/bitrader/bitrader/internal/engine"
	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/instrument"
	"github.com/bitrader/bitrader/internal/ordermanager"
	"github.com/bitrader/bitrader/internal/risk"
	"github.com/bitrader/bitrader/internal/strategy"
	"github.com/bitrader/bitrader/internal/venue/local"
)

// replica is one HA replica's Core: its own journal, published through
// its own SharedRisk.
type replica struct {
	core   *engine.Core
	store  *engine.MemStore
	shared *engine.SharedRisk
	venue  *flakyVenue
}

func newReplica(t testing.TB, store *engine.MemStore, standby bool) *replica {
	t.Helper()
	if store == nil {
		store = engine.NewMemStore()
	}
	spec := instrument.Default(sym)
	lv, err := local.New(local.Config{Balance: fixed.FromInt(10000), Specs: []instrument.Spec{spec}, Start: t0})
	if err != nil {
		t.Fatal(err)
	}
	v := &flakyVenue{Venue: lv}
	shared := engine.NewSharedRisk()
	c, err := engine.NewCore(engine.CoreConfig{
		Strategies: map[string]strategy.Strategy{sym: &quoter{}},
		Specs:      map[string]instrument.Spec{sym: spec},
		Limits:     risk.DefaultLimits(),
		Venue:      v, Store: shared.Store(store),
		Orders:  ordermanager.Config{Prefix: "t", StartBalance: fixed.FromInt(10000)},
		Standby: standby,
	})
	if err != nil {
		t.Fatal(err)
	}
	lv.SetSinks(func(r ordermanager.Report) { c.OnOrderReport(context.Background(), r.Time, r) }, nil)
	return &replica{core: c, store: store, shared: shared, venue: v}
}

func tripped(st engine.Status, name string) bool {
	for _, b := range st.Breakers {
		if b.Name == name {
			return b.Tripped
		}
	}
	return false
}

// The published document is the journal's own risk and halt values,
// byte for byte, from the first write (or from the restore at start), and
// it stays small.
func TestSharedRiskPublishesTheJournalState(t *testing.T) {
	ctx := context.Background()
	a := newReplica(t, nil, false)
	if b := a.shared.Snapshot(); b != nil {
		t.Fatalf("snapshot before any risk state: %s", b)
	}
	a.core.OnBook(ctx, t0, book(t0, "50000", "50001"))
	a.core.Kill(t0, "operator")
	a.core.Halt(t0, "drift")
	var doc struct{ Risk, Halt json.RawMessage }
	snap := a.shared.Snapshot()
	if err := json.Unmarshal(snap, &doc); err != nil {
		t.Fatalf("snapshot %s: %v", snap, err)
	}
	for key, got := range map[string][]byte{"engine/risk": doc.Risk, "engine/halt": doc.Halt} {
		want, err := a.store.GetState(key)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: published %s, journal has %s", key, got, want)
		}
	}
	t.Logf("snapshot %d bytes: %s", len(snap), snap)
	if len(snap) > 1024 {
		t.Errorf("snapshot is %d bytes, want < 1 KiB", len(snap))
	}

	// A restart publishes what it restored, before writing anything.
	b := newReplica(t, a.store, false)
	if got := b.shared.Snapshot(); !bytes.Equal(got, snap) {
		t.Errorf("after restart published %s, want %s", got, snap)
	}
}

// Adopting another replica's document: the more restrictive state wins,
// and the result is journalled (it survives this replica's restart).
func TestAdoptSharedMerges(t *testing.T) {
	ctx := context.Background()
	day2 := t0.Add(24 * time.Hour)
	tests := []struct {
		name string
		// remote and local prepare the publishing and the adopting replica.
		remote, local func(c *engine.Core)
		wantKill      bool
		wantDaily     bool
		wantHalt      string
	}{
		{"remote kill", func(c *engine.Core) { c.Kill(t0, "remote op") }, nil, true, false, ""},
		{"local kill kept", nil, func(c *engine.Core) { c.Kill(t0, "local op") }, true, false, ""},
		{"remote halt", func(c *engine.Core) { c.Halt(t0, "remote drift") }, nil, false, false, "remote drift"},
		{"local halt kept", func(c *engine.Core) { c.Halt(t0, "remote drift") }, func(c *engine.Core) { c.Halt(t0, "local drift") }, false, false, "local drift"},
		{"daily loss same day", func(c *engine.Core) { lose(ctx, c, t0) }, nil, false, true, ""},
		{"daily loss of an older day is void", func(c *engine.Core) { lose(ctx, c, t0) }, func(c *engine.Core) {
			c.OnTimer(ctx, day2) // this replica already saw the next day
		}, false, false, ""},
		{"nothing tripped", func(c *engine.Core) { c.OnBook(ctx, t0, book(t0, "50000", "50001")) }, nil, false, false, ""},
		// An operator's resume on one replica reaches the others, unless
		// the other side tripped again after it.
		{"remote resume lifts an older local kill", func(c *engine.Core) { c.Kill(t0, "op"); c.Resume(t0.Add(2 * time.Second)) },
			func(c *engine.Core) { c.Kill(t0.Add(time.Second), "op") }, false, false, ""},
		{"local kill after the remote resume stays", func(c *engine.Core) { c.Kill(t0, "op"); c.Resume(t0.Add(time.Second)) },
			func(c *engine.Core) { c.Kill(t0.Add(2*time.Second), "again") }, true, false, ""},
		{"remote resume lifts an older local halt", func(c *engine.Core) { c.Halt(t0, "drift"); c.Resume(t0.Add(2 * time.Second)) },
			func(c *engine.Core) { c.Halt(t0.Add(time.Second), "drift") }, false, false, ""},
		{"local halt after the remote resume stays", func(c *engine.Core) { c.Halt(t0, "drift"); c.Resume(t0.Add(time.Second)) },
			func(c *engine.Core) { c.Halt(t0.Add(2*time.Second), "new drift") }, false, false, "new drift"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newReplica(t, nil, false)
			b := newReplica(t, nil, true)
			a.core.OnBook(ctx, t0, book(t0, "50000", "50001"))
			if tt.remote != nil {
				tt.remote(a.core)
			}
			if tt.local != nil {
				tt.local(b.core)
			}
			if err := b.core.AdoptShared(a.shared.Snapshot()); err != nil {
				t.Fatal(err)
			}
			check := func(what string, st engine.Status) {
				t.Helper()
				if got := tripped(st, "kill_switch"); got != tt.wantKill {
					t.Errorf("%s: kill switch %v, want %v (%+v)", what, got, tt.wantKill, st.Breakers)
				}
				if got := tripped(st, "daily_loss"); got != tt.wantDaily {
					t.Errorf("%s: daily loss %v, want %v (%+v)", what, got, tt.wantDaily, st.Breakers)
				}
				if st.Halt.Halted != (tt.wantHalt != "") || st.Halt.Reason != tt.wantHalt {
					t.Errorf("%s: halt %+v, want %q", what, st.Halt, tt.wantHalt)
				}
			}
			check("adopted", b.core.Status())
			check("after restart", newReplica(t, b.store, true).core.Status())
			// What b publishes from now on includes what it adopted.
			check("republished", adopted(t, b.shared.Snapshot()))
		})
	}
}

// adopted is the state a fresh replica has after adopting doc.
func adopted(t *testing.T, doc []byte) engine.Status {
	t.Helper()
	c := newReplica(t, nil, true)
	if err := c.core.AdoptShared(doc); err != nil {
		t.Fatal(err)
	}
	return c.core.Status()
}

// lose trips the daily-loss breaker: equity 10% under the day's start
// (the default limit is 5%); the timer persists it.
func lose(ctx context.Context, c *engine.Core, at time.Time) {
	c.Gate().Observe(at, fixed.FromInt(10000))
	c.Gate().Observe(at, fixed.FromInt(9000))
	c.OnTimer(ctx, at)
}

func TestAdoptSharedRejectsGarbage(t *testing.T) {
	c := newReplica(t, nil, true)
	for _, b := range []string{"", "  ", `{}`, `{"risk":null}`} {
		if err := c.core.AdoptShared([]byte(b)); err != nil {
			t.Errorf("AdoptShared(%q): %v", b, err)
		}
	}
	for _, b := range []string{"{", `{"risk":7}`, `{"halt":"x"}`} {
		if err := c.core.AdoptShared([]byte(b)); err == nil {
			t.Errorf("AdoptShared(%q) accepted", b)
		}
	}
	if st := c.core.Status(); st.Halt.Halted || tripped(st, "kill_switch") {
		t.Fatalf("garbage changed the state: %+v %+v", st.Halt, st.Breakers)
	}
}

// A new leader adopts the replicated state at the start of its term
// (BeginTerm, on the engine goroutine) and so refuses its very first
// entry: the kill switch tripped on the old leader holds on the new one.
func TestRunnerAdoptsSharedStateBeforeFirstOrder(t *testing.T) {
	old := newReplica(t, nil, false)
	old.core.OnBook(context.Background(), t0, book(t0, "50000", "50001"))
	old.core.Kill(t0, "operator on the old leader")
	inherited := old.shared.Snapshot()

	for _, adopt := range []bool{false, true} {
		t.Run(map[bool]string{false: "without adopting (control)", true: "adopting"}[adopt], func(t *testing.T) {
			b := newReplica(t, nil, true)
			clk := newAtomicClock(t0)
			feed := &fakeFeed{}
			r, err := engine.NewRunner(engine.RunnerConfig{
				Core: b.core, Symbols: []string{sym}, TimerInterval: time.Millisecond, ReconcileInterval: time.Hour,
				Clock: clk.Now,
				BeginTerm: func(context.Context) error {
					if !adopt {
						return nil
					}
					return b.core.AdoptShared(inherited) // engine goroutine
				},
				NewPublic: feed.attach,
			})
			if err != nil {
				t.Fatal(err)
			}
			ctx, stop := context.WithCancel(context.Background())
			runDone := make(chan error, 1)
			go func() { runDone <- r.Run(ctx) }()
			term, endTerm := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			defer func() { endTerm(); wg.Wait(); stop(); <-runDone }()
			waitFor(t, "ready as a standby", func() bool { return r.Ready() == nil })
			wg.Add(1)
			go func() { defer wg.Done(); _ = r.Lead(term, 7) }()
			waitFor(t, "leading", func() bool { return statusOf(t, r).Leading })

			clk.Add(time.Millisecond)
			feed.push(t, &bitunix.PublicEvent{Kind: bitunix.KindDepth, Symbol: sym, Book: *book(clk.Now(), "50000", "50001")})
			waitFor(t, "the first decision", func() bool { return len(statusOf(t, r).Decisions) > 0 })
			st := statusOf(t, r)
			d := st.Decisions[0]
			orders := len(placedVia(t, r))
			if adopt {
				if d.Verdict != "refuse" || !strings.Contains(d.Reason, "kill") || orders != 0 {
					t.Fatalf("first decision %+v, %d orders: want refused by the inherited kill switch", d, orders)
				}
			} else if d.Verdict == "refuse" || orders != 1 {
				t.Fatalf("control: first decision %+v, %d orders: want one order", d, orders)
			}
		})
	}
}

// The replicated document comes off the Kubernetes API, written by
// another process: whatever it holds, adopting it must not panic, and a
// document that is refused must change nothing.
func FuzzAdoptShared(f *testing.F) {
	ctx := context.Background()
	src := newReplica(f, nil, false)
	src.core.OnBook(ctx, t0, book(t0, "50000", "50001"))
	f.Add(src.shared.Snapshot())
	src.core.Kill(t0, "op")
	src.core.Halt(t0, "drift")
	lose(ctx, src.core, t0)
	f.Add(src.shared.Snapshot())
	src.core.Resume(t0.Add(time.Second))
	f.Add(src.shared.Snapshot())
	// The last seed decodes a valid risk state before failing on the
	// halt: it is refused only if nothing is merged before every part
	// decoded.
	for _, s := range []string{"", "{", `{"risk":7}`, `{"halt":"x"}`, `{"risk":null,"halt":{}}`, `{"risk":{"peakEquity":"1e999"}}`,
		`{"risk":{"drawdown":{"tripped":true}},"halt":"x"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		c := newReplica(t, nil, true)
		c.core.Kill(t0, "local op")
		before := c.core.Status()
		if err := c.core.AdoptShared(doc); err != nil {
			after := c.core.Status()
			if !equalJSON(t, before.Breakers, after.Breakers) || before.Halt != after.Halt {
				t.Fatalf("refused document %q changed the state:\n%+v\n%+v", doc, before, after)
			}
		}
	})
}

func equalJSON(t *testing.T, a, b any) bool {
	t.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(ja, jb)
}
