package marketdata

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
)

// Format is a CSV layout the readers understand.
type Format uint8

// Formats. FormatAuto asks the reader to Detect the format from the first
// line.
const (
	FormatAuto Format = iota
	FormatKlines
	FormatBinanceKlines
	FormatTrades
)

func (f Format) String() string {
	switch f {
	case FormatAuto:
		return "auto"
	case FormatKlines:
		return "klines"
	case FormatBinanceKlines:
		return "binance-klines"
	case FormatTrades:
		return "trades"
	}
	return fmt.Sprintf("Format(%d)", uint8(f))
}

// Kinds of parse failure, for errors.Is on a *ParseError.
var (
	ErrHeader    = errors.New("bad header")
	ErrColumns   = errors.New("wrong column count")
	ErrNumber    = errors.New("malformed number")
	ErrTime      = errors.New("malformed time")
	ErrValue     = errors.New("invalid value")
	ErrUnsorted  = errors.New("time goes backwards")
	ErrDuplicate = errors.New("duplicate timestamp")
	ErrGap       = errors.New("gap")
	ErrLine      = errors.New("line too long")
)

// ParseError locates a failure in a CSV file. Column is the column's name
// (from the header or the format) or empty when the whole line is at fault.
type ParseError struct {
	File   string
	Line   int
	Column string
	Msg    string
	Kind   error // one of the Err* values above
}

func (e *ParseError) Error() string {
	file := e.File
	if file == "" {
		file = "<input>"
	}
	if e.Column != "" {
		return fmt.Sprintf("%s:%d: column %s: %s", file, e.Line, e.Column, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", file, e.Line, e.Msg)
}

// Unwrap returns the kind, so errors.Is(err, ErrGap) works.
func (e *ParseError) Unwrap() error { return e.Kind }

// lineReader yields lines without their terminator, reusing its buffer.
// Lines are CSV records without quoting of separators: fields may be wrapped
// in double quotes, but a quoted comma is not supported (no market data
// file needs one).
type lineReader struct {
	br   *bufio.Reader
	file string
	line int
}

const maxLine = 64 << 10

func newLineReader(r io.Reader, file string) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, maxLine), file: file}
}

// next returns the next non-blank line. The slice is valid until the next
// call. It returns io.EOF at the end.
func (l *lineReader) next() ([]byte, error) {
	for {
		b, err := l.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			l.line++
			return nil, &ParseError{File: l.file, Line: l.line, Msg: fmt.Sprintf("line longer than %d bytes", maxLine), Kind: ErrLine}
		}
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("%s:%d: read: %w", l.file, l.line+1, err)
		}
		if len(b) == 0 && err == io.EOF {
			return nil, io.EOF
		}
		l.line++
		b = trimEOL(b)
		if l.line == 1 {
			b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
		}
		if len(b) == 0 || isBlank(b) {
			if err == io.EOF {
				return nil, io.EOF
			}
			continue
		}
		return b, nil
	}
}

func (l *lineReader) errf(column string, kind error, format string, args ...any) *ParseError {
	return &ParseError{File: l.file, Line: l.line, Column: column, Msg: fmt.Sprintf(format, args...), Kind: kind}
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}

// splitFields stores the first len(dst) fields of line in dst and returns
// the total number of fields (which may exceed len(dst)). Fields past dst
// are only counted, which is cheaper than splitting them.
func splitFields(line []byte, dst [][]byte) int {
	n := 0
	for n < len(dst) {
		i := bytes.IndexByte(line, ',')
		if i < 0 {
			dst[n] = trimField(line)
			return n + 1
		}
		dst[n] = trimField(line[:i])
		n++
		line = line[i+1:]
	}
	return n + 1 + bytes.Count(line, []byte{','})
}

