package backtest_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/backtest"
	"github.com/bitrader/bitrader/internal/bitunix"
	"github.com/bitrader/bitrader/internal/config"
	"github.com/bitrader/bitrader/internal/engine"
	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/instrument"
	"github.com/bitrader/bitrader/internal/journal"
	"github.com/bitrader/bitrader/internal/leader"
	"github.com/bitrader/bitrader/internal/market"
	"github.com/bitrader/bitrader/internal/ordermanager"
	"github.com/bitrader/bitrader/internal/sim"
	"github.com/bitrader/bitrader/internal/strategy"
	"github.com/bitrader/bitrader/internal/trading"
	"github.com/bitrader/bitrader/internal/venue/exchange"
)

// paritySymbol is the traded contract; the trades file is named after it.
const paritySymbol = "BTCUSDT"

// parityStart is the simulator's start and the first trade's time: the
// replay is then not shifted, so the backtest sees the same timestamps.
// 07:57 UTC puts the 08:00 funding settlement inside the session.
var parityStart = time.Date(2024, 1, 1, 7, 57, 0, 0, time.UTC)

// parityStep is one scripted market order, placed at the time of trade
// Index of the session (steps are expressed relative to the first event).
type parityStep struct {
	Index int
	Side  trading.Side
	Qty   string
}

// TestParitySimulatorSession is issue 6's parity requirement end to end:
// the live pipeline (bitunix REST + public/private WebSocket client,
// exchange venue, engine Runner/Core, order manager, risk gate, journal)
// trades a scripted strategy against the simulator over loopback; the
// trades the bot received on the public WebSocket are recorded to a CSV
// and backtested with the same strategy and configuration. The simulator's
// own records (fills, closed positions, account) must equal the backtest's
// report exactly.
func TestParitySimulatorSession(t *testing.T) {
	cases := []struct {
		name  string
		steps []parityStep
	}{
		{name: "touch", steps: []parityStep{
			{10, trading.Buy, "0.01"}, {30, trading.Sell, "0.01"}, // long round trip
			{50, trading.Sell, "0.02"}, {70, trading.Buy, "0.02"}, // short round trip
			{100, trading.Buy, "0.05"}, {160, trading.Sell, "0.05"}, // held across the 08:00 funding
			{200, trading.Buy, "0.03"}, {215, trading.Sell, "0.01"}, {230, trading.Sell, "0.02"}, // scaled out
			{250, trading.Sell, "0.02"}, {260, trading.Buy, "0.04"}, {275, trading.Sell, "0.02"}, // flip short→long, close
		}},
		// 0.3 BTC is 3000 lots: more than the 1000 at the touch, so the
		// orders walk the synthetic book, whose deeper levels must match.
		{name: "walks the book", steps: []parityStep{
			{100, trading.Buy, "0.05"}, {160, trading.Sell, "0.05"}, // funding, as above
			{200, trading.Buy, "0.3"}, {230, trading.Sell, "0.3"},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			paritySession(t, c.steps)
		})
	}
}

