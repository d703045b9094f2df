// Package backtest replays history through the very pipeline that trades
// live — market state, strategy, risk gate and order manager (engine.Core)
// — with the local venue on bitrader's matching engine standing in for the
// exchange, and reports the result (report.go, html.go). It also runs
// parameter sweeps (sweep.go) and downloads klines (fetch.go).
//
// Data is streamed: memory does not grow with the length of the dataset,
// only with trading activity (the trade and fill lists).
package backtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"github.com/bitrader/bitrader/internal/config"
	"github.com/bitrader/bitrader/internal/engine"
	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/instrument"
	"github.com/bitrader/bitrader/internal/market"
	"github.com/bitrader/bitrader/internal/marketdata"
	"github.com/bitrader/bitrader/internal/matching"
	"github.com/bitrader/bitrader/internal/ordermanager"
	"github.com/bitrader/bitrader/internal/risk"
	"github.com/bitrader/bitrader/internal/strategy"
	"github.com/bitrader/bitrader/internal/trading"
	"github.com/bitrader/bitrader/internal/venue/local"
)

// DefaultFundingRate is the funding rate per interval used when the data
// carries none: marketdata.DefaultFundingRate, as the simulator replays.
const DefaultFundingRate = marketdata.DefaultFundingRate

// bookLevels is the depth of the synthetic books built from klines and
// trades.
const bookLevels = marketdata.DefaultTouchDepth

// backtestHistory is the matching engine's history limit in backtests.
const backtestHistory = 256

// Options configure one backtest.
type Options struct {
	// Config supplies the strategy (strategy.*), sizing and leverage
	// (trading.*), risk limits (risk.*), fees and funding interval (sim.*),
	// exactly as `bitrader run` reads them.
	Config config.Config
	// Data is the CSV file; Format says how to read it (auto-detected by
	// default).
	Data   string
	Format marketdata.Format
	// From and To, if set, keep only data in [From, To).
	From, To time.Time
	// Latency delays every order between the decision and the matching
	// engine, in market time.
	Latency time.Duration
	// Balance is the starting balance; zero means sim.startBalance.
	Balance fixed.Value
	// FundingRate per funding interval; zero means DefaultFundingRate.
	FundingRate fixed.Value
	// FillModel says how klines become market events (default
	// FillOHLCPath: four prints a kline).
	FillModel FillModel
	// Period is the return sampling period for Sharpe/Sortino (default 1h).
	Period time.Duration
	// Strategy, if set, replaces the configured one (tests: scripted).
	Strategy strategy.Strategy
	// Params are shown in the report (e.g. the --set and --grid values).
	Params map[string]string
	// Progress, if set, is called now and then with bytes read and the
	// file size.
	Progress func(done, total int64)

	// noShortcuts turns off the work a backtest skips because it cannot
	// change the result (market data held back from an idle matching
	// engine, a held position's marks in one call, the flat account's
	// equity not read again): tests compare both ways.
	noShortcuts bool
}

// KlineSource yields klines in time order; *marketdata.KlineReader is one.
type KlineSource interface {
	Next() (trading.Kline, error)
}

// TradeSource yields public trades in time order; *marketdata.TradeReader
// is one.
type TradeSource interface {
	Next() (trading.Trade, error)
}

// Run backtests opt.Data.
func Run(ctx context.Context, opt Options) (*Report, error) {
	f, err := os.Open(opt.Data)
	if err != nil {
		return nil, fmt.Errorf("backtest: %w", err)
	}
	defer f.Close()
	var size int64
	if st, err := f.Stat(); err == nil {
		size = st.Size()
	}
	cr := &countingReader{r: f, total: size, progress: opt.Progress}
	br := bufio.NewReaderSize(cr, 256<<10)
	format := opt.Format
	if format == marketdata.FormatAuto {
		if format, err = marketdata.DetectReader(br); err != nil {
			return nil, fmt.Errorf("backtest %s: %w", opt.Data, err)
		}
	}
	symbol := marketdata.SymbolFromFileName(opt.Data)
	if symbol == "" && len(opt.Config.Trading.Symbols) > 0 {
		symbol = opt.Config.Trading.Symbols[0]
	}
	var rep *Report
	if format == marketdata.FormatTrades {
		tr := marketdata.NewTradeReader(br, marketdata.TradeOptions{File: opt.Data, Symbol: symbol})
		rep, err = RunTrades(ctx, opt, symbol, tr)
	} else {
		kr := marketdata.NewKlineReader(br, marketdata.KlineOptions{File: opt.Data, Symbol: symbol, Format: format})
		rep, err = RunKlines(ctx, opt, symbol, kr)
	}
	if rep != nil {
		rep.Format = format.String()
	}
	if err == nil && opt.Progress != nil {
		opt.Progress(size, size)
	}
	return rep, err
}

