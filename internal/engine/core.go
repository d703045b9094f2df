// Package engine is the trading pipeline shared by live trading, dry run and
// backtests: market events in, market state, strategy, the mandatory risk
// gate, and the order manager on a venue.
//
// Core is synchronous and single-owner (like etcd's raft node): no
// goroutines, no clock of its own; the caller passes the time with every
// event and calls every method from one goroutine. Only the venue differs
// between backtest, dry run, simulator and live (design: "The flow").
package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/instrument"
	"github.com/bitrader/bitrader/internal/journal"
	"github.com/bitrader/bitrader/internal/market"
	"github.com/bitrader/bitrader/internal/ordermanager"
	"github.com/bitrader/bitrader/internal/risk"
	"github.com/bitrader/bitrader/internal/strategy"
	"github.com/bitrader/bitrader/internal/trading"
)

// Journal state keys the Core owns.
const (
	riskStateKey = "engine/risk"
	haltStateKey = "engine/halt"
)

// MarketFeed is implemented by venues that fill orders locally against
// market data (the local paper/backtest venue). The Core forwards every
// market event to such a venue before the strategy sees it, so resting
// orders fill on the same data the strategy acts on. Callers must not feed
// the venue separately.
type MarketFeed interface {
	ApplyBook(b *trading.Book) error
	ApplyTrade(t trading.Trade) error
	ApplyMark(m trading.MarkPrice) error
}

// CoreConfig configures a Core.
type CoreConfig struct {
	// Strategies maps each traded symbol to its strategy.
	Strategies map[string]strategy.Strategy
	// Specs are the traded symbols' precision and limits (trading_pairs).
	// A symbol without one trades with a nil spec (no rounding).
	Specs map[string]instrument.Spec
	// Limits are the risk gate's limits.
	Limits risk.Limits
	// Market shapes the market state; zero means market.DefaultConfig()
	// plus every strategy's candle interval the caller adds.
	Market market.Config
	// Venue executes orders; Store journals them (journal.Journal in
	// live, MemStore in backtests).
	Venue ordermanager.Venue
	Store ordermanager.Store
	// Orders configures the order manager. Now and Observer are set by
	// the Core (Orders.Observer, if set, still receives every event).
	Orders ordermanager.Config
	// Observer receives metrics; nil means NopObserver.
	Observer Observer
	Logger   *slog.Logger
	// Stopwatch is a wall clock used only to measure latency for metrics;
	// nil disables the measurement (backtests).
	Stopwatch func() time.Time
	// RecentDecisions is how many decisions Status keeps; default 50.
	RecentDecisions int
	// Standby starts the Core with its submit path shut (HA: a replica is
	// a warm standby until Lead). False (backtests, single replica) leads
	// from the start under the callers' contexts.
	Standby bool
}

// DecisionLog is one intent and what became of it, for /status.
type DecisionLog struct {
	Time       time.Time    `json:"time"`
	Symbol     string       `json:"symbol"`
	Side       string       `json:"side"`
	Type       string       `json:"type"`
	Price      fixed.Value  `json:"price,omitzero"`
	Qty        fixed.Value  `json:"qty"`
	ReduceOnly bool         `json:"reduceOnly,omitempty"`
	Tag        string       `json:"tag,omitempty"`
	Verdict    string       `json:"verdict"`
	Reason     string       `json:"reason,omitempty"`
	Approved   fixed.Value  `json:"approved,omitzero"`
	ClientID   string       `json:"clientId,omitempty"`
	Result     string       `json:"result,omitempty"` // order status after submit, or the error
	Breaker    risk.Breaker `json:"-"`
}

// Halt is why new entries are stopped, if they are.
type Halt struct {
	Halted bool      `json:"halted"`
	Reason string    `json:"reason,omitempty"`
	Since  time.Time `json:"since,omitzero"`
	// Resumed is when an operator last lifted a halt (see BreakerState).
	Resumed time.Time `json:"resumed,omitzero"`
}

// Status is the /status document's trading part.
type Status struct {
	Time       time.Time                 `json:"time"`
	Halt       Halt                      `json:"halt"`
	Stopping   bool                      `json:"stopping,omitempty"`
	Leading    bool                      `json:"leading"` // submit path open
	Breakers   []risk.BreakerStatus      `json:"breakers"`
	Equity     fixed.Value               `json:"equity"`
	DailyPnL   fixed.Value               `json:"dailyPnl"`
	Drawdown   fixed.Value               `json:"drawdown"`
	Orders     ordermanager.Status       `json:"orders"`    // positions, open orders, PnL, balance, drift, events
	Decisions  []DecisionLog             `json:"decisions"` // oldest first
	Strategies map[string]string         `json:"strategies"`
	Market     map[string]MarketSnapshot `json:"market"`
}

// MarketSnapshot is the top of one symbol's market.
type MarketSnapshot struct {
	Bid     fixed.Value `json:"bid"`
	Ask     fixed.Value `json:"ask"`
	Last    fixed.Value `json:"last"`
	Mark    fixed.Value `json:"mark"`
	Updated time.Time   `json:"updated,omitzero"`
}

type symbolState struct {
	name  string
	strat strategy.Strategy
	spec  *instrument.Spec
	mkt   *market.Symbol
	pos   strategy.Position
	// orders is this symbol's open orders in strategy form; rebuilt when
	// the order manager's state may have changed (ordersDirty).
	orders []strategy.Order
	open   []trading.Intent // remaining qty per open order, for risk
	// wants[kind] says whether the strategy acts on that event kind
	// (strategy.EventFilter); events it ignores are not delivered.
	wants [strategy.EventTimer + 1]bool
	// candles, if set, says which candle intervals the strategy acts on.
	candles strategy.CandleFilter
}

