package marketdata

import (
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"math/rand/v2"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/instrument"
	"github.com/bitrader/bitrader/internal/trading"
)

// Regime is the volatility state of the synthetic market.
type Regime uint8

// Regimes, switched by a Markov chain.
const (
	Calm Regime = iota
	Normal
	Volatile
	numRegimes
)

func (r Regime) String() string {
	switch r {
	case Calm:
		return "calm"
	case Normal:
		return "normal"
	case Volatile:
		return "volatile"
	}
	return fmt.Sprintf("Regime(%d)", uint8(r))
}

// regimeParams shape one regime. Volatility and trade rate are multipliers
// of the configured normal-regime values.
type regimeParams struct {
	volMult      float64
	tradeMult    float64
	spreadTicks  int64         // minimum spread
	spreadExtraP float64       // chance of each extra tick of spread (geometric)
	meanDuration time.Duration // expected time spent in the regime
	next         [numRegimes]float64
}

// regimeTable is a function, not a package variable, so nothing global is
// mutable.
func regimeTable() [numRegimes]regimeParams {
	return [numRegimes]regimeParams{
		Calm:     {volMult: 0.5, tradeMult: 0.6, spreadTicks: 1, spreadExtraP: 0.2, meanDuration: 40 * time.Minute, next: [numRegimes]float64{0, 0.9, 0.1}},
		Normal:   {volMult: 1, tradeMult: 1, spreadTicks: 1, spreadExtraP: 0.5, meanDuration: 60 * time.Minute, next: [numRegimes]float64{0.6, 0, 0.4}},
		Volatile: {volMult: 2.5, tradeMult: 2.5, spreadTicks: 3, spreadExtraP: 0.75, meanDuration: 12 * time.Minute, next: [numRegimes]float64{0.2, 0.8, 0}},
	}
}

// GeneratorConfig configures a Generator. Zero fields take the defaults
// documented on each.
type GeneratorConfig struct {
	Symbol     string
	Spec       instrument.Spec // zero: instrument.Default(Symbol)
	StartPrice fixed.Value     // required, > 0
	Seed       uint64
	Start      time.Time     // simulated time of the first step
	End        time.Time     // zero: endless; otherwise Next returns io.EOF past End
	Step       time.Duration // book snapshot cadence; default 250ms
	Depth      int           // levels per side; default 20, at least 15 is realistic

	DailyVolatility float64       // stdev of daily log return in the normal regime; default 0.03
	TradeRate       float64       // mean trades per second in the normal regime; default 4
	TradeQty        fixed.Value   // scale (minimum) of the heavy-tailed trade size; default 100 lot steps
	LevelQty        fixed.Value   // typical quantity at the best level; default 100 × TradeQty
	JumpsPerDay     float64       // mean number of price jumps per day; default 4 (negative: none)
	MarkEvery       time.Duration // mark/index/funding cadence; default 1s
	FundingInterval time.Duration // default 8h
}

func (c *GeneratorConfig) applyDefaults() error {
	if c.Symbol == "" {
		return errors.New("generator: symbol is required")
	}
	if c.Spec.Symbol == "" {
		c.Spec = instrument.Default(c.Symbol)
	}
	if c.StartPrice <= 0 {
		return fmt.Errorf("generator %s: start price %s must be positive", c.Symbol, c.StartPrice)
	}
	if c.Step == 0 {
		c.Step = 250 * time.Millisecond
	}
	if c.Step < time.Millisecond {
		return fmt.Errorf("generator %s: step %s is below 1ms", c.Symbol, c.Step)
	}
	if c.Depth == 0 {
		c.Depth = 20
	}
	if c.Depth < 1 {
		return fmt.Errorf("generator %s: depth %d must be positive", c.Symbol, c.Depth)
	}
	if c.DailyVolatility == 0 {
		c.DailyVolatility = 0.03
	}
	if c.TradeRate == 0 {
		c.TradeRate = 4
	}
	if c.TradeRate < 0 || c.DailyVolatility < 0 {
		return fmt.Errorf("generator %s: negative trade rate or volatility", c.Symbol)
	}
	if c.TradeQty == 0 {
		c.TradeQty = c.Spec.LotStep().MulInt(100)
	}
	if c.LevelQty == 0 {
		c.LevelQty = c.TradeQty.MulInt(100)
	}
	if c.JumpsPerDay == 0 {
		c.JumpsPerDay = 4
	}
	if c.MarkEvery == 0 {
		c.MarkEvery = time.Second
	}
	if c.FundingInterval == 0 {
		c.FundingInterval = 8 * time.Hour
	}
	return nil
}

