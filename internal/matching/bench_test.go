package matching

import (
	"syscall"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/trading"
)

// cpuNow is the process's user+system CPU time. The shared build machine is
// heavily loaded, so wall-clock ns/op overstates the cost; CPU time per op
// is reported alongside it.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration, perOp float64, unit string) {
	cpu := (cpuNow() - start).Seconds()
	if cpu > 0 {
		b.ReportMetric(cpu*1e9/float64(b.N), "cpu-ns/op")
		b.ReportMetric(perOp*float64(b.N)/cpu, unit+"-per-cpu-s")
	}
}

func benchEngine(b *testing.B, sink Sink) *Engine {
	b.Helper()
	sp := testSpec()
	sp.PriceProtectScope = 0
	e, err := New(Config{Instruments: []InstrumentConfig{{
		Spec: sp, MakerFee: v("0.0002"), TakerFee: v("0.0006"), MaintenanceMarginRate: v("0.005"),
	}}, HistoryLimit: 1024, DefaultMarginMode: Cross}, sink)
	if err != nil {
		b.Fatal(err)
	}
	for _, a := range []string{"a", "b"} {
		if err := e.OpenAccount(a, fixed.FromInt(1_000_000_000), t0); err != nil {
			b.Fatal(err)
		}
		if err := e.SetLeverage(a, sym, 100, t0); err != nil {
			b.Fatal(err)
		}
	}
	return e
}

// benchMix runs a mix of book operations on a book kept around 1-4k
// resting orders over 100 price levels: 50% limit adds near the touch, 40%
// cancels of a live order, 10% market orders that match.
func benchMix(b *testing.B, sink Sink) {
	e := benchEngine(b, sink)
	seed := uint64(1)
	rnd := func(n uint64) uint64 { seed = seed*6364136223846793005 + 1442695040888963407; return (seed >> 33) % n }
	type liveOrder struct {
		id   uint64
		acct string
	}
	live := make([]liveOrder, 0, 4096)
	accts := [2]string{"a", "b"}
	qty := v("0.01")
	ts := t0
	fills := 0
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuNow()
	for i := 0; i < b.N; i++ {
		r := rnd(10)
		acct := accts[rnd(2)]
		switch {
		case (r < 5 && len(live) < cap(live)) || len(live) == 0:
			side := trading.Buy
			price := fixed.FromInt(10000 - 1 - int64(rnd(50)))
			if rnd(2) == 0 {
				side = trading.Sell
				price = fixed.FromInt(10000 + int64(rnd(50)))
			}
			o, err := e.PlaceOrder(OrderRequest{Account: acct, Symbol: sym, Side: side, Type: trading.Limit, Price: price, Qty: qty}, ts)
			if err != nil {
				b.Fatal(err)
			}
			if !o.Status.Final() {
				live = append(live, liveOrder{o.ID, acct})
			}
		case r < 9:
			k := int(rnd(uint64(len(live))))
			lo := live[k]
			live[k] = live[len(live)-1]
			live = live[:len(live)-1]
			_, _ = e.CancelOrder(lo.acct, sym, lo.id, "", ts) // may have filled meanwhile
		default:
			side := trading.Buy
			if rnd(2) == 0 {
				side = trading.Sell
			}
			o, err := e.PlaceOrder(OrderRequest{Account: acct, Symbol: sym, Side: side, Type: trading.Market, Qty: qty}, ts)
			if err != nil {
				b.Fatal(err)
			}
			if o.FilledQty > 0 {
				fills++
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	reportCPU(b, c0, 1, "ops")
}

func BenchmarkBookOpsNoSink(b *testing.B) { benchMix(b, nil) }

func BenchmarkBookOpsWithSink(b *testing.B) {
	n := 0
	benchMix(b, func(ev *Event) { n++ })
}

// BenchmarkFill measures one maker/taker match between two accounts per
// iteration (two fills: a resting sell, then a market buy that takes it).
func BenchmarkFill(b *testing.B) {
	e := benchEngine(b, func(*Event) {})
	qty := v("0.01")
	price := fixed.FromInt(10000)
	ts := t0.Add(time.Second)
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuNow()
	for i := 0; i < b.N; i++ {
		side := trading.Sell
		if i%2 == 1 { // alternate so positions stay small
			side = trading.Buy
		}
		if _, err := e.PlaceOrder(OrderRequest{Account: "a", Symbol: sym, Side: side, Type: trading.Limit, Price: price, Qty: qty}, ts); err != nil {
			b.Fatal(err)
		}
		o, err := e.PlaceOrder(OrderRequest{Account: "b", Symbol: sym, Side: side.Opposite(), Type: trading.Market, Qty: qty}, ts)
		if err != nil || o.FilledQty != qty {
			b.Fatal(o, err)
		}
	}
	b.ReportMetric(2*float64(b.N)/b.Elapsed().Seconds(), "fills/s")
	reportCPU(b, c0, 2, "fills")
}

// BenchmarkTradePrint measures a public print walking resting orders.
func BenchmarkTradePrint(b *testing.B) {
	e := benchEngine(b, nil)
	for i := 0; i < 100; i++ {
		if _, err := e.PlaceOrder(OrderRequest{Account: "a", Symbol: sym, Side: trading.Buy, Type: trading.Limit,
			Price: fixed.FromInt(int64(9900 + i)), Qty: v("1")}, t0); err != nil {
			b.Fatal(err)
		}
	}
	tr := trading.Trade{Symbol: sym, Price: fixed.FromInt(9000), Qty: 0, Time: t0}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := e.ApplyTrade(tr); err != nil { // below every bid: walks no level
			b.Fatal(err)
		}
	}
}
