// Package market keeps per-symbol market state built from feed events:
// book top and depth, last trade, rolling trade statistics, candles built
// from trades, mark/index price and funding, and staleness per stream.
//
// It is on the tick path: updates copy into storage owned by the state and
// allocate nothing once warmed up. It does no I/O and reads no clock; every
// update takes the local receive time, which staleness is measured against.
package market

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/trading"
)

// Stream names one market-data stream, for staleness tracking.
type Stream uint8

// Streams.
const (
	StreamBook Stream = iota
	StreamTrade
	StreamMark
	StreamKline
	numStreams
)

func (s Stream) String() string {
	switch s {
	case StreamBook:
		return "book"
	case StreamTrade:
		return "trade"
	case StreamMark:
		return "mark"
	case StreamKline:
		return "kline"
	}
	return fmt.Sprintf("Stream(%d)", uint8(s))
}

// Config shapes the state kept per symbol.
type Config struct {
	// DepthLevels is how many book levels per side are kept (>= 1).
	DepthLevels int
	// StatsWindow is the rolling trade-statistics window (> 0).
	StatsWindow time.Duration
	// StatsMaxTrades caps the trades held in the statistics window (>= 1).
	StatsMaxTrades int
	// CandleIntervals are the intervals candles are built at from trades.
	CandleIntervals []time.Duration
}

// DefaultConfig keeps 15 levels, 60 s of stats and 1m candles.
func DefaultConfig() Config {
	return Config{DepthLevels: 15, StatsWindow: time.Minute, StatsMaxTrades: 4096, CandleIntervals: []time.Duration{time.Minute}}
}

// Validate reports the first bad field.
func (c Config) Validate() error {
	if c.DepthLevels < 1 {
		return fmt.Errorf("market depthLevels %d: must be >= 1", c.DepthLevels)
	}
	if c.StatsWindow <= 0 {
		return fmt.Errorf("market statsWindow %s: must be > 0", c.StatsWindow)
	}
	if c.StatsMaxTrades < 1 {
		return fmt.Errorf("market statsMaxTrades %d: must be >= 1", c.StatsMaxTrades)
	}
	for _, iv := range c.CandleIntervals {
		if iv < time.Second {
			return fmt.Errorf("market candle interval %s: must be >= 1s", iv)
		}
	}
	return nil
}

// Market holds the state of every symbol seen.
type Market struct {
	cfg     Config
	symbols map[string]*Symbol
}

// New returns an empty Market.
func New(cfg Config) (*Market, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.CandleIntervals = slices.Clone(cfg.CandleIntervals)
	return &Market{cfg: cfg, symbols: make(map[string]*Symbol)}, nil
}

// Symbol returns the state of symbol, creating it on first use.
func (m *Market) Symbol(symbol string) *Symbol {
	if s, ok := m.symbols[symbol]; ok {
		return s
	}
	s := NewSymbol(symbol, m.cfg)
	m.symbols[symbol] = s
	return s
}

// Lookup returns the state of symbol if it has been seen.
func (m *Market) Lookup(symbol string) (*Symbol, bool) {
	s, ok := m.symbols[symbol]
	return s, ok
}

// OnBook applies a book snapshot.
func (m *Market) OnBook(now time.Time, b *trading.Book) { m.Symbol(b.Symbol).OnBook(now, b) }

// OnTrade applies a trade and returns the candles it closed (see Symbol.OnTrade).
func (m *Market) OnTrade(now time.Time, t trading.Trade) []trading.Kline {
	return m.Symbol(t.Symbol).OnTrade(now, t)
}

// OnMark applies a mark-price update.
func (m *Market) OnMark(now time.Time, p trading.MarkPrice) { m.Symbol(p.Symbol).OnMark(now, p) }

// OnKline applies a closed kline (see Symbol.OnKline).
func (m *Market) OnKline(now time.Time, k trading.Kline) error {
	return m.Symbol(k.Symbol).OnKline(now, k)
}