// Core is the trading pipeline. It is not safe for concurrent use: one
// goroutine owns it and calls every method.
type Core struct {
	cfg   CoreConfig
	log   *slog.Logger
	obs   Observer
	venue ordermanager.Venue
	feed  MarketFeed // venue as MarketFeed, or nil
	store ordermanager.Store
	om    *ordermanager.Manager
	gate  *risk.Gate
	mkt   *market.Market
	order []*symbolState // sorted by name: deterministic iteration

	now        time.Time // time of the event being processed
	t0         time.Time // stopwatch at event entry
	busy       bool      // inside an event: reports are queued
	queue      []ordermanager.Report
	queueHead  int            // queue[queueHead:] is waiting
	fundings   []funding      // funding paid while busy, booked at end
	fills      []trading.Fill // fills booked by the order manager, to deliver
	spareFills []trading.Fill // the other buffer (deliverFills)
	dirty      bool           // order manager state changed since the last view
	cancels    map[string]bool
	halt       Halt
	stopping   bool
	persisted  persistedKey
	savedPeak  fixed.Value // equity peak in the last saved risk state
	decisions  []DecisionLog
	decNext    int
	breakers   []risk.BreakerStatus
	positions  []ordermanager.Position
	fatal      error

	// Leadership (design invariant 1). standby shuts the submit and cancel
	// paths; term, when set, is the leadership context every order goes
	// out under, so losing leadership stops submission even before the
	// owner has processed Unlead.
	standby    bool
	standbyWhy string
	term       context.Context

	// The last (day, equity) given to the gate's loss breakers: Observe is
	// a function of those two, so an unchanged pair is not observed again
	// (a mark without a position, a book, a trade). Cleared whenever the
	// gate may have changed otherwise (Kill, Resume, Gate()).
	obsDay   int64
	obsEq    fixed.Value
	obsValid bool
	// riskKey is the key of the last full Snapshot persistRisk took; while
	// the breaker flags and the current UTC day equal it, nothing can need
	// persisting.
	riskKey      persistedKey
	riskKeyValid bool
	breakerBuf   []risk.BreakerStatus
	openBuf      []ordermanager.OrderRecord
}

// persistedKey is what, when it changes, makes the Core write the risk
// state to the store: breaker flags and the UTC day (and, separately, a
// 0.1% rise of the equity peak: see persistRisk).
type persistedKey struct {
	kill, daily, dd bool
	day             int64 // risk.UnixDay; math.MinInt64 before the first
}

// fillTap forwards order manager events and keeps the fills for the Core
// to deliver to strategies once the manager call returns.
type fillTap struct {
	c    *Core
	next ordermanager.Observer
}

func (t fillTap) OrderSubmitted(o ordermanager.Order, outcome string) {
	t.next.OrderSubmitted(o, outcome)
}
func (t fillTap) OrderRejected(symbol string, code int) { t.next.OrderRejected(symbol, code) }
func (t fillTap) OrderFilled(f trading.Fill) {
	t.c.fills = append(t.c.fills, f)
	t.next.OrderFilled(f)
}
func (t fillTap) IllegalTransition(k ordermanager.EventKind) { t.next.IllegalTransition(k) }
func (t fillTap) Reconciled(r ordermanager.ReconcileResult, d time.Duration) {
	t.next.Reconciled(r, d)
}
func (t fillTap) JournalWrite(op string, d time.Duration) { t.next.JournalWrite(op, d) }

