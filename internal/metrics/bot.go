package metrics

import (
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/ordermanager"
	"github.com/bitrader/bitrader/internal/risk"
	"github.com/bitrader/bitrader/internal/trading"
)

// Label values known up front. Their series are created at construction so
// dashboards and alerts see zeros instead of gaps before the first event.
var (
	wsStreams      = []string{"public", "private"}
	journalOps     = []string{"put_order", "create_order", "next_seq", "put_state"}
	submitOutcomes = []string{ordermanager.OutcomeAccepted, ordermanager.OutcomeRejected, ordermanager.OutcomeDuplicate,
		ordermanager.OutcomeResolved, ordermanager.OutcomeAmbiguous, ordermanager.OutcomeFenced}
)

// Bucket layouts. REST and journal writes are milliseconds to seconds;
// tick-to-order is microseconds to tens of milliseconds; WS lag spans
// clock skew (a few ms) to a stalled stream (seconds).
var (
	restBuckets    = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	waitBuckets    = []float64{.001, .01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
	lagBuckets     = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}
	tickBuckets    = []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1}
	journalBuckets = []float64{.0001, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1}
	reconBuckets   = []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30}
)

// Options tunes NewBot. The zero value is usable.
type Options struct {
	// Symbols pre-creates the per-symbol position series.
	Symbols []string
	// Now stamps "last message" gauges; default time.Now. Tests inject a
	// fixed clock.
	Now func() time.Time
	// MaxDailyLoss is the configured trading.maxDailyLoss (positive), so
	// dashboards and alerts can compare bitrader_daily_pnl with it.
	MaxDailyLoss fixed.Value
}

// Bot holds every bitrader metric and implements the observer interfaces
// of the packages it watches: bitunix.Observer (REST and WebSocket hooks),
// ordermanager.Observer, journal.Options.Observe (via JournalWrite) and the
// engine's trading-state hooks (TickToOrder, Position, PnL, Breaker, ...).
// All methods are safe for concurrent use and never block.
type Bot struct {
	now func() time.Time

	restRequests *prometheus.CounterVec
	restDuration *prometheus.HistogramVec
	rlWait       *prometheus.HistogramVec
	rlHeadroom   *prometheus.GaugeVec

	wsConnected  *prometheus.GaugeVec
	wsReconnects *prometheus.CounterVec
	wsMessages   *prometheus.CounterVec
	wsLag        *prometheus.HistogramVec
	wsLastMsg    *prometheus.GaugeVec

	ordersSubmitted    *prometheus.CounterVec
	orderRejects       *prometheus.CounterVec
	fills              *prometheus.CounterVec
	fillNotional       *prometheus.CounterVec
	fees               *prometheus.CounterVec
	illegalTransitions *prometheus.CounterVec
	tickToOrder        *prometheus.HistogramVec
	riskDecisions      *prometheus.CounterVec
	openOrders         prometheus.Gauge
	halted             prometheus.Gauge

	posSize     *prometheus.GaugeVec
	posNotional *prometheus.GaugeVec
	posEntry    *prometheus.GaugeVec
	posUPnL     *prometheus.GaugeVec

	realisedPnL  prometheus.Gauge
	feesPaid     prometheus.Gauge
	fundingPaid  prometheus.Gauge
	equity       prometheus.Gauge
	dailyPnL     prometheus.Gauge
	maxDailyLoss prometheus.Gauge
	drawdown     prometheus.Gauge
	drawdownAmt  prometheus.Gauge

	breaker *prometheus.GaugeVec

	reconRuns        *prometheus.CounterVec
	reconDuration    prometheus.Histogram
	reconDrift       *prometheus.CounterVec
	reconUnexplained prometheus.Gauge
	reconAmbiguous   prometheus.Gauge
	reconLastRun     prometheus.Gauge

	journalWrite *prometheus.HistogramVec

	isLeader prometheus.Gauge
	epoch    prometheus.Gauge
	ready    prometheus.Gauge
}

