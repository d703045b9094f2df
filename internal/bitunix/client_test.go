package bitunix

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/trading"
)

const (
	testKey    = "test-api-key-123"
	testSecret = "test-secret-456"
)

type fakeSleep struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (f *fakeSleep) sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	f.waits = append(f.waits, d)
	f.mu.Unlock()
	return ctx.Err()
}

// fakeExchange checks every private request's signature against the raw
// bytes received and routes by path.
type fakeExchange struct {
	t      *testing.T
	mu     sync.Mutex
	routes map[string]func(w http.ResponseWriter, r *http.Request, body []byte)
	calls  map[string]int
}

func newFake(t *testing.T) (*fakeExchange, *Client, *fakeSleep) {
	f := &fakeExchange{t: t, routes: map[string]func(http.ResponseWriter, *http.Request, []byte){}, calls: map[string]int{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	sl := &fakeSleep{}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c, err := New(Config{BaseURL: srv.URL, APIKey: testKey, Secret: testSecret, Sleep: sl.sleep,
		Clock: func() time.Time { return now }, Backoff: func(int) time.Duration { return time.Millisecond }})
	if err != nil {
		t.Fatal(err)
	}
	return f, c, sl
}

func (f *fakeExchange) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	for k, vs := range r.URL.Query() {
		for _, v := range vs {
			if v == "" {
				f.t.Errorf("%s: empty query parameter %q sent", r.URL.Path, k)
			}
		}
	}
	if key := r.Header.Get("api-key"); key != "" {
		if !VerifyREST(r.Header.Get("sign"), r.Header.Get("nonce"), r.Header.Get("timestamp"), key, testSecret, r.URL.Query(), body) {
			f.t.Errorf("%s: bad signature", r.URL.Path)
			_, _ = io.WriteString(w, `{"code":10007,"data":null,"msg":"Signature Error"}`)
			return
		}
		if ts := r.Header.Get("timestamp"); ts != "1767225600000" {
			f.t.Errorf("timestamp header = %q, want ms", ts)
		}
	}
	name := strings.TrimPrefix(r.URL.Path, "/api/v1/futures/")
	f.mu.Lock()
	f.calls[name]++
	h := f.routes[name]
	f.mu.Unlock()
	if h == nil {
		_, _ = io.WriteString(w, `{"code":404,"data":null,"msg":"Not Found"}`)
		return
	}
	h(w, r, body)
}

func (f *fakeExchange) on(name string, h func(w http.ResponseWriter, r *http.Request, body []byte)) {
	f.mu.Lock()
	f.routes[name] = h
	f.mu.Unlock()
}

func (f *fakeExchange) reply(name, s string) {
	f.on(name, func(w http.ResponseWriter, _ *http.Request, _ []byte) { _, _ = io.WriteString(w, s) })
}

func (f *fakeExchange) count(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[name]
}

func TestRESTMarketDecoding(t *testing.T) {
	f, c, _ := newFake(t)
	ctx := context.Background()
	f.reply("market/trading_pairs", `{"code":0,"msg":"Success","data":[{"symbol":"BTCUSDT","base":"BTC","quote":"USDT","minTradeVolume":"0.0001","maxLimitOrderVolume":"500","basePrecision":4,"quotePrecision":"1","minLeverage":1,"maxLeverage":125,"defaultLeverage":20,"defaultMarginMode":1,"priceProtectScope":"0.02","symbolStatus":"OPEN","isApiSupported":true}]}`)
	specs, err := c.TradingPairs(ctx)
	if err != nil || len(specs) != 1 {
		t.Fatalf("pairs: %v %v", specs, err)
	}
	s := specs[0]
	if s.Symbol != "BTCUSDT" || s.BasePrecision != 4 || s.QuotePrecision != 1 || s.MinQty != m("0.0001") || s.MaxLimitQty != m("500") ||
		s.MaxLeverage != 125 || s.PriceProtectScope != m("0.02") || s.Status != "OPEN" || s.Tick() != m("0.1") {
		t.Errorf("spec = %+v", s)
	}
	f.reply("market/funding_rate", `{"code":0,"msg":"Success","data":[{"symbol":"BTCUSDT","markPrice":"60000","lastPrice":"60001","indexPrice":"59999","fundingRate":"0.01","fundingInterval":8,"nextFundingTime":"1767254400000","maxFundingRate":"0.3","minFundingRate":"-0.3"}]}`)
	fr, err := c.FundingRate(ctx, "BTCUSDT")
	if err != nil || fr.Rate != m("0.0001") || fr.MaxRate != m("0.003") || fr.IntervalHours != 8 || !fr.NextFundingTime.Equal(time.UnixMilli(1767254400000)) {
		t.Errorf("funding = %+v %v", fr, err)
	}
	f.reply("market/depth", `{"code":0,"msg":"Success","data":{"asks":[["60001","1"]],"bids":[[60000,2],["",""]]}}`)
	b, err := c.Depth(ctx, "BTCUSDT", "5")
	if err != nil || len(b.Bids) != 1 || b.Bids[0].Qty != m("2") || b.Asks[0].Price != m("60001") {
		t.Errorf("depth = %+v %v", b, err)
	}
	f.reply("market/kline", `{"code":0,"msg":"Success","data":[{"open":"2","high":"3","low":"1","close":"2.5","time":"1767225660000","baseVol":"7"},{"open":"1","high":"2","low":"1","close":"2","time":1767225600000,"baseVol":"5"}]}`)
	ks, err := c.Klines(ctx, KlineRequest{Symbol: "BTCUSDT", Interval: "1m", Limit: 2})
	if err != nil || len(ks) != 2 || ks[0].Open != m("1") || ks[1].Close != m("2.5") || ks[0].Interval != time.Minute {
		t.Errorf("klines = %+v %v", ks, err)
	}
	f.reply("market/tickers", `{"code":0,"data":[{"symbol":"BTCUSDT","markPrice":"1","lastPrice":"2","open":"3","high":"4","low":"0.5","quoteVol":"9","baseVol":"8"}]}`)
	ts, err := c.Tickers(ctx, "BTCUSDT", "ETHUSDT")
	if err != nil || len(ts) != 1 || ts[0].Last != m("2") || ts[0].Mark != m("1") {
		t.Errorf("tickers = %+v %v", ts, err)
	}
}

func TestRESTPrivateDecoding(t *testing.T) {
	f, c, _ := newFake(t)
	ctx := context.Background()
	// account: list form (DOC) and object form (live) both decode.
	for _, data := range []string{`[{"marginCoin":"USDT","available":"100.5","frozen":"1","margin":"2","crossUnrealizedPNL":"-3","positionMode":"one_way"}]`,
		`{"marginCoin":"USDT","available":100.5,"frozen":"1","margin":"2","crossUnrealizedPNL":"-3","positionMode":"ONE_WAY"}`} {
		f.reply("account", `{"code":0,"msg":"Success","data":`+data+`}`)
		a, err := c.Account(ctx, "USDT")
		if err != nil || a.Available != m("100.5") || a.CrossUnrealizedPNL != m("-3") || a.PositionMode != "ONE_WAY" {
			t.Errorf("account %s = %+v %v", data, a, err)
		}
	}
	f.reply("position/get_pending_positions", `{"code":0,"data":[{"positionId":"p1","symbol":"BTCUSDT","qty":"0.01","side":"BUY","leverage":"10","avgOpenPrice":"60000","unrealizedPNL":"1.5","ctime":"1767225600000","mtime":1767225600000}]}`)
	ps, err := c.PendingPositions(ctx, "")
	if err != nil || len(ps) != 1 || ps[0].Side != trading.Buy || ps[0].Leverage != 10 || ps[0].AvgOpenPrice != m("60000") || ps[0].Created.IsZero() {
		t.Errorf("positions = %+v %v", ps, err)
	}
	f.reply("trade/get_history_orders", `{"code":0,"data":{"orderList":[{"orderId":"1","clientId":"c","symbol":"BTCUSDT","qty":"1","tradeQty":"1","price":"market","side":"SELL","orderType":"MARKET","status":"FILLED","reduceOnly":true,"ctime":"1767225600000"}],"total":"1"}}`)
	os, total, err := c.HistoryOrders(ctx, Query{Symbol: "BTCUSDT", Limit: 10})
	if err != nil || total != 1 || len(os) != 1 || !os[0].PriceIsMarket || os[0].Status != trading.StatusFilled || os[0].Side != trading.Sell || !os[0].ReduceOnly {
		t.Errorf("history = %+v %d %v", os, total, err)
	}
	f.reply("trade/cancel_all_orders", `{"code":0,"data":{"successList":[{"orderId":"1","clientId":"a"}],"failureList":[{"orderId":"2","errorMsg":"Order status error","errorCode":10013}]}}`)
	br, err := c.CancelAllOrders(ctx, "")
	if err != nil || len(br.Success) != 1 || len(br.Failure) != 1 || br.Failure[0].Code != 10013 {
		t.Errorf("cancel all = %+v %v", br, err)
	}
	f.reply("tpsl/place_order", `{"code":0,"data":[{"orderId":"t1","clientId":null}]}`)
	id, err := c.PlaceTPSL(ctx, TPSLRequest{Symbol: "BTCUSDT", PositionID: "p1", TPPrice: m("70000"), TPStopType: "MARK_PRICE"})
	if err != nil || id != "t1" {
		t.Errorf("tpsl = %q %v", id, err)
	}
}

func TestRESTEnvelopeErrors(t *testing.T) {
	f, c, _ := newFake(t)
	ctx := context.Background()
	f.reply("account/position_mode", `{"code":10003,"data":null,"message":"api-key empty"}`)
	_, err := c.PositionMode(ctx)
	var apiErr *APIError
	if !errors.Is(err, ErrMissingKey) || !errors.As(err, &apiErr) || apiErr.Msg != "api-key empty" || apiErr.Endpoint != "account/position_mode" {
		t.Errorf("err = %v", err)
	}
	if _, err := c.FundingRates(ctx); !errors.Is(err, ErrNotFound) { // unknown path → code 404
		t.Errorf("unknown path err = %v", err)
	}
	f.reply("market/tickers", `<html>cloudflare</html>`)
	_, err = c.Tickers(ctx)
	if !IsAmbiguous(err) {
		t.Errorf("undecodable reply not ambiguous: %v", err)
	}
	if strings.Contains(err.Error(), testKey) || strings.Contains(err.Error(), testSecret) {
		t.Errorf("error leaks credentials: %v", err)
	}
	noKey, _ := New(Config{BaseURL: "http://127.0.0.1:1"})
	if _, err := noKey.Account(ctx, "USDT"); !errors.Is(err, ErrMissingKey) {
		t.Errorf("no key: %v", err)
	}
	if s := c.String(); strings.Contains(s, testKey) {
		t.Error("String leaks the key")
	}
}

func TestGETRetriesAmbiguous(t *testing.T) {
	f, c, sl := newFake(t)
	n := 0
	f.on("market/tickers", func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		n++
		if n < 3 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		_, _ = io.WriteString(w, `{"code":0,"data":[]}`)
	})
	if _, err := c.Tickers(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n != 3 || len(sl.waits) != 2 {
		t.Errorf("attempts %d, sleeps %v", n, sl.waits)
	}
	// POSTs other than on rate limits are not retried.
	f.on("trade/cancel_all_orders", func(w http.ResponseWriter, _ *http.Request, _ []byte) { w.WriteHeader(http.StatusBadGateway) })
	if _, err := c.CancelAllOrders(context.Background(), "BTCUSDT"); !IsAmbiguous(err) || f.count("trade/cancel_all_orders") != 1 {
		t.Errorf("POST retried or not ambiguous: %v, %d calls", err, f.count("trade/cancel_all_orders"))
	}
}

func TestRateLimitBackoff(t *testing.T) {
	f, c, sl := newFake(t)
	n := 0
	f.on("account/position_mode", func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		n++
		if n <= 2 {
			_, _ = io.WriteString(w, `{"code":10006,"data":null,"msg":"request too frequently"}`)
			return
		}
		_, _ = io.WriteString(w, `{"code":0,"data":{"positionMode":"HEDGE"}}`)
	})
	mode, err := c.PositionMode(context.Background())
	if err != nil || mode != "HEDGE" {
		t.Fatalf("mode %q err %v", mode, err)
	}
	// Two penalties: the clock is frozen, so each wait is the penalty itself,
	// growing (jittered within [d/2, d]).
	if len(sl.waits) != 2 || sl.waits[0] < 250*time.Millisecond || sl.waits[0] > 500*time.Millisecond ||
		sl.waits[1] < 500*time.Millisecond || sl.waits[1] > time.Second {
		t.Errorf("waits = %v", sl.waits)
	}
}

