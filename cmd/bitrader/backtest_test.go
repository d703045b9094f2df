package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/marketdata"
	"github.com/bitrader/bitrader/internal/sim"
	"github.com/bitrader/bitrader/internal/trading"
)

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := execute(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestBacktestDataErrors: malformed rows, gaps and unsorted data fail with
// exit code 2 and a message naming the file and line.
func TestBacktestDataErrors(t *testing.T) {
	tests := []struct{ file, want string }{
		{"BTCUSDT-bad.csv", "BTCUSDT-bad.csv:3: column close"},
		{"BTCUSDT-gap.csv", "BTCUSDT-gap.csv:4:"},
		{"BTCUSDT-unsorted.csv", "BTCUSDT-unsorted.csv:3:"},
		{"missing.csv", "missing.csv"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			code, _, stderr := run(t, "backtest", "--data", filepath.Join("../../testdata/backtest", tt.file), "--set", "strategy.trend.interval=1m")
			if code != exitConfig {
				t.Fatalf("exit %d, want %d; stderr %s", code, exitConfig, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr %q does not name %q", stderr, tt.want)
			}
		})
	}
}

// TestBacktestJSONAndHTMLDeterministic runs the CLI twice and compares
// outputs byte for byte.
func TestBacktestJSONAndHTMLDeterministic(t *testing.T) {
	dir := t.TempDir()
	var outs [2]string
	var pages [2][]byte
	for i := range outs {
		h := filepath.Join(dir, "r"+string(rune('0'+i))+".html")
		code, out, stderr := run(t, "backtest", "--data", "../../testdata/sample/BTCUSDT-1m.csv", "--json", "--html", h,
			"--set", "strategy.trend.interval=1m", "--set", "strategy.trend.fastPeriod=5", "--set", "strategy.trend.slowPeriod=20")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if stderr != "" {
			t.Errorf("--json must be quiet on stderr, got %q", stderr)
		}
		b, err := os.ReadFile(h)
		if err != nil {
			t.Fatal(err)
		}
		outs[i], pages[i] = out, b
	}
	if !strings.Contains(outs[0], `"tradeList"`) || !strings.Contains(outs[0], `"sharpe"`) {
		t.Fatalf("not a JSON report: %.200s", outs[0])
	}
	if outs[0] != outs[1] || !bytes.Equal(pages[0], pages[1]) {
		t.Error("reports differ between identical runs")
	}
}

// TestSweepParallelInvariant: the ranked JSON summary is the same with one
// worker and with four.
func TestSweepParallelInvariant(t *testing.T) {
	args := func(p string) []string {
		return []string{"backtest", "sweep", "--data", "../../testdata/sample/BTCUSDT-1m.csv", "--json", "--parallel", p,
			"--set", "strategy.trend.interval=1m",
			"--grid", "strategy.trend.fastPeriod=5,8", "--grid", "strategy.trend.slowPeriod=20,26", "--rank", "return"}
	}
	code, one, stderr := run(t, args("1")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	code, four, stderr := run(t, args("4")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if one != four {
		t.Errorf("sweep output depends on --parallel:\n%s\n----\n%s", one, four)
	}
	if strings.Count(one, `"rank"`) != 4 {
		t.Errorf("want 4 ranked results: %s", one)
	}
	code, _, stderr = run(t, "backtest", "sweep", "--data", "../../testdata/sample/BTCUSDT-1m.csv", "--grid", "strategy.trend.fastPeriod=x")
	if code != exitConfig {
		t.Errorf("bad grid value: exit %d, want %d (%s)", code, exitConfig, stderr)
	}
}

// TestDataFetchFromSimulator downloads 30 minutes of 1m klines (more than
// one 200-row page at 1m would need 200+; use 5 hours) from an in-process
// simulator on 127.0.0.1 and reads them back with the kline reader.
func TestDataFetchFromSimulator(t *testing.T) {
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	srv, err := sim.New(sim.Config{Clock: sim.NewManualClock(start), TickInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	const minutes = 250 // two pages of 200
	if err := srv.Advance(minutes*time.Minute + time.Second); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "BTCUSDT-1m.csv")
	code, stdout, stderr := run(t, "data", "fetch", "--symbol", "BTCUSDT", "--interval", "1m",
		"--from", start.Format(time.RFC3339), "--to", start.Add(minutes*time.Minute).Format(time.RFC3339),
		"--out", out, "--dry-run", "--set", "api.baseURL="+srv.URL())
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, stdout, stderr)
	}
	kr, err := marketdata.OpenKlines(out, marketdata.KlineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer kr.Close()
	var ks []trading.Kline
	for k, err := range kr.All() {
		if err != nil {
			t.Fatal(err)
		}
		ks = append(ks, k)
	}
	if len(ks) != minutes {
		t.Fatalf("fetched %d klines, want %d", len(ks), minutes)
	}
	if !ks[0].OpenTime.Equal(start) || !ks[minutes-1].OpenTime.Equal(start.Add((minutes-1)*time.Minute)) {
		t.Errorf("range %s..%s", ks[0].OpenTime, ks[minutes-1].OpenTime)
	}
	// The file backtests.
	if code, _, stderr := run(t, "backtest", "--data", out, "--json", "--set", "strategy.trend.interval=5m"); code != 0 {
		t.Errorf("backtest of fetched data: exit %d: %s", code, stderr)
	}
}

// TestBacktestRefusesFinerCandlesThanData: the development configuration's
// 5 s trend candles cannot come from 1 m klines; the backtest says so and
// exits 2 rather than reporting a meaningless result.
func TestBacktestRefusesFinerCandlesThanData(t *testing.T) {
	code, _, stderr := run(t, "backtest", "--data", "../../testdata/sample/BTCUSDT-1m.csv")
	if code != exitConfig || !strings.Contains(stderr, "strategy.trend.interval 5s cannot be built from 1m0s klines") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}
