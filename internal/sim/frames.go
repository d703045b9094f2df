package sim

import (
	"strconv"
	"strings"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/matching"
	"github.com/bitrader/bitrader/internal/trading"
)

// Push cadences in clock time, from PROBE's measurements (§5.4).
const (
	pricePushEvery  = 500 * time.Millisecond
	klinePushEvery  = 500 * time.Millisecond
	tickerPushEvery = 1400 * time.Millisecond
)

// isoTime is the private-push time format: 2025-04-26T17:06:13.155255000Z.
const isoTime = "2006-01-02T15:04:05.000000000Z"

// due reports whether the push family is due at now and schedules the next.
func (s *Server) due(family string, now time.Time, every time.Duration) bool {
	next, ok := s.nextPush[family]
	if ok && now.Before(next) {
		return false
	}
	s.nextPush[family] = now.Add(every)
	return true
}

// publish sends the public frames due at now; callers hold mu.
func (s *Server) publish(now time.Time) {
	ts := now.UnixMilli()
	depthDue := s.due("depth", now, s.cfg.DepthInterval)
	priceDue := s.due("price", now, pricePushEvery)
	klineDue := s.due("kline", now, klinePushEvery)
	tickerDue := s.due("ticker", now, tickerPushEvery)
	for _, sym := range s.symOrder {
		st := s.symbols[sym]
		if len(st.trades) > 0 {
			if k := (subKey{"trade", sym}); s.hasSubscribers(k) {
				s.fanout(k, tradeFrame(sym, ts, st.trades))
			}
			st.trades = st.trades[:0]
		}
		if depthDue {
			for _, n := range [...]int{1, 5, 15, 0} {
				ch := "depth_books"
				if n > 0 {
					ch = "depth_book" + strconv.Itoa(n)
				}
				k := subKey{ch, sym}
				if !s.hasSubscribers(k) {
					continue
				}
				book, err := s.engine.Depth(sym, n)
				if err != nil || (len(book.Bids) == 0 && len(book.Asks) == 0) {
					book = trimBook(st.book, n)
				}
				s.fanout(k, depthFrame(ch, sym, ts, book))
			}
		}
		if priceDue {
			if k := (subKey{"price", sym}); s.hasSubscribers(k) {
				s.fanout(k, priceFrame(sym, ts, st))
			}
		}
		if klineDue {
			for _, ki := range klineIntervals() {
				name, iv := ki.name, ki.dur
				for _, kind := range [...]string{"market_kline_", "mark_kline_"} {
					k := subKey{kind + name, sym}
					if !s.hasSubscribers(k) {
						continue
					}
					cs := st.lastKlines
					if kind == "mark_kline_" {
						cs = st.markKlines
					}
					if c, ok := cs.current(iv, now); ok {
						s.fanout(k, klineFrame(k.ch, sym, ts, c))
					}
				}
			}
		}
		if tickerDue {
			if k := (subKey{"ticker", sym}); s.hasSubscribers(k) {
				s.fanout(k, tickerFrame(sym, ts, s.tickerOf(st, now)))
			}
		}
	}
	if tickerDue {
		s.pushTickers(ts, now)
	}
}

// pushTickers sends each "tickers" subscriber one list of its symbols.
func (s *Server) pushTickers(ts int64, now time.Time) {
	s.wsMu.Lock()
	var targets []*wsSession
	seen := map[*wsSession]bool{}
	for _, sym := range s.symOrder {
		for c := range s.subIndex[subKey{"tickers", sym}] {
			if !seen[c] {
				seen[c] = true
				targets = append(targets, c)
			}
		}
	}
	subs := make([][]string, len(targets))
	for i, c := range targets {
		for _, sym := range s.symOrder {
			if _, ok := c.subs[subKey{"tickers", sym}]; ok {
				subs[i] = append(subs[i], sym)
			}
		}
	}
	s.wsMu.Unlock()
	for i, c := range targets {
		b := make([]byte, 0, 256)
		b = append(b, `{"ch":"tickers","ts":`...)
		b = strconv.AppendInt(b, ts, 10)
		b = append(b, `,"data":[`...)
		for j, sym := range subs[i] {
			if j > 0 {
				b = append(b, ',')
			}
			st := s.symbols[sym]
			t := s.tickerOf(st, now)
			b = appendTickerObj(b, t, true)
		}
		b = append(b, "]}"...)
		c.enqueue(b)
	}
}

