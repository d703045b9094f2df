// Package app assembles a running bot from its parts and runs them as one
// group (Prometheus style): the HTTP server, the engine and, in
// development, the embedded simulator. The first error or signal stops them
// all, in a known order: engine first (stop entries, cancel open orders if
// leading, flush) while the exchange is still reachable, then leadership is
// released (a standby takes over at once), then the HTTP server, then the
// simulator, then the journal is closed.
//
// Every replica runs the engine (warm standby: market data, market state,
// strategies, read-only reconciliation); only the leader's term opens the
// submit path (leader.Leader.Run calls engine.Runner.Lead).
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"time"

	"github.com/bitrader/bitrader/internal/bitunix"
	"github.com/bitrader/bitrader/internal/config"
	"github.com/bitrader/bitrader/internal/engine"
	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/httpapi"
	"github.com/bitrader/bitrader/internal/instrument"
	"github.com/bitrader/bitrader/internal/journal"
	"github.com/bitrader/bitrader/internal/leader"
	"github.com/bitrader/bitrader/internal/market"
	"github.com/bitrader/bitrader/internal/metrics"
	"github.com/bitrader/bitrader/internal/ordermanager"
	"github.com/bitrader/bitrader/internal/sim"
	"github.com/bitrader/bitrader/internal/strategy"
	"github.com/bitrader/bitrader/internal/venue/exchange"
	"github.com/bitrader/bitrader/internal/venue/local"
)

// JournalFile is the journal's file name inside system.dataDir; a dry run
// keeps its own (DryRunJournalFile), so that paper orders, the paper
// ledger and its breakers never carry over into live trading on the same
// data directory, nor the other way round.
const (
	JournalFile       = "journal.db"
	DryRunJournalFile = "journal-dryrun.db"
)

// journalPath is the journal for cfg's mode.
func journalPath(cfg config.Config) string {
	if cfg.Trading.DryRun {
		return filepath.Join(cfg.System.DataDir, DryRunJournalFile)
	}
	return filepath.Join(cfg.System.DataDir, JournalFile)
}

// Options are what `bitrader run` passes in.
type Options struct {
	Config config.Config
	Logger *slog.Logger
	Build  metrics.BuildInfo
	Stdout io.Writer
	// ListenAddr overrides the HTTP address (tests use 127.0.0.1:0).
	ListenAddr string
	// Ready, if set, receives the bound HTTP address once serving.
	Ready chan<- string
	// Observer receives engine metrics; nil means none.
	Observer engine.Observer
	// OrderObserver receives order-manager metrics; nil means none.
	OrderObserver ordermanager.Observer
}

// endpoint is where the bot trades.
type endpoint struct {
	rest, publicWS, privateWS string
	apiKey, secret            config.Secret // a Secret prints as [REDACTED]
}

