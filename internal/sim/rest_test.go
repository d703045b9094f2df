package sim

import (
	"encoding/json"
	"strconv"

	"github.com/bitrader/bitrader/internal/fixed"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestRefSignVectorV1(t *testing.T) {
	// The test client's signer must reproduce §2.3 V1 or every auth test
	// below proves nothing.
	q, _ := url.ParseQuery("symbol=BTCUSDT&limit=20&status=NEW")
	got := refSign("9b1f3c5e7a9d2b4f6e8c0a1d3f5b7e9c", "1735689600000", "4f2c1a9e8b7d6c5e4f3a2b1c0d9e8f7a", "0a1b2c3d4e5f60718293a4b5c6d7e8f9", q, "")
	if got != "6f19da40c495355680e8887ba6b43b32331204bdab794c13ed0fdeaad2045467" {
		t.Fatalf("V1 sign = %s", got)
	}
}

func TestEnvelopeNotFound(t *testing.T) {
	e := newEnv(t, nil)
	for _, p := range []string{"/api/v1/futures/nope", "/foo", "/api/v1/spot/x"} {
		status, b := e.do(t, "GET", p, "", "", reqOpt{noSign: true})
		if status != 200 || string(b) != `{"code":404,"data":null,"msg":"Not Found"}` {
			t.Errorf("%s: HTTP %d %s", p, status, b)
		}
	}
}

func TestMarketErrors(t *testing.T) {
	e := newEnv(t, nil)
	cases := []struct {
		path, q string
		code    int
		msg     string
	}{
		{"market/depth", "symbol=BTCUSDT&limit=20", 10008, `Parameter 20 does not match, alternative value ["1","5","15","50","max"].`},
		{"market/depth", "limit=5", 1, "Network Error"},
		{"market/depth", "symbol=NOPEUSDT", 20015, "this Futures is not allowed to trade."},
		{"market/kline", "symbol=BTCUSDT&interval=7m", 10008, ""},
		{"market/kline", "symbol=BTCUSDT", 1, "Network Error"},
		{"market/funding_rate", "symbol=XUSDT", 20015, ""},
		{"market/depth", "symbol=btcusdt&limit=max", 0, "Success"}, // case-insensitive symbol
	}
	for _, c := range cases {
		w := e.call(t, "GET", "/api/v1/futures/"+c.path, c.q, "", reqOpt{noSign: true})
		if w.Code != c.code || (c.msg != "" && w.Msg != c.msg) {
			t.Errorf("%s?%s = %d %q, want %d %q", c.path, c.q, w.Code, w.Msg, c.code, c.msg)
		}
		if c.code != 0 && string(w.Data) != "null" {
			t.Errorf("%s: error data %s, want null", c.path, w.Data)
		}
	}
}

func TestMarketShapes(t *testing.T) {
	e := newEnv(t, nil)
	e.advance(t, 3*time.Minute)
	var depth struct{ Asks, Bids [][]string }
	w := e.get(t, "market/depth", "symbol=BTCUSDT&limit=5")
	if err := json.Unmarshal(w.Data, &depth); err != nil || len(depth.Asks) != 5 || len(depth.Bids) != 5 {
		t.Fatalf("depth %s: %v", w.Data, err)
	}
	if depth.Bids[0][0] >= depth.Asks[0][0] && len(depth.Bids[0][0]) == len(depth.Asks[0][0]) {
		t.Errorf("crossed book %v %v", depth.Bids[0], depth.Asks[0])
	}
	var pairs []map[string]any
	w = e.get(t, "market/trading_pairs", "symbols=BTCUSDT")
	if err := json.Unmarshal(w.Data, &pairs); err != nil || len(pairs) != 1 {
		t.Fatalf("trading_pairs %s", w.Data)
	}
	for k, want := range map[string]any{"basePrecision": 4.0, "quotePrecision": 1.0, "minTradeVolume": "0.0001", "symbolStatus": "OPEN"} {
		if pairs[0][k] != want {
			t.Errorf("trading_pairs %s = %v, want %v", k, pairs[0][k], want)
		}
	}
	var fr map[string]any
	w = e.get(t, "market/funding_rate", "symbol=BTCUSDT")
	if err := json.Unmarshal(w.Data, &fr); err != nil {
		t.Fatal(err)
	}
	if _, ok := fr["fundingRate"].(string); !ok {
		t.Errorf("fundingRate %v not a string", fr["fundingRate"])
	}
	if _, ok := fr["nextFundingTime"].(string); !ok {
		t.Errorf("nextFundingTime %v not a string", fr["nextFundingTime"])
	}
	var kl []map[string]any
	w = e.get(t, "market/kline", "symbol=BTCUSDT&interval=1m&limit=2")
	if err := json.Unmarshal(w.Data, &kl); err != nil || len(kl) != 2 {
		t.Fatalf("kline %s", w.Data)
	}
	if _, ok := kl[0]["open"].(string); !ok {
		t.Errorf("kline open not a string: %v", kl[0])
	}
}

func TestSignature(t *testing.T) {
	e := newEnv(t, nil)
	upper := func(s string) string { return strings.ToUpper(s[:1]) + s[1:] }
	cases := []struct {
		name string
		q    string
		o    reqOpt
		code int
	}{
		{"valid", "marginCoin=USDT", reqOpt{}, 0},
		{"header case (TIQ style)", "marginCoin=USDT", reqOpt{headerCase: upper}, 0},
		{"wrong secret", "marginCoin=USDT", reqOpt{secret: "nope"}, 10007},
		{"bad sign", "marginCoin=USDT", reqOpt{badSign: true}, 10007},
		{"no headers", "marginCoin=USDT", reqOpt{noSign: true}, 10003},
		{"unknown key", "marginCoin=USDT", reqOpt{key: "ghost"}, 10007},
		{"stale timestamp", "marginCoin=USDT", reqOpt{tsShift: -2 * time.Minute}, 10007},
		{"future timestamp", "marginCoin=USDT", reqOpt{tsShift: 2 * time.Minute}, 10007},
		{"within window", "marginCoin=USDT", reqOpt{tsShift: -30 * time.Second}, 0},
		{"missing marginCoin", "", reqOpt{}, 1},
	}
	for _, c := range cases {
		w := e.call(t, "GET", "/api/v1/futures/account", c.q, "", c.o)
		if w.Code != c.code {
			t.Errorf("%s: code %d %q, want %d", c.name, w.Code, w.Msg, c.code)
		}
		if c.code == 10007 && w.Msg != "Signature Error" {
			t.Errorf("%s: msg %q", c.name, w.Msg)
		}
		e.advance(t, time.Second) // stay under the 10/s limit
	}
	// Raw (decoded) query values are signed: a comma-separated list.
	w := e.call(t, "GET", "/api/v1/futures/account/trading_settings", "symbols=BTCUSDT%2CETHUSDT", "", reqOpt{})
	if w.Code != 0 {
		t.Fatalf("trading_settings: %d %s", w.Code, w.Msg)
	}
	var acct map[string]any
	w = e.get(t, "account", "marginCoin=USDT")
	if err := json.Unmarshal(w.Data, &acct); err != nil {
		t.Fatalf("account data must be one object: %s", w.Data)
	}
	if acct["available"] != "10000" {
		t.Errorf("available %v", acct["available"])
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, nil)
	codes := map[int]int{}
	for range 11 {
		codes[e.get(t, "account", "marginCoin=USDT").Code]++
	}
	if codes[0] != 10 || codes[10006] != 1 {
		t.Fatalf("codes %v, want 10 ok and one 10006", codes)
	}
	e.advance(t, time.Second)
	if w := e.get(t, "account", "marginCoin=USDT"); w.Code != 0 {
		t.Fatalf("after a second: %d", w.Code)
	}
	for range 10 {
		e.call(t, "GET", "/api/v1/futures/market/tickers", "", "", reqOpt{noSign: true})
	}
	if w := e.call(t, "GET", "/api/v1/futures/market/tickers", "", "", reqOpt{noSign: true}); w.Code != 10005 {
		t.Fatalf("market over limit: %d", w.Code)
	}
}

const buyBody = `{"symbol":"BTCUSDT","side":"BUY","tradeSide":"OPEN","orderType":"LIMIT","qty":"0.01","price":"%s","effect":"GTC","clientId":"%s","reduceOnly":false}`

func order(price, clientID string) string {
	return strings.Replace(strings.Replace(buyBody, "%s", price, 1), "%s", clientID, 1)
}

// bestBid returns the current best bid of BTCUSDT as a string.
func (e *testEnv) bestBid(t *testing.T) string {
	t.Helper()
	var depth struct{ Bids [][]string }
	w := e.call(t, "GET", "/api/v1/futures/market/depth", "symbol=BTCUSDT&limit=1", "", reqOpt{noSign: true})
	if err := json.Unmarshal(w.Data, &depth); err != nil || len(depth.Bids) == 0 {
		t.Fatalf("depth %s", w.Data)
	}
	return depth.Bids[0][0]
}

func TestOrderErrors(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		eth := SymbolFromName("ETHUSDT")
		eth.Spec.MinQty = fixed.MustParse("0.01")
		c.Symbols = []SymbolConfig{SymbolFromName("BTCUSDT"), eth}
	})
	e.advance(t, time.Second)
	bid := e.bestBid(t)
	bidV, _ := strconv.ParseFloat(bid, 64)
	low := strconv.Itoa(int(bidV) - 600) // 1% under the bid: rests, never fills in a few seconds
	w := e.post(t, "trade/place_order", order(low, "c1"))
	if w.Code != 0 {
		t.Fatalf("place: %d %s", w.Code, w.Msg)
	}
	var placed struct{ OrderID, ClientID string }
	_ = json.Unmarshal(w.Data, &placed)
	if placed.OrderID == "" || placed.ClientID != "c1" {
		t.Fatalf("place data %s", w.Data)
	}
	cases := []struct {
		name, path, body string
		code             int
	}{
		{"duplicate clientId", "trade/place_order", order(low, "c1"), 30042},
		{"qty precision", "trade/place_order", `{"symbol":"BTCUSDT","side":"BUY","orderType":"LIMIT","qty":"0.00001","price":"` + low + `"}`, 30016},
		{"qty below min", "trade/place_order", `{"symbol":"ETHUSDT","side":"BUY","orderType":"LIMIT","qty":"0.001","price":"2900"}`, 30017},
		{"qty above max", "trade/place_order", `{"symbol":"BTCUSDT","side":"BUY","orderType":"LIMIT","qty":"501","price":"` + low + `"}`, 30039},
		{"reduce-only no position", "trade/place_order", `{"symbol":"BTCUSDT","side":"SELL","orderType":"LIMIT","qty":"0.01","price":"` + low + `","reduceOnly":true}`, 30018},
		{"insufficient balance", "trade/place_order", `{"symbol":"BTCUSDT","side":"BUY","orderType":"LIMIT","qty":"400","price":"` + low + `"}`, 20003},
		{"unknown symbol", "trade/place_order", `{"symbol":"FOOUSDT","side":"BUY","orderType":"LIMIT","qty":"1","price":"1"}`, 20015},
		{"bad side enum", "trade/place_order", `{"symbol":"BTCUSDT","side":"UP","orderType":"LIMIT","qty":"1","price":"1"}`, 10008},
		{"missing qty", "trade/place_order", `{"symbol":"BTCUSDT","side":"BUY","orderType":"LIMIT","price":"1"}`, 1},
	}
	for _, c := range cases {
		if w := e.post(t, c.path, c.body); w.Code != c.code {
			t.Errorf("%s: %d %q, want %d", c.name, w.Code, w.Msg, c.code)
		}
		e.advance(t, 200*time.Millisecond)
	}
	e.advance(t, time.Second)
	if w := e.get(t, "trade/get_order_detail", "orderId=999999"); w.Code != 20007 {
		t.Errorf("order not found: %d %s", w.Code, w.Msg)
	}
	if w := e.get(t, "trade/get_order_detail", "clientId=c1"); w.Code != 0 {
		t.Errorf("detail by clientId: %d %s", w.Code, w.Msg)
	}
	if w := e.post(t, "account/change_margin_mode", `{"symbol":"BTCUSDT","marginCoin":"USDT","marginMode":"ISOLATION"}`); w.Code != 20006 {
		t.Errorf("margin mode with open order: %d %s", w.Code, w.Msg)
	}
	if w := e.post(t, "account/change_position_mode", `{"positionMode":"HEDGE"}`); w.Code != 20009 {
		t.Errorf("position mode with open order: %d %s", w.Code, w.Msg)
	}
	var pending struct {
		OrderList []map[string]any
		Total     string
	}
	w = e.get(t, "trade/get_pending_orders", "symbol=BTCUSDT")
	if err := json.Unmarshal(w.Data, &pending); err != nil || len(pending.OrderList) != 1 || pending.OrderList[0]["clientId"] != "c1" {
		t.Fatalf("pending %s", w.Data)
	}
	w = e.post(t, "trade/cancel_orders", `{"symbol":"BTCUSDT","orderList":[{"clientId":"c1"},{"orderId":"424242"}]}`)
	var cancel struct {
		SuccessList []map[string]any
		FailureList []map[string]any
	}
	if err := json.Unmarshal(w.Data, &cancel); err != nil || len(cancel.SuccessList) != 1 || len(cancel.FailureList) != 1 {
		t.Fatalf("cancel %s", w.Data)
	}
	if w := e.post(t, "account/change_position_mode", `{"positionMode":"HEDGE"}`); w.Code != 0 {
		t.Errorf("position mode with nothing open: %d %s", w.Code, w.Msg)
	}
}

