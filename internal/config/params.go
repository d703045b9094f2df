package config

import (
	"errors"
	"net/url"
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
	if c.API.WSURL == "" && c.API.BaseURL != "" {
		c.API.WSURL = deriveWSURL(c.API.BaseURL)
	}
	if c.API.PrivateWSURL == "" && c.API.WSURL != "" {
		c.API.PrivateWSURL = strings.Replace(c.API.WSURL, "/public/", "/private/", 1)
	}
}

// deriveWSURL maps https://host to wss://host/public/ (and http to ws), the
// layout of both the real exchange and the simulator.
func deriveWSURL(base string) string {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return ""
	}
	scheme := "wss"
	if u.Scheme == "http" {
		scheme = "ws"
	}
	return scheme + "://" + u.Host + "/public/"
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
