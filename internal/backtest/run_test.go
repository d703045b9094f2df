package backtest

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/config"
	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/strategy"
	"github.com/bitrader/bitrader/internal/trading"
)

var fx = fixed.MustParse

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// handSteps buys 0.02 BTC at market at 07:58:30 and sells it reduce-only at
// 08:01:15.
func handSteps() []strategy.Step {
	return []strategy.Step{
		{At: at("2024-01-01T07:58:30Z"), Intent: trading.Intent{Symbol: "BTCUSDT", Side: trading.Buy, Type: trading.Market, Qty: fx("0.02"), Tag: "entry"}},
		{At: at("2024-01-01T08:01:15Z"), Intent: trading.Intent{Symbol: "BTCUSDT", Side: trading.Sell, Type: trading.Market, Qty: fx("0.02"), ReduceOnly: true, Tag: "exit"}},
	}
}

func handOptions(latency time.Duration) Options {
	return Options{
		Config:   config.Defaults(), // taker fee 0.0006, funding every 8h, balance 10000
		Data:     "../../testdata/backtest/BTCUSDT-hand.csv",
		Strategy: strategy.NewScripted(handSteps()),
		Latency:  latency,
	}
}

// TestHandComputed checks a scripted backtest against arithmetic done by
// hand. Each 1m kline becomes four prints a quarter-minute apart (open, the
// extreme nearer the direction, the other extreme, close); at each print
// the book's best bid is the print and the best ask one tick (0.1) above,
// 20 BTC a level; the mark is the print.
//
//	07:58:30 print 40010 (rising candle: 40000, 39990, 40010, 40005).
//	  Buy 0.02 at market: fills at the ask 40010.1 (taker).
//	  fee = 40010.1 × 0.02 × 0.0006 = 800.202 × 0.0006 = 0.4801212
//	08:00:00 funding (8h interval), mark = last print 40015 (07:59:45),
//	  rate 0.0001, long pays 40015 × 0.02 × 0.0001 = 0.08003
//	08:01:15 print 40020 (rising: 40025, 40020, 40040, 40030).
//	  Sell 0.02 reduce-only at market: fills at the bid 40020.
//	  fee = 40020 × 0.02 × 0.0006 = 800.4 × 0.0006 = 0.48024
//	  pnl = (40020 - 40010.1) × 0.02 = 0.198
//	final equity = 10000 + 0.198 - 0.4801212 - 0.48024 - 0.08003 = 9999.1576088
//	round trip net = 0.198 - 0.9603612 - 0.08003 = -0.8423912
func TestHandComputed(t *testing.T) {
	rep, err := Run(context.Background(), handOptions(0))
	if err != nil {
		t.Fatal(err)
	}
	checkFills(t, rep, []Fill{
		{Time: at("2024-01-01T07:58:30Z"), Side: "BUY", Price: fx("40010.1"), Qty: fx("0.02"), Fee: fx("0.4801212")},
		{Time: at("2024-01-01T08:01:15Z"), Side: "SELL", Price: fx("40020"), Qty: fx("0.02"), Fee: fx("0.48024"), RealizedPnL: fx("0.198")},
	})
	want := map[string][2]fixed.Value{
		"fees":        {rep.Fees, fx("0.9603612")},
		"funding":     {rep.Funding, fx("-0.08003")},
		"realized":    {rep.RealizedPnL, fx("0.198")},
		"finalEquity": {rep.FinalEquity, fx("9999.1576088")},
		"netPnl":      {rep.NetPnL, fx("-0.8423912")},
	}
	for k, v := range want {
		if v[0] != v[1] {
			t.Errorf("%s = %s, want %s", k, v[0], v[1])
		}
	}
	if len(rep.Funds) != 1 || !rep.Funds[0].Time.Equal(at("2024-01-01T08:00:00Z")) || rep.Funds[0].Amount != fx("-0.08003") {
		t.Errorf("funding payments %+v, want one of -0.08003 at 08:00", rep.Funds)
	}
	if len(rep.List) != 1 {
		t.Fatalf("round trips %+v, want 1", rep.List)
	}
	tr := rep.List[0]
	if tr.Side != "LONG" || tr.EntryPrice != fx("40010.1") || tr.ExitPrice != fx("40020") || tr.Qty != fx("0.02") ||
		tr.PnL != fx("0.198") || tr.Fees != fx("0.9603612") || tr.Funding != fx("-0.08003") || tr.Net != fx("-0.8423912") || tr.Open {
		t.Errorf("trade %+v", tr)
	}
	if rep.RoundTrips != 1 || rep.WinRate == nil || *rep.WinRate != 0 || rep.ProfitFactor == nil || *rep.ProfitFactor != 0 {
		t.Errorf("round trips %d win rate %v profit factor %v, want 1, 0, 0 (one losing trade)", rep.RoundTrips, deref(rep.WinRate), deref(rep.ProfitFactor))
	}
	if rep.Klines != 4 || rep.Orders.Submitted != 2 || rep.Risk.Approved != 2 {
		t.Errorf("klines %d orders %+v risk %+v", rep.Klines, rep.Orders, rep.Risk)
	}
	// Exposure is sampled at each kline's last print: in a position at the
	// 07:58:45, 07:59:45 and 08:00:45 samples, flat at 08:01:45; so 180s of
	// the 240s from 07:58:00 to 08:02:00.
	if rep.Exposure == nil || *rep.Exposure != 0.75 {
		t.Errorf("exposure %v, want 180s/240s = 0.75", deref(rep.Exposure))
	}
}

