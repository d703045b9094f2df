package matching

import (
	"fmt"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/trading"
)

type position struct {
	id         uint64
	acct       *accountState
	in         *instr
	side       trading.Side
	qty        fixed.Value
	maxQty     fixed.Value
	entry      fixed.Value // average open price
	entryValue fixed.Value
	margin     fixed.Value
	fee        fixed.Value
	funding    fixed.Value
	rpnl       fixed.Value
	liq        fixed.Value // isolated only; cross is computed on demand
	liqQty     fixed.Value
	closePrice fixed.Value
	lev        int
	mode       MarginMode
	posMode    PositionMode
	created    time.Time
	updated    time.Time
}

// ref is the price unrealised PnL uses: mark, else last, else entry.
func (p *position) ref() fixed.Value {
	if r := p.in.refPrice(); r > 0 {
		return r
	}
	return p.entry
}

// pnlAt is the PnL of closing q at price.
func (p *position) pnlAt(price, q, entryValue fixed.Value) fixed.Value {
	d := price.Mul(q) - entryValue
	if p.side == trading.Sell {
		return -d
	}
	return d
}

func (p *position) upnl() fixed.Value { return p.upnlAt(p.ref()) }

// upnlAt is the unrealised PnL with the reference price at ref.
func (p *position) upnlAt(ref fixed.Value) fixed.Value {
	if p.qty == 0 {
		return 0
	}
	return p.pnlAt(ref, p.qty, p.entryValue)
}

func (p *position) maint() fixed.Value { return p.maintAt(p.ref()) }

// maintAt is the maintenance margin with the reference price at ref.
func (p *position) maintAt(ref fixed.Value) fixed.Value {
	return ref.Mul(p.qty).Mul(p.in.cfg.MaintenanceMarginRate)
}

// position returns a's open position on in with side (0 = any side).
func (a *accountState) position(in *instr, side trading.Side) *position {
	for _, p := range a.positions {
		if p.in == in && (side == 0 || p.side == side) {
			return p
		}
	}
	return nil
}

func (e *Engine) addMargin(p *position, v fixed.Value) {
	if p.mode == Cross {
		p.acct.marginCross += v
	} else {
		p.acct.marginIso += v
	}
}

// updateLiq recomputes an isolated position's liquidation price (doc.go).
func (p *position) updateLiq() {
	if p.mode != Isolation || p.qty == 0 {
		p.liq = 0
		return
	}
	mmr := p.in.cfg.MaintenanceMarginRate
	var liq fixed.Value
	if p.side == trading.Buy {
		liq = (p.entryValue - p.margin).Div(p.qty.Mul(fixed.One - mmr))
	} else {
		liq = (p.entryValue + p.margin).Div(p.qty.Mul(fixed.One + mmr))
	}
	p.liq = liq.Max(0)
}

// crossLiq is the mark at which the account's cross positions would be
// liquidated if only p's price moved (doc.go).
func (e *Engine) crossLiq(p *position) fixed.Value {
	a := p.acct
	c := a.wallet - a.marginIso
	var other, maint fixed.Value
	for _, q := range a.positions {
		if q.mode != Cross || q == p {
			continue
		}
		other += q.upnl()
		maint += q.maint()
	}
	mmr := p.in.cfg.MaintenanceMarginRate
	var liq fixed.Value
	if p.side == trading.Buy {
		liq = (p.entryValue - c - other + maint).Div(p.qty.Mul(fixed.One - mmr))
	} else {
		liq = (c + other + p.entryValue - maint).Div(p.qty.Mul(fixed.One + mmr))
	}
	return liq.Max(0)
}

func (e *Engine) posSnapshot(p *position) Position {
	s := Position{
		ID: p.id, Account: p.acct.id, Symbol: p.in.sym(), Side: p.side, Qty: p.qty, MaxQty: p.maxQty,
		EntryPrice: p.entry, EntryValue: p.entryValue, Leverage: p.lev, MarginMode: p.mode,
		PositionMode: p.posMode, Margin: p.margin, Fee: p.fee, Funding: p.funding, RealizedPnL: p.rpnl,
		ClosePrice: p.closePrice, LiqQty: p.liqQty, Created: p.created, Updated: p.updated,
	}
	if p.qty > 0 {
		s.Mark = p.ref()
		s.UnrealizedPnL = p.upnl()
		if p.mode == Cross {
			s.LiqPrice = e.crossLiq(p)
		} else {
			s.LiqPrice = p.liq
		}
	}
	return s
}

