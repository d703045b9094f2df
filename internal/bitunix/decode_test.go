package bitunix

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/trading"
)

var m = fixed.MustParse

const (
	frameDepth15  = `{"ch":"depth_book15","symbol":"BTCUSDT","ts":1790126515693,"data":{"b":[["86699.6","2.274"],["86699.5","2.7407"]],"a":[["86699.7","0.7095"],["86699.8","2.1992"]]}}`
	frameTrade    = `{"ch":"trade","symbol":"BTCUSDT","ts":1748803492958,"data":[{"p":"104350","s":"buy","t":"2025-06-01T18:44:52Z","v":"1.1536"}]}`
	frameTicker   = `{"ch":"ticker","symbol":"BTCUSDT","ts":1790126515684,"data":{"s":"BTCUSDT","o":"85567","la":"86688.2","h":"86815.6","l":"85080","b":"27478.1701","q":"2362759522.50052","r":"1.3103182302"}}`
	frameTickers  = `{"ch":"tickers","ts":1732178884994,"data":[{"s":"BTCUSDT","la":"68650.9","o":"69141.6","h":"70319.9","l":"68241.9","b":"26295.3977","q":"1823374525.0193","r":"-0.7097029863","bd":"68650.9","ak":"68651","bv":"0.9747","av":"2.3606"}]}`
	frameKline    = `{"ch":"market_kline_1min","symbol":"BTCUSDT","ts":1775541412718,"data":{"o":"68581.4","c":"68583.4","h":"68590","l":"68579.5","b":"5.2395","q":"359348.14078"}}`
	framePrice    = `{"ch":"price","symbol":"BTCUSDT","ts":1790126515695,"data":{"ip":"86720.6","mp":"86688.3","fr":"-0.00077","ft":"2026-09-23T00:00:00Z","nft":"2026-09-23T08:00:00Z"}}`
	frameBalance  = `{"ch":"balance","ts":1642521600000,"data":{"coin":"USDT","available":"1000.5","frozen":"100.25","isolationFrozen":"20.75","crossFrozen":"30.25","margin":"200.5","isolationMargin":"50.75","crossMargin":"150.25","expMoney":"0"}}`
	framePosition = `{"ch":"position","ts":1645123456000,"data":{"event":"OPEN","positionId":"12345","marginMode":"ISOLATION","positionMode":"ONE_WAY","side":"LONG","leverage":"20","margin":"500.25","ctime":"2025-04-26T17:06:13.155255000Z","qty":"0.5","entryValue":"20000.5","symbol":"BTCUSDT","realizedPNL":"0","unrealizedPNL":"2.5","funding":"0","fee":"5.75"}}`
	frameOrder    = `{"ch":"order","ts":1651234567890,"data":{"event":"CREATE","orderId":"ord1","symbol":"BTCUSDT","positionType":"ISOLATION","positionMode":"ONE_WAY","side":"BUY","type":"LIMIT","effect":"GTC","qty":"1.0","reductionOnly":false,"price":"50000","ctime":"2023-01-01T00:00:00.000Z","mtime":"2023-01-01T00:00:00.000Z","leverage":"10","orderStatus":"NEW","fee":"0","dealAmount":"0","averagePrice":"0","clientId":"c1"}}`
	frameTPSL     = `{"ch":"tpsl","ts":1645123456000,"data":{"event":"CREATE","positionId":"1","orderId":"2","symbol":"BTCUSDT","leverage":"20","side":"BUY","positionMode":"ONE_WAY","status":"NEW","ctime":"2025-04-26T17:06:13.155255000Z","type":"POSITION_TPSL","tpQty":"0.5","slQty":"0.5","tpStopType":"MARK_PRICE","tpPrice":"50000","tpOrderType":"LIMIT","tpOrderPrice":"49900","slStopType":"LAST_PRICE","slPrice":"45000","slOrderType":"MARKET"}}`
)

// depth15 builds a full 15-level depth frame, as pushed every ~300 ms.
func depth15() []byte {
	var b strings.Builder
	b.WriteString(`{"ch":"depth_book15","symbol":"BTCUSDT","ts":1790126515693,"data":{"b":[`)
	for i := range 15 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `["%d.%d","%d.%04d"]`, 86699-i, i%10, i+1, 1234+i)
	}
	b.WriteString(`],"a":[`)
	for i := range 15 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `["%d.%d","%d.%04d"]`, 86700+i, i%10, i+2, 4321+i)
	}
	b.WriteString(`]}}`)
	return []byte(b.String())
}

