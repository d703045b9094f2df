package marketdata

import (
	"fmt"
	"io"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/instrument"
	"github.com/bitrader/bitrader/internal/trading"
)

// KlineSource is what Replay reads; *KlineReader satisfies it.
type KlineSource interface {
	Next() (trading.Kline, error)
}

// ReplayConfig shapes the events Replay synthesizes from each kline.
type ReplayConfig struct {
	Spec            instrument.Spec // zero: instrument.Default of the kline's symbol
	Depth           int             // book levels per side; default 20
	StepsPerLeg     int             // trade points per leg of the O→…→C path; default 3
	LevelQty        fixed.Value     // quantity at the best level; default 1000 lot steps
	FundingRate     fixed.Value     // constant funding rate on mark events; default 0.0001
	FundingInterval time.Duration   // default 8h
	DefaultInterval time.Duration   // for klines without an Interval; default 1m
}

// Replay turns klines into a deterministic event stream for a venue, so a
// kline file can drive the simulator's and the backtester's matching engine.
//
// For each kline it emits, at the open time, a mark price (mark = index =
// open). It then walks the price path
//
//	bullish or flat candle (close ≥ open): open → low → high → close
//	bearish candle (close < open):         open → high → low → close
//
// visiting the extreme opposite to the close first — the conservative
// assumption for stops and limits, as most backtesters make it. The path is
// cut into 3·StepsPerLeg+1 points spread evenly over the interval; at each
// point it emits a book whose touch is at the point's price, then a trade
// there: a buy at the ask when the price rose to it, a sell at the bid when
// it fell (the first point and flat steps take the candle's direction). The
// kline's volume is split evenly across the trades on the lot step; points
// whose share rounds to zero get a book but no trade.
type Replay struct {
	src    KlineSource
	cfg    ReplayConfig
	spec   instrument.Spec
	queue  []Event
	head   int
	err    error
	closer io.Closer
}

// NewReplay returns a replay of src.
func NewReplay(src KlineSource, cfg ReplayConfig) *Replay {
	if cfg.Depth <= 0 {
		cfg.Depth = DefaultTouchDepth
	}
	if cfg.StepsPerLeg <= 0 {
		cfg.StepsPerLeg = 3
	}
	if cfg.FundingRate == 0 {
		cfg.FundingRate = DefaultFundingRate
	}
	if cfg.FundingInterval <= 0 {
		cfg.FundingInterval = 8 * time.Hour
	}
	if cfg.DefaultInterval <= 0 {
		cfg.DefaultInterval = time.Minute
	}
	return &Replay{src: src, cfg: cfg, spec: cfg.Spec}
}

// OpenReplay replays a kline file, as `--market-data replay:FILE` needs.
func OpenReplay(path string, opt KlineOptions, cfg ReplayConfig) (*Replay, error) {
	kr, err := OpenKlines(path, opt)
	if err != nil {
		return nil, err
	}
	r := NewReplay(kr, cfg)
	r.closer = kr
	return r, nil
}

// Close closes the file opened by OpenReplay; it is a no-op otherwise.
func (r *Replay) Close() error {
	if r.closer == nil {
		return nil
	}
	return r.closer.Close()
}

// Next returns the next event, io.EOF after the last kline, or the kline
// source's error.
func (r *Replay) Next() (Event, error) {
	for r.head >= len(r.queue) {
		if r.err != nil {
			return Event{}, r.err
		}
		k, err := r.src.Next()
		if err != nil {
			if err != io.EOF {
				err = fmt.Errorf("replay: %w", err)
			}
			r.err = err
			return Event{}, err
		}
		r.queue, r.head = r.queue[:0], 0
		r.expand(k)
	}
	ev := r.queue[r.head]
	r.head++
	return ev, nil
}

