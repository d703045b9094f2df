// Command dashgen writes bitrader's Grafana dashboards as JSON, built with
// the Grafana foundation SDK so that their structure is checked at build
// time. The output is committed under deploy/grafana/dashboards; regenerate
// after changing a panel:
//
//	go run ./internal/metrics/dashgen -out deploy/grafana/dashboards
//
// A test fails when the committed files differ from what this produces, and
// internal/metrics tests fail when a query names a metric the bot does not
// export.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

func main() {
	out := flag.String("out", "deploy/grafana/dashboards", "directory to write the dashboard JSON files into")
	flag.Parse()
	if err := write(*out); err != nil {
		fmt.Fprintln(os.Stderr, "dashgen:", err)
		os.Exit(1)
	}
}

func write(dir string) error {
	files, err := render()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return fmt.Errorf("write dashboard %s: %w", name, err)
		}
	}
	return nil
}

// render returns file name -> JSON for every dashboard.
func render() (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, d := range dashboards() {
		built, err := d.builder.Build()
		if err != nil {
			return nil, fmt.Errorf("build dashboard %s: %w", d.file, err)
		}
		// Unique panel ids: Grafana keys links, alerts and state by them.
		for i, p := range built.Panels {
			id := uint32(i + 1)
			switch {
			case p.Panel != nil:
				p.Panel.Id = &id
			case p.RowPanel != nil:
				p.RowPanel.Id = id
			}
		}
		data, err := json.MarshalIndent(built, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("marshal dashboard %s: %w", d.file, err)
		}
		out[d.file] = append(data, '\n')
	}
	return out, nil
}

type dash struct {
	file    string
	builder *dashboard.DashboardBuilder
}

// The datasource provisioned in deploy/grafana/provisioning/datasources.
func datasource() common.DataSourceRef {
	return common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("prometheus")}
}

type query struct{ expr, legend string }

func q(expr, legend string) query { return query{expr, legend} }

func targets(qs []query) []cog.Builder[variants.Dataquery] {
	var ts []cog.Builder[variants.Dataquery]
	for i, x := range qs {
		ts = append(ts, prometheus.NewDataqueryBuilder().
			Expr(x.expr).
			LegendFormat(x.legend).
			RefId(string(rune('A'+i))).
			Datasource(datasource()))
	}
	return ts
}

func timeSeries(title, unit, desc string, qs ...query) *timeseries.PanelBuilder {
	return timeseries.NewPanelBuilder().
		Title(title).
		Description(desc).
		Unit(unit).
		Datasource(datasource()).
		Targets(targets(qs)).
		Height(8).Span(12).
		LineWidth(1).FillOpacity(10)
}

func single(title, unit, desc string, steps []dashboard.Threshold, qs ...query) *stat.PanelBuilder {
	p := stat.NewPanelBuilder().
		Title(title).
		Description(desc).
		Unit(unit).
		Datasource(datasource()).
		Targets(targets(qs)).
		Height(4).Span(4).
		GraphMode(common.BigValueGraphModeArea).
		ColorMode(common.BigValueColorModeBackground).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}))
	if steps != nil {
		p = p.Thresholds(dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(steps))
	}
	return p
}

func steps(base string, pairs ...any) []dashboard.Threshold {
	s := []dashboard.Threshold{{Color: base}}
	for i := 0; i+1 < len(pairs); i += 2 {
		s = append(s, dashboard.Threshold{Value: cog.ToPtr(pairs[i].(float64)), Color: pairs[i+1].(string)})
	}
	return s
}

func newDashboard(uid, title, desc string) *dashboard.DashboardBuilder {
	return dashboard.NewDashboardBuilder(title).
		Uid(uid).
		Description(desc).
		Tags([]string{"bitrader"}).
		Refresh("10s").
		Time("now-6h", "now").
		Timezone("utc").
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Readonly()
}

func dashboards() []dash {
	return []dash{
		{"trading-overview.json", tradingOverview()},
		{"exchange-connectivity.json", exchangeConnectivity()},
		{"risk.json", riskDashboard()},
	}
}

