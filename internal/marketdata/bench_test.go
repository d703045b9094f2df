package marketdata

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/trading"
)

// cpuRate reports items per CPU-second (user+system, all threads, GC
// included) next to the wall-clock rate, which a loaded machine distorts.
func cpuRate(b *testing.B, start time.Duration, items float64, unit string) {
	if cpu := processCPU() - start; cpu > 0 {
		b.ReportMetric(items/cpu.Seconds(), unit+"/cpu-s")
	}
	b.ReportMetric(items/b.Elapsed().Seconds(), unit+"/s")
}

// BenchmarkGenerator reports events per second of the default config
// (250ms books of 20 levels a side, ~4 trades/s, a mark per second).
func BenchmarkGenerator(b *testing.B) {
	g := mustGen(b, testConfig(1))
	b.ReportAllocs()
	cpu := processCPU()
	for b.Loop() {
		if _, err := g.Next(); err != nil {
			b.Fatal(err)
		}
	}
	cpuRate(b, cpu, float64(b.N), "events")
}

// benchKlineCSV builds n rows of generic kline CSV in memory.
func benchKlineCSV(n int) []byte {
	var buf bytes.Buffer
	w := NewKlineWriter(&buf)
	t0 := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	p := fixed.MustParse("42000.5")
	for i := range n {
		d := fixed.New(int64(i%97), 1)
		_ = w.Write(trading.Kline{OpenTime: t0.Add(time.Duration(i) * time.Minute),
			Open: p + d, High: p + d + fixed.FromInt(10), Low: p - fixed.FromInt(3), Close: p + d.DivInt(2), Volume: fixed.MustParse("12.3456") + d})
	}
	_ = w.Flush()
	return buf.Bytes()
}

// benchBinanceCSV builds n rows of a Binance 12-column dump.
func benchBinanceCSV(n int) []byte {
	var b []byte
	t0 := int64(1577836800000)
	for i := range n {
		ot := t0 + int64(i)*60000
		b = appendInt(b, ot)
		b = append(b, ",42283.58000000,42554.57000000,42261.02000000,42475.23000000,1271.68108000,"...)
		b = appendInt(b, ot+59999)
		b = append(b, ",53957248.97,47134,682.57581,28957416.82,0\n"...)
	}
	return b
}

func appendInt(b []byte, n int64) []byte {
	var tmp [20]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(b, tmp[i:]...)
}

// benchKlines reads the whole file b.N times; ns/op is per file, klines/s
// is the figure of merit (target ≥ 1M/s on one core).
func benchKlines(b *testing.B, data []byte, rows int) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	cpu := processCPU()
	for b.Loop() {
		r := NewKlineReader(bytes.NewReader(data), KlineOptions{Symbol: "BTCUSDT", File: "bench.csv"})
		n := 0
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != rows {
			b.Fatalf("read %d rows, want %d", n, rows)
		}
	}
	cpuRate(b, cpu, float64(b.N)*float64(rows), "klines")
}

func BenchmarkKlineCSV(b *testing.B) {
	const rows = 1_000_000
	benchKlines(b, benchKlineCSV(rows), rows)
}

func BenchmarkBinanceKlineCSV(b *testing.B) {
	const rows = 1_000_000
	benchKlines(b, benchBinanceCSV(rows), rows)
}

func BenchmarkTradeCSV(b *testing.B) {
	const rows = 1_000_000
	var buf bytes.Buffer
	w := NewTradeWriter(&buf)
	t0 := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range rows {
		_ = w.Write(trading.Trade{Price: fixed.MustParse("42000.1") + fixed.New(int64(i%50), 1), Qty: fixed.New(int64(1+i%300), 4),
			Side: trading.Side(1 - 2*(i%2)), Time: t0.Add(time.Duration(i) * 37 * time.Millisecond)})
	}
	_ = w.Flush()
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	cpu := processCPU()
	for b.Loop() {
		r := NewTradeReader(bytes.NewReader(data), TradeOptions{Symbol: "BTCUSDT"})
		n := 0
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != rows {
			b.Fatalf("read %d rows", n)
		}
	}
	cpuRate(b, cpu, float64(b.N)*rows, "trades")
}

func BenchmarkReplay(b *testing.B) {
	data := benchKlineCSV(10_000)
	b.ReportAllocs()
	events := 0
	cpu := processCPU()
	for b.Loop() {
		r := NewReplay(NewKlineReader(bytes.NewReader(data), KlineOptions{Symbol: "BTCUSDT"}), ReplayConfig{})
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			events++
		}
	}
	cpuRate(b, cpu, float64(events), "events")
}

func BenchmarkAggregator(b *testing.B) {
	a, _ := NewAggregator("BTCUSDT", time.Minute)
	t0 := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	var out []trading.Kline
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		out, _ = a.Add(out[:0], trading.Trade{Price: fixed.FromInt(int64(100 + i%7)), Qty: fixed.One, Time: t0.Add(time.Duration(i) * 100 * time.Millisecond)})
	}
}