func TestMarketOrderOpensPosition(t *testing.T) {
	e := newEnv(t, nil)
	e.advance(t, time.Second)
	w := e.post(t, "trade/place_order", `{"symbol":"BTCUSDT","side":"BUY","orderType":"MARKET","qty":"0.01","clientId":"m1"}`)
	if w.Code != 0 {
		t.Fatalf("market: %d %s", w.Code, w.Msg)
	}
	var ps []map[string]any
	w = e.get(t, "position/get_pending_positions", "symbol=BTCUSDT")
	if err := json.Unmarshal(w.Data, &ps); err != nil || len(ps) != 1 {
		t.Fatalf("positions %s", w.Data)
	}
	if ps[0]["side"] != "BUY" || ps[0]["qty"] != "0.01" {
		t.Errorf("position side/qty %v %v (want BUY quirk)", ps[0]["side"], ps[0]["qty"])
	}
	if _, ok := ps[0]["ctime"].(string); !ok {
		t.Errorf("ctime %v not a string", ps[0]["ctime"])
	}
	// Reduce-only in the same direction is refused.
	if w := e.post(t, "trade/place_order", `{"symbol":"BTCUSDT","side":"BUY","orderType":"MARKET","qty":"0.01","reduceOnly":true}`); w.Code != 30019 {
		t.Errorf("reduce-only same side: %d %s", w.Code, w.Msg)
	}
	w = e.post(t, "tpsl/place_order", `{"symbol":"BTCUSDT","positionId":"`+ps[0]["positionId"].(string)+`","slPrice":"1000","slStopType":"MARK_PRICE","slQty":"0.01"}`)
	var list []map[string]any
	if w.Code != 0 || json.Unmarshal(w.Data, &list) != nil || len(list) != 1 {
		t.Errorf("tpsl place must return a list: %d %s %s", w.Code, w.Msg, w.Data)
	}
}
