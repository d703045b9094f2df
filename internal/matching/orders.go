package matching

import (
	"fmt"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/trading"
)

// order is an open order. Orders are recycled through a free list once
// closed; the closed state lives on as an Order snapshot in history.
type order struct {
	id         uint64
	clientID   string
	acct       *accountState
	in         *instr
	side       trading.Side
	typ        trading.OrderType
	tif        trading.TimeInForce
	price      fixed.Value
	qty        fixed.Value
	filled     fixed.Value
	notional   fixed.Value // sum of fill price*qty
	fee        fixed.Value
	rpnl       fixed.Value
	reduceOnly bool
	tradeSide  TradeSide
	reqPosID   uint64
	closing    bool         // reduces only: reduce-only, or hedge CLOSE
	closeSide  trading.Side // side of the position a closing order reduces
	status     trading.OrderStatus
	lev        int
	mode       MarginMode
	posMode    PositionMode
	tp, sl     Trigger
	tpslID     uint64      // TP/SL created from tp/sl when it filled
	frozen     fixed.Value // initial margin still reserved
	queueAhead fixed.Value // external qty ahead at this price
	lvl        *level
	created    time.Time
	updated    time.Time
}

func (o *order) remaining() fixed.Value { return o.qty - o.filled }

func (o *order) snapshot(s *Order) {
	*s = Order{
		ID: o.id, ClientID: o.clientID, Account: o.acct.id, Symbol: o.in.sym(),
		Side: o.side, Type: o.typ, TimeInForce: o.tif, Price: o.price, Qty: o.qty,
		FilledQty: o.filled, Fee: o.fee, RealizedPnL: o.rpnl, ReduceOnly: o.reduceOnly,
		TradeSide: o.tradeSide, PositionID: o.reqPosID, Status: o.status, Leverage: o.lev,
		MarginMode: o.mode, PositionMode: o.posMode, TP: o.tp, SL: o.sl,
		Created: o.created, Updated: o.updated,
	}
	if o.filled > 0 {
		s.AvgPrice = o.notional.Div(o.filled)
	}
}

func (e *Engine) newOrder() *order {
	if n := len(e.freeOrders); n > 0 {
		o := e.freeOrders[n-1]
		e.freeOrders = e.freeOrders[:n-1]
		return o
	}
	return &order{}
}

// crosses reports whether o may trade at price p.
func (o *order) crosses(p fixed.Value) bool {
	if o.typ == trading.Market {
		return true
	}
	if o.side == trading.Buy {
		return p <= o.price
	}
	return p >= o.price
}

func (in *instr) oppExt(side trading.Side) *extSide {
	if side == trading.Buy {
		return &in.extAsks
	}
	return &in.extBids
}

func (in *instr) ownExt(side trading.Side) *extSide {
	if side == trading.Buy {
		return &in.extBids
	}
	return &in.extAsks
}

func (in *instr) oppBook(side trading.Side) *bookSide {
	if side == trading.Buy {
		return &in.asks
	}
	return &in.bids
}

func (in *instr) ownBook(side trading.Side) *bookSide {
	if side == trading.Buy {
		return &in.bids
	}
	return &in.asks
}

// better reports whether p is a better price than q for a taker on side.
func better(side trading.Side, p, q fixed.Value) bool {
	if side == trading.Buy {
		return p < q
	}
	return p > q
}

// bestOpp returns the best price a taker on side would meet.
func (in *instr) bestOpp(side trading.Side) (fixed.Value, bool) {
	p, _, ok := in.oppExt(side).best()
	if l := in.oppBook(side).best(); l != nil && (!ok || better(side, l.price, p)) {
		return l.price, true
	}
	return p, ok
}

// checkQty validates qty against precision and limits.
func (in *instr) checkQty(qty fixed.Value, market bool) error {
	sp := in.cfg.Spec
	if qty <= 0 || qty%in.step != 0 {
		return fmt.Errorf("%s qty %s (step %s): %w", sp.Symbol, qty, in.step, ErrPrecision)
	}
	if qty < sp.MinQty {
		return fmt.Errorf("%s qty %s (min %s): %w", sp.Symbol, qty, sp.MinQty, ErrQtyTooSmall)
	}
	if m := sp.MaxQty(market); m > 0 && qty > m {
		return fmt.Errorf("%s qty %s (max %s): %w", sp.Symbol, qty, m, ErrQtyTooLarge)
	}
	return nil
}

