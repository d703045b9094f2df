package backtest

import (
	"bytes"
	"context"
	"io"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/config"
	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/marketdata"
	"github.com/bitrader/bitrader/internal/trading"
)

// genKlines makes n 1-minute klines of a deterministic zig-zag walk.
func genKlines(n int) []trading.Kline {
	ks := make([]trading.Kline, n)
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	p := fixed.FromInt(40000)
	for i := range ks {
		step := fixed.FromInt(int64((i*7919)%41) - 20)
		o, c := p, p+step
		ks[i] = trading.Kline{Symbol: "BTCUSDT", OpenTime: t0.Add(time.Duration(i) * time.Minute), Interval: time.Minute,
			Open: o, Close: c, High: max(o, c) + fixed.FromInt(5), Low: min(o, c) - fixed.FromInt(5), Volume: fixed.FromInt(3)}
		p = c
	}
	return ks
}

type sliceKlines struct {
	ks []trading.Kline
	i  int
}

func (s *sliceKlines) Next() (trading.Kline, error) {
	if s.i == len(s.ks) {
		return trading.Kline{}, io.EOF
	}
	s.i++
	return s.ks[s.i-1], nil
}

type sliceTrades struct {
	ts []trading.Trade
	i  int
}

func (s *sliceTrades) Next() (trading.Trade, error) {
	if s.i == len(s.ts) {
		return trading.Trade{}, io.EOF
	}
	s.i++
	return s.ts[s.i-1], nil
}

// genKlineSource streams n generated klines without holding them.
type genKlineSource struct {
	n, i   int
	steady bool // rise one tick a kline: the trend strategy never crosses, stays flat
	hold   bool // fall for 200 klines, then rise: the trend strategy enters long once and holds
	t0     time.Time
	p      fixed.Value
}

