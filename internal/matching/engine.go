package matching

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/trading"
)

// Engine is the exchange: instruments, books, accounts. Not safe for
// concurrent use; callers serialise.
type Engine struct {
	sink     Sink
	ev       Event // reused for every event
	defMode  MarginMode
	histLim  int
	instrs   []*instr
	bySymbol map[string]*instr
	accounts []*accountState // creation order, for deterministic iteration
	byAcct   map[string]*accountState
	open     map[uint64]*order

	orderSeq, tradeSeq, posSeq, tpslSeq uint64

	freeOrders []*order
	histOrders ring[Order]
	histFills  ring[Fill]
	histPos    ring[Position]
	histTPSL   ring[TPSL]

	scratch  []*order // reused lists
	scratchT []*tpsl
	scratchP []*position
	sweeps   []sweep
}

// instr is one symbol's book and market state.
type instr struct {
	cfg       InstrumentConfig
	idx       int
	tick      fixed.Value
	step      fixed.Value
	extBids   extSide
	extAsks   extSide
	bids      bookSide
	asks      bookSide
	mark      fixed.Value
	last      fixed.Value
	positions []*position // open, id order
	tpsl      []*tpsl     // pending, id order
}

func (in *instr) sym() string { return in.cfg.Spec.Symbol }

// refPrice is the price unrealised PnL and funding use: mark, else last.
func (in *instr) refPrice() fixed.Value {
	if in.mark > 0 {
		return in.mark
	}
	return in.last
}

type setting struct {
	lev  int
	mode MarginMode
}

type accountState struct {
	id          string
	wallet      fixed.Value
	frozenIso   fixed.Value
	frozenCross fixed.Value
	marginIso   fixed.Value
	marginCross fixed.Value
	posMode     PositionMode
	settings    []setting // by instr idx; lev 0 = default
	openOrders  []int     // open order count by instr idx
	reduceOpen  []int     // open reduce-only/close order count by instr idx
	clientIDs   map[string]uint64
	positions   []*position // open, id order
}

