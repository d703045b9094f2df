package engine_test

import (
	"context"
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
	"github.com/bitrader/bitrader/internal/trading"
	"github.com/bitrader/bitrader/internal/venue/local"
)

// liveLocal is the local venue standing in for an exchange account
// (ordermanager.LiveAccount): funding then comes only from position pushes.
type liveLocal struct{ *local.Venue }

func (liveLocal) LiveAccount() bool { return true }

// privFeed is a private stream the test drives through its handler.
type privFeed struct {
	mu sync.Mutex
	h  func(*bitunix.PrivateEvent)
}

func (f *privFeed) Run(ctx context.Context) error {
	f.handler()(&bitunix.PrivateEvent{Kind: bitunix.KindConnected})
	<-ctx.Done()
	return nil
}

func (f *privFeed) handler() func(*bitunix.PrivateEvent) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.h
}

// A position push's cumulative funding is booked through the Core once per
// change (positive received), and not at all on a venue that reports
// funding itself.
func TestRunnerBooksFundingFromPositionPushes(t *testing.T) {
	for _, live := range []bool{true, false} {
		spec := instrument.Default(sym)
		lv, err := local.New(local.Config{Balance: fixed.FromInt(10000), Specs: []instrument.Spec{spec}, Start: t0})
		if err != nil {
			t.Fatal(err)
		}
		var v ordermanager.Venue = lv
		if live {
			v = liveLocal{lv}
		}
		c, err := engine.NewCore(engine.CoreConfig{
			Strategies: map[string]strategy.Strategy{sym: &quoter{}},
			Specs:      map[string]instrument.Spec{sym: spec},
			Limits:     risk.DefaultLimits(),
			Venue:      v, Store: engine.NewMemStore(),
			Orders: ordermanager.Config{Prefix: "t", Epoch: 1, StartBalance: fixed.FromInt(10000)},
		})
		if err != nil {
			t.Fatal(err)
		}
		clk := newAtomicClock(t0)
		pub, priv := &fakeFeed{}, &privFeed{}
		r, err := engine.NewRunner(engine.RunnerConfig{
			Core: c, Symbols: []string{sym}, TimerInterval: time.Hour, ReconcileInterval: time.Hour, Clock: clk.Now,
			NewPublic: pub.attach,
			NewPrivate: func(h func(*bitunix.PrivateEvent)) engine.PrivateFeed {
				priv.mu.Lock()
				priv.h = h
				priv.mu.Unlock()
				return priv
			},
			Report: func(o *bitunix.Order) ordermanager.Report { return ordermanager.Report{} },
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, stop := context.WithCancel(context.Background())
		runDone := make(chan error, 1)
		go func() { runDone <- r.Run(ctx) }()
		waitFor(t, "reconciled and connected", func() bool { return r.Ready() == nil })

		push := func(funding string) {
			priv.handler()(&bitunix.PrivateEvent{Kind: bitunix.KindPosition, Position: bitunix.Position{
				Event: "UPDATE", PositionID: "p1", Symbol: sym, Side: trading.Buy, Qty: px("0.1"), Funding: px(funding)}})
		}
		// drained waits until the pushes sent so far were handled: private
		// pushes are handled in order, so a balance push seen in the status
		// comes after them.
		mark := 0
		drained := func() engine.Status {
			mark++
			b := fixed.FromInt(int64(mark))
			priv.handler()(&bitunix.PrivateEvent{Kind: bitunix.KindBalance, Balance: bitunix.Balance{Coin: "USDT", Available: b}})
			var st engine.Status
			waitFor(t, "the pushes handled", func() bool { st = statusOf(t, r); return st.Orders.Balance.Available == b })
			return st
		}
		steps := []struct {
			cumulative string
			want       string // ledger funding after the push (live)
		}{
			{"-1", "-1"},       // first push of a position opened after start
			{"-1", "-1"},       // repeated: nothing
			{"-1.5", "-1.5"},   // 0.5 paid
			{"-1.25", "-1.25"}, // 0.25 received
		}
		for _, s := range steps {
			push(s.cumulative)
			st := drained()
			want := px(s.want)
			if !live {
				want = 0 // the local venue's funding comes through its sink
			}
			if got := st.Orders.PnL.Funding; got != want {
				t.Fatalf("live %v, push %s: ledger funding %s, want %s", live, s.cumulative, got, want)
			}
			if eq := st.Orders.PnL.Equity; eq != fixed.FromInt(10000)+want {
				t.Fatalf("live %v, push %s: equity %s", live, s.cumulative, eq)
			}
		}
		stop()
		if err := <-runDone; err != nil {
			t.Fatal(err)
		}
	}
}
