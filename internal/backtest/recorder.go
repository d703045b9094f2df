package backtest

import (
	"math"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/trading"
)

// year is the annualisation base: crypto perpetuals trade every day.
const year = 365 * 24 * time.Hour

// maxCurvePoints bounds the equity curve kept for the report, so memory
// stays flat however long the dataset is.
const maxCurvePoints = 1024

// Recorder turns a stream of fills, funding payments and equity
// observations into a Report, in memory independent of the number of
// observations (the trade and fill lists grow with trading activity only).
//
// Statistics, and why they are computed this way:
//   - Periodic returns: equity is sampled at every multiple of Period since
//     the Unix epoch (UTC), as the last observed equity before the boundary;
//     r = E_end/E_start - 1 per completed period. Sharpe = mean(r)/stdev(r)
//     (sample stdev, risk-free rate 0) × sqrt(periods per year); Sortino =
//     mean(r)/downside deviation × sqrt(periods per year), with downside
//     deviation sqrt(Σ min(r,0)² / n). A year is 365 days.
//   - Annualised return is compounded: (final/start)^(365d/span) - 1.
//   - Drawdown is measured on every observation (each kline close, or each
//     observation of a trade file): fraction below the running peak. Its
//     duration is the longest time from a peak to the first observation back
//     at or above it (or to the end, if never recovered).
//   - Exposure is the fraction of observed time with a non-zero position.
type Recorder struct {
	period time.Duration
	start  fixed.Value

	started   bool
	first     time.Time
	lastT     time.Time
	lastEq    fixed.Value
	lastInPos bool
	inMarket  time.Duration

	// periodic returns
	bucket   int64
	bucketEq fixed.Value
	n        int
	sum      float64
	sumSq    float64
	downSq   float64

	// drawdown
	peak       fixed.Value
	peakT      time.Time
	maxDD      float64
	maxDDAmt   fixed.Value
	maxDDDur   time.Duration
	underwater bool

	// curve, decimated by doubling the stride when full
	curve  []Point
	stride int
	skip   int

	// position and round trips
	pos      fixed.Value // signed
	entry    fixed.Value // average entry
	trades   []Trade
	fills    []Fill
	funds    []Funding
	realized fixed.Value
	fees     fixed.Value
	funding  fixed.Value
	liqs     int
}

// NewRecorder starts a recorder for an account holding startBalance.
// period is the return sampling period (default 1h).
func NewRecorder(startBalance fixed.Value, period time.Duration) *Recorder {
	if period <= 0 {
		period = time.Hour
	}
	return &Recorder{period: period, start: startBalance, peak: startBalance, stride: 1,
		curve: make([]Point, 0, maxCurvePoints)}
}

// Observe records the account's equity at t and whether a position is open.
// Observations must come in time order.
func (r *Recorder) Observe(t time.Time, equity fixed.Value, inPosition bool) {
	if !r.started {
		r.started, r.first, r.lastT, r.lastEq = true, t, t, r.start
		r.bucket = t.UnixNano() / int64(r.period)
		r.bucketEq = r.start
		r.peakT = t
	}
	if r.lastInPos {
		r.inMarket += t.Sub(r.lastT)
	}
	if b := t.UnixNano() / int64(r.period); b > r.bucket {
		r.addReturn(r.lastEq, r.bucketEq)
		for range b - r.bucket - 1 { // quiet periods: equity unchanged
			r.addReturn(r.lastEq, r.lastEq)
		}
		r.bucket, r.bucketEq = b, r.lastEq
	}
	switch {
	case equity >= r.peak:
		if r.underwater {
			r.maxDDDur = max(r.maxDDDur, t.Sub(r.peakT))
		}
		r.peak, r.peakT, r.underwater = equity, t, false
	default:
		r.underwater = true
		if r.peak > 0 {
			if dd := 1 - equity.Float64()/r.peak.Float64(); dd > r.maxDD {
				r.maxDD = dd
			}
		}
		r.maxDDAmt = max(r.maxDDAmt, r.peak-equity)
	}
	r.addCurve(t, equity)
	r.lastT, r.lastEq, r.lastInPos = t, equity, inPosition
}