// checkPrice validates a limit price: precision and the mark protection.
func (in *instr) checkPrice(side trading.Side, price fixed.Value) error {
	sp := in.cfg.Spec
	if price <= 0 || price%in.tick != 0 {
		return fmt.Errorf("%s price %s (tick %s): %w", sp.Symbol, price, in.tick, ErrPrecision)
	}
	if in.mark > 0 && sp.PriceProtectScope > 0 {
		if side == trading.Buy {
			if lim := in.mark.Mul(fixed.One + sp.PriceProtectScope); price > lim {
				return fmt.Errorf("%s buy at %s above %s (mark %s): %w", sp.Symbol, price, lim, in.mark, ErrPriceProtectBuy)
			}
		} else if lim := in.mark.Mul(fixed.One - sp.PriceProtectScope); price < lim {
			return fmt.Errorf("%s sell at %s below %s (mark %s): %w", sp.Symbol, price, lim, in.mark, ErrPriceProtectSell)
		}
	}
	return nil
}

// PlaceOrder validates, reserves margin, matches and rests an order. A
// refusal returns an error and leaves no order. IOC/FOK/MARKET orders that
// cannot (fully) fill are returned CANCELED, not as an error.
func (e *Engine) PlaceOrder(req OrderRequest, ts time.Time) (Order, error) {
	o, err := e.place(req, ts)
	if err != nil {
		return Order{}, err
	}
	var out Order
	e.settle(o, &out, ts)
	if !out.Status.Final() {
		if o, ok := e.open[out.ID]; ok { // a sweep may have cancelled it
			o.snapshot(&out)
		} else {
			out, _ = e.Order(req.Account, out.ID, "")
		}
	}
	return out, nil
}

// place does PlaceOrder's work and returns the order, which the caller must
// release if it is final.
func (e *Engine) place(req OrderRequest, ts time.Time) (*order, error) {
	a, err := e.account(req.Account)
	if err != nil {
		return nil, err
	}
	in, err := e.instr(req.Symbol)
	if err != nil {
		return nil, err
	}
	sp := in.cfg.Spec
	if sp.Status != "" && sp.Status != "OPEN" {
		return nil, fmt.Errorf("%s status %s: %w", sp.Symbol, sp.Status, ErrNotTrading)
	}
	if req.Side != trading.Buy && req.Side != trading.Sell {
		return nil, fmt.Errorf("%s side %d: %w", sp.Symbol, req.Side, ErrBadRequest)
	}
	market := req.Type == trading.Market
	if !market && req.Type != trading.Limit {
		return nil, fmt.Errorf("%s order type %d: %w", sp.Symbol, req.Type, ErrBadRequest)
	}
	if req.TimeInForce < trading.GTC || req.TimeInForce > trading.PostOnly {
		return nil, fmt.Errorf("%s time in force %d: %w", sp.Symbol, req.TimeInForce, ErrBadRequest)
	}
	if err := in.checkQty(req.Qty, market); err != nil {
		return nil, err
	}
	if !market {
		if err := in.checkPrice(req.Side, req.Price); err != nil {
			return nil, err
		}
	}
	if req.ClientID != "" {
		if id, dup := a.clientIDs[req.ClientID]; dup {
			return nil, fmt.Errorf("client id %q (order %d): %w", req.ClientID, id, ErrDuplicateClientID)
		}
	}
	side := req.Side
	closing := req.ReduceOnly || (a.posMode == Hedge && req.TradeSide == Close)
	var closeSide trading.Side
	if closing {
		closeSide, err = e.closeTarget(a, in, req)
		if err != nil {
			return nil, err
		}
		side = closeSide.Opposite()
	}
	st := e.setting(a, in)
	tif := req.TimeInForce
	if market {
		tif = trading.IOC
	}
	if tif == trading.PostOnly {
		if p, ok := in.bestOpp(side); ok && (&order{side: side, price: req.Price, typ: trading.Limit}).crosses(p) {
			return nil, fmt.Errorf("%s post-only %s at %s meets %s: %w", sp.Symbol, side, req.Price, p, ErrPostOnlyWouldCross)
		}
	}
	if err := e.checkTriggers(in, side, req.Price, req.TP, req.SL); err != nil {
		return nil, err
	}

	// Reserve initial margin at the limit price, or for a market order at
	// the best opposite price (else the mark).
	var frozen fixed.Value
	if !closing {
		ref := req.Price
		if market {
			var ok bool
			if ref, ok = in.bestOpp(side); !ok {
				ref = in.mark
			}
		}
		notional := ref.Mul(req.Qty)
		frozen = notional.DivInt(int64(st.lev))
		need := frozen + notional.Mul(in.cfg.TakerFee).Max(0)
		if avail := e.available(a); need > avail {
			return nil, fmt.Errorf("%s %s %s at %s needs %s, available %s: %w", sp.Symbol, side, req.Qty, ref, need, avail, ErrInsufficientBalance)
		}
	}

	e.orderSeq++
	o := e.newOrder()
	*o = order{
		id: e.orderSeq, clientID: req.ClientID, acct: a, in: in, side: side, typ: req.Type, tif: tif,
		qty: req.Qty, reduceOnly: req.ReduceOnly, tradeSide: req.TradeSide, reqPosID: req.PositionID,
		closing: closing, closeSide: closeSide, status: trading.StatusNew, lev: st.lev, mode: st.mode,
		posMode: a.posMode, tp: req.TP, sl: req.SL, frozen: frozen, created: ts, updated: ts,
	}
	if !market {
		o.price = req.Price
	}
	e.open[o.id] = o
	if o.clientID != "" {
		a.clientIDs[o.clientID] = o.id
	}
	a.openOrders[in.idx]++
	if closing {
		a.reduceOpen[in.idx]++
	}
	e.addFrozen(o, frozen)
	e.emitOrder(o, ActionCreate, ts)
	if frozen != 0 {
		e.emitBalance(a, ts)
	}

	if tif == trading.FOK && e.liquidity(o) < e.fillable(o) {
		e.finish(o, trading.StatusCanceled, ts)
		return o, nil
	}
	e.take(o, ts)
	if o.status.Final() {
		return o, nil
	}
	if tif == trading.IOC || tif == trading.FOK || e.fillable(o) == 0 {
		e.finish(o, trading.StatusCanceled, ts)
		return o, nil
	}
	e.rest(o)
	return o, nil
}

