package marketdata

import (
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/trading"
)

func replayAll(t *testing.T, in string) []Event {
	t.Helper()
	r := NewReplay(NewKlineReader(strings.NewReader(in), KlineOptions{File: "r.csv", Symbol: "BTCUSDT"}), ReplayConfig{StepsPerLeg: 2, Depth: 5})
	var out []Event
	for ev, err := range All(r) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}

func TestReplayPath(t *testing.T) {
	in := "open_time,open,high,low,close,volume\n" +
		"1704067200000,100,110,90,105,0.7\n" + // bullish: O→L→H→C
		"1704067260000,105,108,95,100,0\n" // bearish: O→H→L→C, no volume
	evs := replayAll(t, in)

	var prices []string
	var sides []trading.Side
	var vol fixed.Value
	var last time.Time
	marks := 0
	for _, ev := range evs {
		if ev.Time().Before(last) {
			t.Fatalf("time went back at %+v", ev)
		}
		last = ev.Time()
		switch ev.Kind {
		case KindMark:
			marks++
		case KindTrade:
			if ev.Time().Before(time.UnixMilli(1704067260000)) {
				prices = append(prices, ev.Trade.Price.String())
				sides = append(sides, ev.Trade.Side)
				vol += ev.Trade.Qty
			} else {
				t.Errorf("trade from a zero-volume kline: %+v", ev.Trade)
			}
		case KindBook:
			b := ev.Book
			if b.BestBid().Price >= b.BestAsk().Price || len(b.Asks) != 5 {
				t.Fatalf("bad book %+v", b)
			}
		}
	}
	if marks != 2 {
		t.Errorf("marks = %d, want one per kline", marks)
	}
	// 3 legs × 2 steps + open = 7 points: 100, 95, 90, 100, 110, 107.5→107.5, 105.
	wantPrices := []string{"100", "95", "90", "100", "110", "107.5", "105"}
	if !reflect.DeepEqual(prices, wantPrices) {
		t.Errorf("path = %v, want %v", prices, wantPrices)
	}
	wantSides := []trading.Side{trading.Buy, trading.Sell, trading.Sell, trading.Buy, trading.Buy, trading.Sell, trading.Sell}
	if !reflect.DeepEqual(sides, wantSides) {
		t.Errorf("sides = %v, want %v", sides, wantSides)
	}
	if vol != fv("0.7") {
		t.Errorf("volume = %s, want 0.7", vol)
	}

	// Bearish candle visits the high first.
	var second []string
	for _, ev := range evs {
		if ev.Kind == KindBook && !ev.Time().Before(time.UnixMilli(1704067260000)) {
			second = append(second, ev.Book.BestAsk().Price.String()+"/"+ev.Book.BestBid().Price.String())
		}
	}
	if len(second) != 7 || second[2] != "108.1/108" && second[2] != "108/107.9" {
		t.Errorf("bearish path books = %v, want the high (108) third", second)
	}
}

func TestReplayDeterministicAndErrors(t *testing.T) {
	in := "open_time,open,high,low,close,volume\n0,1,2,0.5,1.5,3\n60000,1.5,2,1,1,1\n"
	if a, b := replayAll(t, in), replayAll(t, in); !reflect.DeepEqual(a, b) {
		t.Error("replay not deterministic")
	}
	r := NewReplay(NewKlineReader(strings.NewReader(in+"30000,1,1,1,1,1\n"), KlineOptions{File: "bad.csv"}), ReplayConfig{})
	var err error
	for err == nil {
		_, err = r.Next()
	}
	if err == io.EOF || !strings.Contains(err.Error(), "bad.csv:4") {
		t.Errorf("replay of a bad file: %v", err)
	}
}

func TestReplaySampleFile(t *testing.T) {
	r, err := OpenReplay(sampleKlines, KlineOptions{}, ReplayConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	n := 0
	for ev, err := range All(r) {
		if err != nil {
			t.Fatal(err)
		}
		if ev.Symbol() != "BTCUSDT" {
			t.Fatalf("symbol %q", ev.Symbol())
		}
		n++
	}
	if n < 4320*10 {
		t.Errorf("only %d events from the sample", n)
	}
}
