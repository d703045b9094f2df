package matching

import (
	"fmt"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/trading"
)

type tpsl struct {
	id      uint64
	acct    *accountState
	in      *instr
	posID   uint64
	side    trading.Side // position side
	kind    TPSLKind
	posMode PositionMode
	lev     int
	tp, sl  Trigger
	status  TPSLStatus
	child   uint64
	created time.Time
	updated time.Time
	trig    time.Time
}

func (t *tpsl) snapshot(s *TPSL) {
	*s = TPSL{
		ID: t.id, Account: t.acct.id, Symbol: t.in.sym(), PositionID: t.posID, Side: t.side, Kind: t.kind,
		PositionMode: t.posMode, Leverage: t.lev, TP: t.tp, SL: t.sl, Status: t.status, ChildOrderID: t.child,
		Created: t.created, Updated: t.updated, TriggerTime: t.trig,
	}
}

// checkTrigger validates one trigger for a position on side, against ref
// (0 = no reference, only precision is checked).
func (in *instr) checkTrigger(side trading.Side, ref fixed.Value, t Trigger, takeProfit bool) error {
	if !t.Set() {
		if t.Price < 0 {
			return fmt.Errorf("%s trigger price %s: %w", in.sym(), t.Price, ErrTPSLInvalid)
		}
		return nil
	}
	what := "stop-loss"
	if takeProfit {
		what = "take-profit"
	}
	if t.Price%in.tick != 0 {
		return fmt.Errorf("%s %s price %s (tick %s): %w", in.sym(), what, t.Price, in.tick, ErrPrecision)
	}
	switch t.OrderType {
	case 0, trading.Market:
	case trading.Limit:
		if t.OrderPrice <= 0 || t.OrderPrice%in.tick != 0 {
			return fmt.Errorf("%s %s limit price %s: %w", in.sym(), what, t.OrderPrice, ErrTPSLInvalid)
		}
	default:
		return fmt.Errorf("%s %s order type %d: %w", in.sym(), what, t.OrderType, ErrTPSLInvalid)
	}
	if t.StopType != MarkPrice && t.StopType != LastPrice {
		return fmt.Errorf("%s %s stop type %d: %w", in.sym(), what, t.StopType, ErrTPSLInvalid)
	}
	if t.Qty < 0 || t.Qty%in.step != 0 {
		return fmt.Errorf("%s %s qty %s: %w", in.sym(), what, t.Qty, ErrPrecision)
	}
	if ref > 0 {
		// A long's take-profit is above the reference and its stop below.
		above := (side == trading.Buy) == takeProfit
		if (above && t.Price <= ref) || (!above && t.Price >= ref) {
			return fmt.Errorf("%s %s %s for a %s position is on the wrong side of %s: %w", in.sym(), what, t.Price, side, ref, ErrTPSLInvalid)
		}
	}
	return nil
}

// checkTriggers validates tp/sl attached to an order opening side at price
// (0 for market: the best opposite price or the mark is the reference).
func (e *Engine) checkTriggers(in *instr, side trading.Side, price fixed.Value, tp, sl Trigger) error {
	if !tp.Set() && !sl.Set() && tp.Price == 0 && sl.Price == 0 {
		return nil
	}
	ref := price
	if ref == 0 {
		if p, ok := in.bestOpp(side); ok {
			ref = p
		} else {
			ref = in.mark
		}
	}
	if err := in.checkTrigger(side, ref, tp, true); err != nil {
		return err
	}
	return in.checkTrigger(side, ref, sl, false)
}

func (e *Engine) newTPSL(a *accountState, p *position, kind TPSLKind, tp, sl Trigger, ts time.Time) *tpsl {
	e.tpslSeq++
	t := &tpsl{
		id: e.tpslSeq, acct: a, in: p.in, posID: p.id, side: p.side, kind: kind, posMode: p.posMode,
		lev: p.lev, tp: tp, sl: sl, created: ts, updated: ts,
	}
	p.in.tpsl = append(p.in.tpsl, t)
	e.emitTPSL(t, ActionCreate, ts)
	return t
}

// attachTPSL creates (first fill) or grows (later fills) the TP/SL that an
// order's tp/sl fields ask for, covering the filled qty.
func (e *Engine) attachTPSL(o *order, p *position, qty fixed.Value, ts time.Time) {
	if o.tpslID != 0 {
		for _, t := range o.in.tpsl {
			if t.id == o.tpslID && t.posID == p.id {
				if t.tp.Set() {
					t.tp.Qty += qty
				}
				if t.sl.Set() {
					t.sl.Qty += qty
				}
				t.updated = ts
				e.emitTPSL(t, ActionUpdate, ts)
				return
			}
		}
	}
	tp, sl := o.tp, o.sl
	if tp.Set() {
		tp.Qty = qty
	}
	if sl.Set() {
		sl.Qty = qty
	}
	o.tpslID = e.newTPSL(o.acct, p, KindTPSL, tp, sl, ts).id
}