// closeTarget finds the side of the position a reduce-only or CLOSE order
// reduces (see the package doc for the hedge-mode conventions).
func (e *Engine) closeTarget(a *accountState, in *instr, req OrderRequest) (trading.Side, error) {
	if a.posMode == OneWay {
		p := a.position(in, 0)
		if p == nil {
			return 0, fmt.Errorf("%s reduce-only %s: %w", in.sym(), req.Side, ErrReduceOnlyNoPosition)
		}
		if p.side == req.Side {
			return 0, fmt.Errorf("%s reduce-only %s against a %s position: %w", in.sym(), req.Side, p.side, ErrReduceOnlySameSide)
		}
		return p.side, nil
	}
	if req.PositionID != 0 {
		for _, p := range a.positions {
			if p.id == req.PositionID && p.in == in {
				return p.side, nil
			}
		}
		return 0, fmt.Errorf("%s close position %d: %w", in.sym(), req.PositionID, ErrPositionNotFound)
	}
	if p := a.position(in, req.Side.Opposite()); p != nil {
		return p.side, nil
	}
	if req.TradeSide == Close {
		if p := a.position(in, req.Side); p != nil {
			return p.side, nil
		}
	} else if a.position(in, req.Side) != nil {
		return 0, fmt.Errorf("%s reduce-only %s: %w", in.sym(), req.Side, ErrReduceOnlySameSide)
	}
	return 0, fmt.Errorf("%s reduce-only %s: %w", in.sym(), req.Side, ErrReduceOnlyNoPosition)
}

func (e *Engine) addFrozen(o *order, v fixed.Value) {
	if o.mode == Cross {
		o.acct.frozenCross += v
	} else {
		o.acct.frozenIso += v
	}
}

// fillable is how much o may fill now: its remainder, clamped to the
// position for closing orders.
func (e *Engine) fillable(o *order) fixed.Value {
	r := o.remaining()
	if !o.closing {
		return r
	}
	p := o.acct.position(o.in, o.closeSide)
	if p == nil {
		return 0
	}
	return r.Min(p.qty)
}

