// Package instrument describes a tradable contract and is the one place
// where prices and quantities are rounded to the exchange's precision.
package instrument

import (
	"errors"
	"fmt"

	"github.com/bitrader/bitrader/internal/fixed"
)

// Spec is a contract's precision and limits, as Bitunix's trading_pairs
// reports them. Bitunix has no tick-size field: tick = 10^-QuotePrecision and
// step = 10^-BasePrecision.
type Spec struct {
	Symbol            string
	Base              string
	Quote             string
	BasePrecision     int         // decimals allowed in quantity
	QuotePrecision    int         // decimals allowed in price
	MinQty            fixed.Value // minTradeVolume
	MaxLimitQty       fixed.Value // maxLimitOrderVolume; 0 = no limit
	MaxMarketQty      fixed.Value // maxMarketOrderVolume; 0 = no limit
	MinLeverage       int
	MaxLeverage       int
	DefaultLeverage   int
	PriceProtectScope fixed.Value // e.g. 0.02: limit buys at most mark*(1+scope)
	Status            string      // OPEN, CANCEL_ONLY, STOP
}

// Errors from Check, for callers that branch on them.
var (
	ErrQtyTooSmall = errors.New("quantity below the minimum")
	ErrQtyTooLarge = errors.New("quantity above the maximum")
	ErrBadPrice    = errors.New("price must be positive")
	ErrNotTrading  = errors.New("symbol is not open for trading")
)

// Tick is the smallest price increment.
func (s Spec) Tick() fixed.Value { return fixed.Step(s.QuotePrecision) }

// LotStep is the smallest quantity increment.
func (s Spec) LotStep() fixed.Value { return fixed.Step(s.BasePrecision) }

// RoundQty rounds a quantity down to the lot step, as the exchange requires
// (rounding up could exceed what risk approved).
func (s Spec) RoundQty(q fixed.Value) fixed.Value { return q.Trunc(s.BasePrecision) }

// RoundPrice rounds a price to the nearest tick.
func (s Spec) RoundPrice(p fixed.Value) fixed.Value { return p.Round(s.QuotePrecision) }

// RoundPricePassive rounds a limit price away from the market: buys down,
// sells up, so rounding never makes an order more aggressive. side is +1 for
// buy and -1 for sell.
func (s Spec) RoundPricePassive(p fixed.Value, side int) fixed.Value {
	if side > 0 {
		return p.Floor(s.QuotePrecision)
	}
	return p.Ceil(s.QuotePrecision)
}

// MaxQty returns the maximum quantity for a limit or market order; 0 means
// no limit is known.
func (s Spec) MaxQty(market bool) fixed.Value {
	if market {
		return s.MaxMarketQty
	}
	return s.MaxLimitQty
}

// Check validates an already-rounded order against the contract's limits.
func (s Spec) Check(qty, price fixed.Value, market bool) error {
	if s.Status != "" && s.Status != "OPEN" {
		return fmt.Errorf("%s: %w (status %s)", s.Symbol, ErrNotTrading, s.Status)
	}
	if qty < s.MinQty || qty <= 0 {
		return fmt.Errorf("%s qty %s: %w %s", s.Symbol, qty, ErrQtyTooSmall, s.MinQty)
	}
	if max := s.MaxQty(market); max > 0 && qty > max {
		return fmt.Errorf("%s qty %s: %w %s", s.Symbol, qty, ErrQtyTooLarge, max)
	}
	if !market && price <= 0 {
		return fmt.Errorf("%s price %s: %w", s.Symbol, price, ErrBadPrice)
	}
	return nil
}

// Default returns the spec the simulator and tests use for a symbol when
// none is configured: BTCUSDT-like precision.
func Default(symbol string) Spec {
	return Spec{
		Symbol: symbol, Base: symbol[:max(0, len(symbol)-4)], Quote: "USDT",
		BasePrecision: 4, QuotePrecision: 1,
		MinQty: fixed.MustParse("0.0001"), MaxLimitQty: fixed.FromInt(500), MaxMarketQty: fixed.FromInt(100),
		MinLeverage: 1, MaxLeverage: 125, DefaultLeverage: 20,
		PriceProtectScope: fixed.MustParse("0.02"), Status: "OPEN",
	}
}
