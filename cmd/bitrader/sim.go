package main

import (
	"fmt"
	"net"
	"time"

	"github.com/spf13/cobra"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/logging"
	"github.com/bitrader/bitrader/internal/sim"
)

// simFlags are the simulator's own flags; it does not read the bot's
// configuration layers, because it stands in for the exchange.
type simFlags struct {
	listen          string
	accounts        []string
	accountsFile    string
	symbols         []string
	seed            int64
	marketData      string
	makerFee        string
	takerFee        string
	fundingInterval time.Duration
	tsWindow        time.Duration
	logLevel        string
	allowRemote     bool
}

func newSimCmd(_ *globalFlags) *cobra.Command {
	f := &simFlags{}
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Run the Bitunix-compatible exchange simulator",
		Long: `Serves the Bitunix futures REST API and both WebSockets on one listener, on the
real exchange's paths (/api/v1/futures/..., /public/, /private/), with a real
matching engine, perpetual-futures accounting (fees, funding, margin,
liquidation) and seeded synthetic or replayed market data. A control API under
/_sim/ (loopback only) injects faults: see internal/sim/README.md.

Point the bot at it with:
  API_KEY=KEY SECRET_KEY=SECRET bitrader run --set api.baseURL=http://127.0.0.1:8090 --set api.wsURL=ws://127.0.0.1:8090/public/`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.config()
			if err != nil {
				return usageError{err}
			}
			logger, err := logging.New(cmd.ErrOrStderr(), f.logLevel, "text")
			if err != nil {
				return usageError{err}
			}
			cfg.Logger = logger
			srv, err := sim.New(cfg)
			if err != nil {
				return usageError{err}
			}
			if err := srv.Start(cmd.Context()); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "bitrader sim listening\n  REST        %s\n  public WS   %s\n  private WS  %s\n  symbols     %v\n",
				srv.URL(), srv.PublicWSURL(), srv.PrivateWSURL(), srv.Symbols())
			if len(f.accounts) == 0 && f.accountsFile == "" {
				// A generated demo credential for a local simulator, printed so
				// the user can connect; it guards no money.
				a := srv.Accounts()[0]
				fmt.Fprintf(out, "  demo account  API_KEY=%s SECRET_KEY=%s (balance %s USDT)\n", a.APIKey, a.Secret, a.Balance)
			}
			<-cmd.Context().Done()
			srv.Close()
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", "127.0.0.1:8090", "address to listen on (loopback unless --allow-remote)")
	fl.StringArrayVar(&f.accounts, "account", nil, "account KEY:SECRET[:BALANCE] (repeatable; default: one demo account; the secret shows in ps: prefer --accounts-file)")
	fl.StringVar(&f.accountsFile, "accounts-file", "", "YAML or JSON list of {apiKey, secret, balance}")
	fl.StringArrayVar(&f.symbols, "symbol", nil, "symbol to list (repeatable; default BTCUSDT and ETHUSDT)")
	fl.Int64Var(&f.seed, "seed", 1, "seed of the synthetic market-data generator")
	fl.StringVar(&f.marketData, "market-data", "synthetic", "synthetic, or replay:FILE for a kline or trade CSV")
	fl.StringVar(&f.makerFee, "maker-fee", sim.DefaultMakerFee.String(), "maker fee as a fraction")
	fl.StringVar(&f.takerFee, "taker-fee", sim.DefaultTakerFee.String(), "taker fee as a fraction")
	fl.DurationVar(&f.fundingInterval, "funding-interval", 8*time.Hour, "funding interval")
	fl.DurationVar(&f.tsWindow, "timestamp-window", 60*time.Second, "accepted clock skew of signed requests")
	fl.StringVar(&f.logLevel, "log-level", "info", "log level")
	fl.BoolVar(&f.allowRemote, "allow-remote", false, "allow listening on a non-loopback address (containers)")
	return cmd
}

func (f *simFlags) config() (sim.Config, error) {
	cfg := sim.Config{Listen: f.listen, FundingInterval: f.fundingInterval, TimestampWindow: f.tsWindow}
	host, _, err := net.SplitHostPort(f.listen)
	if err != nil {
		return cfg, fmt.Errorf("--listen %q: %w", f.listen, err)
	}
	if ip := net.ParseIP(host); !f.allowRemote && host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return cfg, fmt.Errorf("--listen %q is not a loopback address; the simulator's control API injects faults, so pass --allow-remote only inside an isolated network", f.listen)
	}
	for _, a := range f.accounts {
		acct, err := sim.ParseAccountFlag(a)
		if err != nil {
			return cfg, err
		}
		cfg.Accounts = append(cfg.Accounts, acct)
	}
	if f.accountsFile != "" {
		accts, err := sim.LoadAccountsFile(f.accountsFile)
		if err != nil {
			return cfg, err
		}
		cfg.Accounts = append(cfg.Accounts, accts...)
	}
	maker, err := fixed.Parse(f.makerFee)
	if err != nil {
		return cfg, fmt.Errorf("--maker-fee %q: %w", f.makerFee, err)
	}
	taker, err := fixed.Parse(f.takerFee)
	if err != nil {
		return cfg, fmt.Errorf("--taker-fee %q: %w", f.takerFee, err)
	}
	for _, s := range f.symbols {
		sc := sim.SymbolFromName(s)
		sc.MakerFee, sc.TakerFee = maker, taker
		cfg.Symbols = append(cfg.Symbols, sc)
	}
	if len(cfg.Symbols) == 0 {
		for _, sc := range sim.DefaultSymbols() {
			sc.MakerFee, sc.TakerFee = maker, taker
			cfg.Symbols = append(cfg.Symbols, sc)
		}
	}
	md, err := sim.ParseMarketData(f.marketData, f.seed)
	if err != nil {
		return cfg, fmt.Errorf("--market-data: %w", err)
	}
	cfg.MarketData = md
	return cfg, nil
}
