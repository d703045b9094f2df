package bitunix

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// wsServer is a loopback Bitunix-like WebSocket server. Each accepted
// connection gets `connect`, then the test drives it through conns.
type wsServer struct {
	t       *testing.T
	srv     *httptest.Server
	conns   chan *wsPeer
	noPong  bool
	noLogin bool
}

type wsPeer struct {
	conn *websocket.Conn
	in   chan map[string]any // every client frame, decoded
	done chan struct{}
}

func newWSServer(t *testing.T) *wsServer {
	s := &wsServer{t: t, conns: make(chan *wsPeer, 16)}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *wsServer) url() string { return "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/public/" }

func (s *wsServer) serve(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	p := &wsPeer{conn: c, in: make(chan map[string]any, 64), done: make(chan struct{})}
	defer close(p.done)
	ctx := r.Context()
	if err := c.Write(ctx, websocket.MessageText, []byte(`{"op":"connect","data":{"result":true}}`)); err != nil {
		return
	}
	s.conns <- p
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			return
		}
		var msg map[string]any
		if err := json.Unmarshal(b, &msg); err != nil {
			s.t.Errorf("client sent non-JSON %q", b)
			return
		}
		switch msg["op"] {
		case "ping":
			if !s.noPong {
				_ = c.Write(ctx, websocket.MessageText, []byte(`{"op":"ping","pong":1,"ping":2}`))
			}
		case "login":
			arg := msg["args"].([]any)[0].(map[string]any)
			ts := int64(arg["timestamp"].(float64))
			ok := VerifyWSLogin(arg["sign"].(string), arg["nonce"].(string), ts, arg["apiKey"].(string), testSecret) && ts < 1e11 && !s.noLogin
			reply := `{"op":"login","data":{"result":true}}`
			if !ok {
				reply = `{"op":"login","data":{"result":false,"msg":"bad sign"}}`
			}
			_ = c.Write(ctx, websocket.MessageText, []byte(reply))
		}
		p.in <- msg
	}
}

func (p *wsPeer) send(t *testing.T, s string) {
	if err := p.conn.Write(context.Background(), websocket.MessageText, []byte(s)); err != nil {
		t.Errorf("server write: %v", err)
	}
}

// expect waits for a client frame with the given op.
func (p *wsPeer) expect(t *testing.T, op string) map[string]any {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case m := <-p.in:
			if m["op"] == op {
				return m
			}
		case <-deadline:
			t.Fatalf("no %q frame from client", op)
		}
	}
}

func (s *wsServer) next(t *testing.T) *wsPeer {
	t.Helper()
	select {
	case p := <-s.conns:
		return p
	case <-time.After(5 * time.Second):
		t.Fatal("client did not connect")
	}
	return nil
}

func testWSConfig(url string) WSConfig {
	return WSConfig{PublicURL: url, APIKey: testKey, Secret: testSecret, PingInterval: time.Hour,
		Backoff: func(int) time.Duration { return time.Millisecond }, MessagesPerSecond: 1000}
}

type eventLog struct {
	mu    sync.Mutex
	kinds []Kind
	ch    chan Kind
}

func newEventLog() *eventLog { return &eventLog{ch: make(chan Kind, 256)} }

func (l *eventLog) add(k Kind) {
	l.mu.Lock()
	l.kinds = append(l.kinds, k)
	l.mu.Unlock()
	l.ch <- k
}

func (l *eventLog) wait(t *testing.T, k Kind) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case got := <-l.ch:
			if got == k {
				return
			}
		case <-deadline:
			t.Fatalf("no %v event", k)
		}
	}
}