func TestDecodeDepth(t *testing.T) {
	d := NewPublicDecoder()
	ev, err := d.Decode([]byte(frameDepth15))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Kind != KindDepth || ev.Channel != "depth_book15" || ev.Symbol != "BTCUSDT" {
		t.Fatalf("header: %+v", ev)
	}
	b := ev.Book
	if len(b.Bids) != 2 || len(b.Asks) != 2 || b.Bids[0] != (trading.Level{Price: m("86699.6"), Qty: m("2.274")}) ||
		b.Asks[1] != (trading.Level{Price: m("86699.8"), Qty: m("2.1992")}) {
		t.Errorf("book = %+v", b)
	}
	if !b.Time.Equal(time.UnixMilli(1790126515693)) || b.Symbol != "BTCUSDT" {
		t.Errorf("book time/symbol = %v %q", b.Time, b.Symbol)
	}
	// Unknown symbols get one all-empty frame (§5.2); numbers may be numbers (DOC example).
	ev, err = d.Decode([]byte(`{"ch":"depth_book5","symbol":"NOPE","ts":1,"data":{"b":[["",""],["",""]],"a":[["",""]]}}`))
	if err != nil || len(ev.Book.Bids) != 0 || len(ev.Book.Asks) != 0 {
		t.Errorf("empty levels: %v %+v", err, ev.Book)
	}
	ev, err = d.Decode([]byte(`{"ch":"depth_book1","symbol":"ETHUSDT","ts":"2","data":{"b":[[3000.5,1]],"a":[[3001,2.5]]}}`))
	if err != nil || ev.Book.Bids[0].Price != m("3000.5") || ev.Book.Asks[0].Qty != m("2.5") || ev.Symbol != "ETHUSDT" {
		t.Errorf("numeric levels: %v %+v", err, ev.Book)
	}
	if _, err := d.Decode([]byte(`{"ch":"depth_book1","symbol":"X","ts":1,"data":{"b":[["x","1"]],"a":[]}}`)); err == nil {
		t.Error("bad price accepted")
	}
}

func TestDecodeTrade(t *testing.T) {
	d := NewPublicDecoder()
	ev, err := d.Decode([]byte(frameTrade))
	if err != nil {
		t.Fatal(err)
	}
	want := trading.Trade{Symbol: "BTCUSDT", Price: m("104350"), Qty: m("1.1536"), Side: trading.Buy,
		Time: time.Date(2025, 6, 1, 18, 44, 52, 0, time.UTC)}
	if ev.Kind != KindTrade || len(ev.Trades) != 1 || ev.Trades[0] != want {
		t.Errorf("trades = %+v", ev.Trades)
	}
	ev, err = d.Decode([]byte(`{"ch":"trade","symbol":"BTCUSDT","ts":5,"data":[{"p":1,"s":"SELL","t":"2025-06-01T18:44:52.123456789Z","v":"2"},{"p":"2","s":"Sell","t":1748803492958,"v":"3"}]}`))
	if err != nil || len(ev.Trades) != 2 || ev.Trades[0].Side != trading.Sell || ev.Trades[1].Side != trading.Sell ||
		ev.Trades[0].Time.Nanosecond() != 123456789 || !ev.Trades[1].Time.Equal(time.UnixMilli(1748803492958)) {
		t.Errorf("mixed trades: %v %+v", err, ev.Trades)
	}
}