// endTPSL moves t out of the pending list with status.
func (e *Engine) endTPSL(t *tpsl, status TPSLStatus, ts time.Time) {
	e.endTPSLQuiet(t)
	t.status = status
	t.updated = ts
	var s TPSL
	t.snapshot(&s)
	e.histTPSL.push(s)
	e.emitTPSL(t, ActionClose, ts)
}

// cancelTPSLOf cancels the pending TP/SL of a closed position.
func (e *Engine) cancelTPSLOf(p *position, ts time.Time) {
	for i := 0; i < len(p.in.tpsl); {
		if t := p.in.tpsl[i]; t.posID == p.id && t.acct == p.acct {
			e.endTPSL(t, TPSLCanceled, ts)
			continue
		}
		i++
	}
}

// hit returns the trigger of t that price (of stop type st) fires, if any.
func (t *tpsl) hit(st StopType, price fixed.Value) (Trigger, bool) {
	long := t.side == trading.Buy
	if t.tp.Set() && t.tp.StopType == st && ((long && price >= t.tp.Price) || (!long && price <= t.tp.Price)) {
		return t.tp, true
	}
	if t.sl.Set() && t.sl.StopType == st && ((long && price <= t.sl.Price) || (!long && price >= t.sl.Price)) {
		return t.sl, true
	}
	return Trigger{}, false
}

// HasTriggers reports whether a TP/SL waits on symbol (prints or marks
// could then place an order).
func (e *Engine) HasTriggers(symbol string) bool {
	in, err := e.instr(symbol)
	return err == nil && len(in.tpsl) > 0
}

// fireTriggers fires pending TP/SL on in that price reaches, in id order.
func (e *Engine) fireTriggers(in *instr, st StopType, price fixed.Value, ts time.Time) {
	if len(in.tpsl) == 0 {
		return
	}
	fired := append(e.scratchT[:0], in.tpsl...)
	for _, t := range fired {
		if t.status != TPSLNew {
			continue // cancelled by an earlier trigger closing the position
		}
		trig, ok := t.hit(st, price)
		if !ok {
			continue
		}
		e.fire(t, trig, ts)
	}
	clear(fired)
	e.scratchT = fired[:0]
}

// fire places t's child order: reduce-only, MARKET or LIMIT, for the
// trigger qty (the whole position for a position TP/SL or a zero qty).
func (e *Engine) fire(t *tpsl, trig Trigger, ts time.Time) {
	a := t.acct
	var p *position
	for _, x := range a.positions {
		if x.id == t.posID {
			p = x
		}
	}
	t.trig = ts
	if p == nil {
		e.endTPSL(t, TPSLCanceled, ts)
		return
	}
	qty := trig.Qty
	if t.kind == KindPositionTPSL || qty <= 0 {
		qty = p.qty
	}
	typ := trig.OrderType
	if typ == 0 || t.kind == KindPositionTPSL {
		typ = trading.Market
	}
	req := OrderRequest{
		Account: a.id, Symbol: t.in.sym(), Side: p.side.Opposite(), Type: typ, Qty: qty,
		ReduceOnly: true, TradeSide: Close, PositionID: p.id,
	}
	if typ == trading.Limit {
		req.Price = trig.OrderPrice
	}
	// The TP/SL leaves the pending list before its child runs, so the
	// child closing the position does not cancel it.
	e.endTPSLQuiet(t)
	o, err := e.place(req, ts)
	status := TPSLFilled
	if err != nil {
		status = TPSLCanceled
	} else {
		t.child = o.id
		if o.status.Final() {
			e.release(o)
		}
	}
	t.status = status
	t.updated = ts
	var s TPSL
	t.snapshot(&s)
	e.histTPSL.push(s)
	e.emitTPSL(t, ActionClose, ts)
}

// endTPSLQuiet removes t from the pending list without recording it.
func (e *Engine) endTPSLQuiet(t *tpsl) {
	in := t.in
	for i, x := range in.tpsl {
		if x == t {
			copy(in.tpsl[i:], in.tpsl[i+1:])
			in.tpsl[len(in.tpsl)-1] = nil
			in.tpsl = in.tpsl[:len(in.tpsl)-1]
			return
		}
	}
}

// tpslRef is the price a new trigger is checked against.
func tpslRef(in *instr, p *position, st StopType) fixed.Value {
	if st == LastPrice && in.last > 0 {
		return in.last
	}
	if st == MarkPrice && in.mark > 0 {
		return in.mark
	}
	return p.entry
}

func (e *Engine) validateTPSL(in *instr, p *position, kind TPSLKind, tp, sl Trigger) (Trigger, Trigger, error) {
	if !tp.Set() && !sl.Set() {
		return tp, sl, fmt.Errorf("%s position %d: no trigger price: %w", in.sym(), p.id, ErrTPSLInvalid)
	}
	if kind == KindPositionTPSL {
		tp = Trigger{Price: tp.Price, StopType: tp.StopType}
		sl = Trigger{Price: sl.Price, StopType: sl.StopType}
	}
	if err := in.checkTrigger(p.side, tpslRef(in, p, tp.StopType), tp, true); err != nil {
		return tp, sl, err
	}
	if err := in.checkTrigger(p.side, tpslRef(in, p, sl.StopType), sl, false); err != nil {
		return tp, sl, err
	}
	return tp, sl, nil
}

