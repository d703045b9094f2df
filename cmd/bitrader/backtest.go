package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bitrader/bitrader/internal/backtest"
	"github.com/bitrader/bitrader/internal/config"
	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/marketdata"
)

// backtestFlags are shared by backtest and backtest sweep.
type backtestFlags struct {
	data        string
	format      string
	from, to    string
	latency     time.Duration
	balance     string
	fundingRate string
	period      time.Duration
	fillModel   string
	json        bool
}

func (f *backtestFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.data, "data", "", "CSV file: header klines, a Binance kline dump or trades (required)")
	fl.StringVar(&f.format, "format", "auto", "data format: auto, klines, binance or trades")
	fl.StringVar(&f.from, "from", "", "start of the period (RFC 3339, YYYY-MM-DD or epoch ms); default: the data's start")
	fl.StringVar(&f.to, "to", "", "end of the period, exclusive; default: the data's end")
	fl.DurationVar(&f.latency, "latency", 0, "delay between a decision and the order reaching the matching engine, e.g. 250ms")
	fl.StringVar(&f.balance, "balance", "", "starting balance in USDT (default sim.startBalance)")
	fl.StringVar(&f.fundingRate, "funding-rate", "", "funding rate per sim.fundingInterval when the data has none (default 0.0001)")
	fl.DurationVar(&f.period, "period", time.Hour, "return sampling period for Sharpe and Sortino")
	fl.StringVar(&f.fillModel, "fill-model", "ohlc-path", "how klines become prices: ohlc-path (four prints per kline: open, the extremes, close) or candle (faster; fills at the next kline's open)")
	fl.BoolVar(&f.json, "json", false, "print the report as JSON (no progress output)")
}

// options validates the flags into backtest options (config aside).
func (f *backtestFlags) options() (backtest.Options, error) {
	var o backtest.Options
	if f.data == "" {
		return o, usageError{errors.New("--data FILE is required")}
	}
	o.Data, o.Latency, o.Period = f.data, f.latency, f.period
	switch strings.ToLower(f.format) {
	case "", "auto":
		o.Format = marketdata.FormatAuto
	case "klines":
		o.Format = marketdata.FormatKlines
	case "binance", "binance-klines":
		o.Format = marketdata.FormatBinanceKlines
	case "trades":
		o.Format = marketdata.FormatTrades
	default:
		return o, usageError{fmt.Errorf("--format %q: allowed auto, klines, binance, trades", f.format)}
	}
	fm, err := backtest.ParseFillModel(f.fillModel)
	if err != nil {
		return o, usageError{fmt.Errorf("--fill-model: %w", err)}
	}
	o.FillModel = fm
	if f.latency < 0 {
		return o, usageError{fmt.Errorf("--latency %s: must not be negative", f.latency)}
	}
	if f.period <= 0 {
		return o, usageError{fmt.Errorf("--period %s: must be positive", f.period)}
	}
	if o.From, err = parseWhen(f.from); err != nil {
		return o, usageError{fmt.Errorf("--from: %w", err)}
	}
	if o.To, err = parseWhen(f.to); err != nil {
		return o, usageError{fmt.Errorf("--to: %w", err)}
	}
	if !o.From.IsZero() && !o.To.IsZero() && !o.From.Before(o.To) {
		return o, usageError{errors.New("--from must be before --to")}
	}
	if f.balance != "" {
		if o.Balance, err = fixed.Parse(f.balance); err != nil || o.Balance <= 0 {
			return o, usageError{fmt.Errorf("--balance %q: must be a positive number", f.balance)}
		}
	}
	if f.fundingRate != "" {
		if o.FundingRate, err = fixed.Parse(f.fundingRate); err != nil {
			return o, usageError{fmt.Errorf("--funding-rate %q: %w", f.fundingRate, err)}
		}
	}
	return o, nil
}

// parseWhen accepts RFC 3339, a date (UTC midnight) or epoch milliseconds.
func parseWhen(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q: want RFC 3339 (2024-01-01T00:00:00Z), a date (2024-01-01) or epoch milliseconds", s)
}

// isTerminal reports whether f is a terminal, without new dependencies.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progressLine draws an updating progress line on a terminal.
type progressLine struct {
	w    io.Writer
	last time.Time
}

func (p *progressLine) show(format string, args ...any) {
	if now := time.Now(); now.Sub(p.last) >= 200*time.Millisecond {
		p.last = now
		fmt.Fprintf(p.w, "\r\033[K"+format, args...)
	}
}

func (p *progressLine) done() { fmt.Fprint(p.w, "\r\033[K") }

// dataError marks a data problem (malformed row, gap, unsorted): a usage
// error, exit code 2.
func dataError(err error) error {
	var pe *marketdata.ParseError
	if errors.As(err, &pe) || errors.Is(err, os.ErrNotExist) || errors.Is(err, backtest.ErrIncompatible) {
		return usageError{err}
	}
	return err
}

func writeReport(cmd *cobra.Command, rep *backtest.Report, asJSON bool, htmlPath string) error {
	if htmlPath != "" {
		var buf bytes.Buffer
		if err := backtest.WriteHTML(&buf, rep); err != nil {
			return err
		}
		if err := os.WriteFile(htmlPath, buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write --html: %w", err)
		}
	}
	out := cmd.OutOrStdout()
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return backtest.WriteSummary(out, rep)
}