// Run runs the bot until ctx is cancelled or a component fails.
func Run(ctx context.Context, opts Options) error {
	cfg := opts.Config
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	reg := metrics.NewRegistry(opts.Build)
	bot := metrics.NewBot(reg, metrics.Options{Symbols: cfg.Trading.Symbols, MaxDailyLoss: cfg.Trading.MaxDailyLoss})
	if opts.Observer == nil {
		opts.Observer = bot.Engine()
	}
	if opts.OrderObserver == nil {
		opts.OrderObserver = bot
	}
	// Without ha.enabled this is leader.Static: it leads from the start,
	// in an epoch that is its start time in milliseconds (client ids stay
	// unique even if the journal is lost). The observer keeps the role and
	// epoch metrics current.
	// With HA the leader's breakers, kill switch and halt ride on the
	// Lease (each replica has its own journal): shared sees what the Core
	// journals, and a new leader adopts its predecessor's at term start.
	shared := engine.NewSharedRisk()
	ldr, err := leader.New(cfg.HA, leader.Options{Observer: bot, Logger: log, Snapshot: shared.Snapshot})
	if err != nil {
		return fmt.Errorf("leader election: %w", err)
	}
	log.Info("bitrader starting", "environment", cfg.Environment, "version", opts.Build.Version,
		"dryRun", cfg.Trading.DryRun, "symbols", cfg.Trading.Symbols, "strategy", cfg.Strategy.Name,
		"ha", cfg.HA.Enabled, "identity", ldr.Identity())

	// The simulator outlives the engine so shutdown can still cancel orders.
	simCtx, stopSim := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSim()
	ep, simSrv, err := connectTarget(simCtx, cfg, log)
	if err != nil {
		return err
	}
	if simSrv != nil {
		defer simSrv.Close()
	}

	client, err := bitunix.New(bitunix.Config{
		BaseURL: ep.rest, APIKey: ep.apiKey.Reveal(), Secret: ep.secret.Reveal(), Logger: log.With("component", "bitunix"),
		HTTPClient: &http.Client{Timeout: cfg.API.Timeout}, Observer: bot,
	})
	if err != nil {
		return fmt.Errorf("exchange client: %w", err)
	}
	specs, err := loadSpecs(ctx, client, cfg.Trading.Symbols)
	if err != nil {
		return err
	}

	path := journalPath(cfg)
	jr, err := journal.Open(path, journal.Options{Observe: bot.JournalWrite})
	if err != nil {
		return err
	}
	defer func() {
		if err := jr.Close(); err != nil {
			log.Error("close journal", "path", path, "err", err)
		} else {
			log.Info("journal closed", "path", path)
		}
	}()
	log.Info("journal open", "path", path)

	eng, err := build(ctx, cfg, opts, log, client, ep, specs, jr, bot, ldr, shared)
	if err != nil {
		return err
	}

	addr := opts.ListenAddr
	if addr == "" {
		addr = net.JoinHostPort(cfg.System.ListenAddress, strconv.Itoa(cfg.System.MetricsPort))
	}
	srv := httpapi.New(httpapi.Config{Addr: addr, Registry: reg, Readiness: eng, Status: statusWithLeader{eng, ldr}, Kill: eng, Leader: ldr,
		Token: cfg.Secrets.AdminToken, Logger: log.With("component", "http")})
	if err := srv.Listen(); err != nil {
		return err
	}
	log.Info("http serving", "addr", srv.Addr())
	if opts.Ready != nil {
		opts.Ready <- srv.Addr()
	}

	// Run group.
	engCtx, stopEngine := context.WithCancel(ctx)
	defer stopEngine()
	httpCtx, stopHTTP := context.WithCancel(context.WithoutCancel(ctx))
	defer stopHTTP()
	// Leadership outlives the engine: a leader's engine shuts down (and
	// cancels its orders) while still leading, then the lease is released.
	leadCtx, stopLeading := context.WithCancel(context.WithoutCancel(ctx))
	defer stopLeading()
	engErr := make(chan error, 1)
	httpErr := make(chan error, 1)
	leadErr := make(chan error, 1)
	go func() { engErr <- eng.Run(engCtx) }()
	go func() { httpErr <- srv.Run(httpCtx) }()
	go func() { leadErr <- ldr.Run(leadCtx, eng.Lead) }()

	var first error
	engineDone := false
	select {
	case <-ctx.Done():
		log.Info("signal received: shutting down")
	case err := <-engErr:
		engineDone = true
		first = err
		log.Error("engine stopped", "err", err)
	case err := <-httpErr:
		first = fmt.Errorf("http: %w", err)
		httpErr <- nil
		log.Error("http server stopped", "err", err)
	case err := <-leadErr:
		if err == nil {
			err = errors.New("stopped campaigning")
		}
		first = fmt.Errorf("leader election: %w", err)
		leadErr <- nil
		log.Error("leader election stopped", "err", err)
	}
	stopEngine()
	if !engineDone {
		grace := cfg.System.ShutdownTimeout + 2*time.Second
		select {
		case err := <-engErr:
			if first == nil {
				first = err
			}
		case <-time.After(grace):
			log.Error("engine did not stop in time", "timeout", grace)
			if first == nil {
				first = errors.New("engine shutdown timed out")
			}
		}
	}
	stopLeading()
	select {
	case err := <-leadErr:
		if err != nil && first == nil {
			first = fmt.Errorf("leader election: %w", err)
		}
	case <-time.After(5 * time.Second):
		log.Error("leadership not released in time")
	}
	stopHTTP()
	if err := <-httpErr; err != nil && first == nil {
		first = err
	}
	stopSim()
	if first != nil {
		return fmt.Errorf("run: %w", first)
	}
	log.Info("bitrader stopped")
	return nil
}

