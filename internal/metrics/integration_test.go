package metrics

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/loopback"
)

// TestPrometheusScrapesRunningBot builds the real binary, runs
// `bitrader run` in development mode (embedded simulator, no keys), starts
// the Debian Prometheus with a temp config scraping it on 127.0.0.1, and
// asks Prometheus's HTTP API that the target is up and trading metrics move.
func TestPrometheusScrapesRunningBot(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: builds the binary and runs Prometheus")
	}
	promBin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Skip("prometheus not on PATH: install the Debian package `prometheus` (CI does)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()

	bin := filepath.Join(dir, "bitrader")
	build := exec.CommandContext(ctx, "nice", "-n", "10", "go", "build", "-o", bin, "./cmd/bitrader")
	build.Dir = repoRoot
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/bitrader: %v\n%s", err, out)
	}

	botPort, promPort := loopback.FreePort(t), loopback.FreePort(t)
	bot := exec.CommandContext(ctx, bin, "run")
	bot.Dir = dir // no ./config.yaml: the embedded development config
	bot.Env = append(os.Environ(),
		"ENVIRONMENT=development",
		"BITRADER_SYSTEM_LISTENADDRESS=127.0.0.1",
		"BITRADER_SYSTEM_METRICSPORT="+strconv.Itoa(botPort),
		"BITRADER_SYSTEM_DATADIR="+filepath.Join(dir, "data"),
		// Candles of one second so the trend strategy trades within seconds.
		"BITRADER_STRATEGY_TREND_INTERVAL=1s",
		"BITRADER_STRATEGY_TREND_FASTPERIOD=2",
		"BITRADER_STRATEGY_TREND_SLOWPERIOD=3",
		"BITRADER_STRATEGY_TREND_ATRPERIOD=2",
	)
	botLog, err := os.Create(filepath.Join(dir, "bot.log"))
	if err != nil {
		t.Fatal(err)
	}
	bot.Stdout, bot.Stderr = botLog, botLog
	if err := bot.Start(); err != nil {
		t.Fatalf("start bitrader run: %v", err)
	}
	t.Cleanup(func() { stop(bot) })
	botAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(botPort))
	if err := waitHTTP(ctx, "http://"+botAddr+"/healthz", 30*time.Second); err != nil {
		logFile(t, filepath.Join(dir, "bot.log"))
		t.Fatalf("bitrader did not serve /healthz: %v", err)
	}

	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - %s
scrape_configs:
  - job_name: bitrader
    static_configs:
      - targets: ["%s"]
`, mustAbs(t, alertsFile), botAddr)
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	promAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(promPort))
	prom := exec.CommandContext(ctx, promBin,
		"--config.file="+cfgPath,
		"--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+promAddr,
	)
	promLog, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	prom.Stdout, prom.Stderr = promLog, promLog
	if err := prom.Start(); err != nil {
		t.Fatalf("start prometheus: %v", err)
	}
	t.Cleanup(func() { stop(prom) })
	if err := waitHTTP(ctx, "http://"+promAddr+"/-/ready", 30*time.Second); err != nil {
		logFile(t, filepath.Join(dir, "prometheus.log"))
		t.Fatalf("prometheus not ready: %v", err)
	}

	api := "http://" + promAddr
	// The target is up and exports bitrader_build_info.
	if err := poll(ctx, 30*time.Second, func() (bool, error) {
		v, err := queryScalar(ctx, api, `up{job="bitrader"}`)
		return err == nil && v == 1, err
	}); err != nil {
		t.Fatalf("target never up: %v", err)
	}
	if v, err := queryScalar(ctx, api, `count(bitrader_build_info{job="bitrader"})`); err != nil || v != 1 {
		t.Fatalf("bitrader_build_info: %v, %v", v, err)
	}

	// Trading metrics: the bot must export them at all (the app wires the
	// metrics.Bot observers) and then they must move.
	var wired bool
	_ = poll(ctx, 20*time.Second, func() (bool, error) {
		v, err := queryScalar(ctx, api, `count(bitrader_orders_total{job="bitrader"}) or vector(0)`)
		wired = err == nil && v > 0
		return wired, nil
	})
	if !wired {
		logFile(t, filepath.Join(dir, "bot.log"))
		t.Fatal("the running bot exports no bitrader_orders_total series after 20 s: app.Run must register " +
			"metrics.NewBot and pass it to the engine, order manager and bitunix client")
	}
	for _, expr := range []string{
		`sum(increase(bitrader_ws_messages_total{job="bitrader"}[1m]))`,
		`sum(increase(bitrader_orders_total{job="bitrader"}[1m]))`,
	} {
		if err := poll(ctx, 90*time.Second, func() (bool, error) {
			v, err := queryScalar(ctx, api, expr)
			return err == nil && v > 0, err
		}); err != nil {
			logFile(t, filepath.Join(dir, "bot.log"))
			t.Errorf("%s never > 0: %v", expr, err)
		}
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// stop sends SIGINT, then kills after 10 s.
func stop(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

func logFile(t *testing.T, path string) {
	t.Helper()
	if b, err := os.ReadFile(path); err == nil {
		if len(b) > 4000 {
			b = b[len(b)-4000:]
		}
		t.Logf("%s (tail):\n%s", filepath.Base(path), b)
	}
}

// poll calls f every 500 ms until it reports done or timeout passes.
func poll(ctx context.Context, timeout time.Duration, f func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		ok, err := f()
		if ok {
			return nil
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("timed out after %s (last error: %v)", timeout, last)
		case <-tick.C:
		}
	}
}

func waitHTTP(ctx context.Context, u string, timeout time.Duration) error {
	return poll(ctx, timeout, func() (bool, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return false, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false, err
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, fmt.Errorf("status %d", resp.StatusCode)
	})
}

// queryScalar runs an instant query that must return one sample.
func queryScalar(ctx context.Context, api, expr string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, api+"/api/v1/query?query="+url.QueryEscape(expr), nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("query %s: %w", expr, err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return 0, fmt.Errorf("query %s: decode: %w", expr, err)
	}
	if body.Status != "success" {
		return 0, fmt.Errorf("query %s: %s", expr, body.Error)
	}
	if len(body.Data.Result) != 1 {
		return 0, fmt.Errorf("query %s: %d samples, want 1", expr, len(body.Data.Result))
	}
	s, _ := body.Data.Result[0].Value[1].(string)
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("query %s: value %q: %w", expr, s, err)
	}
	return v, nil
}
