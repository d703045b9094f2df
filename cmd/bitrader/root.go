package main

import (
	"io"
	"strconv"

	"github.com/spf13/cobra"

	envfiles "github.com/bitrader/bitrader/config"
	"github.com/bitrader/bitrader/internal/config"
)

// globalFlags are the configuration flags every command shares.
type globalFlags struct {
	env       string
	file      string
	configDir string
	set       []string
	logLevel  string
	dryRun    bool
	live      bool
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:   "bitrader",
		Short: "Automated trading bot for Bitunix perpetual futures",
		Long: `bitrader trades Bitunix perpetual futures with a mandatory risk gate, a crash-safe
order journal and continuous reconciliation. It ships its own Bitunix-compatible
exchange simulator and a backtester that run the same strategy, risk and order code.

Configuration layers, lowest first: built-in defaults < config/<env>.yaml <
--config file (default ./config.yaml if present) < environment variables
(BITRADER_<SECTION>_<KEY>, DRY_RUN, LOG_LEVEL, ENVIRONMENT) < flags.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	pf := root.PersistentFlags()
	pf.StringVar(&g.env, "env", "", "environment: development, staging or production (default $ENVIRONMENT, then development)")
	pf.StringVar(&g.file, "config", "", "user configuration file (default ./config.yaml if present)")
	pf.StringVar(&g.configDir, "config-dir", "", "directory holding <env>.yaml (default $BITRADER_CONFIG_DIR, then ./config, then the built-in copy)")
	pf.StringArrayVar(&g.set, "set", nil, "set a configuration key, e.g. --set trading.leverage=3 (repeatable)")
	pf.StringVar(&g.logLevel, "log-level", "", "log level: debug, info, warn, error (overrides system.logLevel)")
	pf.BoolVar(&g.dryRun, "dry-run", false, "paper-trade: never send orders to the exchange (overrides trading.dryRun)")
	pf.BoolVar(&g.live, "live", false, "explicitly allow trading real money (sets trading.live)")

	root.AddCommand(
		newRunCmd(g),
		newSimCmd(g),
		newBacktestCmd(g),
		newDataCmd(g),
		newConfigCmd(g),
		newVersionCmd(),
	)
	root.AddCommand(newOperatorCmds(g)...)
	return root
}

// load reads the layered configuration. Typed flags apply only when given,
// so an absent --dry-run never overrides a file.
func (g *globalFlags) load(cmd *cobra.Command) (*config.Loaded, error) {
	flags := map[string]string{}
	pf := cmd.Flags()
	if pf.Changed("dry-run") {
		flags["trading.dryRun"] = strconv.FormatBool(g.dryRun)
	}
	if pf.Changed("live") {
		flags["trading.live"] = strconv.FormatBool(g.live)
	}
	if g.logLevel != "" {
		flags["system.logLevel"] = g.logLevel
	}
	return config.Load(config.Options{
		Environment: g.env,
		ConfigDir:   g.configDir,
		UserFile:    g.file,
		Set:         g.set,
		Flags:       flags,
		Builtin:     envfiles.Files,
	})
}
