package backtest

import (
	"context"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/ordermanager"
	"github.com/bitrader/bitrader/internal/trading"
	"github.com/bitrader/bitrader/internal/venue/local"
)

// delayVenue wraps the local venue (the paper/backtest venue on the
// matching engine) with two things a backtest needs:
//
//   - latency: an order reaches the matching engine only once market time
//     has moved latency past the decision; until then it is acknowledged
//     but not on the book, as on a real exchange;
//   - report buffering: the local venue reports synchronously from inside
//     the matching engine; reports are buffered and handed to the Core
//     after the engine call returns, so a strategy reacting to a fill never
//     re-enters the matching engine.
//
// It implements ordermanager.Venue and engine.MarketFeed.
type delayVenue struct {
	*local.Venue
	latency time.Duration
	pending []delayed // due times are non-decreasing: decisions come in time order
	reports []ordermanager.Report
	next    int // reports[next:] are not delivered yet
	deliver func(ordermanager.Report)
	// lazyBook (FillCandle) builds the current book, not yet given to the
	// matching engine because nothing could match it; lazyPending says it
	// is owed. It is applied before the next order reaches the engine.
	lazyBook    func() *trading.Book
	lazyPending bool
	// While no order is open or queued (and no TP/SL waits), books and
	// prints can change nothing on the matching engine but its copy of
	// the book and the last price; while the account is also flat, marks
	// cannot either (no position to value or liquidate). holdPrints and
	// holdMarks then keep them back; the last of each is applied before
	// anything else reaches the engine (an order, a query, funding), so
	// it sees exactly the market it would have acted on. The runner sets
	// them per kline; an order stops them.
	holdPrints, holdMarks bool
	heldBook              *trading.Book // the runner's book: its latest
	heldTrade             trading.Trade
	tradeHeld             bool
	heldMark              trading.MarkPrice
	markHeld              bool
	// changes counts reports and funding settlements: while it stands
	// still and the account is flat, the account's equity cannot move.
	changes uint64
}

// applyHeldMark gives the matching engine the mark it has not seen yet.
func (d *delayVenue) applyHeldMark() {
	if d.markHeld {
		d.markHeld = false
		_ = d.Venue.ApplyMark(d.heldMark)
		d.flush()
	}
}

// applyHeld gives the matching engine the market it has not seen yet.
// Held items are of different kinds and the engine was idle when they
// came, so their order does not matter.
func (d *delayVenue) applyHeld() {
	if b := d.heldBook; b != nil {
		d.heldBook = nil
		_ = d.Venue.ApplyBook(b)
	}
	if d.tradeHeld {
		d.tradeHeld = false
		_ = d.Venue.ApplyTrade(d.heldTrade)
	}
	d.applyHeldMark()
	d.flush()
}

// beforeOrder brings the engine up to date for an order and stops holding
// for the rest of the kline: from now on the market can fill something.
func (d *delayVenue) beforeOrder() {
	d.applyHeld()
	d.holdPrints, d.holdMarks = false, false
}

// applyLazyBook gives the matching engine the book it has not seen yet.
func (d *delayVenue) applyLazyBook() {
	d.applyHeld()
	if d.lazyPending {
		d.lazyPending = false
		_ = d.ApplyBook(d.lazyBook())
	}
}

type delayed struct {
	due time.Time
	o   ordermanager.Order
}

func newDelayVenue(v *local.Venue, latency time.Duration) *delayVenue {
	d := &delayVenue{Venue: v, latency: latency}
	return d
}

// sink is the local venue's report sink.
func (d *delayVenue) sink(r ordermanager.Report) {
	d.changes++
	d.reports = append(d.reports, r)
}

// flush hands buffered reports to the Core.
func (d *delayVenue) flush() {
	// An index, not reslicing, so the buffer keeps its capacity. A
	// delivery may place an order and flush again: that call carries on
	// from the same index, so reports still go out once, in order.
	for d.next < len(d.reports) {
		r := d.reports[d.next]
		d.next++
		if d.deliver != nil {
			d.deliver(r)
		}
	}
	clear(d.reports)
	d.reports, d.next = d.reports[:0], 0
}

// Place sends the order now, or queues it until latency has passed.
func (d *delayVenue) Place(ctx context.Context, o ordermanager.Order) (ordermanager.Ack, error) {
	d.beforeOrder() // the held market's time is the venue's clock too
	if d.latency <= 0 {
		d.applyLazyBook()
		ack, err := d.Venue.Place(ctx, o)
		d.flush()
		return ack, err
	}
	d.pending = append(d.pending, delayed{due: d.Venue.Now().Add(d.latency), o: o})
	return ordermanager.Ack{ClientID: o.ClientID}, nil
}

