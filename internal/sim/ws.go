package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/bitrader/bitrader/internal/bitunix"
)

// subKey identifies one public stream.
type subKey struct {
	ch     string
	symbol string
}

// wsSession is one WebSocket connection, public or private.
type wsSession struct {
	srv     *Server
	private bool
	conn    *websocket.Conn
	send    chan []byte
	done    chan struct{}
	once    sync.Once

	// Guarded by srv.wsMu.
	subs       map[subKey]struct{}
	account    string // API key after a successful private login
	lastMsg    time.Time
	recent     []time.Time // times of the last MaxClientMsgsPerSec messages
	stallUntil time.Time
}

const sendQueue = 1024

func (s *Server) handleWS(private bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{
			CompressionMode:    websocket.CompressionDisabled, // permessage-deflate is not negotiated (§5.1)
			InsecureSkipVerify: true,
		})
		if err != nil {
			return
		}
		conn.SetReadLimit(1 << 20)
		sess := &wsSession{
			srv: s, private: private, conn: conn,
			send: make(chan []byte, sendQueue), done: make(chan struct{}),
			subs: map[subKey]struct{}{}, lastMsg: s.clock.Now(),
		}
		s.wsMu.Lock()
		s.sessions[sess] = struct{}{}
		s.wsMu.Unlock()
		ctx, cancel := context.WithCancel(s.baseCtx)
		defer cancel()
		go sess.writeLoop(ctx)
		sess.enqueue([]byte(`{"op":"connect","data":{"result":true}}`))
		sess.readLoop(ctx)
		sess.kill()
	}
}

// kill drops the connection without a close frame (the real server's 1006).
func (c *wsSession) kill() {
	c.once.Do(func() {
		close(c.done)
		_ = c.conn.CloseNow()
		s := c.srv
		s.wsMu.Lock()
		delete(s.sessions, c)
		for k := range c.subs {
			s.unindex(k, c)
		}
		s.wsMu.Unlock()
	})
}

func (c *wsSession) writeLoop(ctx context.Context) {
	for {
		select {
		case <-c.done:
			return
		case b := <-c.send:
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := c.conn.Write(wctx, websocket.MessageText, b)
			cancel()
			if err != nil {
				c.kill()
				return
			}
		}
	}
}

// enqueue queues a frame; a stalled session swallows it and a consumer too
// slow to keep a 1024-frame queue is dropped, as a real server would.
func (c *wsSession) enqueue(b []byte) {
	c.srv.wsMu.Lock()
	stalled := c.srv.clock.Now().Before(c.stallUntil)
	c.srv.wsMu.Unlock()
	c.enqueueLocked(b, stalled)
}

// enqueueLocked is enqueue for callers holding wsMu that already know
// whether the session is stalled.
func (c *wsSession) enqueueLocked(b []byte, stalled bool) {
	if stalled {
		return
	}
	select {
	case c.send <- b:
	case <-c.done:
	default:
		go c.kill() // kill takes wsMu, which the caller may hold
	}
}

type wsRequest struct {
	Op   string            `json:"op"`
	Ping json.RawMessage   `json:"ping"`
	Args []json.RawMessage `json:"args"`
}

type subArg struct {
	Symbol string `json:"symbol"`
	Ch     string `json:"ch"`
}

func (c *wsSession) readLoop(ctx context.Context) {
	for {
		typ, msg, err := c.conn.Read(ctx)
		if err != nil {
			return
		}
		if !c.noteMessage() {
			return // more than the allowed messages per second: disconnect
		}
		if typ != websocket.MessageText {
			continue
		}
		var req wsRequest
		if json.Unmarshal(msg, &req) != nil {
			continue // non-JSON input is ignored
		}
		switch req.Op {
		case "ping":
			c.pong(req.Ping)
		case "subscribe":
			if !c.private {
				c.subscribe(req.Args)
			}
			// Private subscribe frames are tolerated and ignored: login
			// already streams everything (§5.3).
		case "unsubscribe":
			c.unsubscribe(req.Args)
		case "login":
			if c.private {
				c.login(req.Args)
			}
		}
	}
}

// noteMessage records a client message for the idle and rate rules and
// reports whether the connection may stay open.
func (c *wsSession) noteMessage() bool {
	s := c.srv
	now := s.clock.Now()
	s.wsMu.Lock()
	defer s.wsMu.Unlock()
	c.lastMsg = now
	max := s.cfg.MaxClientMsgsPerSec
	if len(c.recent) == max {
		if now.Sub(c.recent[0]) < time.Second {
			return false
		}
		copy(c.recent, c.recent[1:])
		c.recent = c.recent[:max-1]
	}
	c.recent = append(c.recent, now)
	return true
}

