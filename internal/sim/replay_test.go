package sim

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
)

// publicFrame is a public push as the reference documents it (§5.4).
type publicFrame struct {
	Ch     string          `json:"ch"`
	Symbol string          `json:"symbol"`
	Ts     int64           `json:"ts"`
	Data   json.RawMessage `json:"data"`
}

type tradePrint struct {
	Price, Side string
	Time        time.Time
}

// replayRun subscribes to BTCUSDT trade and depth_book1, advances the clock
// by d in one-second steps and returns every frame, in order.
func replayRun(t *testing.T, file string, d time.Duration) (frames []string, trades []tradePrint, books [][2]string, eth string) {
	t.Helper()
	e := newEnv(t, func(c *Config) { c.MarketData.ReplayFile = file })
	w := e.dial(t, false)
	w.send(`{"op":"subscribe","args":[{"symbol":"BTCUSDT","ch":"trade"},{"symbol":"BTCUSDT","ch":"depth_book1"}]}`)
	w.pingSync(0)
	for i := range int(d / time.Second) {
		e.advance(t, time.Second)
		frames = append(frames, w.pingSync(i+1)...)
	}
	for _, f := range frames {
		var pf publicFrame
		if err := json.Unmarshal([]byte(f), &pf); err != nil {
			t.Fatalf("frame %s: %v", f, err)
		}
		switch pf.Ch {
		case "trade":
			var list []struct{ P, V, S, T string }
			if err := json.Unmarshal(pf.Data, &list); err != nil {
				t.Fatalf("trade data %s: %v", pf.Data, err)
			}
			for _, x := range list {
				ts, err := time.Parse(time.RFC3339Nano, x.T)
				if err != nil {
					t.Fatalf("trade time %q: %v", x.T, err)
				}
				trades = append(trades, tradePrint{x.P, x.S, ts})
			}
		case "depth_book1":
			var d struct{ B, A [][2]string }
			if err := json.Unmarshal(pf.Data, &d); err != nil || len(d.B) != 1 || len(d.A) != 1 {
				t.Fatalf("depth data %s: %v", pf.Data, err)
			}
			books = append(books, [2]string{d.B[0][0], d.A[0][0]})
		}
	}
	var tk []struct{ LastPrice string }
	if err := json.Unmarshal(e.get(t, "market/tickers", "symbols=ETHUSDT").Data, &tk); err != nil || len(tk) != 1 {
		t.Fatalf("ETHUSDT ticker: %v", err)
	}
	return frames, trades, books, tk[0].LastPrice
}

// The sample's first candles (testdata/sample/BTCUSDT-1m.csv):
//
//	open_time      open     high     low      close    volume
//	1704067200000  42000.5  42002.1  41961.1  41967.5  6.4422
//	1704067260000  41966.9  41967    41912.3  41929.9  6.2499
func TestReplayKlineFile(t *testing.T) {
	const file = "../../testdata/sample/BTCUSDT-1m.csv"
	frames, trades, books, eth := replayRun(t, file, 2*time.Minute)
	if len(trades) == 0 || len(books) == 0 {
		t.Fatalf("%d trades, %d books", len(trades), len(books))
	}
	// Split the prints by candle: the file's first candle opens at the
	// simulator's start.
	var c1, c2 []string
	for _, tr := range trades {
		switch {
		case tr.Time.Before(testStart):
			t.Fatalf("trade at %v before the start", tr.Time)
		case tr.Time.Before(testStart.Add(time.Minute)):
			c1 = append(c1, tr.Price)
		case tr.Time.Before(testStart.Add(2 * time.Minute)):
			c2 = append(c2, tr.Price)
		}
	}
	for i, c := range []struct {
		prints                 []string
		open, high, low, close string
	}{
		{c1, "42000.5", "42002.1", "41961.1", "41967.5"},
		{c2, "41966.9", "41967", "41912.3", "41929.9"},
	} {
		if len(c.prints) == 0 {
			t.Fatalf("candle %d: no prints", i+1)
		}
		if c.prints[0] != c.open || c.prints[len(c.prints)-1] != c.close {
			t.Errorf("candle %d prints %v: want open %s first and close %s last", i+1, c.prints, c.open, c.close)
		}
		hi, lo := fixed.MustParse(c.high), fixed.MustParse(c.low)
		var sawHigh, sawLow bool
		for _, p := range c.prints {
			v := fixed.MustParse(p)
			if v > hi || v < lo {
				t.Errorf("candle %d print %s outside [%s, %s]", i+1, p, c.low, c.high)
			}
			sawHigh, sawLow = sawHigh || v == hi, sawLow || v == lo
		}
		if !sawHigh || !sawLow {
			t.Errorf("candle %d prints %v miss the high %s or low %s", i+1, c.prints, c.high, c.low)
		}
	}
	// The book follows the prints: a one-tick spread inside the candles' range.
	tick := fixed.MustParse("0.1")
	for _, b := range books {
		bid, ask := fixed.MustParse(b[0]), fixed.MustParse(b[1])
		if ask-bid != tick || bid < fixed.MustParse("41912.2") || ask > fixed.MustParse("42002.2") {
			t.Fatalf("book bid %s ask %s", b[0], b[1])
		}
	}
	// The file drives only the symbol it names; ETHUSDT stays synthetic.
	if p := fixed.MustParse(eth); p < fixed.FromInt(1000) || p > fixed.FromInt(10_000) {
		t.Errorf("ETHUSDT last %s: not the synthetic ~3000 market", eth)
	}
	// Deterministic: the same run gives the same frames, byte for byte.
	again, _, _, _ := replayRun(t, file, 2*time.Minute)
	if strings.Join(frames, "\n") != strings.Join(again, "\n") {
		t.Error("replay is not deterministic")
	}
}

// testdata/sample/BTCUSDT-trades.csv starts:
//
//	time,price,qty,side
//	1704067200214,42000.5,0.0181,sell
//	1704067200439,42001,0.015,sell
func TestReplayTradeFile(t *testing.T) {
	_, trades, books, _ := replayRun(t, "../../testdata/sample/BTCUSDT-trades.csv", 2*time.Second)
	if len(trades) < 2 {
		t.Fatalf("trades %v", trades)
	}
	want := []tradePrint{
		{"42000.5", "sell", testStart},
		{"42001", "sell", testStart.Add(225 * time.Millisecond)},
	}
	for i, w := range want {
		if got := trades[i]; got.Price != w.Price || !strings.EqualFold(got.Side, w.Side) || !got.Time.Equal(w.Time) {
			t.Errorf("trade %d = %+v, want %+v", i, got, w)
		}
	}
	// A sell print leaves its price as the best bid.
	if len(books) == 0 || fixed.MustParse(books[0][0]) < fixed.FromInt(41_000) {
		t.Errorf("books %v", books)
	}
}

func TestReplayBadFile(t *testing.T) {
	for _, file := range []string{"testdata/does-not-exist.csv", "replay_test.go"} {
		if _, err := New(Config{MarketData: MarketDataConfig{ReplayFile: file}, Clock: NewManualClock(testStart)}); err == nil {
			t.Errorf("New accepted replay file %s", file)
		}
	}
}
