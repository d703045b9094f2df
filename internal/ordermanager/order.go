package ordermanager

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bitrader/bitrader/internal/journal"
	"github.com/bitrader/bitrader/internal/trading"
)

// OrderRecord is the tracked state of one order; it is also the journal's
// durable record, so what is tracked is exactly what survives a crash.
type OrderRecord = journal.OrderRecord

// EventKind says what happened to an order.
type EventKind int8

// Order events, from the submit path, the venue's replies, pushes and
// lookups.
const (
	// EvSent: the place request is about to go on the wire.
	EvSent EventKind = iota + 1
	// EvAccepted: the venue acknowledged the place request (Event.OrderID).
	EvAccepted
	// EvRejected: the venue definitely refused it (Event.Code, Event.Reason).
	EvRejected
	// EvAmbiguous: the place request's outcome is unknown.
	EvAmbiguous
	// EvReport: the venue's view of the order (Event.Report): a WS push, a
	// detail query or an open-orders listing.
	EvReport
	// EvNotFound: a lookup by client id found nothing: the venue never saw
	// the order, and since the id is never reused it never will.
	EvNotFound
	// EvNotSent: the manager decided not to send (fenced, cancelled context)
	// after the intent was journaled.
	EvNotSent
)

var eventNames = [...]string{"", "sent", "accepted", "rejected", "ambiguous", "report", "not_found", "not_sent"}

func (k EventKind) String() string {
	if k > 0 && int(k) < len(eventNames) {
		return eventNames[k]
	}
	return fmt.Sprintf("EventKind(%d)", int8(k))
}

// Event is one input to the order state machine.
type Event struct {
	Kind    EventKind
	Time    time.Time
	OrderID string // EvAccepted
	Code    int    // EvRejected
	Reason  string // EvRejected
	Report  Report // EvReport
}

// ErrIllegalTransition is wrapped by Apply for an event that contradicts the
// order's state (e.g. a rejection of an order the venue reported filled).
// The order is left unchanged; the caller logs and counts it.
var ErrIllegalTransition = errors.New("illegal order transition")

// Step is the result of applying one event.
type Step struct {
	Order   OrderRecord
	Changed bool
	// Fill is the execution implied by an increase of the cumulative filled
	// quantity (zero Qty if none). Fills are derived from cumulative totals,
	// so duplicate and stale reports can never double count.
	Fill trading.Fill
}

// rank orders the states so a status never moves backwards; all final
// states share the top rank.
func rank(s trading.OrderStatus) int {
	switch s {
	case trading.StatusPending:
		return 1
	case trading.StatusSubmitted:
		return 2
	case trading.StatusNew:
		return 3
	case trading.StatusPartiallyFilled:
		return 4
	}
	if s.Final() {
		return 5
	}
	return 0
}

func illegal(o OrderRecord, ev Event) (Step, error) {
	return Step{Order: o}, fmt.Errorf("%w: %s on %s order %s", ErrIllegalTransition, ev.Kind, o.Status, o.ClientID)
}

// Apply is the order state machine: a pure function from (state, event) to
// the next state. Rules: a final state never changes status (except a
// NeverSent cancel, which the venue may contradict, since the venue is the
// source of truth); status only moves forward; the filled quantity only
// increases; duplicates are no-ops.
func Apply(o OrderRecord, ev Event) (Step, error) {
	before := o
	switch ev.Kind {
	case EvSent:
		if o.Status != trading.StatusPending {
			return illegal(o, ev)
		}
		o.Status = trading.StatusSubmitted

	case EvAccepted:
		if o.ExchangeID == "" {
			o.ExchangeID = ev.OrderID
		}
		switch {
		case o.Status == trading.StatusPending || o.Status == trading.StatusSubmitted:
			o.Status = trading.StatusNew
			o.Ambiguous = false
		case o.NeverSent:
			// We concluded it was never sent, but the venue has it.
			o.Status, o.NeverSent = trading.StatusNew, false
		}
		// Later states already know more: the ack arrived after a push.

	case EvRejected:
		switch {
		case o.Status == trading.StatusPending || o.Status == trading.StatusSubmitted:
			o.Status = trading.StatusRejected
			o.Ambiguous = false
			o.RejectCode, o.RejectReason = ev.Code, ev.Reason
		case o.Status == trading.StatusRejected:
			// duplicate
		default:
			return illegal(o, ev)
		}

	case EvAmbiguous:
		if o.Status == trading.StatusPending || o.Status == trading.StatusSubmitted {
			o.Status = trading.StatusSubmitted
			o.Ambiguous = true
		}
		// Anything later already resolved the ambiguity.

	case EvNotFound, EvNotSent:
		switch {
		case o.Status == trading.StatusPending || o.Status == trading.StatusSubmitted:
			o.Status = trading.StatusCanceled
			o.NeverSent, o.Ambiguous = true, false
		case o.Status.Final():
			// already settled
		default:
			// The venue reported this order live before; a not-found now is
			// the venue contradicting itself, not proof it never existed.
			return illegal(o, ev)
		}

	case EvReport:
		return applyReport(o, ev)

	default:
		return illegal(o, ev)
	}
	if o != before {
		o.Updated = ev.Time
	}
	return Step{Order: o, Changed: o != before}, nil
}

