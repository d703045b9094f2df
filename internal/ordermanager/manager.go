// Package ordermanager turns approved intents into orders on a venue, tracks
// them to a final state, keeps positions and PnL, and reconciles all of it
// with the venue.
//
// The decisions live in pure code (Apply for the order state machine, Ledger
// for positions); Manager is the edge that carries them out: it journals,
// consults the fence, calls the venue and feeds the results back in.
// Guarantees (design invariants 2 and 3): an intent is journaled with fsync
// before it is sent; a place request is sent at most once per client id; an
// unclear outcome is resolved by looking the client id up, never by sending
// again.
package ordermanager

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/journal"
	"github.com/bitrader/bitrader/internal/trading"
)

// Store is the durable part the manager needs; *journal.Journal implements it.
type Store interface {
	CreateOrder(prefix string, build func(seq uint64) (journal.OrderRecord, error)) (journal.OrderRecord, error)
	PutOrder(r journal.OrderRecord) error
	Order(clientID string) (journal.OrderRecord, error)
	Orders(openOnly bool) ([]journal.OrderRecord, error)
	PutState(key string, value []byte) error
	GetState(key string) ([]byte, error)
	// PutOrderAndState writes an order record and a state blob atomically
	// (one transaction): a fill is on the order record and in the ledger
	// snapshot together, or in neither.
	PutOrderAndState(r journal.OrderRecord, key string, value []byte) error
}

// ForeignPolicy says what reconciliation does with open venue orders that
// do not carry our prefix (placed by hand or by another tool).
type ForeignPolicy int8

// Foreign order policies. The zero value leaves them alone.
const (
	ForeignIgnore ForeignPolicy = iota // count them, touch nothing
	ForeignAdopt                       // track them like our own
	ForeignCancel                      // cancel them
)

// ledgerStateKey is the journal state key of the positions/PnL snapshot.
const ledgerStateKey = "ordermanager/ledger"

// Config configures a Manager.
type Config struct {
	// Prefix identifies this account/bot in client ids (ValidatePrefix).
	Prefix string
	// Epoch is the leadership epoch embedded in client ids; 1 without HA.
	// SetEpoch changes it when a new term starts.
	Epoch uint64
	// Fence is asked before every Place; nil means AlwaysAllow.
	Fence Fence
	// Now is the clock; required (time is injected).
	Now func() time.Time
	// Foreign is the policy for venue orders without our prefix.
	Foreign ForeignPolicy
	// StartBalance seeds the ledger if the journal has no snapshot. On a
	// LiveAccount venue it is the exchange's balance at start and wins over
	// a snapshot's (see adoptStartBalance).
	StartBalance fixed.Value
	// BalanceTolerance is how far the venue's balance may differ from the
	// ledger's cash before reconciliation rebases the ledger (LiveAccount
	// venues only). Default 0.01.
	BalanceTolerance fixed.Value
	// LookupGrace: reconciliation settles an unanswered order as never sent
	// only when the venue does not know it and it is older than this, so an
	// order the venue has not indexed yet is not given up too early.
	// Default 5s.
	LookupGrace time.Duration
	// AmbiguousLookupGrace replaces LookupGrace for an order whose place call
	// itself was ambiguous (timeout, reset, 5xx: Ambiguous is set). Such a
	// request may sit in a stressed exchange's queue and show up long after
	// the lookup first missed it; settled too early, the order leaves the
	// strategy's open orders, the strategy may send the same intent again,
	// and both can end up live. Until settled it stays open (Submitted) for
	// the strategy. Default 2m; never shorter than LookupGrace.
	AmbiguousLookupGrace time.Duration
	// LookupTimeout bounds the client-id lookup after an ambiguous place,
	// which runs even if the submit context was cancelled. Default 5s.
	LookupTimeout time.Duration
	// RecentEvents is how many events Status keeps; default 50.
	RecentEvents int
	// LedgerSnapshotEvery coalesces the ledger snapshot (positions, fees,
	// funding, PnL) written to the store. Zero (live) writes it after every
	// fill and funding payment, because the order record already holds the
	// filled quantity: a fill booked in memory but not in a snapshot would
	// not be booked again after a crash. A positive value writes it at most
	// once per that much event time, plus at FlushLedger and Reconcile;
	// a negative value only at FlushLedger and Reconcile. Backtests use a
	// negative value (their store is memory; the venue is the truth).
	LedgerSnapshotEvery time.Duration
	Observer            Observer
	Logger              *slog.Logger
}

