package marketdata

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/trading"
)

func TestDetectReaderDoesNotConsume(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Format
	}{
		{"open_time,open,high,low,close,volume\n0,1,1,1,1,1\n", FormatKlines},
		{binanceRow1, FormatBinanceKlines}, // no trailing newline
		{"time,price,qty,side\r\n", FormatTrades},
		{strings.Repeat("x", 1000) + ",open_time,open,high,low,close\n", FormatKlines},
	} {
		br := bufio.NewReader(strings.NewReader(tc.in))
		got, err := DetectReader(br)
		if err != nil || got != tc.want {
			t.Errorf("DetectReader(%.30q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
		if rest, _ := io.ReadAll(br); string(rest) != tc.in {
			t.Errorf("DetectReader consumed input")
		}
	}
	if _, err := DetectReader(bufio.NewReader(strings.NewReader(""))); err == nil {
		t.Error("empty input detected as a format")
	}
}

func TestExplicitFormat(t *testing.T) {
	// A Binance dump read as such works; forcing the wrong format fails on line 1.
	if ks, err := readKlines(binanceRow1+"\n", KlineOptions{Format: FormatBinanceKlines}); err != nil || len(ks) != 1 {
		t.Errorf("explicit binance: %d, %v", len(ks), err)
	}
	_, err := readKlines(binanceRow1+"\n", KlineOptions{Format: FormatKlines, File: "b.csv"})
	checkParseError(t, err, ErrHeader, 1, "")
	_, err = readKlines("open_time,open,high,low,close,volume\n", KlineOptions{Format: FormatBinanceKlines, File: "h.csv"})
	checkParseError(t, err, ErrColumns, 1, "")
}

func TestParseErrorText(t *testing.T) {
	e := &ParseError{Line: 7, Msg: "boom", Kind: ErrValue}
	if e.Error() != "<input>:7: boom" {
		t.Errorf("got %q", e.Error())
	}
	e = &ParseError{File: "a.csv", Line: 2, Column: "high", Msg: "high 1 < low 2", Kind: ErrValue}
	if e.Error() != "a.csv:2: column high: high 1 < low 2" || !errors.Is(e, ErrValue) {
		t.Errorf("got %q", e.Error())
	}
}

func TestOpenMissingFile(t *testing.T) {
	if _, err := OpenKlines("/nonexistent/x.csv", KlineOptions{}); err == nil {
		t.Error("OpenKlines of a missing file succeeded")
	}
	if _, err := OpenTrades("/nonexistent/x.csv", TradeOptions{}); err == nil {
		t.Error("OpenTrades of a missing file succeeded")
	}
}

func TestOpenTradesSample(t *testing.T) {
	r, err := OpenTrades(sampleTrades, TradeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	n := 0
	for tr, err := range r.All() {
		if err != nil {
			t.Fatal(err)
		}
		if tr.Symbol != "BTCUSDT" {
			t.Fatalf("symbol %q", tr.Symbol)
		}
		n++
	}
	if n < 20*60*2 {
		t.Errorf("only %d trades in 20 minutes", n)
	}
}

type failingSource struct{ n int }

func (f *failingSource) Next() (Event, error) {
	if f.n == 0 {
		return Event{}, errors.New("disk on fire")
	}
	f.n--
	return Event{Kind: KindTrade, Trade: trading.Trade{Symbol: "F", Time: time.Unix(int64(f.n), 0)}}, nil
}

type sliceSource struct{ evs []Event }

func (s *sliceSource) Next() (Event, error) {
	if len(s.evs) == 0 {
		return Event{}, io.EOF
	}
	ev := s.evs[0]
	s.evs = s.evs[1:]
	return ev, nil
}

func TestMergeTiesAndErrors(t *testing.T) {
	at := func(sym string, sec int64) Event {
		return Event{Kind: KindMark, Mark: trading.MarkPrice{Symbol: sym, Time: time.Unix(sec, 0)}}
	}
	m := NewMerge(&sliceSource{[]Event{at("A", 1), at("A", 2)}}, &sliceSource{[]Event{at("B", 1), at("B", 3)}})
	var got string
	for ev, err := range All(m) {
		if err != nil {
			t.Fatal(err)
		}
		got += ev.Symbol()
	}
	if got != "ABAB" {
		t.Errorf("merge order %q, want ABAB (ties in source order)", got)
	}
	m = NewMerge(&sliceSource{[]Event{at("A", 1)}}, &failingSource{n: 0})
	if _, err := m.Next(); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("merge error = %v", err)
	}
}

func TestEventAccessors(t *testing.T) {
	var e Event
	if !e.Time().IsZero() || e.Symbol() != "" || e.Kind.String() != "Kind(0)" {
		t.Error("zero event accessors")
	}
	for k, s := range map[Kind]string{KindBook: "book", KindTrade: "trade", KindMark: "mark"} {
		if k.String() != s {
			t.Errorf("%d.String() = %q", k, k.String())
		}
	}
	for r, s := range map[Regime]string{Calm: "calm", Normal: "normal", Volatile: "volatile"} {
		if r.String() != s {
			t.Errorf("regime %d = %q", r, r.String())
		}
	}
}