func (g *genKlineSource) Next() (trading.Kline, error) {
	if g.i == g.n {
		return trading.Kline{}, io.EOF
	}
	i := g.i
	g.i++
	if g.p == 0 {
		g.p, g.t0 = fixed.FromInt(40000), time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	step := fixed.FromInt(int64((i*7919)%41) - 20)
	switch {
	case g.steady:
		step = fixed.MustParse("0.1")
	case g.hold && i < 200:
		step = fixed.FromInt(-1)
	case g.hold:
		step = fixed.MustParse("0.5")
	}
	o, c := g.p, g.p+step
	g.p = c
	return trading.Kline{Symbol: "BTCUSDT", OpenTime: g.t0.Add(time.Duration(i) * time.Minute), Interval: time.Minute,
		Open: o, Close: c, High: max(o, c) + fixed.FromInt(5), Low: min(o, c) - fixed.FromInt(5), Volume: fixed.FromInt(3)}, nil
}

func trendConfig() config.Config {
	cfg := config.Defaults()
	cfg.Strategy.Name = "trend"
	cfg.Strategy.Trend.Interval = 5 * time.Minute
	return cfg
}

const benchKlines = 20_000

// cpuNow is this process's user+system CPU time: on the shared machine
// wall-clock rates depend on what else runs, CPU-time rates much less.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports CPU ns per op and ops per CPU-second (unit/cpu-s).
// The process's CPU includes the GC's, which runs on the other core too.
func reportCPU(b *testing.B, start time.Duration, ops int, unit string) {
	cpu := (cpuNow() - start).Seconds()
	if cpu > 0 && ops > 0 {
		b.ReportMetric(cpu*1e9/float64(ops), "cpu-ns/op")
		b.ReportMetric(float64(ops)/cpu, unit+"/cpu-s")
	}
}

// BenchmarkEngineKlines: trend strategy, klines already decoded in memory,
// default fill model (ohlc-path). One op is one kline.
func BenchmarkEngineKlines(b *testing.B) { benchEngineKlines(b, FillOHLCPath) }

// BenchmarkEngineKlinesCandle: the same under FillCandle.
func BenchmarkEngineKlinesCandle(b *testing.B) { benchEngineKlines(b, FillCandle) }

func benchEngineKlines(b *testing.B, fm FillModel) {
	ks := genKlines(benchKlines)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuNow()
	for done := 0; done < b.N; done += benchKlines {
		n := min(benchKlines, b.N-done)
		if _, err := RunKlines(context.Background(), Options{Config: trendConfig(), FillModel: fm}, "BTCUSDT", &sliceKlines{ks: ks[:n]}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportCPU(b, cpu0, b.N, "klines")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "klines/s")
}

// BenchmarkEngineTrades: trend strategy on public trades in memory (about
// 10 trades a second). One op is one trade.
func BenchmarkEngineTrades(b *testing.B) {
	const n = 100_000
	ts := make([]trading.Trade, n)
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	p := fixed.FromInt(40000)
	for i := range ts {
		p += fixed.New(int64((i*7919)%21)-10, 1)
		side := trading.Buy
		if i%3 == 0 {
			side = trading.Sell
		}
		ts[i] = trading.Trade{Symbol: "BTCUSDT", Price: p, Qty: fixed.MustParse("0.01"), Side: side, Time: t0.Add(time.Duration(i) * 100 * time.Millisecond)}
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuNow()
	for done := 0; done < b.N; done += n {
		m := min(n, b.N-done)
		if _, err := RunTrades(context.Background(), Options{Config: trendConfig()}, "BTCUSDT", &sliceTrades{ts: ts[:m]}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportCPU(b, cpu0, b.N, "trades")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "trades/s")
}

// BenchmarkCSVKlines: end to end from CSV bytes (parse, replay, engine).
func BenchmarkCSVKlines(b *testing.B) { benchCSVKlines(b, FillOHLCPath) }

// BenchmarkCSVKlinesCandle: the same under FillCandle.
func BenchmarkCSVKlinesCandle(b *testing.B) { benchCSVKlines(b, FillCandle) }

// klinesCSV encodes ks as a header-kline CSV file.
func klinesCSV(b *testing.B, ks []trading.Kline) []byte {
	var buf bytes.Buffer
	w := marketdata.NewKlineWriter(&buf)
	for _, k := range ks {
		if err := w.Write(k); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

func benchCSVKlines(b *testing.B, fm FillModel) {
	data := klinesCSV(b, genKlines(benchKlines))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuNow()
	for done := 0; done < b.N; done += benchKlines {
		kr := marketdata.NewKlineReader(bytes.NewReader(data), marketdata.KlineOptions{Symbol: "BTCUSDT"})
		if _, err := RunKlines(context.Background(), Options{Config: trendConfig(), FillModel: fm}, "BTCUSDT", kr); err != nil {
			b.Fatal(err)
		}
	}
	// One op is one kline: the loop runs a whole file per benchKlines ops.
	runs := (b.N + benchKlines - 1) / benchKlines
	b.StopTimer()
	reportCPU(b, cpu0, runs*benchKlines, "klines")
	b.ReportMetric(float64(runs*benchKlines)/b.Elapsed().Seconds(), "klines/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(runs*benchKlines), "ns/kline")
}

// TestMemoryFlat backtests N and 10N streamed klines and checks the heap in
// use after each does not grow with the dataset.
func TestMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("memory test runs 110k klines")
	}
	heap := func(n int) uint64 {
		cfg := trendConfig()
		var peak uint64
		// A steady market: the strategy enters once and holds, so trading
		// activity (which the trade list must keep) does not grow with n.
		src := &genKlineSource{n: n, steady: true}
		probe := &probeSource{src: src, every: n / 10, f: func() {
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}}
		rep, err := RunKlines(context.Background(), Options{Config: cfg}, "BTCUSDT", probe)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d klines: peak heap in use %d KiB, %d fills", n, peak>>10, rep.Fills)
		return peak
	}
	small, big := heap(10_000), heap(100_000)
	if big > small*3 {
		t.Errorf("heap grew from %d KiB (10k klines) to %d KiB (100k klines): not streaming", small>>10, big>>10)
	}
}

type probeSource struct {
	src   KlineSource
	n     int
	every int
	f     func()
}

func (p *probeSource) Next() (trading.Kline, error) {
	p.n++
	if p.every > 0 && p.n%p.every == 0 {
		p.f()
	}
	return p.src.Next()
}

// BenchmarkEngineKlinesQuiet: the trend strategy on a steady rise (flat:
// it never crosses) and on a fall then a rise (it enters long once and
// holds), the cases real trends look like more than the choppy series:
// the floor cost of a kline without trading, and of marking a position.
func BenchmarkEngineKlinesQuiet(b *testing.B) {
	for _, market := range []string{"flat", "hold"} {
		for _, fm := range []FillModel{FillOHLCPath, FillCandle} {
			b.Run(market+"/fill="+fm.String(), func(b *testing.B) {
				b.ReportAllocs()
				b.ResetTimer()
				cpu0 := cpuNow()
				for done := 0; done < b.N; done += benchKlines {
					n := min(benchKlines, b.N-done)
					src := &genKlineSource{n: n, steady: market == "flat", hold: market == "hold"}
					if _, err := RunKlines(context.Background(), Options{Config: trendConfig(), FillModel: fm}, "BTCUSDT", src); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				reportCPU(b, cpu0, b.N, "klines")
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "klines/s")
			})
		}
	}
}

// sampleKlines is testdata/sample's three days of 1-minute klines (the
// simulator's seeded generator: a realistic walk, on which the trend
// strategy of trendConfig holds a position about half the time, 49-50%,
// and places an order about every 83 klines: 259 orders, 129 round
// trips), repeated five times end to end with times and prices shifted to
// follow on: 21,600 klines, 15 days.
func sampleKlines(tb testing.TB) []trading.Kline {
	tb.Helper()
	kr, err := marketdata.OpenKlines("../../testdata/sample/BTCUSDT-1m.csv", marketdata.KlineOptions{Symbol: "BTCUSDT"})
	if err != nil {
		tb.Fatal(err)
	}
	defer kr.Close()
	var one []trading.Kline
	for k, err := range kr.All() {
		if err != nil {
			tb.Fatal(err)
		}
		one = append(one, k)
	}
	span := one[len(one)-1].OpenTime.Add(time.Minute).Sub(one[0].OpenTime)
	drift := one[len(one)-1].Close - one[0].Open
	var ks []trading.Kline
	for c := range 5 {
		for _, k := range one {
			d := drift.MulInt(int64(c))
			k.OpenTime = k.OpenTime.Add(time.Duration(c) * span)
			k.Open, k.High, k.Low, k.Close = k.Open+d, k.High+d, k.Low+d, k.Close+d
			ks = append(ks, k)
		}
	}
	return ks
}

// BenchmarkSampleKlines: the trend strategy on sampleKlines, both fill
// models, with the klines already decoded (engine) and from CSV bytes in
// memory (csv: parse, replay, engine). One op is one kline.
func BenchmarkSampleKlines(b *testing.B) {
	ks := sampleKlines(b)
	data := klinesCSV(b, ks)
	for _, input := range []string{"engine", "csv"} {
		for _, fm := range []FillModel{FillOHLCPath, FillCandle} {
			b.Run(input+"/fill="+fm.String(), func(b *testing.B) {
				b.ReportAllocs()
				cpu0 := cpuNow()
				runs := 0
				for done := 0; done < b.N; done += len(ks) {
					var src KlineSource = &sliceKlines{ks: ks}
					if input == "csv" {
						src = marketdata.NewKlineReader(bytes.NewReader(data), marketdata.KlineOptions{Symbol: "BTCUSDT"})
					}
					if _, err := RunKlines(context.Background(), Options{Config: trendConfig(), FillModel: fm}, "BTCUSDT", src); err != nil {
						b.Fatal(err)
					}
					runs++
				}
				// A whole series per len(ks) ops: rates per kline actually run.
				n := runs * len(ks)
				b.StopTimer()
				reportCPU(b, cpu0, n, "klines")
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/kline")
				b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "klines/s")
			})
		}
	}
}

// BenchmarkSampleKlineKinds splits BenchmarkSampleKlines' engine-only cost
// by what a kline asks of the live pipeline: a flat account or a position,
// whether the strategy's 5-minute candle is delivered at its open, and
// whether an order was placed. Each kline is timed on its own, less the
// clock's own cost, so the figures add up (share × cost) to about the
// series' ns/kline (timing each kline alone adds about 10%), and say which
// kind of kline a faster backtest must make cheaper. One op is one kline.
func BenchmarkSampleKlineKinds(b *testing.B) {
	ks := sampleKlines(b)
	for _, fm := range []FillModel{FillOHLCPath, FillCandle} {
		b.Run("fill="+fm.String(), func(b *testing.B) {
			const (
				flat = iota
				flatCandle
				position
				positionCandle
				order
				nKinds
			)
			kinds := [nKinds]string{"flat", "flat+candle", "position", "position+candle", "order"}
			interval := trendConfig().Strategy.Trend.Interval
			var ns [nKinds]time.Duration
			var count [nKinds]int
			var clock time.Duration // what timing an empty span costs, summed
			runs := 0
			for done := 0; done < b.N; done += len(ks) {
				r, err := newRunner(context.Background(), Options{Config: trendConfig(), FillModel: fm}, "BTCUSDT")
				if err != nil {
					b.Fatal(err)
				}
				for range ks {
					t0 := time.Now()
					clock += time.Since(t0)
				}
				for _, k := range ks {
					held := r.rec.Position() != 0
					// The strategy's candle closes at this kline's open.
					candle := k.OpenTime.UnixNano()%int64(interval) == 0
					submitted := r.rep.Orders.Submitted
					r.rep.Klines++
					t0 := time.Now()
					if fm == FillCandle {
						r.klineCandle(k)
					} else {
						r.kline(k)
					}
					d := time.Since(t0)
					kind := flat
					switch {
					case r.rep.Orders.Submitted != submitted:
						kind = order
					case held && candle:
						kind = positionCandle
					case held:
						kind = position
					case candle:
						kind = flatCandle
					}
					ns[kind] += d
					count[kind]++
				}
				r.finish(ks[len(ks)-1].OpenTime.Add(time.Minute))
				runs++
			}
			n := runs * len(ks)
			overhead := clock / time.Duration(n)
			for i, kind := range kinds {
				if count[i] == 0 {
					continue
				}
				b.ReportMetric(float64((ns[i]/time.Duration(count[i]) - overhead).Nanoseconds()), kind+"-ns")
				b.ReportMetric(100*float64(count[i])/float64(n), kind+"-%")
			}
		})
	}
}