func tradingOverview() *dashboard.DashboardBuilder {
	return newDashboard("bitrader-trading", "bitrader / Trading overview",
		"Equity, PnL, positions, orders, fills and breakers of the bitrader bot.").
		WithRow(dashboard.NewRowBuilder("Status")).
		WithPanel(single("Equity", "currencyUSD", "Account equity (balance + unrealised PnL).", nil,
			q("sum(bitrader_equity)", "equity"))).
		WithPanel(single("Daily PnL", "currencyUSD", "PnL since the start of the UTC day.",
			steps("red", 0.0, "green"), q("sum(bitrader_daily_pnl)", "daily PnL"))).
		WithPanel(single("Realised PnL", "currencyUSD", "Realised PnL.",
			steps("red", 0.0, "green"), q("sum(bitrader_realized_pnl)", "realised"))).
		WithPanel(single("Ready", "none", "1 when /readyz passes.",
			steps("red", 1.0, "green"), q("min(bitrader_ready)", "ready"))).
		WithPanel(single("Leader", "none", "Replicas holding the trading lease (must be exactly 1).",
			steps("red", 1.0, "green", 2.0, "red"), q("sum(bitrader_is_leader)", "leaders"))).
		WithPanel(single("Breakers tripped", "none", "Number of tripped risk breakers; entries stop while > 0.",
			steps("green", 1.0, "red"), q("sum(bitrader_breaker_tripped)", "tripped"))).
		WithRow(dashboard.NewRowBuilder("PnL")).
		WithPanel(timeSeries("Equity", "currencyUSD", "Account equity over time.",
			q("bitrader_equity", "equity {{instance}}"))).
		WithPanel(timeSeries("PnL", "currencyUSD", "Realised, daily and unrealised PnL; fees and funding paid.",
			q("bitrader_realized_pnl", "realised"),
			q("bitrader_daily_pnl", "daily"),
			q("sum(bitrader_position_unrealized_pnl)", "unrealised"),
			q("bitrader_fees_paid", "fees paid"),
			q("bitrader_funding_paid", "funding paid"))).
		WithRow(dashboard.NewRowBuilder("Positions")).
		WithPanel(timeSeries("Position size", "none", "Signed position quantity per symbol (long > 0).",
			q("bitrader_position_size", "{{symbol}}"))).
		WithPanel(timeSeries("Position notional and entry", "currencyUSD", "Absolute notional per symbol; entry price on the right axis is in the tooltip.",
			q("bitrader_position_notional", "{{symbol}} notional"),
			q("bitrader_position_entry_price", "{{symbol}} entry"),
			q("bitrader_position_unrealized_pnl", "{{symbol}} uPnL"))).
		WithRow(dashboard.NewRowBuilder("Orders and fills")).
		WithPanel(timeSeries("Orders by outcome", "ops", "Order submissions per second by outcome.",
			q("sum by (outcome) (rate(bitrader_orders_total[$__rate_interval]))", "{{outcome}}"))).
		WithPanel(timeSeries("Fills", "ops", "Fills per second by symbol and side.",
			q("sum by (symbol, side) (rate(bitrader_fills_total[$__rate_interval]))", "{{symbol}} {{side}}"))).
		WithPanel(timeSeries("Traded notional and fees", "currencyUSD", "Traded notional and fees per minute.",
			q("sum by (symbol) (rate(bitrader_fill_notional_total[$__rate_interval])) * 60", "{{symbol}} notional/min"),
			q("sum by (symbol) (rate(bitrader_fill_fees_total[$__rate_interval])) * 60", "{{symbol}} fees/min"))).
		WithPanel(timeSeries("Exchange rejects by code", "short", "Orders refused by the exchange in the last 5 minutes, by code.",
			q("sum by (code) (increase(bitrader_order_rejects_total[5m]))", "{{code}}"))).
		WithPanel(timeSeries("Tick-to-order latency", "s", "From the market event that triggered an intent to the order on the wire.",
			q("histogram_quantile(0.5, sum by (le) (rate(bitrader_tick_to_order_seconds_bucket[$__rate_interval])))", "p50"),
			q("histogram_quantile(0.99, sum by (le) (rate(bitrader_tick_to_order_seconds_bucket[$__rate_interval])))", "p99"))).
		WithPanel(timeSeries("Breakers and risk refusals", "short", "Breaker state (1 = tripped) and risk-gate refusals per minute by reason.",
			q("bitrader_breaker_tripped", "{{breaker}}"),
			q("sum by (verdict, reason) (rate(bitrader_risk_decisions_total{verdict!=\"approve\"}[$__rate_interval])) * 60", "{{verdict}}: {{reason}}")))
}