func (e *Engine) tpslTarget(req TPSLRequest) (*accountState, *instr, *position, error) {
	a, err := e.account(req.Account)
	if err != nil {
		return nil, nil, nil, err
	}
	in, err := e.instr(req.Symbol)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, p := range a.positions {
		if p.id == req.PositionID && p.in == in {
			return a, in, p, nil
		}
	}
	return nil, nil, nil, fmt.Errorf("tp/sl on %s position %d of %q: %w", req.Symbol, req.PositionID, req.Account, ErrPositionNotFound)
}

// PlaceTPSL places a TP/SL on a position (Kind says position or partial).
// A position TP/SL is refused if one is already pending; modify it instead.
func (e *Engine) PlaceTPSL(req TPSLRequest, ts time.Time) (TPSL, error) {
	a, in, p, err := e.tpslTarget(req)
	if err != nil {
		return TPSL{}, err
	}
	if req.Kind != KindTPSL && req.Kind != KindPositionTPSL {
		return TPSL{}, fmt.Errorf("tp/sl kind %d: %w", req.Kind, ErrBadRequest)
	}
	tp, sl, err := e.validateTPSL(in, p, req.Kind, req.TP, req.SL)
	if err != nil {
		return TPSL{}, err
	}
	if req.Kind == KindPositionTPSL {
		for _, t := range in.tpsl {
			if t.posID == p.id && t.kind == KindPositionTPSL {
				return TPSL{}, fmt.Errorf("position tp/sl on position %d exists (id %d): %w", p.id, t.id, ErrTPSLInvalid)
			}
		}
	}
	var out TPSL
	e.newTPSL(a, p, req.Kind, tp, sl, ts).snapshot(&out)
	return out, nil
}

// ModifyTPSL replaces both triggers of a pending TP/SL found by req.ID, or
// for KindPositionTPSL with a zero ID by req.PositionID.
func (e *Engine) ModifyTPSL(req TPSLRequest, ts time.Time) (TPSL, error) {
	a, err := e.account(req.Account)
	if err != nil {
		return TPSL{}, err
	}
	var t *tpsl
	for _, in := range e.instrs {
		if req.Symbol != "" && in.sym() != req.Symbol {
			continue
		}
		for _, x := range in.tpsl {
			if x.acct == a && ((req.ID != 0 && x.id == req.ID) || (req.ID == 0 && req.Kind == KindPositionTPSL && x.kind == KindPositionTPSL && x.posID == req.PositionID)) {
				t = x
			}
		}
	}
	if t == nil {
		return TPSL{}, fmt.Errorf("tp/sl %d (position %d) of %q: %w", req.ID, req.PositionID, req.Account, ErrOrderNotFound)
	}
	var p *position
	for _, x := range a.positions {
		if x.id == t.posID {
			p = x
		}
	}
	if p == nil {
		return TPSL{}, fmt.Errorf("tp/sl %d: position %d: %w", t.id, t.posID, ErrPositionNotFound)
	}
	tp, sl, err := e.validateTPSL(t.in, p, t.kind, req.TP, req.SL)
	if err != nil {
		return TPSL{}, err
	}
	t.tp, t.sl, t.updated = tp, sl, ts
	e.emitTPSL(t, ActionUpdate, ts)
	var out TPSL
	t.snapshot(&out)
	return out, nil
}

// CancelTPSL cancels a pending TP/SL (symbol optional).
func (e *Engine) CancelTPSL(account, symbol string, id uint64, ts time.Time) (TPSL, error) {
	a, err := e.account(account)
	if err != nil {
		return TPSL{}, err
	}
	for _, in := range e.instrs {
		if symbol != "" && in.sym() != symbol {
			continue
		}
		for _, t := range in.tpsl {
			if t.id == id && t.acct == a {
				e.endTPSL(t, TPSLCanceled, ts)
				var out TPSL
				t.snapshot(&out)
				return out, nil
			}
		}
	}
	return TPSL{}, fmt.Errorf("tp/sl %d of %q: %w", id, account, ErrOrderNotFound)
}

// PendingTPSL lists pending TP/SL orders (symbol and positionID optional
// filters), in id order.
func (e *Engine) PendingTPSL(account, symbol string, positionID uint64) []TPSL {
	var out []TPSL
	for _, in := range e.instrs {
		if symbol != "" && in.sym() != symbol {
			continue
		}
		for _, t := range in.tpsl {
			if t.acct.id == account && (positionID == 0 || t.posID == positionID) {
				var s TPSL
				t.snapshot(&s)
				out = append(out, s)
			}
		}
	}
	slicesSortTPSL(out)
	return out
}

func slicesSortTPSL(ts []TPSL) {
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && ts[j].ID < ts[j-1].ID; j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}

// HistoryTPSL lists finished TP/SL orders (symbol optional), newest first.
func (e *Engine) HistoryTPSL(account, symbol string) []TPSL {
	var out []TPSL
	e.histTPSL.newestFirst(func(t *TPSL) bool {
		if t.Account == account && (symbol == "" || t.Symbol == symbol) {
			out = append(out, *t)
		}
		return true
	})
	return out
}