// Symbol is the market state of one symbol. Read methods return values or
// slices owned by the Symbol, valid until its next update.
type Symbol struct {
	symbol string
	depth  int

	bids, asks []trading.Level
	bookTime   time.Time // exchange time of the book

	lastTrade trading.Trade
	hasTrade  bool
	stats     TradeWindow

	candles []candleBuilder
	closed  []trading.Kline // output buffer of OnTrade/Advance

	mark    trading.MarkPrice
	hasMark bool

	updated [numStreams]time.Time // local receive time per stream
}

type candleBuilder struct {
	interval time.Duration
	cur      trading.Kline
	open     bool
	last     trading.Kline // last closed candle
	hasLast  bool
}

// NewSymbol returns empty state for one symbol.
func NewSymbol(symbol string, cfg Config) *Symbol {
	s := &Symbol{
		symbol: symbol,
		depth:  max(cfg.DepthLevels, 1),
		bids:   make([]trading.Level, 0, max(cfg.DepthLevels, 1)),
		asks:   make([]trading.Level, 0, max(cfg.DepthLevels, 1)),
		closed: make([]trading.Kline, 0, len(cfg.CandleIntervals)),
	}
	s.stats.Init(cfg.StatsWindow, cfg.StatsMaxTrades)
	for _, iv := range cfg.CandleIntervals {
		s.candles = append(s.candles, candleBuilder{interval: iv})
	}
	return s
}

// Name returns the symbol.
func (s *Symbol) Name() string { return s.symbol }

// OnBook copies the top DepthLevels of each side of b; b may be reused by
// the caller afterwards.
func (s *Symbol) OnBook(now time.Time, b *trading.Book) {
	s.bids = append(s.bids[:0], b.Bids[:min(len(b.Bids), s.depth)]...)
	s.asks = append(s.asks[:0], b.Asks[:min(len(b.Asks), s.depth)]...)
	s.bookTime = b.Time
	s.updated[StreamBook] = now
}

// OnTrade records a trade, updates the rolling statistics and the candles,
// and returns the candles this trade closed (a trade in a later interval
// closes the open one). Intervals without trades produce no candle. The
// returned slice is owned by s and valid until its next update.
func (s *Symbol) OnTrade(now time.Time, t trading.Trade) []trading.Kline {
	s.lastTrade = t
	s.hasTrade = true
	s.stats.Add(t)
	s.updated[StreamTrade] = now
	s.closed = s.closed[:0]
	for i := range s.candles {
		c := &s.candles[i]
		if d := t.Time.Sub(c.cur.OpenTime); c.open && d >= 0 && d < c.interval {
			// Inside the open candle (its start is an interval boundary, so
			// Truncate would give it back): most trades, without Truncate.
			c.add(t)
			continue
		}
		start := t.Time.Truncate(c.interval)
		if c.open && start.After(c.cur.OpenTime) {
			s.closeCandle(c)
		}
		if !c.open {
			if c.hasLast && start.Before(c.last.OpenTime.Add(c.interval)) {
				continue // late trade for an interval already closed
			}
			c.cur = trading.Kline{Symbol: s.symbol, OpenTime: start, Interval: c.interval,
				Open: t.Price, High: t.Price, Low: t.Price, Close: t.Price, Volume: t.Qty}
			c.open = true
			continue
		}
		if !start.Equal(c.cur.OpenTime) {
			continue // late trade for an earlier interval: ignored
		}
		c.add(t)
	}
	return s.closed
}

// add folds a trade into the open candle.
func (c *candleBuilder) add(t trading.Trade) {
	c.cur.High = c.cur.High.Max(t.Price)
	c.cur.Low = c.cur.Low.Min(t.Price)
	c.cur.Close = t.Price
	c.cur.Volume += t.Qty
}

func (s *Symbol) closeCandle(c *candleBuilder) {
	c.last, c.hasLast, c.open = c.cur, true, false
	s.closed = append(s.closed, c.cur)
}

