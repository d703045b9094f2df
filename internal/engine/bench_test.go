package engine_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/bitunix"
	"github.com/bitrader/bitrader/internal/engine"
	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/instrument"
	"github.com/bitrader/bitrader/internal/journal"
	"github.com/bitrader/bitrader/internal/ordermanager"
	"github.com/bitrader/bitrader/internal/risk"
	"github.com/bitrader/bitrader/internal/strategy"
	"github.com/bitrader/bitrader/internal/trading"
	"github.com/bitrader/bitrader/internal/venue/exchange"
)

const benchFrame = `{"ch":"depth_book15","symbol":"BTCUSDT","ts":1790126515693,"data":{"b":[["86699.6","2.274"],["86699.5","2.7407"]],"a":[["86699.7","0.7095"],["86699.8","2.1992"]]}}`

// quoter places one post-only limit buy per book event, below the bid.
type quoter struct{ out [1]trading.Intent }

func (q *quoter) Name() string { return "quoter" }
func (q *quoter) OnEvent(_ time.Time, ev strategy.Event, v strategy.View) strategy.Output {
	if ev.Kind != strategy.EventBook {
		return strategy.Output{}
	}
	bid, ok := v.Market.BestBid()
	if !ok {
		return strategy.Output{}
	}
	q.out[0] = trading.Intent{Symbol: ev.Symbol, Side: trading.Buy, Type: trading.Limit, TimeInForce: trading.PostOnly,
		Price: bid.Price - fixed.FromInt(100), Qty: fixed.MustParse("0.001")}
	return strategy.Output{Place: q.out[:]}
}

// wire is the venue stub's far end: it keeps the signed request bytes and
// answers place_order like the exchange. It reuses its request buffer and
// reply so that the stub's own garbage does not count against the bot;
// what the bot's side of net/http allocates (http.NewRequest, Client.Do's
// header and URL copies) still counts, as it would against a real socket.
type wire struct {
	buf   bytes.Buffer
	last  []byte
	n     int
	reply strings.Reader
	resp  http.Response
	hdr   http.Header
	body  io.ReadCloser
}

const wireReply = `{"code":0,"msg":"Success","data":{"orderId":"1","clientId":"x"}}`

func (w *wire) RoundTrip(r *http.Request) (*http.Response, error) {
	// The signed request as it would go on the wire (header order aside),
	// written by hand: Request.Write allocates several objects per call,
	// the stub's garbage, not the bot's.
	w.buf.Reset()
	w.buf.WriteString(r.Method)
	w.buf.WriteByte(' ')
	w.buf.WriteString(r.URL.RequestURI())
	w.buf.WriteString(" HTTP/1.1\r\nHost: ")
	w.buf.WriteString(r.Host)
	w.buf.WriteString("\r\n")
	for k, vs := range r.Header {
		for _, v := range vs {
			w.buf.WriteString(k)
			w.buf.WriteString(": ")
			w.buf.WriteString(v)
			w.buf.WriteString("\r\n")
		}
	}
	w.buf.WriteString("\r\n")
	if r.Body != nil {
		_, _ = w.buf.ReadFrom(r.Body)
		_ = r.Body.Close() // RoundTrip must close the body
	}
	w.last = w.buf.Bytes()
	w.n++
	if w.hdr == nil {
		w.hdr = http.Header{"Content-Type": {"application/json"}}
		w.body = io.NopCloser(&w.reply)
	}
	w.reply.Reset(wireReply)
	w.resp = http.Response{StatusCode: 200, Header: w.hdr, Body: w.body, Request: r}
	return &w.resp, nil
}

// warmupTicks run before the measured ones (see benchTickToOrder).
const warmupTicks = 5000

