package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
)

var (
	symbolRE   = regexp.MustCompile(`^[A-Z0-9]{2,30}$`)
	idPrefixRE = regexp.MustCompile(`^[A-Za-z0-9]{1,12}$`)
)

// validate checks every rule and returns all problems, each naming its key
// and the layer that set it.
func (l *Loaded) validate() Problems {
	c := &l.Config
	var ps Problems
	bad := func(key, format string, args ...any) {
		ps = append(ps, Problem{Key: key, Source: l.Sources[key], Message: fmt.Sprintf(format, args...)})
	}
	oneOf := func(key, v string, allowed ...string) {
		for _, a := range allowed {
			if v == a {
				return
			}
		}
		bad(key, "%q is not allowed; allowed: %s", v, strings.Join(allowed, ", "))
	}
	fraction := func(key string, v fixed.Value, inclusiveOne bool) {
		if v <= 0 || v > fixed.One || (v == fixed.One && !inclusiveOne) {
			if inclusiveOne {
				bad(key, "%s is out of range; want a fraction in (0, 1]", v)
			} else {
				bad(key, "%s is out of range; want a fraction in (0, 1), e.g. 0.02 for 2%%", v)
			}
		}
	}
	positive := func(key string, d time.Duration) {
		if d <= 0 {
			bad(key, "%s must be positive", d)
		}
	}

	// api
	if c.API.BaseURL != "" {
		if err := checkURL(c.API.BaseURL, "http", "https"); err != nil {
			bad("api.baseURL", "%v", err)
		}
	}
	for _, k := range []struct {
		key, v string
	}{{"api.wsURL", c.API.WSURL}, {"api.privateWSURL", c.API.PrivateWSURL}} {
		if k.v != "" && l.Sources[k.key].Layer != "derived" {
			if err := checkURL(k.v, "ws", "wss"); err != nil {
				bad(k.key, "%v", err)
			}
		}
	}
	positive("api.timeout", c.API.Timeout)

	// trading
	if len(c.Trading.Symbols) == 0 {
		bad("trading.symbols", "at least one symbol is required, e.g. [BTCUSDT]")
	}
	seen := map[string]bool{}
	for _, s := range c.Trading.Symbols {
		if !symbolRE.MatchString(s) {
			bad("trading.symbols", "%q is not a symbol; want upper-case letters and digits, e.g. BTCUSDT", s)
		}
		if seen[s] {
			bad("trading.symbols", "%q is listed twice", s)
		}
		seen[s] = true
	}
	oneOf("trading.marginCoin", c.Trading.MarginCoin, "USDT", "USDC")
	if c.Trading.Leverage < 1 || c.Trading.Leverage > 125 {
		bad("trading.leverage", "%d is out of range; want 1 to 125", c.Trading.Leverage)
	}
	oneOf("trading.marginMode", c.Trading.MarginMode, "ISOLATION", "CROSS")
	oneOf("trading.positionMode", c.Trading.PositionMode, "ONE_WAY", "HEDGE")
	fraction("trading.maxDailyLoss", c.Trading.MaxDailyLoss, false)
	fraction("trading.baseSizeRatio", c.Trading.BaseSizeRatio, true)
	if !idPrefixRE.MatchString(c.Trading.ClientIDPrefix) {
		bad("trading.clientIdPrefix", "%q is not allowed; want 1 to 12 letters or digits", c.Trading.ClientIDPrefix)
	}
	oneOf("trading.unknownOrderPolicy", c.Trading.UnknownOrderPolicy, "adopt", "cancel")
	if c.Trading.ReconcileInterval < time.Second {
		bad("trading.reconcileInterval", "%s is too short; want at least 1s", c.Trading.ReconcileInterval)
	}
	if c.Trading.AmbiguousOrderGrace < 5*time.Second {
		bad("trading.ambiguousOrderGrace", "%s is too short; want at least 5s (the exchange may show a new order late)", c.Trading.AmbiguousOrderGrace)
	}

	// system
	oneOf("system.logLevel", c.System.LogLevel, "debug", "info", "warn", "error")
	oneOf("system.logFormat", c.System.LogFormat, "", "text", "json")
	if c.System.MetricsPort < 1 || c.System.MetricsPort > 65535 {
		bad("system.metricsPort", "%d is not a TCP port; want 1 to 65535", c.System.MetricsPort)
	}
	if c.System.DataDir == "" {
		bad("system.dataDir", "must not be empty: the order journal lives there")
	}
	positive("system.shutdownTimeout", c.System.ShutdownTimeout)

	// ha
	if c.HA.Enabled {
		if c.HA.LeaseName == "" {
			bad("ha.leaseName", "must not be empty when ha.enabled is true")
		}
		positive("ha.leaseDuration", c.HA.LeaseDuration)
		positive("ha.renewDeadline", c.HA.RenewDeadline)
		positive("ha.retryPeriod", c.HA.RetryPeriod)
		if c.HA.RenewDeadline >= c.HA.LeaseDuration {
			bad("ha.renewDeadline", "%s must be shorter than ha.leaseDuration (%s)", c.HA.RenewDeadline, c.HA.LeaseDuration)
		}
		if c.HA.RetryPeriod >= c.HA.RenewDeadline {
			bad("ha.retryPeriod", "%s must be shorter than ha.renewDeadline (%s)", c.HA.RetryPeriod, c.HA.RenewDeadline)
		}
	}

	// sim
	if c.Sim.StartBalance <= 0 {
		bad("sim.startBalance", "%s must be positive", c.Sim.StartBalance)
	}
	if c.Sim.MakerFee < 0 || c.Sim.MakerFee >= fixed.One/10 || c.Sim.TakerFee < 0 || c.Sim.TakerFee >= fixed.One/10 {
		bad("sim.takerFee", "fees must be fractions in [0, 0.1), e.g. 0.0006")
	}
	if c.Sim.MarketData != "synthetic" && !strings.HasPrefix(c.Sim.MarketData, "replay:") {
		bad("sim.marketData", "%q is not allowed; want synthetic or replay:FILE", c.Sim.MarketData)
	}
	positive("sim.fundingInterval", c.Sim.FundingInterval)

	for _, err := range splitErrors(c.Strategy.Validate(c.Strategy.Name)) {
		ps = append(ps, problemFrom(l, "strategy", err))
	}
	for _, err := range splitErrors(c.Risk.Validate()) {
		if p := problemFrom(l, "risk", err); !derivedKeys[p.Key] {
			ps = append(ps, p)
		}
	}

	ps = append(ps, l.validateSafety()...)
	return ps
}