// Manager is the order manager for one account. Methods are safe for
// concurrent use; venue calls are made without holding the lock.
type Manager struct {
	cfg   Config
	venue Venue
	store Store
	obs   Observer
	log   *slog.Logger
	// epoch is the current term's epoch (cfg.Epoch at start, then
	// SetEpoch); read once per Submit so id and fence agree.
	epoch atomic.Uint64

	mu       sync.Mutex
	orders   map[string]*OrderRecord // open orders plus recent final ones, by key
	inflight map[string]bool         // client ids with a Place in progress
	ledger   *Ledger
	// totals caches ledger.Totals() until the ledger changes (a fill,
	// funding, a new mark on an open position, reconciliation): equity is
	// read on every strategy call.
	totals      PnL
	totalsOK    bool
	ledgerDirty bool      // changes not yet in the store's snapshot
	ledgerSaved time.Time // event time of the last snapshot
	balance     BalanceReport
	events      []EventLog // ring buffer
	evNext      int
	drift       DriftTotals
	// draft is the order Submit is journaling (under mu) and numberDraft,
	// bound once in New, completes it with its sequence: a closure per
	// Submit was an allocation on the order path.
	draft       journal.OrderRecord
	numberDraft func(seq uint64) (journal.OrderRecord, error)
	// spare holds records PruneFinal dropped, for putLocked to reuse: every
	// pointer into m.orders is used under mu and copied out, never kept.
	spare []*OrderRecord
	// acct is the live-account bookkeeping (accounting.go).
	acct liveAccounting
}

// EventLog is one line of the recent-events list shown on /status.
type EventLog struct {
	Time     time.Time `json:"time"`
	ClientID string    `json:"clientId,omitempty"`
	What     string    `json:"what"`
	// OrderID is the exchange's id where the event gave one (accepted):
	// a field rather than part of What so the order path builds no string.
	OrderID string `json:"orderId,omitempty"`
}

