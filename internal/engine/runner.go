package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/bitrader/bitrader/internal/bitunix"
	"github.com/bitrader/bitrader/internal/ordermanager"
	"github.com/bitrader/bitrader/internal/trading"
)

// PublicFeed is the public market-data stream (*bitunix.PublicStream).
type PublicFeed interface {
	Run(ctx context.Context) error
	Subscribe(ctx context.Context, subs ...bitunix.Subscription) error
}

// PrivateFeed is the private account stream (*bitunix.PrivateStream).
type PrivateFeed interface {
	Run(ctx context.Context) error
}

// OrderTranslator turns a private order push into a report
// (exchange.Report); kept as a function so engine does not import venues.
type OrderTranslator func(o *bitunix.Order) ordermanager.Report

// RunnerConfig configures a live Runner.
type RunnerConfig struct {
	Core    *Core
	Symbols []string
	// NewPublic builds the public stream with the handler the Runner
	// gives; NewPrivate the private one (nil in dry run).
	NewPublic  func(handler func(*bitunix.PublicEvent)) PublicFeed
	NewPrivate func(handler func(*bitunix.PrivateEvent)) PrivateFeed
	// Report translates order pushes (required with NewPrivate).
	Report OrderTranslator
	// ReconcileInterval is the periodic reconciliation; default 30s.
	ReconcileInterval time.Duration
	// TimerInterval drives Core.OnTimer; default 1s.
	TimerInterval time.Duration
	// CancelOnShutdown cancels open orders on the way out.
	CancelOnShutdown bool
	// ShutdownTimeout bounds the shutdown work; default 10s.
	ShutdownTimeout time.Duration
	// BeginTerm runs at the start of every leadership term, before the
	// takeover reconciliation and the first order (setting leverage and
	// margin mode: only the leader changes the account). An error ends the
	// term: Lead returns it. Nil means nothing to do.
	BeginTerm func(ctx context.Context) error
	// Clock is the wall clock (events are stamped with it); default
	// time.Now.
	Clock    func() time.Time
	Observer Observer
	Logger   *slog.Logger
}

// Runner drives a Core from live streams on one goroutine: the Core has a
// single owner and the hot path takes no locks. Market frames are copied
// into a fixed pool of buffers handed over by channel (no allocation per
// frame); private pushes, timers, reconciliation and operator commands go
// through the same select loop.
type Runner struct {
	cfg  RunnerConfig
	core *Core
	log  *slog.Logger
	obs  Observer

	free    chan *marketMsg
	work    chan *marketMsg
	private chan privateMsg
	cmds    chan func(*Core)
	recon   chan string   // reconcile requests with the reason
	terms   chan termMsg  // leadership transitions (Lead)
	done    chan struct{} // closed when the loop exits: stream handlers stop waiting

	pubUp, privUp, reconciled, running atomic.Bool
	lastStatus                         atomic.Pointer[Status]

	// pending is a term won but not yet trading: submissions open only
	// after a successful reconciliation. Engine goroutine only.
	pending *termMsg
}

// termMsg starts a term (ctx, epoch) or, with end set, ends it. done
// receives the start's error (nil once submissions are enabled) or is
// closed when the end has been applied.
type termMsg struct {
	ctx   context.Context
	epoch uint64
	end   bool
	done  chan error
}

type marketMsg struct {
	kind   bitunix.Kind
	book   trading.Book
	trades []trading.Trade
	mark   trading.MarkPrice
	at     time.Time
}

type privateMsg struct {
	kind     bitunix.Kind
	order    bitunix.Order
	balance  bitunix.Balance
	position bitunix.Position
	at       time.Time
}

// marketBuffers is how many market frames may wait for the engine; when
// all are in use the stream's reader waits (backpressure, not loss).
const marketBuffers = 256