// connectTarget starts the embedded simulator in development without
// api.baseURL, else returns the configured exchange.
func connectTarget(ctx context.Context, cfg config.Config, log *slog.Logger) (endpoint, *sim.Server, error) {
	if !cfg.UsesEmbeddedSimulator() {
		return endpoint{rest: cfg.API.BaseURL, publicWS: cfg.API.WSURL, privateWS: cfg.API.PrivateWSURL,
			apiKey: cfg.Secrets.APIKey, secret: cfg.Secrets.SecretKey}, nil, nil
	}
	acct := sim.NewDemoAccount()
	if cfg.Sim.StartBalance > 0 {
		acct.Balance = cfg.Sim.StartBalance
	}
	sc := sim.Config{Listen: "127.0.0.1:0", Accounts: []sim.Account{acct}, FundingInterval: cfg.Sim.FundingInterval,
		Logger: log.With("component", "sim")}
	for _, s := range cfg.Trading.Symbols {
		c := sim.SymbolFromName(s)
		if cfg.Sim.MakerFee > 0 {
			c.MakerFee = cfg.Sim.MakerFee
		}
		if cfg.Sim.TakerFee > 0 {
			c.TakerFee = cfg.Sim.TakerFee
		}
		sc.Symbols = append(sc.Symbols, c)
	}
	md, err := sim.ParseMarketData(cfg.Sim.MarketData, cfg.Sim.Seed)
	if err != nil {
		return endpoint{}, nil, fmt.Errorf("sim.marketData: %w", err)
	}
	sc.MarketData = md
	emb, err := sim.StartEmbedded(ctx, sc)
	if err != nil {
		return endpoint{}, nil, fmt.Errorf("embedded simulator: %w", err)
	}
	log.Info("embedded simulator started (development: no keys, no real money)", "url", emb.RESTURL)
	return endpoint{rest: emb.RESTURL, publicWS: emb.PublicWSURL, privateWS: emb.PrivateWSURL,
		apiKey: config.NewSecret(emb.APIKey), secret: config.NewSecret(emb.Secret)}, emb.Server, nil
}

// loadSpecs reads trading_pairs for the traded symbols, retrying briefly
// (the exchange may still be starting).
func loadSpecs(ctx context.Context, c *bitunix.Client, symbols []string) (map[string]instrument.Spec, error) {
	var last error
	for attempt := 0; attempt < 5; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(time.Duration(attempt) * 500 * time.Millisecond):
			}
		}
		got, err := c.TradingPairs(ctx, symbols...)
		if err != nil {
			last = err
			continue
		}
		specs := map[string]instrument.Spec{}
		for _, s := range got {
			specs[s.Symbol] = s
		}
		for _, s := range symbols {
			if _, ok := specs[s]; !ok {
				return nil, fmt.Errorf("trading_pairs: symbol %s is not listed on the exchange", s)
			}
		}
		return specs, nil
	}
	return nil, fmt.Errorf("trading_pairs %v: %w", symbols, last)
}