// New builds a Manager and restores open orders and the ledger from store.
func New(cfg Config, venue Venue, store Store) (*Manager, error) {
	if err := ValidatePrefix(cfg.Prefix); err != nil {
		return nil, fmt.Errorf("ordermanager config: %w", err)
	}
	if cfg.Now == nil {
		return nil, errors.New("ordermanager config: Now clock is required")
	}
	if venue == nil || store == nil {
		return nil, errors.New("ordermanager: venue and store are required")
	}
	if cfg.Fence == nil {
		cfg.Fence = AlwaysAllow{}
	}
	if cfg.LookupGrace <= 0 {
		cfg.LookupGrace = 5 * time.Second
	}
	if cfg.AmbiguousLookupGrace <= 0 {
		cfg.AmbiguousLookupGrace = 2 * time.Minute
	}
	cfg.AmbiguousLookupGrace = max(cfg.AmbiguousLookupGrace, cfg.LookupGrace)
	if cfg.LookupTimeout <= 0 {
		cfg.LookupTimeout = 5 * time.Second
	}
	if cfg.RecentEvents <= 0 {
		cfg.RecentEvents = 50
	}
	if cfg.BalanceTolerance <= 0 {
		cfg.BalanceTolerance = defaultBalanceTolerance
	}
	if cfg.Observer == nil {
		cfg.Observer = NopObserver{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	m := &Manager{
		cfg: cfg, venue: venue, store: store, obs: cfg.Observer, log: cfg.Logger,
		orders:   map[string]*OrderRecord{},
		inflight: map[string]bool{},
		ledger:   NewLedger(cfg.StartBalance),
		events:   make([]EventLog, 0, cfg.RecentEvents),
	}
	m.numberDraft = m.numberedDraft
	if lv, ok := venue.(LiveAccount); ok {
		m.acct.live = lv.LiveAccount()
	}
	m.epoch.Store(cfg.Epoch)
	open, err := store.Orders(true)
	if err != nil {
		return nil, fmt.Errorf("ordermanager: restore open orders: %w", err)
	}
	for i := range open {
		m.orders[open[i].ClientID] = &open[i]
	}
	blob, err := store.GetState(ledgerStateKey)
	switch {
	case err == nil:
		l := NewLedger(0)
		if err := json.Unmarshal(blob, l); err != nil {
			return nil, fmt.Errorf("ordermanager: decode ledger snapshot: %w", err)
		}
		if l.Positions == nil {
			l.Positions = map[string]*Position{}
		}
		m.ledger = l
		m.adoptStartBalance(cfg.StartBalance)
	case errors.Is(err, journal.ErrNotFound):
	default:
		return nil, fmt.Errorf("ordermanager: restore ledger: %w", err)
	}
	return m, nil
}

func (m *Manager) now() time.Time { return m.cfg.Now() }

// SetEpoch sets the leadership epoch for orders submitted from now on (a
// new term). Client ids carry it, and the fence is asked about it.
func (m *Manager) SetEpoch(epoch uint64) {
	if m.epoch.Swap(epoch) != epoch {
		m.mu.Lock()
		m.logEvent("", "epoch "+strconv.FormatUint(epoch, 10))
		m.mu.Unlock()
	}
}

// Epoch is the epoch new orders are submitted under.
func (m *Manager) Epoch() uint64 { return m.epoch.Load() }

// logEvent appends to the ring buffer; m.mu must be held.
func (m *Manager) logEvent(clientID, what string) { m.logOrderEvent(clientID, what, "") }

func (m *Manager) logOrderEvent(clientID, what, orderID string) {
	e := EventLog{Time: m.now(), ClientID: clientID, What: what, OrderID: orderID}
	if len(m.events) < cap(m.events) {
		m.events = append(m.events, e)
		return
	}
	m.events[m.evNext] = e
	m.evNext = (m.evNext + 1) % len(m.events)
}

// validate refuses intents that can never be valid orders.
func validate(in trading.Intent) error {
	switch {
	case in.Symbol == "":
		return errors.New("intent without symbol")
	case in.Side != trading.Buy && in.Side != trading.Sell:
		return fmt.Errorf("intent %s: invalid side %d", in.Symbol, in.Side)
	case in.Type != trading.Limit && in.Type != trading.Market:
		return fmt.Errorf("intent %s: invalid order type %d", in.Symbol, in.Type)
	case in.Qty <= 0:
		return fmt.Errorf("intent %s: quantity %s must be positive", in.Symbol, in.Qty)
	case in.Type == trading.Limit && in.Price <= 0:
		return fmt.Errorf("intent %s: limit price %s must be positive", in.Symbol, in.Price)
	}
	return nil
}

// numberedDraft is draft with its sequence and client id; m.mu is held.
func (m *Manager) numberedDraft(seq uint64) (journal.OrderRecord, error) {
	r := m.draft
	r.Seq = seq
	r.ClientID = FormatClientID(m.cfg.Prefix, r.Epoch, seq)
	return r, nil
}

// asRejected is errors.As in a function of its own, so that the target
// escapes to the heap only when there is an error to look at.
func asRejected(err error, dst *Rejected) bool {
	var rej *Rejected
	if err == nil || !errors.As(err, &rej) {
		return false
	}
	*dst = *rej
	return true
}

// Submit places an approved intent: client id, journal (fsync), fence,
// Place, then settle the reply. It returns the order's state. Errors: a
// *Rejected for a definite refusal; ErrFenced; ErrAmbiguous (wrapped) when
// the outcome is still unknown and reconciliation will settle it; journal
// errors, in which case nothing was sent.
func (m *Manager) Submit(ctx context.Context, in trading.Intent) (OrderRecord, error) {
	if err := validate(in); err != nil {
		return OrderRecord{}, fmt.Errorf("submit: %w", err)
	}
	epoch := m.epoch.Load()
	if !m.cfg.Fence.Allowed(epoch) {
		m.obs.OrderSubmitted(Order{Intent: in}, OutcomeFenced)
		return OrderRecord{}, fmt.Errorf("submit %s %s: %w", in.Symbol, in.Side, ErrFenced)
	}
	now := m.now()
	// Journaling, registering and marking in flight happen under one lock so
	// that reconciliation never sees this order half-registered.
	m.mu.Lock()
	m.draft = journal.OrderRecord{Epoch: epoch, Intent: in, Status: trading.StatusPending, Created: now, Updated: now}
	rec, err := m.store.CreateOrder(m.cfg.Prefix, m.numberDraft)
	if err != nil {
		m.mu.Unlock()
		return OrderRecord{}, fmt.Errorf("submit %s: %w", in.Symbol, err)
	}
	cid := rec.ClientID
	m.putLocked(cid, rec)
	m.inflight[cid] = true
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		delete(m.inflight, cid)
		m.mu.Unlock()
	}()
	order := Order{ClientID: cid, Intent: in}

	// The fence is checked again immediately before the wire: leadership may
	// have been lost while journaling.
	if !m.cfg.Fence.Allowed(epoch) || ctx.Err() != nil {
		cause := ErrFenced
		outcome := OutcomeFenced
		if ctx.Err() == nil {
			m.obs.OrderSubmitted(order, outcome)
		} else {
			cause = ctx.Err()
		}
		st, _ := m.apply(cid, Event{Kind: EvNotSent, Time: m.now()}, "not sent: "+cause.Error())
		return st, fmt.Errorf("submit %s: %w", cid, cause)
	}
	if _, err := m.apply(cid, Event{Kind: EvSent, Time: m.now()}, ""); err != nil {
		return OrderRecord{}, err
	}

	ack, perr := m.venue.Place(ctx, order)
	var rej Rejected
	switch {
	case perr == nil:
		m.obs.OrderSubmitted(order, OutcomeAccepted)
		st, err := m.apply(cid, Event{Kind: EvAccepted, Time: m.now(), OrderID: ack.OrderID}, "accepted")
		return st, err
	case asRejected(perr, &rej):
		m.obs.OrderSubmitted(order, OutcomeRejected)
		m.obs.OrderRejected(in.Symbol, rej.Code)
		st, err := m.apply(cid, Event{Kind: EvRejected, Time: m.now(), Code: rej.Code, Reason: rej.Reason},
			fmt.Sprintf("rejected %d %s", rej.Code, rej.Reason))
		if err != nil {
			return st, err
		}
		return st, fmt.Errorf("submit %s: %w", cid, perr)
	}

	// Duplicate or ambiguous: the order may exist. Look it up, even if ctx
	// is done, because knowing beats guessing; never send again.
	outcome := OutcomeResolved
	if errors.Is(perr, ErrDuplicateClientID) {
		outcome = OutcomeDuplicate
	}
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.cfg.LookupTimeout)
	defer cancel()
	rep, lerr := m.venue.OrderByClientID(lctx, cid)
	if lerr == nil {
		m.obs.OrderSubmitted(order, outcome)
		st, err := m.applyReport(cid, rep, outcome)
		return st, err
	}
	m.obs.OrderSubmitted(order, OutcomeAmbiguous)
	st, err := m.apply(cid, Event{Kind: EvAmbiguous, Time: m.now()},
		fmt.Sprintf("ambiguous: place: %v; lookup: %v", perr, lerr))
	if err != nil {
		return st, err
	}
	return st, fmt.Errorf("submit %s: %w: place: %w; lookup: %w", cid, ErrAmbiguous, perr, lerr)
}

