package strategy

import (
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/instrument"
	"github.com/bitrader/bitrader/internal/market"
	"github.com/bitrader/bitrader/internal/trading"
)

var t0 = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

func d(s string) fixed.Value { return fixed.MustParse(s) }

func TestSizingQty(t *testing.T) {
	spec := instrument.Default("BTCUSDT") // 4 decimals, min 0.0001, max limit 500, max market 100
	tests := []struct {
		name          string
		sizing        Sizing
		equity, price string
		market        bool
		want          string
	}{
		{"10% of 10000 at 30000, rounded down", Sizing{d("0.1"), fixed.One}, "10000", "30000", true, "0.0333"},
		{"exact", Sizing{d("0.5"), fixed.One}, "1000", "100", true, "5"},
		{"ratio above leverage is capped", Sizing{d("3"), d("2")}, "1000", "100", true, "20"},
		{"leverage allows ratio", Sizing{d("3"), d("5")}, "1000", "100", true, "30"},
		{"below min is skipped", Sizing{d("0.1"), fixed.One}, "10", "100000", true, "0"},
		{"clamped to max market qty", Sizing{d("1"), fixed.One}, "1000000", "1", true, "100"},
		{"clamped to max limit qty", Sizing{d("1"), fixed.One}, "1000000", "1", false, "500"},
		{"no equity", Sizing{d("1"), fixed.One}, "0", "1", true, "0"},
	}
	for _, tt := range tests {
		got := tt.sizing.Qty(d(tt.equity), d(tt.price), &spec, tt.market)
		if got != d(tt.want) {
			t.Errorf("%s: got %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestNewRegistry(t *testing.T) {
	p := DefaultParams()
	for _, name := range []string{NameMeanReversion, NameTrend, NameGrid} {
		s, err := New(name, "BTCUSDT", DefaultSizing(), p)
		if err != nil || s.Name() != name {
			t.Errorf("New(%s): %v %v", name, s, err)
		}
	}
	if _, err := New("nope", "BTCUSDT", DefaultSizing(), p); err == nil {
		t.Error("unknown name built")
	}
	if _, err := New(NameScripted, "BTCUSDT", DefaultSizing(), p); err == nil {
		t.Error("scripted built from config")
	}
	bad := p
	bad.Trend.SlowPeriod = 0
	if _, err := New(NameTrend, "BTCUSDT", DefaultSizing(), bad); err == nil {
		t.Error("invalid params built")
	}
	if _, err := New(NameTrend, "BTCUSDT", Sizing{}, p); err == nil {
		t.Error("invalid sizing built")
	}
}

func TestScripted(t *testing.T) {
	in1 := trading.Intent{Symbol: "X", Side: trading.Buy, Type: trading.Market, Qty: d("1"), Tag: "a"}
	in2 := trading.Intent{Symbol: "X", Side: trading.Sell, Type: trading.Market, Qty: d("1"), Tag: "b"}
	s := NewScripted([]Step{{At: t0.Add(time.Second), Intent: in1}, {At: t0.Add(2 * time.Second), Intent: in2}})
	if o := s.OnEvent(t0.Add(time.Second-1), Event{Kind: EventTimer}, View{}); !o.Empty() {
		t.Errorf("early: %+v", o)
	}
	if o := s.OnEvent(t0.Add(time.Second), Event{Kind: EventTimer}, View{}); len(o.Place) != 1 || o.Place[0] != in1 {
		t.Errorf("at 1s: %+v", o)
	}
	if o := s.OnEvent(t0.Add(time.Second), Event{Kind: EventTimer}, View{}); !o.Empty() {
		t.Errorf("repeated: %+v", o)
	}
	if o := s.OnEvent(t0.Add(time.Hour), Event{Kind: EventTimer}, View{}); len(o.Place) != 1 || o.Place[0] != in2 || !s.Done() {
		t.Errorf("late: %+v", o)
	}
}

func TestEMAHand(t *testing.T) {
	e := EMA{Period: 3}
	// seed = mean(1,2,3) = 2; then (2·x + 2·ema)/4 = (x+ema)/2.
	steps := []struct {
		x, want string
		ok      bool
	}{{"1", "0", false}, {"2", "0", false}, {"3", "2", true}, {"6", "4", true}, {"1", "2.5", true}, {"0", "1.25", true}}
	for i, s := range steps {
		v, ok := e.Update(d(s.x))
		if ok != s.ok || v != d(s.want) {
			t.Errorf("step %d: got %s %v, want %s %v", i, v, ok, s.want, s.ok)
		}
	}
	// Period 12: α = 2/13, exact to 1e-8 with one rounding per step.
	e12 := EMA{Period: 2}
	e12.Update(d("10"))
	e12.Update(d("11"))                              // seed 10.5
	if v, _ := e12.Update(d("12")); v != d("11.5") { // (24 + 10.5)/3
		t.Errorf("period 2: %s", v)
	}
	if v, _ := e12.Update(d("10")); v != d("10.5") { // (20 + 11.5)/3
		t.Errorf("period 2 step 2: %s", v)
	}
	if v, _ := e12.Update(d("10")); v != d("10.16666667") { // (20+10.5)/3 rounded half up
		t.Errorf("period 2 step 3: %s", v)
	}
}

func TestATRHand(t *testing.T) {
	a := ATR{Period: 2}
	// TR1 = 12-10 = 2 (no prev close)
	if _, ok := a.Update(d("12"), d("10"), d("11")); ok {
		t.Error("warm too early")
	}
	// TR2 = max(13-11, |13-11|, |11-11|) = 2 -> ATR = 2
	if v, ok := a.Update(d("13"), d("11"), d("12")); !ok || v != d("2") {
		t.Errorf("seed %s %v", v, ok)
	}
	// gap up: TR3 = max(17-16, |17-12|, |16-12|) = 5 -> (2·1 + 5)/2 = 3.5
	if v, _ := a.Update(d("17"), d("16"), d("16")); v != d("3.5") {
		t.Errorf("gap %s", v)
	}
	// gap down: TR4 = max(11-10, |11-16|, |10-16|) = 6 -> (3.5 + 6)/2 = 4.75
	if v, _ := a.Update(d("11"), d("10"), d("10")); v != d("4.75") {
		t.Errorf("gap down %s", v)
	}
}

func newMarket(t testing.TB) *market.Symbol {
	t.Helper()
	m, err := market.New(market.Config{DepthLevels: 5, StatsWindow: time.Minute, StatsMaxTrades: 64, CandleIntervals: []time.Duration{time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	return m.Symbol("BTCUSDT")
}

func candle(i int, o, h, l, c string) Event {
	return Event{Kind: EventCandle, Symbol: "BTCUSDT", Candle: trading.Kline{Symbol: "BTCUSDT", OpenTime: t0.Add(time.Duration(i) * time.Minute),
		Interval: time.Minute, Open: d(o), High: d(h), Low: d(l), Close: d(c), Volume: d("1")}}
}

func tradeEv(sec int, price, qty string, side trading.Side) Event {
	return Event{Kind: EventTrade, Symbol: "BTCUSDT", Trade: trading.Trade{Symbol: "BTCUSDT", Price: d(price), Qty: d(qty), Side: side, Time: t0.Add(time.Duration(sec) * time.Second)}}
}

func TestTrendCrossAndStop(t *testing.T) {
	p := TrendParams{Interval: time.Minute, FastPeriod: 1, SlowPeriod: 3, ATRPeriod: 2, ATRMultiplier: d("2"), Trailing: true, AllowShort: true}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	spec := instrument.Default("BTCUSDT")
	s := NewTrend("BTCUSDT", Sizing{BaseSizeRatio: d("0.1"), Leverage: fixed.One}, p)
	v := View{Equity: d("1000"), Spec: &spec}
	step := func(ev Event) Output { return s.OnEvent(ev.Candle.OpenTime, ev, v) }

	// Closes 10, 10, 10: slow seed 10, fast 10: no sign yet (equal).
	// Candles with range 2 and no gaps: ATR = 2.
	for i := range 3 {
		if o := step(candle(i, "10", "11", "9", "10")); !o.Empty() {
			t.Fatalf("candle %d: %+v", i, o)
		}
	}
	// Close 8: fast 8, slow (16+20)/4 = 9: fast < slow, first sign, no trade.
	if o := step(candle(3, "10", "10", "8", "8")); !o.Empty() {
		t.Fatalf("first sign traded: %+v", o)
	}
	if f, sl, atr, ok := s.Indicators(); !ok || f != d("8") || sl != d("9") || atr != d("2") {
		t.Fatalf("indicators %s %s %s %v", f, sl, atr, ok) // TR4 = max(2, 0, 2) = 2
	}
	// Close 12: fast 12 > slow (24+18)/4 = 10.5: cross up -> buy 100/12 = 8.3333.
	o := step(candle(4, "8", "12", "8", "12"))
	if len(o.Place) != 1 || o.Place[0].Side != trading.Buy || o.Place[0].Qty != d("8.3333") || o.Place[0].Tag != "cross-long" || o.Place[0].ReduceOnly {
		t.Fatalf("cross up: %+v", o)
	}
	// ATR after candle 4: TR = max(4, |12-8|, 0) = 4 -> (2+4)/2 = 3. Stop = 12 - 2·3 = 6.
	v.Position = Position{Qty: d("8.3333"), EntryPrice: d("12")}
	if o := s.OnEvent(t0, tradeEv(301, "6.1", "1", trading.Sell), v); !o.Empty() || s.Stop() != d("6") {
		t.Fatalf("stop not placed at 6: %s %+v", s.Stop(), o)
	}
	// Trailing: close 14 (range 13..14, TR = max(1, 2, 1) = 2 -> ATR 2.5): stop = 14 - 5 = 9.
	if o := step(candle(5, "13", "14", "13", "14")); !o.Empty() || s.Stop() != d("9") {
		t.Fatalf("trail: stop %s %+v", s.Stop(), o)
	}
	// A trade one tick above the stop does nothing; at the stop it closes.
	if o := s.OnEvent(t0, tradeEv(361, "9.0001", "1", trading.Sell), v); !o.Empty() {
		t.Fatalf("stopped early: %+v", o)
	}
	o = s.OnEvent(t0, tradeEv(362, "9", "1", trading.Sell), v)
	if len(o.Place) != 1 || o.Place[0].Side != trading.Sell || o.Place[0].Qty != d("8.3333") || !o.Place[0].ReduceOnly || o.Place[0].Tag != "stop" {
		t.Fatalf("stop: %+v", o)
	}
	// While the close is in flight nothing more is sent.
	v.Orders = []Order{{ClientID: "c1", Side: trading.Sell, Qty: d("8.3333"), ReduceOnly: true}}
	if o := s.OnEvent(t0, tradeEv(363, "8", "1", trading.Sell), v); !o.Empty() {
		t.Fatalf("duplicate stop: %+v", o)
	}
}

func TestTrendShortCrossClosesLong(t *testing.T) {
	p := TrendParams{Interval: time.Minute, FastPeriod: 1, SlowPeriod: 2, ATRPeriod: 1, ATRMultiplier: d("100"), AllowShort: true}
	s := NewTrend("BTCUSDT", Sizing{BaseSizeRatio: d("0.1"), Leverage: fixed.One}, p)
	v := View{Equity: d("1000")}
	s.OnEvent(t0, candle(0, "10", "10", "10", "10"), v)
	s.OnEvent(t0, candle(1, "12", "12", "12", "12"), v) // fast 12 > slow 11: first sign
	v.Position = Position{Qty: d("2"), EntryPrice: d("12")}
	o := s.OnEvent(t0, candle(2, "9", "9", "9", "9"), v) // fast 9 < slow (18+11)/3: cross down
	if len(o.Place) != 2 || o.Place[0].Tag != "cross-exit" || o.Place[0].Qty != d("2") || !o.Place[0].ReduceOnly ||
		o.Place[1].Tag != "cross-short" || o.Place[1].Side != trading.Sell || o.Place[1].Qty != d("11.11111111") {
		t.Fatalf("cross down: %+v", o.Place)
	}
	// Other intervals and symbols are ignored.
	ev := candle(3, "20", "20", "20", "20")
	ev.Candle.Interval = 5 * time.Minute
	if o := s.OnEvent(t0, ev, v); !o.Empty() {
		t.Errorf("other interval: %+v", o)
	}
}

func TestMeanReversionEntryExit(t *testing.T) {
	p := DefaultMeanReversionParams()
	p.MinTrades = 4
	p.EntryZ = d("1.5")
	p.MinBookImbalance = d("0.2")
	p.StopLoss = d("0.05")
	p.TakeProfit = d("0.5")
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	sym := newMarket(t)
	sym.OnBook(t0, &trading.Book{Symbol: "BTCUSDT",
		Bids: []trading.Level{{Price: d("99"), Qty: d("3")}}, Asks: []trading.Level{{Price: d("101"), Qty: d("1")}}}) // imbalance +0.5
	s := NewMeanReversion("BTCUSDT", Sizing{BaseSizeRatio: d("0.1"), Leverage: fixed.One}, p)
	v := View{Market: sym, Equity: d("1000")}
	feed := func(ev Event) Output { return s.OnEvent(ev.Trade.Time, ev, v) }
	// Four trades at 100, then a buy at 96: VWAP 99.2, σ = 1.6, z = -2.
	for i := range 4 {
		if o := feed(tradeEv(i, "100", "1", trading.Buy)); !o.Empty() {
			t.Fatalf("warm-up traded: %+v", o)
		}
	}
	o := feed(tradeEv(4, "96", "1", trading.Buy))
	if len(o.Place) != 1 || o.Place[0].Side != trading.Buy || o.Place[0].Qty != d("1.04166666") || o.Place[0].Tag != "mr-long" {
		t.Fatalf("entry: %+v", o)
	}
	// Same stretch but the book leans to the ask: no confirmation.
	s2 := NewMeanReversion("BTCUSDT", Sizing{BaseSizeRatio: d("0.1"), Leverage: fixed.One}, p)
	sym2 := newMarket(t)
	sym2.OnBook(t0, &trading.Book{Symbol: "BTCUSDT",
		Bids: []trading.Level{{Price: d("99"), Qty: d("1")}}, Asks: []trading.Level{{Price: d("101"), Qty: d("1")}}})
	for i := range 4 {
		s2.OnEvent(t0, tradeEv(i, "100", "1", trading.Buy), View{Market: sym2, Equity: d("1000")})
	}
	if o := s2.OnEvent(t0, tradeEv(4, "96", "1", trading.Buy), View{Market: sym2, Equity: d("1000")}); !o.Empty() {
		t.Fatalf("entered without book confirmation: %+v", o)
	}

	// In a long from 96: a trade still below VWAP holds, one at VWAP exits.
	v.Position = Position{Qty: d("1.04166666"), EntryPrice: d("96")}
	if o := feed(tradeEv(5, "97", "1", trading.Buy)); !o.Empty() {
		t.Fatalf("exited below VWAP: %+v", o)
	}
	// Window now 100×4, 96, 97: VWAP = 98.8333...; 99 is above it.
	o = feed(tradeEv(6, "99", "1", trading.Buy))
	if len(o.Place) != 1 || o.Place[0].Tag != "mr-revert" || o.Place[0].Side != trading.Sell || !o.Place[0].ReduceOnly || o.Place[0].Qty != d("1.04166666") {
		t.Fatalf("reversion exit: %+v", o)
	}
	// Stop-loss: 5% under 96 = 91.2; exactly there it stops.
	v.Position = Position{Qty: d("1"), EntryPrice: d("96")}
	if o := feed(tradeEv(7, "91.2", "1", trading.Sell)); len(o.Place) != 1 || o.Place[0].Tag != "mr-stop" {
		t.Fatalf("stop: %+v", o)
	}
	// Take-profit on a short: 50% under 100 = 50.
	v.Position = Position{Qty: d("-1"), EntryPrice: d("100")}
	if o := feed(tradeEv(8, "50", "0.001", trading.Sell)); len(o.Place) != 1 || o.Place[0].Tag != "mr-take" || o.Place[0].Side != trading.Buy {
		t.Fatalf("take profit: %+v", o)
	}
}

func gridSetup(t *testing.T) (*Grid, *market.Symbol, View) {
	p := GridParams{Levels: 2, Spacing: d("0.01"), RecenterDrift: d("0.02"), MaxPositionNotional: d("250"), SkewFactor: d("1")}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	sym := newMarket(t)
	g := NewGrid("BTCUSDT", Sizing{BaseSizeRatio: d("0.1"), Leverage: fixed.One}, p)
	spec := instrument.Default("BTCUSDT") // price 1 decimal, qty 4
	return g, sym, View{Market: sym, Equity: d("1000"), Spec: &spec}
}

func setBook(sym *market.Symbol, bid, ask string) {
	sym.OnBook(t0, &trading.Book{Symbol: "BTCUSDT", Bids: []trading.Level{{Price: d(bid), Qty: d("1")}}, Asks: []trading.Level{{Price: d(ask), Qty: d("1")}}})
}

type quote struct{ side, price, qty string }

func quotes(o Output) []quote {
	var q []quote
	for _, in := range o.Place {
		if in.Type != trading.Limit || in.TimeInForce != trading.PostOnly {
			return nil
		}
		q = append(q, quote{in.Side.String(), in.Price.String(), in.Qty.String()})
	}
	return q
}

func eqQuotes(a, b []quote) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestGridPlacementRecenterSkew(t *testing.T) {
	g, sym, v := gridSetup(t)
	book := Event{Kind: EventBook, Symbol: "BTCUSDT"}
	setBook(sym, "99.9", "100.1") // mid 100
	o := g.OnEvent(t0, book, v)
	// Levels at 99, 98 / 101, 102; each 100 USDT of notional: 1.0101, 1.0204, 0.9900, 0.9803.
	want := []quote{{"BUY", "99", "1.0101"}, {"BUY", "98", "1.0204"}, {"SELL", "101", "0.99"}, {"SELL", "102", "0.9803"}}
	if got := quotes(o); !eqQuotes(got, want) || len(o.Cancel) != 0 {
		t.Fatalf("initial grid %v, want %v", got, want)
	}
	// Orders resting: nothing to do while mid drifts less than 2%.
	v.Orders = []Order{
		{ClientID: "b1", Side: trading.Buy, Price: d("99"), Qty: d("1.0101")},
		{ClientID: "b2", Side: trading.Buy, Price: d("98"), Qty: d("1.0204")},
		{ClientID: "s1", Side: trading.Sell, Price: d("101"), Qty: d("0.99")},
		{ClientID: "s2", Side: trading.Sell, Price: d("102"), Qty: d("0.9803")},
	}
	setBook(sym, "100.4", "100.6") // mid 100.5: nothing to do
	if o := g.OnEvent(t0, book, v); !o.Empty() || g.Center() != d("100") {
		t.Fatalf("changed a resting grid: %+v centre %s", o, g.Center())
	}
	setBook(sym, "101.8", "102") // mid 101.9: drift 1.9% < 2%: not re-centred,
	// but the sell at 101 is now through the bid, so it is pulled (post-only).
	if o := g.OnEvent(t0, book, v); len(o.Place) != 0 || len(o.Cancel) != 1 || o.Cancel[0] != "s1" || g.Center() != d("100") {
		t.Fatalf("re-centred early: %+v centre %s", o, g.Center())
	}
	// Mid 102 = 2% drift: re-centre, cancel all four, quote around 102.
	setBook(sym, "101.9", "102.1")
	o = g.OnEvent(t0, book, v)
	if g.Center() != d("102") || len(o.Cancel) != 4 {
		t.Fatalf("re-centre: centre %s cancels %v", g.Center(), o.Cancel)
	}
	want = []quote{{"BUY", "100.9", "0.991"}, {"BUY", "99.9", "1.001"}, {"SELL", "103.1", "0.9699"}, {"SELL", "104.1", "0.9606"}}
	// 102·0.99 = 100.98 -> floor 100.9; 102·0.98 = 99.96 -> 99.9; 102·1.01 = 103.02 -> ceil 103.1; 104.04 -> 104.1
	if got := quotes(o); !eqQuotes(got, want) {
		t.Fatalf("re-centred grid %v, want %v", got, want)
	}

	// Inventory: long 1.25 at mid 100 = 125 USDT = half the 250 cap: r = 0.5,
	// centre shifts down by 0.5·1·1% -> 99.5. Buys: only one level fits
	// (1.25 + 1.0152 at 98.5 = 221.6 ok; + 1.0256 more would be 2.29·97.5 > 250).
	g2, sym2, v2 := gridSetup(t)
	setBook(sym2, "99.9", "100.1")
	v2.Position = Position{Qty: d("1.25"), EntryPrice: d("100")}
	o = g2.OnEvent(t0, book, v2)
	want = []quote{{"BUY", "98.5", "1.0152"}, {"SELL", "100.5", "0.995"}, {"SELL", "101.5", "0.9852"}}
	// 99.5·0.99 = 98.505 -> 98.5; 99.5·1.01 = 100.495 -> 100.5; 99.5·1.02 = 101.49 -> 101.5
	if got := quotes(o); !eqQuotes(got, want) {
		t.Fatalf("skewed grid %v, want %v", got, want)
	}
	// At the cap no buys at all.
	g3, sym3, v3 := gridSetup(t)
	setBook(sym3, "99.9", "100.1")
	v3.Position = Position{Qty: d("2.5"), EntryPrice: d("100")}
	for _, q := range quotes(g3.OnEvent(t0, book, v3)) {
		if q.side == "BUY" {
			t.Fatalf("bought at the inventory cap: %v", q)
		}
	}
}

func BenchmarkTrendPerKline(b *testing.B) {
	s := NewTrend("BTCUSDT", DefaultSizing(), DefaultTrendParams())
	spec := instrument.Default("BTCUSDT")
	v := View{Equity: d("10000"), Spec: &spec}
	ev := Event{Kind: EventCandle, Symbol: "BTCUSDT", Candle: trading.Kline{Symbol: "BTCUSDT", Interval: 5 * time.Minute, Volume: d("1")}}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c := fixed.FromInt(100000 + int64(i%200-100)*10)
		ev.Candle.OpenTime = t0.Add(time.Duration(i) * 5 * time.Minute)
		ev.Candle.Open, ev.Candle.High, ev.Candle.Low, ev.Candle.Close = c, c+fixed.FromInt(20), c-fixed.FromInt(20), c
		s.OnEvent(ev.Candle.OpenTime, ev, v)
	}
}

func BenchmarkTrendPerTrade(b *testing.B) {
	s := NewTrend("BTCUSDT", DefaultSizing(), DefaultTrendParams())
	v := View{Equity: d("10000"), Position: Position{Qty: d("0.01"), EntryPrice: d("100000")}}
	ev := tradeEv(0, "100000", "0.01", trading.Buy)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		ev.Trade.Price = fixed.FromInt(100000 + int64(i%50))
		s.OnEvent(t0, ev, v)
	}
}

func BenchmarkMeanReversionPerTrade(b *testing.B) {
	sym := newMarket(b)
	setBook(sym, "99999", "100001")
	s := NewMeanReversion("BTCUSDT", DefaultSizing(), DefaultMeanReversionParams())
	v := View{Market: sym, Equity: d("10000")}
	ev := tradeEv(0, "100000", "0.01", trading.Buy)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		ev.Trade.Time = t0.Add(time.Duration(i) * time.Millisecond)
		ev.Trade.Price = fixed.FromInt(100000 + int64(i%50))
		s.OnEvent(ev.Trade.Time, ev, v)
	}
}

func BenchmarkGridPerBook(b *testing.B) {
	p := DefaultGridParams()
	g := NewGrid("BTCUSDT", DefaultSizing(), p)
	sym := newMarket(b)
	setBook(sym, "99999", "100001")
	spec := instrument.Default("BTCUSDT")
	v := View{Market: sym, Equity: d("10000"), Spec: &spec}
	o := g.OnEvent(t0, Event{Kind: EventBook, Symbol: "BTCUSDT"}, v)
	for i, in := range o.Place {
		v.Orders = append(v.Orders, Order{ClientID: in.Tag + string(rune('a'+i)), Side: in.Side, Price: in.Price, Qty: in.Qty})
	}
	b.ReportAllocs()
	for b.Loop() {
		if o := g.OnEvent(t0, Event{Kind: EventBook, Symbol: "BTCUSDT"}, v); !o.Empty() {
			b.Fatal(o)
		}
	}
}
