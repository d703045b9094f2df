package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bitrader/bitrader/internal/backtest"
	"github.com/bitrader/bitrader/internal/bitunix"
	"github.com/bitrader/bitrader/internal/marketdata"
)

func newDataCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "data",
		Short: "Download and manage market data",
	}
	cmd.AddCommand(newDataFetchCmd(g))
	return cmd
}

func newDataFetchCmd(g *globalFlags) *cobra.Command {
	var symbol, interval, from, to, out string
	cmd := &cobra.Command{
		Use:   "fetch",
		Short: "Download klines from the exchange REST API into a CSV file",
		Long: `Downloads klines from api.baseURL (/api/v1/futures/market/kline, 200 per call,
paged by time, within the endpoint's rate limit) into the header-kline CSV
format the backtester reads. Market data is public: no keys are needed. With no
api.baseURL it uses the public Bitunix endpoint; point it at a simulator with
--set api.baseURL=http://127.0.0.1:PORT --dry-run (no keys needed).
  bitrader data fetch --symbol BTCUSDT --interval 1m --from 2024-01-01 --to 2024-01-02 --out BTCUSDT-1m.csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if symbol == "" || out == "" || from == "" || to == "" {
				return usageError{errors.New("--symbol, --from, --to and --out are required")}
			}
			if _, ok := backtest.Intervals[interval]; !ok {
				return usageError{fmt.Errorf("--interval %q: allowed 1m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w", interval)}
			}
			start, err := parseWhen(from)
			if err != nil {
				return usageError{fmt.Errorf("--from: %w", err)}
			}
			end, err := parseWhen(to)
			if err != nil {
				return usageError{fmt.Errorf("--to: %w", err)}
			}
			if !start.Before(end) {
				return usageError{errors.New("--from must be before --to")}
			}
			l, err := g.load(cmd)
			if err != nil {
				return err
			}
			base := l.Config.API.BaseURL
			if base == "" {
				base = bitunix.DefaultBaseURL
			}
			client, err := bitunix.New(bitunix.Config{BaseURL: base})
			if err != nil {
				return usageError{err}
			}
			// Write to a temporary file and rename, so an interrupted
			// download never leaves a truncated file under the final name.
			tmp := out + ".part"
			f, err := os.Create(tmp)
			if err != nil {
				return fmt.Errorf("data fetch: %w", err)
			}
			defer os.Remove(tmp)
			w := marketdata.NewKlineWriter(f)
			var pl *progressLine
			if isTerminal(cmd.ErrOrStderr()) {
				pl = &progressLine{w: cmd.ErrOrStderr()}
			}
			n, err := backtest.Fetch(cmd.Context(), client, backtest.FetchRequest{
				Symbol: strings.ToUpper(symbol), Interval: interval, From: start, To: end,
			}, w, func(n int, at time.Time) {
				if pl != nil {
					pl.show("data fetch: %d klines, at %s", n, at.UTC().Format(time.RFC3339))
				}
			})
			if pl != nil {
				pl.done()
			}
			if err == nil {
				err = w.Flush()
			}
			if cerr := f.Close(); err == nil && cerr != nil {
				err = fmt.Errorf("data fetch: %w", cerr)
			}
			if err != nil {
				return err
			}
			if err := os.Rename(tmp, out); err != nil {
				return fmt.Errorf("data fetch: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %d klines to %s\n", n, out)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&symbol, "symbol", "", "symbol, e.g. BTCUSDT")
	fl.StringVar(&interval, "interval", "1m", "kline interval: 1m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w")
	fl.StringVar(&from, "from", "", "first open time (RFC 3339, YYYY-MM-DD or epoch ms)")
	fl.StringVar(&to, "to", "", "end, exclusive")
	fl.StringVar(&out, "out", "", "output CSV file")
	return cmd
}