// apply runs one event through the state machine for a tracked order,
// journals a change, and books any fill. what (if not empty) goes to the
// recent events.
func (m *Manager) apply(key string, ev Event, what string) (OrderRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.applyLocked(key, ev, what)
}

func (m *Manager) applyReport(key string, r Report, what string) (OrderRecord, error) {
	return m.apply(key, Event{Kind: EvReport, Time: m.now(), Report: r}, what+" "+r.Status.String())
}

func (m *Manager) applyLocked(key string, ev Event, what string) (OrderRecord, error) {
	cur, ok := m.orders[key]
	if !ok {
		return OrderRecord{}, fmt.Errorf("order %s is not tracked", key)
	}
	step, err := Apply(*cur, ev)
	if err != nil {
		m.obs.IllegalTransition(ev.Kind)
		m.log.Warn("order event ignored", "clientId", key, "event", ev.Kind.String(), "err", err)
		m.logEvent(key, "ignored "+ev.Kind.String()+": "+err.Error())
		return *cur, nil
	}
	if !step.Changed {
		return *cur, nil
	}
	filled := step.Fill.Qty != 0 || step.Fill.Fee != 0
	switch {
	case ev.Kind == EvSent:
		// Send-path states are not journaled: Pending already is, and on
		// restart Pending means "maybe sent", which is what Submitted means too.
	case filled && m.snapshotDueLocked():
		// A fill whose snapshot is due now goes to disk with its order
		// record in one transaction: a crash between two writes would leave
		// the fill on the record (never derived again) but not in the ledger.
		if err := m.putOrderAndFillLocked(step); err != nil {
			return *cur, fmt.Errorf("journal order %s after %s: %w", key, ev.Kind, err)
		}
	default:
		if err := m.store.PutOrder(step.Order); err != nil {
			// Keep memory as it was so memory never runs ahead of disk.
			return *cur, fmt.Errorf("journal order %s after %s: %w", key, ev.Kind, err)
		}
		if filled { // the snapshot is not due: it is coalesced
			m.ledger.ApplyFill(step.Fill)
			m.ledgerChangedLocked()
		}
	}
	*cur = step.Order
	if what != "" {
		m.logOrderEvent(key, what, ev.OrderID)
	}
	if filled {
		m.obs.OrderFilled(step.Fill)
		m.logEvent(key, fillEvent(step.Fill))
	}
	return *cur, nil
}

