package main

import (
	"github.com/spf13/cobra"

	"github.com/bitrader/bitrader/internal/app"
	"github.com/bitrader/bitrader/internal/logging"
)

func newRunCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "run",
		Short: "Run the trading bot",
		Long: `Runs the bot. In development with no api.baseURL it starts the embedded Bitunix
simulator and trades on it: no keys, no internet, no real money. Otherwise it
connects to api.baseURL and api.wsURL. Serves /metrics, /healthz, /readyz and
/status on system.metricsPort. SIGINT or SIGTERM stops new entries, cancels open
orders if trading.cancelOnShutdown, flushes the journal and exits.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := g.load(cmd)
			if err != nil {
				return err
			}
			logger, err := logging.New(cmd.ErrOrStderr(), l.Config.System.LogLevel, l.Config.LogFormatOrDefault())
			if err != nil {
				return usageError{err}
			}
			return app.Run(cmd.Context(), app.Options{Config: l.Config, Logger: logger, Build: buildInfo(), Stdout: cmd.OutOrStdout()})
		},
	}
}
