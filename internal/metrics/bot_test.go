package metrics

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/bitrader/bitrader/internal/bitunix"
	"github.com/bitrader/bitrader/internal/engine"
	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/journal"
	"github.com/bitrader/bitrader/internal/ordermanager"
	"github.com/bitrader/bitrader/internal/risk"
	"github.com/bitrader/bitrader/internal/trading"
)

// The observer interfaces other packages define, satisfied exactly.
var (
	_ bitunix.Observer      = (*Bot)(nil)
	_ ordermanager.Observer = (*Bot)(nil)
	_                       = journal.Options{Observe: (*Bot)(nil).JournalWrite}
)

var fixedNow = time.Unix(1_800_000_000, 500_000_000)

func newTestBot(t *testing.T) (*prometheus.Registry, *Bot) {
	t.Helper()
	reg := NewRegistry(BuildInfo{Version: "1.2.3", Commit: "abc", Date: "2026-11-01"})
	bot := NewBot(reg, Options{Symbols: []string{"BTCUSDT"}, Now: func() time.Time { return fixedNow }})
	return reg, bot
}

func fx(s string) fixed.Value { return fixed.MustParse(s) }

// touchAll drives every Bot method so every metric family has samples.
func touchAll(b *Bot) {
	b.RESTRequest("trade/place_order", "ok", 30*time.Millisecond)
	b.RESTRequest("trade/place_order", "transport_error", 2*time.Second)
	b.RateLimitWait("trade/place_order", 100*time.Millisecond)
	b.RateLimitHeadroom("trade/place_order", 0.75)
	b.WSState("public", true)
	b.WSReconnect("public")
	b.WSMessage("public", 20*time.Millisecond)
	b.WSMessage("public", -5*time.Millisecond)
	o := ordermanager.Order{ClientID: "c1", Intent: trading.Intent{Symbol: "BTCUSDT", Side: trading.Buy, Type: trading.Limit, Qty: fx("0.01"), Price: fx("60000")}}
	b.OrderSubmitted(o, ordermanager.OutcomeAccepted)
	b.OrderRejected("BTCUSDT", 30001)
	b.OrderFilled(trading.Fill{Symbol: "BTCUSDT", Side: trading.Buy, Price: fx("60000"), Qty: fx("0.01"), Fee: fx("0.36")})
	b.IllegalTransition(ordermanager.EvAccepted)
	b.Reconciled(ordermanager.ReconcileResult{StillAmbiguous: 1, Drifts: []ordermanager.Drift{{Kind: ordermanager.DriftPosition, Symbol: "BTCUSDT"}, {Kind: ordermanager.DriftPositionInFlight}}}, 150*time.Millisecond)
	b.Reconciled(ordermanager.ReconcileResult{Errors: []error{errors.New("boom")}}, time.Second)
	b.JournalWrite("put_order", 2*time.Millisecond)
	b.TickToOrder("BTCUSDT", 300*time.Microsecond)
	b.PnL(fx("12.5"), fx("3.1"), fx("-0.2"), fx("10012.5"), fx("-40"), fx("0.05"))
	// The engine view overwrites the account gauges set by PnL above.
	e := b.Engine()
	e.Decision("BTCUSDT", risk.Refuse, risk.ReasonDailyLoss)
	e.Halted(true, "daily loss")
	e.Account(engine.AccountSnapshot{Equity: fx("900"), DailyPnL: fx("-40"), Drawdown: fx("100"), OpenOrders: 2,
		PnL:       ordermanager.PnL{Realized: fx("12.5"), Fees: fx("3.1"), Funding: fx("0.2")},
		Positions: []ordermanager.Position{{Symbol: "ETHUSDT", Qty: fx("2"), AvgEntry: fx("3000"), Mark: fx("3100")}}})
	e.Breakers([]risk.BreakerStatus{{Breaker: risk.BreakerNone, Name: "none", Tripped: true}, {Breaker: risk.BreakerKill, Name: "kill_switch"}})
	e.WSState("private", true)
	e.WSReconnect("private")                                                                                                       // counted by the bitunix stream, not here
	e.Reconciled(ordermanager.ReconcileResult{Drifts: []ordermanager.Drift{{Kind: ordermanager.DriftPosition}}}, time.Second, nil) // counted via ordermanager
	e.Leader(true)
	e.Ready(true)
	b.LeaderEpoch(7)
	b.Position("BTCUSDT", fx("-0.01"), fx("-600"), fx("60000"), fx("-1.5"))
	b.MaxDailyLoss(fx("200"))
	b.Breaker("daily_loss", true)
	b.Leader(true, 7)
	b.Ready(true)
}