func TestDecodeTickerKlinePrice(t *testing.T) {
	d := NewPublicDecoder()
	ev, err := d.Decode([]byte(frameTicker))
	if err != nil || ev.Kind != KindTicker || ev.Ticker.Last != m("86688.2") || ev.Ticker.QuoteVol != m("2362759522.50052") || ev.Ticker.Symbol != "BTCUSDT" {
		t.Errorf("ticker: %v %+v", err, ev.Ticker)
	}
	ev, err = d.Decode([]byte(frameTickers))
	if err != nil || ev.Kind != KindTickers || len(ev.Tickers) != 1 || ev.Tickers[0].Bid != m("68650.9") || ev.Tickers[0].AskQty != m("2.3606") || ev.Tickers[0].ChangePct != m("-0.7097029863") {
		t.Errorf("tickers: %v %+v", err, ev.Tickers)
	}
	ev, err = d.Decode([]byte(frameKline))
	k := ev.Kline
	if err != nil || ev.Kind != KindKline || k.Interval != time.Minute || k.Close != m("68583.4") || k.Volume != m("5.2395") ||
		!k.OpenTime.Equal(time.UnixMilli(1775541412718).Truncate(time.Minute)) {
		t.Errorf("kline: %v %+v", err, k)
	}
	ev, err = d.Decode([]byte(framePrice))
	p := ev.Price
	if err != nil || ev.Kind != KindPrice || p.Mark != m("86688.3") || p.Index != m("86720.6") ||
		p.FundingRate != m("-0.0000077") || !p.NextFundingTime.Equal(time.Date(2026, 9, 23, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("price: %v %+v", err, p)
	}
}

func TestDecodeControl(t *testing.T) {
	tests := []struct {
		frame  string
		op     string
		result bool
		msg    string
	}{
		{`{"op":"connect","data":{"result":true}}`, "connect", true, ""},
		{`{"op":"ping","pong":1,"ping":2}`, "ping", false, ""},
		{`{"op":"unsubscribe","ts":1790126500916,"data":"success"}`, "unsubscribe", true, ""},
		{`{"op":"subscribe","data":{"msg":"subscribe channel > 300","nonce":"","result":false}}`, "subscribe", false, "subscribe channel > 300"},
		{`{"op":"login","data":{"result":true}}`, "login", true, ""},
	}
	pd, vd := NewPublicDecoder(), NewPrivateDecoder()
	for _, tc := range tests {
		ev, err := pd.Decode([]byte(tc.frame))
		if err != nil || ev.Kind != KindControl || ev.Control != (Control{tc.op, tc.result, tc.msg}) {
			t.Errorf("public %s: %v %+v", tc.frame, err, ev)
		}
		pev, err := vd.Decode([]byte(tc.frame))
		if err != nil || pev.Kind != KindControl || pev.Control != (Control{tc.op, tc.result, tc.msg}) {
			t.Errorf("private %s: %v %+v", tc.frame, err, pev)
		}
	}
	for _, bad := range []string{``, `[]`, `nope`, `{"ch":`} {
		if _, err := pd.Decode([]byte(bad)); !errors.Is(err, ErrFrame) {
			t.Errorf("public %q: err = %v", bad, err)
		}
		if _, err := vd.Decode([]byte(bad)); !errors.Is(err, ErrFrame) {
			t.Errorf("private %q: err = %v", bad, err)
		}
	}
}

func TestDecodePrivate(t *testing.T) {
	d := NewPrivateDecoder()
	ev, err := d.Decode([]byte(frameBalance))
	if err != nil || ev.Kind != KindBalance || ev.Balance.Coin != "USDT" || ev.Balance.Available != m("1000.5") || ev.Balance.CrossMargin != m("150.25") {
		t.Errorf("balance: %v %+v", err, ev.Balance)
	}
	ev, err = d.Decode([]byte(framePosition))
	p := ev.Position
	if err != nil || ev.Kind != KindPosition || p.Event != "OPEN" || p.Side != trading.Buy || p.Leverage != 20 || p.Qty != m("0.5") ||
		p.MarginMode != "ISOLATION" || p.Created.Nanosecond() != 155255000 || p.Fee != m("5.75") {
		t.Errorf("position: %v %+v", err, p)
	}
	ev, err = d.Decode([]byte(frameOrder))
	o := ev.Order
	if err != nil || ev.Kind != KindOrder || o.OrderID != "ord1" || o.ClientID != "c1" || o.Side != trading.Buy || o.Type != trading.Limit ||
		o.Status != trading.StatusNew || o.Price != m("50000") || o.Qty != m("1") || o.MarginMode != "ISOLATION" || o.Leverage != 10 ||
		!o.Created.Equal(time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("order: %v %+v", err, o)
	}
	// Live quirks (§5.5, §7.2): Buy/Sell, Limit/Market, effect LONG, NEW_, list data, numbers.
	ev, err = d.Decode([]byte(`{"ch":"order","ts":1,"data":[{"event":"UPDATE","orderId":7,"side":"Sell","type":"Market","effect":"LONG","orderStatus":"NEW_","qty":0.5,"price":"market","reductionOnly":"true","leverage":5}]}`))
	o = ev.Order
	if err != nil || o.OrderID != "7" || o.Side != trading.Sell || o.Type != trading.Market || o.EffectRaw != "LONG" || o.TimeInForce != trading.GTC ||
		o.Status != trading.StatusNew || !o.PriceIsMarket || o.Price != 0 || o.Qty != m("0.5") || !o.ReduceOnly || o.Leverage != 5 {
		t.Errorf("quirky order: %v %+v", err, o)
	}
	ev, err = d.Decode([]byte(frameTPSL))
	tp := ev.TPSL
	if err != nil || ev.Kind != KindTPSL || tp.OrderID != "2" || tp.Type != "POSITION_TPSL" || tp.TPOrderType != trading.Limit ||
		tp.SLOrderType != trading.Market || tp.TPOrderPrice != m("49900") || tp.SLStopType != "LAST_PRICE" || tp.Side != trading.Buy {
		t.Errorf("tpsl: %v %+v", err, tp)
	}
	ev, err = d.Decode([]byte(`{"ch":"tpsl","ts":1,"data":{"orderId":"3","side":"Sell","tpStopType":"Mark","slStopType":"Last"}}`))
	if err != nil || ev.TPSL.TPStopType != "MARK_PRICE" || ev.TPSL.SLStopType != "LAST_PRICE" || ev.TPSL.Side != trading.Sell {
		t.Errorf("tpsl quirks: %v %+v", err, ev.TPSL)
	}
	if _, err := d.Decode([]byte(`{"ch":"order","ts":1,"data":{"qty":"1.2.3"}}`)); err == nil {
		t.Error("bad qty accepted")
	}
}

func TestParseISO(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2025-04-26T17:06:13.155255000Z", time.Date(2025, 4, 26, 17, 6, 13, 155255000, time.UTC), true},
		{"2026-09-23T08:00:00Z", time.Date(2026, 9, 23, 8, 0, 0, 0, time.UTC), true},
		{"2026-09-23T08:00:00+02:00", time.Date(2026, 9, 23, 6, 0, 0, 0, time.UTC), true},
		{"2026-09-23T08:00:00.Z", time.Time{}, false},
		{"2026-13-23T08:00:00Z", time.Time{}, false},
		{"garbage", time.Time{}, false},
	}
	for _, tc := range tests {
		got, err := parseISO([]byte(tc.in))
		if (err == nil) != tc.ok || !got.Equal(tc.want) {
			t.Errorf("parseISO(%q) = %v, %v", tc.in, got, err)
		}
	}
}

