package bitunix

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"
)

// DefaultPublicWSURL is the public stream endpoint (§1).
const DefaultPublicWSURL = "wss://fapi.bitunix.com/public/"

// MaxSubscriptions is the per-connection cap (§5.1); the exchange answers
// "subscribe channel > 300" beyond it.
const MaxSubscriptions = 300

// WSConfig configures a public or private stream. Zero values get defaults.
type WSConfig struct {
	PublicURL  string // default DefaultPublicWSURL
	PrivateURL string // default: PublicURL with /public/ → /private/
	APIKey     string // private only
	Secret     string // private only
	HTTPClient *http.Client
	// PingInterval between JSON pings. The server drops silent sockets after
	// about 60 s (§5.1); default 15 s.
	PingInterval time.Duration
	// StaleAfter: no frame at all (data or pong) for this long means the
	// socket is dead; it is closed and reconnected. Default 3×PingInterval.
	StaleAfter time.Duration
	// DataStaleAfter (public streams only): with at least one subscription,
	// no data frame of a subscribed channel for this long means the stream
	// is stale even while pongs still arrive (a server can keep answering
	// pings after its feed has stopped). Default StaleAfter; negative
	// turns it off, e.g. for trade-only subscriptions on quiet symbols.
	// Private streams may be silent for hours and use StaleAfter alone.
	DataStaleAfter time.Duration
	// HandshakeTimeout bounds dial + `connect` + login. Default 10 s.
	HandshakeTimeout time.Duration
	// Backoff is the pause before reconnect attempt n (0-based); default
	// jittered exponential from 500 ms to 30 s.
	Backoff func(attempt int) time.Duration
	Clock   func() time.Time
	Nonce   func() string
	// MessagesPerSecond caps client frames (pings included). The exchange
	// allows 5 and disconnects above (§5.1); default 4 for headroom.
	MessagesPerSecond float64
	Observer          Observer
	Logger            *slog.Logger
}

// Format never shows the credentials, whatever the verb.
func (c WSConfig) Format(f fmt.State, _ rune) {
	_, _ = fmt.Fprintf(f, "bitunix.WSConfig{PublicURL: %q, PrivateURL: %q, APIKey: %s, Secret: %s}", c.PublicURL, c.PrivateURL, mask(c.APIKey), mask(c.Secret))
}

// LogValue keeps the credentials out of slog output.
func (c WSConfig) LogValue() slog.Value {
	return slog.GroupValue(slog.String("publicURL", c.PublicURL), slog.String("privateURL", c.PrivateURL), slog.String("apiKey", mask(c.APIKey)), slog.String("secret", mask(c.Secret)))
}

