package sim

// A minimal Bitunix client written from docs/bitunix-futures-api.md (§2,
// §5), independent of the server's types, to drive protocol tests.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// refSign is §2.2: sha256(sha256(nonce+ts+key+sortedQuery+body)+secret).
func refSign(nonce, ts, key, secret string, q url.Values, body string) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var qs strings.Builder
	for _, k := range keys {
		qs.WriteString(k + q.Get(k))
	}
	return sha(sha(nonce+ts+key+qs.String()+body) + secret)
}

type wire struct {
	Code int             `json:"code"`
	Data json.RawMessage `json:"data"`
	Msg  string          `json:"msg"`
}

type testEnv struct {
	srv    *Server
	clock  *ManualClock
	key    string
	secret string
}

var testStart = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func newEnv(t *testing.T, mutate func(*Config)) *testEnv {
	t.Helper()
	clk := NewManualClock(testStart)
	cfg := Config{
		Accounts: []Account{{APIKey: "key1", Secret: "secret1"}, {APIKey: "key2", Secret: "secret2"}},
		Clock:    clk, MarketData: MarketDataConfig{Seed: 7},
	}
	if mutate != nil {
		mutate(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); srv.Close() })
	return &testEnv{srv: srv, clock: clk, key: "key1", secret: "secret1"}
}

type reqOpt struct {
	key, secret string
	tsShift     time.Duration
	noSign      bool
	headerCase  func(string) string
	badSign     bool
}

func (e *testEnv) do(t *testing.T, method, path, rawQuery, body string, o reqOpt) (int, []byte) {
	t.Helper()
	u := e.srv.URL() + path
	if rawQuery != "" {
		u += "?" + rawQuery
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	if !o.noSign {
		key, secret := e.key, e.secret
		if o.key != "" {
			key = o.key
		}
		if o.secret != "" {
			secret = o.secret
		}
		q, _ := url.ParseQuery(rawQuery)
		ts := strconv.FormatInt(e.clock.Now().Add(o.tsShift).UnixMilli(), 10)
		nonce := "9b1f3c5e7a9d2b4f6e8c0a1d3f5b7e9c"
		sign := refSign(nonce, ts, key, secret, q, body)
		if o.badSign {
			sign = strings.Repeat("0", 64)
		}
		hc := o.headerCase
		if hc == nil {
			hc = func(s string) string { return s }
		}
		req.Header.Set(hc("api-key"), key)
		req.Header.Set(hc("nonce"), nonce)
		req.Header.Set(hc("timestamp"), ts)
		req.Header.Set(hc("sign"), sign)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// call does a request and decodes the envelope, requiring HTTP 200.
func (e *testEnv) call(t *testing.T, method, path, rawQuery, body string, o reqOpt) wire {
	t.Helper()
	status, b := e.do(t, method, path, rawQuery, body, o)
	if status != 200 {
		t.Fatalf("%s %s: HTTP %d, want 200 (%s)", method, path, status, b)
	}
	var w wire
	if err := json.Unmarshal(b, &w); err != nil {
		t.Fatalf("%s %s: not an envelope: %s", method, path, b)
	}
	return w
}

func (e *testEnv) get(t *testing.T, path, q string) wire {
	t.Helper()
	return e.call(t, "GET", "/api/v1/futures/"+path, q, "", reqOpt{})
}

func (e *testEnv) post(t *testing.T, path, body string) wire {
	t.Helper()
	return e.call(t, "POST", "/api/v1/futures/"+path, "", body, reqOpt{})
}

func (e *testEnv) advance(t *testing.T, d time.Duration) {
	t.Helper()
	if err := e.srv.Advance(d); err != nil {
		t.Fatal(err)
	}
}

// wsConn is a raw WebSocket client.
type wsConn struct {
	t *testing.T
	c *websocket.Conn
}

func (e *testEnv) dial(t *testing.T, private bool) *wsConn {
	t.Helper()
	u := e.srv.PublicWSURL()
	if private {
		u = e.srv.PrivateWSURL()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	w := &wsConn{t: t, c: c}
	if got := w.read(); got != `{"op":"connect","data":{"result":true}}` {
		t.Fatalf("first frame %s, want connect", got)
	}
	return w
}

func (w *wsConn) send(s string) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.c.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
		w.t.Fatal(err)
	}
}

func (w *wsConn) read() string {
	w.t.Helper()
	s, err := w.tryRead(5 * time.Second)
	if err != nil {
		w.t.Fatalf("read: %v", err)
	}
	return s
}

func (w *wsConn) tryRead(d time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	_, b, err := w.c.Read(ctx)
	return string(b), err
}

// readUntil reads frames until one satisfies ok, failing after 50 frames.
func (w *wsConn) readUntil(ok func(string) bool) string {
	w.t.Helper()
	for range 50 {
		if f := w.read(); ok(f) {
			return f
		}
	}
	w.t.Fatal("expected frame never arrived")
	return ""
}

// pingSync sends a ping and returns the frames received before the pong:
// a deterministic "nothing else was sent" check.
func (w *wsConn) pingSync(v int) []string {
	w.t.Helper()
	w.send(`{"op":"ping","ping":` + strconv.Itoa(v) + `}`)
	var before []string
	for range 50 {
		f := w.read()
		if strings.HasPrefix(f, `{"op":"ping","pong":`+strconv.Itoa(v)+`,`) {
			return before
		}
		before = append(before, f)
	}
	w.t.Fatal("no pong")
	return nil
}

// expectClosed asserts the server dropped the socket.
func (w *wsConn) expectClosed() {
	w.t.Helper()
	for range 200 {
		if _, err := w.tryRead(5 * time.Second); err != nil {
			return
		}
	}
	w.t.Fatal("socket still open")
}

func wsLogin(key, secret string, ts int64, nonce string) string {
	sign := sha(sha(nonce+strconv.FormatInt(ts, 10)+key) + secret)
	return `{"op":"login","args":[{"apiKey":"` + key + `","timestamp":` + strconv.FormatInt(ts, 10) + `,"nonce":"` + nonce + `","sign":"` + sign + `"}]}`
}

// doNoFatal sends a signed place_order and returns -1 if the connection
// was closed without a response.
func (e *testEnv) doNoFatal(t *testing.T, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", e.srv.URL()+"/api/v1/futures/trade/place_order", strings.NewReader(body))
	ts := strconv.FormatInt(e.clock.Now().UnixMilli(), 10)
	req.Header.Set("api-key", e.key)
	req.Header.Set("nonce", "n")
	req.Header.Set("timestamp", ts)
	req.Header.Set("sign", refSign("n", ts, e.key, e.secret, nil, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