func TestLimiterPacesBurst(t *testing.T) {
	f, c, sl := newFake(t)
	f.reply("trade/close_all_position", `{"code":0,"data":""}`)
	for range 3 {
		if err := c.CloseAllPositions(context.Background(), "BTCUSDT"); err != nil {
			t.Fatal(err)
		}
	}
	// 1/s with a frozen clock: the 2nd and 3rd calls each wait for tokens.
	if len(sl.waits) != 2 || sl.waits[0] != time.Second || sl.waits[1] != 2*time.Second {
		t.Errorf("waits = %v", sl.waits)
	}
}

const orderDetail = `{"code":0,"data":{"orderId":"O1","clientId":"cid-1","symbol":"BTCUSDT","qty":"0.01","price":"60000","side":"BUY","orderType":"LIMIT","status":"NEW","ctime":"1767225600000"}}`

func TestPlaceOrderAmbiguousResolvedByClientID(t *testing.T) {
	f, c, _ := newFake(t)
	var mu sync.Mutex
	placed := map[string]bool{}
	f.on("trade/place_order", func(w http.ResponseWriter, _ *http.Request, body []byte) {
		if !strings.Contains(string(body), `"clientId":"cid-1"`) || strings.Contains(string(body), " ") {
			t.Errorf("body = %s", body)
		}
		mu.Lock()
		placed["cid-1"] = true
		mu.Unlock()
		// Accepted, but the reply is lost: drop the connection.
		hj, _ := w.(http.Hijacker)
		conn, _, _ := hj.Hijack()
		_ = conn.Close()
	})
	lookups := 0
	f.on("trade/get_order_detail", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		lookups++
		if r.URL.Query().Get("clientId") != "cid-1" || r.URL.Query().Has("orderId") {
			t.Errorf("lookup query %v", r.URL.Query())
		}
		if lookups < 2 { // not visible yet on the first lookup
			_, _ = io.WriteString(w, `{"code":20007,"data":null,"msg":"Order not found"}`)
			return
		}
		_, _ = io.WriteString(w, orderDetail)
	})
	ack, err := c.PlaceOrder(context.Background(), OrderRequest{Symbol: "BTCUSDT", Side: trading.Buy, Type: trading.Limit,
		Qty: m("0.01"), Price: m("60000"), ClientID: "cid-1"})
	if err != nil || !ack.Recovered || ack.OrderID != "O1" || ack.Order == nil || ack.Order.Status != trading.StatusNew {
		t.Fatalf("ack %+v err %v", ack, err)
	}
	if n := f.count("trade/place_order"); n != 1 {
		t.Errorf("place_order sent %d times, want exactly 1", n)
	}
}

