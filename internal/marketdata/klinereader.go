package marketdata

import (
	"io"
	"iter"
	"path/filepath"
	"strings"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/trading"
)

// binanceColumns is the width of a Binance public kline dump line:
// open_time, open, high, low, close, volume, close_time, quote_volume,
// count, taker_buy_base, taker_buy_quote, ignore.
const binanceColumns = 12

const maxColumns = 64

// KlineOptions configures a KlineReader.
type KlineOptions struct {
	File      string        // name used in errors
	Symbol    string        // set on every kline
	Format    Format        // FormatAuto (detect), FormatKlines or FormatBinanceKlines
	Interval  time.Duration // 0: from a Binance close_time, else from the first two rows
	AllowGaps bool          // accept missing intervals instead of failing
}

// Kline column roles, in the order of KlineReader.col.
const (
	kOpenTime = iota
	kOpen
	kHigh
	kLow
	kClose
	kVolume
	kRoles
)

var klineRoleNames = [kRoles]string{"open_time", "open", "high", "low", "close", "volume"}

// KlineReader streams klines from CSV in constant memory. It checks every
// row (numbers, column count, high ≥ low, open and close within the range)
// and the sequence (sorted, no duplicates, no gaps unless allowed, every
// step a multiple of the interval). Errors are *ParseError and sticky.
type KlineReader struct {
	lr       *lineReader
	opt      KlineOptions
	closer   io.Closer
	started  bool
	format   Format
	col      [kRoles]int
	names    [kRoles]string // column names as in the header, for errors
	ncols    int
	fields   [][]byte
	interval time.Duration
	prev     time.Time
	havePrev bool

	first      []byte // a data line read while detecting the format
	pending    trading.Kline
	pendingErr error
	hasPending bool
	err        error
}

// NewKlineReader reads klines from r.
func NewKlineReader(r io.Reader, opt KlineOptions) *KlineReader {
	return &KlineReader{lr: newLineReader(r, opt.File), opt: opt, interval: opt.Interval}
}

// OpenKlines opens a kline file. An empty opt.File becomes path, and an
// empty opt.Symbol is taken from a file name like BTCUSDT-1m-2024-01.csv.
func OpenKlines(path string, opt KlineOptions) (*KlineReader, error) {
	f, err := openFile(path, "klines", &opt.File, &opt.Symbol)
	if err != nil {
		return nil, err
	}
	r := NewKlineReader(f, opt)
	r.closer = f
	return r, nil
}

// SymbolFromFileName returns the leading upper-case alphanumeric part of a
// file's base name ("BTCUSDT-1m.csv" → "BTCUSDT"), or "" if there is none.
func SymbolFromFileName(path string) string {
	base := filepath.Base(path)
	end := strings.IndexAny(base, "-_.")
	if end < 0 {
		end = len(base)
	}
	s := base[:end]
	if s == "" {
		return ""
	}
	for _, c := range s {
		if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return ""
		}
	}
	return s
}

// Close closes the file opened by OpenKlines; it is a no-op otherwise.
func (r *KlineReader) Close() error {
	if r.closer == nil {
		return nil
	}
	return r.closer.Close()
}

// Format returns the format in use, once the first Next has run.
func (r *KlineReader) Format() Format { return r.format }

// Interval returns the kline interval, once known.
func (r *KlineReader) Interval() time.Duration { return r.interval }

// All iterates the remaining klines. A failure is yielded once, last.
func (r *KlineReader) All() iter.Seq2[trading.Kline, error] { return records(r.Next) }

// Next returns the next kline, or io.EOF at the end.
func (r *KlineReader) Next() (trading.Kline, error) {
	if r.err != nil {
		return trading.Kline{}, r.err
	}
	if r.hasPending {
		r.hasPending = false
		if r.pendingErr != nil {
			r.err = r.pendingErr
			return trading.Kline{}, r.err
		}
		return r.pending, nil
	}
	if !r.started {
		r.started = true
		if err := r.start(); err != nil {
			r.err = err
			return trading.Kline{}, err
		}
	}
	k, err := r.row()
	if err != nil {
		r.err = err
		return trading.Kline{}, err
	}
	if r.interval == 0 {
		// Infer the interval from the second row and hold that row back.
		k2, err := r.row()
		r.hasPending, r.pending, r.pendingErr = true, k2, err
		k.Interval = r.interval
	}
	return k, nil
}

// start reads the header, or detects a headerless Binance dump.
func (r *KlineReader) start() error {
	line, err := r.lr.next()
	if err == io.EOF {
		return io.EOF
	}
	if err != nil {
		return err
	}
	format := r.opt.Format
	if format == FormatAuto {
		if format, err = Detect(line); err != nil {
			return r.lr.errf("", ErrHeader, "%v", err)
		}
	}
	switch format {
	case FormatBinanceKlines:
		r.format, r.ncols = format, binanceColumns
		r.col = [kRoles]int{0, 1, 2, 3, 4, 5}
		r.names = klineRoleNames
		r.fields = make([][]byte, 7)           // through close_time
		r.first = append([]byte(nil), line...) // headerless: the first line is data
		return nil
	case FormatKlines:
		r.format = format
		return r.header(line)
	}
	return r.lr.errf("", ErrHeader, "format %s is not a kline format", format)
}