func applyReport(o OrderRecord, ev Event) (Step, error) {
	r := ev.Report
	if rank(r.Status) < rank(trading.StatusNew) {
		return illegal(o, ev)
	}
	before := o
	if o.ExchangeID == "" {
		o.ExchangeID = r.OrderID
	}
	if o.NeverSent {
		o.NeverSent = false
		o.Status = r.Status
	} else if rank(r.Status) > rank(o.Status) {
		o.Status = r.Status
	}
	if rank(o.Status) >= rank(trading.StatusNew) {
		o.Ambiguous = false
	}
	var step Step
	if r.FilledQty > o.FilledQty {
		// Derive this execution from the change in cumulative totals.
		dq := r.FilledQty - o.FilledQty
		notional := r.AvgPrice.Mul(r.FilledQty) - o.AvgPrice.Mul(o.FilledQty)
		step.Fill = trading.Fill{
			Symbol:   o.Intent.Symbol,
			OrderID:  o.ExchangeID,
			ClientID: o.ClientID,
			TradeID:  o.ClientID + "/" + r.FilledQty.String(),
			Side:     o.Intent.Side,
			Price:    notional.Div(dq),
			Qty:      dq,
			Fee:      r.Fee - o.Fee,
			Time:     ev.Time,
		}
		o.FilledQty, o.AvgPrice, o.Fee = r.FilledQty, r.AvgPrice, r.Fee
		if o.Status == trading.StatusNew {
			o.Status = trading.StatusPartiallyFilled
		}
	} else if r.FilledQty == o.FilledQty && r.Fee > o.Fee {
		// Fee reported after the quantity (seen on some pushes).
		step.Fill = trading.Fill{Symbol: o.Intent.Symbol, ClientID: o.ClientID, OrderID: o.ExchangeID, Side: o.Intent.Side, Fee: r.Fee - o.Fee, Time: ev.Time}
		o.Fee = r.Fee
	}
	if o.Status == trading.StatusPartiallyFilled && o.Intent.Qty > 0 && o.FilledQty >= o.Intent.Qty {
		o.Status = trading.StatusFilled
	}
	if o != before {
		o.Updated = ev.Time
	}
	step.Order, step.Changed = o, o != before
	return step, nil
}

// recordFromReport builds a record for an order learnt from the venue.
func recordFromReport(r Report, now time.Time) OrderRecord {
	_, epoch, seq, _ := ParseClientID(r.ClientID)
	return OrderRecord{
		ClientID: r.ClientID,
		Epoch:    epoch,
		Seq:      seq,
		Intent: trading.Intent{
			Symbol: r.Symbol, Side: r.Side, Type: r.Type, TimeInForce: r.TimeInForce,
			Price: r.Price, Qty: r.Qty, ReduceOnly: r.ReduceOnly, Tag: "adopted",
		},
		Status:     trading.StatusNew,
		ExchangeID: r.OrderID,
		Adopted:    true,
		Created:    now,
		Updated:    now,
	}
}

// keyOf is the tracking key: the client id, or for foreign orders without
// one the exchange order id.
func keyOf(r Report) string {
	if r.ClientID != "" {
		return r.ClientID
	}
	return foreignKeyPrefix + r.OrderID
}

// foreignKeyPrefix starts the key keyOf gives an order without a client id.
const foreignKeyPrefix = "x-"

// noClientID reports whether o was adopted without a client id (keyed by
// its exchange id): it cannot be looked up or cancelled by client id.
func noClientID(o OrderRecord) bool {
	return o.Adopted && len(o.ClientID) > len(foreignKeyPrefix) && strings.HasPrefix(o.ClientID, foreignKeyPrefix)
}