// Generator is a seeded synthetic market for one symbol: a random walk in
// ticks whose volatility, spread and trade rate follow a three-state Markov
// regime chain, with occasional jumps. It emits, per step, the trades that
// arrived during the step (a Poisson process, heavy-tailed sizes, taker side
// leaning with the move), then a book snapshot at the step's end, then a mark
// price when one is due. The same config and seed give the same stream on
// every run. Prices and quantities are integer ticks and lots; the few
// float64 draws (normal, exponential, Pareto) use the standard library's
// math, which on amd64 may pick an FMA code path by CPU, so a different
// machine could in principle differ by one tick in a rare draw; the sample
// test would show it.
type Generator struct {
	cfg    GeneratorConfig
	rng    *rand.Rand
	params [numRegimes]regimeParams

	tick     int64 // raw fixed.Value of one tick
	lot      int64 // raw fixed.Value of one lot step
	baseLots int64 // LevelQty in lots
	volStep  float64
	jumpProb float64

	now       time.Time // end of the last completed step
	mid       int64     // mid in ticks; the book is built around it
	spread    int64     // in ticks
	regime    Regime
	nextTrade time.Time
	nextMark  time.Time

	basis   float64 // (mid - index) / index
	premium float64 // EMA of basis, drives mark and funding
	funding float64

	queue []Event
	head  int
}

// NewGenerator validates cfg and returns a generator positioned at cfg.Start.
func NewGenerator(cfg GeneratorConfig) (*Generator, error) {
	if err := cfg.applyDefaults(); err != nil {
		return nil, err
	}
	g := &Generator{
		cfg:    cfg,
		rng:    rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		params: regimeTable(),
		tick:   int64(cfg.Spec.Tick()),
		lot:    int64(cfg.Spec.LotStep()),
		regime: Normal,
		now:    cfg.Start,
		spread: 1,
	}
	g.baseLots = max(int64(cfg.LevelQty)/g.lot, 1)
	g.mid = int64(cfg.Spec.RoundPrice(cfg.StartPrice)) / g.tick
	if g.mid < 100 {
		return nil, fmt.Errorf("generator %s: start price %s is under 100 ticks of %s", cfg.Symbol, cfg.StartPrice, cfg.Spec.Tick())
	}
	stepFrac := float64(cfg.Step) / float64(24*time.Hour)
	g.volStep = cfg.DailyVolatility * math.Sqrt(stepFrac)
	g.jumpProb = max(cfg.JumpsPerDay, 0) * stepFrac
	g.funding = 0.0001
	g.nextTrade = g.now.Add(g.interArrival())
	g.nextMark = g.now
	return g, nil
}

// Config returns the effective configuration, defaults applied.
func (g *Generator) Config() GeneratorConfig { return g.cfg }

// Regime returns the regime of the most recent step.
func (g *Generator) Regime() Regime { return g.regime }

// Next returns the next event. It returns io.EOF once the simulated time
// passes cfg.End; with no End it never fails.
func (g *Generator) Next() (Event, error) {
	for g.head >= len(g.queue) {
		if !g.cfg.End.IsZero() && !g.now.Before(g.cfg.End) {
			return Event{}, io.EOF
		}
		g.queue, g.head = g.queue[:0], 0
		g.step()
	}
	ev := g.queue[g.head]
	g.head++
	return ev, nil
}

// All returns the stream as an iterator, ending at cfg.End.
func (g *Generator) All() iter.Seq[Event] {
	return func(yield func(Event) bool) {
		for {
			ev, err := g.Next()
			if err != nil || !yield(ev) {
				return
			}
		}
	}
}

// price converts ticks to a price, on the tick grid by construction.
func (g *Generator) price(ticks int64) fixed.Value {
	return fixed.Value(ticks * g.tick)
}

// interArrival draws the wait until the next trade at the current regime's rate.
func (g *Generator) interArrival() time.Duration {
	rate := g.cfg.TradeRate * g.params[g.regime].tradeMult
	if rate <= 0 {
		return 1<<62 - 1
	}
	return time.Duration(g.rng.ExpFloat64() / rate * float64(time.Second))
}