// TestLatency: with 20s latency the buy decided at 07:58:30 reaches the
// engine at the first event at or after 07:58:50 (07:59:00), against the
// last book before it, the 07:58:45 print 40005: ask 40005.1.
//
//	buy fee = 40005.1 × 0.02 × 0.0006 = 0.4800612
//	the sell decided at 08:01:15 reaches the engine at 08:01:45's event,
//	against the 08:01:30 print 40040: bid 40040.
//	sell fee = 40040 × 0.02 × 0.0006 = 0.48048
//	pnl = (40040 - 40005.1) × 0.02 = 0.698
func TestLatency(t *testing.T) {
	rep, err := Run(context.Background(), handOptions(20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	checkFills(t, rep, []Fill{
		{Time: at("2024-01-01T07:58:45Z"), Side: "BUY", Price: fx("40005.1"), Qty: fx("0.02"), Fee: fx("0.4800612")},
		{Time: at("2024-01-01T08:01:30Z"), Side: "SELL", Price: fx("40040"), Qty: fx("0.02"), Fee: fx("0.48048"), RealizedPnL: fx("0.698")},
	})
}

func checkFills(t *testing.T, rep *Report, want []Fill) {
	t.Helper()
	if len(rep.FillLog) != len(want) {
		t.Fatalf("fills %+v, want %d", rep.FillLog, len(want))
	}
	for i, w := range want {
		g := rep.FillLog[i]
		if !g.Time.Equal(w.Time) || g.Side != w.Side || g.Price != w.Price || g.Qty != w.Qty || g.Fee != w.Fee || g.RealizedPnL != w.RealizedPnL {
			t.Errorf("fill %d = %+v, want %+v", i, g, w)
		}
	}
}

// TestDeterministic runs the same backtest twice and compares the JSON and
// HTML reports byte for byte.
func TestDeterministic(t *testing.T) {
	render := func() ([]byte, []byte) {
		cfg := config.Defaults()
		cfg.Strategy.Trend.Interval = time.Minute
		cfg.Strategy.Trend.FastPeriod, cfg.Strategy.Trend.SlowPeriod = 5, 20
		rep, err := Run(context.Background(), Options{Config: cfg, Data: "../../testdata/sample/BTCUSDT-1m.csv", Latency: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Fills == 0 {
			t.Fatal("no fills: the determinism check would be vacuous")
		}
		js, err := json.Marshal(rep)
		if err != nil {
			t.Fatal(err)
		}
		var h bytes.Buffer
		if err := WriteHTML(&h, rep); err != nil {
			t.Fatal(err)
		}
		return js, h.Bytes()
	}
	j1, h1 := render()
	j2, h2 := render()
	if !bytes.Equal(j1, j2) {
		t.Error("JSON reports differ between identical runs")
	}
	if !bytes.Equal(h1, h2) {
		t.Error("HTML reports differ between identical runs")
	}
	for _, bad := range []string{"<script", "http://", "https://"} {
		if bytes.Contains(bytes.ReplaceAll(h1, []byte(`xmlns="http://www.w3.org/2000/svg"`), nil), []byte(bad)) {
			t.Errorf("HTML report contains %q: it must be self-contained", bad)
		}
	}
	if !bytes.Contains(h1, []byte("<svg")) || !bytes.Contains(h1, []byte("<path d=\"M")) {
		t.Error("HTML report has no chart")
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
