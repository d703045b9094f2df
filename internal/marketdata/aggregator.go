package marketdata

import (
	"fmt"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/trading"
)

// Aggregator builds klines of a fixed interval from a time-ordered trade
// stream. A candle is closed (returned) when a trade of a later interval
// arrives, or by Flush. Intervals with no trade between two traded ones are
// returned as flat candles at the previous close with zero volume, as
// exchanges publish them, so the output has no gaps.
//
// Candle boundaries are multiples of the interval since the Unix epoch (UTC),
// so 1m candles open on the minute and 1h candles on the hour.
type Aggregator struct {
	symbol   string
	interval time.Duration
	cur      trading.Kline
	open     bool // cur holds a candle in progress
}

// NewAggregator returns an aggregator for one symbol. interval must be
// positive.
func NewAggregator(symbol string, interval time.Duration) (*Aggregator, error) {
	if interval <= 0 {
		return nil, fmt.Errorf("aggregator %s: interval %s must be positive", symbol, interval)
	}
	return &Aggregator{symbol: symbol, interval: interval}, nil
}

// bucket returns the open time of the interval containing t.
func (a *Aggregator) bucket(t time.Time) time.Time {
	ns := t.UnixNano()
	iv := int64(a.interval)
	start := ns - ns%iv
	if ns%iv < 0 {
		start -= iv
	}
	return time.Unix(0, start).UTC()
}

// Add folds t into the current candle and appends any candles it closes to
// dst, returning the extended slice (no allocation when dst has room). A
// trade older than the current candle is an error and is not applied.
func (a *Aggregator) Add(dst []trading.Kline, t trading.Trade) ([]trading.Kline, error) {
	b := a.bucket(t.Time)
	if a.open {
		switch {
		case b.Before(a.cur.OpenTime):
			return dst, fmt.Errorf("aggregator %s: trade at %s is before the open candle %s", a.symbol, t.Time.Format(time.RFC3339Nano), a.cur.OpenTime.Format(time.RFC3339))
		case b.Equal(a.cur.OpenTime):
			a.cur.High = a.cur.High.Max(t.Price)
			a.cur.Low = a.cur.Low.Min(t.Price)
			a.cur.Close = t.Price
			a.cur.Volume += t.Qty
			return dst, nil
		}
		dst = append(dst, a.cur)
		last := a.cur.Close
		for ot := a.cur.OpenTime.Add(a.interval); ot.Before(b); ot = ot.Add(a.interval) {
			dst = append(dst, a.flat(ot, last))
		}
	}
	a.cur = trading.Kline{Symbol: a.symbol, OpenTime: b, Interval: a.interval,
		Open: t.Price, High: t.Price, Low: t.Price, Close: t.Price, Volume: t.Qty}
	a.open = true
	return dst, nil
}

func (a *Aggregator) flat(ot time.Time, p fixed.Value) trading.Kline {
	return trading.Kline{Symbol: a.symbol, OpenTime: ot, Interval: a.interval, Open: p, High: p, Low: p, Close: p}
}

// Current returns the candle in progress, if any, without closing it.
func (a *Aggregator) Current() (trading.Kline, bool) { return a.cur, a.open }

// Flush closes and returns the candle in progress, if any.
func (a *Aggregator) Flush() (trading.Kline, bool) {
	if !a.open {
		return trading.Kline{}, false
	}
	a.open = false
	return a.cur, true
}