// fill executes qty of o at price: fee, reservation release, position,
// order state, history and events.
func (e *Engine) fill(o *order, price, qty fixed.Value, maker bool, ts time.Time) {
	in, a := o.in, o.acct
	rate := in.cfg.TakerFee
	if maker {
		rate = in.cfg.MakerFee
	}
	notional := price.Mul(qty)
	fee := notional.Mul(rate)
	if o.frozen != 0 {
		rel := o.frozen
		if rem := o.remaining(); qty < rem {
			rel = o.frozen.Mul(qty).Div(rem)
		}
		e.addFrozen(o, -rel)
		o.frozen -= rel
	}
	pnl, posID, pos := e.applyPosition(o, price, qty, fee, ts)
	a.wallet += pnl - fee
	o.filled += qty
	o.notional += notional
	o.fee += fee
	o.rpnl += pnl
	o.updated = ts
	e.recordFill(Fill{
		OrderID: o.id, ClientID: o.clientID, Account: a.id, Symbol: in.sym(), PositionID: posID,
		Side: o.side, Type: o.typ, Price: price, Qty: qty, Fee: fee, RealizedPnL: pnl, Maker: maker,
		ReduceOnly: o.reduceOnly, Time: ts,
	})
	if pos != nil && !o.closing && pos.side == o.side && (o.tp.Set() || o.sl.Set()) {
		e.attachTPSL(o, pos, qty, ts)
	}
	e.emitBalance(a, ts)
	if o.remaining() == 0 {
		e.finish(o, trading.StatusFilled, ts)
		return
	}
	o.status = trading.StatusPartiallyFilled
	e.emitOrder(o, ActionUpdate, ts)
}

func (e *Engine) recordFill(f Fill) {
	e.tradeSeq++
	f.TradeID = e.tradeSeq
	e.histFills.push(f)
	if e.sink != nil {
		e.ev.Fill = f
		e.emit(EventFill, ActionCreate, f.Account, f.Time)
	}
}

// applyPosition books a fill of o on its account's positions and returns
// the realised PnL, the id of the position touched last and that position
// if it is still open.
func (e *Engine) applyPosition(o *order, price, qty, fee fixed.Value, ts time.Time) (fixed.Value, uint64, *position) {
	a, in := o.acct, o.in
	if o.closing {
		p := a.position(in, o.closeSide)
		pnl, closed := e.reduce(p, price, qty, fee, ts)
		if closed {
			return pnl, p.id, nil
		}
		return pnl, p.id, p
	}
	var pnl fixed.Value
	if a.posMode == OneWay {
		if p := a.position(in, 0); p != nil && p.side != o.side {
			c := qty.Min(p.qty)
			fc := fee
			if c < qty {
				fc = fee.Mul(c).Div(qty)
			}
			id := p.id
			var closed bool
			pnl, closed = e.reduce(p, price, c, fc, ts)
			qty -= c
			fee -= fc
			if qty == 0 {
				if closed {
					return pnl, id, nil
				}
				return pnl, id, p
			}
		}
	}
	p := e.increase(o, price, qty, fee, ts)
	return pnl, p.id, p
}

// increase opens or adds to o's side position.
func (e *Engine) increase(o *order, price, qty, fee fixed.Value, ts time.Time) *position {
	a, in := o.acct, o.in
	p := a.position(in, o.side)
	act := ActionUpdate
	if p == nil {
		e.posSeq++
		p = &position{
			id: e.posSeq, acct: a, in: in, side: o.side, lev: o.lev, mode: o.mode,
			posMode: a.posMode, created: ts,
		}
		a.positions = append(a.positions, p)
		in.positions = append(in.positions, p)
		act = ActionOpen
	}
	notional := price.Mul(qty)
	m := notional.DivInt(int64(p.lev))
	p.qty += qty
	p.maxQty = p.maxQty.Max(p.qty)
	p.entryValue += notional
	p.entry = p.entryValue.Div(p.qty)
	p.margin += m
	e.addMargin(p, m)
	p.fee += fee
	p.updated = ts
	p.updateLiq()
	e.emitPosition(p, act, ts)
	return p
}

