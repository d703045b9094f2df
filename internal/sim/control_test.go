package sim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func (e *testEnv) ctl(t *testing.T, method, path, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL()+path, strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestControlLoopbackOnly(t *testing.T) {
	e := newEnv(t, nil)
	req := httptest.NewRequest("GET", "/_sim/orders", nil)
	req.RemoteAddr = "192.0.2.7:5555"
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden {
		t.Fatalf("non-loopback: %d", rec.Code)
	}
}

func TestFaultForcedErrorAndRateLimit(t *testing.T) {
	e := newEnv(t, nil)
	if s, b := e.ctl(t, "POST", "/_sim/rest/error", `{"path":"/api/v1/futures/account","code":10001,"msg":"Network Error","count":2}`); s != 200 {
		t.Fatalf("set error: %d %s", s, b)
	}
	for i, want := range []int{10001, 10001, 0} {
		if w := e.get(t, "account", "marginCoin=USDT"); w.Code != want {
			t.Errorf("call %d: %d, want %d", i, w.Code, want)
		}
	}
	e.ctl(t, "POST", "/_sim/rest/ratelimit", `{"path":"","count":0}`)
	for range 3 {
		if w := e.get(t, "account", "marginCoin=USDT"); w.Code != 10006 {
			t.Errorf("forced rate limit: %d", w.Code)
		}
	}
	e.ctl(t, "POST", "/_sim/faults/clear", "")
	e.advance(t, time.Second)
	if w := e.get(t, "account", "marginCoin=USDT"); w.Code != 0 {
		t.Errorf("after clear: %d", w.Code)
	}
}

func TestFaultLatency(t *testing.T) {
	e := newEnv(t, nil)
	e.ctl(t, "POST", "/_sim/rest/latency", `{"path":"/api/v1/futures/market/tickers","latencyMs":150}`)
	start := time.Now()
	e.call(t, "GET", "/api/v1/futures/market/tickers", "", "", reqOpt{noSign: true})
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("latency %s, want >= 150ms", d)
	}
	e.ctl(t, "POST", "/_sim/rest/latency", `{"path":"/api/v1/futures/market/tickers","latencyMs":0}`)
}

func TestFaultBlackholePlacesOrder(t *testing.T) {
	e := newEnv(t, nil)
	e.advance(t, time.Second)
	e.ctl(t, "POST", "/_sim/rest/blackhole", `{"count":1}`)
	// Sign and send by hand: the response must never arrive.
	body := `{"symbol":"BTCUSDT","side":"BUY","orderType":"MARKET","qty":"0.01","clientId":"lost-1"}`
	func() {
		defer func() { _ = recover() }()
		status, b := e.doNoFatal(t, body)
		if status != -1 {
			t.Errorf("blackholed request answered: %d %s", status, b)
		}
	}()
	// The order exists: a retry with the same clientId is a duplicate.
	if w := e.post(t, "trade/place_order", body); w.Code != 30042 {
		t.Errorf("retry: %d %s, want 30042", w.Code, w.Msg)
	}
	_, b := e.ctl(t, "GET", "/_sim/orders?apiKey=key1", "")
	var orders map[string][]PlacedOrder
	if err := json.Unmarshal(b, &orders); err != nil || len(orders["key1"]) != 1 || orders["key1"][0].ClientID != "lost-1" {
		t.Fatalf("inspection %s", b)
	}
	for _, p := range []string{"/_sim/positions", "/_sim/balances"} {
		if s, b := e.ctl(t, "GET", p, ""); s != 200 || !strings.Contains(string(b), "key1") {
			t.Errorf("%s: %d %s", p, s, b)
		}
	}
}

func TestFaultWSDropAndStall(t *testing.T) {
	e := newEnv(t, nil)
	pub := e.dial(t, false)
	priv := e.dial(t, true)
	if _, b := e.ctl(t, "POST", "/_sim/ws/drop", `{"which":"private"}`); !strings.Contains(string(b), `"dropped":1`) {
		t.Fatalf("drop: %s", b)
	}
	priv.expectClosed()
	pub.send(`{"op":"subscribe","args":[{"symbol":"BTCUSDT","ch":"depth_book1"}]}`)
	pub.pingSync(1)
	e.ctl(t, "POST", "/_sim/ws/stall", `{"which":"public","durationMs":2000}`)
	e.advance(t, time.Second)
	pub.send(`{"op":"ping","ping":5}`)
	if _, err := pub.tryRead(200 * time.Millisecond); err == nil {
		t.Fatal("stalled socket sent a frame")
	}
	// tryRead's timeout closes coder/websocket conns; dial again for the
	// after-stall check.
	pub2 := e.dial(t, false)
	pub2.send(`{"op":"subscribe","args":[{"symbol":"BTCUSDT","ch":"depth_book1"}]}`)
	pub2.pingSync(1)
	e.advance(t, 2*time.Second)
	if f := pub2.read(); !strings.HasPrefix(f, `{"ch":"depth_book1"`) {
		t.Fatalf("after stall %s", f)
	}
	if s, b := e.ctl(t, "POST", "/_sim/time/advance", `{"durationMs":1000}`); s != 200 || !strings.Contains(string(b), `"manual":true`) {
		t.Fatalf("time advance: %d %s", s, b)
	}
}