func TestPublicStreamResubscribesAfterDrop(t *testing.T) {
	srv := newWSServer(t)
	log := newEventLog()
	var mu sync.Mutex
	var books []string
	st := NewPublicStream(testWSConfig(srv.url()), func(ev *PublicEvent) {
		if ev.Kind == KindDepth {
			mu.Lock()
			books = append(books, ev.Book.BestBid().Price.String())
			mu.Unlock()
		}
		log.add(ev.Kind)
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	subs := []Subscription{{"BTCUSDT", "depth_book15"}, {"BTCUSDT", "trade"}}
	if err := st.Subscribe(ctx, subs...); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- st.Run(ctx) }()

	p := srv.next(t)
	sub := p.expect(t, "subscribe")
	if args := sub["args"].([]any); len(args) != 2 {
		t.Errorf("first subscribe args = %v", args)
	}
	log.wait(t, KindConnected)
	p.send(t, frameDepth15)
	log.wait(t, KindDepth)
	// Subscribing while connected sends only the new channel.
	if err := st.Subscribe(ctx, Subscription{"ETHUSDT", "price"}, Subscription{"BTCUSDT", "trade"}); err != nil {
		t.Fatal(err)
	}
	if args := p.expect(t, "subscribe")["args"].([]any); len(args) != 1 {
		t.Errorf("incremental subscribe args = %v", args)
	}
	// Drop: the client must reconnect, resubscribe everything in one frame, and say so.
	p.conn.CloseNow()
	p2 := srv.next(t)
	if args := p2.expect(t, "subscribe")["args"].([]any); len(args) != 3 {
		t.Errorf("resubscribe args = %v", args)
	}
	log.wait(t, KindReconnected)
	p2.send(t, frameDepth15)
	log.wait(t, KindDepth)
	cancel()
	<-done
	log.mu.Lock()
	defer log.mu.Unlock()
	want := []Kind{KindConnected, KindDepth, KindDisconnected, KindReconnected, KindDepth}
	if len(log.kinds) != len(want) {
		t.Fatalf("events %v, want %v", log.kinds, want)
	}
	for i := range want {
		if log.kinds[i] != want[i] {
			t.Errorf("events %v, want %v", log.kinds, want)
			break
		}
	}
}

func TestPingCadenceAndStaleReconnect(t *testing.T) {
	srv := newWSServer(t)
	srv.noPong = true // a dead-silent server: only pings flow, nothing comes back
	cfg := testWSConfig(srv.url())
	cfg.PingInterval = 20 * time.Millisecond
	cfg.StaleAfter = 100 * time.Millisecond
	log := newEventLog()
	st := NewPublicStream(cfg, func(ev *PublicEvent) { log.add(ev.Kind) })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- st.Run(ctx) }()
	p := srv.next(t)
	var last int64
	for range 3 {
		m := p.expect(t, "ping")
		ts := int64(m["ping"].(float64))
		if ts < last || ts < 1e9 || ts > 1e11 {
			t.Errorf("ping value %d is not unix seconds", ts)
		}
		last = ts
	}
	// No reply for StaleAfter: the client must drop and reconnect by itself.
	srv.next(t)
	log.wait(t, KindReconnected)
	cancel()
	<-done
}

func TestPrivateStreamLoginAndRelogin(t *testing.T) {
	srv := newWSServer(t)
	cfg := testWSConfig(srv.url())
	log := newEventLog()
	var mu sync.Mutex
	var orders []string
	st := NewPrivateStream(cfg, func(ev *PrivateEvent) {
		if ev.Kind == KindOrder {
			mu.Lock()
			orders = append(orders, ev.Order.ClientID)
			mu.Unlock()
		}
		log.add(ev.Kind)
	})
	if st.core.url != strings.Replace(srv.url(), "/public/", "/private/", 1) {
		t.Errorf("private url = %s", st.core.url)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- st.Run(ctx) }()
	for i, want := range []Kind{KindConnected, KindReconnected} {
		p := srv.next(t)
		login := p.expect(t, "login")
		arg := login["args"].([]any)[0].(map[string]any)
		if arg["apiKey"] != testKey {
			t.Errorf("login %d apiKey = %v", i, arg["apiKey"])
		}
		log.wait(t, want)
		p.send(t, frameOrder)
		log.wait(t, KindOrder)
		p.conn.CloseNow()
	}
	cancel()
	<-done
	if len(orders) != 2 || orders[0] != "c1" {
		t.Errorf("orders = %v", orders)
	}
}

