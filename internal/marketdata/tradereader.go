package marketdata

import (
	"bytes"
	"io"
	"iter"
	"time"

	"github.com/bitrader/bitrader/internal/trading"
)

// TradeOptions configures a TradeReader.
type TradeOptions struct {
	File   string // name used in errors
	Symbol string // set on every trade
}

// Trade column roles.
const (
	tTime = iota
	tPrice
	tQty
	tSide
	tRoles
)

var tradeRoleNames = [tRoles]string{"time", "price", "qty", "side"}

// TradeReader streams trades from a CSV file with a header naming time,
// price, qty and side, in any order and case; other columns are ignored.
// Time must not go backwards; equal timestamps are normal for trades.
type TradeReader struct {
	lr      *lineReader
	opt     TradeOptions
	closer  io.Closer
	started bool
	col     [tRoles]int
	names   [tRoles]string
	ncols   int
	fields  [][]byte
	prev    time.Time
	err     error
}

// NewTradeReader reads trades from r.
func NewTradeReader(r io.Reader, opt TradeOptions) *TradeReader {
	return &TradeReader{lr: newLineReader(r, opt.File), opt: opt}
}

// OpenTrades opens a trade file; empty File and Symbol are filled from path
// as OpenKlines does.
func OpenTrades(path string, opt TradeOptions) (*TradeReader, error) {
	f, err := openFile(path, "trades", &opt.File, &opt.Symbol)
	if err != nil {
		return nil, err
	}
	r := NewTradeReader(f, opt)
	r.closer = f
	return r, nil
}

// Close closes the file opened by OpenTrades; it is a no-op otherwise.
func (r *TradeReader) Close() error {
	if r.closer == nil {
		return nil
	}
	return r.closer.Close()
}

// All iterates the remaining trades. A failure is yielded once, last.
func (r *TradeReader) All() iter.Seq2[trading.Trade, error] { return records(r.Next) }

// Next returns the next trade, or io.EOF at the end.
func (r *TradeReader) Next() (trading.Trade, error) {
	if r.err != nil {
		return trading.Trade{}, r.err
	}
	if !r.started {
		r.started = true
		if err := r.header(); err != nil {
			r.err = err
			return trading.Trade{}, err
		}
	}
	t, err := r.row()
	if err != nil {
		r.err = err
	}
	return t, err
}

func (r *TradeReader) header() error {
	line, err := r.lr.next()
	if err != nil {
		return err
	}
	r.ncols, r.fields, err = r.lr.header(line, tradeRole, r.col[:], r.names[:], tradeRoleNames[:], " (want time,price,qty,side)")
	return err
}

// tradeRole classifies a trade header column name.
func tradeRole(column []byte) int {
	name := lowerASCII(column)
	switch {
	case timeColumn(name):
		return tTime
	case name == "price":
		return tPrice
	case qtyColumn(name):
		return tQty
	case name == "side":
		return tSide
	}
	return -1
}

func (r *TradeReader) row() (trading.Trade, error) {
	line, err := r.lr.next()
	if err != nil {
		return trading.Trade{}, err
	}
	if err := r.lr.split(line, r.fields, r.ncols); err != nil {
		return trading.Trade{}, err
	}
	f := r.fields
	ts, err := r.lr.timeField(r.names[tTime], f[r.col[tTime]])
	if err != nil {
		return trading.Trade{}, err
	}
	price, err := r.lr.numberField(r.names[tPrice], f[r.col[tPrice]])
	if err != nil {
		return trading.Trade{}, err
	}
	qty, err := r.lr.numberField(r.names[tQty], f[r.col[tQty]])
	if err != nil {
		return trading.Trade{}, err
	}
	side, ok := parseSide(f[r.col[tSide]])
	if !ok {
		return trading.Trade{}, r.lr.errf(r.names[tSide], ErrValue, "side %q is neither buy nor sell", f[r.col[tSide]])
	}
	switch {
	case price <= 0:
		return trading.Trade{}, r.lr.errf(r.names[tPrice], ErrValue, "price %s is not positive", price)
	case qty <= 0:
		return trading.Trade{}, r.lr.errf(r.names[tQty], ErrValue, "qty %s is not positive", qty)
	case ts.Before(r.prev):
		return trading.Trade{}, r.lr.errf(r.names[tTime], ErrUnsorted, "time %s is before the previous row's %s", fmtTime(ts), fmtTime(r.prev))
	}
	r.prev = ts
	return trading.Trade{Symbol: r.opt.Symbol, Price: price, Qty: qty, Side: side, Time: ts}, nil
}

// parseSide accepts buy/sell in any case without allocating.
func parseSide(b []byte) (trading.Side, bool) {
	switch {
	case bytes.EqualFold(b, []byte("buy")):
		return trading.Buy, true
	case bytes.EqualFold(b, []byte("sell")):
		return trading.Sell, true
	}
	return 0, false
}
