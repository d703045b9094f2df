package bitunix

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"
)

// Subscription is one public channel on one symbol, e.g.
// {Symbol: "BTCUSDT", Channel: "depth_book15"}. Channels: depth_book1,
// depth_book5, depth_book15, trade, ticker, tickers, price,
// market_kline_<1min…1month>, mark_kline_<…> (§5.4).
type Subscription struct {
	Symbol  string `json:"symbol"`
	Channel string `json:"ch"`
}

// PublicStream is a self-healing public WebSocket. Events reach the handler
// in wire order on one goroutine; the *PublicEvent is reused and valid only
// during the call. After every reconnect the handler gets KindReconnected
// (consumers must treat books and state as stale and reconcile).
type PublicStream struct {
	core    *wsCore
	dec     *PublicDecoder
	handler func(*PublicEvent)

	mu   sync.Mutex
	subs []Subscription
	set  map[Subscription]bool
}

// NewPublicStream returns a stream; call Run to connect.
func NewPublicStream(cfg WSConfig, handler func(*PublicEvent)) *PublicStream {
	cfg.defaults()
	s := &PublicStream{dec: NewPublicDecoder(), handler: handler, set: map[Subscription]bool{}}
	s.core = newCore(cfg, cfg.PublicURL, "public")
	s.core.handshake = func(ctx context.Context, ss *session) error { return s.sendSubs(ctx, ss, "subscribe", s.snapshot()) }
	s.core.frame = s.frame
	s.core.expectsData = s.hasSubscriptions
	s.core.state = func(k Kind) { s.handler(&PublicEvent{Kind: k}) }
	return s
}

// Run connects and keeps the stream alive until ctx ends.
func (s *PublicStream) Run(ctx context.Context) error { return s.core.run(ctx) }

func (s *PublicStream) frame(b []byte) (time.Time, bool) {
	ev, err := s.dec.Decode(b)
	if err != nil {
		s.core.cfg.Logger.Warn("bitunix public frame undecodable", "err", err, "frame", string(clip(b)))
		return time.Time{}, false
	}
	if ev.Kind == KindControl {
		if ev.Control.Op == "subscribe" && !ev.Control.Result && ev.Control.Msg != "" {
			s.core.cfg.Logger.Warn("bitunix subscribe rejected", "msg", ev.Control.Msg)
		}
		return time.Time{}, false
	}
	data := ev.Kind != KindUnknown && s.subscribed(ev.Symbol, ev.Channel)
	s.handler(ev)
	return ev.Time, data
}

// subscribed reports whether a data frame belongs to a subscription; a
// frame without a symbol (`tickers`) matches any subscription of its
// channel.
func (s *PublicStream) subscribed(symbol, channel string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if symbol != "" {
		return s.set[Subscription{Symbol: symbol, Channel: channel}]
	}
	for _, sub := range s.subs {
		if sub.Channel == channel {
			return true
		}
	}
	return false
}

func (s *PublicStream) hasSubscriptions() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.subs) > 0
}

func (s *PublicStream) snapshot() []Subscription {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Subscription(nil), s.subs...)
}

// Subscribe adds channels. They are sent now if connected, and again after
// every reconnect. Duplicates are ignored; more than MaxSubscriptions in
// total is refused.
func (s *PublicStream) Subscribe(ctx context.Context, subs ...Subscription) error {
	s.mu.Lock()
	var add []Subscription
	for _, sub := range subs {
		if !s.set[sub] {
			add = append(add, sub)
		}
	}
	if len(s.subs)+len(add) > MaxSubscriptions {
		s.mu.Unlock()
		return fmt.Errorf("%w: have %d, adding %d", ErrTooManySubscriptions, len(s.subs), len(add))
	}
	wasEmpty := len(s.subs) == 0
	for _, sub := range add {
		s.set[sub] = true
		s.subs = append(s.subs, sub)
	}
	s.mu.Unlock()
	if live := s.core.current(); live != nil && len(add) > 0 {
		if wasEmpty {
			live.dataGrace() // data was not expected until now
		}
		return s.sendSubs(ctx, live, "subscribe", add)
	}
	return nil
}