// reduce closes c of p at price, releasing margin pro rata, and returns the
// realised PnL. The caller books PnL and fee to the wallet.
func (e *Engine) reduce(p *position, price, c, fee fixed.Value, ts time.Time) (fixed.Value, bool) {
	evRel, mRel := p.entryValue, p.margin
	if c < p.qty {
		evRel = p.entryValue.Mul(c).Div(p.qty)
		mRel = p.margin.Mul(c).Div(p.qty)
	}
	pnl := p.pnlAt(price, c, evRel)
	p.qty -= c
	p.entryValue -= evRel
	p.margin -= mRel
	e.addMargin(p, -mRel)
	p.rpnl += pnl
	p.fee += fee
	p.closePrice = price
	p.updated = ts
	if p.qty == 0 {
		e.closePosition(p, ts)
		return pnl, true
	}
	p.updateLiq()
	e.emitPosition(p, ActionUpdate, ts)
	return pnl, false
}

// closePosition moves a flat position to history, cancels its TP/SL and
// schedules a sweep of the closing orders left without a position.
func (e *Engine) closePosition(p *position, ts time.Time) {
	a, in := p.acct, p.in
	a.positions = removePos(a.positions, p)
	in.positions = removePos(in.positions, p)
	if p.margin != 0 { // rounding residue
		e.addMargin(p, -p.margin)
		p.margin = 0
	}
	p.liq = 0
	e.histPos.push(e.posSnapshot(p))
	e.emitPosition(p, ActionClose, ts)
	e.cancelTPSLOf(p, ts)
	if a.reduceOpen[in.idx] > 0 {
		e.sweeps = append(e.sweeps, sweep{a, in})
	}
}

func removePos(ps []*position, p *position) []*position {
	for i, x := range ps {
		if x == p {
			copy(ps[i:], ps[i+1:])
			ps[len(ps)-1] = nil
			return ps[:len(ps)-1]
		}
	}
	return ps
}

type sweep struct {
	a  *accountState
	in *instr
}

// sweep cancels closing orders whose position is gone. It runs at the end
// of every public call, so cancellations never happen under a loop that is
// walking a book.
func (e *Engine) sweep(ts time.Time) {
	for len(e.sweeps) > 0 {
		s := e.sweeps[len(e.sweeps)-1]
		e.sweeps = e.sweeps[:len(e.sweeps)-1]
		for _, o := range e.openOf(s.a, s.in, true) {
			if e.fillable(o) == 0 {
				e.finish(o, trading.StatusCanceled, ts)
				e.release(o)
			}
		}
	}
}

// ApplyFunding settles funding at rate (a fraction) on every open position
// of symbol: payment = mark × qty × rate, longs pay a positive rate.
func (e *Engine) ApplyFunding(symbol string, rate fixed.Value, ts time.Time) error {
	in, err := e.instr(symbol)
	if err != nil {
		return err
	}
	for _, p := range in.positions {
		pay := p.ref().Mul(p.qty).Mul(rate)
		if p.side == trading.Sell {
			pay = -pay
		}
		p.acct.wallet -= pay
		p.funding -= pay
		p.updated = ts
		e.emitPosition(p, ActionUpdate, ts)
		e.emitBalance(p.acct, ts)
	}
	return nil
}

// ApplyMark updates the mark, unrealised PnL, liquidations and MARK_PRICE
// TP/SL.
func (e *Engine) ApplyMark(m trading.MarkPrice) error {
	in, err := e.instr(m.Symbol)
	if err != nil {
		return err
	}
	if m.Mark <= 0 {
		return fmt.Errorf("%s mark %s: %w", m.Symbol, m.Mark, ErrBadRequest)
	}
	ts := m.Time
	in.mark = m.Mark
	e.liquidations(in, ts)
	e.fireTriggers(in, MarkPrice, m.Mark, ts)
	e.sweep(ts)
	return nil
}