func benchTickToOrder(b *testing.B, store ordermanager.Store) {
	w := &wire{}
	now := time.Unix(1790126515, 0).UTC()
	// The client's clock is the injected time, so its rate limiter (real
	// Bitunix limits) never waits: the benchmark measures work, not pacing.
	// Timeout is set as the app sets it: its deadline is on the order path.
	client, err := bitunix.New(bitunix.Config{BaseURL: "http://127.0.0.1:1", APIKey: "k", Secret: "s",
		HTTPClient: &http.Client{Transport: w, Timeout: 10 * time.Second}, Clock: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	lim := risk.DefaultLimits()
	lim.MaxOrdersPerMinute = 6000
	lim.StaleData = time.Hour
	core, err := engine.NewCore(engine.CoreConfig{
		Strategies: map[string]strategy.Strategy{sym: &quoter{}},
		Specs:      map[string]instrument.Spec{sym: instrument.Default(sym)},
		Limits:     lim, Venue: exchange.New(client, "USDT", []string{sym}), Store: store,
		Orders: ordermanager.Config{Prefix: "b", Epoch: 1, StartBalance: fixed.FromInt(100000)},
	})
	if err != nil {
		b.Fatal(err)
	}
	dec := bitunix.NewPublicDecoder()
	frame := []byte(benchFrame)
	ctx := context.Background()
	durs := make([]time.Duration, 0, b.N)
	var cpu time.Duration // CPU time of the measured part only
	var open []ordermanager.OrderRecord
	// tick runs one frame through and settles the order it produced,
	// returning the frame-to-request latency and its CPU time.
	tick := func(i int) (time.Duration, time.Duration) {
		now = now.Add(time.Second) // order rate stays within the limit
		sent := w.n
		c0 := cpuNow()
		t0 := time.Now()
		ev, err := dec.Decode(frame)
		if err != nil {
			b.Fatal(err)
		}
		ev.Book.Time = now
		core.OnBook(ctx, now, &ev.Book)
		d := time.Since(t0)
		c := cpuNow() - c0
		if w.n != sent+1 {
			b.Fatalf("iteration %d: %d requests on the wire", i, w.n-sent)
		}
		// Settle the order outside the measured span (t0..d) so the book
		// stays small. No StopTimer here: with ReportAllocs it reads memory
		// stats, stopping the world twice per iteration, and that noise,
		// not the engine, made the tail. ns/op therefore includes settling;
		// p50-ns and p99-ns are the tick-to-order figures.
		open = core.Orders().AppendOpenOrders(open[:0])
		for _, o := range open {
			core.OnOrderReport(ctx, now, ordermanager.Report{ClientID: o.ClientID, OrderID: "1", Symbol: sym,
				Side: trading.Buy, Status: trading.StatusCanceled, Qty: o.Intent.Qty})
		}
		core.Orders().PruneFinal()
		if ms, ok := store.(*engine.MemStore); ok {
			ms.PruneFinal()
		}
		return d, c
	}
	// A running bot is warm: its maps have grown, its heap has settled and
	// the code is in cache. The first thousand-odd ticks of a fresh process
	// pay for that once (a quarter of them over 30 µs on the reference
	// machine), which says nothing about the thousandth order of the day,
	// so they run before the clock starts.
	for i := 0; i < warmupTicks; i++ {
		tick(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d, c := tick(i)
		durs = append(durs, d)
		cpu += c
	}
	b.StopTimer()
	sort.Slice(durs, func(i, j int) bool { return durs[i] < durs[j] })
	if len(durs) > 0 {
		b.ReportMetric(float64(durs[len(durs)/2].Nanoseconds()), "p50-ns")
		b.ReportMetric(float64(durs[len(durs)*99/100].Nanoseconds()), "p99-ns")
	}
	if cpu > 0 {
		// getrusage has microsecond-ish granularity; summed over b.N it
		// averages out. Includes GC work done on the other core meanwhile.
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "orders/cpu-s")
	}
}

// cpuNow is this process's user+system CPU time (wall-clock latencies on
// the shared machine depend on what else runs; CPU time much less).
func cpuNow() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkTickToOrder: WebSocket frame bytes in, decode, Core (market,
// strategy, risk gate, order manager), signed place_order bytes out.
func BenchmarkTickToOrder(b *testing.B) {
	b.Run("store=memory", func(b *testing.B) { benchTickToOrder(b, engine.NewMemStore()) })
	b.Run("store=bbolt", func(b *testing.B) {
		j, err := journal.Open(filepath.Join(b.TempDir(), "j.db"), journal.Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer j.Close()
		benchTickToOrder(b, j)
	})
}

// BenchmarkMachineTail is the control for reading TickToOrder's tail on a
// given machine: about 3 µs of fixed computation per iteration, with and
// without small garbage. Without allocations p99 should equal p50; how far
// p99 moves with allocs=4 and allocs=14 is what the garbage collector and
// the machine add to any loop that allocates, the bot's included.
func BenchmarkMachineTail(b *testing.B) {
	for _, n := range []int{0, 4, 14} {
		b.Run(fmt.Sprintf("allocs=%d", n), func(b *testing.B) {
			buf := make([]byte, 2500)
			keep := make([][]byte, 16)
			durs := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				sha256.Sum256(buf)
				for j := 0; j < n; j++ {
					keep[j] = make([]byte, 160)
				}
				sha256.Sum256(buf)
				durs = append(durs, time.Since(t0))
			}
			b.StopTimer()
			sort.Slice(durs, func(i, j int) bool { return durs[i] < durs[j] })
			b.ReportMetric(float64(durs[len(durs)/2].Nanoseconds()), "p50-ns")
			b.ReportMetric(float64(durs[len(durs)*99/100].Nanoseconds()), "p99-ns")
		})
	}
}
