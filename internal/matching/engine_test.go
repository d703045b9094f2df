package matching

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/instrument"
	"github.com/bitrader/bitrader/internal/trading"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func v(s string) fixed.Value { return fixed.MustParse(s) }

const sym = "BTCUSDT"

func testSpec() instrument.Spec {
	return instrument.Spec{
		Symbol: sym, Base: "BTC", Quote: "USDT", BasePrecision: 3, QuotePrecision: 1,
		MinQty: v("0.001"), MaxLimitQty: v("100"), MaxMarketQty: v("50"),
		MinLeverage: 1, MaxLeverage: 100, DefaultLeverage: 10,
		PriceProtectScope: v("0.05"), Status: "OPEN",
	}
}

// rec records events as strings so tests can check their order.
type rec struct{ evs []Event }

func (r *rec) sink(ev *Event) { r.evs = append(r.evs, *ev) }

func (r *rec) kinds() string {
	var b strings.Builder
	for _, e := range r.evs {
		fmt.Fprintf(&b, "%s/%s ", e.Kind, e.Action)
	}
	return b.String()
}

// newTest builds an engine with BTCUSDT (maker 0.02%, taker 0.06%, mmr
// 0.5%) and accounts each holding 10000 USDT, isolated margin by default.
func newTest(t *testing.T, accounts ...string) (*Engine, *rec) {
	t.Helper()
	r := &rec{}
	e, err := New(Config{
		Instruments: []InstrumentConfig{{
			Spec: testSpec(), MakerFee: v("0.0002"), TakerFee: v("0.0006"),
			MaintenanceMarginRate: v("0.005"), FundingInterval: 8 * time.Hour,
		}},
		DefaultMarginMode: Isolation,
	}, r.sink)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range accounts {
		if err := e.OpenAccount(a, v("10000"), t0); err != nil {
			t.Fatal(err)
		}
	}
	return e, r
}

func must[T any](t *testing.T) func(T, error) T {
	return func(x T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
}

func book(bids, asks string) trading.Book {
	parse := func(s string) []trading.Level {
		var ls []trading.Level
		for _, f := range strings.Fields(s) {
			q, p, _ := strings.Cut(f, "@")
			ls = append(ls, trading.Level{Price: v(p), Qty: v(q)})
		}
		return ls
	}
	return trading.Book{Symbol: sym, Bids: parse(bids), Asks: parse(asks), Time: t0}
}

func limit(acct string, side trading.Side, qty, price string) OrderRequest {
	return OrderRequest{Account: acct, Symbol: sym, Side: side, Type: trading.Limit, Qty: v(qty), Price: v(price)}
}

func market(acct string, side trading.Side, qty string) OrderRequest {
	return OrderRequest{Account: acct, Symbol: sym, Side: side, Type: trading.Market, Qty: v(qty)}
}

func eq(t *testing.T, what string, got, want fixed.Value) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %s, want %s", what, got, want)
	}
}

func trade(price, qty string) trading.Trade {
	return trading.Trade{Symbol: sym, Price: v(price), Qty: v(qty), Time: t0}
}

func mark(p string) trading.MarkPrice { return trading.MarkPrice{Symbol: sym, Mark: v(p), Time: t0} }

func TestMarketWalksBookWithSlippageAndFees(t *testing.T) {
	e, _ := newTest(t, "a")
	if err := e.ApplyBook(book("5@99", "1@100 2@101")); err != nil {
		t.Fatal(err)
	}
	o := must[Order](t)(e.PlaceOrder(market("a", trading.Buy, "2"), t0))
	// fills 1@100 and 1@101: avg 100.5; fees 100*0.0006 + 101*0.0006 = 0.06 + 0.0606
	if o.Status != trading.StatusFilled {
		t.Fatalf("status %s", o.Status)
	}
	eq(t, "avg", o.AvgPrice, v("100.5"))
	eq(t, "fee", o.Fee, v("0.1206"))
	ps := e.Positions("a", sym)
	if len(ps) != 1 {
		t.Fatalf("positions %v", ps)
	}
	eq(t, "entry", ps[0].EntryPrice, v("100.5"))
	eq(t, "margin", ps[0].Margin, v("20.1")) // 201 / 10x
	acc := must[AccountSummary](t)(e.Account("a"))
	eq(t, "wallet", acc.Wallet, v("9999.8794"))       // 10000 - 0.1206
	eq(t, "available", acc.Available, v("9979.7794")) // wallet - 20.1 margin

	// The same tick's second taker sees the consumed book: only 1@101 left.
	o = must[Order](t)(e.PlaceOrder(market("a", trading.Buy, "2"), t0))
	if o.Status != trading.StatusCanceled || o.FilledQty != v("1") || o.AvgPrice != v("101") {
		t.Fatalf("second market: %+v", o)
	}
	// Close 3 at 99: pnl = 99*3 - (201+101) = -5; fee 297*0.0006 = 0.1782.
	o = must[Order](t)(e.PlaceOrder(market("a", trading.Sell, "3"), t0))
	eq(t, "close pnl", o.RealizedPnL, v("-5"))
	eq(t, "close fee", o.Fee, v("0.1782"))
	acc = must[AccountSummary](t)(e.Account("a"))
	// 10000 - 0.1206 - 0.0606 (second buy) - 5 - 0.1782
	eq(t, "wallet after close", acc.Wallet, v("9994.6406"))
	eq(t, "margin after close", acc.Margin, 0)
	hp := e.HistoryPositions("a", sym)
	if len(hp) != 1 || hp[0].RealizedPnL != v("-5") || hp[0].MaxQty != v("3") || hp[0].ClosePrice != v("99") {
		t.Fatalf("history position %+v", hp)
	}
	// No liquidity: the market order is cancelled with nothing filled.
	e2, _ := newTest(t, "a")
	o = must[Order](t)(e2.PlaceOrder(market("a", trading.Buy, "1"), t0))
	if o.Status != trading.StatusCanceled || o.FilledQty != 0 {
		t.Fatalf("market without liquidity: %+v", o)
	}
}