// liquidity is what o could fill right now (for FOK).
func (e *Engine) liquidity(o *order) fixed.Value {
	var sum fixed.Value
	ext := o.in.oppExt(o.side)
	for i := ext.head; i < len(ext.levels); i++ {
		if !o.crosses(ext.levels[i].Price) {
			break
		}
		sum += ext.levels[i].Qty
	}
	bk := o.in.oppBook(o.side)
	for i := len(bk.levels) - 1; i >= 0; i-- {
		l := bk.levels[i]
		if !o.crosses(l.price) {
			break
		}
		for _, r := range l.orders {
			sum += e.fillable(r)
		}
	}
	return sum
}

// take matches o as a taker against the external book and resting orders,
// best price first; at one price, external qty ahead of a resting order
// trades first.
func (e *Engine) take(o *order, ts time.Time) {
	in := o.in
	ext := in.oppExt(o.side)
	bk := in.oppBook(o.side)
	for !o.status.Final() {
		want := e.fillable(o)
		if want <= 0 {
			return
		}
		ep, eq, hasExt := ext.best()
		l := bk.best()
		var p fixed.Value
		switch {
		case l != nil && (!hasExt || !better(o.side, ep, l.price)):
			p = l.price
		case hasExt:
			p = ep
		default:
			return
		}
		if !o.crosses(p) {
			return
		}
		if l == nil || l.price != p {
			x := want.Min(eq)
			ext.consumeBest(x)
			e.fill(o, p, x, false, ts)
			continue
		}
		r := l.orders[0]
		if hasExt && ep == p && r.queueAhead > 0 {
			x := want.Min(eq).Min(r.queueAhead)
			ext.consumeBest(x)
			for _, q := range l.orders {
				q.queueAhead = (q.queueAhead - x).Max(0)
			}
			e.fill(o, p, x, false, ts)
			continue
		}
		r.queueAhead = 0
		rq := e.fillable(r)
		if rq <= 0 {
			e.finish(r, trading.StatusCanceled, ts)
			e.release(r)
			continue
		}
		x := want.Min(rq)
		e.fill(o, p, x, false, ts)
		e.fill(r, p, x, true, ts)
		if r.status.Final() {
			e.release(r)
		}
	}
}

// rest puts o in the book with its queue position.
func (e *Engine) rest(o *order) {
	o.queueAhead = o.in.ownExt(o.side).qtyAt(o.price)
	o.in.ownBook(o.side).add(o)
}

// finish closes o with status: takes it out of the book, releases its
// reservation, records it in history and emits CLOSE.
func (e *Engine) finish(o *order, status trading.OrderStatus, ts time.Time) {
	if o.lvl != nil {
		o.in.ownBook(o.side).remove(o)
	}
	o.status = status
	o.updated = ts
	a := o.acct
	released := o.frozen != 0
	if released {
		e.addFrozen(o, -o.frozen)
		o.frozen = 0
	}
	delete(e.open, o.id)
	a.openOrders[o.in.idx]--
	if o.closing {
		a.reduceOpen[o.in.idx]--
	}
	var snap Order
	o.snapshot(&snap)
	if old, ok := e.histOrders.push(snap); ok && old.ClientID != "" {
		if oa := e.byAcct[old.Account]; oa != nil && oa.clientIDs[old.ClientID] == old.ID {
			delete(oa.clientIDs, old.ClientID)
		}
	}
	e.emitOrder(o, ActionClose, ts)
	if released {
		e.emitBalance(a, ts)
	}
}

// release recycles a final order.
// settle snapshots o into out, returns o to the pool once it is final (out
// is then the only copy) and sweeps the triggers the change may have armed.
func (e *Engine) settle(o *order, out *Order, ts time.Time) {
	o.snapshot(out)
	if o.status.Final() {
		e.release(o)
	}
	e.sweep(ts)
}

func (e *Engine) release(o *order) {
	*o = order{}
	e.freeOrders = append(e.freeOrders, o)
}

func (e *Engine) findOpen(a *accountState, orderID uint64, clientID string) (*order, error) {
	if orderID == 0 && clientID != "" {
		orderID = a.clientIDs[clientID]
	}
	o, ok := e.open[orderID]
	if !ok || o.acct != a {
		return nil, fmt.Errorf("open order id %d client id %q of %q: %w", orderID, clientID, a.id, ErrOrderNotFound)
	}
	return o, nil
}