func TestDecodeZeroAlloc(t *testing.T) {
	d := NewPublicDecoder()
	depth, trade := depth15(), []byte(frameTrade)
	for _, f := range [][]byte{depth, trade} {
		if _, err := d.Decode(f); err != nil {
			t.Fatal(err)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = d.Decode(depth) }); n != 0 {
		t.Errorf("depth_book15 allocs = %v, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = d.Decode(trade) }); n != 0 {
		t.Errorf("trade allocs = %v, want 0", n)
	}
}

func BenchmarkDecodeDepth15(b *testing.B) {
	d, f := NewPublicDecoder(), depth15()
	b.SetBytes(int64(len(f)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Decode(f); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeTrade(b *testing.B) {
	d, f := NewPublicDecoder(), []byte(frameTrade)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Decode(f); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodePrivateOrder(b *testing.B) {
	d, f := NewPrivateDecoder(), []byte(frameOrder)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Decode(f); err != nil {
			b.Fatal(err)
		}
	}
}

func TestKindString(t *testing.T) {
	want := map[Kind]string{KindUnknown: "unknown", KindControl: "control", KindDepth: "depth", KindTPSL: "tpsl",
		KindConnected: "connected", KindDisconnected: "disconnected", KindDisconnected + 1: "Kind(15)", 200: "Kind(200)"}
	for k, s := range want {
		if k.String() != s {
			t.Errorf("Kind(%d).String() = %q, want %q", uint8(k), k.String(), s)
		}
	}
}