// NewBot creates every bitrader metric and registers it with reg (built by
// NewRegistry). It panics if a metric is registered twice, which is a
// programming error caught by any test that builds the app.
func NewBot(reg prometheus.Registerer, opts Options) *Bot {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	b := &Bot{now: opts.Now}
	f := factory{reg: reg}

	b.restRequests = f.counterVec("rest_requests_total", "REST requests to the exchange by endpoint and outcome (ok, api_error, rate_limited, ambiguous, transport_error).", "endpoint", "outcome")
	b.restDuration = f.histogramVec("rest_request_duration_seconds", "Latency of REST requests to the exchange, per attempt.", restBuckets, "endpoint")
	b.rlWait = f.histogramVec("ratelimit_wait_seconds", "Time spent waiting for the local rate limiter or a back-off before a REST request.", waitBuckets, "group")
	b.rlHeadroom = f.gaugeVec("ratelimit_headroom_ratio", "Remaining fraction of the rate-limit budget per group (1 = idle, 0 = exhausted).", "group")

	b.wsConnected = f.gaugeVec("ws_connected", "1 when the WebSocket stream is connected and logged in, else 0.", "stream")
	b.wsReconnects = f.counterVec("ws_reconnects_total", "WebSocket reconnects per stream.", "stream")
	b.wsMessages = f.counterVec("ws_messages_total", "WebSocket data frames received per stream.", "stream")
	b.wsLag = f.histogramVec("ws_message_lag_seconds", "Delay from the exchange timestamp of a WebSocket message to its receipt.", lagBuckets, "stream")
	b.wsLastMsg = f.gaugeVec("ws_last_message_timestamp_seconds", "Unix time of the last WebSocket data frame per stream.", "stream")

	b.ordersSubmitted = f.counterVec("orders_total", "Orders submitted by symbol, side, type and outcome (accepted, rejected, duplicate, resolved, ambiguous, fenced).", "symbol", "side", "type", "outcome")
	b.orderRejects = f.counterVec("order_rejects_total", "Orders refused by the exchange, by symbol and exchange error code.", "symbol", "code")
	b.fills = f.counterVec("fills_total", "Fills (executions) by symbol and side.", "symbol", "side")
	b.fillNotional = f.counterVec("fill_notional_total", "Traded notional (price x quantity) of fills, in the margin coin.", "symbol", "side")
	b.fees = f.counterVec("fill_fees_total", "Trading fees of fills in the margin coin (negative fees are rebates).", "symbol")
	b.illegalTransitions = f.counterVec("order_illegal_transitions_total", "Order events the state machine refused (a venue or logic bug).", "event")
	b.tickToOrder = f.histogramVec("tick_to_order_seconds", "Latency from the market event that triggered an intent to the order being handed to the order manager.", tickBuckets, "symbol")
	b.riskDecisions = f.counterVec("risk_decisions_total", "Risk-gate verdicts on intents (approve, trim, refuse) by reason.", "verdict", "reason")
	b.openOrders = f.gauge("open_orders", "Orders open on the venue as the engine tracks them.")
	b.halted = f.gauge("entries_halted", "1 when new entries are stopped (breaker, unexplained drift, shutdown), else 0.")

	b.posSize = f.gaugeVec("position_size", "Signed position quantity in base units (long > 0, short < 0).", "symbol")
	b.posNotional = f.gaugeVec("position_notional", "Absolute position notional at the mark price, in the margin coin.", "symbol")
	b.posEntry = f.gaugeVec("position_entry_price", "Average entry price of the position (0 when flat).", "symbol")
	b.posUPnL = f.gaugeVec("position_unrealized_pnl", "Unrealised PnL of the position at the mark price, in the margin coin.", "symbol")

	b.realisedPnL = f.gauge("realized_pnl", "Realised PnL since start of the account history the bot keeps, in the margin coin.")
	b.feesPaid = f.gauge("fees_paid", "Trading fees paid, in the margin coin (rebates subtract).")
	b.fundingPaid = f.gauge("funding_paid", "Funding paid (positive) or received (negative), in the margin coin.")
	b.equity = f.gauge("equity", "Account equity (balance plus unrealised PnL), in the margin coin.")
	b.dailyPnL = f.gauge("daily_pnl", "PnL since the start of the UTC day, in the margin coin; compare with bitrader_max_daily_loss.")
	b.maxDailyLoss = f.gauge("max_daily_loss", "The configured maxDailyLoss limit (a positive amount in the margin coin).")
	b.drawdown = f.gauge("drawdown_ratio", "Drawdown of equity from its peak as a fraction (0.1 = 10%).")
	b.drawdownAmt = f.gauge("drawdown", "Drawdown of equity from its peak, in the margin coin.")

	b.breaker = f.gaugeVec("breaker_tripped", "1 when the named risk circuit breaker is tripped, else 0.", "breaker")

	b.reconRuns = f.counterVec("reconcile_runs_total", "Reconciliation runs, by result (ok or error: some venue calls failed).", "result")
	b.reconDuration = f.histogram("reconcile_duration_seconds", "Duration of reconciliation runs.", reconBuckets)
	b.reconDrift = f.counterVec("reconcile_drift_total", "Differences between local state and the exchange found by reconciliation, by kind.", "kind")
	b.reconUnexplained = f.gauge("reconcile_unexplained_drift", "Unexplained drifts found by the last reconciliation run; > 0 stops new entries.")
	b.reconAmbiguous = f.gauge("reconcile_ambiguous_orders", "Orders whose outcome was still unknown after the last reconciliation run.")
	b.reconLastRun = f.gauge("reconcile_last_run_timestamp_seconds", "Unix time of the last completed reconciliation run.")

	b.journalWrite = f.histogramVec("journal_write_duration_seconds", "Duration of committed journal writes, fsync included, by operation.", journalBuckets, "op")

	b.isLeader = f.gauge("is_leader", "1 when this process is the leader allowed to submit orders, else 0.")
	b.epoch = f.gauge("leader_epoch", "Lease epoch this process last observed; it fences order submission.")
	b.ready = f.gauge("ready", "1 when the bot is ready (connected, reconciled, leading or ready to lead), else 0.")

	// ws_connected is not pre-created: a stream that is never started (the
	// private one in dry run without keys) must not look disconnected.
	b.maxDailyLoss.Set(opts.MaxDailyLoss.Abs().Float64())
	for _, s := range wsStreams {
		b.wsReconnects.WithLabelValues(s)
		b.wsMessages.WithLabelValues(s)
		b.wsLag.WithLabelValues(s)
	}
	for _, op := range journalOps {
		b.journalWrite.WithLabelValues(op)
	}
	for _, k := range ordermanager.DriftKinds() {
		b.reconDrift.WithLabelValues(string(k))
	}
	for _, r := range []string{"ok", "error"} {
		b.reconRuns.WithLabelValues(r)
	}
	for _, name := range breakerNames() {
		b.breaker.WithLabelValues(name)
	}
	for _, sym := range opts.Symbols {
		b.posSize.WithLabelValues(sym)
		b.posNotional.WithLabelValues(sym)
		b.posEntry.WithLabelValues(sym)
		b.posUPnL.WithLabelValues(sym)
		b.tickToOrder.WithLabelValues(sym)
		for _, side := range []trading.Side{trading.Buy, trading.Sell} {
			b.fills.WithLabelValues(sym, side.String())
			for _, typ := range []trading.OrderType{trading.Limit, trading.Market} {
				for _, out := range submitOutcomes {
					b.ordersSubmitted.WithLabelValues(sym, side.String(), typ.String(), out)
				}
			}
		}
	}
	return b
}

