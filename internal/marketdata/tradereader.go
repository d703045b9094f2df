package marketdata

import (
	"bytes"
	"fmt"
	"io"
	"iter"
	"os"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
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
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open trades: %w", err)
	}
	if opt.File == "" {
		opt.File = path
	}
	if opt.Symbol == "" {
		opt.Symbol = SymbolFromFileName(path)
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
func (r *TradeReader) All() iter.Seq2[trading.Trade, error] {
	return func(yield func(trading.Trade, error) bool) {
		for {
			t, err := r.Next()
			if err == io.EOF {
				return
			}
			if !yield(t, err) || err != nil {
				return
			}
		}
	}
}

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
	fields := make([][]byte, maxColumns)
	n := splitFields(line, fields)
	if n > maxColumns {
		return r.lr.errf("", ErrHeader, "%d columns, more than %d", n, maxColumns)
	}
	r.ncols, r.fields = n, fields[:n]
	r.col = [tRoles]int{-1, -1, -1, -1}
	for i, f := range fields[:n] {
		name := lowerASCII(f)
		role := -1
		switch {
		case timeColumn(name):
			role = tTime
		case name == "price":
			role = tPrice
		case qtyColumn(name):
			role = tQty
		case name == "side":
			role = tSide
		}
		if role >= 0 && r.col[role] < 0 {
			r.col[role] = i
			r.names[role] = string(f)
		}
	}
	need := 0
	for role, c := range r.col {
		if c < 0 {
			return r.lr.errf("", ErrHeader, "header has no %s column (want time,price,qty,side)", tradeRoleNames[role])
		}
		need = max(need, c+1)
	}
	r.fields = r.fields[:need] // later columns are counted, not split
	return nil
}

func (r *TradeReader) row() (trading.Trade, error) {
	line, err := r.lr.next()
	if err != nil {
		return trading.Trade{}, err
	}
	if n := splitFields(line, r.fields); n != r.ncols {
		return trading.Trade{}, r.lr.errf("", ErrColumns, "%d columns, want %d", n, r.ncols)
	}
	f := r.fields
	ts, ok := parseTime(f[r.col[tTime]])
	if !ok {
		return trading.Trade{}, r.lr.errf(r.names[tTime], ErrTime, "malformed time %q (want epoch ms or RFC 3339)", f[r.col[tTime]])
	}
	price, err := fixed.ParseBytes(f[r.col[tPrice]])
	if err != nil {
		return trading.Trade{}, r.lr.errf(r.names[tPrice], ErrNumber, "malformed number %q", f[r.col[tPrice]])
	}
	qty, err := fixed.ParseBytes(f[r.col[tQty]])
	if err != nil {
		return trading.Trade{}, r.lr.errf(r.names[tQty], ErrNumber, "malformed number %q", f[r.col[tQty]])
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