func (c *wsSession) pong(client json.RawMessage) {
	if len(client) == 0 {
		client = json.RawMessage("null")
	}
	b := make([]byte, 0, 64)
	b = append(b, `{"op":"ping","pong":`...)
	b = append(b, client...)
	b = append(b, `,"ping":`...)
	b = strconv.AppendInt(b, c.srv.clock.Now().Unix(), 10)
	b = append(b, '}')
	c.enqueue(b)
}

const capFrame = `{"op":"subscribe","data":{"msg":"subscribe channel > 300","nonce":"","result":false}}`

func (c *wsSession) subscribe(args []json.RawMessage) {
	s := c.srv
	var empties [][]byte
	capped := false
	s.wsMu.Lock()
	for _, raw := range args {
		var a subArg
		if json.Unmarshal(raw, &a) != nil {
			continue
		}
		depth, ok := publicChannel(a.Ch)
		if !ok {
			continue // unknown channel: nothing at all
		}
		sym := strings.ToUpper(a.Symbol)
		if _, known := s.symbols[sym]; !known {
			// Unknown symbol: one all-empty depth frame, then nothing.
			empties = append(empties, emptyDepthFrame(a.Ch, a.Symbol, depth, s.clock.Now()))
			continue
		}
		k := subKey{ch: a.Ch, symbol: sym}
		if _, dup := c.subs[k]; dup {
			continue // same stream twice is still one stream
		}
		if len(c.subs) >= s.cfg.MaxSubscriptions {
			capped = true
			continue
		}
		c.subs[k] = struct{}{}
		s.index(k, c)
	}
	stalled := s.clock.Now().Before(c.stallUntil)
	for _, e := range empties {
		c.enqueueLocked(e, stalled)
	}
	if capped {
		c.enqueueLocked([]byte(capFrame), stalled)
	}
	s.wsMu.Unlock()
}

func (c *wsSession) unsubscribe(args []json.RawMessage) {
	s := c.srv
	s.wsMu.Lock()
	for _, raw := range args {
		var a subArg
		if json.Unmarshal(raw, &a) != nil {
			continue
		}
		k := subKey{ch: a.Ch, symbol: strings.ToUpper(a.Symbol)}
		if _, ok := c.subs[k]; ok {
			delete(c.subs, k)
			s.unindex(k, c)
		}
	}
	s.wsMu.Unlock()
	b := make([]byte, 0, 64)
	b = append(b, `{"op":"unsubscribe","ts":`...)
	b = strconv.AppendInt(b, s.clock.Now().UnixMilli(), 10)
	b = append(b, `,"data":"success"}`...)
	c.enqueue(b)
}

type loginArg struct {
	APIKey    string          `json:"apiKey"`
	Timestamp json.RawMessage `json:"timestamp"`
	Nonce     string          `json:"nonce"`
	Sign      string          `json:"sign"`
}

func (c *wsSession) login(args []json.RawMessage) {
	s := c.srv
	fail := func(msg string) {
		b, _ := json.Marshal(map[string]any{"op": "login", "data": map[string]any{"result": false, "msg": msg}})
		c.enqueue(b)
	}
	if len(args) == 0 {
		fail("login args missing")
		return
	}
	var a loginArg
	if json.Unmarshal(args[0], &a) != nil {
		fail("login args invalid")
		return
	}
	ts, err := strconv.ParseInt(string(bytes.Trim(a.Timestamp, `"`)), 10, 64)
	if err != nil || a.APIKey == "" || a.Nonce == "" || a.Sign == "" {
		fail("apiKey, timestamp, nonce and sign are required")
		return
	}
	acct, ok := s.accounts[a.APIKey]
	if !ok {
		fail("api-key not found")
		return
	}
	// Seconds per the docs; DEMO Java and RS send milliseconds, so accept
	// those too (the signature covers the number as sent).
	sent := time.Unix(ts, 0)
	if ts > 1e11 {
		sent = time.UnixMilli(ts)
	}
	if d := s.clock.Now().Sub(sent); d > s.cfg.TimestampWindow || -d > s.cfg.TimestampWindow {
		fail("timestamp expired")
		return
	}
	if !bitunix.VerifyWSLogin(a.Sign, a.Nonce, ts, a.APIKey, acct.Secret) {
		fail("Signature Error")
		return
	}
	s.wsMu.Lock()
	c.account = a.APIKey
	s.wsMu.Unlock()
	c.enqueue([]byte(`{"op":"login","data":{"result":true}}`))
}

// klineInterval is a WS kline channel suffix and its duration (§5.4).
type klineInterval struct {
	name string
	dur  time.Duration
}

// klineIntervals lists the WS kline intervals in a fixed order, so kline
// pushes come out in the same order every time. A month counts 30 days.
func klineIntervals() [15]klineInterval {
	return [15]klineInterval{
		{"1min", time.Minute}, {"3min", 3 * time.Minute}, {"5min", 5 * time.Minute}, {"15min", 15 * time.Minute},
		{"30min", 30 * time.Minute}, {"60min", time.Hour}, {"2h", 2 * time.Hour}, {"4h", 4 * time.Hour},
		{"6h", 6 * time.Hour}, {"8h", 8 * time.Hour}, {"12h", 12 * time.Hour}, {"1day", 24 * time.Hour},
		{"3day", 72 * time.Hour}, {"1week", 7 * 24 * time.Hour}, {"1month", 30 * 24 * time.Hour},
	}
}