// putOrderAndFillLocked books step's fill in the ledger and writes the order
// record and the ledger snapshot in one store transaction. On failure the
// ledger is restored, so memory never runs ahead of disk.
func (m *Manager) putOrderAndFillLocked(step Step) error {
	sym := step.Fill.Symbol
	prev, had := m.ledger.Positions[sym]
	var saved Position
	if had {
		saved = *prev
	}
	m.ledger.ApplyFill(step.Fill)
	b, err := json.Marshal(m.ledger)
	if err != nil {
		err = fmt.Errorf("encode ledger: %w", err)
	} else {
		err = m.store.PutOrderAndState(step.Order, ledgerStateKey, b)
	}
	if err != nil {
		if had {
			*m.ledger.Positions[sym] = saved
		} else {
			delete(m.ledger.Positions, sym)
		}
		return err
	}
	m.totalsOK = false
	m.ledgerDirty = false
	m.ledgerSaved = m.now()
	return nil
}

// fillEvent is the recent-events line of a fill, built without fmt.
func fillEvent(f trading.Fill) string {
	b := make([]byte, 0, 80)
	b = append(b, "fill "...)
	b = append(b, f.Side.String()...)
	b = append(b, ' ')
	b = f.Qty.AppendText(b)
	b = append(b, " @ "...)
	b = f.Price.AppendText(b)
	b = append(b, " fee "...)
	b = f.Fee.AppendText(b)
	return string(b)
}

// ledgerChangedLocked notes a ledger change: totals must be recomputed and
// the snapshot rewritten.
func (m *Manager) ledgerChangedLocked() {
	m.totalsOK = false
	m.ledgerDirty = true
}

// maybeSaveLedgerLocked writes the snapshot as LedgerSnapshotEvery says.
func (m *Manager) maybeSaveLedgerLocked() error {
	if !m.snapshotDueLocked() {
		return nil
	}
	return m.saveLedgerLocked()
}

// snapshotDueLocked reports whether a ledger change now must be written now,
// as LedgerSnapshotEvery says.
func (m *Manager) snapshotDueLocked() bool {
	every := m.cfg.LedgerSnapshotEvery
	switch {
	case every == 0:
		return true
	case every < 0:
		return false
	}
	return m.now().Sub(m.ledgerSaved) >= every
}

// FlushLedger writes the ledger snapshot if it changed since the last one
// (shutdown, and the Core's Flush).
func (m *Manager) FlushLedger() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.ledgerDirty {
		return nil
	}
	return m.saveLedgerLocked()
}