// paritySession runs steps live against the simulator and in the backtest
// and compares the simulator's records with the backtest's report.
func paritySession(t *testing.T, steps []parityStep) {
	cfg := config.Defaults()
	cfg.Trading.Symbols = []string{paritySymbol}
	// Room for every scripted order: a trim would depend on the reference
	// price the gate saw, which is not what this test is about.
	cfg.Risk.MaxOrderNotional = fixed.FromInt(25_000)
	cfg.Risk.MaxPositionNotional = fixed.FromInt(25_000)
	cfg.Risk.MaxTotalNotional = fixed.FromInt(25_000)

	dir := t.TempDir()
	trades := parityTrades(300)
	src := filepath.Join(dir, paritySymbol+"-trades.csv")
	backtest.WriteTradesCSV(t, src, trades)

	live := runLive(t, cfg, src, trades, steps)
	if len(live.received) != len(trades) {
		t.Fatalf("the bot received %d of the %d trades the simulator replayed", len(live.received), len(trades))
	}
	for i, tr := range live.received {
		w := trades[i]
		if !tr.Time.Equal(w.Time) || tr.Price != w.Price || tr.Qty != w.Qty || tr.Side != w.Side {
			t.Fatalf("received trade %d = %s %s@%s at %s, the file has %s %s@%s at %s", i,
				tr.Side, tr.Qty, tr.Price, tr.Time, w.Side, w.Qty, w.Price, w.Time)
		}
	}
	recorded := filepath.Join(dir, "recorded", paritySymbol+"-trades.csv")
	backtest.WriteTradesCSV(t, recorded, live.received)

	rep, err := backtest.Run(context.Background(), backtest.Options{Config: cfg, Strategy: scripted(trades, steps), Data: recorded})
	if err != nil {
		t.Fatal(err)
	}

	// Fills: one per book level taken, in execution order.
	if len(live.fills) == 0 || len(live.fills) != len(rep.FillLog) {
		t.Fatalf("simulator recorded %d fills, backtest %d\nsim: %v\nbacktest: %v", len(live.fills), len(rep.FillLog), live.fills, rep.FillLog)
	}
	var fees fixed.Value
	for i, f := range live.fills {
		b := rep.FillLog[i]
		fees += f.Fee
		if !strings.EqualFold(f.Side.String(), b.Side) || f.Qty != b.Qty || f.Price != b.Price || f.Fee != b.Fee || !f.Time.Equal(b.Time) {
			t.Errorf("fill %d differs:\n  simulator %s %s@%s fee %s at %s\n  backtest  %s %s@%s fee %s at %s", i,
				f.Side, f.Qty, f.Price, f.Fee, f.Time.UTC(), b.Side, b.Qty, b.Price, b.Fee, b.Time)
		}
	}
	if fees != rep.Fees {
		t.Errorf("fees: simulator %s, backtest %s", fees, rep.Fees)
	}
	if live.realized != rep.RealizedPnL {
		t.Errorf("realised PnL: simulator %s, backtest %s", live.realized, rep.RealizedPnL)
	}
	if live.funding != rep.Funding || live.funding == 0 {
		t.Errorf("funding: simulator %s, backtest %s (want equal and non-zero: a position is held across 08:00)", live.funding, rep.Funding)
	}
	if live.startEquity != rep.StartBalance || live.equity != rep.FinalEquity {
		t.Errorf("equity: simulator %s → %s, backtest %s → %s", live.startEquity, live.equity, rep.StartBalance, rep.FinalEquity)
	}
	if live.openPositions != 0 || rep.Unrealized != 0 {
		t.Errorf("session should end flat: simulator has %d open positions, backtest unrealised %s", live.openPositions, rep.Unrealized)
	}
	// The bot's own ledger, kept from the private pushes, agrees too.
	if live.botRealized != live.realized || live.botFees != fees || live.botFunding != live.funding {
		t.Errorf("bot ledger: realised %s fees %s funding %s; simulator %s / %s / %s", live.botRealized, live.botFees,
			live.botFunding, live.realized, fees, live.funding)
	}
	t.Logf("%d fills, realised %s, fees %s, funding %s, equity %s → %s", len(live.fills), live.realized, fees,
		live.funding, live.startEquity, live.equity)
}

// parityTrades is a deterministic random walk around 60000, one print
// every 1.3 s: at least a second apart, so the backtest (a mark at most
// once a second) marks every print as the simulator's replay does, and
// never on the 08:00:00 funding instant, where the two could order the
// settlement and the print differently.
func parityTrades(n int) []trading.Trade {
	rng := rand.New(rand.NewPCG(6, 1))
	price := fixed.FromInt(60_000)
	tick := fixed.MustParse("0.1")
	out := make([]trading.Trade, n)
	for i := range out {
		price += tick.MulInt(int64(rng.IntN(41) - 20))
		side := trading.Buy
		if rng.IntN(2) == 0 {
			side = trading.Sell
		}
		out[i] = trading.Trade{Symbol: paritySymbol, Price: price, Qty: fixed.MustParse("0.001").MulInt(int64(1 + rng.IntN(500))),
			Side: side, Time: parityStart.Add(time.Duration(i) * 1300 * time.Millisecond)}
	}
	return out
}

func scripted(trades []trading.Trade, steps []parityStep) *strategy.Scripted {
	var s []strategy.Step
	for _, st := range steps {
		s = append(s, strategy.Step{At: trades[st.Index].Time,
			Intent: trading.Intent{Symbol: paritySymbol, Side: st.Side, Type: trading.Market, Qty: fixed.MustParse(st.Qty)}})
	}
	return strategy.NewScripted(s)
}