// NewRunner builds a Runner.
func NewRunner(cfg RunnerConfig) (*Runner, error) {
	if cfg.Core == nil || cfg.NewPublic == nil {
		return nil, errors.New("runner: core and public stream are required")
	}
	if cfg.NewPrivate != nil && cfg.Report == nil {
		return nil, errors.New("runner: private stream without a report translator")
	}
	if cfg.ReconcileInterval <= 0 {
		cfg.ReconcileInterval = 30 * time.Second
	}
	if cfg.TimerInterval <= 0 {
		cfg.TimerInterval = time.Second
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 10 * time.Second
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Observer == nil {
		cfg.Observer = NopObserver{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Runner{
		cfg: cfg, core: cfg.Core, log: cfg.Logger, obs: cfg.Observer,
		free: make(chan *marketMsg, marketBuffers), work: make(chan *marketMsg, marketBuffers),
		private: make(chan privateMsg, 1024), cmds: make(chan func(*Core), 16), recon: make(chan string, 4),
		terms: make(chan termMsg),
		done:  make(chan struct{}),
	}
	for range marketBuffers {
		r.free <- &marketMsg{}
	}
	return r, nil
}

// Ready is nil when the streams are connected and the last reconciliation
// succeeded: a standby in that state is ready to lead (a rollout may
// proceed); else the reason it is not ready.
func (r *Runner) Ready() error {
	switch {
	case !r.running.Load():
		return errors.New("engine not running")
	case !r.pubUp.Load():
		return errors.New("public market-data stream not connected")
	case r.cfg.NewPrivate != nil && !r.privUp.Load():
		return errors.New("private account stream not connected")
	case !r.reconciled.Load():
		return errors.New("not reconciled with the exchange")
	}
	return nil
}

// do runs f on the engine goroutine and waits for it, bounded by ctx.
func (r *Runner) do(ctx context.Context, f func(*Core)) error {
	done := make(chan struct{})
	select {
	case r.cmds <- func(c *Core) { f(c); close(done) }:
	case <-ctx.Done():
		return fmt.Errorf("engine busy: %w", ctx.Err())
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("engine busy: %w", ctx.Err())
	}
}

// Lead is the leader.Leader's lead function: it trades for one leadership
// term. On the engine goroutine it runs BeginTerm, reconciles with the
// venue (orders by client-id prefix, positions, balance) and only then
// opens the submit path under term with epoch in every client id. When
// term is cancelled the Core refuses at once (it checks term itself);
// Lead then has the engine goroutine shut the path and returns only after
// it has, so no submission is in flight once the lease is released. A
// stopped engine leaves nothing to lead: Lead then just waits for term to
// end.
func (r *Runner) Lead(term context.Context, epoch uint64) error {
	started := make(chan error, 1)
	select {
	case r.terms <- termMsg{ctx: term, epoch: epoch, done: started}:
	case <-r.done:
		<-term.Done()
		return nil
	case <-term.Done():
		return nil
	}
	select {
	case err := <-started:
		if err != nil {
			r.endTerm()
			return err
		}
	case <-term.Done():
	case <-r.done:
	}
	<-term.Done()
	r.endTerm()
	return nil
}

// endTerm has the engine goroutine shut the submit path and waits for it
// (or for the engine to stop, which shuts it for good).
func (r *Runner) endTerm() {
	ack := make(chan error)
	select {
	case r.terms <- termMsg{end: true, done: ack}:
	case <-r.done:
		return
	}
	select {
	case <-ack:
	case <-r.done:
	}
}

// onTerm applies a leadership transition on the engine goroutine; false
// means the takeover reconciliation failed and must be retried.
func (r *Runner) onTerm(ctx context.Context, t termMsg) bool {
	if t.end {
		r.pending = nil
		r.core.Unlead("standby: leadership lost")
		r.obs.Ready(r.Ready() == nil)
		close(t.done)
		return true
	}
	r.log.Info("leadership won: reconciling before the first order", "epoch", t.epoch)
	if r.cfg.BeginTerm != nil {
		if err := r.cfg.BeginTerm(t.ctx); err != nil {
			t.done <- fmt.Errorf("begin term %d: %w", t.epoch, err)
			return true
		}
	}
	r.pending = &t
	return r.reconcile(ctx, "leadership")
}

// Status returns the engine status (from the engine goroutine; the last
// one published if it is busy or stopped).
func (r *Runner) Status() any {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var st Status
	if err := r.do(ctx, func(c *Core) { st = c.Status() }); err != nil {
		if p := r.lastStatus.Load(); p != nil {
			return p
		}
		return map[string]string{"error": err.Error()}
	}
	r.lastStatus.Store(&st)
	return st
}

// Kill engages the kill switch.
func (r *Runner) Kill(reason string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return r.do(ctx, func(c *Core) { c.Kill(r.cfg.Clock(), reason) })
}

// Resume releases the kill switch, the drawdown breaker and a drift halt.
func (r *Runner) Resume() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return r.do(ctx, func(c *Core) { c.Resume(r.cfg.Clock()) })
}

func (r *Runner) onPublic(ev *bitunix.PublicEvent) {
	switch ev.Kind {
	case bitunix.KindConnected, bitunix.KindReconnected:
		r.pubUp.Store(true)
		r.obs.WSState("public", true)
		if ev.Kind == bitunix.KindReconnected {
			r.obs.WSReconnect("public")
			r.requestReconcile("public reconnect")
		}
		return
	case bitunix.KindDisconnected:
		r.pubUp.Store(false)
		r.obs.WSState("public", false)
		return
	case bitunix.KindDepth, bitunix.KindTrade, bitunix.KindPrice:
	default:
		return
	}
	var m *marketMsg
	select {
	case m = <-r.free:
	case <-r.done:
		return
	}
	m.kind, m.at = ev.Kind, r.cfg.Clock()
	switch ev.Kind {
	case bitunix.KindDepth:
		m.book.Symbol, m.book.Time = ev.Book.Symbol, ev.Book.Time
		if m.book.Symbol == "" {
			m.book.Symbol = ev.Symbol
		}
		m.book.Bids = append(m.book.Bids[:0], ev.Book.Bids...)
		m.book.Asks = append(m.book.Asks[:0], ev.Book.Asks...)
	case bitunix.KindTrade:
		m.trades = append(m.trades[:0], ev.Trades...)
	case bitunix.KindPrice:
		m.mark = ev.Price
	}
	select {
	case r.work <- m:
	case <-r.done:
	}
}

func (r *Runner) onPrivate(ev *bitunix.PrivateEvent) {
	switch ev.Kind {
	case bitunix.KindConnected, bitunix.KindReconnected:
		r.privUp.Store(true)
		r.obs.WSState("private", true)
		if ev.Kind == bitunix.KindReconnected {
			r.obs.WSReconnect("private")
			r.requestReconcile("private reconnect")
		}
		return
	case bitunix.KindDisconnected:
		r.privUp.Store(false)
		r.obs.WSState("private", false)
		return
	case bitunix.KindOrder, bitunix.KindBalance, bitunix.KindPosition:
	default:
		return
	}
	select {
	case r.private <- privateMsg{kind: ev.Kind, order: ev.Order, balance: ev.Balance, position: ev.Position, at: r.cfg.Clock()}:
	case <-r.done:
	}
}

func (r *Runner) requestReconcile(why string) {
	select {
	case r.recon <- why:
	default: // one is already pending
	}
}

// Run connects, reconciles and trades until ctx ends, then shuts down:
// stop entries, cancel open orders if configured, flush. Streams stop with
// ctx. It returns nil on a clean shutdown.
func (r *Runner) Run(ctx context.Context) error {
	streamCtx, stopStreams := context.WithCancel(context.WithoutCancel(ctx))
	defer stopStreams()
	errc := make(chan error, 2)
	pub := r.cfg.NewPublic(r.onPublic)
	var subs []bitunix.Subscription
	for _, s := range r.cfg.Symbols {
		subs = append(subs, bitunix.Subscription{Symbol: s, Channel: "depth_book15"},
			bitunix.Subscription{Symbol: s, Channel: "trade"}, bitunix.Subscription{Symbol: s, Channel: "price"})
	}
	if err := pub.Subscribe(streamCtx, subs...); err != nil {
		return fmt.Errorf("subscribe %v: %w", r.cfg.Symbols, err)
	}
	streams := 1
	go func() { errc <- pub.Run(streamCtx) }()
	if r.cfg.NewPrivate != nil {
		priv := r.cfg.NewPrivate(r.onPrivate)
		streams++
		go func() { errc <- priv.Run(streamCtx) }()
	}
	r.running.Store(true)
	defer r.running.Store(false)
	r.log.Info("engine started", "symbols", r.cfg.Symbols, "private", r.cfg.NewPrivate != nil)

	timer := time.NewTicker(r.cfg.TimerInterval)
	defer timer.Stop()
	nextReconcile := time.Time{} // reconcile at once
	var runErr error
loop:
	for {
		if now := r.cfg.Clock(); !now.Before(nextReconcile) {
			if r.reconcile(ctx, "periodic") {
				nextReconcile = now.Add(r.cfg.ReconcileInterval)
			} else {
				nextReconcile = now.Add(min(2*time.Second, r.cfg.ReconcileInterval))
			}
		}
		select {
		case <-ctx.Done():
			break loop
		case m := <-r.work:
			r.market(ctx, m)
			r.free <- m
		case p := <-r.private:
			r.onPrivateMsg(ctx, p)
		case why := <-r.recon:
			if !r.reconcile(ctx, why) {
				nextReconcile = r.cfg.Clock().Add(time.Second)
			}
		case f := <-r.cmds:
			f(r.core)
		case t := <-r.terms:
			if !r.onTerm(ctx, t) {
				nextReconcile = r.cfg.Clock().Add(time.Second) // retry the takeover soon
			}
		case <-timer.C:
			r.core.OnTimer(ctx, r.cfg.Clock())
			r.publish()
		case err := <-errc:
			streams--
			if err != nil && ctx.Err() == nil {
				runErr = fmt.Errorf("market stream: %w", err)
				break loop
			}
		}
		if err := r.core.Err(); err != nil {
			runErr = fmt.Errorf("engine: %w", err)
			break loop
		}
	}
	close(r.done)
	r.shutdown(ctx)
	stopStreams()
	for ; streams > 0; streams-- {
		<-errc
	}
	return runErr
}

func (r *Runner) market(ctx context.Context, m *marketMsg) {
	switch m.kind {
	case bitunix.KindDepth:
		r.core.OnBook(ctx, m.at, &m.book)
	case bitunix.KindTrade:
		for _, t := range m.trades {
			r.core.OnTrade(ctx, m.at, t)
		}
	case bitunix.KindPrice:
		r.core.OnMark(ctx, m.at, m.mark)
	}
}

func (r *Runner) onPrivateMsg(ctx context.Context, p privateMsg) {
	switch p.kind {
	case bitunix.KindOrder:
		r.core.OnOrderReport(ctx, p.at, r.cfg.Report(&p.order))
	case bitunix.KindBalance:
		r.core.OnBalance(ordermanager.BalanceReport{Coin: p.balance.Coin, Available: p.balance.Available,
			Frozen: p.balance.Frozen, Margin: p.balance.Margin})
	case bitunix.KindPosition:
		r.onPosition(ctx, p.at, &p.position)
	}
}

// onPosition books the funding a position push shows beyond the last total
// seen for that position (Bitunix reports funding only as a running total
// per position; positive received). Quantities are left to order pushes
// and reconciliation. The order manager books nothing for venues that
// report funding otherwise (the local venues) and for a repeated push.
func (r *Runner) onPosition(ctx context.Context, at time.Time, p *bitunix.Position) {
	if d := r.core.Orders().PositionFunding(p.Symbol, p.PositionID, p.Funding); d != 0 {
		// Through the Core so the loss breakers see the new equity.
		r.core.OnFunding(ctx, at, p.Symbol, d)
	}
}

// reconcile runs one reconciliation and updates readiness; it reports
// success.
func (r *Runner) reconcile(ctx context.Context, why string) bool {
	res, err := r.core.Reconcile(ctx, r.cfg.Clock())
	ok := err == nil
	r.reconciled.Store(ok)
	if t := r.pending; ok && t != nil {
		// A term's first successful reconciliation opens the submit path.
		r.pending = nil
		if t.ctx.Err() == nil {
			r.core.Lead(t.ctx, t.epoch)
		}
		t.done <- nil
	}
	lvl := slog.LevelDebug
	if why != "periodic" || len(res.Drifts) > 0 || !ok {
		lvl = slog.LevelInfo
	}
	r.log.Log(ctx, lvl, "reconciled", "why", why, "ok", ok, "settled", res.Settled, "notSent", res.SettledNotSent,
		"adopted", res.AdoptedOurs+res.AdoptedForeign, "canceledForeign", res.CanceledForeign,
		"drifts", len(res.Drifts), "stillAmbiguous", res.StillAmbiguous, "err", err)
	r.obs.Ready(r.Ready() == nil)
	r.publish()
	return ok
}

func (r *Runner) publish() {
	st := r.core.Status()
	r.lastStatus.Store(&st)
}

// shutdown: no new entries, cancel open orders if configured (and wait for
// the venue to confirm through a last reconciliation), flush.
func (r *Runner) shutdown(ctx context.Context) {
	// Only the leader cancels: a standby's open orders are the leader's.
	leading := r.core.Leading()
	r.log.Info("engine stopping: no new entries", "cancelOpenOrders", r.cfg.CancelOnShutdown && leading, "leading", leading)
	r.core.StopEntries()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.cfg.ShutdownTimeout)
	defer cancel()
	if r.cfg.CancelOnShutdown && leading {
		if err := r.core.Orders().CancelAll(sctx); err != nil {
			r.log.Warn("cancel open orders on shutdown", "err", err)
		}
		if _, err := r.core.Reconcile(sctx, r.cfg.Clock()); err != nil {
			r.log.Warn("final reconciliation", "err", err)
		}
	}
	if err := r.core.Flush(); err != nil {
		r.log.Error("flush engine state", "err", err)
	}
	r.publish()
	r.log.Info("engine stopped", "openOrders", len(r.core.Orders().OpenOrders()))
}