func (r *Replay) expand(k trading.Kline) {
	spec := r.spec
	if spec.Symbol == "" && k.Symbol != "" {
		spec = instrument.Default(k.Symbol)
		r.spec = spec
	} else if spec.Symbol == "" {
		spec = instrument.Default("XXXUSDT")
	}
	interval := k.Interval
	if interval <= 0 {
		interval = r.cfg.DefaultInterval
	}
	o, h, l, c := spec.RoundPrice(k.Open), spec.RoundPrice(k.High), spec.RoundPrice(k.Low), spec.RoundPrice(k.Close)
	up := c >= o
	vertices := [4]fixed.Value{o, l, h, c}
	if !up {
		vertices = [4]fixed.Value{o, h, l, c}
	}
	fi := r.cfg.FundingInterval
	r.queue = append(r.queue, Event{Kind: KindMark, Mark: trading.MarkPrice{
		Symbol: k.Symbol, Mark: o, Index: o, FundingRate: r.cfg.FundingRate,
		NextFundingTime: k.OpenTime.Truncate(fi).Add(fi), Time: k.OpenTime,
	}})

	s := r.cfg.StepsPerLeg
	n := int64(3*s + 1)
	vol := spec.RoundQty(k.Volume)
	lot := int64(spec.LotStep())
	prev := o
	var given fixed.Value
	for j := range n {
		var p fixed.Value
		if j == 0 {
			p = o
		} else {
			leg, step := (j-1)/int64(s), (j-1)%int64(s)+1
			a, b := vertices[leg], vertices[leg+1]
			p = spec.RoundPrice(a + (b - a).MulInt(step).DivInt(int64(s)))
		}
		side := trading.Sell
		if p > prev || (p == prev && up) {
			side = trading.Buy
		}
		prev = p
		t := k.OpenTime.Add(time.Duration(int64(interval) * j / n)).Truncate(time.Millisecond)
		r.queue = append(r.queue, Event{Kind: KindBook, Book: r.book(spec, k.Symbol, p, side, t)})
		// Cumulative share on the lot step, so the shares add up to vol.
		cum := fixed.Value(int64(vol) / lot * (j + 1) / n * lot)
		if j == n-1 {
			cum = vol
		}
		if q := cum - given; q > 0 {
			given = cum
			r.queue = append(r.queue, Event{Kind: KindTrade, Trade: trading.Trade{Symbol: k.Symbol, Price: p, Qty: q, Side: side, Time: t}})
		}
	}
}

// book puts the touch at p: the ask for a buy, the bid for a sell.
func (r *Replay) book(spec instrument.Spec, symbol string, p fixed.Value, side trading.Side, t time.Time) trading.Book {
	qty := r.cfg.LevelQty
	if qty <= 0 {
		qty = DefaultTouchQty(spec)
	}
	return TouchBook(spec, symbol, p, side, t, r.cfg.Depth, qty)
}

// DefaultFundingRate is the funding rate per interval of replayed marks
// when the data carries none (none of the supported files does): 0.01%,
// Bitunix's usual base rate. The simulator's replays and the backtester
// use it.
const DefaultFundingRate = fixed.Value(10_000)

// DefaultTouchDepth is how many levels a side the books replayed around
// prints have, in the simulator's replays and in the backtester.
const DefaultTouchDepth = 20

// DefaultTouchQty is the quantity at such a book's touch: 1000 lot steps.
func DefaultTouchQty(spec instrument.Spec) fixed.Value { return spec.LotStep().MulInt(1000) }

// Touch is the best bid and ask of the book around a print at p: the
// touch is the ask for a buy print, the bid for a sell, one tick apart.
func Touch(spec instrument.Spec, p fixed.Value, side trading.Side) (bid, ask fixed.Value) {
	tick := spec.Tick()
	if side == trading.Sell {
		return p, p + tick
	}
	return p - tick, p
}

// TouchLevelQty is the quantity at level i (0: the touch) of a book with
// levelQty at its touch: 35% of it more each level.
func TouchLevelQty(spec instrument.Spec, levelQty fixed.Value, i int) fixed.Value {
	return spec.RoundQty(levelQty.MulInt(int64(100 + 35*i)).DivInt(100))
}

// TouchBook is a book of depth levels a side around a print at p (Touch),
// TouchLevelQty at each level. The simulator's trade replay and the
// backtester build the same ladder (parity: an order larger than the touch
// walks the same levels in both). The levels are freshly allocated.
func TouchBook(spec instrument.Spec, symbol string, p fixed.Value, side trading.Side, t time.Time, depth int, levelQty fixed.Value) trading.Book {
	tick := spec.Tick()
	bid, ask := Touch(spec, p, side)
	levels := make([]trading.Level, 2*depth)
	bids, asks := levels[:0:depth], levels[depth:depth]
	for i := range depth {
		q := TouchLevelQty(spec, levelQty, i)
		if b := bid - tick.MulInt(int64(i)); b > 0 {
			bids = append(bids, trading.Level{Price: b, Qty: q})
		}
		asks = append(asks, trading.Level{Price: ask + tick.MulInt(int64(i)), Qty: q})
	}
	return trading.Book{Symbol: symbol, Bids: bids, Asks: asks, Time: t}
}
