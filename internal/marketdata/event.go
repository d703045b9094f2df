package marketdata

import (
	"fmt"
	"io"
	"iter"
	"time"

	"github.com/bitrader/bitrader/internal/trading"
)

// Kind says which field of an Event is set.
type Kind uint8

// Event kinds. The zero value is invalid so an empty Event is caught.
const (
	KindBook Kind = iota + 1
	KindTrade
	KindMark
)

func (k Kind) String() string {
	switch k {
	case KindBook:
		return "book"
	case KindTrade:
		return "trade"
	case KindMark:
		return "mark"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Event is one market event: a tagged union rather than an interface so a
// stream of them costs no allocation per event beyond a book's levels.
// Exactly the field named by Kind is meaningful.
type Event struct {
	Kind  Kind
	Book  trading.Book
	Trade trading.Trade
	Mark  trading.MarkPrice
}

// Time returns the timestamp of the event's payload.
func (e *Event) Time() time.Time {
	switch e.Kind {
	case KindBook:
		return e.Book.Time
	case KindTrade:
		return e.Trade.Time
	case KindMark:
		return e.Mark.Time
	}
	return time.Time{}
}

// Symbol returns the symbol of the event's payload.
func (e *Event) Symbol() string {
	switch e.Kind {
	case KindBook:
		return e.Book.Symbol
	case KindTrade:
		return e.Trade.Symbol
	case KindMark:
		return e.Mark.Symbol
	}
	return ""
}

// Source is a time-ordered stream of events. Next returns io.EOF when the
// stream ends; any other error is fatal for the stream.
type Source interface {
	Next() (Event, error)
}

// All adapts a Source to a range-over-func iterator. Iteration stops at the
// end of the stream; a failure other than io.EOF is yielded once with a zero
// Event.
func All(src Source) iter.Seq2[Event, error] { return records(src.Next) }

// Merge time-orders several sources into one stream, for example one
// generator per symbol. Events with equal timestamps come out in source
// order, so the merged stream is as deterministic as its inputs.
type Merge struct {
	srcs []Source
	head []Event
	ok   []bool // head[i] holds an event not yet returned
	err  []error
}

// NewMerge returns a Merge over srcs. Sources are read lazily.
func NewMerge(srcs ...Source) *Merge {
	m := &Merge{srcs: srcs, head: make([]Event, len(srcs)), ok: make([]bool, len(srcs)), err: make([]error, len(srcs))}
	for i := range srcs {
		m.fill(i)
	}
	return m
}

func (m *Merge) fill(i int) {
	ev, err := m.srcs[i].Next()
	if err != nil {
		m.ok[i], m.err[i] = false, err
		return
	}
	m.head[i], m.ok[i] = ev, true
}

// Next returns the earliest pending event across the sources. It returns
// io.EOF once every source has ended. A source's failure (anything but
// io.EOF) is returned as soon as it is seen, wrapped with the source's
// index, and again on every later call.
func (m *Merge) Next() (Event, error) {
	best := -1
	var bestT time.Time
	for i := range m.srcs {
		if !m.ok[i] {
			if m.err[i] != nil && m.err[i] != io.EOF {
				return Event{}, fmt.Errorf("merge source %d: %w", i, m.err[i])
			}
			continue
		}
		if t := m.head[i].Time(); best < 0 || t.Before(bestT) {
			best, bestT = i, t
		}
	}
	if best < 0 {
		return Event{}, io.EOF
	}
	ev := m.head[best]
	m.fill(best)
	return ev, nil
}
