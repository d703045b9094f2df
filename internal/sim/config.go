package sim

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/instrument"
	"github.com/bitrader/bitrader/internal/marketdata"
)

// defaultBalance is the USDT a demo account or an account given without a
// balance starts with. Constants, not vars: fixed.Value is an int64 scaled
// by 1e8, and no package-level state may change under a running simulator.
const defaultBalance = 10_000 * fixed.One

// Account is one simulated exchange account.
type Account struct {
	APIKey  string      `json:"apiKey" yaml:"apiKey"`
	Secret  string      `json:"secret" yaml:"secret"`
	Balance fixed.Value `json:"balance" yaml:"balance"` // starting USDT; 0 = 10000
}

// SymbolConfig is one tradable contract.
type SymbolConfig struct {
	Spec       instrument.Spec
	MakerFee   fixed.Value // fraction, e.g. 0.0002
	TakerFee   fixed.Value // fraction, e.g. 0.0006
	StartPrice fixed.Value // first mid price of the synthetic generator
}

// MarketDataConfig selects the market-data source: the seeded synthetic
// generator (ReplayFile empty) or a replay of a kline/trade CSV.
type MarketDataConfig struct {
	Seed int64
	// ReplayFile is a kline or trade CSV (format detected) that drives the
	// symbol its name starts with (BTCUSDT-1m.csv → BTCUSDT), or the first
	// symbol; its first event is shifted to the simulator's start. Other
	// symbols keep the synthetic generator.
	ReplayFile string
	// Sources, if set, supplies a symbol's market data (tests and embedders
	// that need known prices; see NewScriptedSource). start is the
	// simulator's start time; event times are used as they are. A nil
	// result falls back to ReplayFile or the generator.
	Sources func(symbol string, start time.Time) marketdata.Source
}

// Config configures a Server. The zero value works: a loopback listener on a
// random port, one demo account, BTCUSDT and ETHUSDT, synthetic data.
type Config struct {
	Listen          string // default 127.0.0.1:0
	Accounts        []Account
	Symbols         []SymbolConfig
	FundingInterval time.Duration // default 8h
	TimestampWindow time.Duration // REST signature timestamp tolerance, default 60s
	MarketData      MarketDataConfig
	// Clock drives market data, funding, idle timeouts and rate limits.
	// nil means the wall clock, with a background ticker; a *ManualClock
	// means nothing moves until Server.Advance is called.
	Clock Clock
	// TickInterval is the market-data step (default 100ms of clock time).
	TickInterval time.Duration
	// DepthInterval is how often depth/ticker/price frames are pushed
	// (default 300ms of clock time, like the real exchange's ~310 ms).
	DepthInterval time.Duration
	// IdleTimeout drops a WebSocket with no client message (default 60s).
	IdleTimeout time.Duration
	// MaxClientMsgsPerSec disconnects faster WS clients (default 5).
	MaxClientMsgsPerSec int
	// MaxSubscriptions per connection (default 300).
	MaxSubscriptions int
	// DisableRateLimits turns the documented REST rate limits off
	// (benchmarks).
	DisableRateLimits bool
	Logger            *slog.Logger
}

// DefaultMakerFee and DefaultTakerFee are Bitunix's standard futures fees,
// 0.0002 and 0.0006 (fixed.Value is scaled by 1e8; TestFeeConstants checks
// the literals).
const (
	DefaultMakerFee = fixed.Value(20_000)
	DefaultTakerFee = fixed.Value(60_000)
)

// DefaultSymbols returns BTCUSDT and ETHUSDT with Bitunix-like precision.
func DefaultSymbols() []SymbolConfig {
	btc := instrument.Default("BTCUSDT")
	eth := instrument.Default("ETHUSDT")
	eth.BasePrecision, eth.QuotePrecision = 3, 2
	eth.MinQty = fixed.MustParse("0.001")
	eth.MaxLimitQty, eth.MaxMarketQty = fixed.FromInt(10_000), fixed.FromInt(2_000)
	return []SymbolConfig{
		{Spec: btc, MakerFee: DefaultMakerFee, TakerFee: DefaultTakerFee, StartPrice: fixed.FromInt(60_000)},
		{Spec: eth, MakerFee: DefaultMakerFee, TakerFee: DefaultTakerFee, StartPrice: fixed.FromInt(3_000)},
	}
}

// SymbolFromName returns a SymbolConfig for a symbol name with default
// precision, fees and a start price guessed from the base coin; the CLI's
// --symbol flag uses it.
func SymbolFromName(name string) SymbolConfig {
	name = strings.ToUpper(strings.TrimSpace(name))
	for _, s := range DefaultSymbols() {
		if s.Spec.Symbol == name {
			return s
		}
	}
	return SymbolConfig{Spec: instrument.Default(name), MakerFee: DefaultMakerFee, TakerFee: DefaultTakerFee, StartPrice: fixed.FromInt(100)}
}