func (c *WSConfig) defaults() {
	if c.PublicURL == "" {
		c.PublicURL = DefaultPublicWSURL
	}
	if c.PrivateURL == "" {
		c.PrivateURL = strings.Replace(c.PublicURL, "/public/", "/private/", 1)
	}
	if c.PingInterval <= 0 {
		c.PingInterval = 15 * time.Second
	}
	if c.StaleAfter <= 0 {
		c.StaleAfter = 3 * c.PingInterval
	}
	if c.DataStaleAfter == 0 {
		c.DataStaleAfter = c.StaleAfter
	}
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = 10 * time.Second
	}
	if c.Backoff == nil {
		c.Backoff = jitterBackoff(500*time.Millisecond, 30*time.Second)
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Nonce == nil {
		c.Nonce = randomNonce
	}
	if c.MessagesPerSecond <= 0 {
		c.MessagesPerSecond = 4
	}
	if c.Observer == nil {
		c.Observer = NopObserver{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// wsCore owns one logical stream: dialling, handshake, pings, stale
// detection and reconnects. Exactly one session (connection) exists at a
// time, and all its goroutines end before the next one starts.
type wsCore struct {
	cfg    WSConfig
	url    string
	stream string // "public" or "private": metric label
	// handshake runs after `connect`: login and/or resubscribe.
	handshake func(ctx context.Context, s *session) error
	// frame handles one received frame; returns the exchange time of data
	// frames (zero for control frames) and whether it counts as data for
	// staleness (public: a frame of a subscribed channel).
	frame func(b []byte) (ts time.Time, data bool)
	// expectsData reports whether data frames should be flowing (public:
	// there are subscriptions). Nil for streams judged on any frame.
	expectsData func() bool
	// state reports Connected/Reconnected/Disconnected.
	state func(k Kind)

	lim *rate.Limiter

	mu   sync.Mutex
	live *session
}

// session is one connection.
type session struct {
	core     *wsCore
	conn     *websocket.Conn
	lastRecv atomic.Int64 // unix nanos by cfg.Clock: any frame
	lastData atomic.Int64 // unix nanos by cfg.Clock: data frames only
}

// dataGrace restarts the data-staleness window, for when data is newly
// expected (first subscription on a live connection).
func (s *session) dataGrace() { s.lastData.Store(s.core.cfg.Clock().UnixNano()) }

func newCore(cfg WSConfig, url, stream string) *wsCore {
	return &wsCore{cfg: cfg, url: url, stream: stream,
		lim: rate.NewLimiter(rate.Limit(cfg.MessagesPerSecond), max(1, int(cfg.MessagesPerSecond/2)))}
}

// send writes one text frame, paced to the message limit.
func (s *session) send(ctx context.Context, b []byte) error {
	if err := s.core.lim.Wait(ctx); err != nil {
		return err
	}
	return s.conn.Write(ctx, websocket.MessageText, b)
}

func (s *session) sendJSON(ctx context.Context, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.send(ctx, b)
}

// read returns the next frame into buf (reused).
func (s *session) read(ctx context.Context, buf *bytes.Buffer) error {
	_, r, err := s.conn.Reader(ctx)
	if err != nil {
		return err
	}
	buf.Reset()
	if _, err := buf.ReadFrom(r); err != nil {
		return err
	}
	s.lastRecv.Store(s.core.cfg.Clock().UnixNano())
	return nil
}

// run keeps the stream connected until ctx ends. It returns ctx's error.
func (c *wsCore) run(ctx context.Context) error {
	attempt := 0
	everConnected := false
	for {
		established, err := c.session(ctx, everConnected)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if established {
			everConnected = true
			attempt = 0
			c.state(KindDisconnected)
			c.cfg.Observer.WSState(c.stream, false)
		}
		c.cfg.Observer.WSReconnect(c.stream)
		c.cfg.Logger.WarnContext(ctx, "bitunix websocket down, reconnecting", "stream", c.stream, "attempt", attempt, "err", err)
		t := time.NewTimer(c.cfg.Backoff(attempt))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		attempt++
	}
}

// session runs one connection to its end. established reports whether the
// handshake completed (so the next one is a reconnect).
func (c *wsCore) session(ctx context.Context, reconnect bool) (established bool, err error) {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	hctx, hcancel := context.WithTimeout(sctx, c.cfg.HandshakeTimeout)
	defer hcancel()
	conn, _, err := websocket.Dial(hctx, c.url, &websocket.DialOptions{HTTPClient: c.cfg.HTTPClient})
	if err != nil {
		return false, fmt.Errorf("dial %s stream: %w", c.stream, err)
	}
	defer conn.CloseNow()
	conn.SetReadLimit(8 << 20)
	s := &session{core: c, conn: conn}
	s.lastRecv.Store(c.cfg.Clock().UnixNano())
	s.lastData.Store(s.lastRecv.Load())

	var buf bytes.Buffer
	// The server speaks first: {"op":"connect","data":{"result":true}} (§5.1).
	if err := s.read(hctx, &buf); err != nil {
		return false, fmt.Errorf("%s stream: waiting for connect: %w", c.stream, err)
	}
	if !bytes.Contains(buf.Bytes(), []byte(`"connect"`)) {
		return false, fmt.Errorf("%s stream: expected connect, got %q", c.stream, clip(buf.Bytes()))
	}
	if err := c.handshake(hctx, s); err != nil {
		return false, fmt.Errorf("%s stream handshake: %w", c.stream, err)
	}
	hcancel()

	c.mu.Lock()
	c.live = s
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.live = nil
		c.mu.Unlock()
	}()
	c.cfg.Observer.WSState(c.stream, true)
	if reconnect {
		c.state(KindReconnected)
	} else {
		c.state(KindConnected)
	}

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.keepalive(sctx)
	}()
	defer wg.Wait() // runs after cancel and CloseNow (LIFO): no goroutine outlives the session
	defer cancel()

	for {
		if err := s.read(sctx, &buf); err != nil {
			return true, fmt.Errorf("%s stream read: %w", c.stream, err)
		}
		ts, data := c.frame(buf.Bytes())
		if data {
			s.lastData.Store(s.lastRecv.Load())
		}
		if !ts.IsZero() {
			c.cfg.Observer.WSMessage(c.stream, c.cfg.Clock().Sub(ts))
		}
	}
}

// keepalive sends {"op":"ping","ping":<secs>} every PingInterval and closes
// the connection when it is stale (see stale).
func (s *session) keepalive(ctx context.Context) {
	cfg := &s.core.cfg
	t := time.NewTicker(cfg.PingInterval)
	defer t.Stop()
	var frame []byte
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := cfg.Clock()
		if why := s.stale(now); why != "" {
			cfg.Logger.Warn("bitunix websocket stale, closing", "stream", s.core.stream, "reason", why)
			s.conn.CloseNow()
			return
		}
		frame = append(frame[:0], `{"op":"ping","ping":`...)
		frame = strconv.AppendInt(frame, now.Unix(), 10)
		frame = append(frame, '}')
		if err := s.send(ctx, frame); err != nil {
			s.conn.CloseNow()
			return
		}
	}
}

// stale says why the connection is stale at now, or "" if it is not:
// nothing at all for StaleAfter, or, where data is expected, no data frame
// for DataStaleAfter (pongs do not count).
func (s *session) stale(now time.Time) string {
	cfg := &s.core.cfg
	if now.Sub(time.Unix(0, s.lastRecv.Load())) > cfg.StaleAfter {
		return "no frame"
	}
	if s.core.expectsData != nil && cfg.DataStaleAfter > 0 && s.core.expectsData() &&
		now.Sub(time.Unix(0, s.lastData.Load())) > cfg.DataStaleAfter {
		return "no data"
	}
	return ""
}

// current returns the live session, or nil.
func (c *wsCore) current() *session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.live
}

// ErrTooManySubscriptions is returned beyond MaxSubscriptions.
var ErrTooManySubscriptions = errors.New("bitunix: more than 300 subscriptions")