func newBacktestCmd(g *globalFlags) *cobra.Command {
	var f backtestFlags
	var htmlPath string
	cmd := &cobra.Command{
		Use:   "backtest",
		Short: "Backtest a strategy on historical data",
		Long: `Replays a CSV file through the same market state, strategy, risk gate and order
manager that trade live, with bitrader's matching engine as the exchange (fees,
slippage, partial fills, funding, leverage, margin, liquidation). The strategy
and its parameters come from the configuration layers, as for "run":
  bitrader backtest --data testdata/sample/BTCUSDT-1m.csv --set strategy.trend.fastPeriod=8
Data formats: header klines (open_time,open,high,low,close,volume), Binance
12-column kline dumps, trades (time,price,qty,side). Malformed rows, gaps and
unsorted data are errors naming the file and line (exit code 2).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opt, err := f.options()
			if err != nil {
				return err
			}
			l, err := g.load(cmd)
			if err != nil {
				return err
			}
			opt.Config = l.Config
			opt.Params = setParams(g.set)
			var pl *progressLine
			if !f.json && isTerminal(cmd.ErrOrStderr()) {
				pl = &progressLine{w: cmd.ErrOrStderr()}
				opt.Progress = func(done, total int64) {
					if total > 0 {
						pl.show("backtest %s: %3.0f%%", f.data, 100*float64(done)/float64(total))
					}
				}
			}
			rep, err := backtest.Run(cmd.Context(), opt)
			if pl != nil {
				pl.done()
			}
			if err != nil {
				return dataError(err)
			}
			return writeReport(cmd, rep, f.json, htmlPath)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&htmlPath, "html", "", "also write a self-contained HTML report (equity and drawdown charts, trades) to FILE")
	cmd.AddCommand(newSweepCmd(g))
	return cmd
}

// setParams turns --set flags into the report's parameter map.
func setParams(set []string) map[string]string {
	if len(set) == 0 {
		return nil
	}
	m := map[string]string{}
	for _, s := range set {
		k, v, _ := strings.Cut(s, "=")
		m[k] = v
	}
	return m
}

func newSweepCmd(g *globalFlags) *cobra.Command {
	var f backtestFlags
	var grid []string
	var parallel int
	var rank string
	cmd := &cobra.Command{
		Use:   "sweep",
		Short: "Backtest every combination of a parameter grid and rank the results",
		Long: `Runs one independent, deterministic backtest per point of the cartesian product
of the --grid values, in parallel, and prints a ranked table (or --json):
  bitrader backtest sweep --data testdata/sample/BTCUSDT-1m.csv \
    --grid strategy.trend.fastPeriod=5,8,12 --grid strategy.trend.slowPeriod=20,26
Any configuration key can be a grid axis. Results do not depend on --parallel.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opt, err := f.options()
			if err != nil {
				return err
			}
			axes, err := backtest.ParseGrid(grid)
			if err != nil {
				return usageError{err}
			}
			if !contains(backtest.RankKeys, rank) {
				return usageError{fmt.Errorf("--rank %q: allowed: %s", rank, strings.Join(backtest.RankKeys, ", "))}
			}
			if parallel < 1 {
				return usageError{fmt.Errorf("--parallel %d: must be >= 1", parallel)}
			}
			combos := backtest.Combinations(axes)
			// Load every configuration up front, so a bad grid value fails
			// before any backtest runs, with the config's own message.
			cfgs := make(map[string]config.Config, len(combos))
			for _, c := range combos {
				lg := *g
				lg.set = append(append([]string(nil), g.set...), c...)
				l, err := lg.load(cmd)
				if err != nil {
					return err
				}
				cfgs[strings.Join(c, " ")] = l.Config
			}
			// Check the data once (format, first rows) before fanning out.
			var pl *progressLine
			if !f.json && isTerminal(cmd.ErrOrStderr()) {
				pl = &progressLine{w: cmd.ErrOrStderr()}
			}
			run := func(ctx context.Context, set []string) (*backtest.Report, error) {
				o := opt
				o.Config = cfgs[strings.Join(set, " ")]
				o.Params = setParams(append(append([]string(nil), g.set...), set...))
				return backtest.Run(ctx, o)
			}
			res := backtest.Sweep(cmd.Context(), combos, parallel, run, func(done, total int) {
				if pl != nil {
					pl.show("sweep: %d/%d backtests", done, total)
				}
			})
			if pl != nil {
				pl.done()
			}
			// A data error is the same for every point: report it once.
			for _, r := range res {
				if r.Error != "" && r.Report == nil {
					if _, err := backtest.Run(cmd.Context(), withConfig(opt, cfgs[strings.Join(r.Set, " ")])); err != nil && isDataError(err) {
						return dataError(err)
					}
					break
				}
			}
			if err := backtest.Rank(res, rank); err != nil {
				return usageError{err}
			}
			rows := backtest.Rows(res)
			if f.json {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					Data   string              `json:"data"`
					RankBy string              `json:"rankBy"`
					Rows   []backtest.SweepRow `json:"results"`
				}{f.data, rank, rows})
			}
			return backtest.WriteTable(cmd.OutOrStdout(), rows)
		},
	}
	f.register(cmd)
	cmd.Flags().StringArrayVar(&grid, "grid", nil, "a grid axis: config.key=v1,v2,... (repeatable)")
	cmd.Flags().IntVar(&parallel, "parallel", runtime.NumCPU(), "backtests run at once")
	cmd.Flags().StringVar(&rank, "rank", "sharpe", "rank by: "+strings.Join(backtest.RankKeys, ", "))
	return cmd
}

func withConfig(o backtest.Options, c config.Config) backtest.Options { o.Config = c; return o }

func isDataError(err error) bool {
	var pe *marketdata.ParseError
	return errors.As(err, &pe) || errors.Is(err, os.ErrNotExist)
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
