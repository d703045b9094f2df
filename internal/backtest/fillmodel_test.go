package backtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/ordermanager"
	"github.com/bitrader/bitrader/internal/strategy"
	"github.com/bitrader/bitrader/internal/trading"
)

// TestHandComputedCandle is TestHandComputed's script under FillCandle.
// At each kline's open the book moves to the open (best bid the open, ask
// one tick above, 20 BTC a level) and the mark to the open; the candle of
// the kline before is delivered then. The other three prints of the path
// (nearer extreme, other extreme, close, a quarter-minute apart) reach the
// engine only while there is an open order or a position.
//
//	07:58:00 open 40000, mark event: the script's first step (07:58:30) is
//	  not due; flat and no orders, so the rest of the kline is skipped.
//	07:59:00 open 40005, mark event: the buy is due (first event at or
//	  after 07:58:30). Buy 0.02 at market: fills at the ask 40005.1.
//	  fee = 40005.1 × 0.02 × 0.0006 = 800.102 × 0.0006 = 0.4800612
//	  In a position: marks 40000, 40020, 40015 at :15, :30, :45.
//	08:00:00 funding at the last mark, 40015 (07:59:45):
//	  long pays 40015 × 0.02 × 0.0001 = 0.08003
//	08:01:15 print 40020 (rising: 40025, 40020, 40040, 40030), the first
//	  event at or after 08:01:15: sell 0.02 reduce-only at the bid 40020.
//	  fee = 40020 × 0.02 × 0.0006 = 0.48024
//	  pnl = (40020 - 40005.1) × 0.02 = 0.298
//	final equity = 10000 + 0.298 - 0.4800612 - 0.48024 - 0.08003 = 9999.2576688
//	net = 0.298 - 0.9603012 - 0.08003 = -0.7423312
//	exposure: samples (each kline at :45, plus the start) flat at 07:58:00
//	  and 07:58:45, long at 07:59:45 and 08:00:45, flat at 08:01:45:
//	  120 s of 240 s = 0.5
func TestHandComputedCandle(t *testing.T) {
	opt := handOptions(0)
	opt.FillModel = FillCandle
	rep, err := Run(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	checkFills(t, rep, []Fill{
		{Time: at("2024-01-01T07:59:00Z"), Side: "BUY", Price: fx("40005.1"), Qty: fx("0.02"), Fee: fx("0.4800612")},
		{Time: at("2024-01-01T08:01:15Z"), Side: "SELL", Price: fx("40020"), Qty: fx("0.02"), Fee: fx("0.48024"), RealizedPnL: fx("0.298")},
	})
	want := map[string][2]fixed.Value{
		"fees":        {rep.Fees, fx("0.9603012")},
		"funding":     {rep.Funding, fx("-0.08003")},
		"realized":    {rep.RealizedPnL, fx("0.298")},
		"finalEquity": {rep.FinalEquity, fx("9999.2576688")},
		"netPnl":      {rep.NetPnL, fx("-0.7423312")},
	}
	for k, v := range want {
		if v[0] != v[1] {
			t.Errorf("%s = %s, want %s", k, v[0], v[1])
		}
	}
	if rep.Exposure == nil || *rep.Exposure != 0.5 {
		t.Errorf("exposure %v, want 120s/240s = 0.5", deref(rep.Exposure))
	}
	if rep.FillModel != "candle" || rep.Klines != 4 {
		t.Errorf("fill model %q, klines %d", rep.FillModel, rep.Klines)
	}
}

// TestFillModelsAgreeOnTrend: on the generated series the trend strategy's
// decisions all fall on candle closes and its stop is never touched inside
// a candle, so both fill models must give the same fills and equity (the
// candle model only skips work).
func TestFillModelsAgreeOnTrend(t *testing.T) {
	var reps [2]*Report
	for i, fm := range []FillModel{FillOHLCPath, FillCandle} {
		rep, err := RunKlines(context.Background(), Options{Config: trendConfig(), FillModel: fm}, "BTCUSDT", &sliceKlines{ks: genKlines(3000)})
		if err != nil {
			t.Fatal(err)
		}
		reps[i] = rep
	}
	a, b := reps[0], reps[1]
	if a.Fills == 0 || a.Fills != b.Fills || a.FinalEquity != b.FinalEquity || a.Fees != b.Fees || a.Funding != b.Funding {
		t.Fatalf("ohlc-path: %d fills, equity %s, fees %s, funding %s; candle: %d fills, equity %s, fees %s, funding %s",
			a.Fills, a.FinalEquity, a.Fees, a.Funding, b.Fills, b.FinalEquity, b.Fees, b.Funding)
	}
}

func TestParseFillModel(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want FillModel
		ok   bool
	}{{"", FillOHLCPath, true}, {"ohlc-path", FillOHLCPath, true}, {"candle", FillCandle, true}, {"close", 0, false}} {
		got, err := ParseFillModel(tc.in)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("ParseFillModel(%q) = %v, %v", tc.in, got, err)
		}
		if tc.ok && tc.in != "" && got.String() != tc.in {
			t.Errorf("%v.String() = %q, want %q", got, got.String(), tc.in)
		}
	}
}