// step advances one Step and queues its events. Float arithmetic is written
// with explicit float64 conversions around products so the compiler cannot
// fuse them into FMA instructions, which would change results across
// architectures.
func (g *Generator) step() {
	start := g.now
	end := start.Add(g.cfg.Step)
	p := &g.params[g.regime]

	// Regime switch: leave the regime with probability step/meanDuration.
	if g.rng.Float64() < float64(g.cfg.Step)/float64(p.meanDuration) {
		u := g.rng.Float64()
		for r := Regime(0); r < numRegimes; r++ {
			if u < p.next[r] || r == numRegimes-1 {
				g.regime = r
				break
			}
			u -= p.next[r]
		}
		p = &g.params[g.regime]
	}

	// Price move in ticks, plus the occasional jump.
	sigma := float64(g.mid) * float64(g.volStep*p.volMult)
	move := int64(math.Round(float64(g.rng.NormFloat64() * sigma)))
	jumpP := g.jumpProb
	if g.regime == Volatile {
		jumpP *= 2
	}
	if g.rng.Float64() < jumpP {
		size := float64(0.002) + float64(g.rng.ExpFloat64()*0.003)
		j := max(int64(float64(g.mid)*size), 1)
		if g.rng.IntN(2) == 0 {
			j = -j
		}
		move += j
	}
	newMid := max(g.mid+move, 100)
	realMove := newMid - g.mid

	// Taker side leans with the move: P(buy) = 0.5 + 0.4·tanh(move/σ).
	pBuy := 0.5 + float64(0.4*math.Tanh(float64(realMove)/(sigma+1)))

	half := g.spread / 2
	for !g.nextTrade.After(end) {
		frac := float64(g.nextTrade.Sub(start)) / float64(g.cfg.Step)
		m := g.mid + int64(math.Round(float64(frac*float64(realMove))))
		bid := m - half
		tr := trading.Trade{Symbol: g.cfg.Symbol, Time: g.nextTrade.Truncate(time.Millisecond), Qty: g.tradeQty()}
		if g.rng.Float64() < pBuy {
			tr.Side, tr.Price = trading.Buy, g.price(bid+g.spread)
		} else {
			tr.Side, tr.Price = trading.Sell, g.price(bid)
		}
		g.queue = append(g.queue, Event{Kind: KindTrade, Trade: tr})
		g.nextTrade = g.nextTrade.Add(g.interArrival())
	}

	g.mid = newMid
	g.spread = p.spreadTicks
	for g.spread < 50 && g.rng.Float64() < p.spreadExtraP {
		g.spread++
	}
	g.now = end
	g.queue = append(g.queue, Event{Kind: KindBook, Book: g.book(end)})

	if !g.nextMark.After(end) {
		g.queue = append(g.queue, Event{Kind: KindMark, Mark: g.mark(end)})
		for !g.nextMark.After(end) {
			g.nextMark = g.nextMark.Add(g.cfg.MarkEvery)
		}
	}
}

// tradeQty draws a Pareto(α=1.6) size scaled by TradeQty, capped at 500×.
func (g *Generator) tradeQty() fixed.Value {
	u := 1 - g.rng.Float64() // (0, 1]
	x := min(math.Pow(u, -1/1.6), 500)
	q := g.cfg.Spec.RoundQty(fixed.FromFloat64(float64(g.cfg.TradeQty.Float64() * x)))
	return max(q, g.cfg.Spec.LotStep())
}

// book builds a snapshot around the current mid: consecutive ticks with the
// odd one-or-two-tick hole, quantities growing away from the top with
// -60%..+60% noise and the occasional 4× wall. Quantities are built as whole
// lots and prices as whole ticks, so they are on the exchange grid by
// construction; one random word per level keeps it cheap.
func (g *Generator) book(t time.Time) trading.Book {
	n := g.cfg.Depth
	levels := make([]trading.Level, 2*n)
	bids, asks := levels[:n:n], levels[n:]
	bid := g.mid - g.spread/2
	ask := bid + g.spread
	nb := n // bids stop early rather than reach zero on a deep book at a tiny price
	for i := range n {
		x := g.rng.Uint64()
		growth := g.baseLots * (100 + 35*int64(i))
		bidNoise := 40 + int64(x&0xffff)%121 // percent
		askNoise := 40 + int64(x>>16&0xffff)%121
		if x>>32&31 == 0 {
			bidNoise *= 4
		}
		if x>>37&31 == 0 {
			askNoise *= 4
		}
		asks[i] = trading.Level{Price: g.price(ask), Qty: g.lots(growth * askNoise / 10000)}
		if bid < 1 && nb == n {
			nb = i
		}
		if i < nb {
			bids[i] = trading.Level{Price: g.price(bid), Qty: g.lots(growth * bidNoise / 10000)}
		}
		bid -= 1 + int64(x>>42&7/7)*int64(1+x>>45&1) // a hole one time in eight
		ask += 1 + int64(x>>46&7/7)*int64(1+x>>49&1)
	}
	bids = bids[:nb]
	return trading.Book{Symbol: g.cfg.Symbol, Bids: bids, Asks: asks, Time: t}
}

// lots turns a count of lot steps into a quantity of at least one lot.
func (g *Generator) lots(n int64) fixed.Value {
	return fixed.Value(max(n, 1) * g.lot)
}

// mark updates the basis (an AR(1) around zero, sd ≈ 1bp), its EMA (the
// premium) and the funding rate, which drifts toward 0.01% + 3×premium and
// is clamped to ±0.75%.
func (g *Generator) mark(t time.Time) trading.MarkPrice {
	g.basis = float64(g.basis*0.98) + float64(g.rng.NormFloat64()*0.00002)
	g.premium = float64(g.premium*0.99) + float64(g.basis*0.01)
	target := 0.0001 + float64(3*g.premium)
	g.funding = float64(g.funding*0.995) + float64(target*0.005)
	g.funding = min(max(g.funding, -0.0075), 0.0075)

	index := g.mid - int64(math.Round(float64(float64(g.mid)*g.basis)))
	mark := index + int64(math.Round(float64(float64(index)*g.premium)))
	fi := g.cfg.FundingInterval
	return trading.MarkPrice{
		Symbol:          g.cfg.Symbol,
		Mark:            g.price(mark),
		Index:           g.price(index),
		FundingRate:     fixed.FromFloat64(g.funding).Round(8),
		NextFundingTime: t.Truncate(fi).Add(fi),
		Time:            t,
	}
}