// trimField strips surrounding blanks and one pair of double quotes.
func trimField(f []byte) []byte {
	for len(f) > 0 && (f[0] == ' ' || f[0] == '\t') {
		f = f[1:]
	}
	for len(f) > 0 && (f[len(f)-1] == ' ' || f[len(f)-1] == '\t') {
		f = f[:len(f)-1]
	}
	if len(f) >= 2 && f[0] == '"' && f[len(f)-1] == '"' {
		f = f[1 : len(f)-1]
	}
	return f
}

// lowerASCII returns b lower-cased, as a new string (headers only).
func lowerASCII(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return string(out)
}

func allDigits(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Column name aliases accepted in headers, lower case.
func timeColumn(name string) bool {
	switch name {
	case "open_time", "opentime", "time", "timestamp", "ts", "date", "datetime":
		return true
	}
	return false
}

func qtyColumn(name string) bool {
	switch name {
	case "qty", "quantity", "size", "amount", "volume", "vol":
		return true
	}
	return false
}

// Detect reports the format of a file from its first line: a header naming
// open/high/low/close is FormatKlines, one naming price/qty/side is
// FormatTrades, and a headerless 12-column line starting with an epoch is a
// Binance kline dump.
func Detect(firstLine []byte) (Format, error) {
	line := trimEOL(bytes.TrimPrefix(firstLine, []byte("\xef\xbb\xbf")))
	var fields [64][]byte
	n := splitFields(line, fields[:])
	if n > len(fields) {
		return FormatAuto, fmt.Errorf("detect: %d columns, more than %d", n, len(fields))
	}
	if allDigits(fields[0]) {
		if n == binanceColumns {
			return FormatBinanceKlines, nil
		}
		return FormatAuto, fmt.Errorf("detect: headerless line with %d columns; only Binance kline dumps (%d columns) have no header", n, binanceColumns)
	}
	var hasTime, hasPrice, hasQty, hasSide, hasOHLC int
	for _, f := range fields[:n] {
		name := lowerASCII(f)
		switch {
		case timeColumn(name):
			hasTime = 1
		case name == "price":
			hasPrice = 1
		case name == "side":
			hasSide = 1
		case name == "open", name == "high", name == "low", name == "close":
			hasOHLC++
		}
		if qtyColumn(name) {
			hasQty = 1
		}
	}
	switch {
	case hasTime == 1 && hasOHLC == 4:
		return FormatKlines, nil
	case hasTime == 1 && hasPrice == 1 && hasQty == 1 && hasSide == 1:
		return FormatTrades, nil
	}
	return FormatAuto, fmt.Errorf("detect: header %q names neither klines (open_time,open,high,low,close,volume) nor trades (time,price,qty,side)", truncateBytes(line, 120))
}

// DetectReader peeks the first line of br without consuming it.
func DetectReader(br *bufio.Reader) (Format, error) {
	for n := 256; ; n *= 2 {
		b, err := br.Peek(n)
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			return Detect(b[:i])
		}
		if err != nil || n >= br.Size() {
			if len(b) == 0 {
				return FormatAuto, fmt.Errorf("detect: empty input")
			}
			return Detect(b)
		}
	}
}

func truncateBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// parseTime accepts epoch milliseconds (up to 14 digits), epoch
// microseconds (15–17 digits, as newer Binance dumps use) or RFC 3339 with
// optional fraction and either Z or a ±hh:mm offset. The result is in UTC.
func parseTime(b []byte) (time.Time, bool) {
	if allDigits(b) {
		if len(b) > 17 {
			return time.Time{}, false
		}
		var n int64
		for _, c := range b {
			n = n*10 + int64(c-'0')
		}
		if len(b) >= 15 {
			return time.UnixMicro(n).UTC(), true
		}
		return time.UnixMilli(n).UTC(), true
	}
	return parseRFC3339(b)
}