func TestQueuePosition(t *testing.T) {
	e, _ := newTest(t, "a", "b")
	must[struct{}](t)(struct{}{}, e.ApplyBook(book("5@100", "5@101")))
	a := must[Order](t)(e.PlaceOrder(limit("a", trading.Buy, "1", "100"), t0)) // 5 ahead
	must[struct{}](t)(struct{}{}, e.ApplyBook(book("8@100", "5@101")))         // growth behind a
	b := must[Order](t)(e.PlaceOrder(limit("b", trading.Buy, "2", "100"), t0)) // 8 ahead

	steps := []struct {
		print      string
		aFill, bFl string
	}{
		{"3", "0", "0"}, // a: 5-3=2 ahead; b: 8-3=5
		{"3", "1", "0"}, // a: 2 ahead, 1 fills a; b: 5-(3-1)=3
		{"3", "1", "0"}, // b: 3-3=0 ahead, nothing left for it
		{"1", "1", "1"}, // b fills 1
	}
	for i, s := range steps {
		if err := e.ApplyTrade(trade("100", s.print)); err != nil {
			t.Fatal(err)
		}
		ga := must[Order](t)(e.Order("a", a.ID, ""))
		gb := must[Order](t)(e.Order("b", b.ID, ""))
		if ga.FilledQty != v(s.aFill) || gb.FilledQty != v(s.bFl) {
			t.Fatalf("step %d: a filled %s b filled %s, want %s %s", i, ga.FilledQty, gb.FilledQty, s.aFill, s.bFl)
		}
	}
	// A print through the price fills up to its qty regardless of queue.
	c := must[Order](t)(e.PlaceOrder(limit("a", trading.Buy, "1", "100"), t0))
	must[struct{}](t)(struct{}{}, e.ApplyTrade(trade("99.9", "0.4")))
	gb := must[Order](t)(e.Order("b", b.ID, ""))
	gc := must[Order](t)(e.Order("a", c.ID, ""))
	// b (older, remaining 1) takes the whole 0.4 first.
	eq(t, "b filled", gb.FilledQty, v("1.4"))
	eq(t, "c filled", gc.FilledQty, 0)
	// Maker fee on a's fill: 100*1*0.0002 = 0.02.
	fa := e.Fills("a", sym)
	if len(fa) != 1 || !fa[0].Maker || fa[0].Fee != v("0.02") {
		t.Fatalf("a fills %+v", fa)
	}
	// The through print also emptied the queue ahead of c at 100.
	must[struct{}](t)(struct{}{}, e.ApplyTrade(trade("100", "0.7")))
	gc = must[Order](t)(e.Order("a", c.ID, ""))
	gb = must[Order](t)(e.Order("b", b.ID, ""))
	eq(t, "b filled", gb.FilledQty, v("2"))   // its last 0.6
	eq(t, "c filled", gc.FilledQty, v("0.1")) // the rest of the print

	// A shrinking book level shrinks the queue ahead.
	e, _ = newTest(t, "a")
	must[struct{}](t)(struct{}{}, e.ApplyBook(book("5@100", "5@101")))
	d := must[Order](t)(e.PlaceOrder(limit("a", trading.Buy, "1", "100"), t0)) // 5 ahead
	must[struct{}](t)(struct{}{}, e.ApplyBook(book("0.5@100", "5@101")))
	must[struct{}](t)(struct{}{}, e.ApplyTrade(trade("100", "0.7"))) // 0.5 ahead, then 0.2 fills d
	gd := must[Order](t)(e.Order("a", d.ID, ""))
	eq(t, "d filled after shrink", gd.FilledQty, v("0.2"))
}

func TestPriceTimePriorityBetweenAccounts(t *testing.T) {
	e, _ := newTest(t, "a", "b", "c", "d")
	must[Order](t)(e.PlaceOrder(limit("a", trading.Sell, "1", "101"), t0))
	ob := must[Order](t)(e.PlaceOrder(limit("b", trading.Sell, "1", "100"), t0))
	oc := must[Order](t)(e.PlaceOrder(limit("c", trading.Sell, "1", "100"), t0))
	od := must[Order](t)(e.PlaceOrder(limit("d", trading.Buy, "2.5", "101"), t0))
	if od.Status != trading.StatusFilled {
		t.Fatalf("taker %+v", od)
	}
	// (100+100+50.5)/2.5 = 100.2
	eq(t, "avg", od.AvgPrice, v("100.2"))
	fills := e.Fills("d", sym) // newest first
	want := []struct{ price, qty string }{{"101", "0.5"}, {"100", "1"}, {"100", "1"}}
	for i, w := range want {
		if fills[i].Price != v(w.price) || fills[i].Qty != v(w.qty) || fills[i].Maker {
			t.Fatalf("fill %d %+v", i, fills[i])
		}
	}
	if fb := e.Fills("b", sym); len(fb) != 1 || fb[0].OrderID != ob.ID || !fb[0].Maker {
		t.Fatalf("b fills %+v", fb)
	}
	if fc := e.Fills("c", sym); len(fc) != 1 || fc[0].OrderID != oc.ID || fc[0].TradeID <= fills[2].TradeID {
		t.Fatalf("c fills %+v (b must fill first)", fc)
	}
	if oo := e.OpenOrders("a", sym); len(oo) != 1 || oo[0].FilledQty != v("0.5") || oo[0].Status != trading.StatusPartiallyFilled {
		t.Fatalf("a open %+v", oo)
	}
}