func TestBotRecordsEvents(t *testing.T) {
	reg, b := newTestBot(t)
	touchAll(b)
	tests := []struct {
		name string
		c    prometheus.Collector
		want float64
	}{
		{"rest ok", b.restRequests.WithLabelValues("trade/place_order", "ok"), 1},
		{"ws connected", b.wsConnected.WithLabelValues("public"), 1},
		{"funding paid is minus received", b.fundingPaid, -0.2},
		{"drawdown ratio from peak", b.drawdown, 0.1},
		{"ws reconnects", b.wsReconnects.WithLabelValues("public"), 1},
		{"ws messages", b.wsMessages.WithLabelValues("public"), 2},
		{"ws last message", b.wsLastMsg.WithLabelValues("public"), 1_800_000_000.5},
		{"order accepted", b.ordersSubmitted.WithLabelValues("BTCUSDT", "BUY", "LIMIT", "accepted"), 1},
		{"reject by code", b.orderRejects.WithLabelValues("BTCUSDT", "30001"), 1},
		{"fills", b.fills.WithLabelValues("BTCUSDT", "BUY"), 1},
		{"fill notional", b.fillNotional.WithLabelValues("BTCUSDT", "BUY"), 600},
		{"fill fees", b.fees.WithLabelValues("BTCUSDT"), 0.36},
		{"illegal", b.illegalTransitions.WithLabelValues("accepted"), 1},
		{"drift position", b.reconDrift.WithLabelValues("position"), 1},
		{"drift in flight", b.reconDrift.WithLabelValues("position_in_flight"), 1},
		{"drift missing pre-initialised", b.reconDrift.WithLabelValues("missing_order"), 0},
		{"recon ok (engine Reconciled not double counted)", b.reconRuns.WithLabelValues("ok"), 1},
		{"recon error", b.reconRuns.WithLabelValues("error"), 1},
		{"unexplained reset by the last run", b.reconUnexplained, 0},
		{"position size signed", b.posSize.WithLabelValues("BTCUSDT"), -0.01},
		{"position notional absolute", b.posNotional.WithLabelValues("BTCUSDT"), 600},
		{"upnl", b.posUPnL.WithLabelValues("BTCUSDT"), -1.5},
		{"daily pnl", b.dailyPnL, -40},
		{"max daily loss", b.maxDailyLoss, 200},
		{"equity", b.equity, 900},
		{"breaker tripped", b.breaker.WithLabelValues("daily_loss"), 1},
		{"breaker pre-initialised", b.breaker.WithLabelValues("kill_switch"), 0},
		{"leader", b.isLeader, 1},
		{"epoch", b.epoch, 7},
		{"ready", b.ready, 1},
		{"risk decision", b.riskDecisions.WithLabelValues("refuse", "daily_loss"), 1},
		{"halted", b.halted, 1},
		{"open orders", b.openOrders, 2},
		{"drawdown amount", b.drawdownAmt, 100},
		{"engine position notional at mark", b.posNotional.WithLabelValues("ETHUSDT"), 6200},
		{"engine position upnl", b.posUPnL.WithLabelValues("ETHUSDT"), 200},
		{"engine ws state", b.wsConnected.WithLabelValues("private"), 1},
		{"engine reconnect not double counted", b.wsReconnects.WithLabelValues("private"), 0},
	}
	for _, tt := range tests {
		if got := testutil.ToFloat64(tt.c); got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, got, tt.want)
		}
	}
	if _, fresh := newTestBot(t); testutil.CollectAndCount(fresh.wsConnected) != 0 {
		t.Errorf("ws_connected has series before any stream reported")
	}
	if n := testutil.CollectAndCount(b.wsLag); n != 2 {
		t.Errorf("ws lag series = %d, want 2 (public, private)", n)
	}
	// An unexplained drift run sets the gauge; the next clean run clears it.
	b.Reconciled(ordermanager.ReconcileResult{Drifts: []ordermanager.Drift{{Kind: ordermanager.DriftMissingOrder}, {Kind: ordermanager.DriftResurrected}}}, time.Millisecond)
	if got := testutil.ToFloat64(b.reconUnexplained); got != 2 {
		t.Errorf("unexplained drift = %v, want 2", got)
	}
	b.Ready(false)
	b.Leader(false, 8)
	b.Breaker("daily_loss", false)
	for name, tc := range map[string]struct {
		c    prometheus.Collector
		want float64
	}{"ready": {b.ready, 0}, "leader": {b.isLeader, 0}, "epoch": {b.epoch, 8}, "breaker": {b.breaker.WithLabelValues("daily_loss"), 0}} {
		if got := testutil.ToFloat64(tc.c); got != tc.want {
			t.Errorf("after reset %s = %v, want %v", name, got, tc.want)
		}
	}
	if _, err := reg.Gather(); err != nil {
		t.Fatalf("gather: %v", err)
	}
}