// num parses a short run of ASCII digits.
func num(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// parseRFC3339 is a hand-written fast path for
// YYYY-MM-DD[T ]HH:MM:SS[.fffffffff](Z|±HH:MM).
func parseRFC3339(b []byte) (time.Time, bool) {
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != 't' && b[10] != ' ') || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	year, ok1 := num(b[0:4])
	month, ok2 := num(b[5:7])
	day, ok3 := num(b[8:10])
	hour, ok4 := num(b[11:13])
	minute, ok5 := num(b[14:16])
	sec, ok6 := num(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	rest := b[19:]
	nanos := 0
	if len(rest) > 0 && rest[0] == '.' {
		i := 1
		scale := 100_000_000
		for ; i < len(rest) && rest[i] >= '0' && rest[i] <= '9'; i++ {
			nanos += int(rest[i]-'0') * scale
			scale /= 10
		}
		if i == 1 || i > 10 {
			return time.Time{}, false
		}
		rest = rest[i:]
	}
	offset := 0
	switch {
	case len(rest) == 1 && (rest[0] == 'Z' || rest[0] == 'z'):
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, ok1 := num(rest[1:3])
		om, ok2 := num(rest[4:6])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return time.Time{}, false
		}
		offset = oh*3600 + om*60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return time.Time{}, false
	}
	secs := daysFromCivil(year, month, day)*86400 + int64(hour*3600+minute*60+sec) - int64(offset)
	return time.Unix(secs, int64(nanos)).UTC(), true
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns days since 1970-01-01 (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400 // y >= 0 here: four-digit years only
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// header maps a CSV header line onto column roles for a reader. roleOf
// classifies a column name in any case (-1: not used); the first column of a
// role wins, and col and names receive its position and spelling. It returns
// the column count and a field buffer that splits only through the last
// needed column (later columns are counted, not split). A role with no
// column is ErrHeader naming roleNames[role], followed by hint.
func (l *lineReader) header(line []byte, roleOf func(column []byte) int, col []int, names, roleNames []string, hint string) (ncols int, fields [][]byte, err error) {
	fields = make([][]byte, maxColumns)
	n := splitFields(line, fields)
	if n > maxColumns {
		return 0, nil, l.errf("", ErrHeader, "%d columns, more than %d", n, maxColumns)
	}
	for i := range col {
		col[i] = -1
	}
	for i, f := range fields[:n] {
		if role := roleOf(f); role >= 0 && col[role] < 0 {
			col[role] = i
			names[role] = string(f)
		}
	}
	need := 0
	for role, c := range col {
		if c < 0 {
			return 0, nil, l.errf("", ErrHeader, "header has no %s column%s", roleNames[role], hint)
		}
		need = max(need, c+1)
	}
	return n, fields[:need], nil
}

// split splits a data line into fields, which must number ncols.
func (l *lineReader) split(line []byte, fields [][]byte, ncols int) error {
	if n := splitFields(line, fields); n != ncols {
		return l.errf("", ErrColumns, "%d columns, want %d", n, ncols)
	}
	return nil
}

// timeField parses a time field of the named column.
func (l *lineReader) timeField(column string, b []byte) (time.Time, error) {
	t, ok := parseTime(b)
	if !ok {
		return t, l.errf(column, ErrTime, "malformed time %q (want epoch ms or RFC 3339)", b)
	}
	return t, nil
}

// numberField parses a numeric field of the named column.
func (l *lineReader) numberField(column string, b []byte) (fixed.Value, error) {
	v, err := fixed.ParseBytes(b)
	if err != nil {
		return 0, l.errf(column, ErrNumber, "malformed number %q", b)
	}
	return v, nil
}

// records adapts a reader's Next to a range-over-func iterator: it stops at
// io.EOF and yields a failure once, last, with a zero record.
func records[T any](next func() (T, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for {
			v, err := next()
			if err == io.EOF {
				return
			}
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			if !yield(v, nil) {
				return
			}
		}
	}
}

// openFile opens a market data file for a reader; an empty file name (for
// errors) becomes path and an empty symbol is taken from the file name.
func openFile(path, what string, file, symbol *string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", what, err)
	}
	if *file == "" {
		*file = path
	}
	if *symbol == "" {
		*symbol = SymbolFromFileName(path)
	}
	return f, nil
}
