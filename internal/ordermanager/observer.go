package ordermanager

import (
	"time"

	"github.com/bitrader/bitrader/internal/trading"
)

// Submit outcomes reported to Observer.OrderSubmitted.
const (
	OutcomeAccepted  = "accepted"  // venue acknowledged
	OutcomeRejected  = "rejected"  // definite refusal
	OutcomeDuplicate = "duplicate" // 30042: already placed, adopted by lookup
	OutcomeResolved  = "resolved"  // ambiguous reply, found by client id
	OutcomeAmbiguous = "ambiguous" // unknown; left for reconciliation
	OutcomeFenced    = "fenced"    // refused by the fence, not sent
)

// Observer receives metrics events. Implementations must be fast and must
// not call back into the Manager. Embed NopObserver to implement a subset.
type Observer interface {
	OrderSubmitted(o Order, outcome string)
	OrderRejected(symbol string, code int)
	OrderFilled(f trading.Fill)
	IllegalTransition(kind EventKind)
	Reconciled(r ReconcileResult, d time.Duration)
	JournalWrite(op string, d time.Duration)
}

// NopObserver ignores everything.
type NopObserver struct{}

// OrderSubmitted does nothing.
func (NopObserver) OrderSubmitted(Order, string) {}

// OrderRejected does nothing.
func (NopObserver) OrderRejected(string, int) {}

// OrderFilled does nothing.
func (NopObserver) OrderFilled(trading.Fill) {}

// IllegalTransition does nothing.
func (NopObserver) IllegalTransition(EventKind) {}

// Reconciled does nothing.
func (NopObserver) Reconciled(ReconcileResult, time.Duration) {}

// JournalWrite does nothing.
func (NopObserver) JournalWrite(string, time.Duration) {}