// release places every queued order due at or before t, as of its due
// time's market (the last event before it).
func (d *delayVenue) release(ctx context.Context, t time.Time) {
	for len(d.pending) > 0 && !d.pending[0].due.After(t) {
		d.beforeOrder()
		p := d.pending[0]
		d.pending = d.pending[1:]
		d.applyLazyBook()
		if _, err := d.Venue.Place(ctx, p.o); err != nil {
			// The exchange refused it after the ack: a rejected report, as a
			// WebSocket push would say.
			d.reports = append(d.reports, ordermanager.Report{
				ClientID: p.o.ClientID, Symbol: p.o.Symbol, Side: p.o.Side, Type: p.o.Type,
				TimeInForce: p.o.TimeInForce, Price: p.o.Price, Qty: p.o.Qty, ReduceOnly: p.o.ReduceOnly,
				Status: trading.StatusRejected, Time: p.due,
			})
		}
		d.flush()
	}
	if len(d.pending) == 0 {
		d.pending = d.pending[:0]
	}
}

// Cancel withdraws a queued order locally or cancels on the engine.
func (d *delayVenue) Cancel(ctx context.Context, ref ordermanager.OrderRef) error {
	d.beforeOrder()
	for i, p := range d.pending {
		if p.o.ClientID == ref.ClientID {
			d.pending = append(d.pending[:i], d.pending[i+1:]...)
			d.reports = append(d.reports, ordermanager.Report{
				ClientID: p.o.ClientID, Symbol: p.o.Symbol, Side: p.o.Side, Type: p.o.Type,
				TimeInForce: p.o.TimeInForce, Price: p.o.Price, Qty: p.o.Qty, ReduceOnly: p.o.ReduceOnly,
				Status: trading.StatusCanceled, Time: d.Venue.Now(),
			})
			d.flush()
			return nil
		}
	}
	err := d.Venue.Cancel(ctx, ref)
	d.flush()
	return err
}

// OrderByClientID also knows queued orders (acknowledged, not yet live).
func (d *delayVenue) OrderByClientID(ctx context.Context, clientID string) (ordermanager.Report, error) {
	d.applyHeld()
	for _, p := range d.pending {
		if p.o.ClientID == clientID {
			return ordermanager.Report{ClientID: clientID, Symbol: p.o.Symbol, Side: p.o.Side, Type: p.o.Type,
				TimeInForce: p.o.TimeInForce, Price: p.o.Price, Qty: p.o.Qty, ReduceOnly: p.o.ReduceOnly,
				Status: trading.StatusNew, Time: d.Venue.Now()}, nil
		}
	}
	return d.Venue.OrderByClientID(ctx, clientID)
}

// OpenOrders lists live and queued orders.
func (d *delayVenue) OpenOrders(ctx context.Context, symbol string) ([]ordermanager.Report, error) {
	d.applyHeld()
	out, err := d.Venue.OpenOrders(ctx, symbol)
	for _, p := range d.pending {
		if symbol == "" || p.o.Symbol == symbol {
			r, _ := d.OrderByClientID(ctx, p.o.ClientID)
			out = append(out, r)
		}
	}
	return out, err
}

// ApplyBook, ApplyTrade and ApplyMark feed the engine (the Core calls them)
// and pass on the reports they caused.
func (d *delayVenue) ApplyBook(b *trading.Book) error {
	d.lazyPending = false
	if d.holdPrints {
		d.heldBook = b
		return nil
	}
	d.heldBook = nil // superseded
	err := d.Venue.ApplyBook(b)
	d.flush()
	return err
}

func (d *delayVenue) ApplyTrade(t trading.Trade) error {
	if d.holdPrints {
		d.heldTrade, d.tradeHeld = t, true
		return nil
	}
	d.tradeHeld = false // superseded
	err := d.Venue.ApplyTrade(t)
	d.flush()
	return err
}

func (d *delayVenue) ApplyMark(m trading.MarkPrice) error {
	if d.holdMarks {
		d.heldMark, d.markHeld = m, true
		return nil
	}
	d.markHeld = false // superseded
	err := d.Venue.ApplyMark(m)
	d.flush()
	return err
}

// ApplyFunding settles funding and passes on what it caused.
func (d *delayVenue) ApplyFunding(symbol string, rate fixed.Value, ts time.Time) error {
	d.applyHeld()
	d.changes++
	err := d.Venue.ApplyFunding(symbol, rate, ts)
	d.flush()
	return err
}