func TestPrivateLoginRefusedRetries(t *testing.T) {
	srv := newWSServer(t)
	srv.noLogin = true
	st := NewPrivateStream(testWSConfig(srv.url()), func(ev *PrivateEvent) {
		if ev.Kind == KindConnected {
			t.Error("connected despite refused login")
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- st.Run(ctx) }()
	srv.next(t)
	srv.next(t) // retried after the refusal
	cancel()
	<-done
}

func TestNoGoroutineLeakAcrossReconnects(t *testing.T) {
	srv := newWSServer(t)
	base := runtime.NumGoroutine()
	log := newEventLog()
	st := NewPublicStream(testWSConfig(srv.url()), func(ev *PublicEvent) { log.add(ev.Kind) })
	st.core.cfg.PingInterval = 10 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- st.Run(ctx) }()
	for range 5 {
		p := srv.next(t)
		p.conn.CloseNow()
		<-p.done
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Errorf("Run returned %v", err)
	}
	srv.srv.CloseClientConnections()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		runtime.Gosched()
		time.Sleep(5 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		buf := make([]byte, 1<<16)
		t.Errorf("goroutines: %d before, %d after\n%s", base, n, buf[:runtime.Stack(buf, true)])
	}
}

func TestSubscriptionCap(t *testing.T) {
	st := NewPublicStream(WSConfig{}, func(*PublicEvent) {})
	subs := make([]Subscription, MaxSubscriptions)
	for i := range subs {
		subs[i] = Subscription{Symbol: "S" + string(rune('A'+i%26)) + string(rune('A'+i/26)), Channel: "trade"}
	}
	if err := st.Subscribe(context.Background(), subs...); err != nil {
		t.Fatal(err)
	}
	if err := st.Subscribe(context.Background(), Subscription{"X", "trade"}); err == nil {
		t.Error("301st subscription accepted")
	}
	if err := st.Unsubscribe(context.Background(), subs[0]); err != nil {
		t.Fatal(err)
	}
	if err := st.Subscribe(context.Background(), Subscription{"X", "trade"}); err != nil {
		t.Errorf("after unsubscribe: %v", err)
	}
}

// A server that keeps answering pings after its feed stopped: the public
// stream must notice the missing data and reconnect, and resubscribe.
func TestPublicStreamStaleOnDataWhilePongsFlow(t *testing.T) {
	srv := newWSServer(t) // answers every ping
	cfg := testWSConfig(srv.url())
	cfg.PingInterval = 20 * time.Millisecond
	cfg.StaleAfter = time.Minute // pongs alone would keep it alive
	cfg.DataStaleAfter = 150 * time.Millisecond
	log := newEventLog()
	st := NewPublicStream(cfg, func(ev *PublicEvent) { log.add(ev.Kind) })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := st.Subscribe(ctx, Subscription{"BTCUSDT", "depth_book15"}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- st.Run(ctx) }()
	p := srv.next(t)
	p.expect(t, "subscribe")
	p.send(t, frameDepth15)
	log.wait(t, KindDepth)
	// Data stops; pings keep being answered.
	p.expect(t, "ping")
	p.expect(t, "ping")
	p2 := srv.next(t)
	p2.expect(t, "subscribe")
	log.wait(t, KindReconnected)
	cancel()
	<-done
}

// Streams that may be silent are judged on pongs alone: private streams,
// public streams without subscriptions, and public streams with the data
// rule turned off. Each stays on one connection through many pings,
// spanning several DataStaleAfter windows.
func TestSilentStreamsStayUpOnPongs(t *testing.T) {
	tests := []struct {
		name    string
		private bool
		subs    []Subscription
		dataOff bool
	}{
		{name: "private", private: true},
		{name: "public without subscriptions"},
		{name: "public, data rule off", subs: []Subscription{{"BTCUSDT", "trade"}}, dataOff: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newWSServer(t)
			cfg := testWSConfig(srv.url())
			cfg.PingInterval = 20 * time.Millisecond
			cfg.StaleAfter = 2 * time.Second // generous: only the data rule is under test
			cfg.DataStaleAfter = 60 * time.Millisecond
			if tc.dataOff {
				cfg.DataStaleAfter = -1
			}
			log := newEventLog()
			var run func(context.Context) error
			if tc.private {
				run = NewPrivateStream(cfg, func(ev *PrivateEvent) { log.add(ev.Kind) }).Run
			} else {
				st := NewPublicStream(cfg, func(ev *PublicEvent) { log.add(ev.Kind) })
				if err := st.Subscribe(context.Background(), tc.subs...); err != nil {
					t.Fatal(err)
				}
				run = st.Run
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- run(ctx) }()
			p := srv.next(t)
			log.wait(t, KindConnected)
			for range 15 { // ≥ 300 ms: five data windows
				p.expect(t, "ping")
			}
			select {
			case <-srv.conns:
				t.Error("stream reconnected although pongs kept flowing")
			default:
			}
			cancel()
			<-done
			log.mu.Lock()
			defer log.mu.Unlock()
			for _, k := range log.kinds {
				if k == KindDisconnected || k == KindReconnected {
					t.Errorf("events %v: the stream was dropped", log.kinds)
					break
				}
			}
		})
	}
}