func TestExternalAheadOfAccountOrderAtSamePrice(t *testing.T) {
	e, _ := newTest(t, "a", "b")
	must[struct{}](t)(struct{}{}, e.ApplyBook(book("", "2@100")))
	oa := must[Order](t)(e.PlaceOrder(limit("a", trading.Sell, "1", "100"), t0)) // 2 external ahead
	ob := must[Order](t)(e.PlaceOrder(limit("b", trading.Buy, "2.5", "100"), t0))
	eq(t, "taker filled", ob.FilledQty, v("2.5"))
	ga := must[Order](t)(e.Order("a", oa.ID, ""))
	eq(t, "a filled after external", ga.FilledQty, v("0.5"))
}

func TestTimeInForce(t *testing.T) {
	e, _ := newTest(t, "a")
	must[struct{}](t)(struct{}{}, e.ApplyBook(book("1@99", "1@100 1@102")))
	ioc := limit("a", trading.Buy, "2", "100")
	ioc.TimeInForce = trading.IOC
	o := must[Order](t)(e.PlaceOrder(ioc, t0))
	if o.Status != trading.StatusCanceled || o.FilledQty != v("1") {
		t.Fatalf("IOC %+v", o)
	}
	must[struct{}](t)(struct{}{}, e.ApplyBook(book("1@99", "1@100 1@102")))
	fok := limit("a", trading.Buy, "2", "101")
	fok.TimeInForce = trading.FOK
	o = must[Order](t)(e.PlaceOrder(fok, t0))
	if o.Status != trading.StatusCanceled || o.FilledQty != 0 {
		t.Fatalf("FOK unfillable %+v", o)
	}
	fok.Price = v("102")
	o = must[Order](t)(e.PlaceOrder(fok, t0)) // 1@100 + 1@102 are there: all-or-nothing check passed
	if o.Status != trading.StatusFilled || o.AvgPrice != v("101") {
		t.Fatalf("FOK fillable %+v", o)
	}
	must[struct{}](t)(struct{}{}, e.ApplyBook(book("1@99", "1@100")))
	po := limit("a", trading.Buy, "1", "100")
	po.TimeInForce = trading.PostOnly
	if _, err := e.PlaceOrder(po, t0); !errors.Is(err, ErrPostOnlyWouldCross) {
		t.Fatalf("post-only cross: %v", err)
	}
	po.Price = v("99.9")
	o = must[Order](t)(e.PlaceOrder(po, t0))
	if o.Status != trading.StatusNew {
		t.Fatalf("post-only rest %+v", o)
	}
	gtc := limit("a", trading.Buy, "2", "100")
	o = must[Order](t)(e.PlaceOrder(gtc, t0))
	if o.Status != trading.StatusPartiallyFilled || o.FilledQty != v("1") {
		t.Fatalf("GTC %+v", o)
	}
}

func TestReduceOnly(t *testing.T) {
	e, _ := newTest(t, "a")
	ro := limit("a", trading.Sell, "1", "105")
	ro.ReduceOnly = true
	_, err := e.PlaceOrder(ro, t0)
	if !errors.Is(err, ErrReduceOnlyNoPosition) || Code(err) != 30018 {
		t.Fatalf("no position: %v", err)
	}
	must[struct{}](t)(struct{}{}, e.ApplyBook(book("1@99", "1@100")))
	must[Order](t)(e.PlaceOrder(market("a", trading.Buy, "1"), t0))
	same := limit("a", trading.Buy, "1", "99")
	same.ReduceOnly = true
	if _, err := e.PlaceOrder(same, t0); !errors.Is(err, ErrReduceOnlySameSide) || Code(err) != 30019 {
		t.Fatalf("same side: %v", err)
	}
	// Qty above the position is accepted and clamped at fill time.
	ro.Qty = v("2")
	o := must[Order](t)(e.PlaceOrder(ro, t0))
	acc := must[AccountSummary](t)(e.Account("a"))
	eq(t, "reduce-only reserves nothing", acc.Frozen, 0)
	must[struct{}](t)(struct{}{}, e.ApplyTrade(trade("105", "5")))
	g := must[Order](t)(e.Order("a", o.ID, ""))
	if g.FilledQty != v("1") || g.Status != trading.StatusCanceled {
		t.Fatalf("clamped reduce-only %+v", g)
	}
	// pnl 105-100 = 5, maker fee 105*0.0002 = 0.021
	eq(t, "rpnl", g.RealizedPnL, v("5"))
	eq(t, "fee", g.Fee, v("0.021"))
	if len(e.Positions("a", "")) != 0 {
		t.Fatal("position left")
	}
}