func isKlineInterval(name string) bool {
	for _, k := range klineIntervals() {
		if k.name == name {
			return true
		}
	}
	return false
}

// publicChannel reports whether ch is a known public channel and, for depth
// channels, its window size (0 = whole book).
func publicChannel(ch string) (depth int, ok bool) {
	switch ch {
	case "depth_book1":
		return 1, true
	case "depth_book5":
		return 5, true
	case "depth_book15":
		return 15, true
	case "depth_books":
		return 0, true
	case "trade", "ticker", "tickers", "price":
		return 0, true
	}
	for _, p := range []string{"market_kline_", "mark_kline_"} {
		if rest, found := strings.CutPrefix(ch, p); found {
			return 0, isKlineInterval(rest)
		}
	}
	return 0, false
}

// emptyDepthFrame is what the real server sends for an unknown symbol: one
// depth frame whose levels are all ["",""]. For non-depth channels the frame
// still carries the requested ch, with one empty level a side.
func emptyDepthFrame(ch, symbol string, depth int, now time.Time) []byte {
	if depth <= 0 {
		depth = 1
	}
	b := make([]byte, 0, 128)
	b = append(b, `{"ch":`...)
	b = strconv.AppendQuote(b, ch)
	b = append(b, `,"symbol":`...)
	b = strconv.AppendQuote(b, symbol)
	b = append(b, `,"ts":`...)
	b = strconv.AppendInt(b, now.UnixMilli(), 10)
	b = append(b, `,"data":{"b":[`...)
	for i := range depth {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `["",""]`...)
	}
	b = append(b, `],"a":[`...)
	for i := range depth {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `["",""]`...)
	}
	b = append(b, `]}}`...)
	return b
}

// index and unindex maintain the stream -> subscribers map; callers hold wsMu.
func (s *Server) index(k subKey, c *wsSession) {
	m := s.subIndex[k]
	if m == nil {
		m = map[*wsSession]struct{}{}
		s.subIndex[k] = m
	}
	m[c] = struct{}{}
}

func (s *Server) unindex(k subKey, c *wsSession) {
	if m := s.subIndex[k]; m != nil {
		delete(m, c)
		if len(m) == 0 {
			delete(s.subIndex, k)
		}
	}
}

// fanout sends one pre-encoded frame to every subscriber of k.
func (s *Server) fanout(k subKey, frame []byte) {
	now := s.clock.Now()
	s.wsMu.Lock()
	defer s.wsMu.Unlock()
	for c := range s.subIndex[k] {
		c.enqueueLocked(frame, now.Before(c.stallUntil))
	}
}

// hasSubscribers reports whether anyone listens to k, so frames nobody
// reads are never encoded.
func (s *Server) hasSubscribers(k subKey) bool {
	s.wsMu.Lock()
	defer s.wsMu.Unlock()
	return len(s.subIndex[k]) > 0
}

// pushPrivate sends a frame to every private session logged in as account.
func (s *Server) pushPrivate(account string, frame []byte) {
	now := s.clock.Now()
	s.wsMu.Lock()
	defer s.wsMu.Unlock()
	for c := range s.sessions {
		if c.private && c.account == account {
			c.enqueueLocked(frame, now.Before(c.stallUntil))
		}
	}
}

// checkIdle drops sessions without a client message for IdleTimeout.
func (s *Server) checkIdle(now time.Time) {
	var idle []*wsSession
	s.wsMu.Lock()
	for c := range s.sessions {
		if now.Sub(c.lastMsg) >= s.cfg.IdleTimeout {
			idle = append(idle, c)
		}
	}
	s.wsMu.Unlock()
	for _, c := range idle {
		c.kill()
	}
}

// dropWS drops public, private or all ("") sessions; the control API uses it.
func (s *Server) dropWS(which string) int {
	var victims []*wsSession
	s.wsMu.Lock()
	for c := range s.sessions {
		if matchKind(c, which) {
			victims = append(victims, c)
		}
	}
	s.wsMu.Unlock()
	for _, c := range victims {
		c.kill()
	}
	return len(victims)
}

// stallWS stops sending to matching sessions until now+d, sockets open.
func (s *Server) stallWS(which string, d time.Duration) int {
	until := s.clock.Now().Add(d)
	n := 0
	s.wsMu.Lock()
	defer s.wsMu.Unlock()
	for c := range s.sessions {
		if matchKind(c, which) {
			c.stallUntil = until
			n++
		}
	}
	return n
}

func matchKind(c *wsSession, which string) bool {
	switch which {
	case "public":
		return !c.private
	case "private":
		return c.private
	}
	return true
}