func exchangeConnectivity() *dashboard.DashboardBuilder {
	return newDashboard("bitrader-exchange", "bitrader / Exchange connectivity",
		"REST and WebSocket health, rate limits and latencies towards Bitunix.").
		WithRow(dashboard.NewRowBuilder("WebSocket")).
		WithPanel(timeSeries("Connected", "none", "1 = connected and logged in, per stream.",
			q("bitrader_ws_connected", "{{stream}} {{instance}}"))).
		WithPanel(timeSeries("Reconnects", "short", "Reconnects per stream in the last 10 minutes.",
			q("sum by (stream) (increase(bitrader_ws_reconnects_total[10m]))", "{{stream}}"))).
		WithPanel(timeSeries("Messages", "ops", "Data frames per second per stream.",
			q("sum by (stream) (rate(bitrader_ws_messages_total[$__rate_interval]))", "{{stream}}"))).
		WithPanel(timeSeries("Message lag", "s", "Exchange timestamp to receipt; also seconds since the last message.",
			q("histogram_quantile(0.99, sum by (le, stream) (rate(bitrader_ws_message_lag_seconds_bucket[$__rate_interval])))", "p99 {{stream}}"),
			q("histogram_quantile(0.5, sum by (le, stream) (rate(bitrader_ws_message_lag_seconds_bucket[$__rate_interval])))", "p50 {{stream}}"),
			q("time() - bitrader_ws_last_message_timestamp_seconds", "since last {{stream}}"))).
		WithRow(dashboard.NewRowBuilder("REST")).
		WithPanel(timeSeries("Requests by outcome", "reqps", "REST requests per second by outcome.",
			q("sum by (outcome) (rate(bitrader_rest_requests_total[$__rate_interval]))", "{{outcome}}"))).
		WithPanel(timeSeries("Error ratio by endpoint", "percentunit", "Share of transport errors and unknown outcomes (alert at 10%).",
			q(`sum by (endpoint) (rate(bitrader_rest_requests_total{outcome=~"transport_error|ambiguous"}[$__rate_interval])) / sum by (endpoint) (rate(bitrader_rest_requests_total[$__rate_interval]))`, "{{endpoint}}"))).
		WithPanel(timeSeries("Latency p99 by endpoint", "s", "99th percentile REST latency per endpoint.",
			q("histogram_quantile(0.99, sum by (le, endpoint) (rate(bitrader_rest_request_duration_seconds_bucket[$__rate_interval])))", "{{endpoint}}"))).
		WithPanel(timeSeries("Mean latency by endpoint", "s", "Mean REST latency per endpoint.",
			q("sum by (endpoint) (rate(bitrader_rest_request_duration_seconds_sum[$__rate_interval])) / sum by (endpoint) (rate(bitrader_rest_request_duration_seconds_count[$__rate_interval]))", "{{endpoint}}"))).
		WithRow(dashboard.NewRowBuilder("Rate limits")).
		WithPanel(timeSeries("Headroom", "percentunit", "Remaining rate-limit budget per group (alert below 20%).",
			q("bitrader_ratelimit_headroom_ratio", "{{group}}"))).
		WithPanel(timeSeries("Time waiting", "percentunit", "Share of time spent waiting for the limiter or back-off, and rate-limited replies.",
			q("sum by (group) (rate(bitrader_ratelimit_wait_seconds_sum[$__rate_interval]))", "waiting {{group}}"),
			q(`sum by (endpoint) (rate(bitrader_rest_requests_total{outcome="rate_limited"}[$__rate_interval]))`, "rate limited {{endpoint}}"))).
		WithRow(dashboard.NewRowBuilder("Process")).
		WithPanel(timeSeries("Journal write latency p99", "s", "Committed journal writes, fsync included.",
			q("histogram_quantile(0.99, sum by (le, op) (rate(bitrader_journal_write_duration_seconds_bucket[$__rate_interval])))", "{{op}}"))).
		WithPanel(timeSeries("Build", "none", "Running version per instance.",
			q("bitrader_build_info", "{{version}} {{commit}} {{instance}}")))
}