func TestPlaceOrderNeverFound(t *testing.T) {
	f, c, _ := newFake(t)
	f.on("trade/place_order", func(w http.ResponseWriter, _ *http.Request, _ []byte) { w.WriteHeader(http.StatusServiceUnavailable) })
	f.reply("trade/get_order_detail", `{"code":20007,"data":null,"msg":"Order not found"}`)
	_, err := c.PlaceOrder(context.Background(), OrderRequest{Symbol: "BTCUSDT", Side: trading.Sell, Type: trading.Market, Qty: m("1"), ClientID: "cid-2"})
	if !errors.Is(err, ErrAmbiguous) {
		t.Fatalf("err = %v", err)
	}
	if f.count("trade/place_order") != 1 || f.count("trade/get_order_detail") != 4 {
		t.Errorf("calls: place %d, lookups %d", f.count("trade/place_order"), f.count("trade/get_order_detail"))
	}
}

func TestPlaceOrderDuplicateAndValidation(t *testing.T) {
	f, c, _ := newFake(t)
	f.reply("trade/place_order", `{"code":30042,"data":null,"msg":"Client ID duplicate"}`)
	f.reply("trade/get_order_detail", orderDetail)
	ack, err := c.PlaceOrder(context.Background(), OrderRequest{Symbol: "BTCUSDT", Side: trading.Buy, Type: trading.Limit, Qty: m("0.01"), Price: m("60000"), ClientID: "cid-1"})
	if err != nil || !ack.Recovered || ack.OrderID != "O1" || f.count("trade/place_order") != 1 {
		t.Errorf("duplicate: %+v %v", ack, err)
	}
	if _, err := c.PlaceOrder(context.Background(), OrderRequest{Symbol: "BTCUSDT", Side: trading.Buy, Type: trading.Market, Qty: m("1")}); !errors.Is(err, ErrMissingClientID) {
		t.Errorf("missing client id: %v", err)
	}
	f.reply("trade/place_order", `{"code":30017,"data":null,"msg":"qty below min"}`)
	if _, err := c.PlaceOrder(context.Background(), OrderRequest{Symbol: "BTCUSDT", Side: trading.Buy, Type: trading.Market, Qty: m("0.00001"), ClientID: "x"}); !errors.Is(err, ErrQtyTooSmall) || IsAmbiguous(err) {
		t.Errorf("qty too small: %v", err)
	}
}

