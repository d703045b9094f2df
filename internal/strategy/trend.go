package strategy

import (
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/trading"
)

// EMA is an exponential moving average seeded with the simple mean of its
// first Period values, in exact fixed-point:
// ema = (2·x + (P-1)·ema) / (P+1), one rounding per update.
type EMA struct {
	Period int
	n      int
	sum    fixed.Value
	value  fixed.Value
}

// Update adds x and returns the EMA, ok once Period values were seen.
func (e *EMA) Update(x fixed.Value) (fixed.Value, bool) {
	p := int64(e.Period)
	e.n++
	if e.n < e.Period {
		e.sum += x
		return 0, false
	}
	if e.n == e.Period {
		e.value = (e.sum + x).DivInt(p)
		return e.value, true
	}
	e.value = (x.MulInt(2) + e.value.MulInt(p-1)).DivInt(p + 1)
	return e.value, true
}

// Value returns the current EMA, ok once warm.
func (e *EMA) Value() (fixed.Value, bool) { return e.value, e.n >= e.Period }

// ATR is Wilder's average true range: the mean of the first Period true
// ranges, then atr = (atr·(P-1) + tr) / P. The first candle's true range
// is high-low (no previous close).
type ATR struct {
	Period    int
	n         int
	sum       fixed.Value
	value     fixed.Value
	prevClose fixed.Value
}

// Update adds a candle and returns the ATR, ok once Period candles were seen.
func (a *ATR) Update(high, low, close fixed.Value) (fixed.Value, bool) {
	tr := high - low
	if a.n > 0 {
		tr = max(tr, (high - a.prevClose).Abs(), (low - a.prevClose).Abs())
	}
	a.prevClose = close
	a.n++
	p := int64(a.Period)
	switch {
	case a.n < a.Period:
		a.sum += tr
		return 0, false
	case a.n == a.Period:
		a.value = (a.sum + tr).DivInt(p)
	default:
		a.value = (a.value.MulInt(p-1) + tr).DivInt(p)
	}
	return a.value, true
}

// Trend is the EMA-crossover trend follower with an ATR stop; see
// TrendParams for the rules and defaults.
type Trend struct {
	symbol string
	sizing Sizing
	p      TrendParams

	fast, slow EMA
	atr        ATR
	prevSign   int // sign of fast-slow at the previous warm candle; 0 = none yet

	stop     fixed.Value // active stop price; 0 = none
	stopSide int         // +1 protects a long, -1 a short
	best     fixed.Value // best close since entry, for trailing

	out out
}

// NewTrend returns a trend strategy; p must be valid.
func NewTrend(symbol string, sizing Sizing, p TrendParams) *Trend {
	return &Trend{symbol: symbol, sizing: sizing, p: p,
		fast: EMA{Period: p.FastPeriod}, slow: EMA{Period: p.SlowPeriod}, atr: ATR{Period: p.ATRPeriod},
		out: out{place: make([]trading.Intent, 0, 4)}}
}

// Name is "trend".
func (t *Trend) Name() string { return NameTrend }

// Indicators returns the current fast EMA, slow EMA and ATR and whether all
// three are warm.
func (t *Trend) Indicators() (fast, slow, atr fixed.Value, ok bool) {
	f, okf := t.fast.Value()
	s, oks := t.slow.Value()
	return f, s, t.atr.value, okf && oks && t.atr.n >= t.atr.Period
}

// Stop returns the active stop price (0 = none).
func (t *Trend) Stop() fixed.Value { return t.stop }

// OnEvent handles closed candles (indicators, crossovers, trailing) and
// trades (stop checks).
func (t *Trend) OnEvent(_ time.Time, ev Event, v View) Output {
	t.out.reset()
	if ev.Symbol != t.symbol {
		return t.out.output()
	}
	pos := v.Position.Qty
	switch ev.Kind {
	case EventTrade:
		t.syncStop(v)
		if t.stopHit(ev.Trade.Price, ev.Trade.Price) && !hasLiveOrders(v.Orders) {
			t.out.closePosition(t.symbol, pos, "stop")
		}
	case EventCandle:
		if ev.Candle.Interval != t.p.Interval {
			break
		}
		t.onCandle(ev.Candle, v)
	}
	return t.out.output()
}

func (t *Trend) onCandle(k trading.Kline, v View) {
	f, okf := t.fast.Update(k.Close)
	s, oks := t.slow.Update(k.Close)
	atr, oka := t.atr.Update(k.High, k.Low, k.Close)
	pos := v.Position.Qty
	t.syncStop(v)
	busy := hasLiveOrders(v.Orders)
	if t.stop != 0 {
		if t.stopHit(k.Low, k.High) {
			if !busy {
				t.out.closePosition(t.symbol, pos, "stop")
			}
			return
		}
		if t.p.Trailing {
			t.trail(k.Close, atr)
		}
	}
	if !okf || !oks || !oka {
		return
	}
	sign := (f - s).Sign()
	prev := t.prevSign
	if sign != 0 {
		t.prevSign = sign
	}
	if prev == 0 || sign == 0 || sign == prev || busy {
		return
	}
	// A cross: close an opposite position, then enter the new direction.
	price := k.Close
	if sign > 0 {
		if pos < 0 {
			t.out.closePosition(t.symbol, pos, "cross-exit")
		}
		if pos <= 0 {
			t.out.market(t.symbol, trading.Buy, t.sizing.Qty(v.Equity, price, v.Spec, true), false, "cross-long")
		}
		return
	}
	if pos > 0 {
		t.out.closePosition(t.symbol, pos, "cross-exit")
	}
	if pos >= 0 && t.p.AllowShort {
		t.out.market(t.symbol, trading.Sell, t.sizing.Qty(v.Equity, price, v.Spec, true), false, "cross-short")
	}
}

// syncStop places the initial stop when a position appears and drops it
// when the position is gone or has flipped.
func (t *Trend) syncStop(v View) {
	side := v.Position.Qty.Sign()
	if side == 0 {
		t.stop, t.stopSide, t.best = 0, 0, 0
		return
	}
	if t.stopSide == side {
		return
	}
	t.stop, t.stopSide = 0, side
	atr := t.atr.value
	entry := v.Position.EntryPrice
	if atr <= 0 || entry <= 0 {
		t.stopSide = 0 // retry once the ATR is warm
		return
	}
	t.best = entry
	t.stop = entry - atr.Mul(t.p.ATRMultiplier).MulInt(int64(side))
}

// trail moves the stop toward price, never away.
func (t *Trend) trail(close, atr fixed.Value) {
	dist := atr.Mul(t.p.ATRMultiplier)
	if t.stopSide > 0 && close > t.best {
		t.best = close
		t.stop = max(t.stop, close-dist)
	} else if t.stopSide < 0 && close < t.best {
		t.best = close
		t.stop = min(t.stop, close+dist)
	}
}

// stopHit reports whether a price range [low, high] touched the stop.
func (t *Trend) stopHit(low, high fixed.Value) bool {
	switch {
	case t.stop == 0:
		return false
	case t.stopSide > 0:
		return low <= t.stop
	case t.stopSide < 0:
		return high >= t.stop
	}
	return false
}
