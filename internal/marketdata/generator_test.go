package marketdata

import (
	"io"
	"reflect"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/instrument"
	"github.com/bitrader/bitrader/internal/trading"
)

func testConfig(seed uint64) GeneratorConfig {
	return GeneratorConfig{
		Symbol:     "BTCUSDT",
		StartPrice: fixed.FromInt(60000),
		Seed:       seed,
		Start:      time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
	}
}

func take(t testing.TB, g *Generator, n int) []Event {
	t.Helper()
	out := make([]Event, 0, n)
	for range n {
		ev, err := g.Next()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}

func mustGen(t testing.TB, cfg GeneratorConfig) *Generator {
	t.Helper()
	g, err := NewGenerator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestGeneratorDeterministic(t *testing.T) {
	a := take(t, mustGen(t, testConfig(7)), 20000)
	b := take(t, mustGen(t, testConfig(7)), 20000)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed gave different streams")
	}
	c := take(t, mustGen(t, testConfig(8)), 20000)
	if reflect.DeepEqual(a, c) {
		t.Fatal("different seeds gave identical streams")
	}
}

func TestGeneratorConfigErrors(t *testing.T) {
	for name, mod := range map[string]func(*GeneratorConfig){
		"no symbol":     func(c *GeneratorConfig) { c.Symbol = "" },
		"no price":      func(c *GeneratorConfig) { c.StartPrice = 0 },
		"tiny price":    func(c *GeneratorConfig) { c.StartPrice = fixed.MustParse("0.5") },
		"tiny step":     func(c *GeneratorConfig) { c.Step = time.Microsecond },
		"negative rate": func(c *GeneratorConfig) { c.TradeRate = -1 },
		"depth":         func(c *GeneratorConfig) { c.Depth = -3 },
	} {
		cfg := testConfig(1)
		mod(&cfg)
		if _, err := NewGenerator(cfg); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestGeneratorSanity runs a simulated day and checks the invariants a
// matching engine relies on, plus that the model does what it claims.
func TestGeneratorSanity(t *testing.T) {
	cfg := testConfig(42)
	cfg.End = cfg.Start.Add(24 * time.Hour)
	cfg.Step = time.Second
	g := mustGen(t, cfg)
	spec := instrument.Default("BTCUSDT")
	tick, lot := spec.Tick(), spec.LotStep()
	onGrid := func(v, step fixed.Value) bool { return v%step == 0 }

	var last time.Time
	var books, trades, marks, buys, switches, jumps int
	var regimes [numRegimes]int
	var spreadByRegime [numRegimes]int64
	prevRegime := g.Regime()
	var prevMid fixed.Value
	var upBuys, upTrades int
	seenVolatileWide := false
	for ev := range g.All() {
		ts := ev.Time()
		if ts.Before(last) {
			t.Fatalf("time went back: %s after %s", ts, last)
		}
		last = ts
		if ev.Symbol() != "BTCUSDT" {
			t.Fatalf("symbol %q", ev.Symbol())
		}
		if r := g.Regime(); r != prevRegime {
			switches++
			prevRegime = r
		}
		switch ev.Kind {
		case KindBook:
			books++
			b := ev.Book
			if len(b.Bids) != 20 || len(b.Asks) != 20 {
				t.Fatalf("depth %d/%d, want 20", len(b.Bids), len(b.Asks))
			}
			if b.BestBid().Price >= b.BestAsk().Price {
				t.Fatalf("crossed book: bid %s ask %s", b.BestBid().Price, b.BestAsk().Price)
			}
			for i := range b.Bids {
				for _, l := range []trading.Level{b.Bids[i], b.Asks[i]} {
					if !onGrid(l.Price, tick) || !onGrid(l.Qty, lot) || l.Qty <= 0 {
						t.Fatalf("level %+v off tick/lot or empty", l)
					}
				}
				if i > 0 && (b.Bids[i].Price >= b.Bids[i-1].Price || b.Asks[i].Price <= b.Asks[i-1].Price) {
					t.Fatalf("levels not sorted at %d", i)
				}
			}
			spread := int64((b.BestAsk().Price - b.BestBid().Price) / tick)
			r := g.Regime()
			regimes[r]++
			spreadByRegime[r] += spread
			if r == Volatile && spread >= 3 {
				seenVolatileWide = true
			}
			mid := (b.BestBid().Price + b.BestAsk().Price) / 2
			if prevMid != 0 && (mid-prevMid).Abs() > prevMid/500 {
				jumps++
			}
			prevMid = mid
		case KindTrade:
			trades++
			tr := ev.Trade
			if !onGrid(tr.Price, tick) || !onGrid(tr.Qty, lot) || tr.Qty <= 0 || (tr.Side != trading.Buy && tr.Side != trading.Sell) {
				t.Fatalf("bad trade %+v", tr)
			}
			if tr.Side == trading.Buy {
				buys++
			}
			if prevMid != 0 && tr.Price > prevMid+tick.MulInt(5) {
				upTrades++
				if tr.Side == trading.Buy {
					upBuys++
				}
			}
		case KindMark:
			marks++
			m := ev.Mark
			if !onGrid(m.Mark, tick) || !onGrid(m.Index, tick) || prevMid == 0 || (m.Mark-prevMid).Abs() > prevMid/200 {
				t.Fatalf("mark %+v far from mid %s", m, prevMid)
			}
			if m.FundingRate.Abs() > fixed.MustParse("0.0075") || !m.NextFundingTime.After(m.Time) || m.NextFundingTime.Sub(m.Time) > 8*time.Hour {
				t.Fatalf("bad funding %+v", m)
			}
		default:
			t.Fatalf("event kind %v", ev.Kind)
		}
	}
	if !last.Before(cfg.End.Add(time.Second)) {
		t.Errorf("stream ran past End: %s", last)
	}
	hours := 24.0
	t.Logf("books %d trades %d marks %d switches %d jumps %d regimes %v", books, trades, marks, switches, jumps, regimes)
	if books != int(hours*3600) {
		t.Errorf("books = %d, want one per step", books)
	}
	if marks != int(hours*3600) && marks != int(hours*3600)+1 {
		t.Errorf("marks = %d, want one per second", marks)
	}
	if trades < int(hours*3600*2) || trades > int(hours*3600*10) {
		t.Errorf("trades = %d, want around 4/s", trades)
	}
	if switches < 6 {
		t.Errorf("regime switched only %d times in a day", switches)
	}
	for r, n := range regimes {
		if n == 0 {
			t.Errorf("never in regime %v", Regime(r))
		}
	}
	if regimes[Calm] > 0 && regimes[Volatile] > 0 {
		calm := float64(spreadByRegime[Calm]) / float64(regimes[Calm])
		vol := float64(spreadByRegime[Volatile]) / float64(regimes[Volatile])
		if vol <= calm*1.5 || !seenVolatileWide {
			t.Errorf("mean spread volatile %.2f vs calm %.2f ticks: volatile should be wider", vol, calm)
		}
	}
	if frac := float64(buys) / float64(trades); frac < 0.4 || frac > 0.6 {
		t.Errorf("buy fraction %.2f, want about half", frac)
	}
	if upTrades > 50 && float64(upBuys)/float64(upTrades) < 0.6 {
		t.Errorf("trades printed above the previous mid were buys %d/%d times: side should follow the move", upBuys, upTrades)
	}
}

func TestGeneratorEndAndAll(t *testing.T) {
	cfg := testConfig(3)
	cfg.End = cfg.Start.Add(10 * time.Second)
	g := mustGen(t, cfg)
	n := 0
	for range g.All() {
		n++
	}
	if n == 0 {
		t.Fatal("no events")
	}
	if _, err := g.Next(); err != io.EOF {
		t.Errorf("after End: %v, want EOF", err)
	}
}

func TestMergeOrdersByTime(t *testing.T) {
	mk := func(sym string, seed uint64, price int64) Source {
		cfg := testConfig(seed)
		cfg.Symbol, cfg.StartPrice = sym, fixed.FromInt(price)
		cfg.End = cfg.Start.Add(time.Minute)
		cfg.Step = 300 * time.Millisecond
		return mustGen(t, cfg)
	}
	m := NewMerge(mk("BTCUSDT", 1, 60000), mk("ETHUSDT", 2, 3000))
	var last time.Time
	seen := map[string]int{}
	for ev, err := range All(m) {
		if err != nil {
			t.Fatal(err)
		}
		if ev.Time().Before(last) {
			t.Fatalf("merge out of order: %s after %s", ev.Time(), last)
		}
		last = ev.Time()
		seen[ev.Symbol()]++
	}
	if seen["BTCUSDT"] == 0 || seen["ETHUSDT"] == 0 {
		t.Errorf("merged symbols: %v", seen)
	}
}