// build makes the venue, the Core and the Runner.
func build(ctx context.Context, cfg config.Config, opts Options, log *slog.Logger, client *bitunix.Client,
	ep endpoint, specs map[string]instrument.Spec, jr *journal.Journal, wsObs bitunix.Observer, ldr leader.Leader, shared *engine.SharedRisk) (*engine.Runner, error) {
	syms := cfg.Trading.Symbols
	var venue ordermanager.Venue
	var paper *local.Venue
	var exch *exchange.Venue
	if cfg.Trading.DryRun {
		var list []instrument.Spec
		for _, s := range syms {
			list = append(list, specs[s])
		}
		bal := cfg.Sim.StartBalance
		if bal <= 0 {
			bal = fixed.FromInt(10_000)
		}
		v, err := local.New(local.Config{Account: "paper", Balance: bal, Specs: list, Leverage: cfg.Trading.Leverage,
			MarginMode: cfg.Trading.MarginMode, MakerFee: cfg.Sim.MakerFee, TakerFee: cfg.Sim.TakerFee, Start: time.Now(),
			FundingFromMarks: true})
		if err != nil {
			return nil, err
		}
		paper, venue = v, v
		log.Info("dry run: orders fill on the local paper venue, never on the exchange", "balance", bal.String())
	} else {
		// With HA only a leader may change the account: each term starts
		// by configuring it (BeginTerm below).
		if !cfg.HA.Enabled {
			if err := configureAccount(ctx, cfg, client, log); err != nil {
				return nil, err
			}
		}
		exch = exchange.New(client, cfg.Trading.MarginCoin, syms)
		venue = exch
	}
	var start fixed.Value
	if b, err := venue.Balance(ctx); err != nil {
		return nil, fmt.Errorf("read balance: %w", err)
	} else {
		start = b.Total()
	}
	strats := map[string]strategy.Strategy{}
	sizing := strategy.Sizing{BaseSizeRatio: cfg.Trading.BaseSizeRatio, Leverage: fixed.FromInt(int64(cfg.Trading.Leverage))}
	for _, s := range syms {
		st, err := strategy.New(cfg.Strategy.Name, s, sizing, cfg.Strategy.StrategyParams)
		if err != nil {
			return nil, fmt.Errorf("strategy %s on %s: %w", cfg.Strategy.Name, s, err)
		}
		strats[s] = st
	}
	mcfg := market.DefaultConfig()
	if cfg.Strategy.Name == strategy.NameTrend && cfg.Strategy.Trend.Interval != time.Minute {
		mcfg.CandleIntervals = append(mcfg.CandleIntervals, cfg.Strategy.Trend.Interval)
	}
	foreign := ordermanager.ForeignIgnore
	switch cfg.Trading.UnknownOrderPolicy {
	case "adopt":
		foreign = ordermanager.ForeignAdopt
	case "cancel":
		foreign = ordermanager.ForeignCancel
	}
	core, err := engine.NewCore(engine.CoreConfig{
		Strategies: strats, Specs: specs, Limits: cfg.Risk, Market: mcfg, Venue: venue, Store: shared.Store(jr),
		// The leader is the fence: every Place is re-checked against the
		// lease and the term's epoch at the moment of sending.
		Orders: ordermanager.Config{Prefix: cfg.Trading.ClientIDPrefix, Epoch: ldr.Epoch(), Fence: ldr, Foreign: foreign,
			AmbiguousLookupGrace: cfg.Trading.AmbiguousOrderGrace,
			StartBalance:         start, Observer: opts.OrderObserver, Logger: log.With("component", "orders")},
		Observer: opts.Observer, Logger: log.With("component", "engine"), Stopwatch: time.Now,
		Standby: cfg.HA.Enabled,
	})
	if err != nil {
		return nil, err
	}
	rc := engine.RunnerConfig{
		Core: core, Symbols: syms, ReconcileInterval: cfg.Trading.ReconcileInterval,
		CancelOnShutdown: cfg.Trading.CancelOnShutdown, ShutdownTimeout: cfg.System.ShutdownTimeout,
		Observer: opts.Observer, Logger: log.With("component", "engine"),
		NewPublic: func(h func(*bitunix.PublicEvent)) engine.PublicFeed {
			return bitunix.NewPublicStream(bitunix.WSConfig{PublicURL: ep.publicWS, Observer: wsObs, Logger: log.With("component", "ws-public")}, h)
		},
	}
	if cfg.HA.Enabled {
		// On the engine goroutine, before the takeover reconciliation and
		// the first order: adopt the previous leader's risk state, then
		// (live only) configure the account.
		rc.BeginTerm = func(ctx context.Context) error {
			if err := ldr.Inherit(func(b []byte) error { return adoptShared(core, b, log) }); err != nil {
				return err
			}
			if paper != nil {
				return nil
			}
			return configureAccount(ctx, cfg, client, log)
		}
	}
	if paper != nil {
		// The paper venue reports synchronously inside Core calls, on the
		// engine goroutine.
		paper.SetSinks(func(r ordermanager.Report) { core.OnOrderReport(ctx, r.Time, r) },
			func(symbol string, amount fixed.Value) { core.OnFunding(ctx, paper.Now(), symbol, amount) })
	} else {
		// A push that does not say how much filled is looked up over REST
		// (tradeQty) before it is booked; never guessed.
		rc.Report = exch.PushTranslator(ctx, exchange.PushConfig{Logger: log.With("component", "exchange")})
		rc.NewPrivate = func(h func(*bitunix.PrivateEvent)) engine.PrivateFeed {
			return bitunix.NewPrivateStream(bitunix.WSConfig{PublicURL: ep.publicWS, PrivateURL: ep.privateWS,
				APIKey: ep.apiKey.Reveal(), Secret: ep.secret.Reveal(), Observer: wsObs, Logger: log.With("component", "ws-private")}, h)
		}
	}
	return engine.NewRunner(rc)
}

