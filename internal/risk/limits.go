package risk

import (
	"errors"
	"fmt"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
)

// Limits are the risk gate's thresholds. The config package embeds them
// under `risk`. Every field is required: a zero limit is refused by
// Validate rather than silently meaning "unlimited".
//
// Defaults: maxOrderNotional 1000, maxPositionNotional 5000,
// maxTotalNotional 10000, maxLeverage 5, maxOrdersPerMinute 60,
// staleData 5s, maxDailyLoss 0.05, maxDrawdown 0.15.
type Limits struct {
	// MaxOrderNotional caps one order's qty × price (quote currency, > 0).
	// Larger orders are trimmed.
	MaxOrderNotional fixed.Value `yaml:"maxOrderNotional"`
	// MaxPositionNotional caps |position| × price per symbol, counting
	// this strategy's open orders on the same side (quote currency, > 0).
	MaxPositionNotional fixed.Value `yaml:"maxPositionNotional"`
	// MaxTotalNotional caps the sum of all positions' notional (> 0).
	MaxTotalNotional fixed.Value `yaml:"maxTotalNotional"`
	// MaxLeverage caps total notional / equity (>= 1, <= 125).
	MaxLeverage fixed.Value `yaml:"maxLeverage"`
	// MaxOrdersPerMinute is the order-rate limit over a sliding 60 s
	// window (1..6000).
	MaxOrdersPerMinute int `yaml:"maxOrdersPerMinute"`
	// StaleData is the market-data age at which new exposure is refused
	// (>= 100ms).
	StaleData time.Duration `yaml:"staleData"`
	// MaxDailyLoss is the loss, as a fraction of equity at the start of
	// the UTC day, that trips the daily-loss breaker until the next UTC
	// day (0 < x < 1).
	MaxDailyLoss fixed.Value `yaml:"maxDailyLoss"`
	// MaxDrawdown is the fall from the equity peak, as a fraction of the
	// peak, that trips the drawdown breaker until Resume (0 < x < 1).
	MaxDrawdown fixed.Value `yaml:"maxDrawdown"`
}

// DefaultLimits returns conservative defaults.
func DefaultLimits() Limits {
	return Limits{
		MaxOrderNotional:    fixed.FromInt(1000),
		MaxPositionNotional: fixed.FromInt(5000),
		MaxTotalNotional:    fixed.FromInt(10000),
		MaxLeverage:         fixed.FromInt(5),
		MaxOrdersPerMinute:  60,
		StaleData:           5 * time.Second,
		MaxDailyLoss:        fixed.MustParse("0.05"),
		MaxDrawdown:         fixed.MustParse("0.15"),
	}
}

// Validate names every offending field and what is allowed.
func (l Limits) Validate() error {
	var errs []error
	bad := func(field string, v any, allowed string) {
		errs = append(errs, fmt.Errorf("risk.%s %v: must be %s", field, v, allowed))
	}
	if l.MaxOrderNotional <= 0 {
		bad("maxOrderNotional", l.MaxOrderNotional, "> 0 (quote currency)")
	}
	if l.MaxPositionNotional <= 0 {
		bad("maxPositionNotional", l.MaxPositionNotional, "> 0 (quote currency)")
	}
	if l.MaxTotalNotional <= 0 {
		bad("maxTotalNotional", l.MaxTotalNotional, "> 0 (quote currency)")
	}
	if l.MaxLeverage < fixed.One || l.MaxLeverage > fixed.FromInt(125) {
		bad("maxLeverage", l.MaxLeverage, "between 1 and 125")
	}
	if l.MaxOrdersPerMinute < 1 || l.MaxOrdersPerMinute > 6000 {
		bad("maxOrdersPerMinute", l.MaxOrdersPerMinute, "between 1 and 6000")
	}
	if l.StaleData < 100*time.Millisecond {
		bad("staleData", l.StaleData, ">= 100ms (e.g. 5s)")
	}
	if l.MaxDailyLoss <= 0 || l.MaxDailyLoss >= fixed.One {
		bad("maxDailyLoss", l.MaxDailyLoss, "> 0 and < 1 (fraction of start-of-day equity)")
	}
	if l.MaxDrawdown <= 0 || l.MaxDrawdown >= fixed.One {
		bad("maxDrawdown", l.MaxDrawdown, "> 0 and < 1 (fraction of peak equity)")
	}
	return errors.Join(errs...)
}