func (m *Manager) saveLedgerLocked() error {
	b, err := json.Marshal(m.ledger)
	if err != nil {
		return fmt.Errorf("encode ledger: %w", err)
	}
	if err := m.store.PutState(ledgerStateKey, b); err != nil {
		return fmt.Errorf("snapshot ledger: %w", err)
	}
	m.ledgerDirty = false
	m.ledgerSaved = m.now()
	return nil
}

// OnOrderReport feeds a private WS order push (or any venue report). Orders
// with our prefix that we do not track (a crash between send and journal, or
// an order that already left memory) are looked up in the journal or
// adopted. Foreign orders are left to reconciliation.
func (m *Manager) OnOrderReport(r Report) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := keyOf(r)
	if _, ok := m.orders[key]; !ok {
		if !IsOurs(r.ClientID, m.cfg.Prefix) {
			return nil
		}
		if err := m.trackLocked(r); err != nil {
			return err
		}
	}
	_, err := m.applyLocked(key, Event{Kind: EvReport, Time: m.now(), Report: r}, "report "+r.Status.String())
	return err
}

// putLocked tracks rec under key in a recycled record if there is one.
func (m *Manager) putLocked(key string, rec OrderRecord) {
	var p *OrderRecord
	if n := len(m.spare); n > 0 {
		p, m.spare = m.spare[n-1], m.spare[:n-1]
	} else {
		p = new(OrderRecord)
	}
	*p = rec
	m.orders[key] = p
}

// trackLocked brings an untracked order into memory: from the journal if it
// is there, else as an adopted order (journaled at once).
func (m *Manager) trackLocked(r Report) error {
	key := keyOf(r)
	rec, err := m.store.Order(key)
	switch {
	case err == nil:
		m.putLocked(key, rec)
		return nil
	case !errors.Is(err, journal.ErrNotFound):
		return fmt.Errorf("look up %s in journal: %w", key, err)
	}
	rec = recordFromReport(r, m.now())
	rec.ClientID = key
	if err := m.store.PutOrder(rec); err != nil {
		return fmt.Errorf("adopt %s: %w", key, err)
	}
	m.putLocked(key, rec)
	m.logEvent(key, "adopted from venue")
	return nil
}

// OnFunding books a funding payment (positive received).
func (m *Manager) OnFunding(symbol string, amount fixed.Value) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ledger.ApplyFunding(symbol, amount)
	m.ledgerChangedLocked()
	m.logEvent("", fmt.Sprintf("funding %s %s", symbol, amount))
	return m.maybeSaveLedgerLocked()
}

// OnMarkEquity updates a mark price for unrealised PnL (memory only; not
// worth an fsync per tick) and returns Equity, under one lock: the
// engine's path for every mark.
func (m *Manager) OnMarkEquity(symbol string, price fixed.Value) fixed.Value {
	m.mu.Lock()
	m.markLocked(symbol, price)
	eq := m.totalsLocked().Equity
	m.mu.Unlock()
	return eq
}

// OnMarks is OnMarkEquity for each price in turn, under one lock: it
// writes the equity after each mark to eqs (as long as prices).
func (m *Manager) OnMarks(symbol string, prices, eqs []fixed.Value) {
	m.mu.Lock()
	for i, price := range prices {
		m.markLocked(symbol, price)
		eqs[i] = m.totalsLocked().Equity
	}
	m.mu.Unlock()
}

func (m *Manager) markLocked(symbol string, price fixed.Value) {
	// Only an open position's mark moves equity; the cache survives the
	// rest (and the mark is memory-only, so the snapshot is not dirtied).
	if p, ok := m.ledger.Positions[symbol]; ok && p.Mark != price {
		if p.Qty != 0 && m.totalsOK {
			// Totals sums each position's Unrealized: swapping this one's
			// old term for its new one keeps the cache exact.
			d := -p.Unrealized()
			p.Mark = price
			d += p.Unrealized()
			m.totals.Unrealized += d
			m.totals.Equity += d
		}
		p.Mark = price
	}
}

