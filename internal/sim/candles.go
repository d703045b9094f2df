package sim

import (
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
)

// candle is a one-minute candle; larger intervals are aggregated on demand.
type candle struct {
	open                    time.Time
	o, h, l, c, base, quote fixed.Value
}

// candles keeps the last two weeks of one-minute candles of one price.
type candles struct {
	list []candle // oldest first; the last one is in progress
}

const maxCandles = 14 * 24 * 60

func newCandles() *candles { return &candles{} }

func (cs *candles) add(t time.Time, p, qty fixed.Value) {
	open := t.Truncate(time.Minute)
	n := len(cs.list)
	if n > 0 && !open.After(cs.list[n-1].open) {
		c := &cs.list[n-1]
		c.h, c.l, c.c = c.h.Max(p), c.l.Min(p), p
		c.base += qty
		c.quote += p.Mul(qty)
		return
	}
	cs.list = append(cs.list, candle{open: open, o: p, h: p, l: p, c: p, base: qty, quote: p.Mul(qty)})
	if len(cs.list) > maxCandles {
		cs.list = cs.list[len(cs.list)-maxCandles:]
	}
}

// aggregate returns candles of interval iv opening in [from, to], oldest
// first, at most limit (the newest ones).
func (cs *candles) aggregate(iv time.Duration, from, to time.Time, limit int) []candle {
	var out []candle
	for _, c := range cs.list {
		if c.open.Before(from) || c.open.After(to) {
			continue
		}
		b := c.open.Truncate(iv)
		if iv >= 24*time.Hour*28 { // a month: calendar months
			y, m, _ := c.open.Date()
			b = time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
		}
		if n := len(out); n > 0 && out[n-1].open.Equal(b) {
			a := &out[n-1]
			a.h, a.l, a.c = a.h.Max(c.h), a.l.Min(c.l), c.c
			a.base += c.base
			a.quote += c.quote
			continue
		}
		c.open = b
		out = append(out, c)
	}
	if limit > 0 && len(out) > limit {
		out = out[len(out)-limit:]
	}
	return out
}

// current returns the candle of interval iv in progress at now.
func (cs *candles) current(iv time.Duration, now time.Time) (candle, bool) {
	got := cs.aggregate(iv, now.Truncate(iv), now, 1)
	if len(got) == 0 {
		return candle{}, false
	}
	return got[0], true
}

// window summarises the candles since from: open, high, low, last, volumes.
func (cs *candles) window(from time.Time) (c candle, ok bool) {
	for _, x := range cs.list {
		if x.open.Before(from) {
			continue
		}
		if !ok {
			c, ok = x, true
			continue
		}
		c.h, c.l, c.c = c.h.Max(x.h), c.l.Min(x.l), x.c
		c.base += x.base
		c.quote += x.quote
	}
	return c, ok
}