// breakerNames lists the risk gate's breakers, "none" excluded.
func breakerNames() []string {
	var names []string
	for br := risk.Breaker(1); ; br++ {
		name := br.String()
		if strings.HasPrefix(name, "Breaker(") {
			return names
		}
		names = append(names, name)
	}
}

// factory builds bitrader_-prefixed metrics and registers them.
type factory struct{ reg prometheus.Registerer }

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help}, labels)
	f.reg.MustRegister(c)
	return c
}

func (f factory) gaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Name: name, Help: help}, labels)
	f.reg.MustRegister(g)
	return g
}

func (f factory) gauge(name, help string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Name: name, Help: help})
	f.reg.MustRegister(g)
	return g
}

func (f factory) histogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: name, Help: help, Buckets: buckets}, labels)
	f.reg.MustRegister(h)
	return h
}

func (f factory) histogram(name, help string, buckets []float64) prometheus.Histogram {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: Namespace, Name: name, Help: help, Buckets: buckets})
	f.reg.MustRegister(h)
	return h
}

func boolFloat(v bool) float64 {
	if v {
		return 1
	}
	return 0
}

// --- bitunix.Observer ---

// RESTRequest counts one REST attempt and records its latency.
func (b *Bot) RESTRequest(endpoint, outcome string, d time.Duration) {
	b.restRequests.WithLabelValues(endpoint, outcome).Inc()
	b.restDuration.WithLabelValues(endpoint).Observe(d.Seconds())
}

// RateLimitWait records a wait before a request in group.
func (b *Bot) RateLimitWait(group string, d time.Duration) {
	b.rlWait.WithLabelValues(group).Observe(d.Seconds())
}

// WSState records whether stream is connected.
func (b *Bot) WSState(stream string, connected bool) {
	b.wsConnected.WithLabelValues(stream).Set(boolFloat(connected))
}

// WSReconnect counts a reconnect of stream.
func (b *Bot) WSReconnect(stream string) { b.wsReconnects.WithLabelValues(stream).Inc() }

// WSMessage counts a data frame and records its lag behind the exchange.
// A negative lag (exchange clock ahead of ours) is recorded as zero.
func (b *Bot) WSMessage(stream string, lag time.Duration) {
	b.wsMessages.WithLabelValues(stream).Inc()
	b.wsLag.WithLabelValues(stream).Observe(max(lag, 0).Seconds())
	b.wsLastMsg.WithLabelValues(stream).Set(float64(b.now().UnixMilli()) / 1e3)
}

// RateLimitHeadroom reports the remaining fraction (0..1) of a group's
// rate-limit budget. Not part of bitunix.Observer yet: the client can call
// it after each request if it grows the hook.
func (b *Bot) RateLimitHeadroom(group string, ratio float64) {
	b.rlHeadroom.WithLabelValues(group).Set(ratio)
}