// ParseAccountFlag parses "KEY:SECRET[:BALANCE]", the --account flag.
func ParseAccountFlag(s string) (Account, error) {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return Account{}, fmt.Errorf("account %q: want KEY:SECRET[:BALANCE]", redact(s))
	}
	a := Account{APIKey: parts[0], Secret: parts[1]}
	if len(parts) == 3 {
		b, err := fixed.Parse(parts[2])
		if err != nil || b < 0 {
			return Account{}, fmt.Errorf("account %q: bad balance %q: %w", parts[0], parts[2], err)
		}
		a.Balance = b
	}
	return a, nil
}

// redact hides everything after the key so secrets never reach logs.
func redact(s string) string {
	if i := strings.IndexByte(s, ':'); i >= 0 {
		return s[:i] + ":***"
	}
	return s
}

// LoadAccountsFile reads a YAML or JSON list of accounts
// ([{apiKey, secret, balance}]). JSON is valid YAML, so one decoder serves
// both; the extension only picks the error wording.
func LoadAccountsFile(path string) ([]Account, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read accounts file: %w", err)
	}
	var raw []struct {
		APIKey  string `json:"apiKey" yaml:"apiKey"`
		Secret  string `json:"secret" yaml:"secret"`
		Balance string `json:"balance" yaml:"balance"`
	}
	if ext := strings.ToLower(filepath.Ext(path)); ext == ".json" {
		err = json.Unmarshal(b, &raw)
	} else {
		err = yaml.Unmarshal(b, &raw)
	}
	if err != nil {
		return nil, fmt.Errorf("parse accounts file %s: %w", path, err)
	}
	out := make([]Account, 0, len(raw))
	for i, r := range raw {
		if r.APIKey == "" || r.Secret == "" {
			return nil, fmt.Errorf("accounts file %s: entry %d needs apiKey and secret", path, i)
		}
		a := Account{APIKey: r.APIKey, Secret: r.Secret}
		if r.Balance != "" {
			if a.Balance, err = fixed.Parse(r.Balance); err != nil {
				return nil, fmt.Errorf("accounts file %s: entry %d balance %q: %w", path, i, r.Balance, err)
			}
		}
		out = append(out, a)
	}
	return out, nil
}

// NewDemoAccount returns an account with a random key and secret.
func NewDemoAccount() Account {
	return Account{APIKey: randomHex(16), Secret: randomHex(16), Balance: defaultBalance}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

func (c *Config) withDefaults() Config {
	out := *c
	if out.Listen == "" {
		out.Listen = "127.0.0.1:0"
	}
	if len(out.Symbols) == 0 {
		out.Symbols = DefaultSymbols()
	}
	if out.FundingInterval <= 0 {
		out.FundingInterval = 8 * time.Hour
	}
	if out.TimestampWindow <= 0 {
		out.TimestampWindow = 60 * time.Second
	}
	if out.TickInterval <= 0 {
		out.TickInterval = 100 * time.Millisecond
	}
	if out.DepthInterval <= 0 {
		out.DepthInterval = 300 * time.Millisecond
	}
	if out.IdleTimeout <= 0 {
		out.IdleTimeout = 60 * time.Second
	}
	if out.MaxClientMsgsPerSec <= 0 {
		out.MaxClientMsgsPerSec = 5
	}
	if out.MaxSubscriptions <= 0 {
		out.MaxSubscriptions = 300
	}
	if out.Logger == nil {
		out.Logger = slog.New(slog.DiscardHandler)
	}
	if len(out.Accounts) == 0 {
		out.Accounts = []Account{NewDemoAccount()}
	}
	accts := make([]Account, len(out.Accounts))
	for i, a := range out.Accounts {
		if a.Balance == 0 {
			a.Balance = defaultBalance
		}
		accts[i] = a
	}
	out.Accounts = accts
	syms := make([]SymbolConfig, len(out.Symbols))
	for i, s := range out.Symbols {
		s.Spec.Symbol = strings.ToUpper(s.Spec.Symbol)
		if s.StartPrice <= 0 {
			s.StartPrice = SymbolFromName(s.Spec.Symbol).StartPrice
		}
		syms[i] = s
	}
	out.Symbols = syms
	return out
}

// ParseMarketData reads the market-data source as the CLI and the
// configuration spell it: "synthetic", or "replay:FILE" for a kline or trade
// CSV.
func ParseMarketData(spec string, seed int64) (MarketDataConfig, error) {
	if spec == "synthetic" {
		return MarketDataConfig{Seed: seed}, nil
	}
	if file, ok := strings.CutPrefix(spec, "replay:"); ok && file != "" {
		return MarketDataConfig{Seed: seed, ReplayFile: file}, nil
	}
	return MarketDataConfig{}, fmt.Errorf("market data %q: want synthetic or replay:FILE", spec)
}