// quietSlack is how far above its maintenance margin an account must stay
// at both ends of a price range for MarksQuiet: the margin test is linear
// in the mark but rounded to 1e-8 per term.
const quietSlack = 64

// MarksQuiet reports whether every mark of symbol within [lo, hi] would do
// nothing on the engine but set the mark: no position liquidated (cross
// accounts stay more than a rounding margin above maintenance at both
// ends, isolated liquidation prices lie outside) and no TP/SL waiting. A
// caller with several such marks in a row (a backtest's prices inside one
// kline) may then apply the last one only.
func (e *Engine) MarksQuiet(symbol string, lo, hi fixed.Value) bool {
	in, err := e.instr(symbol)
	if err != nil || lo <= 0 || hi < lo || len(in.tpsl) > 0 {
		return false
	}
	for _, p := range in.positions {
		if p.mode == Isolation {
			if p.liq > 0 && ((p.side == trading.Buy && lo <= p.liq) || (p.side == trading.Sell && hi >= p.liq)) {
				return false
			}
			continue
		}
		eqLo, maintLo := p.acct.crossMargin(in, lo)
		eqHi, maintHi := p.acct.crossMargin(in, hi)
		if eqLo-maintLo <= quietSlack || eqHi-maintHi <= quietSlack {
			return false
		}
	}
	return true
}

// crossMargin is a's cross equity and cross maintenance margin, the two
// sides of the cross liquidation test, with the cross positions valued at
// their reference prices, except those on in (if not nil), valued at x.
func (a *accountState) crossMargin(in *instr, x fixed.Value) (eq, maint fixed.Value) {
	eq = a.wallet - a.marginIso
	for _, p := range a.positions {
		if p.mode != Cross {
			continue
		}
		ref := x
		if in == nil || p.in != in {
			ref = p.ref()
		}
		eq += p.upnlAt(ref)
		maint += p.maintAt(ref)
	}
	return eq, maint
}

// liquidations checks the positions on in (doc.go, Liquidation model).
func (e *Engine) liquidations(in *instr, ts time.Time) {
	ps := append(e.scratchP[:0], in.positions...)
	var crossAccts []*accountState
	for _, p := range ps {
		if p.mode == Isolation {
			if p.liq > 0 && ((p.side == trading.Buy && in.mark <= p.liq) || (p.side == trading.Sell && in.mark >= p.liq)) {
				e.liquidateIsolated(p, ts)
			}
			continue
		}
		seen := false
		for _, a := range crossAccts {
			seen = seen || a == p.acct
		}
		if !seen {
			crossAccts = append(crossAccts, p.acct)
		}
	}
	e.scratchP = ps[:0]
	for _, a := range crossAccts {
		if eq, maint := a.crossMargin(nil, 0); maint > 0 && eq <= maint {
			e.liquidateCross(a, ts)
		}
	}
}

// liquidateIsolated closes p at its liquidation price; the equity left is
// the liquidation fee, so the account loses exactly the position margin.
func (e *Engine) liquidateIsolated(p *position, ts time.Time) {
	a, price, q := p.acct, p.liq, p.qty
	pnl := p.pnlAt(price, q, p.entryValue)
	fee := (p.margin + pnl).Max(0)
	id, side, sym := p.id, p.side, p.in.sym()
	p.liqQty = q
	pnl, _ = e.reduce(p, price, q, fee, ts)
	a.wallet += pnl - fee
	e.recordFill(Fill{Account: a.id, Symbol: sym, PositionID: id, Side: side.Opposite(), Type: trading.Market,
		Price: price, Qty: q, Fee: fee, RealizedPnL: pnl, ReduceOnly: true, Liquidation: true, Time: ts})
	e.emitBalance(a, ts)
}