type countingReader struct {
	r        io.Reader
	n, total int64
	last     int64
	progress func(done, total int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.progress != nil && c.n-c.last >= 1<<20 {
		c.last = c.n
		c.progress(c.n, c.total)
	}
	return n, err
}

// runner is one backtest in progress.
type runner struct {
	ctx    context.Context
	opt    Options
	symbol string
	spec   instrument.Spec
	core   *engine.Core
	store  *engine.MemStore
	venue  *delayVenue
	rec    *Recorder
	rep    *Report
	obs    *observer

	fundingIv   time.Duration
	fundingRate fixed.Value
	started     bool
	lastT       time.Time
	obsBucket   int64
	lastMarkSec int64
	liqSeen     uint64

	bids, asks []trading.Level
	book       trading.Book
	// Precomputed ladder shape: level i is tick*i from the touch; the
	// trade books' sizes grow 35% a level from 1000 lots.
	tickSteps []fixed.Value
	growQty   []fixed.Value
	klines    int

	// FillCandle: the kline whose candle is delivered at the next open.
	prev    trading.Kline
	hasPrev bool
	lazy    lazyBook

	nextFunding   time.Time // matching.NextFunding(lastT), see pre
	nextFundingOK bool

	// The last equity observe took from the venue (see flatEquity).
	lastEquity  fixed.Value
	lastChanges uint64
	lastFlat    bool
}

// observer counts what the risk gate and the order manager did and feeds
// the order manager's fills (the same ones its ledger books) to the
// recorder.
type observer struct {
	engine.NopObserver
	rec      *Recorder
	rep      *Report
	breakers map[string]bool
}

func (o *observer) Decision(_ string, v risk.Verdict, _ risk.Reason) {
	switch v {
	case risk.Approve:
		o.rep.Risk.Approved++
	case risk.Trim:
		o.rep.Risk.Trimmed++
	default:
		o.rep.Risk.Refused++
	}
}

func (o *observer) Breakers(bs []risk.BreakerStatus) {
	for _, b := range bs {
		if b.Tripped {
			o.breakers[b.Name] = true
		}
	}
}

// omObserver is the order manager's side of observer.
type omObserver struct {
	ordermanager.NopObserver
	*observer
}

func (o omObserver) OrderSubmitted(_ ordermanager.Order, outcome string) {
	o.rep.Orders.Submitted++
	if outcome == ordermanager.OutcomeRejected {
		o.rep.Orders.Rejected++
	}
}

func (o omObserver) OrderFilled(f trading.Fill) {
	o.rec.OnFill(Fill{Time: f.Time.UTC(), ClientID: f.ClientID, Price: f.Price, Qty: f.Qty, Fee: f.Fee, Maker: f.Maker}, f.Side, false)
}

func newRunner(ctx context.Context, opt Options, symbol string) (*runner, error) {
	cfg := opt.Config
	if symbol == "" {
		return nil, errors.New("backtest: no symbol (name the file like BTCUSDT-1m.csv or set trading.symbols)")
	}
	bal := opt.Balance
	if bal <= 0 {
		bal = cfg.Sim.StartBalance
	}
	if bal <= 0 {
		return nil, fmt.Errorf("backtest: starting balance %s must be positive", bal)
	}
	strat := opt.Strategy
	var err error
	if strat == nil {
		lev := fixed.FromInt(int64(max(1, cfg.Trading.Leverage)))
		strat, err = strategy.New(cfg.Strategy.Name, symbol, strategy.Sizing{BaseSizeRatio: cfg.Trading.BaseSizeRatio, Leverage: lev}, cfg.Strategy.StrategyParams)
		if err != nil {
			return nil, fmt.Errorf("backtest: %w", err)
		}
	}
	spec := instrument.Default(symbol)
	r := &runner{ctx: ctx, opt: opt, symbol: symbol, spec: spec,
		fundingIv: cfg.Sim.FundingInterval, fundingRate: opt.FundingRate,
		bids: make([]trading.Level, bookLevels), asks: make([]trading.Level, bookLevels)}
	if r.fundingRate == 0 {
		r.fundingRate = DefaultFundingRate
	}
	r.tickSteps = make([]fixed.Value, bookLevels)
	r.growQty = make([]fixed.Value, bookLevels)
	for i := range bookLevels {
		r.tickSteps[i] = spec.Tick().MulInt(int64(i))
		r.growQty[i] = marketdata.TouchLevelQty(spec, marketdata.DefaultTouchQty(spec), i)
	}
	r.rec = NewRecorder(bal, opt.Period)
	r.rep = &Report{Strategy: strat.Name(), Symbol: symbol, Data: opt.Data, Params: opt.Params, Latency: opt.Latency.String()}
	if opt.FillModel != FillOHLCPath {
		r.rep.FillModel = opt.FillModel.String()
	}
	r.obs = &observer{rec: r.rec, rep: r.rep, breakers: map[string]bool{}}

	// The engine's history serves liquidated() (fills since the last
	// kline) and the order manager's lookups of orders it just saw close:
	// a short history is plenty, and a long one only costs memory.
	lv, err := local.New(local.Config{Account: "backtest", Balance: bal, Specs: []instrument.Spec{spec},
		MakerFee: cfg.Sim.MakerFee, TakerFee: cfg.Sim.TakerFee, Leverage: cfg.Trading.Leverage, MarginMode: cfg.Trading.MarginMode,
		HistoryLimit: backtestHistory})
	if err != nil {
		return nil, fmt.Errorf("backtest: %w", err)
	}
	r.venue = newDelayVenue(lv, opt.Latency)
	r.venue.lazyBook = r.buildLazyBook
	lv.SetSinks(r.venue.sink, func(sym string, amount fixed.Value) {
		r.rec.OnFunding(lv.Now().UTC(), amount)
		r.core.OnFunding(ctx, lv.Now(), sym, amount)
	})
	mcfg := market.DefaultConfig()
	mcfg.DepthLevels = bookLevels
	if cfg.Strategy.Name == strategy.NameTrend && opt.Strategy == nil {
		// The trend strategy reads candles of its interval only; building
		// others would be work nobody looks at (there is no dashboard).
		mcfg.CandleIntervals = []time.Duration{cfg.Strategy.Trend.Interval}
	}
	prefix := cfg.Trading.ClientIDPrefix
	if prefix == "" {
		prefix = "bt"
	}
	r.store = engine.NewMemStore()
	r.core, err = engine.NewCore(engine.CoreConfig{
		Strategies: map[string]strategy.Strategy{symbol: strat},
		Specs:      map[string]instrument.Spec{symbol: spec},
		Limits:     cfg.Risk,
		Market:     mcfg,
		Venue:      r.venue,
		Store:      r.store,
		// The ledger snapshot is only written at Reconcile/Flush: the store
		// is memory, and the report comes from the venue and the fills.
		Orders: ordermanager.Config{Prefix: prefix, Epoch: 1, StartBalance: bal, Observer: omObserver{observer: r.obs},
			LedgerSnapshotEvery: -1},
		Observer: r.obs,
	})
	if err != nil {
		return nil, fmt.Errorf("backtest: %w", err)
	}
	r.venue.deliver = func(rep ordermanager.Report) { r.core.OnOrderReport(ctx, lv.Now(), rep) }
	return r, nil
}

func (r *runner) inRange(t time.Time) bool {
	if !r.opt.From.IsZero() && t.Before(r.opt.From) {
		return false
	}
	return r.opt.To.IsZero() || t.Before(r.opt.To)
}

// pre runs what is due before market time t: funding settlements and
// orders whose latency has passed.
func (r *runner) pre(t time.Time) {
	if !r.started {
		r.started, r.lastT = true, t
		r.rec.Observe(t, r.rec.start, false)
	}
	// matching.FundingDue(r.lastT, t), with the next funding time after
	// lastT kept until lastT reaches it (it is the same for every lastT
	// before it).
	if r.fundingIv > 0 && (!r.nextFundingOK || !r.lastT.Before(r.nextFunding)) {
		r.nextFunding, r.nextFundingOK = matching.NextFunding(r.lastT, r.fundingIv), true
	}
	if r.fundingIv > 0 && t.After(r.lastT) && !r.nextFunding.After(t) {
		at := r.nextFunding
		if err := r.venue.ApplyFunding(r.symbol, r.fundingRate, at); err != nil {
			r.core.OnTimer(r.ctx, at) // keep time moving; the error means no instrument
		}
	}
	r.venue.release(r.ctx, t)
	if t.After(r.lastT) {
		r.lastT = t
	}
}

// setBook fills the reused book with a one-tick-spread ladder from bidTop
// down and askTop up: every level qty, or (grow) the trade books' sizes
// (marketdata.TouchBook's, precomputed). The Core and the matching engine
// copy the levels, so reuse is safe.
func (r *runner) setBook(t time.Time, bidTop, askTop, qty fixed.Value, grow bool) {
	bids := r.bids
	for i, d := range r.tickSteps {
		q := qty
		if grow {
			q = r.growQty[i]
		}
		r.bids[i] = trading.Level{Price: bidTop - d, Qty: q}
		r.asks[i] = trading.Level{Price: askTop + d, Qty: q}
		if bidTop-d <= 0 && len(bids) == bookLevels {
			bids = r.bids[:i]
		}
	}
	r.book = trading.Book{Symbol: r.symbol, Bids: bids, Asks: r.asks, Time: t}
}

// kline expands one kline into the default model's prints (FillOHLCPath):
// four prints at open, the extreme nearer the open's direction (low first
// for a rising candle, high first otherwise),
// the other extreme and the close, spaced a quarter interval apart; at each
// a one-tick-spread book of 20 levels (bids from the print down, asks from
// one tick above), the print (a quarter of the volume, at least one lot)
// and a mark at the print. The Core builds candles from the prints, so a
// candle reaches the strategy when the next kline's first print closes it
// and the strategy's orders meet that print's book.
func (r *runner) kline(k trading.Kline) {
	iv, qty := r.printShape(k)
	prices := klinePath(k)
	prev := k.Open
	var t time.Time
	// With nothing that prints could fill or trigger, the matching engine
	// needs the market only when an order comes (delayVenue.holdPrints).
	idle := !r.opt.noShortcuts && !r.hasOrders() && !r.venue.Engine().HasTriggers(r.symbol)
	r.venue.holdPrints, r.venue.holdMarks = idle, idle && r.rec.Position() == 0
	defer func() { r.venue.holdPrints, r.venue.holdMarks = false, false }()
	for i, p := range prices {
		t = k.OpenTime.Add(iv * time.Duration(i) / 4)
		side := printSide(p, prev)
		prev = p
		r.pre(t)
		r.setBook(t, p, p+r.spec.Tick(), qty.MulInt(20), false)
		r.core.OnBook(r.ctx, t, &r.book)
		r.core.OnTrade(r.ctx, t, trading.Trade{Symbol: r.symbol, Price: p, Qty: qty, Side: side, Time: t})
		r.core.OnMark(r.ctx, t, trading.MarkPrice{Symbol: r.symbol, Mark: p, Index: p, FundingRate: r.fundingRate, Time: t})
	}
	r.observe(t)
}

// trade replays one public print: a book with its touch at the print (the
// ask for a buy, the bid for a sell; 20 levels growing 35% a level from
// 1000 lots, as marketdata.Replay builds them), the print, and a mark at
// the print at most once per second.
func (r *runner) trade(tr trading.Trade) {
	t := tr.Time
	r.pre(t)
	bid, ask := marketdata.Touch(r.spec, tr.Price, tr.Side)
	r.setBook(t, bid, ask, 0, true)
	r.core.OnBook(r.ctx, t, &r.book)
	r.core.OnTrade(r.ctx, t, tr)
	if sec := t.Unix(); sec != r.lastMarkSec {
		r.lastMarkSec = sec
		r.core.OnMark(r.ctx, t, trading.MarkPrice{Symbol: r.symbol, Mark: tr.Price, Index: tr.Price, FundingRate: r.fundingRate, Time: t})
	}
	if b := t.UnixNano() / int64(time.Minute); b != r.obsBucket {
		r.obsBucket = b
		r.observe(t)
	}
}

// observe samples equity from the venue (the exchange's own books) and
// settles a liquidation the order manager cannot know about.
func (r *runner) observe(t time.Time) {
	eq, ok := r.flatEquity()
	if !ok {
		r.venue.applyHeldMark()
		acct, err := r.venue.Engine().Account(r.venue.Account())
		if err != nil {
			return
		}
		if r.rec.Position() != 0 && acct.Margin == 0 {
			r.liquidated(t)
		}
		eq = acct.Equity
		r.lastEquity, r.lastChanges, r.lastFlat = eq, r.venue.changes, r.rec.Position() == 0
	}
	// Final orders leave the order manager's memory and the in-memory
	// store, as a long-running bot's would, so memory stays flat however
	// many orders a backtest places.
	if r.klines++; r.klines&63 == 0 {
		r.core.Orders().PruneFinal()
		r.store.PruneFinal()
	}
	r.rec.Observe(t.UTC(), eq, r.rec.Position() != 0)
}

// flatEquity is the account's equity when the venue cannot have changed
// it since the last look: the account was and is flat (equity is the
// wallet, which marks do not move) and no report or funding came since.
func (r *runner) flatEquity() (fixed.Value, bool) {
	if !r.opt.noShortcuts && r.lastFlat && r.rec.Position() == 0 && r.venue.changes == r.lastChanges {
		return r.lastEquity, true
	}
	return 0, false
}

// liquidated books the engine's liquidation fills and reconciles the order
// manager with the venue, as the live bot does when the exchange closes a
// position on its own.
func (r *runner) liquidated(t time.Time) {
	fills := r.venue.Engine().Fills(r.venue.Account(), r.symbol)
	sort.Slice(fills, func(i, j int) bool { return fills[i].TradeID < fills[j].TradeID })
	for _, f := range fills {
		if f.Liquidation && f.TradeID > r.liqSeen {
			r.liqSeen = f.TradeID
			r.rec.OnFill(Fill{Time: f.Time.UTC(), Price: f.Price, Qty: f.Qty, Fee: f.Fee}, f.Side, true)
		}
	}
	_, _ = r.core.Reconcile(r.ctx, t)
}

// finish closes the last candle at end, takes the final equity and builds
// the report.
func (r *runner) finish(end time.Time) *Report {
	if r.started {
		r.pre(end)
		if r.hasPrev { // FillCandle: the last kline closes at the end
			r.core.OnKline(r.ctx, end, r.prev)
			r.hasPrev = false
		}
		r.core.OnTimer(r.ctx, end)
		r.observe(end)
	}
	r.venue.applyHeld()
	acct, _ := r.venue.Engine().Account(r.venue.Account())
	final := acct.Equity
	if !r.started {
		final = r.rec.start
	}
	r.rec.Finish(r.rep, final, acct.CrossUnrealizedPnL+acct.IsolationUnrealizedPnL)
	for name := range r.obs.breakers {
		r.rep.Risk.Breakers = append(r.rep.Risk.Breakers, name)
	}
	sort.Strings(r.rep.Risk.Breakers)
	return r.rep
}

// RunKlines backtests a stream of klines for symbol.
func RunKlines(ctx context.Context, opt Options, symbol string, src KlineSource) (*Report, error) {
	r, err := newRunner(ctx, opt, symbol)
	if err != nil {
		return nil, err
	}
	var end time.Time
	for i := 0; ; i++ {
		k, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("backtest: %w", err)
		}
		if i&1023 == 0 && ctx.Err() != nil {
			return nil, fmt.Errorf("backtest: %w", ctx.Err())
		}
		if !r.inRange(k.OpenTime) {
			continue
		}
		if r.rep.Klines == 0 {
			if err := checkCandleInterval(opt, k.Interval); err != nil {
				return nil, err
			}
		}
		r.rep.Klines++
		if opt.FillModel == FillCandle {
			r.klineCandle(k)
		} else {
			r.kline(k)
		}
		iv := k.Interval
		if iv <= 0 {
			iv = time.Minute
		}
		end = k.OpenTime.Add(iv)
	}
	return r.finish(end), nil
}