func TestValidation(t *testing.T) {
	e, _ := newTest(t, "a")
	must[struct{}](t)(struct{}{}, e.ApplyMark(mark("100")))
	must[struct{}](t)(struct{}{}, e.OpenAccount("poor", v("10"), t0))
	sp := testSpec()
	sp.MinQty = v("0.002")
	must[struct{}](t)(struct{}{}, e.AddInstrument(InstrumentConfig{Spec: sp, TakerFee: v("0.0006"), MakerFee: v("0.0002"), MaintenanceMarginRate: v("0.005")}))
	dup := limit("a", trading.Buy, "1", "99")
	dup.ClientID = "c1"
	cases := []struct {
		name string
		req  OrderRequest
		err  error
		code int
	}{
		{"qty precision", limit("a", trading.Buy, "0.0015", "99"), ErrPrecision, 30016},
		{"price precision", limit("a", trading.Buy, "1", "99.05"), ErrPrecision, 30016},
		{"too small", limit("a", trading.Buy, "0.001", "99"), ErrQtyTooSmall, 30017},
		{"too large limit", limit("a", trading.Buy, "101", "99"), ErrQtyTooLarge, 30039},
		{"too large market", market("a", trading.Buy, "51"), ErrQtyTooLarge, 30039},
		{"unknown symbol", OrderRequest{Account: "a", Symbol: "X", Side: trading.Buy, Type: trading.Limit, Qty: v("1"), Price: v("1")}, ErrUnknownSymbol, 20015},
		{"protect buy", limit("a", trading.Buy, "1", "105.1"), ErrPriceProtect, 30014},
		{"protect sell", limit("a", trading.Sell, "1", "94.9"), ErrPriceProtect, 30015},
		{"balance", limit("poor", trading.Buy, "1", "100"), ErrInsufficientBalance, 20003}, // 10 margin + 0.06 fee > 10
		{"no account", limit("zz", trading.Buy, "1", "100"), ErrAccountNotFound, 20011},
	}
	for _, c := range cases {
		_, err := e.PlaceOrder(c.req, t0)
		if !errors.Is(err, c.err) || Code(err) != c.code {
			t.Errorf("%s: got %v (code %d), want %v (%d)", c.name, err, Code(err), c.err, c.code)
		}
	}
	for _, ok := range []OrderRequest{limit("a", trading.Buy, "1", "105"), limit("a", trading.Sell, "1", "95"), dup} {
		if _, err := e.PlaceOrder(ok, t0); err != nil {
			t.Errorf("%+v: %v", ok, err)
		}
	}
	if _, err := e.PlaceOrder(dup, t0); !errors.Is(err, ErrDuplicateClientID) || Code(err) != 30042 {
		t.Fatalf("duplicate: %v", err)
	}
	must[Order](t)(e.CancelOrder("a", sym, 0, "c1", t0))
	if _, err := e.PlaceOrder(dup, t0); !errors.Is(err, ErrDuplicateClientID) {
		t.Fatalf("duplicate of a cancelled order: %v", err)
	}
	if g := must[Order](t)(e.Order("a", 0, "c1")); g.Status != trading.StatusCanceled {
		t.Fatalf("lookup by client id %+v", g)
	}
	if _, err := e.CancelOrder("a", sym, 9999, "", t0); !errors.Is(err, ErrOrderNotFound) || Code(err) != 20007 {
		t.Fatalf("cancel unknown: %v", err)
	}
	if Code(nil) != 0 || Code(errors.New("x")) != 10001 {
		t.Fatal("Code of nil/foreign")
	}
}

func TestMarginReservation(t *testing.T) {
	e, _ := newTest(t, "a")
	must[struct{}](t)(struct{}{}, e.SetLeverage("a", sym, 20, t0))
	o := must[Order](t)(e.PlaceOrder(limit("a", trading.Buy, "2", "100"), t0))
	acc := must[AccountSummary](t)(e.Account("a"))
	eq(t, "frozen", acc.Frozen, v("10")) // 200/20
	eq(t, "available", acc.Available, v("9990"))
	if err := e.SetLeverage("a", sym, 10, t0); !errors.Is(err, ErrHasOpenOrders) {
		t.Fatalf("leverage with open orders: %v", err)
	}
	if err := e.SetLeverage("a", sym, 101, t0); !errors.Is(err, ErrLeverage) {
		t.Fatalf("leverage too high: %v", err)
	}
	if err := e.SetMarginMode("a", sym, Cross, t0); !errors.Is(err, ErrHasOpenOrders) {
		t.Fatalf("margin mode with open orders: %v", err)
	}
	if err := e.SetPositionMode("a", Hedge, t0); !errors.Is(err, ErrHasOpenOrders) {
		t.Fatalf("position mode with open orders: %v", err)
	}
	// Half fills: half the reservation becomes position margin.
	must[struct{}](t)(struct{}{}, e.ApplyTrade(trade("100", "1")))
	acc = must[AccountSummary](t)(e.Account("a"))
	eq(t, "frozen after half", acc.Frozen, v("5"))
	eq(t, "margin after half", acc.Margin, v("5"))
	eq(t, "wallet after maker fee", acc.Wallet, v("9999.98")) // 100*0.0002
	must[Order](t)(e.CancelOrder("a", "", o.ID, "", t0))
	acc = must[AccountSummary](t)(e.Account("a"))
	eq(t, "frozen after cancel", acc.Frozen, 0)
	if err := e.SetPositionMode("a", Hedge, t0); !errors.Is(err, ErrHasPositions) || Code(err) != 20009 {
		t.Fatalf("position mode with position: %v", err)
	}
	must[struct{}](t)(struct{}{}, e.ApplyMark(mark("110")))
	acc = must[AccountSummary](t)(e.Account("a"))
	eq(t, "isolated upnl", acc.IsolationUnrealizedPnL, v("10"))
	eq(t, "equity", acc.Equity, v("10009.98"))
}

