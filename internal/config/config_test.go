package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/bitrader/bitrader/internal/fixed"
)

// testEnv sets up a config dir and optional user file, returning Options
// that read nothing from the real process environment.
func testEnv(t *testing.T, envFile, userFile string, env ...string) Options {
	t.Helper()
	dir := t.TempDir()
	{
		if err := os.WriteFile(filepath.Join(dir, "development.yaml"), []byte(envFile), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, e := range []string{"staging", "production"} {
			if err := os.WriteFile(filepath.Join(dir, e+".yaml"), []byte(envFile), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	opts := Options{ConfigDir: dir, Env: append([]string{}, env...), UserFile: filepath.Join(dir, "absent-user.yaml")}
	if userFile != "" {
		opts.UserFile = filepath.Join(dir, "user.yaml")
		if err := os.WriteFile(opts.UserFile, []byte(userFile), 0o600); err != nil {
			t.Fatal(err)
		}
	} else {
		opts.UserFile = ""
		// Run in an empty dir so an accidental ./config.yaml is not read.
		t.Chdir(t.TempDir())
	}
	return opts
}

func TestPrecedenceAcrossLayers(t *testing.T) {
	envFile := "trading:\n  baseSizeRatio: 0.002\n  leverage: 2\n  maxDailyLoss: 0.03\nsystem:\n  metricsPort: 9001\n"
	userFile := "trading:\n  leverage: 3\n  maxDailyLoss: 0.04\nsystem:\n  metricsPort: 9002\n"
	tests := []struct {
		name    string
		env     []string
		set     []string
		flags   map[string]string
		key     string
		want    func(Config) bool
		wantSrc string
	}{
		{"default", nil, nil, nil, "trading.marginCoin", func(c Config) bool { return c.Trading.MarginCoin == "USDT" }, "default"},
		{"env file over default", nil, nil, nil, "trading.baseSizeRatio", func(c Config) bool { return c.Trading.BaseSizeRatio == fixed.MustParse("0.002") }, "development.yaml:2"},
		{"user file over env file", nil, nil, nil, "trading.leverage", func(c Config) bool { return c.Trading.Leverage == 3 }, "user.yaml:2"},
		{"env var over user file", []string{"BITRADER_TRADING_MAXDAILYLOSS=0.05"}, nil, nil, "trading.maxDailyLoss", func(c Config) bool { return c.Trading.MaxDailyLoss == fixed.MustParse("0.05") }, "BITRADER_TRADING_MAXDAILYLOSS"},
		{"flag over env var", []string{"BITRADER_SYSTEM_METRICSPORT=9003"}, []string{"system.metricsPort=9004"}, nil, "system.metricsPort", func(c Config) bool { return c.System.MetricsPort == 9004 }, "--set system.metricsPort"},
		{"alias DRY_RUN", []string{"DRY_RUN=false"}, nil, nil, "trading.dryRun", func(c Config) bool { return !c.Trading.DryRun }, "DRY_RUN"},
		{"BITRADER_ form beats alias", []string{"LOG_LEVEL=warn", "BITRADER_SYSTEM_LOGLEVEL=error"}, nil, nil, "system.logLevel", func(c Config) bool { return c.System.LogLevel == "error" }, "BITRADER_SYSTEM_LOGLEVEL"},
		{"typed flag over --set", nil, []string{"system.logLevel=warn"}, map[string]string{"system.logLevel": "debug"}, "system.logLevel", func(c Config) bool { return c.System.LogLevel == "debug" }, "--log-level"},
		{"list from env", []string{"BITRADER_TRADING_SYMBOLS=BTCUSDT, ETHUSDT"}, nil, nil, "trading.symbols", func(c Config) bool { return strings.Join(c.Trading.Symbols, ",") == "BTCUSDT,ETHUSDT" }, "BITRADER_TRADING_SYMBOLS"},
		{"nested strategy key from env", []string{"BITRADER_STRATEGY_TREND_FASTPERIOD=5"}, nil, nil, "strategy.trend.fastPeriod", func(c Config) bool { return c.Strategy.Trend.FastPeriod == 5 }, "BITRADER_STRATEGY_TREND_FASTPERIOD"},
		{"daily loss reaches the risk gate", nil, nil, nil, "trading.maxDailyLoss", func(c Config) bool { return c.Risk.MaxDailyLoss == fixed.MustParse("0.04") }, "user.yaml:3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testEnv(t, envFile, userFile, tt.env...)
			opts.Set, opts.Flags = tt.set, tt.flags
			l, err := Load(opts)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !tt.want(l.Config) {
				t.Errorf("%s has the wrong value: %+v", tt.key, l.Config)
			}
			if src := l.Sources[tt.key].String(); !strings.HasSuffix(src, tt.wantSrc) {
				t.Errorf("source of %s = %q, want suffix %q", tt.key, src, tt.wantSrc)
			}
		})
	}
}

func TestEnvironmentSelection(t *testing.T) {
	builtin := fstest.MapFS{
		"development.yaml": {Data: []byte("system:\n  logLevel: debug\n")},
		"staging.yaml":     {Data: []byte("api:\n  baseURL: https://fapi.bitunix.com\nsystem:\n  logLevel: warn\n")},
	}
	t.Chdir(t.TempDir()) // no ./config, so the built-in copy is used
	for _, tt := range []struct {
		flag, env, want, level string
	}{
		{"", "", Development, "debug"},
		{"", "staging", Staging, "warn"},
		{"development", "staging", Development, "debug"},
	} {
		var environ []string
		if tt.env != "" {
			environ = []string{"ENVIRONMENT=" + tt.env}
		}
		l, err := Load(Options{Environment: tt.flag, Env: environ, Builtin: builtin})
		if err != nil {
			t.Fatalf("flag=%q env=%q: %v", tt.flag, tt.env, err)
		}
		if l.Config.Environment != tt.want || l.Config.System.LogLevel != tt.level {
			t.Errorf("flag=%q env=%q: got %s/%s, want %s/%s", tt.flag, tt.env, l.Config.Environment, l.Config.System.LogLevel, tt.want, tt.level)
		}
	}
	if _, err := Load(Options{Environment: "prod", Env: []string{}, Builtin: builtin}); err == nil || !strings.Contains(err.Error(), "allowed: development, staging, production") {
		t.Errorf("unknown environment: err = %v", err)
	}
}

// TestValidation covers every rule: each case must produce a problem naming
// the key and its source, and nothing else must be wrong.
func TestValidation(t *testing.T) {
	real := "api:\n  baseURL: https://fapi.bitunix.com\n"
	tests := []struct {
		name    string
		envFile string
		env     []string
		environ string
		key     string
		msg     string
		source  string
	}{
		{"unknown key", "trading:\n  maxDailyLos: 0.1\n", nil, "", "trading.maxDailyLos", "unknown key", "development.yaml:2"},
		{"unknown key case typo", "trading:\n  maxdailyloss: 0.1\n", nil, "", "trading.maxdailyloss", `did you mean "trading.maxDailyLoss"`, "development.yaml:2"},
		{"unknown section", "tradin:\n  dryRun: true\n", nil, "", "tradin", "unknown key", "development.yaml:1"},
		{"unknown env var", "", []string{"BITRADER_TRADING_MAXDAILYLOS=0.1"}, "", "BITRADER_TRADING_MAXDAILYLOS", "unknown environment variable", "BITRADER_TRADING_MAXDAILYLOS"},
		{"wrong type decimal", "trading:\n  maxDailyLoss: lots\n", nil, "", "trading.maxDailyLoss", "want a decimal number", "development.yaml:2"},
		{"wrong type int", "", []string{"BITRADER_TRADING_LEVERAGE=high"}, "", "trading.leverage", "want a whole number", "BITRADER_TRADING_LEVERAGE"},
		{"wrong type bool", "", []string{"DRY_RUN=maybe"}, "", "trading.dryRun", "true or false", "DRY_RUN"},
		{"wrong type duration", "api:\n  timeout: soon\n", nil, "", "api.timeout", "want a duration", "development.yaml:2"},
		{"maxDailyLoss zero", "trading:\n  maxDailyLoss: 0\n", nil, "", "trading.maxDailyLoss", "(0, 1)", "development.yaml:2"},
		{"maxDailyLoss one", "trading:\n  maxDailyLoss: 1\n", nil, "", "trading.maxDailyLoss", "(0, 1)", "development.yaml:2"},
		{"maxDailyLoss negative", "", []string{"BITRADER_TRADING_MAXDAILYLOSS=-0.1"}, "", "trading.maxDailyLoss", "(0, 1)", "BITRADER_TRADING_MAXDAILYLOSS"},
		{"baseSizeRatio", "trading:\n  baseSizeRatio: 1.5\n", nil, "", "trading.baseSizeRatio", "(0, 1]", "development.yaml:2"},
		{"leverage", "trading:\n  leverage: 200\n", nil, "", "trading.leverage", "1 to 125", "development.yaml:2"},
		{"margin mode", "trading:\n  marginMode: isolated\n", nil, "", "trading.marginMode", "ISOLATION, CROSS", "development.yaml:2"},
		{"position mode", "trading:\n  positionMode: BOTH\n", nil, "", "trading.positionMode", "ONE_WAY, HEDGE", "development.yaml:2"},
		{"margin coin", "trading:\n  marginCoin: BTC\n", nil, "", "trading.marginCoin", "USDT, USDC", "development.yaml:2"},
		{"no symbols", "trading:\n  symbols: []\n", nil, "", "trading.symbols", "at least one", "development.yaml:2"},
		{"bad symbol", "trading:\n  symbols: [btc-usdt]\n", nil, "", "trading.symbols", "not a symbol", "development.yaml:2"},
		{"duplicate symbol", "trading:\n  symbols: [BTCUSDT, BTCUSDT]\n", nil, "", "trading.symbols", "listed twice", "development.yaml:2"},
		{"client id prefix", "trading:\n  clientIdPrefix: my-bot\n", nil, "", "trading.clientIdPrefix", "letters or digits", "development.yaml:2"},
		{"unknown order policy", "trading:\n  unknownOrderPolicy: ignore\n", nil, "", "trading.unknownOrderPolicy", "adopt, cancel", "development.yaml:2"},
		{"reconcile interval", "trading:\n  reconcileInterval: 10ms\n", nil, "", "trading.reconcileInterval", "at least 1s", "development.yaml:2"},
		{"ambiguous order grace", "trading:\n  ambiguousOrderGrace: 1s\n", nil, "", "trading.ambiguousOrderGrace", "at least 5s", "development.yaml:2"},
		{"log level", "", []string{"LOG_LEVEL=verbose"}, "", "system.logLevel", "debug, info, warn, error", "LOG_LEVEL"},
		{"log format", "system:\n  logFormat: xml\n", nil, "", "system.logFormat", "text, json", "development.yaml:2"},
		{"metrics port", "system:\n  metricsPort: 70000\n", nil, "", "system.metricsPort", "1 to 65535", "development.yaml:2"},
		{"data dir", "system:\n  dataDir: \"\"\n", nil, "", "system.dataDir", "journal", "development.yaml:2"},
		{"shutdown timeout", "system:\n  shutdownTimeout: 0s\n", nil, "", "system.shutdownTimeout", "positive", "development.yaml:2"},
		{"api timeout", "api:\n  timeout: -1s\n", nil, "", "api.timeout", "positive", "development.yaml:2"},
		{"base url scheme", "api:\n  baseURL: ftp://x\n", nil, "", "api.baseURL", "http or https", "development.yaml:2"},
		{"ws url scheme", "api:\n  wsURL: https://x/public/\n", nil, "", "api.wsURL", "ws or wss", "development.yaml:2"},
		{"plain http to a real host", "api:\n  baseURL: http://fapi.bitunix.com\n", nil, "", "api.baseURL", "clear text; use https", "development.yaml:2"},
		{"plain ws to a real host", "api:\n  baseURL: https://fapi.bitunix.com\n  wsURL: ws://fapi.bitunix.com/public/\n", nil, "", "api.wsURL", "clear text; use wss", "development.yaml:3"},
		{"plain private ws to a real host", "api:\n  baseURL: https://fapi.bitunix.com\n  privateWSURL: ws://10.0.0.7/private/\n", nil, "", "api.privateWSURL", "clear text; use wss", "development.yaml:3"},
		{"ha renew >= lease", "ha:\n  enabled: true\n  renewDeadline: 20s\n", nil, "", "ha.renewDeadline", "shorter than ha.leaseDuration", "development.yaml:3"},
		{"ha retry >= renew", "ha:\n  enabled: true\n  retryPeriod: 12s\n", nil, "", "ha.retryPeriod", "shorter than ha.renewDeadline", "development.yaml:3"},
		{"sim balance", "sim:\n  startBalance: 0\n", nil, "", "sim.startBalance", "positive", "development.yaml:2"},
		{"sim market data", "sim:\n  marketData: live\n", nil, "", "sim.marketData", "synthetic or replay:FILE", "development.yaml:2"},
		{"unknown strategy", "strategy:\n  name: martingale\n", nil, "", "strategy.name", "unknown name", "development.yaml:2"},
		{"strategy param", "strategy:\n  trend:\n    fastPeriod: 0\n", nil, "", "strategy.trend.fastPeriod", "fastPeriod", "development.yaml:3"},
		{"risk limit", "risk:\n  maxOrderNotional: 0\n", nil, "", "risk.maxOrderNotional", "> 0", "development.yaml:2"},
		{"staging needs base url", "api:\n  baseURL: \"\"\n", nil, Staging, "api.baseURL", "only development may use the embedded simulator", ".yaml:2"},
		{"production on loopback", "api:\n  baseURL: http://127.0.0.1:8090\ntrading:\n  dryRun: true\n", nil, Production, "api.baseURL", "loopback", ".yaml:2"},
		{"live without keys", real + "trading:\n  dryRun: false\n  live: true\n", nil, "", "trading.dryRun", "needs API_KEY and SECRET_KEY", "development.yaml:4"},
		{"keys without opt-in", real + "trading:\n  dryRun: false\n", []string{"API_KEY=k", "SECRET_KEY=s"}, "", "trading.live", "set trading.live: true", "default"},
		{"simulator without keys", "api:\n  baseURL: http://127.0.0.1:9\ntrading:\n  dryRun: false\n", nil, "", "trading.dryRun", "simulator account", "development.yaml:4"},
		{"secret set twice", "", []string{"API_KEY=a", "BITRADER_API_KEY=b"}, "", "secrets.apiKey", "more than one place", "BITRADER_API_KEY, API_KEY"},
		{"secret file missing", "", []string{"SECRET_KEY_FILE=/nonexistent/secret"}, "", "secrets.secretKey", "cannot read secret file", "SECRET_KEY_FILE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testEnv(t, tt.envFile, "", tt.env...)
			opts.Environment = tt.environ
			_, err := Load(opts)
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("want Problems, got %v", err)
			}
			if len(ps) != 1 {
				t.Fatalf("want exactly 1 problem, got %d:\n%v", len(ps), err)
			}
			p := ps[0]
			if p.Key != tt.key || !strings.Contains(p.Message, tt.msg) || !strings.HasSuffix(p.Source.String(), tt.source) {
				t.Errorf("got key=%q source=%q msg=%q\nwant key=%q source~%q msg~%q", p.Key, p.Source, p.Message, tt.key, tt.source, tt.msg)
			}
		})
	}
}

func TestValidConfigurations(t *testing.T) {
	real := "api:\n  baseURL: https://fapi.bitunix.com\n"
	tests := []struct {
		name, envFile, environ string
		env                    []string
	}{
		{"development defaults", "", "", nil},
		{"dry run on the real exchange needs no keys", real, Staging, nil},
		{"live with keys and opt-in", real + "trading:\n  dryRun: false\n  live: true\n", Production, []string{"API_KEY=k", "SECRET_KEY=s"}},
		{"simulator with keys", "api:\n  baseURL: http://localhost:8090\ntrading:\n  dryRun: false\n", Staging, []string{"API_KEY=k", "SECRET_KEY=s"}},
		{"ha enabled", "ha:\n  enabled: true\n", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testEnv(t, tt.envFile, "", tt.env...)
			opts.Environment = tt.environ
			if _, err := Load(opts); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestRepositoryEnvironmentFiles(t *testing.T) {
	repoConfig, err := filepath.Abs("../../config")
	if err != nil {
		t.Fatal(err)
	}
	for _, env := range []string{Development, Staging, Production} {
		t.Run(env, func(t *testing.T) {
			environ := []string{}
			if env == Production {
				environ = []string{"API_KEY=k", "SECRET_KEY=s", "BITRADER_TRADING_LIVE=true"}
			}
			t.Chdir(t.TempDir())
			_, err := Load(Options{Environment: env, ConfigDir: repoConfig, Env: environ})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
	// Production without the opt-in must refuse, even with keys.
	t.Chdir(t.TempDir())
	_, err = Load(Options{Environment: Production, ConfigDir: repoConfig, Env: []string{"API_KEY=k", "SECRET_KEY=s"}})
	if err == nil || !strings.Contains(err.Error(), "trading.live") {
		t.Fatalf("production without opt-in: err = %v", err)
	}
}

func TestSecretsFromFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	opts := testEnv(t, "", "",
		"API_KEY_FILE="+write("key", "file-key\n"),
		"BITRADER_SECRET_KEY_FILE="+write("secret", "file-secret"),
		"ADMIN_TOKEN=tok")
	l, err := Load(opts)
	if err != nil {
		t.Fatal(err)
	}
	s := l.Config.Secrets
	if s.APIKey.Reveal() != "file-key" || s.SecretKey.Reveal() != "file-secret" || !s.AdminToken.Equal("tok") {
		t.Fatalf("secrets not loaded from files")
	}
	if s.AdminToken.Equal("to") || s.AdminToken.Equal("tok2") || NewSecret("").Equal("") {
		t.Fatal("Secret.Equal accepted a wrong value")
	}
}

func TestUserFileExplicitMissing(t *testing.T) {
	opts := testEnv(t, "", "")
	opts.UserFile = filepath.Join(t.TempDir(), "nope.yaml")
	if _, err := Load(opts); err == nil || !strings.Contains(err.Error(), "reading config file") {
		t.Fatalf("err = %v", err)
	}
}