func (r *KlineReader) header(line []byte) error {
	var err error
	r.ncols, r.fields, err = r.lr.header(line, klineRole, r.col[:], r.names[:], klineRoleNames[:], "")
	return err
}

// klineRole classifies a kline header column name.
func klineRole(column []byte) int {
	name := lowerASCII(column)
	switch {
	case timeColumn(name) && name != "close_time":
		return kOpenTime
	case name == "open":
		return kOpen
	case name == "high":
		return kHigh
	case name == "low":
		return kLow
	case name == "close":
		return kClose
	case name == "volume" || name == "vol" || name == "base_volume":
		return kVolume
	}
	return -1
}

// row reads and checks one kline.
func (r *KlineReader) row() (trading.Kline, error) {
	line := r.first
	if line != nil {
		r.first = nil
	} else {
		var err error
		if line, err = r.lr.next(); err != nil {
			return trading.Kline{}, err
		}
	}
	if err := r.lr.split(line, r.fields, r.ncols); err != nil {
		return trading.Kline{}, err
	}
	f := r.fields
	t, err := r.lr.timeField(r.names[kOpenTime], f[r.col[kOpenTime]])
	if err != nil {
		return trading.Kline{}, err
	}
	var v [kRoles]fixed.Value
	for role := kOpen; role < kRoles; role++ {
		if v[role], err = r.lr.numberField(r.names[role], f[r.col[role]]); err != nil {
			return trading.Kline{}, err
		}
	}
	k := trading.Kline{Symbol: r.opt.Symbol, OpenTime: t, Interval: r.interval,
		Open: v[kOpen], High: v[kHigh], Low: v[kLow], Close: v[kClose], Volume: v[kVolume]}
	switch {
	case k.Low <= 0:
		return k, r.lr.errf(r.names[kLow], ErrValue, "low %s is not positive", k.Low)
	case k.High < k.Low:
		return k, r.lr.errf(r.names[kHigh], ErrValue, "high %s < low %s", k.High, k.Low)
	case k.Open < k.Low || k.Open > k.High:
		return k, r.lr.errf(r.names[kOpen], ErrValue, "open %s outside [low %s, high %s]", k.Open, k.Low, k.High)
	case k.Close < k.Low || k.Close > k.High:
		return k, r.lr.errf(r.names[kClose], ErrValue, "close %s outside [low %s, high %s]", k.Close, k.Low, k.High)
	case k.Volume < 0:
		return k, r.lr.errf(r.names[kVolume], ErrValue, "negative volume %s", k.Volume)
	}
	if r.interval == 0 && r.format == FormatBinanceKlines && !r.havePrev {
		r.interval = binanceInterval(t, f[6])
		k.Interval = r.interval
	}
	if err := r.sequence(t); err != nil {
		return k, err
	}
	k.Interval = r.interval
	return k, nil
}

// binanceInterval derives the interval from the close_time column
// (open_time + interval - 1 unit); 0 if it is unusable.
func binanceInterval(open time.Time, closeField []byte) time.Duration {
	ct, ok := parseTime(closeField)
	if !ok {
		return 0
	}
	unit := time.Millisecond
	if len(closeField) >= 15 {
		unit = time.Microsecond
	}
	d := ct.Sub(open) + unit
	if d <= 0 {
		return 0
	}
	return d
}

// sequence checks t against the previous open time and, for the second row
// of a file whose interval is unknown, infers it.
func (r *KlineReader) sequence(t time.Time) error {
	if !r.havePrev {
		r.prev, r.havePrev = t, true
		return nil
	}
	d := t.Sub(r.prev)
	col := r.names[kOpenTime]
	switch {
	case d < 0:
		return r.lr.errf(col, ErrUnsorted, "open time %s is before the previous row's %s", fmtTime(t), fmtTime(r.prev))
	case d == 0:
		return r.lr.errf(col, ErrDuplicate, "duplicate open time %s", fmtTime(t))
	case r.interval == 0:
		r.interval = d
	case d%r.interval != 0:
		return r.lr.errf(col, ErrGap, "open time %s is %s after the previous row, not a multiple of the interval %s", fmtTime(t), d, r.interval)
	case d != r.interval && !r.opt.AllowGaps:
		return r.lr.errf(col, ErrGap, "gap: %d missing %s klines between %s and %s", d/r.interval-1, r.interval, fmtTime(r.prev), fmtTime(t))
	}
	r.prev = t
	return nil
}

func fmtTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