func TestHedgeMode(t *testing.T) {
	e, _ := newTest(t, "a")
	must[struct{}](t)(struct{}{}, e.SetPositionMode("a", Hedge, t0))
	must[struct{}](t)(struct{}{}, e.ApplyBook(book("10@100", "10@101")))
	must[Order](t)(e.PlaceOrder(market("a", trading.Buy, "1"), t0))
	must[Order](t)(e.PlaceOrder(market("a", trading.Sell, "2"), t0))
	ps := e.Positions("a", sym)
	if len(ps) != 2 || ps[0].Side != trading.Buy || ps[1].Side != trading.Sell || ps[0].Qty != v("1") || ps[1].Qty != v("2") {
		t.Fatalf("hedge positions %+v", ps)
	}
	// Close the short by position id (side as sent is ignored).
	cl := market("a", trading.Sell, "2")
	cl.TradeSide, cl.PositionID = Close, ps[1].ID
	o := must[Order](t)(e.PlaceOrder(cl, t0))
	if o.Side != trading.Buy || o.Status != trading.StatusFilled {
		t.Fatalf("hedge close %+v", o)
	}
	// short 2 @100, bought back at 101: pnl = (100-101)*2 = -2
	eq(t, "hedge close pnl", o.RealizedPnL, v("-2"))
	// Opposite-side convention without id: SELL CLOSE closes the long.
	cl = market("a", trading.Sell, "1")
	cl.TradeSide = Close
	o = must[Order](t)(e.PlaceOrder(cl, t0))
	eq(t, "long close pnl", o.RealizedPnL, v("-1")) // 100 - 101
	if len(e.Positions("a", "")) != 0 {
		t.Fatal("positions left")
	}
	// One-way nets instead: a sell against a long reduces then flips.
	e2, _ := newTest(t, "a")
	must[struct{}](t)(struct{}{}, e2.ApplyBook(book("10@100", "10@101")))
	must[Order](t)(e2.PlaceOrder(market("a", trading.Buy, "1"), t0))
	must[Order](t)(e2.PlaceOrder(market("a", trading.Sell, "3"), t0))
	ps = e2.Positions("a", sym)
	if len(ps) != 1 || ps[0].Side != trading.Sell || ps[0].Qty != v("2") || ps[0].EntryPrice != v("100") {
		t.Fatalf("one-way flip %+v", ps)
	}
}

func TestIsolatedLiquidation(t *testing.T) {
	e, r := newTest(t, "a")
	must[struct{}](t)(struct{}{}, e.ApplyBook(book("10@99", "10@100")))
	must[Order](t)(e.PlaceOrder(market("a", trading.Buy, "1"), t0))
	p := e.Positions("a", sym)[0]
	// margin 100/10 = 10; liq = (100 - 10) / (1 * (1 - 0.005)) = 90.452261306... → 90.45226131
	eq(t, "liq price", p.LiqPrice, v("90.45226131"))
	must[struct{}](t)(struct{}{}, e.ApplyMark(mark("90.5")))
	if len(e.Positions("a", "")) != 1 {
		t.Fatal("liquidated too early")
	}
	r.evs = nil
	must[struct{}](t)(struct{}{}, e.ApplyMark(mark("90.4")))
	if len(e.Positions("a", "")) != 0 {
		t.Fatal("not liquidated")
	}
	f := e.Fills("a", sym)[0]
	// pnl = 90.45226131 - 100 = -9.54773869; fee = what is left = 10 - 9.54773869
	if !f.Liquidation || f.Price != v("90.45226131") || f.RealizedPnL != v("-9.54773869") || f.Fee != v("0.45226131") {
		t.Fatalf("liquidation fill %+v", f)
	}
	acc := must[AccountSummary](t)(e.Account("a"))
	eq(t, "wallet", acc.Wallet, v("9989.94")) // 10000 - 0.06 open fee - 10 margin
	eq(t, "margin", acc.Margin, 0)
	if k := r.kinds(); !strings.Contains(k, "position/CLOSE") || !strings.Contains(k, "fill/CREATE") {
		t.Fatalf("liquidation events %s", k)
	}
	if hp := e.HistoryPositions("a", sym); hp[0].LiqQty != v("1") {
		t.Fatalf("liq qty %+v", hp[0])
	}
}