// validateSafety holds the contradictions that could lose money.
func (l *Loaded) validateSafety() Problems {
	c := &l.Config
	var ps Problems
	bad := func(key, format string, args ...any) {
		ps = append(ps, Problem{Key: key, Source: l.Sources[key], Message: fmt.Sprintf(format, args...)})
	}
	if c.API.BaseURL == "" {
		if c.Environment != Development {
			bad("api.baseURL", "must be set in %s; only development may use the embedded simulator", c.Environment)
		}
		return ps
	}
	loopback := IsLoopbackURL(c.API.BaseURL)
	if c.Environment == Production && loopback {
		bad("api.baseURL", "%s is a loopback address (a simulator); production must point at the real exchange", c.API.BaseURL)
	}
	if !c.Trading.DryRun && !loopback {
		if !c.Secrets.HasExchangeKeys() {
			bad("trading.dryRun", "false means trading real money on %s, which needs API_KEY and SECRET_KEY (or *_FILE); none are set", c.API.BaseURL)
		}
		if !c.Trading.Live {
			bad("trading.live", "trading.dryRun is false and api.baseURL is a real exchange: set trading.live: true (or --live) to confirm trading real money")
		}
	}
	if !c.Trading.DryRun && loopback && !c.Secrets.HasExchangeKeys() {
		bad("trading.dryRun", "false against the simulator at %s needs the simulator account's API_KEY and SECRET_KEY", c.API.BaseURL)
	}
	return ps
}

// problemFrom maps an error from a strategy or risk Validate onto a Problem;
// those errors start with the field's key under their section.
func problemFrom(l *Loaded, section string, err error) Problem {
	msg := err.Error()
	key := section
	if k, _, ok := strings.Cut(msg, " "); ok && strings.HasPrefix(k, section+".") {
		key = k
	}
	if key == "strategy" {
		key = "strategy.name"
	}
	return Problem{Key: key, Source: l.Sources[key], Message: msg}
}

// checkURL wants a plain or secure URL with a host, and plain only to
// loopback: elsewhere the API key and the request signatures would cross
// the network in clear text. Plain http and ws are for a simulator on this
// machine.
func checkURL(raw, plain, secure string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %w", raw, err)
	}
	if (u.Scheme != plain && u.Scheme != secure) || u.Host == "" {
		return fmt.Errorf("%q is not allowed; want a %s or %s URL with a host", raw, plain, secure)
	}
	if u.Scheme == plain && !isLoopbackHost(u.Hostname()) {
		return fmt.Errorf("%q is unencrypted: the API key and request signatures would cross the network in clear text; use %s (plain %s is only for a simulator on loopback)", raw, secure, plain)
	}
	return nil
}

// IsLoopbackURL reports whether a URL's host is localhost or a loopback IP,
// which is how bitrader tells the simulator from a real exchange.
func IsLoopbackURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	return isLoopbackHost(u.Hostname())
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
