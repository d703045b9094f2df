package config

import (
	"errors"
	"strings"

	"github.com/bitrader/bitrader/internal/risk"
	"github.com/bitrader/bitrader/internal/strategy"
)

// StrategyParams are the typed parameter blocks of every strategy, under
// strategy.<name>.
type StrategyParams = strategy.Params

// RiskConfig is the risk gate's limits, under risk.*.
type RiskConfig = risk.Limits

func defaultStrategyParams() StrategyParams { return strategy.DefaultParams() }
func defaultRisk() RiskConfig               { return risk.DefaultLimits() }

// derivedKeys are fields of embedded types that another key feeds, so
// there is exactly one name for each setting: the risk gate's daily loss
// limit is trading.maxDailyLoss, which deployment documents name.
var derivedKeys = map[string]bool{"risk.maxDailyLoss": true}

// applyDerived copies settings into the fields derivedKeys hides.
func (c *Config) applyDerived() {
	c.Risk.MaxDailyLoss = c.Trading.MaxDailyLoss
}

// splitErrors undoes errors.Join so each problem is reported on its own.
func splitErrors(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, splitErrors(e)...)
		}
		return out
	}
	if strings.Contains(err.Error(), "\n") {
		var out []error
		for _, line := range strings.Split(err.Error(), "\n") {
			out = append(out, errors.New(line))
		}
		return out
	}
	return []error{err}
}
