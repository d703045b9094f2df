package strategy

import (
	"fmt"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/instrument"
	"github.com/bitrader/bitrader/internal/market"
	"github.com/bitrader/bitrader/internal/trading"
)

// Strategy turns events into intents. OnEvent must not block, do I/O or
// read the clock: now is the only time it knows. The returned Output's
// slices are owned by the strategy and valid until its next OnEvent, so
// the caller must consume (or copy) them before calling again; this keeps
// the tick path free of allocations.
type Strategy interface {
	Name() string
	OnEvent(now time.Time, ev Event, view View) Output
}

// EventKind says which field of an Event is set.
type EventKind uint8

// Event kinds.
const (
	// EventBook: the symbol's book changed; read it from View.Market.
	EventBook EventKind = iota + 1
	// EventTrade: Event.Trade was printed (already applied to View.Market).
	EventTrade
	// EventCandle: Event.Candle closed (built from trades or read from a
	// kline file).
	EventCandle
	// EventMark: mark/index/funding changed; read it from View.Market.
	EventMark
	// EventFill: Event.Fill executed one of this strategy's orders
	// (already reflected in View.Position).
	EventFill
	// EventTimer: a periodic tick with no payload, so time-driven
	// strategies act in quiet markets.
	EventTimer
)

// Event is one input, a small tagged union passed by value so delivering
// it allocates nothing.
type Event struct {
	Kind   EventKind
	Symbol string
	Trade  trading.Trade
	Candle trading.Kline
	Fill   trading.Fill
}

// Position is the strategy's position in its symbol.
type Position struct {
	Qty        fixed.Value // signed: + long, - short
	EntryPrice fixed.Value // average entry; 0 when flat
}

// Order is one of the strategy's open orders, including ones sent but not
// yet acknowledged, so a strategy never sends the same thing twice.
type Order struct {
	ClientID      string
	Side          trading.Side
	Type          trading.OrderType
	Price         fixed.Value
	Qty           fixed.Value // remaining
	ReduceOnly    bool
	Tag           string
	PendingCancel bool // a cancel was requested; do not cancel again
}

// View is the read-only world a strategy sees at one event. The caller
// builds it; the strategy must not keep the pointers or slices past the
// call.
type View struct {
	Market   *market.Symbol   // market state of the strategy's symbol
	Position Position         // current position
	Equity   fixed.Value      // account equity (for sizing)
	Orders   []Order          // this strategy's open orders
	Spec     *instrument.Spec // the symbol's precision and limits
}

// Output is what the strategy wants done: orders to place (each passes the
// risk gate) and its own open orders to cancel, by client id.
type Output struct {
	Place  []trading.Intent
	Cancel []string
}

// Empty reports whether there is nothing to do.
func (o Output) Empty() bool { return len(o.Place) == 0 && len(o.Cancel) == 0 }

// New builds the strategy named in config for one symbol. The scripted
// strategy is for tests and is built with NewScripted instead.
func New(name, symbol string, sizing Sizing, p Params) (Strategy, error) {
	if err := p.Validate(name); err != nil {
		return nil, err
	}
	if err := sizing.Validate(); err != nil {
		return nil, fmt.Errorf("strategy %s sizing: %w", name, err)
	}
	switch name {
	case NameMeanReversion:
		return NewMeanReversion(symbol, sizing, p.MeanReversion), nil
	case NameTrend:
		return NewTrend(symbol, sizing, p.Trend), nil
	case NameGrid:
		return NewGrid(symbol, sizing, p.Grid), nil
	}
	return nil, fmt.Errorf("strategy %q cannot be built from config (use NewScripted in tests)", name)
}

// Qty sizes an order: notional = BaseSizeRatio × equity, capped at
// equity × Leverage, converted to quantity at price, rounded down to the
// lot step with spec.RoundQty, clamped to the spec's maximum for the order
// type. It returns 0 (skip the order) when the result is below MinQty, or
// when equity or price is not positive.
func (s Sizing) Qty(equity, price fixed.Value, spec *instrument.Spec, marketOrder bool) fixed.Value {
	if equity <= 0 || price <= 0 {
		return 0
	}
	notional := equity.Mul(s.BaseSizeRatio)
	if lev := s.Leverage.Max(fixed.One); notional > equity.Mul(lev) {
		notional = equity.Mul(lev)
	}
	q := notional.Div(price)
	if q.Mul(price) > notional { // Div rounds half up; never exceed the notional
		q--
	}
	if spec == nil {
		return q
	}
	q = spec.RoundQty(q)
	if mx := spec.MaxQty(marketOrder); mx > 0 && q > mx {
		q = spec.RoundQty(mx)
	}
	if q <= 0 || q < spec.MinQty {
		return 0
	}
	return q
}

// out is the reusable output buffer every strategy embeds.
type out struct {
	place  []trading.Intent
	cancel []string
}

func (o *out) reset() {
	o.place = o.place[:0]
	o.cancel = o.cancel[:0]
}

func (o *out) output() Output { return Output{Place: o.place, Cancel: o.cancel} }

func (o *out) market(symbol string, side trading.Side, qty fixed.Value, reduceOnly bool, tag string) {
	if qty <= 0 {
		return
	}
	o.place = append(o.place, trading.Intent{Symbol: symbol, Side: side, Type: trading.Market, Qty: qty, ReduceOnly: reduceOnly, Tag: tag})
}

// closePosition emits a reduce-only market order flattening pos.
func (o *out) closePosition(symbol string, pos fixed.Value, tag string) {
	if pos > 0 {
		o.market(symbol, trading.Sell, pos, true, tag)
	} else if pos < 0 {
		o.market(symbol, trading.Buy, -pos, true, tag)
	}
}

// hasLiveOrders reports orders not already being cancelled: while any is
// in flight the position is about to change, so acting again would
// duplicate it.
func hasLiveOrders(orders []Order) bool {
	for i := range orders {
		if !orders[i].PendingCancel {
			return true
		}
	}
	return false
}