// captureRT keeps the request it was given and answers with reply.
type captureRT struct {
	req   *http.Request
	body  []byte
	reply string
}

func (c *captureRT) RoundTrip(r *http.Request) (*http.Response, error) {
	c.req = r
	if r.Body != nil {
		c.body, _ = io.ReadAll(r.Body)
		_ = r.Body.Close()
	}
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(c.reply)), Request: r}, nil
}

// The client drives Config.HTTPClient's transport itself; these are the
// parts of http.Client's job it must still do, and the one it must not.
func TestRequestsOnTheTransport(t *testing.T) {
	t.Run("request shape and replayable body", func(t *testing.T) {
		rt := &captureRT{reply: `{"code":0,"data":{"orderId":"1","clientId":"c"},"msg":"ok"}`}
		c, err := New(Config{BaseURL: "http://127.0.0.1:1/prefix/", APIKey: testKey, Secret: testSecret,
			HTTPClient: &http.Client{Transport: rt}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.PlaceOrder(context.Background(), OrderRequest{Symbol: "BTCUSDT", Side: trading.Buy, Type: trading.Limit,
			Qty: m("0.01"), Price: m("60000"), ClientID: "c"}); err != nil {
			t.Fatal(err)
		}
		r := rt.req
		if r.Method != http.MethodPost || r.URL.String() != "http://127.0.0.1:1/prefix"+pathPlaceOrder || r.Host != "127.0.0.1:1" {
			t.Errorf("request %s %s host %q", r.Method, r.URL, r.Host)
		}
		if r.ContentLength != int64(len(rt.body)) || r.Header.Get("Content-Type") != "application/json" || r.Header.Get("Sign") == "" {
			t.Errorf("content length %d for %d bytes, headers %v", r.ContentLength, len(rt.body), r.Header)
		}
		if !VerifyREST(r.Header.Get("sign"), r.Header.Get("nonce"), r.Header.Get("timestamp"), testKey, testSecret, nil, rt.body) {
			t.Error("signature does not cover the bytes sent")
		}
		again, err := r.GetBody()
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := io.ReadAll(again); string(b) != string(rt.body) {
			t.Errorf("GetBody gave %q, sent %q", b, rt.body)
		}
	})
	t.Run("timeout from the http client", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select { // accept, never answer
			case <-r.Context().Done():
			case <-release:
			}
		}))
		defer srv.Close()
		defer close(release)
		c, err := New(Config{BaseURL: srv.URL, APIKey: testKey, Secret: testSecret,
			HTTPClient: &http.Client{Timeout: 50 * time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		err = c.once(context.Background(), http.MethodPost, pathPlaceOrder, nil, []byte(`{}`), true, nil)
		if !IsAmbiguous(err) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want an ambiguous deadline error", err)
		}
	})
	t.Run("redirects are not followed", func(t *testing.T) {
		var elsewhere int
		mux := http.NewServeMux()
		mux.HandleFunc(pathPlaceOrder, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
		})
		mux.HandleFunc("/elsewhere", func(http.ResponseWriter, *http.Request) { elsewhere++ })
		srv := httptest.NewServer(mux)
		defer srv.Close()
		c, err := New(Config{BaseURL: srv.URL, APIKey: testKey, Secret: testSecret})
		if err != nil {
			t.Fatal(err)
		}
		err = c.once(context.Background(), http.MethodPost, pathPlaceOrder, nil, []byte(`{}`), true, nil)
		var te *TransportError
		if !errors.As(err, &te) || te.Status != http.StatusTemporaryRedirect || elsewhere != 0 {
			t.Fatalf("err = %v, redirect target called %d times", err, elsewhere)
		}
	})
	t.Run("errors carry no query", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		base := srv.URL
		srv.Close() // nothing listens there now: the dial fails
		c, err := New(Config{BaseURL: base, APIKey: testKey, Secret: testSecret})
		if err != nil {
			t.Fatal(err)
		}
		err = c.once(context.Background(), http.MethodGet, "/api/v1/futures/trade/get_order_detail",
			map[string][]string{"clientId": {"query-value-7"}}, nil, true, nil)
		if err == nil || strings.Contains(err.Error(), "query-value-7") || IsAmbiguous(err) {
			t.Fatalf("err = %v: want a definite dial error without the query", err)
		}
	})
}