func (r *Recorder) addReturn(end, start fixed.Value) {
	x := 0.0
	if start > 0 {
		x = end.Float64()/start.Float64() - 1
	} else if end < start {
		x = -1
	}
	r.n++
	r.sum += x
	r.sumSq += x * x
	if x < 0 {
		r.downSq += x * x
	}
}

func (r *Recorder) drawdown(equity fixed.Value) float64 {
	if r.peak <= 0 || equity >= r.peak {
		return 0
	}
	return 1 - equity.Float64()/r.peak.Float64()
}

func (r *Recorder) addCurve(t time.Time, equity fixed.Value) {
	if r.skip > 0 {
		r.skip--
		// Keep the newest point of a decimated stretch current, so the curve
		// always ends at the latest equity.
		r.curve[len(r.curve)-1] = Point{Time: t, Equity: equity, Drawdown: r.drawdown(equity)}
		return
	}
	if len(r.curve) == maxCurvePoints {
		// Halve: keep every other point, double the stride.
		j := 0
		for i := 0; i < len(r.curve); i += 2 {
			r.curve[j] = r.curve[i]
			j++
		}
		r.curve = r.curve[:j]
		r.stride *= 2
	}
	r.curve = append(r.curve, Point{Time: t, Equity: equity, Drawdown: r.drawdown(equity)})
	r.skip = r.stride - 1
}

// OnFill books one execution of the backtest's orders.
func (r *Recorder) OnFill(f Fill, side trading.Side, liquidation bool) {
	r.fees += f.Fee
	if liquidation {
		r.liqs++
	}
	signed := f.Qty
	if side == trading.Sell {
		signed = -signed
	}
	rest := signed
	var realized fixed.Value
	if r.pos != 0 && r.pos.Sign() != signed.Sign() {
		closed := f.Qty.Min(r.pos.Abs())
		pnl := (f.Price - r.entry).Mul(closed).MulInt(int64(r.pos.Sign()))
		realized = pnl
		tr := &r.trades[len(r.trades)-1]
		tr.PnL += pnl
		// The fee is split between the closing and the opening part.
		feePart := f.Fee
		if closed < f.Qty {
			feePart = f.Fee.Mul(closed).Div(f.Qty)
		}
		tr.Fees += feePart
		tr.ExitPrice = (tr.ExitPrice.Mul(tr.exitQty) + f.Price.Mul(closed)).Div(tr.exitQty + closed)
		tr.exitQty += closed
		tr.curQty -= closed
		r.pos += closed.MulInt(int64(signed.Sign()))
		rest = signed - closed.MulInt(int64(signed.Sign()))
		if r.pos == 0 {
			tr.ExitTime, tr.Open = f.Time, false
			tr.Net = tr.PnL - tr.Fees + tr.Funding
			r.entry = 0
		}
		if rest != 0 {
			r.open(f, rest, f.Fee-feePart)
		}
	} else {
		r.open(f, rest, f.Fee)
	}
	r.realized += realized
	f.RealizedPnL = realized
	f.Liquidation = liquidation
	f.Side = side.String()
	r.fills = append(r.fills, f)
}

// open adds signed qty at the fill's price, starting a trade when flat.
func (r *Recorder) open(f Fill, signed, fee fixed.Value) {
	q := signed.Abs()
	if r.pos == 0 {
		side := trading.Buy
		if signed < 0 {
			side = trading.Sell
		}
		r.trades = append(r.trades, Trade{Side: sideName(side), EntryTime: f.Time, Open: true})
	}
	tr := &r.trades[len(r.trades)-1]
	tr.EntryPrice = (tr.EntryPrice.Mul(tr.entryQty) + f.Price.Mul(q)).Div(tr.entryQty + q)
	tr.entryQty += q
	r.entry = (r.entry.Mul(r.pos.Abs()) + f.Price.Mul(q)).Div(r.pos.Abs() + q)
	r.pos += signed
	tr.curQty += q
	tr.Qty = max(tr.Qty, tr.curQty)
	tr.Fees += fee
}