// New builds an engine with cfg's instruments. sink may be nil.
func New(cfg Config, sink Sink) (*Engine, error) {
	e := &Engine{
		sink:     sink,
		defMode:  cfg.DefaultMarginMode,
		histLim:  cfg.HistoryLimit,
		bySymbol: make(map[string]*instr),
		byAcct:   make(map[string]*accountState),
		open:     make(map[uint64]*order),
	}
	if e.defMode == 0 {
		e.defMode = Cross
	}
	if e.defMode != Cross && e.defMode != Isolation {
		return nil, fmt.Errorf("matching: default margin mode %d: %w", cfg.DefaultMarginMode, ErrBadRequest)
	}
	if e.histLim <= 0 {
		e.histLim = 10000
	}
	e.histOrders.limit, e.histFills.limit, e.histPos.limit, e.histTPSL.limit = e.histLim, e.histLim, e.histLim, e.histLim
	for _, ic := range cfg.Instruments {
		if err := e.AddInstrument(ic); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// AddInstrument adds a symbol, or replaces its configuration when nothing
// is open on it.
func (e *Engine) AddInstrument(ic InstrumentConfig) error {
	s := ic.Spec
	if s.Symbol == "" || s.BasePrecision < 0 || s.BasePrecision > fixed.Scale || s.QuotePrecision < 0 || s.QuotePrecision > fixed.Scale {
		return fmt.Errorf("matching: instrument %q precision %d/%d: %w", s.Symbol, s.BasePrecision, s.QuotePrecision, ErrBadRequest)
	}
	if ic.MakerFee < 0 && -ic.MakerFee > ic.TakerFee {
		return fmt.Errorf("matching: instrument %s: maker rebate larger than taker fee: %w", s.Symbol, ErrBadRequest)
	}
	if in, ok := e.bySymbol[s.Symbol]; ok {
		if len(in.positions) > 0 || in.bids.best() != nil || in.asks.best() != nil {
			return fmt.Errorf("matching: replace instrument %s: %w", s.Symbol, ErrHasOpenOrders)
		}
		in.cfg, in.tick, in.step = ic, s.Tick(), s.LotStep()
		return nil
	}
	in := &instr{cfg: ic, idx: len(e.instrs), tick: s.Tick(), step: s.LotStep()}
	in.bids.side, in.asks.side = trading.Buy, trading.Sell
	e.instrs = append(e.instrs, in)
	e.bySymbol[s.Symbol] = in
	for _, a := range e.accounts {
		a.grow(len(e.instrs))
	}
	return nil
}

// Instrument returns a symbol's configuration.
func (e *Engine) Instrument(symbol string) (InstrumentConfig, bool) {
	in, ok := e.bySymbol[symbol]
	if !ok {
		return InstrumentConfig{}, false
	}
	return in.cfg, true
}

// Symbols lists configured symbols in the order they were added.
func (e *Engine) Symbols() []string {
	out := make([]string, len(e.instrs))
	for i, in := range e.instrs {
		out[i] = in.sym()
	}
	return out
}

func (e *Engine) instr(symbol string) (*instr, error) {
	if len(e.instrs) <= 4 { // a paper or backtest venue: comparing beats hashing
		for _, in := range e.instrs {
			if in.sym() == symbol {
				return in, nil
			}
		}
		return nil, fmt.Errorf("symbol %q: %w", symbol, ErrUnknownSymbol)
	}
	in, ok := e.bySymbol[symbol]
	if !ok {
		return nil, fmt.Errorf("symbol %q: %w", symbol, ErrUnknownSymbol)
	}
	return in, nil
}

// accountOn looks up an account and an instrument together, for the
// per-symbol settings calls.
func (e *Engine) accountOn(account, symbol string) (*accountState, *instr, error) {
	a, err := e.account(account)
	if err != nil {
		return nil, nil, err
	}
	in, err := e.instr(symbol)
	return a, in, err
}

func (e *Engine) account(id string) (*accountState, error) {
	a, ok := e.byAcct[id]
	if !ok {
		return nil, fmt.Errorf("account %q: %w", id, ErrAccountNotFound)
	}
	return a, nil
}

func (a *accountState) grow(n int) {
	for len(a.settings) < n {
		a.settings = append(a.settings, setting{})
		a.openOrders = append(a.openOrders, 0)
		a.reduceOpen = append(a.reduceOpen, 0)
	}
}

// setting returns the effective leverage and margin mode on in.
func (e *Engine) setting(a *accountState, in *instr) setting {
	s := a.settings[in.idx]
	if s.lev == 0 {
		s.lev = in.cfg.Spec.DefaultLeverage
		if s.lev <= 0 {
			s.lev = 1
		}
	}
	if s.mode == 0 {
		s.mode = e.defMode
	}
	return s
}

// OpenAccount creates an account with a USDT deposit. Refused if it exists.
func (e *Engine) OpenAccount(account string, deposit fixed.Value, ts time.Time) error {
	if account == "" || deposit < 0 {
		return fmt.Errorf("open account %q with %s: %w", account, deposit, ErrBadRequest)
	}
	if _, ok := e.byAcct[account]; ok {
		return fmt.Errorf("open account %q: already exists: %w", account, ErrBadRequest)
	}
	a := &accountState{id: account, wallet: deposit, clientIDs: make(map[string]uint64)}
	a.grow(len(e.instrs))
	e.accounts = append(e.accounts, a)
	e.byAcct[account] = a
	e.emitBalance(a, ts)
	return nil
}

// Deposit credits (or, negative, withdraws up to Available) USDT.
func (e *Engine) Deposit(account string, amount fixed.Value, ts time.Time) error {
	a, err := e.account(account)
	if err != nil {
		return err
	}
	if amount < 0 && -amount > e.available(a) {
		return fmt.Errorf("withdraw %s from %q: %w", -amount, account, ErrInsufficientBalance)
	}
	a.wallet += amount
	e.emitBalance(a, ts)
	return nil
}

func (a *accountState) hasOpenOrders(idx int) bool {
	if idx >= 0 {
		return a.openOrders[idx] > 0
	}
	for _, n := range a.openOrders {
		if n > 0 {
			return true
		}
	}
	return false
}

func (a *accountState) hasPositions(in *instr) bool {
	for _, p := range a.positions {
		if in == nil || p.in == in {
			return true
		}
	}
	return false
}

// SetPositionMode switches ONE_WAY/HEDGE; refused with any open order
// (ErrHasOpenOrders) or position (ErrHasPositions).
func (e *Engine) SetPositionMode(account string, mode PositionMode, ts time.Time) error {
	a, err := e.account(account)
	if err != nil {
		return err
	}
	if mode != OneWay && mode != Hedge {
		return fmt.Errorf("position mode %d: %w", mode, ErrBadRequest)
	}
	if a.posMode == mode {
		return nil
	}
	if a.hasPositions(nil) {
		return fmt.Errorf("change position mode of %q: %w", account, ErrHasPositions)
	}
	if a.hasOpenOrders(-1) {
		return fmt.Errorf("change position mode of %q: %w", account, ErrHasOpenOrders)
	}
	a.posMode = mode
	return nil
}

func (e *Engine) checkQuiet(a *accountState, in *instr, what string) error {
	if a.hasOpenOrders(in.idx) {
		return fmt.Errorf("change %s of %q on %s: %w", what, a.id, in.sym(), ErrHasOpenOrders)
	}
	if a.hasPositions(in) {
		return fmt.Errorf("change %s of %q on %s: %w", what, a.id, in.sym(), ErrHasPositions)
	}
	return nil
}

// SetLeverage sets a symbol's leverage within the spec's limits
// (ErrLeverage); refused with open orders or a position on the symbol.
func (e *Engine) SetLeverage(account, symbol string, leverage int, ts time.Time) error {
	a, in, err := e.accountOn(account, symbol)
	if err != nil {
		return err
	}
	sp := in.cfg.Spec
	if leverage < max(1, sp.MinLeverage) || (sp.MaxLeverage > 0 && leverage > sp.MaxLeverage) {
		return fmt.Errorf("leverage %d on %s (allowed %d..%d): %w", leverage, symbol, sp.MinLeverage, sp.MaxLeverage, ErrLeverage)
	}
	if e.setting(a, in).lev == leverage {
		return nil
	}
	if err := e.checkQuiet(a, in, "leverage"); err != nil {
		return err
	}
	a.settings[in.idx].lev = leverage
	return nil
}

// SetMarginMode sets a symbol's ISOLATION/CROSS mode; refused with open
// orders or a position on the symbol.
func (e *Engine) SetMarginMode(account, symbol string, mode MarginMode, ts time.Time) error {
	a, in, err := e.accountOn(account, symbol)
	if err != nil {
		return err
	}
	if mode != Isolation && mode != Cross {
		return fmt.Errorf("margin mode %d: %w", mode, ErrBadRequest)
	}
	if e.setting(a, in).mode == mode {
		return nil
	}
	if err := e.checkQuiet(a, in, "margin mode"); err != nil {
		return err
	}
	a.settings[in.idx].mode = mode
	return nil
}

// Settings returns an account's leverage and margin mode for a symbol.
func (e *Engine) Settings(account, symbol string) (Settings, error) {
	a, in, err := e.accountOn(account, symbol)
	if err != nil {
		return Settings{}, err
	}
	s := e.setting(a, in)
	return Settings{Symbol: symbol, Leverage: s.lev, MarginMode: s.mode}, nil
}

// PositionMode returns the account's position mode.
func (e *Engine) PositionMode(account string) (PositionMode, error) {
	a, err := e.account(account)
	if err != nil {
		return 0, err
	}
	return a.posMode, nil
}

func (e *Engine) available(a *accountState) fixed.Value {
	return a.wallet - a.marginIso - a.marginCross - a.frozenIso - a.frozenCross
}

// summary computes the account summary at the current marks.
func (e *Engine) summary(a *accountState) AccountSummary {
	s := AccountSummary{
		Account: a.id, Wallet: a.wallet, Available: e.available(a),
		IsolationFrozen: a.frozenIso, CrossFrozen: a.frozenCross, Frozen: a.frozenIso + a.frozenCross,
		IsolationMargin: a.marginIso, CrossMargin: a.marginCross, Margin: a.marginIso + a.marginCross,
		PositionMode: a.posMode,
	}
	for _, p := range a.positions {
		u := p.upnl()
		if p.mode == Cross {
			s.CrossUnrealizedPnL += u
		} else {
			s.IsolationUnrealizedPnL += u
		}
	}
	s.Equity = s.Wallet + s.CrossUnrealizedPnL + s.IsolationUnrealizedPnL
	return s
}

// Account returns the account summary at the last marks.
func (e *Engine) Account(account string) (AccountSummary, error) {
	a, err := e.account(account)
	if err != nil {
		return AccountSummary{}, err
	}
	return e.summary(a), nil
}

// Accounts lists account ids in creation order.
func (e *Engine) Accounts() []string {
	out := make([]string, len(e.accounts))
	for i, a := range e.accounts {
		out[i] = a.id
	}
	return out
}

// emit helpers. They do nothing without a sink, so a benchmark or backtest
// that does not listen pays nothing for snapshots.

func (e *Engine) emit(kind EventKind, act Action, acct string, ts time.Time) {
	e.ev.Kind, e.ev.Action, e.ev.Account, e.ev.Time = kind, act, acct, ts
	e.sink(&e.ev)
}

func (e *Engine) emitBalance(a *accountState, ts time.Time) {
	if e.sink == nil {
		return
	}
	e.ev.Balance = e.summary(a)
	e.emit(EventBalance, ActionUpdate, a.id, ts)
}

func (e *Engine) emitOrder(o *order, act Action, ts time.Time) {
	if e.sink == nil {
		return
	}
	o.snapshot(&e.ev.Order)
	e.emit(EventOrder, act, o.acct.id, ts)
}

func (e *Engine) emitPosition(p *position, act Action, ts time.Time) {
	if e.sink == nil {
		return
	}
	e.ev.Position = e.posSnapshot(p)
	e.emit(EventPosition, act, p.acct.id, ts)
}

func (e *Engine) emitTPSL(t *tpsl, act Action, ts time.Time) {
	if e.sink == nil {
		return
	}
	t.snapshot(&e.ev.TPSL)
	e.emit(EventTPSL, act, t.acct.id, ts)
}

// LastPrice returns the last print price (0 if none or unknown symbol).
func (e *Engine) LastPrice(symbol string) fixed.Value {
	if in, ok := e.bySymbol[symbol]; ok {
		return in.last
	}
	return 0
}

// Mark returns the last mark price (0 if none or unknown symbol).
func (e *Engine) Mark(symbol string) fixed.Value {
	if in, ok := e.bySymbol[symbol]; ok {
		return in.mark
	}
	return 0
}

// FundingDue reports whether a funding time (a multiple of interval since
// the Unix epoch, i.e. 00:00/08:00/16:00 UTC for 8h) lies in (prev, now].
func FundingDue(prev, now time.Time, interval time.Duration) bool {
	if interval <= 0 || !now.After(prev) {
		return false
	}
	return !NextFunding(prev, interval).After(now)
}

// NextFunding returns the first funding time strictly after t.
func NextFunding(t time.Time, interval time.Duration) time.Time {
	if interval <= 0 {
		return time.Time{}
	}
	ns := t.UnixNano()
	iv := int64(interval)
	next := (ns/iv + 1) * iv
	if ns < 0 && ns%iv != 0 {
		next = (ns / iv) * iv
	}
	return time.Unix(0, next).UTC()
}

// sortOrders sorts snapshots by id for deterministic listings.
func sortOrders(os []Order) {
	slices.SortFunc(os, func(a, b Order) int { return cmp.Compare(a.ID, b.ID) })
}
