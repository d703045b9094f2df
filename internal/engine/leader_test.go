package engine_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
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

// flakyVenue is the local venue whose open-order listing (the first step
// of reconciliation) fails while down is set.
type flakyVenue struct {
	*local.Venue
	down  atomic.Bool
	lists atomic.Int32
}

func (v *flakyVenue) OpenOrders(ctx context.Context, symbol string) ([]ordermanager.Report, error) {
	v.lists.Add(1)
	if v.down.Load() {
		return nil, errors.New("venue unreachable")
	}
	return v.Venue.OpenOrders(ctx, symbol)
}

func newStandbyCore(t *testing.T) (*engine.Core, *flakyVenue) {
	t.Helper()
	spec := instrument.Default(sym)
	lv, err := local.New(local.Config{Balance: fixed.FromInt(10000), Specs: []instrument.Spec{spec}, Start: t0})
	if err != nil {
		t.Fatal(err)
	}
	v := &flakyVenue{Venue: lv}
	c, err := engine.NewCore(engine.CoreConfig{
		Strategies: map[string]strategy.Strategy{sym: &quoter{}},
		Specs:      map[string]instrument.Spec{sym: spec},
		Limits:     risk.DefaultLimits(),
		Venue:      v, Store: engine.NewMemStore(),
		Orders:  ordermanager.Config{Prefix: "t", Epoch: 0, StartBalance: fixed.FromInt(10000)},
		Standby: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	lv.SetSinks(func(r ordermanager.Report) { c.OnOrderReport(context.Background(), r.Time, r) }, nil)
	return c, v
}

func placedEpochs(t *testing.T, v *flakyVenue) []uint64 {
	t.Helper()
	open, err := v.Venue.OpenOrders(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	var out []uint64
	for _, o := range open {
		_, ep, _, err := ordermanager.ParseClientID(o.ClientID)
		if err != nil {
			t.Fatalf("client id %q: %v", o.ClientID, err)
		}
		out = append(out, ep)
	}
	return out
}

// placedVia is placedEpochs for tests that run a Runner: the venue belongs
// to the Runner's goroutine, so the orders are read through its loop (the
// order manager's open orders) rather than from the test goroutine.
func placedVia(t *testing.T, r *engine.Runner) []uint64 {
	t.Helper()
	var out []uint64
	for _, o := range statusOf(t, r).Orders.OpenOrders {
		_, ep, _, err := ordermanager.ParseClientID(o.ClientID)
		if err != nil {
			t.Fatalf("client id %q: %v", o.ClientID, err)
		}
		out = append(out, ep)
	}
	return out
}

func lastDecision(t *testing.T, st engine.Status) engine.DecisionLog {
	t.Helper()
	if len(st.Decisions) == 0 {
		t.Fatal("no decisions")
	}
	return st.Decisions[len(st.Decisions)-1]
}

// The Core's submit path: shut on a standby, open under a term with its
// epoch, shut the instant the term's context ends (before Unlead), and
// shut again after Unlead, each refusal visible in the decisions.
func TestCoreLeadershipGatesSubmission(t *testing.T) {
	ctx := context.Background()
	c, v := newStandbyCore(t)
	at := t0
	tick := func() {
		at = at.Add(time.Second)
		c.OnBook(ctx, at, book(at, "50000", "50001"))
	}
	steps := []struct {
		name       string
		do         func(cancel context.CancelFunc)
		wantOrders int
		wantReason string
	}{
		{"standby", func(context.CancelFunc) {}, 0, "standby: not the leader"},
		{"leading epoch 5", func(context.CancelFunc) {}, 1, ""},
		{"term cancelled, not yet unled", func(cancel context.CancelFunc) { cancel() }, 1, "leadership lost"},
		{"unled", func(context.CancelFunc) { c.Unlead("standby: leadership lost") }, 1, "standby: leadership lost"},
	}
	term, cancel := context.WithCancel(ctx)
	defer cancel()
	for i, s := range steps {
		if i == 1 {
			c.Lead(term, 5)
		}
		s.do(cancel)
		tick()
		eps := placedEpochs(t, v)
		if len(eps) != s.wantOrders {
			t.Fatalf("%s: %d orders on the venue, want %d", s.name, len(eps), s.wantOrders)
		}
		for _, ep := range eps {
			if ep != 5 {
				t.Fatalf("%s: order with epoch %d, want 5", s.name, ep)
			}
		}
		st := c.Status()
		if d := lastDecision(t, st); d.Reason != s.wantReason {
			t.Fatalf("%s: last decision %+v, want reason %q", s.name, d, s.wantReason)
		}
		if want := s.wantReason == ""; st.Leading != want {
			t.Fatalf("%s: Leading = %v", s.name, st.Leading)
		}
	}
}

// fakeFeed is a public stream the test drives through its handler.
type fakeFeed struct {
	mu sync.Mutex
	h  func(*bitunix.PublicEvent)
}

func (f *fakeFeed) Run(ctx context.Context) error {
	f.h(&bitunix.PublicEvent{Kind: bitunix.KindConnected})
	<-ctx.Done()
	return nil
}
func (f *fakeFeed) Subscribe(context.Context, ...bitunix.Subscription) error { return nil }

// attach is a RunnerConfig.NewPublic: the Runner's handler is kept for push.
func (f *fakeFeed) attach(h func(*bitunix.PublicEvent)) engine.PublicFeed {
	f.mu.Lock()
	f.h = h
	f.mu.Unlock()
	return f
}

// push hands ev to the Runner as its public stream would, once attached.
func (f *fakeFeed) push(t *testing.T, ev *bitunix.PublicEvent) {
	t.Helper()
	var h func(*bitunix.PublicEvent)
	waitFor(t, "the public stream", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		h = f.h
		return h != nil
	})
	h(ev)
}

// atomicClock is a settable wall clock for the Runner.
type atomicClock struct{ ns atomic.Int64 }

func (c *atomicClock) Now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *atomicClock) Add(d time.Duration) { c.ns.Add(int64(d)) }
func newAtomicClock(t time.Time) *atomicClock {
	c := &atomicClock{}
	c.ns.Store(t.UnixNano())
	return c
}

// statusOf reads the Runner's status from the engine goroutine.
func statusOf(t *testing.T, r *engine.Runner) engine.Status {
	t.Helper()
	st, ok := r.Status().(engine.Status)
	if !ok {
		t.Fatalf("status: %v", r.Status())
	}
	return st
}

// waitFor polls cond on the engine's own status until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(5 * time.Second)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// A Runner's term: submissions open only after a successful takeover
// reconciliation (retried while the venue is down), carry the term's
// epoch, and are shut when Lead returns.
func TestRunnerLeadReconcilesBeforeSubmitting(t *testing.T) {
	c, v := newStandbyCore(t)
	clk := newAtomicClock(t0)
	feed := &fakeFeed{}
	var began atomic.Int32
	r, err := engine.NewRunner(engine.RunnerConfig{
		Core: c, Symbols: []string{sym}, TimerInterval: time.Millisecond, ReconcileInterval: time.Hour,
		Clock:     clk.Now,
		BeginTerm: func(context.Context) error { began.Add(1); return nil },
		NewPublic: feed.attach,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- r.Run(ctx) }()
	defer func() { stop(); <-runDone }()
	waitFor(t, "ready as a standby", func() bool { return r.Ready() == nil })

	send := func() {
		clk.Add(time.Millisecond)
		n := len(statusOf(t, r).Decisions)
		feed.push(t, &bitunix.PublicEvent{Kind: bitunix.KindDepth, Symbol: sym, Book: *book(clk.Now(), "50000", "50001")})
		// The quoter decides on every book. A status round trip alone does
		// not prove the book was processed: the loop may take the status
		// request before the market event.
		waitFor(t, "the book's decision", func() bool { return len(statusOf(t, r).Decisions) > n })
	}
	send()
	if n := len(placedVia(t, r)); n != 0 {
		t.Fatalf("standby placed %d orders", n)
	}

	v.down.Store(true)
	lists := v.lists.Load()
	term, endTerm := context.WithCancel(context.Background())
	leadDone := make(chan error, 1)
	go func() { leadDone <- r.Lead(term, 9) }()
	waitFor(t, "the takeover reconciliation to be tried", func() bool { return v.lists.Load() > lists })
	send()
	if st := statusOf(t, r); st.Leading || len(placedVia(t, r)) != 0 {
		t.Fatalf("submissions open before a successful reconciliation: leading %v, orders %d", st.Leading, len(placedVia(t, r)))
	}
	if began.Load() != 1 {
		t.Fatalf("BeginTerm ran %d times", began.Load())
	}

	v.down.Store(false)
	clk.Add(2 * time.Second) // past the retry
	waitFor(t, "leading after the retried reconciliation", func() bool { return statusOf(t, r).Leading })
	send()
	eps := placedVia(t, r)
	if len(eps) != 1 || eps[0] != 9 {
		t.Fatalf("orders after takeover: epochs %v, want [9]", eps)
	}

	endTerm()
	select {
	case err := <-leadDone:
		if err != nil {
			t.Fatalf("Lead: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Lead did not return after its term ended")
	}
	// Lead returned: the loop has shut the path.
	send()
	st := statusOf(t, r)
	if st.Leading || len(placedVia(t, r)) != 1 {
		t.Fatalf("after the term: leading %v, orders %d", st.Leading, len(placedVia(t, r)))
	}
	if d := lastDecision(t, st); d.Reason != "standby: leadership lost" {
		t.Fatalf("last decision %+v", d)
	}
}

// BeginTerm failing ends the term with its error and opens nothing.
func TestRunnerLeadBeginTermError(t *testing.T) {
	c, _ := newStandbyCore(t)
	feed := &fakeFeed{}
	r, err := engine.NewRunner(engine.RunnerConfig{
		Core: c, Symbols: []string{sym}, TimerInterval: time.Millisecond,
		BeginTerm: func(context.Context) error { return errors.New("leverage refused") },
		NewPublic: feed.attach,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- r.Run(ctx) }()
	defer func() { stop(); <-runDone }()
	if err := r.Lead(context.Background(), 2); err == nil {
		t.Fatal("Lead succeeded although BeginTerm failed")
	}
	if st := statusOf(t, r); st.Leading || len(placedVia(t, r)) != 0 {
		t.Fatalf("leading %v after a failed term start", st.Leading)
	}
}
