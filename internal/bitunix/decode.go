package bitunix

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/trading"
	"github.com/valyala/fastjson"
)

// Kind says what a decoded WebSocket frame carries.
type Kind uint8

// Frame kinds. Connected and Reconnected are emitted by the WebSocket
// clients, never decoded from the wire.
const (
	KindUnknown Kind = iota
	KindControl      // op frames: connect, ping/pong, login, subscribe replies
	KindDepth
	KindTrade
	KindTicker
	KindTickers
	KindKline
	KindPrice
	KindBalance
	KindPosition
	KindOrder
	KindTPSL
	KindConnected   // first connection established (and logged in, for private)
	KindReconnected // a later connection: consumers must reconcile
	KindDisconnected
)

func (k Kind) String() string {
	switch k {
	case KindUnknown:
		return "unknown"
	case KindControl:
		return "control"
	case KindDepth:
		return "depth"
	case KindTrade:
		return "trade"
	case KindTicker:
		return "ticker"
	case KindTickers:
		return "tickers"
	case KindKline:
		return "kline"
	case KindPrice:
		return "price"
	case KindBalance:
		return "balance"
	case KindPosition:
		return "position"
	case KindOrder:
		return "order"
	case KindTPSL:
		return "tpsl"
	case KindConnected:
		return "connected"
	case KindReconnected:
		return "reconnected"
	case KindDisconnected:
		return "disconnected"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Ticker is a 24 h ticker. Bid/Ask fields are only on the `tickers`
// channel; Mark only on REST.
type Ticker struct {
	Symbol    string
	Open      fixed.Value
	High      fixed.Value
	Low       fixed.Value
	Last      fixed.Value
	Mark      fixed.Value
	BaseVol   fixed.Value
	QuoteVol  fixed.Value
	ChangePct fixed.Value // `r`, 24 h change in percent as sent
	Bid       fixed.Value
	Ask       fixed.Value
	BidQty    fixed.Value
	AskQty    fixed.Value
	Time      time.Time
}

// Control is an op frame (§5.1-5.3).
type Control struct {
	Op     string // connect, ping, login, subscribe, unsubscribe
	Result bool   // data.result, or data:"success"
	Msg    string
}

// PublicEvent is one decoded public frame. The decoder reuses it and its
// slices: it is valid only until the next Decode call.
type PublicEvent struct {
	Kind    Kind
	Channel string // wire channel, e.g. depth_book15, market_kline_1min
	Symbol  string
	Time    time.Time // frame ts
	Book    trading.Book
	Trades  []trading.Trade
	Ticker  Ticker
	Tickers []Ticker
	Kline   trading.Kline
	Price   trading.MarkPrice
	Control Control
}

// interner turns repeated symbol and channel bytes into shared strings, so
// steady-state decoding does not allocate. Bounded to keep memory bounded
// whatever the input.
type interner map[string]string

const maxInterned = 4096

func (m interner) get(b []byte) string {
	if s, ok := m[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(m) < maxInterned {
		m[s] = s
	}
	return s
}

// PublicDecoder decodes public WebSocket frames. Not safe for concurrent
// use; one per connection.
type PublicDecoder struct {
	p   fastjson.Parser
	ev  PublicEvent
	str interner
}

// NewPublicDecoder returns a decoder.
func NewPublicDecoder() *PublicDecoder { return &PublicDecoder{str: interner{}} }

// ErrFrame reports a frame that is not valid JSON or lacks required parts.
var ErrFrame = errors.New("bitunix: malformed frame")

// Decode parses frame. Unknown channels return KindUnknown and no error.
//
// depth_book* and trade frames in their usual shape take an
// allocation-free scanner (fastpath.go); anything else, or anything
// unexpected in those, takes the general fastjson path. Both give the same
// event: FuzzPublicDecodeDifferential checks it.
func (d *PublicDecoder) Decode(frame []byte) (*PublicEvent, error) {
	if ev, ok := d.decodeFast(frame); ok {
		return ev, nil
	}
	return d.decodeGeneral(frame)
}

// decodeGeneral decodes any public frame with fastjson.
func (d *PublicDecoder) decodeGeneral(frame []byte) (*PublicEvent, error) {
	v, err := d.p.ParseBytes(frame)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFrame, err)
	}
	ev := &d.ev
	ev.Kind = KindUnknown
	ev.Symbol = ""
	ev.Time = time.Time{}
	if v.Type() != fastjson.TypeObject {
		return nil, fmt.Errorf("%w: not an object", ErrFrame)
	}
	if op := v.Get("op"); op != nil && v.Get("ch") == nil {
		decodeControl(v, op, &ev.Control)
		ev.Kind = KindControl
		ev.Channel = ""
		return ev, nil
	}
	ch := sb(v.Get("ch"))
	ev.Channel = d.str.get(ch)
	if sym := v.Get("symbol"); sym != nil {
		b := sb(sym)
		ev.Symbol = d.str.get(b)
	}
	if ts, _ := intOf(v.Get("ts")); ts > 0 {
		ev.Time = time.UnixMilli(ts).UTC()
	}
	data := v.Get("data")
	switch {
	case bytes.HasPrefix(ch, []byte("depth_book")):
		ev.Kind = KindDepth
		return ev, d.depth(data)
	case string(ch) == "trade":
		ev.Kind = KindTrade
		return ev, d.trades(data)
	case string(ch) == "ticker":
		ev.Kind = KindTicker
		ev.Ticker = Ticker{}
		err := d.ticker(objectOrFirst(data), &ev.Ticker)
		if ev.Ticker.Symbol == "" {
			ev.Ticker.Symbol = ev.Symbol
		}
		return ev, err
	case string(ch) == "tickers":
		ev.Kind = KindTickers
		ev.Tickers = ev.Tickers[:0]
		for _, x := range listOf(data) {
			ev.Tickers = append(ev.Tickers, Ticker{})
			if err := d.ticker(x, &ev.Tickers[len(ev.Tickers)-1]); err != nil {
				return ev, err
			}
		}
		return ev, nil
	case bytes.HasPrefix(ch, []byte("market_kline_")) || bytes.HasPrefix(ch, []byte("mark_kline_")):
		ev.Kind = KindKline
		return ev, d.kline(ch, objectOrFirst(data))
	case string(ch) == "price":
		ev.Kind = KindPrice
		return ev, d.price(objectOrFirst(data))
	}
	return ev, nil
}

func decodeControl(v, op *fastjson.Value, c *Control) {
	b := sb(op)
	c.Op = controlOp(b)
	c.Result, c.Msg = false, ""
	data := v.Get("data")
	if data == nil {
		return
	}
	switch data.Type() {
	case fastjson.TypeObject:
		c.Result = boolOf(data.Get("result"))
		if m := data.Get("msg"); m != nil {
			c.Msg = strOf(m)
		}
	case fastjson.TypeString:
		s := sb(data)
		c.Result = bytes.EqualFold(s, []byte("success"))
	}
}

func controlOp(b []byte) string {
	for _, s := range [...]string{"connect", "ping", "pong", "login", "subscribe", "unsubscribe"} {
		if string(b) == s {
			return s
		}
	}
	return string(b)
}

// depth fills ev.Book, reusing its slices. Empty levels ["",""] (sent for
// unknown symbols, §5.2) are skipped.
func (d *PublicDecoder) depth(data *fastjson.Value) error {
	ev := &d.ev
	b := &ev.Book
	b.Symbol, b.Time = ev.Symbol, ev.Time
	b.Bids, b.Asks = b.Bids[:0], b.Asks[:0]
	if data == nil || data.Type() != fastjson.TypeObject {
		return fmt.Errorf("%w: depth data is not an object", ErrFrame)
	}
	var err error
	if b.Bids, err = levels(b.Bids, data.Get("b")); err != nil {
		return fmt.Errorf("depth bids: %w", err)
	}
	if b.Asks, err = levels(b.Asks, data.Get("a")); err != nil {
		return fmt.Errorf("depth asks: %w", err)
	}
	return nil
}

func levels(dst []trading.Level, v *fastjson.Value) ([]trading.Level, error) {
	if v == nil || v.Type() == fastjson.TypeNull {
		return dst, nil
	}
	arr, err := v.Array()
	if err != nil {
		return dst, fmt.Errorf("%w: levels not an array", ErrFrame)
	}
	for _, lv := range arr {
		pq, err := lv.Array()
		if err != nil || len(pq) < 2 {
			return dst, fmt.Errorf("%w: level is not [price, qty]", ErrFrame)
		}
		if isNullish(pq[0]) {
			continue
		}
		px, err := fixedOf(pq[0])
		if err != nil {
			return dst, err
		}
		qty, err := fixedOf(pq[1])
		if err != nil {
			return dst, err
		}
		dst = append(dst, trading.Level{Price: px, Qty: qty})
	}
	return dst, nil
}

func (d *PublicDecoder) trades(data *fastjson.Value) error {
	ev := &d.ev
	ev.Trades = ev.Trades[:0]
	for _, x := range listOf(data) {
		var t trading.Trade
		var err error
		t.Symbol = ev.Symbol
		if t.Price, err = fixedOf(x.Get("p")); err != nil {
			return fmt.Errorf("trade price: %w", err)
		}
		if t.Qty, err = fixedOf(x.Get("v")); err != nil {
			return fmt.Errorf("trade qty: %w", err)
		}
		s := sb(x.Get("s"))
		t.Side = sideOf(s)
		if t.Time, err = timeOf(x.Get("t")); err != nil {
			return fmt.Errorf("trade time: %w", err)
		}
		if t.Time.IsZero() {
			t.Time = ev.Time
		}
		ev.Trades = append(ev.Trades, t)
	}
	return nil
}

func (d *PublicDecoder) ticker(x *fastjson.Value, t *Ticker) error {
	if x == nil {
		return fmt.Errorf("%w: ticker data missing", ErrFrame)
	}
	var fe fieldErr
	if s := x.Get("s"); s != nil {
		b := sb(s)
		t.Symbol = d.str.get(b)
	}
	for _, f := range [...]struct {
		key string
		dst *fixed.Value
	}{{"o", &t.Open}, {"h", &t.High}, {"l", &t.Low}, {"la", &t.Last}, {"b", &t.BaseVol}, {"q", &t.QuoteVol},
		{"r", &t.ChangePct}, {"bd", &t.Bid}, {"ak", &t.Ask}, {"bv", &t.BidQty}, {"av", &t.AskQty}} {
		var err error
		*f.dst, err = fixedOf(x.Get(f.key))
		fe.set(f.key, err)
	}
	t.Time = d.ev.Time
	return fe.err
}

func (d *PublicDecoder) kline(ch []byte, x *fastjson.Value) error {
	k := &d.ev.Kline
	*k = trading.Kline{Symbol: d.ev.Symbol}
	if x == nil {
		return fmt.Errorf("%w: kline data missing", ErrFrame)
	}
	name := ch[bytes.LastIndexByte(ch, '_')+1:]
	k.Interval = klineInterval(name)
	// Bitunix pushes no candle open time (§5.4): derive it from the frame
	// time for fixed-length intervals; week and month candles stay unaligned.
	if k.Interval > 0 && k.Interval <= 24*time.Hour {
		k.OpenTime = d.ev.Time.Truncate(k.Interval)
	} else {
		k.OpenTime = d.ev.Time
	}
	var fe fieldErr
	var err error
	k.Open, err = fixedOf(x.Get("o"))
	fe.set("o", err)
	k.High, err = fixedOf(x.Get("h"))
	fe.set("h", err)
	k.Low, err = fixedOf(x.Get("l"))
	fe.set("l", err)
	k.Close, err = fixedOf(x.Get("c"))
	fe.set("c", err)
	k.Volume, err = fixedOf(x.Get("b"))
	fe.set("b", err)
	return fe.err
}

type intervalSpelling struct {
	ws, rest string
	d        time.Duration
}

// klineIntervals pairs each kline interval's WS channel suffix and REST
// parameter with its length; "" marks a spelling that API lacks. Months are
// left out: they have no fixed length.
func klineIntervals() [14]intervalSpelling {
	return [14]intervalSpelling{
		{"1min", "1m", time.Minute}, {"3min", "", 3 * time.Minute}, {"5min", "5m", 5 * time.Minute},
		{"15min", "15m", 15 * time.Minute}, {"30min", "30m", 30 * time.Minute}, {"60min", "1h", time.Hour},
		{"2h", "2h", 2 * time.Hour}, {"4h", "4h", 4 * time.Hour}, {"6h", "6h", 6 * time.Hour},
		{"8h", "8h", 8 * time.Hour}, {"12h", "12h", 12 * time.Hour}, {"1day", "1d", 24 * time.Hour},
		{"3day", "3d", 72 * time.Hour}, {"1week", "1w", 7 * 24 * time.Hour},
	}
}

// klineInterval maps a WS interval suffix (1min … 1month) to a duration;
// 0 for a month or an unknown suffix.
func klineInterval(s []byte) time.Duration {
	for _, k := range klineIntervals() {
		if k.ws == string(s) {
			return k.d
		}
	}
	return 0
}

// restInterval maps a REST interval (1m … 1M) to a duration; 0 for a month
// or an unknown name.
func restInterval(s string) time.Duration {
	for _, k := range klineIntervals() {
		if k.rest != "" && k.rest == s {
			return k.d
		}
	}
	return 0
}

// price decodes the `price` channel. `fr` is a percent (§4.1, §5.4): it is
// converted to a fraction here, at the protocol edge, so 0.01 (%) becomes
// 0.0001. Precision below 1e-8 is rounded away.
func (d *PublicDecoder) price(x *fastjson.Value) error {
	m := &d.ev.Price
	*m = trading.MarkPrice{Symbol: d.ev.Symbol, Time: d.ev.Time}
	if x == nil {
		return fmt.Errorf("%w: price data missing", ErrFrame)
	}
	var fe fieldErr
	var err error
	m.Mark, err = fixedOf(x.Get("mp"))
	fe.set("mp", err)
	m.Index, err = fixedOf(x.Get("ip"))
	fe.set("ip", err)
	fr, err := fixedOf(x.Get("fr"))
	fe.set("fr", err)
	m.FundingRate = percentToFraction(fr)
	m.NextFundingTime, err = timeOf(x.Get("nft"))
	fe.set("nft", err)
	return fe.err
}

func percentToFraction(p fixed.Value) fixed.Value { return p.DivInt(100) }

// PrivateEvent is one decoded private frame; reused like PublicEvent.
type PrivateEvent struct {
	Kind     Kind
	Channel  string
	Time     time.Time
	Balance  Balance
	Position Position
	Order    Order
	TPSL     TPSLOrder
	Control  Control
}

// PrivateDecoder decodes private WebSocket frames. Not safe for concurrent use.
type PrivateDecoder struct {
	p  fastjson.Parser
	ev PrivateEvent
}

// NewPrivateDecoder returns a decoder.
func NewPrivateDecoder() *PrivateDecoder { return &PrivateDecoder{} }

// Decode parses a private frame. data is documented as a list in older
// docs and an object in current ones (§5.5): both are accepted.
func (d *PrivateDecoder) Decode(frame []byte) (*PrivateEvent, error) {
	v, err := d.p.ParseBytes(frame)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFrame, err)
	}
	if v.Type() != fastjson.TypeObject {
		return nil, fmt.Errorf("%w: not an object", ErrFrame)
	}
	ev := &d.ev
	ev.Kind, ev.Time = KindUnknown, time.Time{}
	if op := v.Get("op"); op != nil && v.Get("ch") == nil {
		decodeControl(v, op, &ev.Control)
		ev.Kind, ev.Channel = KindControl, ""
		return ev, nil
	}
	ch := sb(v.Get("ch"))
	ev.Channel = controlOp(ch)
	if ts, _ := intOf(v.Get("ts")); ts > 0 {
		ev.Time = time.UnixMilli(ts).UTC()
	}
	data := objectOrFirst(v.Get("data"))
	switch strings.ToLower(string(ch)) {
	case "balance":
		ev.Kind = KindBalance
		ev.Balance, err = decodeBalance(data)
	case "position":
		ev.Kind = KindPosition
		ev.Position, err = decodePosition(data)
	case "order":
		ev.Kind = KindOrder
		ev.Order, err = decodeOrder(data)
	case "tpsl":
		ev.Kind = KindTPSL
		ev.TPSL, err = decodeTPSL(data)
	}
	if err != nil {
		return ev, fmt.Errorf("%s frame: %w", ch, err)
	}
	return ev, nil
}
