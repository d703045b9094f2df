package backtest

import (
	"fmt"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/trading"
)

// FillModel says how klines become market events (see README "How history
// becomes market events"). Trade files always replay print by print.
type FillModel uint8

// Fill models.
const (
	// FillOHLCPath (default): every kline is four prints (open, nearer
	// extreme, other extreme, close), each a book, a trade and a mark
	// through the whole pipeline; candles are built from the prints. (Not
	// the simulator's kline replay, marketdata.Replay, which has ten points
	// a kline and a mark at the open only.)
	FillOHLCPath FillModel = iota
	// FillCandle feeds each closed kline to the strategy as a candle (and
	// aggregated to longer intervals), not as prints. At kline N+1's open the
	// venue's book and the mark move to that open, then kline N's candle is
	// delivered, so orders decided on N's close fill at the earliest on
	// N+1's open (no look-ahead). The rest of N+1's OHLC path (the two
	// extremes and the close, as in FillOHLCPath) reaches the matching
	// engine and the mark only while there is something it can change: an
	// open order, or a position (fills, liquidation, unrealised PnL). The
	// strategy sees no trades or books: trade-driven logic (the trend
	// strategy's stop check) runs at candle closes, on the candle's
	// high/low; book-driven strategies (grid, mean reversion) need
	// FillOHLCPath.
	FillCandle
)

// String is the flag spelling.
func (m FillModel) String() string {
	if m == FillCandle {
		return "candle"
	}
	return "ohlc-path"
}

// ParseFillModel reads "ohlc-path" or "candle".
func ParseFillModel(s string) (FillModel, error) {
	switch s {
	case "", "ohlc-path":
		return FillOHLCPath, nil
	case "candle":
		return FillCandle, nil
	}
	return 0, fmt.Errorf("fill model %q: want ohlc-path or candle", s)
}

// klinePath is the kline's four prints in the replay order: open, the
// extreme nearer the open's direction (low first for a rising candle), the
// other extreme, close.
func klinePath(k trading.Kline) [4]fixed.Value {
	a, b := k.High, k.Low
	if k.Close > k.Open {
		a, b = k.Low, k.High
	}
	return [4]fixed.Value{k.Open, a, b, k.Close}
}

// printShape is how a kline becomes prints in both models: its interval
// (a minute if unknown) and each print's quantity, a quarter of the
// volume, at least one lot.
func (r *runner) printShape(k trading.Kline) (time.Duration, fixed.Value) {
	iv := k.Interval
	if iv <= 0 {
		iv = time.Minute
	}
	return iv, r.spec.RoundQty(k.Volume.DivInt(4)).Max(r.spec.LotStep())
}

// printSide is the aggressor of a print at p after one at prev: a sell
// when the price fell, else a buy.
func printSide(p, prev fixed.Value) trading.Side {
	if p < prev {
		return trading.Sell
	}
	return trading.Buy
}

// hasOrders reports whether an order is open or queued: only then do
// books and prints matter to the matching engine.
func (r *runner) hasOrders() bool {
	return len(r.venue.pending) > 0 || r.core.OpenOrderCount() > 0
}

// lazyBook is a kline print's book, built only when the matching engine
// needs it (buildLazyBook).
type lazyBook struct {
	t          time.Time
	price, qty fixed.Value
}

// buildLazyBook builds r.lazy as the ohlc-path model would: best bid at
// the print, best ask one tick above, every level qty.
func (r *runner) buildLazyBook() *trading.Book {
	r.setBook(r.lazy.t, r.lazy.price, r.lazy.price+r.spec.Tick(), r.lazy.qty, false)
	return &r.book
}

// klineCandle replays one kline under FillCandle.
func (r *runner) klineCandle(k trading.Kline) {
	iv, qty := r.printShape(k)
	path := klinePath(k)
	t := k.OpenTime
	// The open: the book (an order decided below meets it; the venue takes
	// it before any order reaches the matching engine) and the mark
	// (equity, liquidation, funding) move to it.
	r.pre(t) // orders due now meet the last book before it (delayVenue.release)
	r.lazy = lazyBook{t: t, price: k.Open, qty: qty.MulInt(20)}
	r.venue.lazyPending = true
	if r.hasOrders() {
		r.venue.applyLazyBook()
		_ = r.venue.ApplyTrade(trading.Trade{Symbol: r.symbol, Price: k.Open, Qty: qty, Side: trading.Buy, Time: t})
	}
	orders, position := r.hasOrders(), r.rec.Position() != 0
	r.venue.holdMarks = !orders && !position && !r.opt.noShortcuts
	r.core.OnMark(r.ctx, t, trading.MarkPrice{Symbol: r.symbol, Mark: k.Open, Index: k.Open, FundingRate: r.fundingRate, Time: t})
	// The previous kline closed at this open: its candle reaches the
	// strategy now, and what it decides meets this open's book.
	if r.hasPrev {
		r.core.OnKline(r.ctx, t, r.prev)
	}
	r.venue.holdMarks = false
	r.prev, r.hasPrev = k, true
	// The rest of the path: prints and books while an order can fill,
	// marks while there is a position (unrealised PnL, the loss breakers,
	// liquidation, TP/SL on mark).
	orders, position = r.hasOrders(), r.rec.Position() != 0
	if !orders && position && r.quietPath(k, iv, qty, path) {
		r.observe(k.OpenTime.Add(iv * 3 / 4))
		return
	}
	prev := k.Open
	for i := 1; i < 4 && (orders || position); i++ {
		p := path[i]
		t = k.OpenTime.Add(iv * time.Duration(i) / 4)
		side := printSide(p, prev)
		prev = p
		r.pre(t)
		r.lazy = lazyBook{t: t, price: p, qty: qty.MulInt(20)}
		r.venue.lazyPending = true
		if orders {
			r.venue.applyLazyBook()
			_ = r.venue.ApplyTrade(trading.Trade{Symbol: r.symbol, Price: p, Qty: qty, Side: side, Time: t})
		}
		r.core.OnMark(r.ctx, t, trading.MarkPrice{Symbol: r.symbol, Mark: p, Index: p, FundingRate: r.fundingRate, Time: t})
		orders, position = r.hasOrders(), r.rec.Position() != 0
	}
	r.observe(k.OpenTime.Add(iv * 3 / 4))
}

// quietPath gives the rest of a kline's path to the Core as marks in one
// call (Core.OnMarksQuiet) when they can only move the mark: a position
// and no orders (no print or book can matter), no funding due before the
// close, and the Core and the venue agree nothing can trigger. It reports
// whether it did; if not, nothing happened.
func (r *runner) quietPath(k trading.Kline, iv time.Duration, qty fixed.Value, path [4]fixed.Value) bool {
	if r.opt.noShortcuts {
		return false
	}
	var marks [3]trading.MarkPrice
	for i := range marks {
		t := k.OpenTime.Add(iv * time.Duration(i+1) / 4)
		marks[i] = trading.MarkPrice{Symbol: r.symbol, Mark: path[i+1], Index: path[i+1], FundingRate: r.fundingRate, Time: t}
	}
	end := marks[2].Time
	if r.fundingIv > 0 && !r.nextFunding.After(end) {
		return false // pre would settle funding between two of them
	}
	if !r.core.OnMarksQuiet(r.ctx, marks[:]) {
		return false
	}
	// What the prints' loop leaves behind: market time at the close, and
	// the close's book owed to the matching engine.
	r.pre(end)
	r.lazy = lazyBook{t: end, price: path[3], qty: qty.MulInt(20)}
	r.venue.lazyPending = true
	return true
}