// Request parts are pooled and reused once a reply is read: concurrent
// orders must each arrive with their own body and a signature over it.
func TestConcurrentOrdersKeepTheirOwnBytes(t *testing.T) {
	f, c, _ := newFake(t)
	var mu sync.Mutex
	seen := map[string]int{}
	f.on("trade/place_order", func(w http.ResponseWriter, _ *http.Request, body []byte) {
		_, rest, _ := strings.Cut(string(body), `"clientId":"`)
		id, _, _ := strings.Cut(rest, `"`)
		mu.Lock()
		seen[id]++
		mu.Unlock()
		_, _ = io.WriteString(w, `{"code":0,"data":{"orderId":"o-`+id+`","clientId":"`+id+`"},"msg":"ok"}`)
	})
	const workers, each = 8, 40
	var wg sync.WaitGroup
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				id := "c" + strconv.Itoa(g) + "-" + strconv.Itoa(i)
				ack, err := c.PlaceOrder(context.Background(), OrderRequest{Symbol: "BTCUSDT", Side: trading.Buy, Type: trading.Limit,
					Qty: m("0.01"), Price: m("60000"), ClientID: id})
				if err != nil || ack.OrderID != "o-"+id {
					t.Errorf("order %s: ack %+v err %v", id, ack, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if len(seen) != workers*each {
		t.Fatalf("exchange saw %d distinct orders, want %d", len(seen), workers*each)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("order %s arrived %d times", id, n)
		}
	}
}

// lateRT is a transport that answers at once and reads each request body
// only later, once the next request has been built, as RoundTripper's
// contract allows (x/net/http2 writes bodies after the reply may have
// arrived): it checks that the bytes it reads late are the ones signed.
type lateRT struct {
	t           *testing.T
	pending     io.ReadCloser
	sign, nonce string
	ts          string
	reads       int
}

func (l *lateRT) RoundTrip(r *http.Request) (*http.Response, error) {
	l.drain()
	l.pending = r.Body
	l.sign, l.nonce, l.ts = r.Header.Get("Sign"), r.Header.Get("Nonce"), r.Header.Get("Timestamp")
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Request: r,
		Body: io.NopCloser(strings.NewReader(`{"code":0,"data":{"orderId":"o","clientId":"c"},"msg":"ok"}`))}, nil
}