// OnFunding books a funding settlement (positive = received).
func (r *Recorder) OnFunding(t time.Time, amount fixed.Value) {
	r.funding += amount
	r.funds = append(r.funds, Funding{Time: t, Amount: amount})
	if n := len(r.trades); n > 0 && r.trades[n-1].Open {
		r.trades[n-1].Funding += amount
	}
}

// Position returns the signed position the recorder has seen filled.
func (r *Recorder) Position() fixed.Value { return r.pos }

// Finish fills in rep's statistics from everything recorded, given the
// final equity and unrealised PnL.
func (r *Recorder) Finish(rep *Report, finalEquity, unrealized fixed.Value) {
	rep.StartBalance = r.start
	rep.FinalEquity = finalEquity
	rep.NetPnL = finalEquity - r.start
	rep.RealizedPnL = r.realized
	rep.Unrealized = unrealized
	rep.Fees = r.fees
	rep.Funding = r.funding
	rep.From, rep.To = r.first.UTC(), r.lastT.UTC()
	rep.Period = r.period.String()
	ppy := float64(year) / float64(r.period)
	rep.PeriodsPerYear = ppy
	if r.start > 0 {
		ratio := finalEquity.Float64() / r.start.Float64()
		rep.TotalReturn = round6(ratio - 1)
		if span := r.lastT.Sub(r.first); span > 0 {
			if ratio <= 0 {
				rep.AnnualizedReturn = round6(-1)
			} else {
				rep.AnnualizedReturn = round6(math.Pow(ratio, float64(year)/float64(span)) - 1)
			}
		}
	}
	if r.n >= 2 {
		n := float64(r.n)
		mean := r.sum / n
		variance := (r.sumSq - n*mean*mean) / (n - 1)
		if variance > 0 {
			rep.Sharpe = round6(mean / math.Sqrt(variance) * math.Sqrt(ppy))
		}
		if r.downSq > 0 {
			rep.Sortino = round6(mean / math.Sqrt(r.downSq/n) * math.Sqrt(ppy))
		}
	}
	rep.MaxDrawdown = round6(r.maxDD)
	rep.MaxDrawdownAmount = r.maxDDAmt
	dur := r.maxDDDur
	if r.underwater {
		dur = max(dur, r.lastT.Sub(r.peakT))
	}
	rep.MaxDrawdownDuration = dur.String()
	if span := r.lastT.Sub(r.first); span > 0 {
		rep.Exposure = round6(float64(r.inMarket) / float64(span))
	}

	trades := make([]Trade, len(r.trades))
	copy(trades, r.trades)
	var wins, closed int
	var gross, loss fixed.Value
	for i := range trades {
		tr := &trades[i]
		if tr.Open {
			tr.Net = tr.PnL - tr.Fees + tr.Funding
			continue
		}
		closed++
		if tr.Net > 0 {
			wins++
			gross += tr.Net
		} else {
			loss -= tr.Net
		}
	}
	rep.RoundTrips = closed
	if closed > 0 {
		rep.WinRate = round6(float64(wins) / float64(closed))
	}
	if loss > 0 {
		rep.ProfitFactor = round6(gross.Float64() / loss.Float64())
	}
	rep.List = trades
	rep.FillLog = append([]Fill(nil), r.fills...)
	rep.Fills = len(r.fills)
	rep.Liquidations = r.liqs
	rep.Funds = append([]Funding(nil), r.funds...)
	rep.Curve = append([]Point(nil), r.curve...)
	if rep.List == nil {
		rep.List = []Trade{}
	}
	if rep.FillLog == nil {
		rep.FillLog = []Fill{}
	}
	if rep.Funds == nil {
		rep.Funds = []Funding{}
	}
}
