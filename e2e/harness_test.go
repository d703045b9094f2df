// Package e2e runs the real bitrader binary against the simulator on
// loopback and asserts on the exchange's own records (the simulator's
// /_sim/ control API), never only on what the bot says about itself.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/loopback"
	"github.com/bitrader/bitrader/internal/sim"
)

var binary string

func TestMain(m *testing.M) {
	// The caller's environment (ENVIRONMENT, BITRADER_*, keys, KUBECONFIG)
	// must not reach the binaries these tests start.
	loopback.ScrubEnv()
	dir, err := os.MkdirTemp("", "bitrader-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "bitrader")
	build := exec.Command("go", "build", "-o", binary, "../cmd/bitrader")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build bitrader:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// exchange is an in-process simulator with one account.
type exchange struct {
	t    *testing.T
	srv  *sim.Server
	acct sim.Account
}

func startExchange(t *testing.T) *exchange {
	t.Helper()
	acct := sim.NewDemoAccount()
	srv, err := sim.New(sim.Config{Listen: "127.0.0.1:0", Accounts: []sim.Account{acct},
		Symbols: []sim.SymbolConfig{sim.SymbolFromName("BTCUSDT")}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := srv.Start(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); srv.Close() })
	return &exchange{t: t, srv: srv, acct: acct}
}

func (x *exchange) post(path string, body any) {
	x.t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(x.srv.URL()+path, "application/json", bytes.NewReader(b))
	if err != nil {
		x.t.Fatalf("sim control %s: %v", path, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		x.t.Fatalf("sim control %s: HTTP %d", path, resp.StatusCode)
	}
}

func (x *exchange) get(path string, into any) {
	x.t.Helper()
	resp, err := http.Get(x.srv.URL() + path + "?apiKey=" + x.acct.APIKey)
	if err != nil {
		x.t.Fatalf("sim control %s: %v", path, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		x.t.Fatalf("sim control %s: decode: %v", path, err)
	}
}

type simOrder struct {
	OrderID  string `json:"orderId"`
	ClientID string `json:"clientId"`
	Side     string `json:"side"`
	Qty      string `json:"qty"`
}

// orders is every order the exchange ever accepted for the account.
func (x *exchange) orders() []simOrder {
	var m map[string][]simOrder
	x.get("/_sim/orders", &m)
	return m[x.acct.APIKey]
}

// position is the exchange's signed BTCUSDT position.
func (x *exchange) position() fixed.Value {
	var m map[string][]struct {
		Symbol string      `json:"symbol"`
		Side   string      `json:"side"`
		Qty    fixed.Value `json:"qty"`
	}
	x.get("/_sim/positions", &m)
	var q fixed.Value
	for _, p := range m[x.acct.APIKey] {
		if strings.EqualFold(p.Side, "SELL") || strings.EqualFold(p.Side, "SHORT") {
			q -= p.Qty
		} else {
			q += p.Qty
		}
	}
	return q
}

// equity is the exchange's wallet plus unrealised PnL.
func (x *exchange) equity() fixed.Value {
	var m map[string]struct{ Equity fixed.Value }
	x.get("/_sim/balances", &m)
	return m[x.acct.APIKey].Equity
}

// assertNoDuplicates fails if any client id was accepted twice.
func (x *exchange) assertNoDuplicates() {
	x.t.Helper()
	seen := map[string]bool{}
	for _, o := range x.orders() {
		if o.ClientID == "" {
			x.t.Errorf("order %s without client id", o.OrderID)
			continue
		}
		if seen[o.ClientID] {
			x.t.Errorf("DUPLICATE client id %s on the exchange", o.ClientID)
		}
		seen[o.ClientID] = true
	}
}

// bot is one run of the real binary.
type bot struct {
	t      *testing.T
	cmd    *exec.Cmd
	url    string
	logMu  sync.Mutex
	log    bytes.Buffer
	done   chan error
	dir    string
	extra  []string
	x      *exchange
	waited bool
}

func (b *bot) Write(p []byte) (int, error) {
	b.logMu.Lock()
	defer b.logMu.Unlock()
	return b.log.Write(p)
}

func (b *bot) logs() string {
	b.logMu.Lock()
	defer b.logMu.Unlock()
	return b.log.String()
}

// fastTrend trades every few seconds on the simulator's synthetic data.
var fastTrend = []string{
	"strategy.name=trend", "strategy.trend.interval=1s", "strategy.trend.fastPeriod=2",
	"strategy.trend.slowPeriod=3", "strategy.trend.atrPeriod=2",
}

func startBot(t *testing.T, x *exchange, dataDir string, sets ...string) *bot {
	t.Helper()
	return launchBot(t, x, dataDir, []string{"API_KEY=" + x.acct.APIKey, "SECRET_KEY=" + x.acct.Secret}, sets...)
}

// launchBot is startBot with the account keys given as environment entries
// (none for a dry run, which needs only public data).
func launchBot(t *testing.T, x *exchange, dataDir string, keys []string, sets ...string) *bot {
	t.Helper()
	port := loopback.FreePort(t)
	args := []string{"run",
		"--set", "api.baseURL=" + x.srv.URL(), "--set", "api.wsURL=" + x.srv.PublicWSURL(),
		"--set", "trading.dryRun=false", "--set", "system.dataDir=" + dataDir,
		"--set", "system.listenAddress=127.0.0.1", "--set", "system.metricsPort=" + strconv.Itoa(port),
		"--set", "system.shutdownTimeout=10s", "--set", "system.logLevel=info",
	}
	for _, s := range append(append([]string(nil), fastTrend...), sets...) {
		args = append(args, "--set", s)
	}
	b := &bot{t: t, url: "http://127.0.0.1:" + strconv.Itoa(port), done: make(chan error, 1), dir: dataDir, x: x}
	b.cmd = exec.Command(binary, args...)
	b.cmd.Env = append(append(os.Environ(), keys...), "ADMIN_TOKEN=e2e-token")
	b.cmd.Stdout, b.cmd.Stderr = b, b
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { b.done <- b.cmd.Wait() }()
	t.Cleanup(func() {
		if !b.waited {
			_ = b.cmd.Process.Kill()
			<-b.done
		}
		if t.Failed() {
			t.Logf("bot log:\n%s", b.logs())
		}
	})
	b.waitReady(30 * time.Second)
	return b
}

func (b *bot) waitReady(d time.Duration) {
	b.t.Helper()
	waitFor(b.t, d, "bot ready", func() bool {
		resp, err := http.Get(b.url + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

type botStatus struct {
	Halt struct {
		Halted bool   `json:"halted"`
		Reason string `json:"reason"`
	} `json:"halt"`
	Breakers []struct {
		Name    string
		Tripped bool
	} `json:"breakers"`
	Equity fixed.Value `json:"equity"`
	Orders struct {
		Positions []struct {
			Symbol string      `json:"symbol"`
			Qty    fixed.Value `json:"qty"`
		} `json:"positions"`
		OpenOrders []json.RawMessage `json:"openOrders"`
		Drift      struct {
			Unexplained int `json:"unexplained"`
		} `json:"drift"`
	} `json:"orders"`
	Decisions []struct {
		Side       string `json:"side"`
		Verdict    string `json:"verdict"`
		Reason     string `json:"reason"`
		ReduceOnly bool   `json:"reduceOnly"`
		ClientID   string `json:"clientId"`
	} `json:"decisions"`
}

func (b *bot) status() (botStatus, bool) {
	var st botStatus
	resp, err := http.Get(b.url + "/status")
	if err != nil {
		return st, false
	}
	defer resp.Body.Close()
	return st, json.NewDecoder(resp.Body).Decode(&st) == nil
}

func (st botStatus) position() fixed.Value {
	for _, p := range st.Orders.Positions {
		if p.Symbol == "BTCUSDT" {
			return p.Qty
		}
	}
	return 0
}

// stop sends SIGTERM and waits for a clean exit.
func (b *bot) stop(d time.Duration) {
	b.t.Helper()
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-b.done:
		b.waited = true
		if err != nil {
			b.t.Errorf("bot exited with %v", err)
		}
	case <-time.After(d):
		b.t.Fatalf("bot did not exit within %s of SIGTERM", d)
	}
}

// kill9 kills the bot with SIGKILL: no shutdown work at all.
func (b *bot) kill9() {
	_ = b.cmd.Process.Kill()
	<-b.done
	b.waited = true
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitOrders waits until the exchange has accepted at least n orders.
func (x *exchange) waitOrders(t *testing.T, n int, d time.Duration) {
	t.Helper()
	waitFor(t, d, fmt.Sprintf("%d orders on the exchange", n), func() bool { return len(x.orders()) >= n })
}

// waitPositionsAgree waits until the bot's position equals the exchange's.
func waitPositionsAgree(t *testing.T, b *bot, x *exchange, d time.Duration) {
	t.Helper()
	var last string
	deadline := time.Now().Add(d)
	for {
		st, ok := b.status()
		ex := x.position()
		if ok && st.position() == ex {
			return
		}
		last = fmt.Sprintf("bot %s, exchange %s", st.position(), ex)
		if time.Now().After(deadline) {
			t.Fatalf("positions never agreed: %s", last)
		}
		time.Sleep(150 * time.Millisecond)
	}
}
