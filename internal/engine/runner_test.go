package engine_test

import (
	"context"
	"encoding/json"
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

// leadingRunner is a Runner over a leading Core trading the quoter on a
// local venue (through flakyVenue, which counts reconciliation lists), fed
// by a public stream the test drives.
type leadingRunner struct {
	r     *engine.Runner
	c     *engine.Core
	v     *flakyVenue
	store *engine.MemStore
	feed  *fakeFeed
	clk   *atomicClock
}

func newLeadingRunner(t *testing.T, cancelOnShutdown bool) *leadingRunner {
	t.Helper()
	spec := instrument.Default(sym)
	lv, err := local.New(local.Config{Balance: fixed.FromInt(10000), Specs: []instrument.Spec{spec}, Start: t0})
	if err != nil {
		t.Fatal(err)
	}
	v := &flakyVenue{Venue: lv}
	store := engine.NewMemStore()
	c, err := engine.NewCore(engine.CoreConfig{
		Strategies: map[string]strategy.Strategy{sym: &quoter{}},
		Specs:      map[string]instrument.Spec{sym: spec},
		Limits:     risk.DefaultLimits(), Venue: v, Store: store,
		Orders: ordermanager.Config{Prefix: "t", Epoch: 1, StartBalance: fixed.FromInt(10000)},
	})
	if err != nil {
		t.Fatal(err)
	}
	lv.SetSinks(func(rep ordermanager.Report) { c.OnOrderReport(context.Background(), rep.Time, rep) }, nil)
	lr := &leadingRunner{c: c, v: v, store: store, feed: &fakeFeed{}, clk: newAtomicClock(t0)}
	lr.r, err = engine.NewRunner(engine.RunnerConfig{
		Core: c, Symbols: []string{sym}, TimerInterval: time.Millisecond, ReconcileInterval: time.Hour,
		CancelOnShutdown: cancelOnShutdown, Clock: lr.clk.Now,
		NewPublic: lr.feed.attach,
	})
	if err != nil {
		t.Fatal(err)
	}
	return lr
}

// On SIGTERM (the context ends) the Runner stops entries, cancels what it
// has open (cancelOnShutdown), reconciles, flushes the risk state and
// returns; nothing is left on the exchange.
func TestRunnerShutdownCancelsReconcilesAndFlushes(t *testing.T) {
	lr := newLeadingRunner(t, true)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- lr.r.Run(ctx) }()
	waitFor(t, "ready", func() bool { return lr.r.Ready() == nil })
	lr.clk.Add(time.Millisecond)
	lr.feed.push(t, &bitunix.PublicEvent{Kind: bitunix.KindDepth, Symbol: sym, Book: *book(lr.clk.Now(), "50000", "50001")})
	waitFor(t, "the quoter's order to rest", func() bool { return len(statusOf(t, lr.r).Orders.OpenOrders) == 1 })
	lists := lr.v.lists.Load()

	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after the context ended")
	}
	// The Runner has returned: its goroutine no longer owns the venue.
	open, err := lr.v.Venue.OpenOrders(context.Background(), sym)
	if err != nil || len(open) != 0 {
		t.Fatalf("open on the exchange after shutdown: %+v (err %v)", open, err)
	}
	if lr.v.lists.Load() == lists {
		t.Error("no final reconciliation after the cancels")
	}
	if n := len(lr.c.Orders().OpenOrders()); n != 0 {
		t.Errorf("%d orders still open in the order manager", n)
	}
	blob, err := lr.store.GetState("engine/risk")
	var st risk.State
	if err != nil || json.Unmarshal(blob, &st) != nil || len(st.RecentOrders) != 1 {
		t.Errorf("risk state not flushed with the order just placed: %s (err %v)", blob, err)
	}
}

// A reconnect of the market stream reconciles with the exchange: pushes
// may have been missed while it was down.
func TestRunnerReconnectReconciles(t *testing.T) {
	lr := newLeadingRunner(t, false)
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = lr.r.Run(ctx) }()
	defer func() { stop(); wg.Wait() }()
	waitFor(t, "ready", func() bool { return lr.r.Ready() == nil })
	lists := lr.v.lists.Load()
	lr.feed.push(t, &bitunix.PublicEvent{Kind: bitunix.KindReconnected})
	waitFor(t, "a reconciliation after the reconnect", func() bool { return lr.v.lists.Load() > lists })
}