func TestCrossLiquidation(t *testing.T) {
	e, _ := newTest(t)
	must[struct{}](t)(struct{}{}, e.OpenAccount("a", v("100"), t0))
	must[struct{}](t)(struct{}{}, e.SetMarginMode("a", sym, Cross, t0))
	must[struct{}](t)(struct{}{}, e.ApplyBook(book("10@99", "10@100")))
	must[Order](t)(e.PlaceOrder(market("a", trading.Buy, "5"), t0))
	// notional 500, margin 50, fee 0.3 → wallet 99.7.
	// equity 99.7 + 5(P-100) = maintenance 0.025P ⇒ P = 400.3/4.975 = 80.46231156
	p := e.Positions("a", sym)[0]
	eq(t, "cross liq price", p.LiqPrice, v("80.46231156"))
	o := must[Order](t)(e.PlaceOrder(limit("a", trading.Buy, "0.1", "90"), t0))
	must[struct{}](t)(struct{}{}, e.ApplyMark(mark("80.5"))) // equity 2.2 > maint 2.0125
	if len(e.Positions("a", "")) != 1 {
		t.Fatal("liquidated too early")
	}
	must[struct{}](t)(struct{}{}, e.ApplyMark(mark("80.4"))) // equity 1.7 <= 2.01
	if len(e.Positions("a", "")) != 0 {
		t.Fatal("not liquidated")
	}
	// closed at mark 80.4: pnl 402-500 = -98, fee 402*0.0006 = 0.2412
	acc := must[AccountSummary](t)(e.Account("a"))
	eq(t, "wallet", acc.Wallet, v("1.4588"))
	eq(t, "frozen", acc.Frozen, 0)
	if g := must[Order](t)(e.Order("a", o.ID, "")); g.Status != trading.StatusCanceled {
		t.Fatalf("open order survived liquidation %+v", g)
	}
}

func TestFunding(t *testing.T) {
	e, _ := newTest(t, "long", "short")
	must[Order](t)(e.PlaceOrder(limit("short", trading.Sell, "2", "100"), t0))
	must[Order](t)(e.PlaceOrder(limit("long", trading.Buy, "2", "100"), t0))
	must[struct{}](t)(struct{}{}, e.ApplyMark(mark("105")))
	must[struct{}](t)(struct{}{}, e.ApplyFunding(sym, v("0.0001"), t0))
	// payment = 105 * 2 * 0.0001 = 0.021
	l := e.Positions("long", sym)[0]
	s := e.Positions("short", sym)[0]
	eq(t, "long funding", l.Funding, v("-0.021"))
	eq(t, "short funding", s.Funding, v("0.021"))
	al := must[AccountSummary](t)(e.Account("long"))
	as := must[AccountSummary](t)(e.Account("short"))
	eq(t, "long wallet", al.Wallet, v("9999.859"))  // 10000 - 0.12 taker - 0.021
	eq(t, "short wallet", as.Wallet, v("9999.981")) // 10000 - 0.04 maker + 0.021
	if !FundingDue(t0.Add(7*time.Hour), t0.Add(8*time.Hour), 8*time.Hour) || FundingDue(t0.Add(time.Hour), t0.Add(7*time.Hour), 8*time.Hour) {
		t.Fatal("FundingDue")
	}
	if n := NextFunding(t0.Add(time.Minute), 8*time.Hour); !n.Equal(t0.Add(8 * time.Hour)) {
		t.Fatalf("NextFunding %v", n)
	}
	if n := NextFunding(t0, 8*time.Hour); !n.Equal(t0.Add(8 * time.Hour)) {
		t.Fatalf("NextFunding at boundary %v", n)
	}
}

func TestTPSL(t *testing.T) {
	e, r := newTest(t, "a")
	must[struct{}](t)(struct{}{}, e.ApplyBook(book("10@99", "10@100")))
	req := market("a", trading.Buy, "1")
	req.TP = Trigger{Price: v("110"), StopType: MarkPrice}
	req.SL = Trigger{Price: v("95"), StopType: LastPrice}
	must[Order](t)(e.PlaceOrder(req, t0))
	pend := e.PendingTPSL("a", sym, 0)
	if len(pend) != 1 || pend[0].TP.Qty != v("1") || pend[0].Status != TPSLNew {
		t.Fatalf("attached tp/sl %+v", pend)
	}
	// A last price at 110 does not fire a MARK_PRICE take-profit.
	must[struct{}](t)(struct{}{}, e.ApplyTrade(trade("110", "0")))
	if len(e.Positions("a", "")) != 1 {
		t.Fatal("TP fired on last price")
	}
	must[struct{}](t)(struct{}{}, e.ApplyBook(book("10@109", "10@111")))
	r.evs = nil
	must[struct{}](t)(struct{}{}, e.ApplyMark(mark("110")))
	if len(e.Positions("a", "")) != 0 {
		t.Fatal("TP did not close")
	}
	h := e.HistoryTPSL("a", sym)
	if len(h) != 1 || h[0].Status != TPSLFilled || h[0].ChildOrderID == 0 {
		t.Fatalf("tp/sl history %+v", h)
	}
	child := must[Order](t)(e.Order("a", h[0].ChildOrderID, ""))
	eq(t, "child pnl", child.RealizedPnL, v("9")) // sold at bid 109
	if k := r.kinds(); !strings.HasPrefix(k, "order/CREATE") || !strings.Contains(k, "tpsl/CLOSE") {
		t.Fatalf("events %s", k)
	}

	// Position SL on last price.
	must[Order](t)(e.PlaceOrder(market("a", trading.Sell, "1"), t0)) // short 1 @109
	p := e.Positions("a", sym)[0]
	if _, err := e.PlaceTPSL(TPSLRequest{Account: "a", Symbol: sym, PositionID: p.ID, Kind: KindPositionTPSL,
		SL: Trigger{Price: v("105"), StopType: LastPrice}}, t0); !errors.Is(err, ErrTPSLInvalid) {
		t.Fatalf("stop below a short's last price must be refused: %v", err)
	}
	ts := must[TPSL](t)(e.PlaceTPSL(TPSLRequest{Account: "a", Symbol: sym, PositionID: p.ID, Kind: KindPositionTPSL,
		SL: Trigger{Price: v("115"), StopType: LastPrice}}, t0))
	ts = must[TPSL](t)(e.ModifyTPSL(TPSLRequest{Account: "a", Symbol: sym, ID: ts.ID,
		SL: Trigger{Price: v("114"), StopType: LastPrice}}, t0))
	eq(t, "modified sl", ts.SL.Price, v("114"))
	must[struct{}](t)(struct{}{}, e.ApplyTrade(trade("113.9", "0")))
	if len(e.Positions("a", "")) != 1 {
		t.Fatal("SL fired early")
	}
	must[struct{}](t)(struct{}{}, e.ApplyTrade(trade("114", "0")))
	if len(e.Positions("a", "")) != 0 {
		t.Fatal("SL did not fire")
	}
	// Cancel path.
	must[Order](t)(e.PlaceOrder(market("a", trading.Buy, "1"), t0))
	p = e.Positions("a", sym)[0]
	ts = must[TPSL](t)(e.PlaceTPSL(TPSLRequest{Account: "a", Symbol: sym, PositionID: p.ID, Kind: KindTPSL,
		TP: Trigger{Price: v("130"), Qty: v("0.5"), OrderType: trading.Limit, OrderPrice: v("130")}}, t0))
	ts = must[TPSL](t)(e.CancelTPSL("a", sym, ts.ID, t0))
	if ts.Status != TPSLCanceled || len(e.PendingTPSL("a", "", 0)) != 0 {
		t.Fatalf("cancel %+v", ts)
	}
}