// OnBalance records a balance push or query.
func (m *Manager) OnBalance(b BalanceReport) {
	m.mu.Lock()
	m.balance = b
	m.mu.Unlock()
}

// OpenOrders lists tracked non-final orders, oldest first.
func (m *Manager) OpenOrders() []OrderRecord {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.openLocked()
}

func (m *Manager) openLocked() []OrderRecord { return m.appendOpenLocked(nil) }

// AppendOpenOrders appends the tracked non-final orders, oldest first, to
// dst (the engine reuses one buffer instead of allocating per refresh).
func (m *Manager) AppendOpenOrders(dst []OrderRecord) []OrderRecord {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.appendOpenLocked(dst)
}

func (m *Manager) appendOpenLocked(dst []OrderRecord) []OrderRecord {
	n := len(dst)
	for _, o := range m.orders {
		if o.Open() {
			dst = append(dst, *o)
		}
	}
	slices.SortFunc(dst[n:], func(a, b OrderRecord) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ClientID, b.ClientID)
	})
	return dst
}

// Order returns a tracked order by client id (or journaled, if not in
// memory).
func (m *Manager) Order(clientID string) (OrderRecord, error) {
	m.mu.Lock()
	o, ok := m.orders[clientID]
	var cp OrderRecord
	if ok {
		cp = *o
	}
	m.mu.Unlock()
	if ok {
		return cp, nil
	}
	return m.store.Order(clientID)
}

// Positions returns the local positions.
func (m *Manager) Positions() []Position {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ledger.List()
}

// PnL returns the ledger totals.
func (m *Manager) PnL() PnL {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.totalsLocked()
}

// Equity is PnL().Equity.
func (m *Manager) Equity() fixed.Value {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.totalsLocked().Equity
}

func (m *Manager) totalsLocked() PnL {
	if !m.totalsOK {
		m.totals = m.ledger.Totals()
		m.totalsOK = true
	}
	return m.totals
}

// Status is a snapshot for /status.
type Status struct {
	Prefix     string        `json:"prefix"`
	Epoch      uint64        `json:"epoch"`
	Positions  []Position    `json:"positions"`
	OpenOrders []OrderRecord `json:"openOrders"`
	PnL        PnL           `json:"pnl"`
	Balance    BalanceReport `json:"balance"`
	Drift      DriftTotals   `json:"drift"`
	Recent     []EventLog    `json:"recent"` // oldest first
}

// Status returns a consistent snapshot.
func (m *Manager) Status() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	recent := make([]EventLog, 0, len(m.events))
	if len(m.events) == cap(m.events) {
		recent = append(recent, m.events[m.evNext:]...)
		recent = append(recent, m.events[:m.evNext]...)
	} else {
		recent = append(recent, m.events...)
	}
	return Status{
		Prefix: m.cfg.Prefix, Epoch: m.epoch.Load(),
		Positions: m.ledger.List(), OpenOrders: m.openLocked(), PnL: m.totalsLocked(),
		Balance: m.balance, Drift: m.drift, Recent: recent,
	}
}

// CancelAll asks the venue to cancel every open order we track (shutdown,
// kill switch). Confirmation comes through reports; it returns the joined
// errors of the cancels that failed.
func (m *Manager) CancelAll(ctx context.Context) error {
	var errs []error
	for _, o := range m.OpenOrders() {
		ref := OrderRef{Symbol: o.Intent.Symbol, ClientID: o.ClientID, OrderID: o.ExchangeID}
		if noClientID(o) {
			ref.ClientID = ""
		}
		if err := m.venue.Cancel(ctx, ref); err != nil && !errors.Is(err, ErrNotFound) {
			errs = append(errs, fmt.Errorf("cancel %s: %w", o.ClientID, err))
		}
	}
	return errors.Join(errs...)
}

// PruneFinal drops final orders from memory (they stay in the journal), so
// memory does not grow with history. The lead calls it periodically.
func (m *Manager) PruneFinal() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for k, o := range m.orders {
		if !o.Open() && !m.inflight[k] {
			delete(m.orders, k)
			*o = OrderRecord{}
			m.spare = append(m.spare, o)
			n++
		}
	}
	return n
}