// CancelOrder cancels an open order by id, or by client id when orderID is
// zero. symbol may be empty.
func (e *Engine) CancelOrder(account, symbol string, orderID uint64, clientID string, ts time.Time) (Order, error) {
	a, err := e.account(account)
	if err != nil {
		return Order{}, err
	}
	o, err := e.findOpen(a, orderID, clientID)
	if err != nil {
		return Order{}, err
	}
	if symbol != "" && o.in.sym() != symbol {
		return Order{}, fmt.Errorf("order %d is on %s, not %s: %w", o.id, o.in.sym(), symbol, ErrOrderNotFound)
	}
	e.finish(o, trading.StatusCanceled, ts)
	var out Order
	o.snapshot(&out)
	e.release(o)
	return out, nil
}

// CancelAll cancels an account's open orders on symbol, or on every symbol
// when symbol is empty, and returns them in id order.
func (e *Engine) CancelAll(account, symbol string, ts time.Time) ([]Order, error) {
	a, err := e.account(account)
	if err != nil {
		return nil, err
	}
	var only *instr
	if symbol != "" {
		if only, err = e.instr(symbol); err != nil {
			return nil, err
		}
	}
	os := e.openOf(a, only, false)
	out := make([]Order, len(os))
	for i, o := range os {
		e.finish(o, trading.StatusCanceled, ts)
		o.snapshot(&out[i])
		e.release(o)
	}
	return out, nil
}

// openOf collects a's open orders (on in, or all) in id order, optionally
// only closing ones. It reuses e.scratch.
func (e *Engine) openOf(a *accountState, in *instr, closingOnly bool) []*order {
	os := e.scratch[:0]
	for _, x := range e.instrs {
		if (in != nil && x != in) || a.openOrders[x.idx] == 0 || (closingOnly && a.reduceOpen[x.idx] == 0) {
			continue
		}
		for _, bk := range [2]*bookSide{&x.bids, &x.asks} {
			for _, l := range bk.levels {
				for _, o := range l.orders {
					if o.acct == a && (!closingOnly || o.closing) {
						os = append(os, o)
					}
				}
			}
		}
	}
	sortPtrOrders(os)
	e.scratch = os[:0]
	return os
}

func sortPtrOrders(os []*order) {
	// insertion sort: the lists are short and mostly sorted already
	for i := 1; i < len(os); i++ {
		for j := i; j > 0 && os[j].id < os[j-1].id; j-- {
			os[j], os[j-1] = os[j-1], os[j]
		}
	}
}

// ModifyOrder changes an open LIMIT order's total qty and price. A price
// change or qty increase loses queue priority and may match at once; a qty
// decrease at the same price keeps it. The new qty must exceed the filled
// qty.
func (e *Engine) ModifyOrder(req ModifyRequest, ts time.Time) (Order, error) {
	a, err := e.account(req.Account)
	if err != nil {
		return Order{}, err
	}
	o, err := e.findOpen(a, req.OrderID, req.ClientID)
	if err != nil {
		return Order{}, err
	}
	in := o.in
	if o.typ != trading.Limit {
		return Order{}, fmt.Errorf("modify order %d: not a limit order: %w", o.id, ErrOrderFinal)
	}
	if err := in.checkQty(req.Qty, false); err != nil {
		return Order{}, err
	}
	if req.Qty <= o.filled {
		return Order{}, fmt.Errorf("modify order %d: qty %s not above filled %s: %w", o.id, req.Qty, o.filled, ErrQtyTooSmall)
	}
	if err := in.checkPrice(o.side, req.Price); err != nil {
		return Order{}, err
	}
	tp, sl := o.tp, o.sl
	if req.TP.Set() {
		tp = req.TP
	}
	if req.SL.Set() {
		sl = req.SL
	}
	if err := e.checkTriggers(in, o.side, req.Price, tp, sl); err != nil {
		return Order{}, err
	}
	if o.tif == trading.PostOnly {
		if p, ok := in.bestOpp(o.side); ok && (&order{side: o.side, price: req.Price, typ: trading.Limit}).crosses(p) {
			return Order{}, fmt.Errorf("modify post-only order %d to %s meets %s: %w", o.id, req.Price, p, ErrPostOnlyWouldCross)
		}
	}
	var frozen fixed.Value
	if !o.closing {
		frozen = req.Price.Mul(req.Qty - o.filled).DivInt(int64(o.lev))
		need := frozen - o.frozen
		if avail := e.available(a); need > 0 && need > avail {
			return Order{}, fmt.Errorf("modify order %d needs %s more, available %s: %w", o.id, need, avail, ErrInsufficientBalance)
		}
	}
	e.addFrozen(o, frozen-o.frozen)
	o.frozen = frozen
	o.tp, o.sl, o.updated = tp, sl, ts
	keep := req.Price == o.price && req.Qty <= o.qty
	o.qty = req.Qty
	if !keep {
		o.in.ownBook(o.side).remove(o)
		o.price = req.Price
	}
	e.emitOrder(o, ActionUpdate, ts)
	e.emitBalance(a, ts)
	if !keep {
		e.take(o, ts)
		if !o.status.Final() {
			e.rest(o)
		}
	}
	var out Order
	e.settle(o, &out, ts)
	return out, nil
}