// liquidateCross cancels every open order of a and closes its cross
// positions at their marks with the taker fee; a negative cross balance is
// written off.
func (e *Engine) liquidateCross(a *accountState, ts time.Time) {
	for _, o := range e.openOf(a, nil, false) {
		e.finish(o, trading.StatusCanceled, ts)
		e.release(o)
	}
	ps := make([]*position, 0, len(a.positions))
	for _, p := range a.positions {
		if p.mode == Cross {
			ps = append(ps, p)
		}
	}
	for _, p := range ps {
		price, q := p.ref(), p.qty
		fee := price.Mul(q).Mul(p.in.cfg.TakerFee)
		id, side, sym := p.id, p.side, p.in.sym()
		p.liqQty = q
		pnl, _ := e.reduce(p, price, q, fee, ts)
		a.wallet += pnl - fee
		e.recordFill(Fill{Account: a.id, Symbol: sym, PositionID: id, Side: side.Opposite(), Type: trading.Market,
			Price: price, Qty: q, Fee: fee, RealizedPnL: pnl, ReduceOnly: true, Liquidation: true, Time: ts})
	}
	if a.wallet < a.marginIso {
		a.wallet = a.marginIso
	}
	e.emitBalance(a, ts)
}

// ApplyTrade applies a public print: it fills resting account orders it
// reaches (doc.go, Liquidity model) and fires LAST_PRICE TP/SL.
func (e *Engine) ApplyTrade(t trading.Trade) error {
	in, err := e.instr(t.Symbol)
	if err != nil {
		return err
	}
	if t.Price <= 0 || t.Qty < 0 {
		return fmt.Errorf("%s print %s@%s: %w", t.Symbol, t.Qty, t.Price, ErrBadRequest)
	}
	ts := t.Time
	in.last = t.Price
	e.printFill(&in.bids, t.Price, t.Qty, ts)
	e.printFill(&in.asks, t.Price, t.Qty, ts)
	e.fireTriggers(in, LastPrice, t.Price, ts)
	e.sweep(ts)
	return nil
}

// printFill fills resting orders on bk reached by a print of qty at price.
func (e *Engine) printFill(bk *bookSide, price, qty fixed.Value, ts time.Time) {
	left := qty
	for i := len(bk.levels) - 1; i >= 0 && left > 0; i-- {
		if i >= len(bk.levels) {
			continue
		}
		l := bk.levels[i]
		if bk.worse(l.price, price) {
			return
		}
		through := l.price != price
		for k := 0; k < len(l.orders) && left > 0; {
			r := l.orders[k]
			if through {
				r.queueAhead = 0
			} else if r.queueAhead >= left {
				r.queueAhead -= left
				k++
				continue
			}
			avail := left - r.queueAhead
			r.queueAhead = 0
			x := avail.Min(e.fillable(r))
			if x <= 0 {
				k++
				continue
			}
			left -= x
			e.fill(r, l.price, x, true, ts)
			if r.status.Final() {
				e.release(r)
			} else {
				k++
			}
		}
		if through {
			for _, r := range l.orders {
				r.queueAhead = 0
			}
		}
	}
}

// ApplyBook replaces the external levels of b.Symbol, shrinks queue
// positions to the new level sizes and fills resting orders the new book
// crosses.
func (e *Engine) ApplyBook(b trading.Book) error {
	in, err := e.instr(b.Symbol)
	if err != nil {
		return err
	}
	ts := b.Time
	in.extBids.set(b.Bids)
	in.extAsks.set(b.Asks)
	capQueue(&in.bids, &in.extBids)
	capQueue(&in.asks, &in.extAsks)
	e.crossResting(&in.bids, &in.extAsks, ts)
	e.crossResting(&in.asks, &in.extBids, ts)
	e.sweep(ts)
	return nil
}

// capQueue limits each resting order's queue ahead to the external qty now
// at its price. Both lists are walked best-first together.
func capQueue(bk *bookSide, ext *extSide) {
	j := 0
	for i := len(bk.levels) - 1; i >= 0; i-- {
		l := bk.levels[i]
		for j < len(ext.levels) && bk.worse(l.price, ext.levels[j].Price) {
			j++
		}
		var q fixed.Value
		if j < len(ext.levels) && ext.levels[j].Price == l.price {
			q = ext.levels[j].Qty
		}
		for _, o := range l.orders {
			o.queueAhead = o.queueAhead.Min(q)
		}
	}
}