// Unsubscribe removes channels (needed before switching kline intervals).
func (s *PublicStream) Unsubscribe(ctx context.Context, subs ...Subscription) error {
	s.mu.Lock()
	var del []Subscription
	for _, sub := range subs {
		if s.set[sub] {
			delete(s.set, sub)
			del = append(del, sub)
		}
	}
	kept := s.subs[:0]
	for _, sub := range s.subs {
		if s.set[sub] {
			kept = append(kept, sub)
		}
	}
	s.subs = kept
	s.mu.Unlock()
	if live := s.core.current(); live != nil && len(del) > 0 {
		return s.sendSubs(ctx, live, "unsubscribe", del)
	}
	return nil
}

// sendSubs batches up to 300 args per frame, so a full resubscribe is one
// frame and stays under the 5 messages/s limit (§7.3).
func (s *PublicStream) sendSubs(ctx context.Context, ss *session, op string, subs []Subscription) error {
	for len(subs) > 0 {
		n := min(len(subs), MaxSubscriptions)
		if err := ss.sendJSON(ctx, map[string]any{"op": op, "args": subs[:n]}); err != nil {
			return fmt.Errorf("%s %d channels: %w", op, n, err)
		}
		subs = subs[n:]
	}
	return nil
}

// PrivateStream is the self-healing private WebSocket: it logs in after
// `connect` (and after every reconnect) and receives balance, position,
// order and tpsl pushes without subscribing (§5.3).
type PrivateStream struct {
	core    *wsCore
	dec     *PrivateDecoder
	handler func(*PrivateEvent)
}

// NewPrivateStream returns a stream; call Run to connect.
func NewPrivateStream(cfg WSConfig, handler func(*PrivateEvent)) *PrivateStream {
	cfg.defaults()
	s := &PrivateStream{dec: NewPrivateDecoder(), handler: handler}
	s.core = newCore(cfg, cfg.PrivateURL, "private")
	s.core.handshake = s.login
	s.core.frame = s.frame
	s.core.state = func(k Kind) { s.handler(&PrivateEvent{Kind: k}) }
	return s
}

// Run connects and keeps the stream alive until ctx ends.
func (s *PrivateStream) Run(ctx context.Context) error { return s.core.run(ctx) }

// ErrLogin is a refused private login.
var ErrLogin = fmt.Errorf("bitunix: websocket login refused")

// login sends the §5.3 frame with a seconds timestamp and waits for
// {"op":"login","data":{"result":true}}. Data frames arriving first are
// delivered, not dropped.
func (s *PrivateStream) login(ctx context.Context, ss *session) error {
	cfg := &s.core.cfg
	if cfg.APIKey == "" || cfg.Secret == "" {
		return fmt.Errorf("private stream: %w", ErrMissingKey)
	}
	nonce := cfg.Nonce()
	ts := cfg.Clock().Unix()
	arg := map[string]any{"apiKey": cfg.APIKey, "timestamp": ts, "nonce": nonce, "sign": SignWSLogin(nonce, ts, cfg.APIKey, cfg.Secret)}
	if err := ss.sendJSON(ctx, map[string]any{"op": "login", "args": []any{arg}}); err != nil {
		return fmt.Errorf("send login: %w", err)
	}
	var buf bytes.Buffer
	for {
		if err := ss.read(ctx, &buf); err != nil {
			return fmt.Errorf("waiting for login reply: %w", err)
		}
		ev, err := s.dec.Decode(buf.Bytes())
		if err != nil {
			continue
		}
		if ev.Kind == KindControl && ev.Control.Op == "login" {
			if !ev.Control.Result {
				return fmt.Errorf("%w: %s", ErrLogin, ev.Control.Msg)
			}
			return nil
		}
		if ev.Kind != KindControl {
			s.handler(ev)
		}
	}
}

func (s *PrivateStream) frame(b []byte) (time.Time, bool) {
	ev, err := s.dec.Decode(b)
	if err != nil {
		s.core.cfg.Logger.Warn("bitunix private frame undecodable", "err", err)
		return time.Time{}, false
	}
	if ev.Kind == KindControl || ev.Kind == KindUnknown {
		return time.Time{}, false
	}
	s.handler(ev)
	return ev.Time, true
}