// Advance closes candles whose interval ended at or before t (exchange
// time), for quiet markets where no later trade arrives to close them.
// The returned slice is owned by s and valid until its next update.
func (s *Symbol) Advance(t time.Time) []trading.Kline {
	s.closed = s.closed[:0]
	for i := range s.candles {
		c := &s.candles[i]
		if c.open && !t.Before(c.cur.OpenTime.Add(c.interval)) {
			s.closeCandle(c)
		}
	}
	return s.closed
}

// ErrKlineOrder is returned by OnKline for a kline not after the last one.
var ErrKlineOrder = errors.New("kline not after the previous one")

// OnKline accepts a closed kline directly (backtests fed from kline files).
// It becomes the last closed candle of its interval; the interval need not
// be one of the configured ones. The kline's close also stands in as the
// last trade price when no trade was seen, so Last works on kline-only data.
func (s *Symbol) OnKline(now time.Time, k trading.Kline) error {
	c := s.builder(k.Interval)
	if c == nil {
		s.candles = append(s.candles, candleBuilder{interval: k.Interval})
		c = &s.candles[len(s.candles)-1]
	}
	if c.hasLast && !k.OpenTime.After(c.last.OpenTime) {
		return fmt.Errorf("%s %s kline at %s (last %s): %w", s.symbol, k.Interval, k.OpenTime, c.last.OpenTime, ErrKlineOrder)
	}
	c.last, c.hasLast, c.open = k, true, false
	if !s.hasTrade || k.OpenTime.Add(k.Interval).After(s.lastTrade.Time) {
		s.lastTrade = trading.Trade{Symbol: s.symbol, Price: k.Close, Time: k.OpenTime.Add(k.Interval)}
	}
	s.updated[StreamKline] = now
	return nil
}

// AggregateKline folds a closed kline into the candles of the configured
// intervals that are whole multiples of its own, and returns those it
// completed (the kline ends their interval): 1-minute klines make 5-minute
// candles closing with the fifth minute, as candles built from the same
// trades would at the next trade. OnKline must have accepted k. The
// returned slice is owned by s and valid until its next update.
func (s *Symbol) AggregateKline(k trading.Kline) []trading.Kline {
	s.closed = s.closed[:0]
	if k.Interval <= 0 {
		return s.closed
	}
	end := k.OpenTime.Add(k.Interval)
	for i := range s.candles {
		c := &s.candles[i]
		if c.interval <= k.Interval || c.interval%k.Interval != 0 {
			continue
		}
		start := k.OpenTime.Truncate(c.interval)
		if c.open && start.After(c.cur.OpenTime) {
			s.closeCandle(c) // a gap left it unfinished
		}
		if !c.open {
			if c.hasLast && start.Before(c.last.OpenTime.Add(c.interval)) {
				continue
			}
			c.cur = trading.Kline{Symbol: s.symbol, OpenTime: start, Interval: c.interval,
				Open: k.Open, High: k.High, Low: k.Low, Close: k.Close, Volume: k.Volume}
			c.open = true
		} else {
			c.cur.High = c.cur.High.Max(k.High)
			c.cur.Low = c.cur.Low.Min(k.Low)
			c.cur.Close = k.Close
			c.cur.Volume += k.Volume
		}
		if !end.Before(start.Add(c.interval)) {
			s.closeCandle(c)
		}
	}
	return s.closed
}

func (s *Symbol) builder(iv time.Duration) *candleBuilder {
	for i := range s.candles {
		if s.candles[i].interval == iv {
			return &s.candles[i]
		}
	}
	return nil
}

// LastCandle returns the last closed candle at interval.
func (s *Symbol) LastCandle(interval time.Duration) (trading.Kline, bool) {
	if c := s.builder(interval); c != nil && c.hasLast {
		return c.last, true
	}
	return trading.Kline{}, false
}

// OpenCandle returns the candle being built at interval.
func (s *Symbol) OpenCandle(interval time.Duration) (trading.Kline, bool) {
	if c := s.builder(interval); c != nil && c.open {
		return c.cur, true
	}
	return trading.Kline{}, false
}

