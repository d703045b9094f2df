package ordermanager

import (
	"sort"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/trading"
)

// Position is the locally computed position in one symbol.
type Position struct {
	Symbol   string      `json:"symbol"`
	Qty      fixed.Value `json:"qty"`      // signed: positive long
	AvgEntry fixed.Value `json:"avgEntry"` // zero when flat
	Realized fixed.Value `json:"realized"` // realised PnL from reducing fills, before fees
	Fees     fixed.Value `json:"fees"`     // positive = paid
	Funding  fixed.Value `json:"funding"`  // positive = received
	Mark     fixed.Value `json:"mark"`     // last mark price; zero if unknown
}

// Unrealized is (mark - entry) * qty; zero without a mark.
func (p Position) Unrealized() fixed.Value {
	if p.Mark == 0 || p.Qty == 0 {
		return 0
	}
	return (p.Mark - p.AvgEntry).Mul(p.Qty)
}

// Ledger keeps positions and PnL from fills. It is a pure value: no I/O.
type Ledger struct {
	StartBalance fixed.Value          `json:"startBalance"`
	Positions    map[string]*Position `json:"positions"`
	// FundingSeen is the last cumulative funding (positive received) seen
	// per venue position id: an exchange reports funding only as a running
	// total per position, so the payment to book is the change since the
	// last report, and a repeated report books nothing. It is journaled
	// with the snapshot.
	FundingSeen map[string]fixed.Value `json:"fundingSeen,omitempty"`
}

// NewLedger returns an empty ledger with the balance at start.
func NewLedger(startBalance fixed.Value) *Ledger {
	return &Ledger{StartBalance: startBalance, Positions: map[string]*Position{}}
}

func (l *Ledger) pos(symbol string) *Position {
	if l.Positions == nil {
		l.Positions = map[string]*Position{}
	}
	p := l.Positions[symbol]
	if p == nil {
		p = &Position{Symbol: symbol}
		l.Positions[symbol] = p
	}
	return p
}

// qty is the signed position in symbol, zero if there is none.
func (l *Ledger) qty(symbol string) fixed.Value {
	if p := l.Positions[symbol]; p != nil {
		return p.Qty
	}
	return 0
}

// ApplyFill books one execution and returns the PnL it realised (before
// fees). Increasing fills move the average entry; reducing fills realise
// (price - entry) * closed qty * direction; a fill through zero closes the
// old position and opens the rest at the fill price.
func (l *Ledger) ApplyFill(f trading.Fill) fixed.Value {
	p := l.pos(f.Symbol)
	p.Fees += f.Fee
	if f.Qty == 0 {
		return 0
	}
	signed := f.Qty
	if f.Side == trading.Sell {
		signed = -signed
	}
	var realized fixed.Value
	switch {
	case p.Qty == 0 || p.Qty.Sign() == signed.Sign():
		// Opening or adding: weighted average entry.
		total := p.Qty.Abs() + f.Qty
		p.AvgEntry = (p.AvgEntry.Mul(p.Qty.Abs()) + f.Price.Mul(f.Qty)).Div(total)
		p.Qty += signed
	default:
		closed := f.Qty.Min(p.Qty.Abs())
		dir := fixed.FromInt(int64(p.Qty.Sign()))
		realized = (f.Price - p.AvgEntry).Mul(closed).Mul(dir)
		p.Realized += realized
		p.Qty += signed
		switch {
		case p.Qty == 0:
			p.AvgEntry = 0
		case p.Qty.Sign() == signed.Sign():
			p.AvgEntry = f.Price // flipped: the remainder opened at this price
		}
	}
	return realized
}

// ApplyFunding books a funding payment: positive received, negative paid.
func (l *Ledger) ApplyFunding(symbol string, amount fixed.Value) {
	l.pos(symbol).Funding += amount
}

// SetMark updates the mark price used for unrealised PnL.
func (l *Ledger) SetMark(symbol string, price fixed.Value) {
	if p, ok := l.Positions[symbol]; ok {
		p.Mark = price
	}
}

// SetPosition overwrites qty and entry with the venue's, keeping PnL
// history; reconciliation uses it after counting a drift, because the
// exchange is the source of truth. The part of the local position the venue
// no longer holds (a liquidation, a manual close) is realised at the last
// mark, which is where its unrealised PnL stood, so equity does not jump;
// without a mark nothing is realised. The true close price and any
// liquidation fee are not known here: the balance check in Reconcile
// catches that residual. It returns the PnL realised.
func (l *Ledger) SetPosition(symbol string, qty, avgEntry fixed.Value) fixed.Value {
	p := l.pos(symbol)
	var realized fixed.Value
	if closed := closedPart(p.Qty, qty); closed != 0 && p.Mark != 0 {
		dir := fixed.FromInt(int64(p.Qty.Sign()))
		realized = (p.Mark - p.AvgEntry).Mul(closed).Mul(dir)
		p.Realized += realized
	}
	p.Qty, p.AvgEntry = qty, avgEntry
	if qty == 0 {
		p.AvgEntry = 0
	}
	return realized
}

// closedPart is how much of the position from (signed) is gone in to: all
// of it when to is flat or on the other side, else the reduction.
func closedPart(from, to fixed.Value) fixed.Value {
	switch {
	case from == 0:
		return 0
	case to == 0 || to.Sign() != from.Sign():
		return from.Abs()
	case to.Abs() < from.Abs():
		return from.Abs() - to.Abs()
	}
	return 0
}

// Cash is the wallet balance the ledger implies: start balance + realised
// - fees + funding, without unrealised PnL (what BalanceReport.Total is on
// the venue).
func (l *Ledger) Cash() fixed.Value {
	t := l.Totals()
	return t.Equity - t.Unrealized
}

// SeeFunding records a position's cumulative funding and returns the change
// since the last value seen for that position id (the whole amount the
// first time). A repeated value returns zero.
func (l *Ledger) SeeFunding(positionID string, cumulative fixed.Value) fixed.Value {
	if l.FundingSeen == nil {
		l.FundingSeen = map[string]fixed.Value{}
	}
	last := l.FundingSeen[positionID]
	l.FundingSeen[positionID] = cumulative
	return cumulative - last
}

// PnL sums the ledger.
type PnL struct {
	Realized   fixed.Value `json:"realized"`
	Fees       fixed.Value `json:"fees"`
	Funding    fixed.Value `json:"funding"`
	Unrealized fixed.Value `json:"unrealized"`
	// Equity = start balance + realised - fees + funding + unrealised.
	Equity fixed.Value `json:"equity"`
}

// Totals sums every symbol.
func (l *Ledger) Totals() PnL {
	var t PnL
	for _, p := range l.Positions {
		t.Realized += p.Realized
		t.Fees += p.Fees
		t.Funding += p.Funding
		t.Unrealized += p.Unrealized()
	}
	t.Equity = l.StartBalance + t.Realized - t.Fees + t.Funding + t.Unrealized
	return t
}

// List returns copies of the positions sorted by symbol.
func (l *Ledger) List() []Position {
	out := make([]Position, 0, len(l.Positions))
	for _, p := range l.Positions {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Symbol < out[j].Symbol })
	return out
}

func (l *Ledger) clone() *Ledger {
	c := &Ledger{StartBalance: l.StartBalance, Positions: make(map[string]*Position, len(l.Positions))}
	for k, p := range l.Positions {
		cp := *p
		c.Positions[k] = &cp
	}
	if l.FundingSeen != nil {
		c.FundingSeen = make(map[string]fixed.Value, len(l.FundingSeen))
		for k, v := range l.FundingSeen {
			c.FundingSeen[k] = v
		}
	}
	return c
}