func TestBreakersPreinitialised(t *testing.T) {
	_, b := newTestBot(t)
	want := []string{"kill_switch", "daily_loss", "drawdown"}
	if got := breakerNames(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("breakerNames() = %v, want %v", got, want)
	}
	if n := testutil.CollectAndCount(b.breaker); n != len(want) {
		t.Fatalf("breaker series = %d, want %d", n, len(want))
	}
}

func TestNoGlobalRegistration(t *testing.T) {
	before, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	_, b := newTestBot(t)
	touchAll(b)
	after, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Fatalf("default registry grew from %d to %d families", len(before), len(after))
	}
	// Two bots in one process (two tests, two apps) must not collide.
	newTestBot(t)
}

// scrape serves reg on 127.0.0.1 through promhttp, as /metrics does, and
// returns the exposition text.
func scrape(t *testing.T, reg *prometheus.Registry) []byte {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+ln.Addr().String()+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	// Plain text format: what promtool check metrics reads.
	req.Header.Set("Accept", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: status %d, err %v", resp.StatusCode, err)
	}
	return body
}

func needPromtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not on PATH: install the Debian package `prometheus` (CI does) to run this check")
	}
	return p
}

func TestPromtoolCheckMetrics(t *testing.T) {
	promtool := needPromtool(t)
	reg, b := newTestBot(t)
	touchAll(b)
	body := scrape(t, reg)
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) != 0 {
		t.Fatalf("promtool check metrics: err %v\n%s", err, out)
	}
	for _, want := range []string{"bitrader_build_info{", "bitrader_orders_total{", "bitrader_tick_to_order_seconds_bucket{", "go_goroutines ", "process_"} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestPromtoolCheckMetricsCatchesBadNames(t *testing.T) {
	// Proves the check above can fail: a counter without _total is linted.
	promtool := needPromtool(t)
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader("# HELP bitrader_bad Bad.\n# TYPE bitrader_bad counter\nbitrader_bad 1\n")
	out, _ := cmd.CombinedOutput()
	if !bytes.Contains(out, []byte("_total")) {
		t.Fatalf("promtool did not flag a counter without _total: %s", out)
	}
}