// ticker is a 24 h summary.
type ticker struct {
	sym                                string
	open, high, low, last, base, quote fixed.Value
	change                             fixed.Value // percent
	bid, ask, bidQty, askQty           fixed.Value
}

func (s *Server) tickerOf(st *symbolState, now time.Time) ticker {
	t := ticker{sym: st.cfg.Spec.Symbol, last: st.last, open: st.last, high: st.last, low: st.last}
	if c, ok := st.lastKlines.window(now.Add(-24 * time.Hour)); ok {
		t.open, t.high, t.low, t.base, t.quote = c.o, c.h, c.l, c.base, c.quote
	}
	if t.open > 0 {
		t.change = (t.last - t.open).Mul(fixed.FromInt(100)).Div(t.open)
	}
	bb, ba := st.book.BestBid(), st.book.BestAsk()
	t.bid, t.bidQty, t.ask, t.askQty = bb.Price, bb.Qty, ba.Price, ba.Qty
	return t
}

func trimBook(b trading.Book, n int) trading.Book {
	if n > 0 {
		b.Bids = b.Bids[:min(n, len(b.Bids))]
		b.Asks = b.Asks[:min(n, len(b.Asks))]
	}
	return b
}

func appendHead(b []byte, ch, sym string, ts int64) []byte {
	b = append(b, `{"ch":"`...)
	b = append(b, ch...)
	b = append(b, `","symbol":"`...)
	b = append(b, sym...)
	b = append(b, `","ts":`...)
	b = strconv.AppendInt(b, ts, 10)
	return append(b, `,"data":`...)
}

func appendStr(b []byte, key string, v fixed.Value, comma bool) []byte {
	if comma {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, key...)
	b = append(b, `":"`...)
	b = v.AppendText(b)
	return append(b, '"')
}

func appendLevels(b []byte, lv []trading.Level) []byte {
	b = append(b, '[')
	for i, l := range lv {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `["`...)
		b = l.Price.AppendText(b)
		b = append(b, `","`...)
		b = l.Qty.AppendText(b)
		b = append(b, `"]`...)
	}
	return append(b, ']')
}

func depthFrame(ch, sym string, ts int64, book trading.Book) []byte {
	b := make([]byte, 0, 96+40*(len(book.Bids)+len(book.Asks)))
	b = appendHead(b, ch, sym, ts)
	b = append(b, `{"b":`...)
	b = appendLevels(b, book.Bids)
	b = append(b, `,"a":`...)
	b = appendLevels(b, book.Asks)
	return append(b, "}}"...)
}

