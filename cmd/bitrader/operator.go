package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bitrader/bitrader/internal/bitunix"
	"github.com/bitrader/bitrader/internal/config"
	"github.com/bitrader/bitrader/internal/httpapi"
	"github.com/bitrader/bitrader/internal/operator"
)

// newOperatorCmds returns the commands a person (or a script) uses on the
// exchange account directly: account, orders, positions, market, kill.
func newOperatorCmds(g *globalFlags) []*cobra.Command {
	var symbol string
	var asJSON bool
	withFlags := func(c *cobra.Command) *cobra.Command {
		c.Flags().StringVar(&symbol, "symbol", "", "limit to one symbol, e.g. BTCUSDT")
		c.Flags().BoolVar(&asJSON, "json", false, "print JSON for scripts instead of a table")
		return c
	}
	exchange := func(cmd *cobra.Command, needKeys bool) (*bitunix.Client, error) {
		l, err := g.load(cmd)
		var probs config.Problems
		if err != nil && !errors.As(err, &probs) {
			return nil, err
		}
		if l == nil {
			return nil, err
		}
		// Operator commands must work precisely when the bot's own
		// configuration is in trouble (an emergency flatten), so only the
		// problems that stop these commands are fatal.
		cfg := l.Config
		if cfg.API.BaseURL == "" {
			return nil, usageError{errors.New("api.baseURL is empty: in development the simulator runs inside `bitrader run`; point at an exchange or a `bitrader sim` with --set api.baseURL=http://127.0.0.1:8090")}
		}
		if needKeys && !cfg.Secrets.HasExchangeKeys() {
			return nil, usageError{errors.New("this command needs API_KEY and SECRET_KEY (or API_KEY_FILE and SECRET_KEY_FILE)")}
		}
		return bitunix.New(bitunix.Config{
			BaseURL:    cfg.API.BaseURL,
			APIKey:     cfg.Secrets.APIKey.Reveal(),
			Secret:     cfg.Secrets.SecretKey.Reveal(),
			HTTPClient: &http.Client{Timeout: cfg.API.Timeout},
		})
	}
	run := func(needKeys bool, f func(context.Context, operator.Exchange, io.Writer, string, bool) error) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, _ []string) error {
			ex, err := exchange(cmd, needKeys)
			if err != nil {
				return err
			}
			return f(cmd.Context(), ex, cmd.OutOrStdout(), strings.ToUpper(symbol), asJSON)
		}
	}

	account := withFlags(&cobra.Command{
		Use: "account", Short: "Show balance, open positions and open orders on the exchange",
		Args: cobra.NoArgs, RunE: run(true, operator.Account),
	})
	orders := &cobra.Command{Use: "orders", Short: "Act on open orders"}
	orders.AddCommand(withFlags(&cobra.Command{
		Use: "cancel-all", Short: "Cancel every open order (in --symbol, or all symbols)",
		Args: cobra.NoArgs, RunE: run(true, operator.CancelAll),
	}))
	positions := &cobra.Command{Use: "positions", Short: "Act on open positions"}
	positions.AddCommand(withFlags(&cobra.Command{
		Use: "close-all", Short: "Emergency flatten: close every position at market (in --symbol, or all)",
		Long: `Closes every open position at market on the exchange, through the exchange's
close_all_position endpoint. Stop the bot first (bitrader kill, or scale it to
zero), or it may open new positions.`,
		Args: cobra.NoArgs, RunE: run(true, operator.CloseAll),
	}))
	market := withFlags(&cobra.Command{
		Use: "market", Short: "Show trading pairs with precision and limits, and tickers (no keys needed)",
		Args: cobra.NoArgs, RunE: run(false, operator.Market),
	})
	return []*cobra.Command{account, orders, positions, market, newKillCmd(g)}
}

// newKillCmd trips (or with --resume clears) a running bot's kill switch
// through its HTTP admin endpoint.
func newKillCmd(g *globalFlags) *cobra.Command {
	var addr, reason string
	var resume bool
	cmd := &cobra.Command{
		Use:   "kill",
		Short: "Trip the kill switch of a running bot (stops new entries; reduce-only orders still pass)",
		Long: `Calls POST /admin/kill (or /admin/resume with --resume) on a running bot, with
ADMIN_TOKEN (or ADMIN_TOKEN_FILE) as a bearer token. The breaker survives a
restart until resumed. With HA only the leader accepts it (and replicates it
to the standbys through the Lease); a standby refuses, naming the leader, and
the command exits non-zero.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := g.load(cmd)
			var probs config.Problems
			if err != nil && !errors.As(err, &probs) {
				return err
			}
			if l == nil {
				return err
			}
			token := l.Config.Secrets.AdminToken
			if !token.IsSet() {
				return usageError{errors.New("set ADMIN_TOKEN (or ADMIN_TOKEN_FILE) to the bot's admin token")}
			}
			if addr == "" {
				addr = "http://127.0.0.1:" + strconv.Itoa(l.Config.System.MetricsPort)
			}
			path := "/admin/kill?reason=" + url.QueryEscape(reason)
			if resume {
				path = "/admin/resume"
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(addr, "/")+path, nil)
			if err != nil {
				return usageError{fmt.Errorf("--addr %q: %w", addr, err)}
			}
			req.Header.Set("Authorization", "Bearer "+token.Reveal())
			// No redirects: the bearer token goes to --addr and nowhere else.
			client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := client.Do(req)
			if err != nil {
				return fmt.Errorf("kill switch: %w", err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			action := "kill switch NOT tripped"
			if resume {
				action = "kill switch NOT cleared"
			}
			if resp.StatusCode == http.StatusConflict {
				// A standby (HA): applied there it would not stop the leader.
				leader := resp.Header.Get(httpapi.LeaderHeader)
				if leader == "" {
					leader = "unknown"
				}
				return fmt.Errorf("%s: %s reached a standby; the leader is %s: run it against the leader's pod (--addr): %s",
					action, addr, leader, strings.TrimSpace(string(body)))
			}
			if resp.StatusCode != http.StatusNoContent {
				return fmt.Errorf("kill switch: %s: %s", resp.Status, strings.TrimSpace(string(body)))
			}
			if resume {
				fmt.Fprintln(cmd.OutOrStdout(), "kill switch cleared: new entries allowed")
			} else {
				fmt.Fprintln(cmd.OutOrStdout(), "kill switch tripped: no new entries; reduce-only orders still pass")
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "", "bot HTTP address (default http://127.0.0.1:<system.metricsPort>)")
	cmd.Flags().StringVar(&reason, "reason", "operator kill switch (CLI)", "reason recorded with the breaker")
	cmd.Flags().BoolVar(&resume, "resume", false, "clear the kill switch instead")
	return cmd
}
