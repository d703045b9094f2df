package marketdata

import (
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/trading"
)

func ms(n int64) time.Time { return time.UnixMilli(n).UTC() }

func fv(s string) fixed.Value { return fixed.MustParse(s) }

// readKlines reads everything, returning the klines before the first error.
func readKlines(in string, opt KlineOptions) ([]trading.Kline, error) {
	r := NewKlineReader(strings.NewReader(in), opt)
	var out []trading.Kline
	for {
		k, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, k)
	}
}

// checkParseError asserts err is a *ParseError of the kind at the line, and
// that the message names file:line.
func checkParseError(t *testing.T, err error, kind error, line int, column string) {
	t.Helper()
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not a *ParseError", err, err)
	}
	if !errors.Is(err, kind) {
		t.Errorf("error %q: kind %v, want %v", err, pe.Kind, kind)
	}
	if pe.Line != line {
		t.Errorf("error %q: line %d, want %d", err, pe.Line, line)
	}
	if pe.Column != column {
		t.Errorf("error %q: column %q, want %q", err, pe.Column, column)
	}
	if want := pe.File + ":" + strconv.Itoa(line) + ":"; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q does not start with %q", err, want)
	}
}

const binanceRow1 = "1704067200000,42283.58,42554.57,42261.02,42475.23,1271.68108,1704067259999,53957248.97,47134,682.57581,28957416.82,0"
const binanceRow2 = "1704067260000,42475.23,42500,42400,42450.1,10.5,1704067319999,445000.5,100,5.2,220000.1,0"

