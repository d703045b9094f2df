// Package trading holds the vocabulary every layer shares: sides, order
// types, time-in-force, order status, intents and fills. It has no behaviour
// beyond parsing and printing; strategy, risk, order management and the venues
// all speak these types.
package trading

import (
	"fmt"
	"strings"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
)

// Side is the direction of an order or trade.
type Side int8

// Sides. The zero value is invalid so a forgotten field is caught.
const (
	Buy  Side = 1
	Sell Side = -1
)

// String returns "BUY" or "SELL", the Bitunix wire form.
func (s Side) String() string {
	switch s {
	case Buy:
		return "BUY"
	case Sell:
		return "SELL"
	}
	return fmt.Sprintf("Side(%d)", int8(s))
}

// Opposite returns the other side.
func (s Side) Opposite() Side { return -s }

// Sign is +1 for Buy and -1 for Sell, as a fixed.Value multiplier.
func (s Side) Sign() fixed.Value { return fixed.FromInt(int64(s)) }

// ParseSide accepts BUY/SELL/LONG/SHORT in any case; Bitunix sends all of
// these in different places.
func ParseSide(s string) (Side, error) {
	switch strings.ToUpper(s) {
	case "BUY", "LONG":
		return Buy, nil
	case "SELL", "SHORT":
		return Sell, nil
	}
	return 0, fmt.Errorf("unknown side %q", s)
}

// OrderType is LIMIT or MARKET.
type OrderType int8

// Order types.
const (
	Limit  OrderType = 1
	Market OrderType = 2
)

func (t OrderType) String() string {
	switch t {
	case Limit:
		return "LIMIT"
	case Market:
		return "MARKET"
	}
	return fmt.Sprintf("OrderType(%d)", int8(t))
}

// ParseOrderType accepts LIMIT/MARKET in any case.
func ParseOrderType(s string) (OrderType, error) {
	switch strings.ToUpper(s) {
	case "LIMIT":
		return Limit, nil
	case "MARKET":
		return Market, nil
	}
	return 0, fmt.Errorf("unknown order type %q", s)
}

// TimeInForce is Bitunix's "effect".
type TimeInForce int8

// Time-in-force values. GTC is the zero value, as on the exchange.
const (
	GTC TimeInForce = iota
	IOC
	FOK
	PostOnly
)

func (t TimeInForce) String() string {
	switch t {
	case GTC:
		return "GTC"
	case IOC:
		return "IOC"
	case FOK:
		return "FOK"
	case PostOnly:
		return "POST_ONLY"
	}
	return fmt.Sprintf("TimeInForce(%d)", int8(t))
}

// ParseTimeInForce accepts the Bitunix effect names in any case; empty is GTC.
func ParseTimeInForce(s string) (TimeInForce, error) {
	switch strings.ToUpper(s) {
	case "", "GTC":
		return GTC, nil
	case "IOC":
		return IOC, nil
	case "FOK":
		return FOK, nil
	case "POST_ONLY", "POSTONLY":
		return PostOnly, nil
	}
	return 0, fmt.Errorf("unknown time in force %q", s)
}

// OrderStatus is the lifecycle state of an order as bitrader tracks it.
type OrderStatus int8

// Order states. Pending and Submitted exist only locally: Pending is written
// to the journal before the request is sent, Submitted once it was sent but
// not yet acknowledged.
const (
	StatusUnknown OrderStatus = iota
	StatusPending
	StatusSubmitted
	StatusNew
	StatusPartiallyFilled
	StatusFilled
	StatusCanceled
	StatusRejected
	StatusExpired
)

var statusNames = [...]string{"UNKNOWN", "PENDING", "SUBMITTED", "NEW", "PART_FILLED", "FILLED", "CANCELED", "REJECTED", "EXPIRED"}

func (s OrderStatus) String() string {
	if int(s) < len(statusNames) && s >= 0 {
		return statusNames[s]
	}
	return fmt.Sprintf("OrderStatus(%d)", int8(s))
}

// Final reports whether no further transition is possible.
func (s OrderStatus) Final() bool {
	return s == StatusFilled || s == StatusCanceled || s == StatusRejected || s == StatusExpired
}

// ParseOrderStatus maps every status spelling Bitunix uses (including
// PART_FILLED_CANCELED, SYSTEM_CANCELED, INIT and the observed "NEW_").
func ParseOrderStatus(s string) (OrderStatus, error) {
	switch strings.ToUpper(strings.TrimRight(s, "_")) {
	case "INIT", "NEW":
		return StatusNew, nil
	case "PART_FILLED", "PARTIALLY_FILLED":
		return StatusPartiallyFilled, nil
	case "FILLED":
		return StatusFilled, nil
	case "CANCELED", "CANCELLED", "PART_FILLED_CANCELED", "SYSTEM_CANCELED":
		return StatusCanceled, nil
	case "EXPIRED":
		return StatusExpired, nil
	case "REJECTED", "FAILED":
		return StatusRejected, nil
	}
	return StatusUnknown, fmt.Errorf("unknown order status %q", s)
}

// Intent is what a strategy wants: an order it would like placed. The risk
// gate may approve, trim (Qty) or refuse it; the order manager turns an
// approved intent into an order with a client id.
type Intent struct {
	Symbol      string
	Side        Side
	Type        OrderType
	TimeInForce TimeInForce
	Price       fixed.Value // zero for MARKET
	Qty         fixed.Value // base coin, > 0
	ReduceOnly  bool
	// Tag names the strategy decision (e.g. "entry", "stop", "grid-3"),
	// kept with the order for status pages and reports.
	Tag string
}

// Fill is one execution of an order.
type Fill struct {
	Symbol   string
	OrderID  string
	ClientID string
	TradeID  string
	Side     Side
	Price    fixed.Value
	Qty      fixed.Value
	Fee      fixed.Value // positive = paid
	Maker    bool
	Time     time.Time
}

// Notional returns price*qty.
func (f Fill) Notional() fixed.Value { return f.Price.Mul(f.Qty) }