func tradeFrame(sym string, ts int64, trades []trading.Trade) []byte {
	b := appendHead(make([]byte, 0, 96+80*len(trades)), "trade", sym, ts)
	b = append(b, '[')
	for i, t := range trades {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		b = appendStr(b, "p", t.Price, false)
		side := "buy"
		if t.Side == trading.Sell {
			side = "sell"
		}
		b = append(b, `,"s":"`...)
		b = append(b, side...)
		b = append(b, `","t":"`...)
		b = t.Time.UTC().AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
		b = appendStr(b, "v", t.Qty, true)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

func appendTickerObj(b []byte, t ticker, withBook bool) []byte {
	b = append(b, `{"s":"`...)
	b = append(b, t.sym...)
	b = append(b, '"')
	b = appendStr(b, "o", t.open, true)
	b = appendStr(b, "la", t.last, true)
	b = appendStr(b, "h", t.high, true)
	b = appendStr(b, "l", t.low, true)
	b = appendStr(b, "b", t.base, true)
	b = appendStr(b, "q", t.quote, true)
	b = appendStr(b, "r", t.change, true)
	if withBook {
		b = appendStr(b, "bd", t.bid, true)
		b = appendStr(b, "ak", t.ask, true)
		b = appendStr(b, "bv", t.bidQty, true)
		b = appendStr(b, "av", t.askQty, true)
	}
	return append(b, '}')
}

func tickerFrame(sym string, ts int64, t ticker) []byte {
	b := appendHead(make([]byte, 0, 256), "ticker", sym, ts)
	b = appendTickerObj(b, t, false)
	return append(b, '}')
}

func klineFrame(ch, sym string, ts int64, c candle) []byte {
	b := appendHead(make([]byte, 0, 192), ch, sym, ts)
	b = append(b, '{')
	b = appendStr(b, "o", c.o, false)
	b = appendStr(b, "c", c.c, true)
	b = appendStr(b, "h", c.h, true)
	b = appendStr(b, "l", c.l, true)
	b = appendStr(b, "b", c.base, true)
	b = appendStr(b, "q", c.quote, true)
	return append(b, "}}"...)
}

// percent converts a funding fraction to Bitunix's percent.
func percent(v fixed.Value) fixed.Value { return v.MulInt(100) }

func priceFrame(sym string, ts int64, st *symbolState) []byte {
	b := appendHead(make([]byte, 0, 192), "price", sym, ts)
	b = append(b, '{')
	b = appendStr(b, "ip", st.mark.Index, false)
	b = appendStr(b, "mp", st.mark.Mark, true)
	b = appendStr(b, "fr", percent(st.settledRate), true) // last settled, in percent
	ft := st.lastFundingAt
	if ft.IsZero() {
		ft = st.nextFunding.Add(-st.fundingInterval())
	}
	b = append(b, `,"ft":"`...)
	b = ft.UTC().AppendFormat(b, time.RFC3339)
	b = append(b, `","nft":"`...)
	b = st.nextFunding.UTC().AppendFormat(b, time.RFC3339)
	return append(b, `"}}`...)
}

func (st *symbolState) fundingInterval() time.Duration {
	if d := st.nextFunding.Sub(st.lastFundingAt); !st.lastFundingAt.IsZero() && d > 0 {
		return d
	}
	return 8 * time.Hour
}

// Private frames (§5.5). The casing quirks observed live are reproduced:
// order side Buy/Sell and type Limit/Market, tpsl side Buy/Sell and stop
// types Mark/Last, ISO-8601 ctime/mtime.

func titleCase(s string) string {
	if s == "" {
		return s
	}
	return s[:1] + strings.ToLower(s[1:])
}

func orderStatusWire(o matching.Order) string {
	switch o.Status {
	case trading.StatusNew, trading.StatusPending, trading.StatusSubmitted:
		return "NEW"
	case trading.StatusPartiallyFilled:
		return "PART_FILLED"
	case trading.StatusFilled:
		return "FILLED"
	case trading.StatusCanceled, trading.StatusRejected:
		if o.FilledQty > 0 {
			return "PART_FILLED_CANCELED"
		}
		return "CANCELED"
	case trading.StatusExpired:
		return "EXPIRED"
	}
	return "NEW"
}

func posSideWire(s trading.Side) string {
	if s == trading.Sell {
		return "SHORT"
	}
	return "LONG"
}

func stopTypeShort(t matching.StopType) string {
	if t == matching.LastPrice {
		return "Last"
	}
	return "Mark"
}

func appendKV(b []byte, key, val string, comma bool) []byte {
	if comma {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, key...)
	b = append(b, `":`...)
	return strconv.AppendQuote(b, val)
}

func appendISO(b []byte, key string, t time.Time) []byte {
	b = append(b, `,"`...)
	b = append(b, key...)
	b = append(b, `":"`...)
	b = t.UTC().AppendFormat(b, isoTime)
	return append(b, '"')
}

func id(n uint64) string { return strconv.FormatUint(n, 10) }

func encodePrivate(ev *matching.Event) []byte {
	b := make([]byte, 0, 512)
	b = append(b, `{"ch":"`...)
	b = append(b, ev.Kind.String()...)
	b = append(b, `","ts":`...)
	b = strconv.AppendInt(b, ev.Time.UnixMilli(), 10)
	b = append(b, `,"data":{`...)
	switch ev.Kind {
	case matching.EventBalance:
		a := ev.Balance
		b = appendKV(b, "coin", "USDT", false)
		b = appendStr(b, "available", a.Available, true)
		b = appendStr(b, "frozen", a.Frozen, true)
		b = appendStr(b, "isolationFrozen", a.IsolationFrozen, true)
		b = appendStr(b, "crossFrozen", a.CrossFrozen, true)
		b = appendStr(b, "margin", a.Margin, true)
		b = appendStr(b, "isolationMargin", a.IsolationMargin, true)
		b = appendStr(b, "crossMargin", a.CrossMargin, true)
		b = appendKV(b, "expMoney", "0", true)
	case matching.EventPosition:
		p := ev.Position
		b = appendKV(b, "event", ev.Action.String(), false)
		b = appendKV(b, "positionId", id(p.ID), true)
		b = appendKV(b, "marginMode", p.MarginMode.String(), true)
		b = appendKV(b, "positionMode", p.PositionMode.String(), true)
		b = appendKV(b, "side", posSideWire(p.Side), true)
		b = appendKV(b, "leverage", strconv.Itoa(p.Leverage), true)
		b = appendStr(b, "margin", p.Margin, true)
		b = appendISO(b, "ctime", p.Created)
		b = appendStr(b, "qty", p.Qty, true)
		b = appendStr(b, "entryValue", p.EntryValue, true)
		b = appendKV(b, "symbol", p.Symbol, true)
		b = appendStr(b, "realizedPNL", p.RealizedPnL, true)
		b = appendStr(b, "unrealizedPNL", p.UnrealizedPnL, true)
		b = appendStr(b, "funding", p.Funding, true)
		b = appendStr(b, "fee", p.Fee, true)
	case matching.EventOrder:
		o := ev.Order
		b = appendKV(b, "event", ev.Action.String(), false)
		b = appendKV(b, "orderId", id(o.ID), true)
		b = appendKV(b, "symbol", o.Symbol, true)
		b = appendKV(b, "positionType", o.MarginMode.String(), true)
		b = appendKV(b, "positionMode", o.PositionMode.String(), true)
		b = appendKV(b, "side", titleCase(o.Side.String()), true)
		b = appendKV(b, "type", titleCase(o.Type.String()), true)
		b = appendKV(b, "effect", o.TimeInForce.String(), true)
		b = appendStr(b, "qty", o.Qty, true)
		b = append(b, `,"reductionOnly":`...)
		b = strconv.AppendBool(b, o.ReduceOnly)
		b = appendStr(b, "price", o.Price, true)
		b = appendISO(b, "ctime", o.Created)
		b = appendISO(b, "mtime", o.Updated)
		b = appendKV(b, "leverage", strconv.Itoa(o.Leverage), true)
		b = appendKV(b, "orderStatus", orderStatusWire(o), true)
		b = appendStr(b, "fee", o.Fee, true)
		b = appendStr(b, "dealAmount", o.FilledQty, true)
		b = appendStr(b, "averagePrice", o.AvgPrice, true)
		b = appendKV(b, "clientId", o.ClientID, true)
		if o.TP.Set() {
			b = appendStr(b, "tpPrice", o.TP.Price, true)
			b = appendKV(b, "tpStopType", o.TP.StopType.String(), true)
			b = appendKV(b, "tpOrderType", orderTypeOrMarket(o.TP.OrderType), true)
			b = appendStr(b, "tpOrderPrice", o.TP.OrderPrice, true)
		}
	case matching.EventTPSL:
		t := ev.TPSL
		b = appendKV(b, "event", ev.Action.String(), false)
		b = appendKV(b, "positionId", id(t.PositionID), true)
		b = appendKV(b, "orderId", id(t.ID), true)
		b = appendKV(b, "symbol", t.Symbol, true)
		b = appendKV(b, "leverage", strconv.Itoa(t.Leverage), true)
		b = appendKV(b, "side", titleCase(t.Side.String()), true)
		b = appendKV(b, "positionMode", t.PositionMode.String(), true)
		b = appendKV(b, "status", t.Status.String(), true)
		b = appendISO(b, "ctime", t.Created)
		b = appendKV(b, "type", t.Kind.String(), true)
		if t.TP.Set() {
			b = appendStr(b, "tpQty", t.TP.Qty, true)
			b = appendKV(b, "tpStopType", stopTypeShort(t.TP.StopType), true)
			b = appendStr(b, "tpPrice", t.TP.Price, true)
			b = appendKV(b, "tpOrderType", orderTypeOrMarket(t.TP.OrderType), true)
			b = appendStr(b, "tpOrderPrice", t.TP.OrderPrice, true)
		}
		if t.SL.Set() {
			b = appendStr(b, "slQty", t.SL.Qty, true)
			b = appendKV(b, "slStopType", stopTypeShort(t.SL.StopType), true)
			b = appendStr(b, "slPrice", t.SL.Price, true)
			b = appendKV(b, "slOrderType", orderTypeOrMarket(t.SL.OrderType), true)
			b = appendStr(b, "slOrderPrice", t.SL.OrderPrice, true)
		}
	default:
		return nil // fills have no private channel; order updates carry them
	}
	return append(b, "}}"...)
}

func orderTypeOrMarket(t trading.OrderType) string {
	if t == trading.Limit {
		return "LIMIT"
	}
	return "MARKET"
}