func TestKlineReader(t *testing.T) {
	k1 := trading.Kline{Symbol: "BTCUSDT", OpenTime: ms(1704067200000), Interval: time.Minute,
		Open: fv("42283.58"), High: fv("42554.57"), Low: fv("42261.02"), Close: fv("42475.23"), Volume: fv("1271.68108")}
	tests := []struct {
		name    string
		in      string
		opt     KlineOptions
		want    []trading.Kline // nil: only check count
		count   int
		kind    error // nil: expect success
		line    int
		column  string
		interva time.Duration
	}{
		{name: "header any order, extra columns, CRLF, case", in: "Volume,CLOSE,low,high,open,open_time,trades\r\n1271.68108,42475.23,42261.02,42554.57,42283.58,1704067200000,9\r\n10,42450,42400,42500,42475.23,1704067260000,3\r\n",
			count: 2, interva: time.Minute, want: []trading.Kline{k1, {Symbol: "BTCUSDT", OpenTime: ms(1704067260000), Interval: time.Minute, Open: fv("42475.23"), High: fv("42500"), Low: fv("42400"), Close: fv("42450"), Volume: fv("10")}}},
		{name: "rfc3339 open_time, blank lines, quotes, bom", in: "\xef\xbb\xbfopen_time,open,high,low,close,volume\n\n\"2024-01-01T00:00:00Z\",1,2,0.5,1.5,3\n2024-01-01T01:01:00+01:00,1.5,2,1,1,0\n   \n",
			count: 2, interva: time.Minute},
		{name: "binance ms", in: binanceRow1 + "\n" + binanceRow2 + "\n", count: 2, interva: time.Minute, want: []trading.Kline{k1}},
		{name: "binance us", in: "1704067200000000,1,2,0.5,1.5,3,1704070799999999,1,1,1,1,0\n1704070800000000,1,2,0.5,1.5,3,1704074399999999,1,1,1,1,0\n", count: 2, interva: time.Hour},
		{name: "binance single row interval from close_time", in: binanceRow1, count: 1, interva: time.Minute},
		{name: "single row, interval unknown", in: "open_time,open,high,low,close,volume\n1704067200000,1,2,0.5,1.5,3\n", count: 1},
		{name: "explicit interval", in: "open_time,open,high,low,close,volume\n1704067200000,1,2,0.5,1.5,3\n", opt: KlineOptions{Interval: 5 * time.Minute}, count: 1, interva: 5 * time.Minute},
		{name: "gap allowed", in: "open_time,open,high,low,close,volume\n0,1,1,1,1,1\n60000,1,1,1,1,1\n240000,1,1,1,1,1\n", opt: KlineOptions{AllowGaps: true}, count: 3, interva: time.Minute},
		{name: "header only", in: "open_time,open,high,low,close,volume\n", count: 0},
		{name: "empty", in: "", count: 0},

		{name: "malformed number", in: "open_time,open,high,low,close,volume\n0,1,1,1,1,1\n60000,1,x1,1,1,1\n", kind: ErrNumber, line: 3, column: "high"},
		{name: "malformed time", in: "open_time,open,high,low,close,volume\n2024-13-01T00:00:00Z,1,1,1,1,1\n", kind: ErrTime, line: 2, column: "open_time"},
		{name: "wrong column count", in: "open_time,open,high,low,close,volume\n0,1,1,1,1\n", kind: ErrColumns, line: 2},
		{name: "binance wrong column count", in: binanceRow1 + "\n1704067260000,1,1,1,1,1\n", kind: ErrColumns, line: 2},
		{name: "high < low", in: "open_time,open,high,low,close,volume\n0,1,1,2,1,1\n", kind: ErrValue, line: 2, column: "high"},
		{name: "close above high", in: "open_time,open,high,low,close,volume\n0,1,2,1,3,1\n", kind: ErrValue, line: 2, column: "close"},
		{name: "negative volume", in: "open_time,open,high,low,close,Volume\n0,1,2,1,1,-1\n", kind: ErrValue, line: 2, column: "Volume"},
		{name: "unsorted", in: "open_time,open,high,low,close,volume\n60000,1,1,1,1,1\n120000,1,1,1,1,1\n60000,1,1,1,1,1\n", kind: ErrUnsorted, line: 4, column: "open_time"},
		{name: "unsorted second row", in: "open_time,open,high,low,close,volume\n60000,1,1,1,1,1\n0,1,1,1,1,1\n", kind: ErrUnsorted, line: 3, column: "open_time"},
		{name: "duplicate", in: "open_time,open,high,low,close,volume\n0,1,1,1,1,1\n60000,1,1,1,1,1\n60000,1,1,1,1,1\n", kind: ErrDuplicate, line: 4, column: "open_time"},
		{name: "gap", in: "open_time,open,high,low,close,volume\n0,1,1,1,1,1\n60000,1,1,1,1,1\n\n240000,1,1,1,1,1\n", kind: ErrGap, line: 5, column: "open_time"},
		{name: "gap with given interval", in: "open_time,open,high,low,close,volume\n0,1,1,1,1,1\n120000,1,1,1,1,1\n", opt: KlineOptions{Interval: time.Minute}, kind: ErrGap, line: 3, column: "open_time"},
		{name: "misaligned even with gaps allowed", in: "open_time,open,high,low,close,volume\n0,1,1,1,1,1\n60000,1,1,1,1,1\n150000,1,1,1,1,1\n", opt: KlineOptions{AllowGaps: true}, kind: ErrGap, line: 4, column: "open_time"},
		{name: "binance gap", in: binanceRow1 + "\n" + strings.Replace(binanceRow2, "1704067260000", "1704067380000", 1) + "\n", kind: ErrGap, line: 2, column: "open_time"},
		{name: "missing column in header", in: "open_time,open,high,low,close\n0,1,1,1,1\n", kind: ErrHeader, line: 1},
		{name: "unknown header", in: "a,b,c\n1,2,3\n", kind: ErrHeader, line: 1},
		{name: "trades file given as klines", in: "time,price,qty,side\n0,1,1,buy\n", opt: KlineOptions{Format: FormatTrades}, kind: ErrHeader, line: 1},
		{name: "line too long", in: "open_time,open,high,low,close,volume\n" + strings.Repeat("1", maxLine+10) + "\n", kind: ErrLine, line: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opt := tc.opt
			opt.File, opt.Symbol = "k.csv", "BTCUSDT"
			got, err := readKlines(tc.in, opt)
			if tc.kind != nil {
				if err == nil {
					t.Fatalf("no error, got %d klines", len(got))
				}
				checkParseError(t, err, tc.kind, tc.line, tc.column)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.count {
				t.Fatalf("got %d klines, want %d: %+v", len(got), tc.count, got)
			}
			for i, w := range tc.want {
				if got[i] != w {
					t.Errorf("kline %d = %+v, want %+v", i, got[i], w)
				}
			}
			for i, k := range got {
				if k.Interval != tc.interva {
					t.Errorf("kline %d interval = %s, want %s", i, k.Interval, tc.interva)
				}
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"1704067200000", ms(1704067200000), true},
		{"1704067200000123", time.UnixMicro(1704067200000123).UTC(), true},
		{"0", ms(0), true},
		{"2024-01-01T00:00:00Z", ms(1704067200000), true},
		{"2024-01-01 00:00:00Z", ms(1704067200000), true},
		{"2024-02-29T12:30:15.123456789Z", time.Date(2024, 2, 29, 12, 30, 15, 123456789, time.UTC), true},
		{"2024-01-01T01:00:00+01:00", ms(1704067200000), true},
		{"2023-12-31T19:00:00-05:00", ms(1704067200000), true},
		{"2000-03-01T00:00:00Z", time.Date(2000, 3, 1, 0, 0, 0, 0, time.UTC), true},
		{"1970-01-01T00:00:00Z", ms(0), true},
		{"2023-02-29T00:00:00Z", time.Time{}, false},
		{"2024-01-01T24:00:00Z", time.Time{}, false},
		{"2024-01-01T00:00:00", time.Time{}, false},
		{"2024-01-01T00:00:00.Z", time.Time{}, false},
		{"2024-01-01", time.Time{}, false},
		{"12345678901234567890", time.Time{}, false},
		{"", time.Time{}, false},
		{"-1", time.Time{}, false},
	}
	for _, tc := range tests {
		got, ok := parseTime([]byte(tc.in))
		if ok != tc.ok || (ok && !got.Equal(tc.want)) {
			t.Errorf("parseTime(%q) = %s, %v; want %s, %v", tc.in, got, ok, tc.want, tc.ok)
		}
		if ok {
			if std, err := time.Parse(time.RFC3339Nano, strings.Replace(tc.in, " ", "T", 1)); err == nil && !std.Equal(got) {
				t.Errorf("parseTime(%q) = %s, time.Parse says %s", tc.in, got, std)
			}
		}
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		line string
		want Format
		ok   bool
	}{
		{"open_time,open,high,low,close,volume", FormatKlines, true},
		{"Timestamp,Open,High,Low,Close,Volume,Extra\r\n", FormatKlines, true},
		{"\xef\xbb\xbfopen_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore", FormatKlines, true},
		{binanceRow1, FormatBinanceKlines, true},
		{binanceRow1 + "\n", FormatBinanceKlines, true},
		{"time,price,qty,side", FormatTrades, true},
		{"SIDE,Price,Quantity,timestamp,id", FormatTrades, true},
		{"1704067200000,1,2,3", FormatAuto, false},
		{"time,price,qty", FormatAuto, false},
		{"open_time,open,high,low", FormatAuto, false},
		{"", FormatAuto, false},
	}
	for _, tc := range tests {
		got, err := Detect([]byte(tc.line))
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("Detect(%q) = %v, %v; want %v, ok=%v", tc.line, got, err, tc.want, tc.ok)
		}
	}
}

func TestTradeReader(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		want   []trading.Trade
		count  int
		kind   error
		line   int
		column string
	}{
		{name: "good, any order and case, equal times", in: "id,Side,QTY,Price,Time\n1,BUY,0.5,42000.1,1704067200000\n2,sell,1,42000,1704067200000\n3,Sell,2,41999.9,2024-01-01T00:00:01Z\n",
			want: []trading.Trade{
				{Symbol: "BTCUSDT", Side: trading.Buy, Qty: fv("0.5"), Price: fv("42000.1"), Time: ms(1704067200000)},
				{Symbol: "BTCUSDT", Side: trading.Sell, Qty: fv("1"), Price: fv("42000"), Time: ms(1704067200000)},
				{Symbol: "BTCUSDT", Side: trading.Sell, Qty: fv("2"), Price: fv("41999.9"), Time: ms(1704067201000)},
			}, count: 3},
		{name: "header only", in: "time,price,qty,side\n", count: 0},
		{name: "bad price", in: "time,price,qty,side\n0,1.2.3,1,buy\n", kind: ErrNumber, line: 2, column: "price"},
		{name: "bad qty", in: "time,price,qty,side\n0,1,,buy\n", kind: ErrNumber, line: 2, column: "qty"},
		{name: "bad side", in: "time,price,qty,side\n0,1,1,long\n", kind: ErrValue, line: 2, column: "side"},
		{name: "bad time", in: "time,price,qty,side\nnow,1,1,buy\n", kind: ErrTime, line: 2, column: "time"},
		{name: "zero qty", in: "time,price,qty,side\n0,1,0,buy\n", kind: ErrValue, line: 2, column: "qty"},
		{name: "columns", in: "time,price,qty,side\n0,1,1,buy,extra\n", kind: ErrColumns, line: 2},
		{name: "unsorted", in: "time,price,qty,side\n1000,1,1,buy\n999,1,1,buy\n", kind: ErrUnsorted, line: 3, column: "time"},
		{name: "no side column", in: "time,price,qty\n0,1,1\n", kind: ErrHeader, line: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := NewTradeReader(strings.NewReader(tc.in), TradeOptions{File: "t.csv", Symbol: "BTCUSDT"})
			var got []trading.Trade
			var err error
			for tr, e := range r.All() {
				if e != nil {
					err = e
					break
				}
				got = append(got, tr)
			}
			if tc.kind != nil {
				if err == nil {
					t.Fatalf("no error, got %d trades", len(got))
				}
				checkParseError(t, err, tc.kind, tc.line, tc.column)
				if _, again := r.Next(); again != err {
					t.Errorf("error is not sticky: %v then %v", err, again)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.count {
				t.Fatalf("got %d trades, want %d", len(got), tc.count)
			}
			for i, w := range tc.want {
				if got[i] != w {
					t.Errorf("trade %d = %+v, want %+v", i, got[i], w)
				}
			}
		})
	}
}

func TestKlineWriterRoundTrip(t *testing.T) {
	in := []trading.Kline{
		{Symbol: "ETHUSDT", OpenTime: ms(1704067200000), Interval: time.Minute, Open: fv("2300.01"), High: fv("2310"), Low: fv("2299.5"), Close: fv("2305.25"), Volume: fv("12.3456")},
		{Symbol: "ETHUSDT", OpenTime: ms(1704067260000), Interval: time.Minute, Open: fv("2305.25"), High: fv("2305.25"), Low: fv("2305.25"), Close: fv("2305.25")},
	}
	var sb strings.Builder
	w := NewKlineWriter(&sb)
	for _, k := range in {
		if err := w.Write(k); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "open_time,open,high,low,close,volume\n1704067200000,2300.01,2310,2299.5,2305.25,12.3456\n1704067260000,2305.25,2305.25,2305.25,2305.25,0\n"
	if sb.String() != want {
		t.Fatalf("wrote\n%s\nwant\n%s", sb.String(), want)
	}
	got, err := readKlines(sb.String(), KlineOptions{Symbol: "ETHUSDT"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != in[0] || got[1] != in[1] {
		t.Errorf("round trip = %+v", got)
	}
}

func TestTradeWriterRoundTrip(t *testing.T) {
	in := []trading.Trade{
		{Symbol: "X", Price: fv("1.5"), Qty: fv("2"), Side: trading.Buy, Time: ms(1000)},
		{Symbol: "X", Price: fv("1.25"), Qty: fv("0.001"), Side: trading.Sell, Time: ms(1000)},
	}
	var sb strings.Builder
	w := NewTradeWriter(&sb)
	for _, tr := range in {
		if err := w.Write(tr); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Write(trading.Trade{Time: ms(2000)}); err == nil {
		t.Error("trade without a side was written")
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if want := "time,price,qty,side\n1000,1.5,2,buy\n1000,1.25,0.001,sell\n"; sb.String() != want {
		t.Fatalf("wrote %q, want %q", sb.String(), want)
	}
	r := NewTradeReader(strings.NewReader(sb.String()), TradeOptions{Symbol: "X"})
	for i := range in {
		got, err := r.Next()
		if err != nil || got != in[i] {
			t.Errorf("trade %d = %+v, %v", i, got, err)
		}
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("after last trade: %v, want EOF", err)
	}
}

func TestSymbolFromFileName(t *testing.T) {
	for in, want := range map[string]string{
		"/data/BTCUSDT-1m-2024-01.csv": "BTCUSDT",
		"ETHUSDT.csv":                  "ETHUSDT",
		"1000PEPEUSDT_trades.csv":      "1000PEPEUSDT",
		"klines.csv":                   "",
	} {
		if got := SymbolFromFileName(in); got != want {
			t.Errorf("SymbolFromFileName(%q) = %q, want %q", in, got, want)
		}
	}
}
