package matching

import (
	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/trading"
)

// level is one price of the account-order book: orders in time priority.
type level struct {
	price  fixed.Value
	orders []*order
}

// bookSide holds one side's levels sorted so the best price is last: that
// makes the common operations (match at the best, add near the best)
// touch the end of the slice. Emptied levels go to a free list so their
// order slices are reused.
type bookSide struct {
	side   trading.Side
	levels []*level
	free   []*level
}

// worse reports whether price a ranks below b on this side (further from
// the best), which is the sort order of levels.
func (b *bookSide) worse(a, p fixed.Value) bool {
	if b.side == trading.Buy {
		return a < p
	}
	return a > p
}

// search returns the index of price p, or where it would be inserted.
func (b *bookSide) search(p fixed.Value) (int, bool) {
	lo, hi := 0, len(b.levels)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if b.worse(b.levels[m].price, p) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(b.levels) && b.levels[lo].price == p
}

// best returns the best level or nil.
func (b *bookSide) best() *level {
	if n := len(b.levels); n > 0 {
		return b.levels[n-1]
	}
	return nil
}

// add appends o at its price (time priority: last).
func (b *bookSide) add(o *order) {
	i, ok := b.search(o.price)
	var l *level
	if ok {
		l = b.levels[i]
	} else {
		if n := len(b.free); n > 0 {
			l = b.free[n-1]
			b.free = b.free[:n-1]
		} else {
			l = &level{}
		}
		l.price = o.price
		b.levels = append(b.levels, nil)
		copy(b.levels[i+1:], b.levels[i:])
		b.levels[i] = l
	}
	l.orders = append(l.orders, o)
	o.lvl = l
}

// remove takes o out of the book.
func (b *bookSide) remove(o *order) {
	l := o.lvl
	if l == nil {
		return
	}
	o.lvl = nil
	for i, x := range l.orders {
		if x == o {
			copy(l.orders[i:], l.orders[i+1:])
			l.orders[len(l.orders)-1] = nil
			l.orders = l.orders[:len(l.orders)-1]
			break
		}
	}
	if len(l.orders) > 0 {
		return
	}
	i, ok := b.search(l.price)
	if !ok {
		return
	}
	copy(b.levels[i:], b.levels[i+1:])
	b.levels[len(b.levels)-1] = nil
	b.levels = b.levels[:len(b.levels)-1]
	b.free = append(b.free, l)
}

// extSide is one side of the external (market-data) book, best first as
// the feed sends it. head skips levels consumed by takers.
type extSide struct {
	levels []trading.Level
	head   int
}

func (x *extSide) set(ls []trading.Level) {
	x.levels = append(x.levels[:0], ls...)
	x.head = 0
}

// best returns the best level with qty left.
func (x *extSide) best() (fixed.Value, fixed.Value, bool) {
	for x.head < len(x.levels) {
		l := x.levels[x.head]
		if l.Qty > 0 {
			return l.Price, l.Qty, true
		}
		x.head++
	}
	return 0, 0, false
}

// consumeBest takes q from the best level.
func (x *extSide) consumeBest(q fixed.Value) {
	x.levels[x.head].Qty -= q
	if x.levels[x.head].Qty <= 0 {
		x.head++
	}
}

// qtyAt returns the qty left at price p.
func (x *extSide) qtyAt(p fixed.Value) fixed.Value {
	for i := x.head; i < len(x.levels); i++ {
		if x.levels[i].Price == p {
			return x.levels[i].Qty
		}
	}
	return 0
}

// ring keeps the last limit items, overwriting the oldest.
type ring[T any] struct {
	buf   []T
	start int
	limit int
}

// push appends v and returns the item it overwrote, if any.
func (r *ring[T]) push(v T) (old T, evicted bool) {
	if len(r.buf) < r.limit {
		r.buf = append(r.buf, v)
		return old, false
	}
	old = r.buf[r.start]
	r.buf[r.start] = v
	r.start = (r.start + 1) % r.limit
	return old, true
}

// newestFirst calls f on items from newest to oldest until f returns false.
func (r *ring[T]) newestFirst(f func(*T) bool) {
	n := len(r.buf)
	for i := 0; i < n; i++ {
		j := (r.start - 1 - i + 2*n) % n
		if !f(&r.buf[j]) {
			return
		}
	}
}