func TestCandleIntervalMustFitData(t *testing.T) {
	tests := []struct {
		iv, data time.Duration
		ok       bool
	}{
		{time.Minute, time.Minute, true},
		{15 * time.Minute, time.Minute, true},
		{5 * time.Second, time.Minute, false},
		{90 * time.Second, time.Minute, false},
	}
	for _, tt := range tests {
		var opt Options
		opt.Config.Strategy.Name = strategy.NameTrend
		opt.Config.Strategy.Trend.Interval = tt.iv
		err := checkCandleInterval(opt, tt.data)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrIncompatible)) {
			t.Errorf("interval %s on %s data: err = %v, want ok=%v", tt.iv, tt.data, err, tt.ok)
		}
	}
}

// TestShortcutsChangeNothing: what a backtest skips because it cannot
// change the result leaves every report byte-identical: books, prints and
// marks held back from the matching engine while nothing there could use
// them, the flat account's equity not read again, in both fill models,
// with and without latency.
func TestShortcutsChangeNothing(t *testing.T) {
	series := []struct {
		name string
		src  func() KlineSource
	}{
		{"choppy", func() KlineSource { return &sliceKlines{ks: genKlines(3000)} }},
		{"flat", func() KlineSource { return &genKlineSource{n: 3000, steady: true} }},
		{"hold", func() KlineSource { return &genKlineSource{n: 3000, hold: true} }},
		// Flat before and after, with fees paid in between: the account
		// must be read again.
		{"round trip in a kline", func() KlineSource { return &sliceKlines{ks: genKlines(10)} }},
		// A resting limit buy placed at 00:02's open (39966) that the
		// kline's low (39953) fills half a minute later: the prints after
		// an order must reach the engine.
		{"limit in a kline", func() KlineSource { return &sliceKlines{ks: genKlines(10)} }},
		// Book-driven strategies (the default model only).
		{"meanReversion", func() KlineSource { return &sliceKlines{ks: genKlines(3000)} }},
		{"grid", func() KlineSource { return &sliceKlines{ks: genKlines(3000)} }},
	}
	for _, s := range series {
		for _, fm := range []FillModel{FillOHLCPath, FillCandle} {
			if (s.name == "meanReversion" || s.name == "grid") && fm == FillCandle {
				continue
			}
			for _, lat := range []time.Duration{0, 1500 * time.Millisecond, 20 * time.Second} {
				t.Run(fmt.Sprintf("%s/%s/latency=%s", s.name, fm, lat), func(t *testing.T) {
					var reports [2][]byte
					for i, exact := range []bool{true, false} {
						opt := Options{Config: trendConfig(), FillModel: fm, Latency: lat, noShortcuts: exact}
						if s.name == "limit in a kline" {
							opt.Strategy = strategy.NewScripted([]strategy.Step{
								{At: at("2024-01-01T00:02:00Z"), Intent: trading.Intent{Symbol: "BTCUSDT", Side: trading.Buy, Type: trading.Limit, Price: fx("39960"), Qty: fx("0.02")}},
							})
						}
						if s.name == "meanReversion" || s.name == "grid" {
							opt.Config.Strategy.Name = s.name
						}
						if s.name == "round trip in a kline" {
							opt.Strategy = strategy.NewScripted([]strategy.Step{
								{At: at("2024-01-01T00:02:00Z"), Intent: trading.Intent{Symbol: "BTCUSDT", Side: trading.Buy, Type: trading.Market, Qty: fx("0.02")}},
								{At: at("2024-01-01T00:02:01Z"), Intent: trading.Intent{Symbol: "BTCUSDT", Side: trading.Sell, Type: trading.Market, Qty: fx("0.02"), ReduceOnly: true}},
							})
						}
						rep, err := RunKlines(context.Background(), opt, "BTCUSDT", s.src())
						if err != nil {
							t.Fatal(err)
						}
						if reports[i], err = json.Marshal(rep); err != nil {
							t.Fatal(err)
						}
					}
					if !bytes.Equal(reports[0], reports[1]) {
						t.Errorf("reports differ:\n exact     %s\n shortcuts %s", reports[0], reports[1])
					}
				})
			}
		}
	}
}

// TestFlushNestedInOrder: a delivery that makes the venue report more and
// flush again (a fill whose strategy places an order) still delivers
// every report once, in the order the venue made them, and the buffer is
// reused afterwards.
func TestFlushNestedInOrder(t *testing.T) {
	d := &delayVenue{}
	var got []string
	d.deliver = func(r ordermanager.Report) {
		got = append(got, r.ClientID)
		if r.ClientID == "a" { // reacting to a: the venue reports c, d
			d.sink(ordermanager.Report{ClientID: "c"})
			d.sink(ordermanager.Report{ClientID: "d"})
			d.flush() // as Place does: everything owed goes out before it returns
			got = append(got, "a done")
		}
	}
	d.sink(ordermanager.Report{ClientID: "a"})
	d.sink(ordermanager.Report{ClientID: "b"})
	d.flush()
	if want := []string{"a", "b", "c", "d", "a done"}; !slices.Equal(got, want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
	if len(d.reports) != 0 || cap(d.reports) == 0 {
		t.Fatalf("buffer after flush: len %d cap %d, want empty and kept", len(d.reports), cap(d.reports))
	}
	d.sink(ordermanager.Report{ClientID: "e"})
	d.flush()
	if got[len(got)-1] != "e" || len(got) != 6 {
		t.Fatalf("after reuse delivered %v", got)
	}
}