// adoptShared merges the previous leader's replicated risk state into
// core. State that cannot be read halts new entries instead of failing the
// term: reduce-only orders keep working and an operator can resume.
func adoptShared(core *engine.Core, b []byte, log *slog.Logger) error {
	if err := core.AdoptShared(b); err != nil {
		log.Error("previous leader's risk state not adopted: halting new entries", "err", err)
		core.Halt(time.Now(), "previous leader's risk state unreadable: "+err.Error())
	}
	return nil
}

// configureAccount sets leverage and margin mode on the exchange at start.
// A mode change refused because something is open is logged, not fatal:
// the account keeps its current mode.
func configureAccount(ctx context.Context, cfg config.Config, c *bitunix.Client, log *slog.Logger) error {
	for _, s := range cfg.Trading.Symbols {
		if err := c.ChangeMarginMode(ctx, s, cfg.Trading.MarginCoin, cfg.Trading.MarginMode); err != nil {
			if !errors.Is(err, bitunix.ErrModeChange) {
				return fmt.Errorf("set margin mode %s on %s: %w", cfg.Trading.MarginMode, s, err)
			}
			log.Warn("margin mode unchanged (positions or orders open)", "symbol", s, "err", err)
		}
		if err := c.ChangeLeverage(ctx, s, cfg.Trading.MarginCoin, cfg.Trading.Leverage); err != nil {
			return fmt.Errorf("set leverage %d on %s: %w", cfg.Trading.Leverage, s, err)
		}
		log.Info("account configured", "symbol", s, "leverage", cfg.Trading.Leverage, "marginMode", cfg.Trading.MarginMode)
	}
	return nil
}

// statusWithLeader is /status: the engine's document plus the "leader"
// section (role, epoch, identity, the lease holder).
type statusWithLeader struct {
	eng *engine.Runner
	ldr leader.Leader
}

type statusDoc struct {
	*engine.Status
	Leader leader.Status `json:"leader"`
}

func (s statusWithLeader) Status() any {
	ls := leader.StatusOf(s.ldr)
	switch st := s.eng.Status().(type) {
	case engine.Status:
		return statusDoc{Status: &st, Leader: ls}
	case *engine.Status:
		return statusDoc{Status: st, Leader: ls}
	case map[string]string:
		out := map[string]any{"leader": ls}
		for k, v := range st {
			out[k] = v
		}
		return out
	default:
		return st
	}
}