func TestModifyAndCancelAll(t *testing.T) {
	e, _ := newTest(t, "a", "b")
	must[struct{}](t)(struct{}{}, e.ApplyBook(book("3@100", "3@102")))
	o := must[Order](t)(e.PlaceOrder(limit("a", trading.Buy, "2", "100"), t0))
	// A qty decrease keeps the queue; the order still has 3 ahead.
	must[Order](t)(e.ModifyOrder(ModifyRequest{Account: "a", OrderID: o.ID, Qty: v("1"), Price: v("100")}, t0))
	must[struct{}](t)(struct{}{}, e.ApplyTrade(trade("100", "3")))
	if g := must[Order](t)(e.Order("a", o.ID, "")); g.FilledQty != 0 {
		t.Fatalf("filled through the queue %+v", g)
	}
	acc := must[AccountSummary](t)(e.Account("a"))
	eq(t, "frozen after shrink", acc.Frozen, v("10")) // 100*1/10
	// A price change to cross takes liquidity.
	g := must[Order](t)(e.ModifyOrder(ModifyRequest{Account: "a", OrderID: o.ID, Qty: v("1"), Price: v("102")}, t0))
	if g.Status != trading.StatusFilled || g.AvgPrice != v("102") {
		t.Fatalf("crossing modify %+v", g)
	}
	must[Order](t)(e.PlaceOrder(limit("b", trading.Buy, "1", "99"), t0))
	must[Order](t)(e.PlaceOrder(limit("b", trading.Sell, "1", "103"), t0))
	cs := must[[]Order](t)(e.CancelAll("b", "", t0))
	if len(cs) != 2 || cs[0].ID > cs[1].ID || cs[0].Status != trading.StatusCanceled {
		t.Fatalf("cancel all %+v", cs)
	}
	if len(e.OpenOrders("b", "")) != 0 {
		t.Fatal("orders left")
	}
	os := must[[]Order](t)(e.CloseAll("a", "", t0))
	if len(os) != 1 || os[0].Status != trading.StatusFilled || len(e.Positions("a", "")) != 0 {
		t.Fatalf("close all %+v", os)
	}
}

func TestBookCrossingRestingOrder(t *testing.T) {
	e, _ := newTest(t, "a")
	must[struct{}](t)(struct{}{}, e.ApplyBook(book("1@99", "1@101")))
	o := must[Order](t)(e.PlaceOrder(limit("a", trading.Buy, "2", "100"), t0))
	must[struct{}](t)(struct{}{}, e.ApplyBook(book("1@98", "1.5@99.5 5@100.5")))
	g := must[Order](t)(e.Order("a", o.ID, ""))
	if g.FilledQty != v("1.5") || g.AvgPrice != v("100") {
		t.Fatalf("crossed resting %+v", g)
	}
	d := must[trading.Book](t)(e.Depth(sym, 5))
	if len(d.Bids) != 2 || d.Bids[0].Price != v("100") || d.Bids[0].Qty != v("0.5") || d.Asks[0].Price != v("100.5") {
		t.Fatalf("depth %+v", d)
	}
}