// NewCore builds a Core, restoring open orders, positions, breakers and a
// drift halt from the store.
func NewCore(cfg CoreConfig) (*Core, error) {
	if len(cfg.Strategies) == 0 {
		return nil, errors.New("engine: no strategies (one per traded symbol)")
	}
	if cfg.Venue == nil || cfg.Store == nil {
		return nil, errors.New("engine: venue and store are required")
	}
	if cfg.Observer == nil {
		cfg.Observer = NopObserver{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.RecentDecisions <= 0 {
		cfg.RecentDecisions = 50
	}
	mcfg := cfg.Market
	if mcfg.DepthLevels == 0 {
		mcfg = market.DefaultConfig()
	}
	mkt, err := market.New(mcfg)
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	gate, err := risk.New(cfg.Limits)
	if err != nil {
		return nil, fmt.Errorf("engine: risk limits: %w", err)
	}
	c := &Core{
		cfg: cfg, log: cfg.Logger, obs: cfg.Observer, venue: cfg.Venue, store: cfg.Store,
		gate: gate, mkt: mkt, cancels: map[string]bool{},
		persisted: keyOf(risk.State{}), // nothing saved yet: no day, so the first key differs
		decisions: make([]DecisionLog, 0, cfg.RecentDecisions), dirty: true,
		standby: cfg.Standby, standbyWhy: "standby: not the leader",
	}
	c.feed, _ = cfg.Venue.(MarketFeed)
	ocfg := cfg.Orders
	next := ocfg.Observer
	if next == nil {
		next = ordermanager.NopObserver{}
	}
	ocfg.Observer = fillTap{c: c, next: next}
	ocfg.Now = func() time.Time { return c.now }
	if ocfg.Logger == nil {
		ocfg.Logger = cfg.Logger
	}
	c.om, err = ordermanager.New(ocfg, cfg.Venue, storeTap{Store: cfg.Store, c: c})
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	for sym, st := range cfg.Strategies {
		if st == nil {
			return nil, fmt.Errorf("engine: nil strategy for %s", sym)
		}
		s := &symbolState{name: sym, strat: st, mkt: mkt.Symbol(sym)}
		f, filtered := st.(strategy.EventFilter)
		for k := range s.wants {
			s.wants[k] = !filtered || f.Wants(strategy.EventKind(k))
		}
		s.candles, _ = st.(strategy.CandleFilter)
		if spec, ok := cfg.Specs[sym]; ok {
			s.spec = &spec
		}
		c.order = append(c.order, s)
	}
	sort.Slice(c.order, func(i, j int) bool { return c.order[i].name < c.order[j].name })
	if err := c.restore(); err != nil {
		return nil, err
	}
	c.refreshPositions()
	return c, nil
}

func (c *Core) restore() error {
	blob, err := c.store.GetState(riskStateKey)
	switch {
	case err == nil:
		var st risk.State
		if err := json.Unmarshal(blob, &st); err != nil {
			return fmt.Errorf("engine: decode risk state: %w", err)
		}
		c.gate.Restore(st)
		c.persisted, c.savedPeak = keyOf(st), st.PeakEquity
	case !errors.Is(err, journal.ErrNotFound):
		return fmt.Errorf("engine: restore risk state: %w", err)
	}
	blob, err = c.store.GetState(haltStateKey)
	switch {
	case err == nil:
		if err := json.Unmarshal(blob, &c.halt); err != nil {
			return fmt.Errorf("engine: decode halt state: %w", err)
		}
	case !errors.Is(err, journal.ErrNotFound):
		return fmt.Errorf("engine: restore halt state: %w", err)
	}
	c.breakers = c.gate.Breakers(c.breakers[:0])
	return nil
}

func keyOf(s risk.State) persistedKey {
	day := int64(math.MinInt64) // no day yet: equal to no real day
	if !s.Day.IsZero() {
		day = risk.UnixDay(s.Day)
	}
	return persistedKey{kill: s.Kill.Tripped, daily: s.DailyLoss.Tripped, dd: s.Drawdown.Tripped, day: day}
}

// OpenOrderCount is how many orders of the traded symbols are open (the
// strategies' view, rebuilt only after a change). Owner goroutine only.
func (c *Core) OpenOrderCount() int {
	c.refreshOrders()
	n := 0
	for _, s := range c.order {
		n += len(s.orders)
	}
	return n
}

// Orders is the order manager (for reconciliation, CancelAll, queries).
// Call it only from the goroutine that owns the Core.
func (c *Core) Orders() *ordermanager.Manager { return c.om }

// Gate is the risk gate. Owner goroutine only.
func (c *Core) Gate() *risk.Gate {
	c.obsValid, c.riskKeyValid = false, false // the caller may change it
	return c.gate
}

// Market is the market state. Owner goroutine only.
func (c *Core) Market() *market.Market { return c.mkt }

// Err returns the first fatal error (a journal write that failed): after
// it the Core refuses new orders, and the caller should stop.
func (c *Core) Err() error { return c.fatal }

// begin marks the start of processing one input at now.
func (c *Core) begin(now time.Time) bool {
	if c.busy {
		return false
	}
	c.busy = true
	if now.After(c.now) {
		c.now = now
	}
	if c.cfg.Stopwatch != nil {
		c.t0 = c.cfg.Stopwatch()
	}
	return true
}

// end drains queued reports (a local venue reports synchronously while an
// order is being placed) and the fills they caused.
func (c *Core) end(ctx context.Context) {
	for i := 0; (c.queueHead < len(c.queue) || len(c.fills) > 0) && i < 10000; i++ {
		if len(c.fills) > 0 {
			c.deliverFills(ctx)
			continue
		}
		r := c.queue[c.queueHead]
		c.queue[c.queueHead] = ordermanager.Report{}
		c.queueHead++
		c.applyReport(r)
	}
	if c.queueHead == len(c.queue) {
		// Drained: reuse the whole buffer (slicing the head off would
		// shrink it until every report needed a new one).
		c.queue, c.queueHead = c.queue[:0], 0
	}
	for _, f := range c.fundings {
		c.applyFunding(f)
	}
	c.fundings = c.fundings[:0]
	c.busy = false
}

// OnBook applies a book snapshot and runs the symbol's strategy.
func (c *Core) OnBook(ctx context.Context, now time.Time, b *trading.Book) {
	if !c.begin(now) {
		return
	}
	defer c.end(ctx)
	if c.feed != nil {
		if err := c.feed.ApplyBook(b); err != nil {
			c.log.Debug("venue book", "symbol", b.Symbol, "err", err)
		}
	}
	s := c.symbol(b.Symbol)
	if s == nil {
		c.mkt.OnBook(now, b)
		return
	}
	s.mkt.OnBook(now, b)
	c.run(ctx, s, strategy.Event{Kind: strategy.EventBook, Symbol: s.name})
}

// OnTrade applies a public trade, then runs the strategy on the trade and
// on every candle it closed.
func (c *Core) OnTrade(ctx context.Context, now time.Time, t trading.Trade) {
	if !c.begin(now) {
		return
	}
	defer c.end(ctx)
	if c.feed != nil {
		if err := c.feed.ApplyTrade(t); err != nil {
			c.log.Debug("venue trade", "symbol", t.Symbol, "err", err)
		}
	}
	s := c.symbol(t.Symbol)
	if s == nil {
		c.mkt.OnTrade(now, t)
		return
	}
	closed := s.mkt.OnTrade(now, t)
	// Copy: the slice is the market's and the strategy run may not touch
	// the market, but a queued fill delivery later in this call would.
	var buf [4]trading.Kline
	candles := append(buf[:0], closed...)
	c.run(ctx, s, strategy.Event{Kind: strategy.EventTrade, Symbol: s.name, Trade: t})
	for _, k := range candles {
		c.run(ctx, s, strategy.Event{Kind: strategy.EventCandle, Symbol: s.name, Candle: k})
	}
}

// OnMark applies a mark price: market state, unrealised PnL, the loss
// breakers, then the strategy.
func (c *Core) OnMark(ctx context.Context, now time.Time, m trading.MarkPrice) {
	if !c.begin(now) {
		return
	}
	defer c.end(ctx)
	if c.feed != nil {
		if err := c.feed.ApplyMark(m); err != nil {
			c.log.Debug("venue mark", "symbol", m.Symbol, "err", err)
		}
	}
	s := c.symbol(m.Symbol)
	if s != nil {
		s.mkt.OnMark(now, m)
	} else {
		c.mkt.OnMark(now, m)
	}
	if m.Mark > 0 {
		c.observeEquityAt(c.om.OnMarkEquity(m.Symbol, m.Mark))
	}
	if s != nil {
		c.run(ctx, s, strategy.Event{Kind: strategy.EventMark, Symbol: s.name})
	}
}

// quietMarks is a MarketFeed that can tell when marks within a price range
// would do nothing on the venue but move the mark (local.Venue).
type quietMarks interface {
	MarksQuiet(symbol string, lo, hi fixed.Value) bool
}

// maxQuietMarks bounds OnMarksQuiet's batch (its buffers are on the stack).
const maxQuietMarks = 8

// OnMarksQuiet applies marks of one symbol, in time order, with the effect
// of OnMark on each, when it can take a shortcut: the strategy ignores
// marks and the venue says none of them could do anything there but move
// the mark. Then only the last reaches the venue and the market state;
// the order manager and the loss breakers still see every one. Otherwise
// it does nothing and returns false. A backtest gives it the prices inside
// a kline.
func (c *Core) OnMarksQuiet(ctx context.Context, marks []trading.MarkPrice) bool {
	if len(marks) == 0 || len(marks) > maxQuietMarks || c.busy {
		return false
	}
	last := marks[len(marks)-1]
	s := c.symbol(last.Symbol)
	q, ok := c.feed.(quietMarks)
	if s == nil || !ok || s.wants[strategy.EventMark] {
		return false
	}
	var prices, eqs [maxQuietMarks]fixed.Value
	lo, hi := last.Mark, last.Mark
	for i, m := range marks {
		if m.Symbol != last.Symbol || m.Mark <= 0 || (i > 0 && m.Time.Before(marks[i-1].Time)) {
			return false
		}
		prices[i] = m.Mark
		lo, hi = min(lo, m.Mark), max(hi, m.Mark)
	}
	if !q.MarksQuiet(last.Symbol, lo, hi) {
		return false
	}
	c.begin(marks[0].Time)
	defer c.end(ctx)
	if err := c.feed.ApplyMark(last); err != nil {
		c.log.Debug("venue mark", "symbol", last.Symbol, "err", err)
	}
	s.mkt.OnMark(last.Time, last)
	n := len(marks)
	c.om.OnMarks(last.Symbol, prices[:n], eqs[:n])
	for i, m := range marks {
		if m.Time.After(c.now) {
			c.now = m.Time
		}
		c.observeEquityAt(eqs[i])
	}
	return true
}

// OnKline applies a closed kline (backtests from kline files) and runs the
// strategy on it, then on every longer configured candle it completed
// (market.Symbol.AggregateKline).
func (c *Core) OnKline(ctx context.Context, now time.Time, k trading.Kline) {
	if !c.begin(now) {
		return
	}
	defer c.end(ctx)
	s := c.symbol(k.Symbol)
	if s == nil {
		if err := c.mkt.OnKline(now, k); err != nil {
			c.log.Debug("kline ignored", "symbol", k.Symbol, "err", err)
		}
		return
	}
	if err := s.mkt.OnKline(now, k); err != nil {
		c.log.Debug("kline ignored", "symbol", k.Symbol, "err", err)
		return
	}
	// Copy: a fill delivered during the first run would reuse the buffer.
	var buf [4]trading.Kline
	longer := append(buf[:0], s.mkt.AggregateKline(k)...)
	c.run(ctx, s, strategy.Event{Kind: strategy.EventCandle, Symbol: s.name, Candle: k})
	for _, lk := range longer {
		c.run(ctx, s, strategy.Event{Kind: strategy.EventCandle, Symbol: s.name, Candle: lk})
	}
}

// OnTimer closes candles whose interval has ended, runs every strategy's
// timer, updates the breakers and reports the account. Call it about once
// a second (live) or per replay step (backtest).
func (c *Core) OnTimer(ctx context.Context, now time.Time) {
	if !c.begin(now) {
		return
	}
	defer c.end(ctx)
	for _, s := range c.order {
		var buf [4]trading.Kline
		candles := append(buf[:0], s.mkt.Advance(now)...)
		for _, k := range candles {
			c.run(ctx, s, strategy.Event{Kind: strategy.EventCandle, Symbol: s.name, Candle: k})
		}
		c.run(ctx, s, strategy.Event{Kind: strategy.EventTimer, Symbol: s.name})
	}
	c.observeEquity()
	c.reportAccount()
}

// OnOrderReport feeds the venue's view of an order (a private WebSocket
// push, or a local venue's event). Called while the Core is processing
// another input (a local venue reporting during Place), it is queued and
// applied before that input returns.
func (c *Core) OnOrderReport(ctx context.Context, now time.Time, r ordermanager.Report) {
	if c.busy {
		c.queue = append(c.queue, r)
		return
	}
	c.begin(now)
	defer c.end(ctx)
	c.applyReport(r)
}

func (c *Core) applyReport(r ordermanager.Report) {
	c.dirty = true
	if err := c.om.OnOrderReport(r); err != nil {
		c.log.Warn("order report", "clientId", r.ClientID, "orderId", r.OrderID, "err", err)
	}
	if r.Status.Final() {
		delete(c.cancels, r.ClientID)
	}
}

// OnFunding books a funding payment (positive received).
func (c *Core) OnFunding(ctx context.Context, now time.Time, symbol string, amount fixed.Value) {
	if c.busy {
		// A paper venue settles funding inside the mark it is given.
		c.fundings = append(c.fundings, funding{symbol, amount})
		return
	}
	c.begin(now)
	defer c.end(ctx)
	c.applyFunding(funding{symbol, amount})
}

// funding is a payment waiting for the end of the current Core call.
type funding struct {
	symbol string
	amount fixed.Value
}

func (c *Core) applyFunding(f funding) {
	if err := c.om.OnFunding(f.symbol, f.amount); err != nil {
		c.setFatal(err)
	}
	c.observeEquity()
}

// OnBalance records the venue's balance (push or query).
func (c *Core) OnBalance(b ordermanager.BalanceReport) { c.om.OnBalance(b) }

// deliverFills refreshes positions, feeds equity to the breakers and tells
// each fill's strategy.
func (c *Core) deliverFills(ctx context.Context) {
	// Two buffers: fills the strategies' orders cause while these are
	// delivered go to the other one.
	fills := c.fills
	c.fills = c.spareFills[:0]
	c.dirty = true
	c.refreshPositions()
	c.observeEquity()
	logInfo := c.log.Enabled(ctx, slog.LevelInfo)
	for _, f := range fills {
		if logInfo { // the arguments allocate even for a discarding handler
			c.log.Info("fill", "symbol", f.Symbol, "side", f.Side.String(), "qty", f.Qty.String(), "price", f.Price.String(),
				"fee", f.Fee.String(), "maker", f.Maker, "clientId", f.ClientID)
		}
		if s := c.symbol(f.Symbol); s != nil {
			c.run(ctx, s, strategy.Event{Kind: strategy.EventFill, Symbol: s.name, Fill: f})
		}
	}
	clear(fills)
	c.spareFills = fills[:0]
	c.reportAccount()
}

func (c *Core) refreshPositions() {
	c.positions = c.om.Positions()
	for _, s := range c.order {
		s.pos = strategy.Position{}
	}
	for _, p := range c.positions {
		if s := c.symbol(p.Symbol); s != nil {
			s.pos = strategy.Position{Qty: p.Qty, EntryPrice: p.AvgEntry}
		}
	}
}

// refreshOrders rebuilds every symbol's open-order view from the order
// manager, only when something may have changed.
func (c *Core) refreshOrders() {
	if !c.dirty {
		return
	}
	c.dirty = false
	for _, s := range c.order {
		s.orders = s.orders[:0]
		s.open = s.open[:0]
	}
	c.openBuf = c.om.AppendOpenOrders(c.openBuf[:0])
	for _, o := range c.openBuf {
		s := c.symbol(o.Intent.Symbol)
		if s == nil {
			continue
		}
		rem := o.Intent.Qty - o.FilledQty
		s.orders = append(s.orders, strategy.Order{
			ClientID: o.ClientID, Side: o.Intent.Side, Type: o.Intent.Type, Price: o.Intent.Price,
			Qty: rem, ReduceOnly: o.Intent.ReduceOnly, Tag: o.Intent.Tag, PendingCancel: c.cancels[o.ClientID],
		})
		in := o.Intent
		in.Qty = rem
		s.open = append(s.open, in)
	}
}

func (c *Core) equity() fixed.Value { return c.om.Equity() }

// observeEquity feeds equity to the loss breakers and persists the risk
// state when a breaker or the day changed.
func (c *Core) observeEquity() { c.observeEquityAt(c.equity()) }

// observeEquityAt is observeEquity given the order manager's equity.
func (c *Core) observeEquityAt(eq fixed.Value) {
	day := risk.UnixDay(c.now)
	if c.obsValid && eq == c.obsEq && day == c.obsDay {
		return
	}
	c.gate.Observe(c.now, eq)
	c.persistRisk()
	c.obsDay, c.obsEq, c.obsValid = day, eq, true
}

func (c *Core) persistRisk() {
	// The persisted key changes only with a breaker flag or the gate's day,
	// which follows the days of the times it is given: a cheap key of the
	// flags and the current day skips the Snapshot (it allocates) when
	// neither moved since the last full look.
	cheap := persistedKey{day: risk.UnixDay(c.now)}
	// A new equity peak is saved once it is 0.1% above the saved one: after
	// a crash the drawdown breaker then measures from at most 0.1% below
	// the true peak, at the cost of a write per 0.1% of new highs.
	peak := c.gate.PeakEquity()
	peakMoved := peak > c.savedPeak+c.savedPeak.DivInt(1000)
	if c.riskKeyValid && !c.gate.Tripped() && cheap == c.riskKey && !peakMoved {
		return // the common case: nothing tripped, same day, no new high
	}
	c.breakerBuf = c.gate.Breakers(c.breakerBuf[:0])
	for _, b := range c.breakerBuf {
		switch b.Breaker {
		case risk.BreakerKill:
			cheap.kill = b.Tripped
		case risk.BreakerDailyLoss:
			cheap.daily = b.Tripped
		case risk.BreakerDrawdown:
			cheap.dd = b.Tripped
		}
	}
	if c.riskKeyValid && cheap == c.riskKey && !peakMoved {
		return
	}
	st := c.gate.Snapshot()
	k := keyOf(st)
	// The gate's day never passes the current one and moves only to it, so
	// once they agree, only a new current day can move it again.
	c.riskKey, c.riskKeyValid = k, true
	if k == c.persisted && !peakMoved {
		return
	}
	if c.saveRisk(st) != nil {
		return
	}
	for _, b := range c.breakers {
		if b.Tripped {
			c.log.Warn("breaker tripped", "breaker", b.Name, "detail", b.Detail)
		}
	}
}

// saveRisk journals st, the gate's state, publishes its breakers (left in
// c.breakers) and notes it as the persisted state. A failed write stops
// new entries.
func (c *Core) saveRisk(st risk.State) error {
	c.breakers = c.gate.Breakers(c.breakers[:0])
	c.obs.Breakers(c.breakers)
	if err := c.saveState(riskStateKey, st); err != nil {
		c.setFatal(err)
		return err
	}
	c.persisted, c.savedPeak = keyOf(st), st.PeakEquity
	return nil
}

func (c *Core) saveState(key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	if err := c.store.PutState(key, b); err != nil {
		return fmt.Errorf("persist %s: %w", key, err)
	}
	return nil
}

func (c *Core) setFatal(err error) {
	if c.fatal == nil {
		c.fatal = err
		c.log.Error("engine stopped taking orders", "err", err)
	}
}

// storeTap remembers the first failed write, so the Core stops taking
// orders once memory may run ahead of the journal.
type storeTap struct {
	ordermanager.Store
	c *Core
}

func (t storeTap) note(err error) error {
	if err != nil {
		t.c.setFatal(err)
	}
	return err
}

func (t storeTap) CreateOrder(prefix string, build func(seq uint64) (journal.OrderRecord, error)) (journal.OrderRecord, error) {
	r, err := t.Store.CreateOrder(prefix, build)
	return r, t.note(err)
}
func (t storeTap) PutOrder(r journal.OrderRecord) error { return t.note(t.Store.PutOrder(r)) }
func (t storeTap) PutState(k string, v []byte) error    { return t.note(t.Store.PutState(k, v)) }
func (t storeTap) PutOrderAndState(r journal.OrderRecord, k string, v []byte) error {
	return t.note(t.Store.PutOrderAndState(r, k, v))
}

// symbol is the traded symbol's state, nil if it is not traded. A bot
// trades a few symbols: comparing names beats hashing them (and a binary
// search's callback: 7% of a backtest's trade, BenchmarkEngineTrades).
func (c *Core) symbol(name string) *symbolState {
	for _, s := range c.order {
		if s.name == name {
			return s
		}
	}
	return nil
}

// run gives one event to a symbol's strategy and carries out its output.
func (c *Core) run(ctx context.Context, s *symbolState, ev strategy.Event) {
	if int(ev.Kind) < len(s.wants) && !s.wants[ev.Kind] {
		return
	}
	if ev.Kind == strategy.EventCandle && s.candles != nil && !s.candles.WantsCandle(ev.Candle.Interval) {
		return
	}
	c.refreshOrders()
	view := strategy.View{Market: s.mkt, Position: s.pos, Equity: c.equity(), Orders: s.orders, Spec: s.spec}
	out := s.strat.OnEvent(c.now, ev, view)
	if out.Empty() {
		return
	}
	for _, cid := range out.Cancel {
		c.cancel(ctx, cid)
	}
	for _, in := range out.Place {
		c.submit(ctx, s, in)
	}
}

func (c *Core) cancel(ctx context.Context, clientID string) {
	if c.cancels[clientID] || !c.Leading() {
		return // a standby changes nothing on the account
	}
	o, err := c.om.Order(clientID)
	if err != nil || !o.Open() {
		return
	}
	c.cancels[clientID] = true
	c.dirty = true
	ref := ordermanager.OrderRef{Symbol: o.Intent.Symbol, ClientID: o.ClientID, OrderID: o.ExchangeID}
	if err := c.venue.Cancel(ctx, ref); err != nil {
		if errors.Is(err, ordermanager.ErrNotFound) {
			// Gone already: a lookup settles it rather than guessing.
			if rep, lerr := c.venue.OrderByClientID(ctx, clientID); lerr == nil {
				c.queue = append(c.queue, rep)
			}
			return
		}
		delete(c.cancels, clientID) // let the strategy try again
		c.log.Warn("cancel failed", "clientId", clientID, "err", err)
	}
}

func (c *Core) submit(ctx context.Context, s *symbolState, in trading.Intent) {
	log := DecisionLog{Time: c.now, Symbol: in.Symbol, Side: in.Side.String(), Type: in.Type.String(),
		Price: in.Price, Qty: in.Qty, ReduceOnly: in.ReduceOnly, Tag: in.Tag}
	if in.Symbol == "" {
		in.Symbol = s.name
		log.Symbol = s.name
	}
	if !c.Leading() {
		why := c.standbyWhy
		if !c.standby {
			why = "leadership lost"
		}
		log.Verdict, log.Reason = risk.Refuse.String(), why
		c.obs.Decision(in.Symbol, risk.Refuse, risk.ReasonNone)
		c.logDecision(log)
		return
	}
	if c.term != nil {
		ctx = c.term // orders go out only under the leadership context
	}
	// Halts (drift, shutdown, a fatal journal error) stop new exposure;
	// closing risk stays possible, as reduce-only, and still passes the
	// gate.
	st := c.accountState(s)
	halted := c.halt.Halted || c.stopping || c.fatal != nil
	if halted && in.Qty > risk.Reducible(in, st) {
		why := c.halt.Reason
		switch {
		case c.fatal != nil:
			why = "journal failure"
		case c.stopping:
			why = "shutting down"
		}
		log.Verdict, log.Reason = risk.Refuse.String(), "halted: "+why
		c.obs.Decision(in.Symbol, risk.Refuse, risk.ReasonNone)
		c.logDecision(log)
		return
	}
	if c.fatal != nil {
		log.Verdict, log.Reason = risk.Refuse.String(), "halted: journal failure"
		c.logDecision(log)
		return
	}
	if halted {
		in.ReduceOnly = true
	}
	d := c.gate.Check(c.now, in, st)
	c.obsValid = false // Check observed equity itself
	c.persistRisk()
	c.obs.Decision(in.Symbol, d.Verdict, d.Reason)
	log.Verdict = d.Verdict.String()
	if d.Reason != risk.ReasonNone {
		log.Reason = d.Reason.String()
	}
	if !d.Approved() {
		c.logDecision(log)
		return
	}
	in.Qty = d.Qty
	if d.ReduceOnly {
		in.ReduceOnly = true
	}
	// The order path's one rounding point: whatever a strategy or the gate
	// computed, the exchange sees lot and tick multiples, never rounded
	// toward more risk (quantities down, limit prices away from the
	// market), within the symbol's limits.
	if err := fitToSpec(&in, s.spec); err != nil {
		log.Verdict, log.Reason = risk.Refuse.String(), err.Error()
		c.logDecision(log)
		return
	}
	log.Approved = in.Qty
	log.ReduceOnly = in.ReduceOnly
	if c.cfg.Stopwatch != nil {
		c.obs.TickToOrder(in.Symbol, c.cfg.Stopwatch().Sub(c.t0))
	}
	c.dirty = true
	rec, err := c.om.Submit(ctx, in)
	log.ClientID = rec.ClientID
	log.Result = rec.Status.String()
	switch {
	case err != nil:
	case c.log.Enabled(ctx, slog.LevelInfo): // the arguments allocate even for a discarding handler
		c.log.Info("order placed", "symbol", in.Symbol, "side", in.Side.String(), "type", in.Type.String(),
			"qty", in.Qty.String(), "price", in.Price.String(), "reduceOnly", in.ReduceOnly, "tag", in.Tag,
			"clientId", rec.ClientID, "status", rec.Status.String())
	}
	if err != nil {
		log.Result = err.Error()
		var rej *ordermanager.Rejected
		if errors.As(err, &rej) {
			c.log.Info("order rejected", "symbol", in.Symbol, "side", in.Side.String(), "qty", in.Qty.String(), "code", rej.Code, "reason", rej.Reason)
		} else {
			c.log.Warn("order not settled", "symbol", in.Symbol, "side", in.Side.String(), "qty", in.Qty.String(), "err", err)
		}
	}
	c.logDecision(log)
}

// fitToSpec rounds an approved intent to the instrument's lot and tick and
// checks its limits. A reduce-only intent is not refused for the symbol's
// trading status: closing risk stays possible.
func fitToSpec(in *trading.Intent, spec *instrument.Spec) error {
	if spec == nil {
		return nil
	}
	in.Qty = spec.RoundQty(in.Qty)
	if in.Type == trading.Limit {
		in.Price = spec.RoundPricePassive(in.Price, int(in.Side)) // Buy +1, Sell -1
	}
	chk := *spec
	if in.ReduceOnly {
		chk.Status = ""
	}
	if err := chk.Check(in.Qty, in.Price, in.Type == trading.Market); err != nil {
		return fmt.Errorf("instrument: %w", err)
	}
	return nil
}

func (c *Core) accountState(s *symbolState) risk.AccountState {
	st := risk.AccountState{Equity: c.equity(), Position: s.pos.Qty, Spec: s.spec, MarketData: marketDataTime(s.mkt)}
	for _, o := range s.open {
		if o.Side == trading.Buy {
			st.OpenBuyQty += o.Qty
		} else {
			st.OpenSellQty += o.Qty
		}
	}
	st.Price = refPrice(s.mkt)
	for _, o := range c.order {
		if o.pos.Qty != 0 {
			px := refPrice(o.mkt)
			if px == 0 {
				px = o.pos.EntryPrice
			}
			st.TotalNotional += o.pos.Qty.Abs().Mul(px)
		}
	}
	return st
}

// marketDataTime is how fresh the data an order is priced on is: the
// book's last update when the symbol receives books, so a live mark or
// trade feed cannot hide a dead depth feed; the freshest stream otherwise
// (a backtest from candles has no books).
func marketDataTime(m *market.Symbol) time.Time {
	if t := m.LastUpdate(market.StreamBook); !t.IsZero() {
		return t
	}
	return m.Freshest()
}

// refPrice is the mark, else the last trade, else the mid.
func refPrice(m *market.Symbol) fixed.Value {
	if mp, ok := m.Mark(); ok && mp.Mark > 0 {
		return mp.Mark
	}
	if p, ok := m.Last(); ok && p > 0 {
		return p
	}
	if p, ok := m.Mid(); ok {
		return p
	}
	return 0
}

func (c *Core) logDecision(d DecisionLog) {
	if len(c.decisions) < cap(c.decisions) {
		c.decisions = append(c.decisions, d)
		return
	}
	c.decisions[c.decNext] = d
	c.decNext = (c.decNext + 1) % len(c.decisions)
}

func (c *Core) reportAccount() {
	eq := c.equity()
	a := AccountSnapshot{Equity: eq, PnL: c.om.PnL(), Positions: c.positions}
	if start := c.gate.DayStartEquity(); start > 0 {
		a.DailyPnL = eq - start
	}
	if peak := c.gate.PeakEquity(); peak > eq {
		a.Drawdown = peak - eq
	}
	for _, s := range c.order {
		a.OpenOrders += len(s.orders)
	}
	c.obs.Account(a)
}

// Reconcile reconciles the order manager with the venue (at start, after
// every reconnect, periodically) and halts new entries on unexplained
// drift. It returns the result and the joined venue errors.
func (c *Core) Reconcile(ctx context.Context, now time.Time) (ordermanager.ReconcileResult, error) {
	c.begin(now)
	defer c.end(ctx)
	start := c.stopwatch()
	res, err := c.om.Reconcile(ctx)
	c.dirty = true
	c.refreshPositions()
	c.observeEquity()
	c.obs.Reconciled(res, c.stopwatch().Sub(start), err)
	// A standby (and a new leader reconciling before its first order)
	// takes the venue's word: differences are the leader's doing.
	for _, d := range res.Drifts {
		if d.Unexplained() && c.Leading() {
			c.Halt(now, fmt.Sprintf("unexplained drift: %s %s %s (local %s, venue %s)", d.Kind, d.Symbol, d.ClientID, d.Local, d.Venue))
			break
		}
	}
	return res, err
}

func (c *Core) stopwatch() time.Time {
	if c.cfg.Stopwatch != nil {
		return c.cfg.Stopwatch()
	}
	return c.now
}

// Halt stops new entries (reducing orders still pass the gate) until
// Resume; the halt survives restarts.
func (c *Core) Halt(now time.Time, reason string) {
	if c.halt.Halted {
		return
	}
	c.halt = Halt{Halted: true, Reason: reason, Since: now}
	c.log.Warn("new entries halted", "reason", reason)
	c.obs.Halted(true, reason)
	if err := c.saveState(haltStateKey, c.halt); err != nil {
		c.setFatal(err)
	}
}

// Kill engages the risk gate's kill switch (operator command).
func (c *Core) Kill(now time.Time, reason string) {
	if now.After(c.now) {
		c.now = now
	}
	c.gate.Kill(now, reason)
	c.obsValid, c.riskKeyValid = false, false
	c.log.Warn("kill switch engaged", "reason", reason)
	c.persistRisk()
}

// Resume releases the kill switch, the drawdown breaker and a drift halt
// (the daily-loss breaker clears only at the next UTC day).
func (c *Core) Resume(now time.Time) {
	if now.After(c.now) {
		c.now = now
	}
	c.gate.Resume(c.now)
	c.obsValid, c.riskKeyValid = false, false
	c.persistRisk()
	if c.halt.Halted {
		c.halt = Halt{Resumed: c.now}
		c.obs.Halted(false, "")
		if err := c.saveState(haltStateKey, c.halt); err != nil {
			c.setFatal(err)
		}
	}
	c.log.Info("trading resumed")
}

// Lead opens the submit path for a leadership term: orders go out under
// term (cancelled the moment leadership is lost) with epoch in their client
// ids. The caller reconciles with the venue first. Owner goroutine only.
func (c *Core) Lead(term context.Context, epoch uint64) {
	c.om.SetEpoch(epoch)
	c.term = term
	c.standby = false
	c.log.Info("leading: submissions enabled", "epoch", epoch)
}

// Unlead shuts the submit path at once (leadership lost or given up):
// intents are refused with reason as the decision's reason. Owner goroutine
// only.
func (c *Core) Unlead(reason string) {
	wasLeading := c.Leading()
	c.standby, c.standbyWhy, c.term = true, reason, nil
	if wasLeading {
		c.log.Info("standby: submissions disabled", "reason", reason, "epoch", c.om.Epoch())
	}
}

// Leading reports whether the submit path is open: not a standby and the
// term, if any, not over. Owner goroutine only.
func (c *Core) Leading() bool {
	return !c.standby && (c.term == nil || c.term.Err() == nil)
}

// StopEntries refuses every new entry from now on (shutdown); reducing
// orders still go through.
func (c *Core) StopEntries() { c.stopping = true }

// Flush writes the risk state and any coalesced ledger changes to the
// store whatever changed (shutdown).
func (c *Core) Flush() error {
	if err := c.om.FlushLedger(); err != nil {
		return fmt.Errorf("engine flush: %w", err)
	}
	st := c.gate.Snapshot()
	if err := c.saveState(riskStateKey, st); err != nil {
		return err
	}
	c.persisted, c.savedPeak = keyOf(st), st.PeakEquity
	return nil
}

// Status is a snapshot for /status. Owner goroutine only.
func (c *Core) Status() Status {
	c.refreshOrders()
	st := c.gate.Snapshot()
	eq := c.equity()
	s := Status{
		Time: c.now, Halt: c.halt, Stopping: c.stopping, Leading: c.Leading(), Equity: eq,
		Breakers:   c.gate.Breakers(nil),
		Orders:     c.om.Status(),
		Strategies: map[string]string{},
		Market:     map[string]MarketSnapshot{},
	}
	if st.DayStartEquity > 0 {
		s.DailyPnL = eq - st.DayStartEquity
	}
	if st.PeakEquity > eq {
		s.Drawdown = st.PeakEquity - eq
	}
	if len(c.decisions) == cap(c.decisions) {
		s.Decisions = append(s.Decisions, c.decisions[c.decNext:]...)
		s.Decisions = append(s.Decisions, c.decisions[:c.decNext]...)
	} else {
		s.Decisions = append(s.Decisions, c.decisions...)
	}
	for _, sym := range c.order {
		s.Strategies[sym.name] = sym.strat.Name()
		var ms MarketSnapshot
		if l, ok := sym.mkt.BestBid(); ok {
			ms.Bid = l.Price
		}
		if l, ok := sym.mkt.BestAsk(); ok {
			ms.Ask = l.Price
		}
		ms.Last, _ = sym.mkt.Last()
		if m, ok := sym.mkt.Mark(); ok {
			ms.Mark = m.Mark
		}
		ms.Updated = sym.mkt.Freshest()
		s.Market[sym.name] = ms
	}
	return s
}