func riskDashboard() *dashboard.DashboardBuilder {
	return newDashboard("bitrader-risk", "bitrader / Risk",
		"Daily loss against maxDailyLoss, drawdown, exposure, breakers and reconciliation drift.").
		WithRow(dashboard.NewRowBuilder("Limits")).
		WithPanel(single("Daily loss used", "percentunit", "Today's loss as a share of maxDailyLoss (alert at 80%, breaker at 100%).",
			steps("green", 0.5, "yellow", 0.8, "red"),
			q("clamp_min(-bitrader_daily_pnl, 0) / bitrader_max_daily_loss", "used"))).
		WithPanel(single("Drawdown", "percentunit", "Equity drawdown from its peak.",
			steps("green", 0.05, "yellow", 0.1, "red"), q("max(bitrader_drawdown_ratio)", "drawdown"))).
		WithPanel(single("Unexplained drift", "none", "Unexplained drifts in the last reconciliation; > 0 stops new entries.",
			steps("green", 1.0, "red"), q("sum(bitrader_reconcile_unexplained_drift)", "drift"))).
		WithPanel(timeSeries("Daily PnL vs limit", "currencyUSD", "Daily PnL with the loss limit and the 80% alert line.",
			q("bitrader_daily_pnl", "daily PnL"),
			q("-bitrader_max_daily_loss", "limit"),
			q("-0.8 * bitrader_max_daily_loss", "alert (80%)"))).
		WithPanel(timeSeries("Drawdown", "percentunit", "Drawdown of equity from its peak.",
			q("bitrader_drawdown_ratio", "drawdown"))).
		WithRow(dashboard.NewRowBuilder("Exposure")).
		WithPanel(timeSeries("Exposure by symbol", "currencyUSD", "Absolute position notional per symbol and in total.",
			q("bitrader_position_notional", "{{symbol}}"),
			q("sum(bitrader_position_notional)", "total"))).
		WithPanel(timeSeries("Gross leverage", "none", "Total notional divided by equity.",
			q("sum(bitrader_position_notional) / sum(bitrader_equity)", "leverage"))).
		WithPanel(timeSeries("Breakers", "none", "1 = tripped.",
			q("bitrader_breaker_tripped", "{{breaker}}"))).
		WithPanel(timeSeries("Leadership", "none", "Leader flag and lease epoch per instance.",
			q("bitrader_is_leader", "leader {{instance}}"),
			q("bitrader_leader_epoch", "epoch {{instance}}"))).
		WithRow(dashboard.NewRowBuilder("Reconciliation")).
		WithPanel(timeSeries("Drift by kind", "short", "Differences found per kind in the last hour.",
			q("sum by (kind) (increase(bitrader_reconcile_drift_total[1h]))", "{{kind}}"))).
		WithPanel(timeSeries("Runs and ambiguity", "short", "Runs per hour by result, orders still ambiguous, seconds since the last run.",
			q("sum by (result) (increase(bitrader_reconcile_runs_total[1h]))", "runs {{result}}"),
			q("bitrader_reconcile_ambiguous_orders", "ambiguous orders"),
			q("time() - bitrader_reconcile_last_run_timestamp_seconds", "seconds since last run"))).
		WithPanel(timeSeries("Reconciliation duration p99", "s", "99th percentile duration of reconciliation runs.",
			q("histogram_quantile(0.99, sum by (le) (rate(bitrader_reconcile_duration_seconds_bucket[$__rate_interval])))", "p99")))
}
