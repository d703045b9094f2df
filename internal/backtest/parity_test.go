package backtest

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/config"
	"github.com/bitrader/bitrader/internal/marketdata"
	"github.com/bitrader/bitrader/internal/strategy"
	"github.com/bitrader/bitrader/internal/trading"
)

// TestParityRecordedSession: a session driven by the generator's trade
// stream in memory (the events the simulator would push) and the same
// session recorded to a trades CSV and replayed from the file give the same
// fills and PnL. It covers recording fidelity and that the file path runs
// the identical pipeline. TestParitySimulatorSession goes through the
// simulator's REST and WebSockets.
func TestParityRecordedSession(t *testing.T) {
	cfg := marketdata.SampleConfig()
	cfg.End = cfg.Start.Add(2 * time.Hour)
	gen, err := marketdata.NewGenerator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var trades []trading.Trade
	for ev := range gen.All() {
		if ev.Kind == marketdata.KindTrade {
			trades = append(trades, ev.Trade)
		}
	}
	path := filepath.Join(t.TempDir(), "BTCUSDT-trades.csv")
	writeTradesCSV(t, path, trades)
	t0 := trades[0].Time
	steps := func() strategy.Strategy {
		var s []strategy.Step
		for i := range 10 {
			side := trading.Buy
			if i%2 == 1 {
				side = trading.Sell
			}
			s = append(s, strategy.Step{At: t0.Add(time.Duration(i+1) * 10 * time.Minute),
				Intent: trading.Intent{Symbol: "BTCUSDT", Side: side, Type: trading.Market, Qty: fx("0.01")}})
		}
		return strategy.NewScripted(s)
	}
	live, err := RunTrades(context.Background(), Options{Config: config.Defaults(), Strategy: steps(), Data: path}, "BTCUSDT", &sliceTrades{ts: trades})
	if err != nil {
		t.Fatal(err)
	}
	replay, err := Run(context.Background(), Options{Config: config.Defaults(), Strategy: steps(), Data: path})
	if err != nil {
		t.Fatal(err)
	}
	if live.Fills != 10 {
		t.Fatalf("live session has %d fills, want 10", live.Fills)
	}
	a, _ := json.Marshal(live.FillLog)
	b, _ := json.Marshal(replay.FillLog)
	if string(a) != string(b) {
		t.Errorf("fills differ:\nlive   %s\nreplay %s", a, b)
	}
	if live.FinalEquity != replay.FinalEquity || live.RealizedPnL != replay.RealizedPnL || live.Fees != replay.Fees {
		t.Errorf("pnl differs: live %s/%s/%s replay %s/%s/%s", live.FinalEquity, live.RealizedPnL, live.Fees,
			replay.FinalEquity, replay.RealizedPnL, replay.Fees)
	}
}

// writeTradesCSV writes trades as a trades CSV at path (directories made).
func writeTradesCSV(t *testing.T, path string, trades []trading.Trade) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := marketdata.NewTradeWriter(f)
	for _, tr := range trades {
		if err := w.Write(tr); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
}
