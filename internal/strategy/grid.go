package strategy

import (
	"strconv"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/trading"
)

// Grid quotes POST_ONLY limit orders at levels around a centre; see
// GridParams for the rules and defaults.
type Grid struct {
	symbol string
	sizing Sizing
	p      GridParams

	center fixed.Value // 0 until the first mid
	want   []gridQuote // desired quotes, rebuilt each event
	buyTag []string    // "grid-b1"...: built once, no per-event allocation
	sellTg []string
	out    out
}

type gridQuote struct {
	side  trading.Side
	price fixed.Value
	qty   fixed.Value
	tag   string
}

// NewGrid returns a grid strategy; p must be valid.
func NewGrid(symbol string, sizing Sizing, p GridParams) *Grid {
	g := &Grid{symbol: symbol, sizing: sizing, p: p,
		want: make([]gridQuote, 0, 2*p.Levels),
		out:  out{place: make([]trading.Intent, 0, 2*p.Levels), cancel: make([]string, 0, 4*p.Levels)}}
	for i := 1; i <= p.Levels; i++ {
		g.buyTag = append(g.buyTag, "grid-b"+strconv.Itoa(i))
		g.sellTg = append(g.sellTg, "grid-s"+strconv.Itoa(i))
	}
	return g
}

// Name is "grid".
func (g *Grid) Name() string { return NameGrid }

// Center returns the current grid centre (before skew); 0 before the first
// book.
func (g *Grid) Center() fixed.Value { return g.center }

// OnEvent re-evaluates the grid on book, trade, fill and timer events:
// it re-centres on drift, then cancels its orders that are not on the
// desired grid and places the desired quotes that are missing.
func (g *Grid) OnEvent(_ time.Time, ev Event, v View) Output {
	g.out.reset()
	switch ev.Kind {
	case EventBook, EventTrade, EventFill, EventTimer:
	default:
		return g.out.output()
	}
	if (ev.Kind != EventTimer && ev.Symbol != g.symbol) || v.Market == nil {
		return g.out.output()
	}
	mid, ok := v.Market.Mid()
	if !ok {
		return g.out.output()
	}
	if g.center == 0 || (mid-g.center).Abs() >= g.center.Mul(g.p.RecenterDrift) {
		g.center = mid
	}
	g.desired(v, mid)
	for i := range v.Orders {
		o := &v.Orders[i]
		if o.PendingCancel || o.ReduceOnly {
			continue
		}
		if !g.wanted(o) {
			g.out.cancel = append(g.out.cancel, o.ClientID)
		}
	}
	for i := range g.want {
		q := &g.want[i]
		if !hasOrder(v.Orders, q) {
			g.out.place = append(g.out.place, trading.Intent{Symbol: g.symbol, Side: q.side, Type: trading.Limit,
				TimeInForce: trading.PostOnly, Price: q.price, Qty: q.qty, Tag: q.tag})
		}
	}
	return g.out.output()
}

// desired computes the quotes: levels around the skewed centre, within the
// inventory limits and never crossing the book (they are post-only).
func (g *Grid) desired(v View, mid fixed.Value) {
	g.want = g.want[:0]
	pos := v.Position.Qty
	// Inventory ratio r in [-1, 1]; the centre moves by -r·skew·spacing.
	r := pos.Mul(mid).Div(g.p.MaxPositionNotional)
	r = min(max(r, -fixed.One), fixed.One)
	c := g.center.Mul(fixed.One - r.Mul(g.p.SkewFactor).Mul(g.p.Spacing))

	bestBid, hasBid := v.Market.BestBid()
	bestAsk, hasAsk := v.Market.BestAsk()
	cum := pos // worst-case position if every buy so far filled
	for i := 1; i <= g.p.Levels; i++ {
		px := c.Mul(fixed.One - g.p.Spacing.MulInt(int64(i)))
		if v.Spec != nil {
			px = v.Spec.RoundPricePassive(px, 1)
		}
		if px <= 0 || (hasAsk && px >= bestAsk.Price) {
			continue
		}
		q := g.sizing.Qty(v.Equity, px, v.Spec, false)
		if q == 0 || !g.within(cum+q, px) {
			break
		}
		cum += q
		g.want = append(g.want, gridQuote{side: trading.Buy, price: px, qty: q, tag: g.buyTag[i-1]})
	}
	cum = pos
	for i := 1; i <= g.p.Levels; i++ {
		px := c.Mul(fixed.One + g.p.Spacing.MulInt(int64(i)))
		if v.Spec != nil {
			px = v.Spec.RoundPricePassive(px, -1)
		}
		if hasBid && px <= bestBid.Price {
			continue
		}
		q := g.sizing.Qty(v.Equity, px, v.Spec, false)
		if q == 0 || !g.within(cum-q, px) {
			break
		}
		cum -= q
		g.want = append(g.want, gridQuote{side: trading.Sell, price: px, qty: q, tag: g.sellTg[i-1]})
	}
}

// within reports whether a position stays inside the inventory limits.
func (g *Grid) within(pos, px fixed.Value) bool {
	a := pos.Abs()
	if g.p.MaxPositionQty > 0 && a > g.p.MaxPositionQty {
		return false
	}
	return a.Mul(px) <= g.p.MaxPositionNotional
}

func (g *Grid) wanted(o *Order) bool {
	for i := range g.want {
		if g.want[i].side == o.Side && g.want[i].price == o.Price {
			return true
		}
	}
	return false
}

func hasOrder(orders []Order, q *gridQuote) bool {
	for i := range orders {
		if !orders[i].PendingCancel && orders[i].Side == q.side && orders[i].Price == q.price {
			return true
		}
	}
	return false
}