// ErrIncompatible marks a configuration that cannot be backtested on the
// given data.
var ErrIncompatible = errors.New("configuration does not fit the data")

// checkCandleInterval refuses a candle strategy whose interval is shorter
// than the data's klines: candles cannot be built finer than the data, so
// the backtest would trade on an artefact (or never trade) and mean nothing.
func checkCandleInterval(opt Options, dataInterval time.Duration) error {
	if opt.Strategy != nil || opt.Config.Strategy.Name != strategy.NameTrend || dataInterval <= 0 {
		return nil
	}
	if iv := opt.Config.Strategy.Trend.Interval; iv < dataInterval || iv%dataInterval != 0 {
		return fmt.Errorf("backtest: %w: strategy.trend.interval %s cannot be built from %s klines; use a multiple of %s, e.g. --set strategy.trend.interval=%s",
			ErrIncompatible, iv, dataInterval, dataInterval, 15*dataInterval)
	}
	return nil
}

// RunTrades backtests a stream of public trades for symbol.
func RunTrades(ctx context.Context, opt Options, symbol string, src TradeSource) (*Report, error) {
	r, err := newRunner(ctx, opt, symbol)
	if err != nil {
		return nil, err
	}
	var end time.Time
	for i := 0; ; i++ {
		t, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("backtest: %w", err)
		}
		if i&1023 == 0 && ctx.Err() != nil {
			return nil, fmt.Errorf("backtest: %w", ctx.Err())
		}
		if !r.inRange(t.Time) {
			continue
		}
		if t.Symbol == "" {
			t.Symbol = symbol
		}
		r.rep.Trades++
		r.trade(t)
		end = t.Time
	}
	return r.finish(end), nil
}
