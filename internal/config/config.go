// Package config loads bitrader's configuration in layers and validates it.
//
// Precedence, lowest first: built-in defaults < config/<env>.yaml < the
// user file (--config, or config.yaml if present) < environment variables <
// flags. Every value remembers which layer set it, so a validation problem
// names the key, where it came from and what is allowed.
package config

import (
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
)

// Environments bitrader knows.
const (
	Development = "development"
	Staging     = "staging"
	Production  = "production"
)

// Config is the effective configuration. Field yaml tags are the key names
// used in files, in BITRADER_<PATH> variables and in --set flags.
type Config struct {
	Environment string         `yaml:"-"`
	API         APIConfig      `yaml:"api"`
	Trading     TradingConfig  `yaml:"trading"`
	Strategy    StrategyConfig `yaml:"strategy"`
	Risk        RiskConfig     `yaml:"risk"`
	System      SystemConfig   `yaml:"system"`
	HA          HAConfig       `yaml:"ha"`
	Sim         SimConfig      `yaml:"sim"`

	// Secrets come only from the environment or mounted files.
	Secrets Secrets `yaml:"-"`
}

// APIConfig says where the exchange is.
type APIConfig struct {
	// BaseURL is the REST endpoint, e.g. https://fapi.bitunix.com. Empty in
	// development means: start the embedded simulator and trade on it.
	BaseURL string `yaml:"baseURL"`
	// WSURL is the public WebSocket; default derived from BaseURL.
	WSURL string `yaml:"wsURL"`
	// PrivateWSURL defaults to WSURL with /public/ replaced by /private/.
	PrivateWSURL string        `yaml:"privateWSURL"`
	Timeout      time.Duration `yaml:"timeout"`
}

// TradingConfig says what to trade and how much.
type TradingConfig struct {
	// Live is the explicit opt-in to trade real money.
	Live   bool `yaml:"live"`
	DryRun bool `yaml:"dryRun"`
	// Symbols to trade, e.g. [BTCUSDT].
	Symbols      []string `yaml:"symbols"`
	MarginCoin   string   `yaml:"marginCoin"`
	Leverage     int      `yaml:"leverage"`
	MarginMode   string   `yaml:"marginMode"`   // ISOLATION or CROSS
	PositionMode string   `yaml:"positionMode"` // ONE_WAY or HEDGE
	// MaxDailyLoss is the fraction of equity at the start of the UTC day
	// that may be lost before new entries stop.
	MaxDailyLoss fixed.Value `yaml:"maxDailyLoss"`
	// BaseSizeRatio is order notional as a fraction of equity.
	BaseSizeRatio fixed.Value `yaml:"baseSizeRatio"`
	// ClientIDPrefix starts every client order id, so reconciliation can
	// tell this bot's orders from others on the account.
	ClientIDPrefix     string        `yaml:"clientIdPrefix"`
	CancelOnShutdown   bool          `yaml:"cancelOnShutdown"`
	UnknownOrderPolicy string        `yaml:"unknownOrderPolicy"` // adopt or cancel
	ReconcileInterval  time.Duration `yaml:"reconcileInterval"`
	// AmbiguousOrderGrace is how long an order whose place call had no
	// clear answer (timeout, 5xx, "network error") stays open for the
	// strategy, looked up by client id at every reconciliation, before an
	// exchange that still does not know it counts as never sent.
	AmbiguousOrderGrace time.Duration `yaml:"ambiguousOrderGrace"`
}

// StrategyConfig selects and parameterises the strategy.
type StrategyConfig struct {
	Name           string `yaml:"name"`
	StrategyParams `yaml:",inline"`
}

// SystemConfig is process-level settings.
type SystemConfig struct {
	LogLevel        string        `yaml:"logLevel"`
	LogFormat       string        `yaml:"logFormat"` // text or json; default by environment
	MetricsPort     int           `yaml:"metricsPort"`
	ListenAddress   string        `yaml:"listenAddress"`
	DataDir         string        `yaml:"dataDir"`
	ShutdownTimeout time.Duration `yaml:"shutdownTimeout"`
}

// HAConfig turns on leader election on a Kubernetes Lease.
type HAConfig struct {
	Enabled        bool          `yaml:"enabled"`
	LeaseName      string        `yaml:"leaseName"`
	LeaseNamespace string        `yaml:"leaseNamespace"`
	Identity       string        `yaml:"identity"`
	LeaseDuration  time.Duration `yaml:"leaseDuration"`
	RenewDeadline  time.Duration `yaml:"renewDeadline"`
	RetryPeriod    time.Duration `yaml:"retryPeriod"`
}

// SimConfig configures the embedded simulator used in development.
type SimConfig struct {
	Seed         int64       `yaml:"seed"`
	StartBalance fixed.Value `yaml:"startBalance"`
	MakerFee     fixed.Value `yaml:"makerFee"`
	TakerFee     fixed.Value `yaml:"takerFee"`
	// MarketData is "synthetic" or "replay:FILE".
	MarketData      string        `yaml:"marketData"`
	FundingInterval time.Duration `yaml:"fundingInterval"`
}

// Defaults returns the built-in defaults, the lowest layer. They are safe:
// dry run, development, no real exchange.
func Defaults() Config {
	return Config{
		Environment: Development,
		API:         APIConfig{Timeout: 10 * time.Second},
		Trading: TradingConfig{
			DryRun:              true,
			Symbols:             []string{"BTCUSDT"},
			MarginCoin:          "USDT",
			Leverage:            5,
			MarginMode:          "ISOLATION",
			PositionMode:        "ONE_WAY",
			MaxDailyLoss:        fixed.MustParse("0.02"),
			BaseSizeRatio:       fixed.MustParse("0.001"),
			ClientIDPrefix:      "btr",
			CancelOnShutdown:    true,
			UnknownOrderPolicy:  "cancel",
			ReconcileInterval:   30 * time.Second,
			AmbiguousOrderGrace: 2 * time.Minute,
		},
		Strategy: StrategyConfig{Name: "trend", StrategyParams: defaultStrategyParams()},
		Risk:     defaultRisk(),
		System: SystemConfig{
			LogLevel:        "info",
			MetricsPort:     8080,
			DataDir:         "./data",
			ShutdownTimeout: 20 * time.Second,
		},
		HA: HAConfig{
			LeaseName:     "bitrader",
			LeaseDuration: 15 * time.Second,
			RenewDeadline: 10 * time.Second,
			RetryPeriod:   2 * time.Second,
		},
		Sim: SimConfig{
			Seed:            1,
			StartBalance:    fixed.FromInt(10_000),
			MakerFee:        fixed.MustParse("0.0002"),
			TakerFee:        fixed.MustParse("0.0006"),
			MarketData:      "synthetic",
			FundingInterval: 8 * time.Hour,
		},
	}
}

// LogFormatOrDefault is text in development and JSON elsewhere unless set.
func (c *Config) LogFormatOrDefault() string {
	if c.System.LogFormat != "" {
		return c.System.LogFormat
	}
	if c.Environment == Development {
		return "text"
	}
	return "json"
}

// UsesEmbeddedSimulator reports whether run should start the simulator in
// process: only in development, and only when no exchange is configured.
func (c *Config) UsesEmbeddedSimulator() bool {
	return c.Environment == Development && c.API.BaseURL == ""
}