// OnMark records mark/index price and funding.
func (s *Symbol) OnMark(now time.Time, p trading.MarkPrice) {
	s.mark = p
	s.hasMark = true
	s.updated[StreamMark] = now
}

// Bids and Asks return the kept depth, best first. Owned by s.
func (s *Symbol) Bids() []trading.Level { return s.bids }
func (s *Symbol) Asks() []trading.Level { return s.asks }

// BookTime is the exchange time of the last book.
func (s *Symbol) BookTime() time.Time { return s.bookTime }

// BestBid and BestAsk return the top of book, ok false when that side is empty.
func (s *Symbol) BestBid() (trading.Level, bool) {
	if len(s.bids) == 0 {
		return trading.Level{}, false
	}
	return s.bids[0], true
}

func (s *Symbol) BestAsk() (trading.Level, bool) {
	if len(s.asks) == 0 {
		return trading.Level{}, false
	}
	return s.asks[0], true
}

// Mid is (bestBid+bestAsk)/2, ok false unless both sides exist.
func (s *Symbol) Mid() (fixed.Value, bool) {
	if len(s.bids) == 0 || len(s.asks) == 0 {
		return 0, false
	}
	return (s.bids[0].Price + s.asks[0].Price).DivInt(2), true
}

// Spread is bestAsk-bestBid, ok false unless both sides exist.
func (s *Symbol) Spread() (fixed.Value, bool) {
	if len(s.bids) == 0 || len(s.asks) == 0 {
		return 0, false
	}
	return s.asks[0].Price - s.bids[0].Price, true
}

// BookImbalance is (bidQty-askQty)/(bidQty+askQty) over the top n levels
// of each side, in [-1, 1]; ok false when the book is empty.
func (s *Symbol) BookImbalance(n int) (float64, bool) {
	var bq, aq fixed.Value
	for i := 0; i < n && i < len(s.bids); i++ {
		bq += s.bids[i].Qty
	}
	for i := 0; i < n && i < len(s.asks); i++ {
		aq += s.asks[i].Qty
	}
	if bq+aq <= 0 {
		return 0, false
	}
	return float64(bq-aq) / float64(bq+aq), true
}

// LastTrade returns the last trade, ok false before any trade (or kline).
func (s *Symbol) LastTrade() (trading.Trade, bool) {
	return s.lastTrade, s.hasTrade || s.lastTrade.Price != 0
}

// Last returns the best current price: last trade, else mid, else mark.
func (s *Symbol) Last() (fixed.Value, bool) {
	if s.lastTrade.Price > 0 {
		return s.lastTrade.Price, true
	}
	if m, ok := s.Mid(); ok {
		return m, true
	}
	if s.hasMark && s.mark.Mark > 0 {
		return s.mark.Mark, true
	}
	return 0, false
}

// Stats returns the rolling trade statistics window.
func (s *Symbol) Stats() *TradeWindow { return &s.stats }

// Mark returns the last mark/index/funding update.
func (s *Symbol) Mark() (trading.MarkPrice, bool) { return s.mark, s.hasMark }

// LastUpdate returns the local receive time of the stream's last update;
// zero if never updated.
func (s *Symbol) LastUpdate(st Stream) time.Time {
	if st >= numStreams {
		return time.Time{}
	}
	return s.updated[st]
}

// Freshest returns the latest receive time over all streams.
func (s *Symbol) Freshest() time.Time {
	var t time.Time
	for _, u := range s.updated {
		if u.After(t) {
			t = u
		}
	}
	return t
}

// Stale reports whether the stream has not updated within maxAge of now:
// never updated, or now-last >= maxAge (the threshold itself is stale).
func (s *Symbol) Stale(st Stream, now time.Time, maxAge time.Duration) bool {
	u := s.LastUpdate(st)
	return u.IsZero() || now.Sub(u) >= maxAge
}
