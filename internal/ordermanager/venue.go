package ordermanager

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/trading"
)

// Venue is what the order manager needs from an exchange. Adapters for the
// Bitunix client, the simulator, the paper venue and the backtest venue
// implement it and map their failures onto the sentinel errors below.
type Venue interface {
	// Place sends a new order. nil error means the venue acknowledged it (on
	// Bitunix the WS push is the real confirmation; the manager treats the
	// ack as New and lets pushes correct it). Errors must be a *Rejected,
	// ErrDuplicateClientID, or anything else, which is treated as ambiguous.
	Place(ctx context.Context, o Order) (Ack, error)
	// Cancel asks the venue to cancel one order. ref.OrderID wins over
	// ref.ClientID when both are set. Success is confirmed by a later report.
	Cancel(ctx context.Context, ref OrderRef) error
	// OrderByClientID returns the venue's view of one order, open or final,
	// or an error wrapping ErrNotFound if the venue never saw that id.
	OrderByClientID(ctx context.Context, clientID string) (Report, error)
	// OpenOrders lists open orders; symbol "" means all symbols.
	OpenOrders(ctx context.Context, symbol string) ([]Report, error)
	// Positions lists open positions.
	Positions(ctx context.Context) ([]PositionReport, error)
	// Balance returns the margin coin balance.
	Balance(ctx context.Context) (BalanceReport, error)
}

// Sentinel errors venue adapters map onto.
var (
	// ErrDuplicateClientID: the venue already has an order with this client
	// id (Bitunix 30042). It means "already placed".
	ErrDuplicateClientID = errors.New("duplicate client order id")
	// ErrNotFound: the venue has no order with this id.
	ErrNotFound = errors.New("order not found on venue")
	// ErrAmbiguous: the request may or may not have taken effect (timeout,
	// connection reset, 5xx). Any untyped error from Place is treated so.
	ErrAmbiguous = errors.New("outcome of venue request unknown")
	// ErrFenced: this process may not submit for this epoch (not the leader).
	ErrFenced = errors.New("submission fenced: not the active trader for this epoch")
)

// Rejected is a definite refusal by the venue: the order does not exist.
type Rejected struct {
	Code   int    // exchange code, e.g. 30016; 0 if the venue has none
	Reason string // exchange message
}

func (e *Rejected) Error() string {
	return fmt.Sprintf("order rejected by venue: code %d: %s", e.Code, e.Reason)
}

// Order is what is sent: the approved intent under its client id.
type Order struct {
	ClientID string
	trading.Intent
}

// OrderRef names an order to cancel.
type OrderRef struct {
	Symbol   string
	ClientID string
	OrderID  string
}

// Ack is the venue's synchronous reply to Place.
type Ack struct {
	OrderID  string
	ClientID string
}

// Report is the venue's view of an order, from a WS push, a detail query or
// an open-orders listing. Quantities are cumulative for the order.
type Report struct {
	ClientID    string
	OrderID     string
	Symbol      string
	Side        trading.Side
	Type        trading.OrderType
	TimeInForce trading.TimeInForce
	Price       fixed.Value
	Qty         fixed.Value
	ReduceOnly  bool
	Status      trading.OrderStatus // New, PartiallyFilled or final
	FilledQty   fixed.Value         // cumulative
	AvgPrice    fixed.Value         // average fill price of FilledQty
	Fee         fixed.Value         // cumulative, positive = paid
	Time        time.Time           // exchange update time
}

// LiveAccount is implemented by a venue whose account is a real exchange
// account (LiveAccount returns true). Two things then hold that do not for
// the local paper and backtest venues, which report funding through a sink
// (Core.OnFunding) and own the only balance there is:
//   - nothing else reports funding: it is booked from the cumulative
//     funding that position reports and pushes carry (PositionFunding);
//   - the balance moves outside the bot (deposits, withdrawals, a
//     liquidation's fee): reconciliation compares it with the ledger and
//     rebases the ledger's start balance on a lasting difference, and the
//     start balance read from the venue wins over a journal snapshot's.
type LiveAccount interface {
	LiveAccount() bool
}

// PositionReport is the venue's view of one position.
type PositionReport struct {
	Symbol string
	// PositionID is the venue's id; empty if it has none (funding is then
	// not booked from this report).
	PositionID    string
	Qty           fixed.Value // signed: positive long, negative short
	AvgEntry      fixed.Value
	UnrealizedPnL fixed.Value
	RealizedPnL   fixed.Value
	Fee           fixed.Value
	Funding       fixed.Value // cumulative for the position, positive received
}

// BalanceReport is the venue's view of the account.
type BalanceReport struct {
	Coin          string
	Available     fixed.Value
	Frozen        fixed.Value
	Margin        fixed.Value
	UnrealizedPnL fixed.Value
}

// Total is available + frozen + margin: the wallet balance without
// unrealised PnL.
func (b BalanceReport) Total() fixed.Value { return b.Available + b.Frozen + b.Margin }

// Fence decides whether this process may submit under an epoch. It is asked
// immediately before every Place.
type Fence interface {
	Allowed(epoch uint64) bool
}

// AlwaysAllow is the fence for single-replica deployments without HA.
type AlwaysAllow struct{}

// Allowed always returns true.
func (AlwaysAllow) Allowed(uint64) bool { return true }

// FenceFunc adapts a function to Fence.
type FenceFunc func(epoch uint64) bool

// Allowed calls f.
func (f FenceFunc) Allowed(epoch uint64) bool { return f(epoch) }