// drain reads and closes the previous request's body.
func (l *lateRT) drain() {
	if l.pending == nil {
		return
	}
	body, _ := io.ReadAll(l.pending)
	_ = l.pending.Close()
	l.pending = nil
	l.reads++
	if !VerifyREST(l.sign, l.nonce, l.ts, testKey, testSecret, nil, body) {
		l.t.Errorf("body read after the reply is not the one signed: %s", body)
	}
}

// Request parts are pooled: they must not be reused while the transport
// still holds the request body, even after the reply was read and closed.
func TestLateBodyReadsSeeTheSignedBytes(t *testing.T) {
	rt := &lateRT{t: t}
	c, err := New(Config{BaseURL: "http://127.0.0.1:1", APIKey: testKey, Secret: testSecret,
		HTTPClient: &http.Client{Transport: rt}, Sleep: (&fakeSleep{}).sleep})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		id := "late-" + strconv.Itoa(i)
		if _, err := c.PlaceOrder(context.Background(), OrderRequest{Symbol: "BTCUSDT", Side: trading.Sell, Type: trading.Market,
			Qty: m("0.01"), ClientID: id}); err != nil {
			t.Fatalf("order %s: %v", id, err)
		}
	}
	rt.drain()
	if rt.reads != 50 {
		t.Fatalf("transport read %d bodies, want 50", rt.reads)
	}
}

// A transport may close a request body twice; the second Close must not
// release the outbound again (it would go back to the pool while the
// response still holds it, and a later request would overwrite it).
func TestRequestBodyClosesOnce(t *testing.T) {
	c, err := New(Config{BaseURL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	o := c.outbound() // the response's hold
	var b requestBody
	b.o.Store(o)
	o.refs.Add(1) // the transport's hold
	for range 2 {
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if got := o.refs.Load(); got != 1 {
		t.Fatalf("holds after two Closes: %d, want 1 (the response's)", got)
	}
}
