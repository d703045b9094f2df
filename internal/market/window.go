package market

import (
	"math"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/trading"
)

// TradeWindow keeps rolling statistics over the trades of the last Window,
// in a fixed ring so adding a trade never allocates. Volumes are exact
// (fixed.Value); VWAP and price deviation are statistics and use float64,
// accumulated relative to a reference price so removing old trades does
// not lose precision to cancellation.
type TradeWindow struct {
	window time.Duration
	ring   []windowEntry
	head   int // index of the oldest entry
	n      int

	buyQty, sellQty fixed.Value
	ref             float64 // reference price for the float sums
	sumQ            float64 // Σq
	sumQD           float64 // Σq·(p-ref)
	sumQD2          float64 // Σq·(p-ref)²
}

type windowEntry struct {
	t     int64 // unix nanos
	price fixed.Value
	qty   fixed.Value
	side  trading.Side
}

// NewTradeWindow returns a window over the trades of the last window,
// keeping at most maxTrades (the oldest are dropped first).
func NewTradeWindow(window time.Duration, maxTrades int) *TradeWindow {
	w := &TradeWindow{}
	w.Init(window, maxTrades)
	return w
}

// Init (re)initialises w in place, for embedding without a pointer.
func (w *TradeWindow) Init(window time.Duration, maxTrades int) {
	*w = TradeWindow{window: window, ring: make([]windowEntry, max(maxTrades, 1))}
}

// Add records a trade and drops trades older than the window, measured
// from the trade's own time.
func (w *TradeWindow) Add(t trading.Trade) {
	ts := t.Time.UnixNano()
	w.Expire(ts)
	if w.n == len(w.ring) {
		w.dropOldest()
	}
	if w.n == 0 {
		w.ref = t.Price.Float64()
	}
	w.ring[(w.head+w.n)%len(w.ring)] = windowEntry{t: ts, price: t.Price, qty: t.Qty, side: t.Side}
	w.n++
	w.account(t.Price, t.Qty, t.Side, 1)
}

// Expire drops trades at or before nowNanos-window.
func (w *TradeWindow) Expire(nowNanos int64) {
	cut := nowNanos - int64(w.window)
	for w.n > 0 && w.ring[w.head].t <= cut {
		w.dropOldest()
	}
}

func (w *TradeWindow) dropOldest() {
	e := w.ring[w.head]
	w.head = (w.head + 1) % len(w.ring)
	w.n--
	if w.n == 0 {
		// Reset exactly so float sums never drift across quiet periods.
		w.buyQty, w.sellQty, w.sumQ, w.sumQD, w.sumQD2 = 0, 0, 0, 0, 0
		return
	}
	w.account(e.price, e.qty, e.side, -1)
}

func (w *TradeWindow) account(p, q fixed.Value, side trading.Side, sign float64) {
	if side == trading.Buy {
		w.buyQty += q * fixed.Value(sign)
	} else {
		w.sellQty += q * fixed.Value(sign)
	}
	qf := q.Float64() * sign
	d := p.Float64() - w.ref
	w.sumQ += qf
	w.sumQD += qf * d
	w.sumQD2 += qf * d * d
}

// Count is the number of trades in the window.
func (w *TradeWindow) Count() int { return w.n }

// BuyVolume and SellVolume are the taker volumes in the window.
func (w *TradeWindow) BuyVolume() fixed.Value  { return w.buyQty }
func (w *TradeWindow) SellVolume() fixed.Value { return w.sellQty }

// Volume is the total volume in the window.
func (w *TradeWindow) Volume() fixed.Value { return w.buyQty + w.sellQty }

// TickImbalance is (buy-sell)/(buy+sell) taker volume in [-1, 1]; 0 when empty.
func (w *TradeWindow) TickImbalance() float64 {
	tot := w.buyQty + w.sellQty
	if tot <= 0 {
		return 0
	}
	return float64(w.buyQty-w.sellQty) / float64(tot)
}

// VWAP is the volume-weighted average price; 0 when empty.
func (w *TradeWindow) VWAP() float64 {
	if w.n == 0 || w.sumQ <= 0 {
		return 0
	}
	return w.ref + w.sumQD/w.sumQ
}

// StdDev is the volume-weighted standard deviation of trade prices around
// the VWAP; 0 with fewer than two trades.
func (w *TradeWindow) StdDev() float64 {
	if w.n < 2 || w.sumQ <= 0 {
		return 0
	}
	m := w.sumQD / w.sumQ
	v := w.sumQD2/w.sumQ - m*m
	if v <= 0 {
		return 0
	}
	return math.Sqrt(v)
}

// ZScore is (price-VWAP)/StdDev; ok is false when the deviation is zero.
func (w *TradeWindow) ZScore(price fixed.Value) (z float64, ok bool) {
	sd := w.StdDev()
	if sd == 0 {
		return 0, false
	}
	return (price.Float64() - w.VWAP()) / sd, true
}