// --- ordermanager.Observer ---

// OrderSubmitted counts a submission by its outcome.
func (b *Bot) OrderSubmitted(o ordermanager.Order, outcome string) {
	b.ordersSubmitted.WithLabelValues(o.Symbol, o.Side.String(), o.Type.String(), outcome).Inc()
}

// OrderRejected counts an exchange refusal by code.
func (b *Bot) OrderRejected(symbol string, code int) {
	b.orderRejects.WithLabelValues(symbol, strconv.Itoa(code)).Inc()
}

// OrderFilled counts a fill, its notional and its fee.
func (b *Bot) OrderFilled(f trading.Fill) {
	side := f.Side.String()
	b.fills.WithLabelValues(f.Symbol, side).Inc()
	b.fillNotional.WithLabelValues(f.Symbol, side).Add(f.Notional().Abs().Float64())
	// A counter cannot go down: rebates are counted as zero here and show
	// in bitrader_fees_paid, which the engine reports as a gauge.
	if f.Fee > 0 {
		b.fees.WithLabelValues(f.Symbol).Add(f.Fee.Float64())
	} else {
		b.fees.WithLabelValues(f.Symbol)
	}
}

// IllegalTransition counts an order event the state machine refused.
func (b *Bot) IllegalTransition(kind ordermanager.EventKind) {
	b.illegalTransitions.WithLabelValues(kind.String()).Inc()
}

// Reconciled records one reconciliation run.
func (b *Bot) Reconciled(r ordermanager.ReconcileResult, d time.Duration) {
	result := "ok"
	if len(r.Errors) > 0 {
		result = "error"
	}
	b.reconRuns.WithLabelValues(result).Inc()
	b.reconDuration.Observe(d.Seconds())
	unexplained := 0
	for _, dr := range r.Drifts {
		b.reconDrift.WithLabelValues(string(dr.Kind)).Inc()
		if dr.Unexplained() {
			unexplained++
		}
	}
	b.reconUnexplained.Set(float64(unexplained))
	b.reconAmbiguous.Set(float64(r.StillAmbiguous))
	b.reconLastRun.Set(float64(b.now().UnixMilli()) / 1e3)
}

// JournalWrite records one committed journal write. Its signature matches
// journal.Options.Observe, so pass bot.JournalWrite there too.
func (b *Bot) JournalWrite(op string, d time.Duration) {
	b.journalWrite.WithLabelValues(op).Observe(d.Seconds())
}

// --- engine / trading state ---

// TickToOrder records the latency from a market event to the order send.
func (b *Bot) TickToOrder(symbol string, d time.Duration) {
	b.tickToOrder.WithLabelValues(symbol).Observe(d.Seconds())
}

// Position reports one symbol's position; all zero when flat.
func (b *Bot) Position(symbol string, qty, notional, entry, unrealised fixed.Value) {
	b.posSize.WithLabelValues(symbol).Set(qty.Float64())
	b.posNotional.WithLabelValues(symbol).Set(notional.Abs().Float64())
	b.posEntry.WithLabelValues(symbol).Set(entry.Float64())
	b.posUPnL.WithLabelValues(symbol).Set(unrealised.Float64())
}

// PnL reports the account's money state. drawdown is a fraction of peak
// equity (0.1 = 10%).
func (b *Bot) PnL(realised, fees, funding, equity, dailyPnL, drawdown fixed.Value) {
	b.realisedPnL.Set(realised.Float64())
	b.feesPaid.Set(fees.Float64())
	b.fundingPaid.Set(funding.Float64())
	b.equity.Set(equity.Float64())
	b.dailyPnL.Set(dailyPnL.Float64())
	b.drawdown.Set(drawdown.Float64())
}

// MaxDailyLoss reports the configured daily-loss limit (a positive
// amount) so dashboards and alerts compare daily PnL against it.
func (b *Bot) MaxDailyLoss(limit fixed.Value) { b.maxDailyLoss.Set(limit.Abs().Float64()) }

// Breaker reports a risk breaker's state by name (risk.Breaker.String()).
func (b *Bot) Breaker(name string, tripped bool) {
	b.breaker.WithLabelValues(name).Set(boolFloat(tripped))
}

// Leader reports leadership and the lease epoch.
func (b *Bot) Leader(isLeader bool, epoch uint64) {
	b.isLeader.Set(boolFloat(isLeader))
	b.epoch.Set(float64(epoch))
}

// LeaderEpoch reports the lease epoch alone (engine.Observer.Leader has
// no epoch).
func (b *Bot) LeaderEpoch(epoch uint64) { b.epoch.Set(float64(epoch)) }

// Ready reports readiness as /readyz computes it.
func (b *Bot) Ready(ready bool) { b.ready.Set(boolFloat(ready)) }
