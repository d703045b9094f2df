package market

import (
	"math"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/trading"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)

func d(s string) fixed.Value { return fixed.MustParse(s) }

func trade(sec float64, price, qty string, side trading.Side) trading.Trade {
	return trading.Trade{Symbol: "BTCUSDT", Price: d(price), Qty: d(qty), Side: side, Time: t0.Add(time.Duration(sec * float64(time.Second)))}
}

func newSym(t *testing.T) *Symbol {
	t.Helper()
	m, err := New(Config{DepthLevels: 2, StatsWindow: 10 * time.Second, StatsMaxTrades: 3, CandleIntervals: []time.Duration{time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	return m.Symbol("BTCUSDT")
}

func TestBookCopiesDepth(t *testing.T) {
	s := newSym(t)
	b := &trading.Book{Symbol: "BTCUSDT", Time: t0,
		Bids: []trading.Level{{Price: d("100"), Qty: d("3")}, {Price: d("99"), Qty: d("1")}, {Price: d("98"), Qty: d("50")}},
		Asks: []trading.Level{{Price: d("101"), Qty: d("1")}}}
	s.OnBook(t0, b)
	b.Bids[0].Price = d("1") // caller reuses its buffer
	if bb, _ := s.BestBid(); bb.Price != d("100") {
		t.Errorf("book not copied: best bid %v", bb.Price)
	}
	if len(s.Bids()) != 2 {
		t.Errorf("depth %d, want 2", len(s.Bids()))
	}
	if m, _ := s.Mid(); m != d("100.5") {
		t.Errorf("mid %v", m)
	}
	if sp, _ := s.Spread(); sp != d("1") {
		t.Errorf("spread %v", sp)
	}
	// top 2: bids 4, asks 1 -> (4-1)/5 = 0.6 (the 50 at level 3 is not kept)
	if im, ok := s.BookImbalance(5); !ok || math.Abs(im-0.6) > 1e-12 {
		t.Errorf("imbalance %v %v", im, ok)
	}
	if im, _ := s.BookImbalance(1); math.Abs(im-0.5) > 1e-12 {
		t.Errorf("imbalance top1 %v, want (3-1)/4", im)
	}
}

func TestTradeWindowStats(t *testing.T) {
	s := newSym(t)
	s.OnTrade(t0, trade(0, "100", "1", trading.Buy))
	s.OnTrade(t0, trade(1, "102", "1", trading.Buy))
	s.OnTrade(t0, trade(2, "104", "2", trading.Sell))
	w := s.Stats()
	// VWAP = (100+102+208)/4 = 102.5; var = (6.25+0.25+2*2.25)/4 = 2.75
	if w.Count() != 3 || math.Abs(w.VWAP()-102.5) > 1e-9 || math.Abs(w.StdDev()-math.Sqrt(2.75)) > 1e-9 {
		t.Errorf("n=%d vwap=%v sd=%v", w.Count(), w.VWAP(), w.StdDev())
	}
	if w.BuyVolume() != d("2") || w.SellVolume() != d("2") || w.TickImbalance() != 0 {
		t.Errorf("buy %v sell %v imb %v", w.BuyVolume(), w.SellVolume(), w.TickImbalance())
	}
	// capacity 3: the fourth trade evicts the first.
	s.OnTrade(t0, trade(3, "104", "2", trading.Sell))
	if w.Count() != 3 || w.BuyVolume() != d("1") || w.SellVolume() != d("4") {
		t.Errorf("after cap: n=%d buy %v sell %v", w.Count(), w.BuyVolume(), w.SellVolume())
	}
	// window 10s: a trade at 12.5s expires t=1s and t=2s (<= 2.5s) but keeps 3s.
	s.OnTrade(t0, trade(12.5, "110", "1", trading.Buy))
	if w.Count() != 2 || w.SellVolume() != d("2") || math.Abs(w.VWAP()-(208.0+110)/3) > 1e-9 {
		t.Errorf("after expiry: n=%d sell %v vwap %v", w.Count(), w.SellVolume(), w.VWAP())
	}
	if z, ok := w.ZScore(d("110")); !ok || math.Abs(z-math.Sqrt2) > 1e-9 {
		t.Errorf("z %v %v", z, ok)
	}
	// Everything expires: exact reset.
	w.Expire(t0.Add(time.Hour).UnixNano())
	if w.Count() != 0 || w.VWAP() != 0 || w.Volume() != 0 {
		t.Errorf("not reset: %+v", w)
	}
}

func TestCandlesFromTrades(t *testing.T) {
	s := newSym(t)
	if c := s.OnTrade(t0, trade(1, "100", "1", trading.Buy)); len(c) != 0 {
		t.Fatalf("closed early: %v", c)
	}
	s.OnTrade(t0, trade(20, "105", "2", trading.Buy))
	s.OnTrade(t0, trade(30, "95", "1", trading.Sell))
	s.OnTrade(t0, trade(59.9, "101", "1", trading.Sell))
	if oc, ok := s.OpenCandle(time.Minute); !ok || oc.High != d("105") {
		t.Fatalf("open candle %+v", oc)
	}
	closed := s.OnTrade(t0, trade(60, "102", "1", trading.Buy))
	want := trading.Kline{Symbol: "BTCUSDT", OpenTime: t0, Interval: time.Minute, Open: d("100"), High: d("105"), Low: d("95"), Close: d("101"), Volume: d("5")}
	if len(closed) != 1 || closed[0] != want {
		t.Fatalf("closed %+v, want %+v", closed, want)
	}
	if lc, ok := s.LastCandle(time.Minute); !ok || lc != want {
		t.Errorf("last candle %+v", lc)
	}
	// Late trade for the closed interval does not reopen it.
	if c := s.OnTrade(t0, trade(59, "1", "1", trading.Buy)); len(c) != 0 {
		t.Errorf("late trade closed %v", c)
	}
	if oc, _ := s.OpenCandle(time.Minute); oc.Low != d("102") {
		t.Errorf("late trade leaked into open candle: %+v", oc)
	}
	// Quiet market: Advance closes at the boundary, not before.
	if c := s.Advance(t0.Add(119 * time.Second)); len(c) != 0 {
		t.Errorf("advance closed early")
	}
	if c := s.Advance(t0.Add(120 * time.Second)); len(c) != 1 || c[0].Close != d("102") {
		t.Errorf("advance: %+v", c)
	}
}

func TestKlineDirectAndStaleness(t *testing.T) {
	s := newSym(t)
	if !s.Stale(StreamKline, t0, time.Second) {
		t.Error("never-updated stream not stale")
	}
	k := trading.Kline{Symbol: "BTCUSDT", OpenTime: t0, Interval: 5 * time.Minute, Open: d("1"), High: d("2"), Low: d("1"), Close: d("2"), Volume: d("3")}
	if err := s.OnKline(t0, k); err != nil {
		t.Fatal(err)
	}
	if lc, ok := s.LastCandle(5 * time.Minute); !ok || lc != k {
		t.Errorf("kline not stored")
	}
	if p, ok := s.Last(); !ok || p != d("2") {
		t.Errorf("last from kline %v", p)
	}
	if err := s.OnKline(t0, k); err == nil {
		t.Error("repeated kline accepted")
	}
	if s.Stale(StreamKline, t0.Add(999*time.Millisecond), time.Second) {
		t.Error("stale one unit before threshold")
	}
	if !s.Stale(StreamKline, t0.Add(time.Second), time.Second) {
		t.Error("not stale at threshold")
	}
	s.OnMark(t0.Add(3*time.Second), trading.MarkPrice{Symbol: "BTCUSDT", Mark: d("7"), FundingRate: d("0.0001")})
	if mp, ok := s.Mark(); !ok || mp.FundingRate != d("0.0001") {
		t.Errorf("mark %+v", mp)
	}
	if s.Freshest() != t0.Add(3*time.Second) {
		t.Errorf("freshest %v", s.Freshest())
	}
}

func TestConfigValidate(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Error("zero config accepted")
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Error(err)
	}
}

func BenchmarkBookUpdate(b *testing.B) {
	m, _ := New(DefaultConfig())
	book := &trading.Book{Symbol: "BTCUSDT"}
	for i := range 15 {
		book.Bids = append(book.Bids, trading.Level{Price: fixed.FromInt(int64(100000 - i)), Qty: fixed.One})
		book.Asks = append(book.Asks, trading.Level{Price: fixed.FromInt(int64(100001 + i)), Qty: fixed.One})
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		book.Time = t0.Add(time.Duration(i) * time.Millisecond)
		m.OnBook(book.Time, book)
	}
}

func BenchmarkTradeUpdate(b *testing.B) {
	m, _ := New(DefaultConfig())
	tr := trading.Trade{Symbol: "BTCUSDT", Price: fixed.FromInt(100000), Qty: d("0.01"), Side: trading.Buy}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		tr.Time = t0.Add(time.Duration(i) * time.Millisecond)
		tr.Price = fixed.FromInt(100000 + int64(i%50))
		tr.Side = trading.Side(1 - 2*(i&1))
		m.OnTrade(tr.Time, tr)
	}
}