// botClock is the live engine's clock: the simulator's time, but moved by
// the test only after the simulator has stepped to it, so a scripted step
// never fires between the simulator's clock moving and its market data
// for that instant being applied.
type botClock struct{ ns atomic.Int64 }

func (c *botClock) set(t time.Time)        { c.ns.Store(t.UnixNano()) }
func (c *botClock) Now() time.Time         { return time.Unix(0, c.ns.Load()).UTC() }
func (c *botClock) after(t time.Time) bool { return c.Now().After(t) }

// liveResult is what the simulator recorded, plus what the bot received.
type liveResult struct {
	received             []trading.Trade // public trades, in arrival order
	fills                []trading.Fill  // the simulator's executions, oldest first
	realized, funding    fixed.Value     // over the simulator's closed positions
	startEquity, equity  fixed.Value
	openPositions        int
	botRealized, botFees fixed.Value
	botFunding           fixed.Value // booked from the position pushes
}

// runLive runs the session against the simulator. Synchronisation, no
// sleeps: the simulator's clock is manual and the test advances it at most
// 2 s at a time; after each advance (when it returns, the simulator has
// applied every event up to then and queued its frames) the bot's clock
// follows, and the test waits until the engine has handed the last trade
// replayed so far to the strategy. A step's time is a trade's time: the
// simulator is advanced to exactly that trade, then the bot's clock, so
// the step fires on the next event or timer tick and the order meets that
// trade's book; the test then waits until the simulator has accepted the
// order and the bot's position agrees with the simulator's before market
// time moves on, so every order meets the same book as in the backtest.
func runLive(t *testing.T, cfg config.Config, csv string, trades []trading.Trade, steps []parityStep) liveResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()

	clock := sim.NewManualClock(parityStart)
	acct := sim.NewDemoAccount()
	acct.Balance = cfg.Sim.StartBalance
	sc := sim.SymbolFromName(paritySymbol)
	sc.MakerFee, sc.TakerFee = cfg.Sim.MakerFee, cfg.Sim.TakerFee
	srv, err := sim.New(sim.Config{
		Listen: "127.0.0.1:0", Accounts: []sim.Account{acct}, Symbols: []sim.SymbolConfig{sc},
		FundingInterval: cfg.Sim.FundingInterval, Clock: clock,
		MarketData: sim.MarketDataConfig{ReplayFile: csv},
		// The client signs with the wall clock and the simulator's clock is
		// in 2024 and jumps minutes in seconds: the checks that compare the
		// two (signature window, WS idle timeout, message and REST rates)
		// are opened up; none of them bears on fills or PnL.
		TimestampWindow: 20 * 365 * 24 * time.Hour, IdleTimeout: 24 * time.Hour,
		MaxClientMsgsPerSec: 1000, DisableRateLimits: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	srvCtx, stopSrv := context.WithCancel(context.Background())
	if err := srv.Start(srvCtx); err != nil {
		stopSrv()
		t.Fatal(err)
	}
	defer func() { stopSrv(); srv.Close() }()

	// The bot, wired as internal/app's build does for a live (not dry-run)
	// single replica, with the scripted strategy injected.
	client, err := bitunix.New(bitunix.Config{BaseURL: srv.URL(), APIKey: acct.APIKey, Secret: acct.Secret,
		HTTPClient: &http.Client{Timeout: cfg.API.Timeout}})
	if err != nil {
		t.Fatal(err)
	}
	pairs, err := client.TradingPairs(ctx, paritySymbol)
	if err != nil || len(pairs) != 1 {
		t.Fatalf("trading_pairs: %v %v", pairs, err)
	}
	specs := map[string]instrument.Spec{paritySymbol: pairs[0]}
	if err := client.ChangeMarginMode(ctx, paritySymbol, cfg.Trading.MarginCoin, cfg.Trading.MarginMode); err != nil {
		t.Fatal(err)
	}
	if err := client.ChangeLeverage(ctx, paritySymbol, cfg.Trading.MarginCoin, cfg.Trading.Leverage); err != nil {
		t.Fatal(err)
	}
	venue := exchange.New(client, cfg.Trading.MarginCoin, cfg.Trading.Symbols)
	bal, err := venue.Balance(ctx)
	if err != nil {
		t.Fatal(err)
	}
	jr, err := journal.Open(filepath.Join(t.TempDir(), "journal.db"), journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer jr.Close()
	var (
		mu        sync.Mutex
		received  []trading.Trade
		processed atomic.Int64 // newest public trade the strategy was given, unix ns
	)
	ldr := leader.NewStatic("parity", nil)
	core, err := engine.NewCore(engine.CoreConfig{
		Strategies: map[string]strategy.Strategy{paritySymbol: watched{scripted(trades, steps), &processed}},
		Specs:      specs, Limits: cfg.Risk, Market: market.DefaultConfig(), Venue: venue, Store: jr,
		Orders:    ordermanager.Config{Prefix: cfg.Trading.ClientIDPrefix, Epoch: ldr.Epoch(), Fence: ldr, StartBalance: bal.Total()},
		Stopwatch: time.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	bc := &botClock{}
	bc.set(parityStart)
	runner, err := engine.NewRunner(engine.RunnerConfig{
		Core: core, Symbols: cfg.Trading.Symbols, ReconcileInterval: cfg.Trading.ReconcileInterval,
		CancelOnShutdown: cfg.Trading.CancelOnShutdown, ShutdownTimeout: cfg.System.ShutdownTimeout,
		// A fast timer: a step whose time has come fires within 20 ms even
		// when no frame follows.
		TimerInterval: 20 * time.Millisecond, Clock: bc.Now,
		NewPublic: func(h func(*bitunix.PublicEvent)) engine.PublicFeed {
			return bitunix.NewPublicStream(bitunix.WSConfig{PublicURL: srv.PublicWSURL()}, func(ev *bitunix.PublicEvent) {
				h(ev)
				if ev.Kind == bitunix.KindTrade {
					mu.Lock()
					for _, tr := range ev.Trades {
						received = append(received, tr)
					}
					mu.Unlock()
				}
			})
		},
		Report: venue.PushTranslator(ctx, exchange.PushConfig{}),
		NewPrivate: func(h func(*bitunix.PrivateEvent)) engine.PrivateFeed {
			return bitunix.NewPrivateStream(bitunix.WSConfig{PublicURL: srv.PublicWSURL(), PrivateURL: srv.PrivateWSURL(),
				APIKey: acct.APIKey, Secret: acct.Secret}, h)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	engCtx, stopEngine := context.WithCancel(ctx)
	leadCtx, stopLeading := context.WithCancel(ctx)
	engErr, leadErr := make(chan error, 1), make(chan error, 1)
	go func() { engErr <- runner.Run(engCtx) }()
	go func() { leadErr <- ldr.Run(leadCtx, runner.Lead) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		stopEngine()
		if err := <-engErr; err != nil {
			t.Errorf("engine: %v", err)
		}
		stopLeading()
		if err := <-leadErr; err != nil {
			t.Errorf("leader: %v", err)
		}
	}
	defer stop()
	poll(t, ctx, runner, "engine ready and leading", func() bool {
		st, ok := runner.Status().(engine.Status)
		return runner.Ready() == nil && ok && st.Leading
	})

	// advanceTo steps the simulator to at in steps of at most 2 s; after
	// each, the bot's clock follows (the simulator has applied everything
	// up to that time by then) and the test waits until the engine has
	// processed the last trade replayed, so market data never backs up
	// and its receive times stay within one step of the simulator's.
	next := 0 // first trade not yet replayed
	advanceTo := func(at time.Time) {
		for now := clock.Now(); now.Before(at); now = clock.Now() {
			to := min(at.UnixNano(), now.Add(2*time.Second).UnixNano())
			if err := srv.Advance(time.Unix(0, to).Sub(now)); err != nil {
				t.Fatal(err)
			}
			bc.set(clock.Now())
			for next < len(trades) && trades[next].Time.UnixNano() <= to {
				next++
			}
			if next > 0 {
				want := trades[next-1].Time.UnixNano()
				poll(t, ctx, runner, fmt.Sprintf("engine to process the trade at %s", trades[next-1].Time), func() bool { return processed.Load() >= want })
			}
		}
	}
	for i, st := range steps {
		at := trades[st.Index].Time
		if bc.after(at) {
			t.Fatalf("step %d at %s is in the bot's past", i, at)
		}
		advanceTo(at)
		stepCtx, stepDone := context.WithTimeout(ctx, 10*time.Second)
		poll(t, stepCtx, runner, fmt.Sprintf("step %d (%s %s at trade %d) on the exchange and booked by the bot", i, st.Side, st.Qty, st.Index), func() bool {
			return len(simOrders(t, srv, acct.APIKey)) == i+1 && botPosition(runner) == simPosition(t, ctx, client)
		})
		stepDone()
	}
	advanceTo(trades[len(trades)-1].Time)
	var res liveResult
	if st, ok := runner.Status().(engine.Status); ok {
		for _, p := range st.Orders.Positions {
			if p.Symbol == paritySymbol {
				res.botRealized, res.botFees = p.Realized, p.Fees
			}
		}
		// Funding is settled on the exchange; the bot books it from the
		// running total in the position pushes.
		res.botFunding = st.Orders.PnL.Funding
	}
	stop()
	mu.Lock()
	res.received = slices.Clone(received)
	mu.Unlock()

	fills, _, err := client.HistoryTrades(ctx, bitunix.Query{Symbol: paritySymbol, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortStableFunc(fills, func(a, b trading.Fill) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		x, _ := strconv.ParseUint(a.TradeID, 10, 64)
		y, _ := strconv.ParseUint(b.TradeID, 10, 64)
		return cmp.Compare(x, y)
	})
	res.fills = fills
	closed, _, err := client.HistoryPositions(ctx, bitunix.Query{Symbol: paritySymbol, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range closed {
		res.realized += p.RealizedPNL
		res.funding += p.Funding
	}
	open, err := client.PendingPositions(ctx, paritySymbol)
	if err != nil {
		t.Fatal(err)
	}
	res.openPositions = len(open)
	res.startEquity = acct.Balance
	res.equity = simEquity(t, srv, acct.APIKey)
	return res
}

// poll waits for cond, checking every 5 ms; when ctx ends it fails with
// the engine's status (decisions, order events) for the diagnosis.
func poll(t *testing.T, ctx context.Context, r *engine.Runner, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			st, _ := json.MarshalIndent(r.Status(), "", " ")
			t.Fatalf("timed out waiting for %s; engine status:\n%s", what, st)
		case <-tick.C:
		}
	}
}

// simOrders is every order the simulator accepted (its /_sim/ control API).
func simOrders(t *testing.T, srv *sim.Server, apiKey string) []sim.PlacedOrder {
	t.Helper()
	var m map[string][]sim.PlacedOrder
	simGet(t, srv, "/_sim/orders?apiKey="+apiKey, &m)
	return m[apiKey]
}

// simEquity is the simulator's account equity (wallet + unrealised PnL).
func simEquity(t *testing.T, srv *sim.Server, apiKey string) fixed.Value {
	t.Helper()
	var m map[string]struct{ Equity fixed.Value }
	simGet(t, srv, "/_sim/balances?apiKey="+apiKey, &m)
	return m[apiKey].Equity
}

func simGet(t *testing.T, srv *sim.Server, path string, into any) {
	t.Helper()
	resp, err := http.Get(srv.URL() + path)
	if err != nil {
		t.Fatalf("sim control %s: %v", path, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		t.Fatalf("sim control %s: %v", path, err)
	}
}

// simPosition is the exchange's signed position (REST, as the bot reads it).
func simPosition(t *testing.T, ctx context.Context, c *bitunix.Client) fixed.Value {
	t.Helper()
	ps, err := c.PendingPositions(ctx, paritySymbol)
	if err != nil {
		t.Fatal(err)
	}
	var q fixed.Value
	for _, p := range ps {
		if p.Side == trading.Sell {
			q -= p.Qty
		} else {
			q += p.Qty
		}
	}
	return q
}

// botPosition is the bot's signed position from its order manager.
func botPosition(r *engine.Runner) fixed.Value {
	st, ok := r.Status().(engine.Status)
	if !ok {
		return fixed.Value(-1 << 62) // no status: never agrees
	}
	for _, p := range st.Orders.Positions {
		if p.Symbol == paritySymbol {
			return p.Qty
		}
	}
	return 0
}

// watched is the live strategy: the scripted one, plus a note of the
// newest trade the engine has handed it (so the test knows the engine,
// not just the socket, has caught up). It changes no decision.
type watched struct {
	strategy.Strategy
	processed *atomic.Int64
}

func (w watched) OnEvent(now time.Time, ev strategy.Event, view strategy.View) strategy.Output {
	if ev.Kind == strategy.EventTrade {
		w.processed.Store(ev.Trade.Time.UnixNano())
	}
	return w.Strategy.OnEvent(now, ev, view)
}
