package e2e

import (
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
)

const (
	placePath  = "/api/v1/futures/trade/place_order"
	detailPath = "/api/v1/futures/trade/get_order_detail"
)

// (a) A normal session opens and closes positions; on SIGTERM the bot exits
// cleanly with nothing open that it does not know about.
func TestNormalSessionOpensAndClosesPositions(t *testing.T) {
	t.Parallel()
	x := startExchange(t)
	b := startBot(t, x, t.TempDir())
	sides := map[string]bool{}
	waitFor(t, 60*time.Second, "a buy and a sell on the exchange", func() bool {
		for _, o := range x.orders() {
			sides[o.Side] = true
		}
		return len(x.orders()) >= 3 && len(sides) >= 2
	})
	waitPositionsAgree(t, b, x, 15*time.Second)
	b.stop(15 * time.Second)
	x.assertNoDuplicates()
	for _, o := range x.orders() {
		if len(o.ClientID) < 4 || o.ClientID[:4] != "btr-" {
			t.Errorf("order %s has a foreign client id %q", o.OrderID, o.ClientID)
		}
	}
}

// (b) kill -9 while a placed order's reply is lost and its lookup hangs,
// i.e. after the journal write and before the bot learnt the outcome. The
// restarted bot must settle it by client id: no duplicate, positions agree.
func TestKill9BetweenJournalAndReplyNoDuplicate(t *testing.T) {
	t.Parallel()
	x := startExchange(t)
	dir := t.TempDir()
	b := startBot(t, x, dir)
	before := len(x.orders())
	// The next place_order executes but never answers; the lookups that
	// follow hang, so the bot is stuck between journal and reply.
	x.post("/_sim/rest/latency", map[string]any{"path": detailPath, "latencyMs": 60000})
	x.post("/_sim/rest/blackhole", map[string]any{"path": placePath, "count": 1})
	x.waitOrders(t, before+1, 60*time.Second)
	time.Sleep(200 * time.Millisecond) // let the bot start its lookup
	b.kill9()
	x.post("/_sim/faults/clear", map[string]any{})
	lost := x.orders()[before].ClientID

	b2 := startBot(t, x, dir)
	waitPositionsAgree(t, b2, x, 20*time.Second)
	// Keep trading a little: the sequence must continue past the lost id.
	x.waitOrders(t, before+2, 60*time.Second)
	waitPositionsAgree(t, b2, x, 20*time.Second)
	b2.stop(15 * time.Second)
	x.assertNoDuplicates()
	n := 0
	for _, o := range x.orders() {
		if o.ClientID == lost {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("client id %s placed %d times on the exchange", lost, n)
	}
}

// (c) WebSocket drops and silent stalls: the bot reconnects, reconciles and
// keeps trading.
func TestWebSocketDropsAndStallsKeepTrading(t *testing.T) {
	t.Parallel()
	x := startExchange(t)
	b := startBot(t, x, t.TempDir())
	x.waitOrders(t, 1, 60*time.Second)
	x.post("/_sim/ws/drop", map[string]any{"which": "all"})
	b.waitReady(30 * time.Second)
	x.post("/_sim/ws/stall", map[string]any{"which": "public", "durationMs": 3000})
	x.post("/_sim/ws/drop", map[string]any{"which": "private"})
	after := len(x.orders())
	x.waitOrders(t, after+2, 60*time.Second)
	b.waitReady(30 * time.Second)
	waitPositionsAgree(t, b, x, 20*time.Second)
	if st, _ := b.status(); st.Halt.Halted {
		t.Fatalf("bot halted after reconnects: %s", st.Halt.Reason)
	}
	b.stop(15 * time.Second)
	x.assertNoDuplicates()
}

// (d) The daily-loss breaker stops new entries at the configured loss; the
// exchange position never grows after the trip.
func TestDailyLossBreakerStopsEntries(t *testing.T) {
	t.Parallel()
	x := startExchange(t)
	// 0.00015 of 10000 = 1.5 USDT: a few round trips of fees trip it.
	b := startBot(t, x, t.TempDir(), "trading.maxDailyLoss=0.00015", "trading.baseSizeRatio=0.1")
	waitFor(t, 90*time.Second, "daily-loss breaker tripped", func() bool {
		st, ok := b.status()
		if !ok {
			return false
		}
		for _, br := range st.Breakers {
			if br.Name == "daily_loss" && br.Tripped {
				return true
			}
		}
		return false
	})
	tripOrders := len(x.orders())
	peak := x.position().Abs()
	// Watch the exchange for a while: exposure may only shrink.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if p := x.position().Abs(); p > peak {
			t.Fatalf("position grew after the breaker tripped: %s > %s", p, peak)
		} else {
			peak = p
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("%d orders after the trip, all reducing", len(x.orders())-tripOrders)
	// Total loss on the exchange's books stays within the limit plus one
	// order's worth (an order of at most maxOrderNotional 1000 moving 1%
	// against us while it is being closed, fees included).
	start, limit, oneOrder := fixed.FromInt(10000), fixed.MustParse("1.5"), fixed.FromInt(10)
	if loss := start - x.equity(); loss > limit+oneOrder {
		t.Fatalf("loss %s exceeds limit %s by more than one order's worth %s", loss, limit, oneOrder)
	} else {
		t.Logf("loss on the exchange %s (limit %s)", loss, limit)
	}
	st, _ := b.status()
	for _, d := range st.Decisions {
		if d.Reason == "daily_loss" && d.Verdict == "approve" {
			t.Fatalf("entry approved under the breaker: %+v", d)
		}
	}
	b.stop(15 * time.Second)
	x.assertNoDuplicates()
}

// (e) Rate limits, injected errors and lost replies never duplicate an
// order or leave one on the exchange the bot does not know.
func TestRateLimitAndErrorInjectionNoDuplicateNoOrphan(t *testing.T) {
	t.Parallel()
	x := startExchange(t)
	// 10001 ("network error") does not prove the order was refused: the
	// bot looks it up and keeps it open for the grace before counting it
	// as never sent; the shortest grace keeps the test quick.
	b := startBot(t, x, t.TempDir(), "trading.ambiguousOrderGrace=5s")
	x.waitOrders(t, 1, 60*time.Second)
	x.post("/_sim/rest/ratelimit", map[string]any{"path": placePath, "count": 2})
	x.post("/_sim/rest/error", map[string]any{"path": placePath, "code": 10001, "count": 1})
	x.post("/_sim/rest/blackhole", map[string]any{"path": placePath, "count": 2})
	x.post("/_sim/rest/ratelimit", map[string]any{"path": detailPath, "count": 1})
	before := len(x.orders())
	x.waitOrders(t, before+3, 90*time.Second)
	waitPositionsAgree(t, b, x, 20*time.Second)
	st, _ := b.status()
	if st.Orders.Drift.Unexplained != 0 || st.Halt.Halted {
		t.Fatalf("drift %d halted %v %s", st.Orders.Drift.Unexplained, st.Halt.Halted, st.Halt.Reason)
	}
	b.stop(15 * time.Second)
	x.assertNoDuplicates()
}

// Dry run: with public market data and no account keys the bot trades on
// its paper venue (the matching engine against the exchange's book and
// trades) and the exchange never sees an order.
func TestDryRunWithoutKeysTradesOnPaper(t *testing.T) {
	t.Parallel()
	x := startExchange(t)
	b := launchBot(t, x, t.TempDir(), nil, "trading.dryRun=true")
	waitFor(t, 60*time.Second, "a paper position", func() bool {
		st, ok := b.status()
		return ok && st.position() != 0
	})
	b.stop(15 * time.Second)
	if n := len(x.orders()); n != 0 {
		t.Fatalf("a dry run sent %d orders to the exchange", n)
	}
}
