package engine

import (
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/ordermanager"
	"github.com/bitrader/bitrader/internal/risk"
)

// Observer receives the engine's metrics events. Implementations must be
// fast, must not block and must not call back into the engine; they may be
// called from the engine's goroutine and (WSState, Leader, Ready) from the
// runner's stream goroutines. Embed NopObserver to implement a subset.
type Observer interface {
	// TickToOrder is the time from a market event entering the Core to
	// the order being handed to the order manager (decision latency:
	// market state, strategy and risk; journal and wire excluded).
	TickToOrder(symbol string, d time.Duration)
	// Decision is the risk gate's verdict on one intent (or the engine's
	// own refusal while halted, with verdict Refuse and reason None).
	Decision(symbol string, verdict risk.Verdict, reason risk.Reason)
	// Account is the account after a fill or a timer tick.
	Account(a AccountSnapshot)
	// Breakers is every breaker's state after it may have changed.
	Breakers(b []risk.BreakerStatus)
	// Halted says whether new entries are stopped and why.
	Halted(halted bool, reason string)
	// Reconciled is one reconciliation run (err joins the venue errors).
	Reconciled(r ordermanager.ReconcileResult, d time.Duration, err error)
	// WSState is a stream's connection state; WSReconnect one reconnect.
	WSState(stream string, connected bool)
	WSReconnect(stream string)
	// Leader says whether this process is the active trader.
	Leader(leading bool)
	// Ready mirrors /readyz.
	Ready(ready bool)
}

// AccountSnapshot is the account as the engine sees it.
type AccountSnapshot struct {
	Equity     fixed.Value
	DailyPnL   fixed.Value // equity minus equity at the start of the UTC day
	Drawdown   fixed.Value // equity peak minus equity, >= 0
	PnL        ordermanager.PnL
	Positions  []ordermanager.Position // owned by the engine; copy to keep
	OpenOrders int
}

// NopObserver ignores everything.
type NopObserver struct{}

// TickToOrder does nothing.
func (NopObserver) TickToOrder(string, time.Duration) {}

// Decision does nothing.
func (NopObserver) Decision(string, risk.Verdict, risk.Reason) {}

// Account does nothing.
func (NopObserver) Account(AccountSnapshot) {}

// Breakers does nothing.
func (NopObserver) Breakers([]risk.BreakerStatus) {}

// Halted does nothing.
func (NopObserver) Halted(bool, string) {}

// Reconciled does nothing.
func (NopObserver) Reconciled(ordermanager.ReconcileResult, time.Duration, error) {}

// WSState does nothing.
func (NopObserver) WSState(string, bool) {}

// WSReconnect does nothing.
func (NopObserver) WSReconnect(string) {}

// Leader does nothing.
func (NopObserver) Leader(bool) {}

// Ready does nothing.
func (NopObserver) Ready(bool) {}