// crossResting fills resting orders on bk that the external opposite side
// now crosses, as makers at their own price.
func (e *Engine) crossResting(bk *bookSide, ext *extSide, ts time.Time) {
	for {
		l := bk.best()
		if l == nil {
			return
		}
		p, q, ok := ext.best()
		if !ok || !crossesExt(bk.side, l.price, p) {
			return
		}
		progressed := false
		for k := 0; k < len(l.orders); {
			r := l.orders[k]
			x := q.Min(e.fillable(r))
			if x <= 0 {
				k++
				continue
			}
			ext.consumeBest(x)
			r.queueAhead = 0
			e.fill(r, l.price, x, true, ts)
			progressed = true
			if r.status.Final() {
				e.release(r)
			}
			break
		}
		if !progressed {
			return
		}
	}
}

// crossesExt reports whether a resting order on side at price is crossed by
// an external opposite level at p.
func crossesExt(side trading.Side, price, p fixed.Value) bool {
	if side == trading.Buy {
		return p <= price
	}
	return p >= price
}

// FlashClose closes a position with a reduce-only MARKET order.
func (e *Engine) FlashClose(account string, positionID uint64, ts time.Time) (Order, error) {
	a, err := e.account(account)
	if err != nil {
		return Order{}, err
	}
	var p *position
	for _, x := range a.positions {
		if x.id == positionID {
			p = x
		}
	}
	if p == nil {
		return Order{}, fmt.Errorf("flash close position %d of %q: %w", positionID, account, ErrPositionNotFound)
	}
	o, err := e.place(OrderRequest{
		Account: account, Symbol: p.in.sym(), Side: p.side.Opposite(), Type: trading.Market, Qty: p.qty,
		ReduceOnly: true, TradeSide: Close, PositionID: p.id,
	}, ts)
	if err != nil {
		return Order{}, err
	}
	var out Order
	e.settle(o, &out, ts)
	return out, nil
}

// CloseAll flash-closes every position of the account on symbol (all
// symbols when empty) and returns the closing orders.
func (e *Engine) CloseAll(account, symbol string, ts time.Time) ([]Order, error) {
	a, err := e.account(account)
	if err != nil {
		return nil, err
	}
	if symbol != "" {
		if _, err := e.instr(symbol); err != nil {
			return nil, err
		}
	}
	var ids []uint64
	for _, p := range a.positions {
		if symbol == "" || p.in.sym() == symbol {
			ids = append(ids, p.id)
		}
	}
	var out []Order
	for _, id := range ids {
		o, err := e.FlashClose(account, id, ts)
		if err != nil {
			if Code(err) == Code(ErrPositionNotFound) {
				continue // closed by an earlier close's side effects
			}
			return out, err
		}
		out = append(out, o)
	}
	return out, nil
}

// Positions lists open positions (symbol optional), in id order.
func (e *Engine) Positions(account, symbol string) []Position {
	a, ok := e.byAcct[account]
	if !ok {
		return nil
	}
	var out []Position
	for _, p := range a.positions {
		if symbol == "" || p.in.sym() == symbol {
			out = append(out, e.posSnapshot(p))
		}
	}
	return out
}

// Position returns one open position.
func (e *Engine) Position(account string, positionID uint64) (Position, error) {
	a, err := e.account(account)
	if err != nil {
		return Position{}, err
	}
	for _, p := range a.positions {
		if p.id == positionID {
			return e.posSnapshot(p), nil
		}
	}
	return Position{}, fmt.Errorf("position %d of %q: %w", positionID, account, ErrPositionNotFound)
}

// HistoryPositions lists closed positions (symbol optional), newest first.
func (e *Engine) HistoryPositions(account, symbol string) []Position {
	var out []Position
	e.histPos.newestFirst(func(p *Position) bool {
		if p.Account == account && (symbol == "" || p.Symbol == symbol) {
			out = append(out, *p)
		}
		return true
	})
	return out
}