// TestDeterministic runs the same scripted session twice and compares every
// event.
func TestDeterministic(t *testing.T) {
	run := func() string {
		e, r := newTest(t, "a", "b", "c")
		must[struct{}](t)(struct{}{}, e.SetMarginMode("c", sym, Cross, t0))
		seed := uint64(7)
		rnd := func(n uint64) uint64 { seed = seed*6364136223846793005 + 1442695040888963407; return (seed >> 33) % n }
		accts := []string{"a", "b", "c"}
		for i := 0; i < 400; i++ {
			ts := t0.Add(time.Duration(i) * time.Second)
			mid := 1000 + int64(rnd(20))
			switch rnd(6) {
			case 0:
				_ = e.ApplyBook(trading.Book{Symbol: sym, Time: ts,
					Bids: []trading.Level{{Price: fixed.FromInt(mid - 1), Qty: fixed.FromInt(int64(rnd(3)))}},
					Asks: []trading.Level{{Price: fixed.FromInt(mid + 1), Qty: fixed.FromInt(int64(rnd(3)))}}})
			case 1:
				_ = e.ApplyTrade(trading.Trade{Symbol: sym, Price: fixed.FromInt(mid), Qty: fixed.FromInt(int64(rnd(3))), Time: ts})
			case 2:
				_ = e.ApplyMark(trading.MarkPrice{Symbol: sym, Mark: fixed.FromInt(mid), Time: ts})
			case 3:
				_, _ = e.PlaceOrder(market(accts[rnd(3)], trading.Side(1-2*int8(rnd(2))), "0.5"), ts)
			default:
				_, _ = e.PlaceOrder(OrderRequest{Account: accts[rnd(3)], Symbol: sym, Side: trading.Side(1 - 2*int8(rnd(2))),
					Type: trading.Limit, Price: fixed.FromInt(mid - 3 + int64(rnd(7))), Qty: v("1"), ReduceOnly: rnd(4) == 0}, ts)
			}
		}
		_ = e.ApplyFunding(sym, v("0.0001"), t0)
		var b strings.Builder
		for _, ev := range r.evs {
			fmt.Fprintf(&b, "%+v\n", ev)
		}
		return b.String()
	}
	a, b := run(), run()
	if a != b {
		t.Fatal("two runs differ")
	}
	if strings.Count(a, "Kind:fill") < 10 {
		t.Fatalf("scenario too quiet: %d fills", strings.Count(a, "Kind:fill"))
	}
}

// TestMarksQuiet: a price range is quiet only if no mark in it liquidates
// (checked against applying its ends to a fresh engine, around both
// liquidation prices) or could trigger a TP/SL.
func TestMarksQuiet(t *testing.T) {
	isolated := func(t *testing.T) *Engine { // long 1 @ 100, liq 90.45226131
		e, _ := newTest(t, "a")
		must[struct{}](t)(struct{}{}, e.ApplyBook(book("10@99", "10@100")))
		must[Order](t)(e.PlaceOrder(market("a", trading.Buy, "1"), t0))
		return e
	}
	cross := func(t *testing.T) *Engine { // long 5 @ 100, liq 80.46231156
		e, _ := newTest(t)
		must[struct{}](t)(struct{}{}, e.OpenAccount("a", v("100"), t0))
		must[struct{}](t)(struct{}{}, e.SetMarginMode("a", sym, Cross, t0))
		must[struct{}](t)(struct{}{}, e.ApplyBook(book("10@99", "10@100")))
		must[Order](t)(e.PlaceOrder(market("a", trading.Buy, "5"), t0))
		return e
	}
	for _, tc := range []struct {
		name   string
		setup  func(*testing.T) *Engine
		lo, hi string
		quiet  bool
	}{
		{"isolated above liq", isolated, "90.46", "120", true},
		{"isolated low end at liq", isolated, "90.45226131", "120", false},
		{"isolated through liq", isolated, "90.4", "95", false},
		{"cross above liq", cross, "80.5", "120", true},
		{"cross low end at liq", cross, "80.46231156", "90", false},
		{"cross through liq", cross, "80.4", "90", false},
		{"inverted range", isolated, "100", "95", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.setup(t).MarksQuiet(sym, v(tc.lo), v(tc.hi)); got != tc.quiet {
				t.Fatalf("MarksQuiet(%s, %s) = %v, want %v", tc.lo, tc.hi, got, tc.quiet)
			}
		})
	}
	// Every range said quiet really is: neither end liquidates.
	for _, setup := range []func(*testing.T) *Engine{isolated, cross} {
		for lo := v("80"); lo < v("92"); lo += v("0.00731") {
			if !setup(t).MarksQuiet(sym, lo, v("100")) {
				continue
			}
			for _, p := range []fixed.Value{lo, v("100")} {
				e := setup(t)
				must[struct{}](t)(struct{}{}, e.ApplyMark(trading.MarkPrice{Symbol: sym, Mark: p, Time: t0}))
				if len(e.Positions("a", "")) != 1 {
					t.Fatalf("range from %s said quiet, but a mark at %s liquidated", lo, p)
				}
			}
		}
	}
	e, _ := newTest(t, "a")
	must[struct{}](t)(struct{}{}, e.ApplyBook(book("10@99", "10@100")))
	req := market("a", trading.Buy, "1")
	req.TP = Trigger{Price: v("110"), StopType: MarkPrice}
	must[Order](t)(e.PlaceOrder(req, t0))
	if e.MarksQuiet(sym, v("95"), v("105")) {
		t.Error("quiet with a TP/SL waiting")
	}
	if !isolated(t).MarksQuiet(sym, v("95"), v("105")) {
		t.Error("the same position without a TP/SL is not quiet")
	}
}