// Order finds an open or historical order by id, or by client id when
// orderID is zero.
func (e *Engine) Order(account string, orderID uint64, clientID string) (Order, error) {
	a, err := e.account(account)
	if err != nil {
		return Order{}, err
	}
	if orderID == 0 && clientID == "" {
		return Order{}, fmt.Errorf("order lookup without id: %w", ErrBadRequest)
	}
	if o, err := e.findOpen(a, orderID, clientID); err == nil {
		var out Order
		o.snapshot(&out)
		return out, nil
	}
	var out Order
	found := false
	e.histOrders.newestFirst(func(h *Order) bool {
		if h.Account == account && ((orderID != 0 && h.ID == orderID) || (orderID == 0 && h.ClientID == clientID)) {
			out, found = *h, true
			return false
		}
		return true
	})
	if !found {
		return Order{}, fmt.Errorf("order id %d client id %q of %q: %w", orderID, clientID, account, ErrOrderNotFound)
	}
	return out, nil
}

// OpenOrders lists open orders (symbol optional), in id order.
func (e *Engine) OpenOrders(account, symbol string) []Order {
	a, ok := e.byAcct[account]
	if !ok {
		return nil
	}
	var only *instr
	if symbol != "" {
		if only, ok = e.bySymbol[symbol]; !ok {
			return nil
		}
	}
	os := e.openOf(a, only, false)
	out := make([]Order, len(os))
	for i, o := range os {
		o.snapshot(&out[i])
	}
	return out
}

// HistoryOrders lists closed orders (symbol optional), newest first.
func (e *Engine) HistoryOrders(account, symbol string) []Order {
	var out []Order
	e.histOrders.newestFirst(func(h *Order) bool {
		if h.Account == account && (symbol == "" || h.Symbol == symbol) {
			out = append(out, *h)
		}
		return true
	})
	return out
}

// Fills lists executions (symbol optional), newest first.
func (e *Engine) Fills(account, symbol string) []Fill {
	var out []Fill
	e.histFills.newestFirst(func(f *Fill) bool {
		if f.Account == account && (symbol == "" || f.Symbol == symbol) {
			out = append(out, *f)
		}
		return true
	})
	return out
}

// Depth returns the combined external and account book, levels per side (0
// = all), for publishing depth.
func (e *Engine) Depth(symbol string, levels int) (trading.Book, error) {
	in, err := e.instr(symbol)
	if err != nil {
		return trading.Book{}, err
	}
	b := trading.Book{Symbol: symbol}
	b.Bids = mergeDepth(trading.Buy, &in.extBids, &in.bids, levels)
	b.Asks = mergeDepth(trading.Sell, &in.extAsks, &in.asks, levels)
	return b, nil
}

func mergeDepth(side trading.Side, ext *extSide, bk *bookSide, n int) []trading.Level {
	var out []trading.Level
	i, j := ext.head, len(bk.levels)-1
	// takerSide is the side that would hit these levels.
	takerSide := side.Opposite()
	for (n <= 0 || len(out) < n) && (i < len(ext.levels) || j >= 0) {
		var lv trading.Level
		switch {
		case i < len(ext.levels) && ext.levels[i].Qty <= 0:
			i++
			continue
		case j < 0 || (i < len(ext.levels) && better(takerSide, ext.levels[i].Price, bk.levels[j].price)):
			lv = ext.levels[i]
			i++
		default:
			lv.Price = bk.levels[j].price
			for _, o := range bk.levels[j].orders {
				lv.Qty += o.remaining()
			}
			j--
			if i < len(ext.levels) && ext.levels[i].Price == lv.Price {
				lv.Qty += ext.levels[i].Qty
				i++
			}
		}
		out = append(out, lv)
	}
	return out
}
