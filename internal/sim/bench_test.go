package sim

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// BenchmarkWSDepthFanout measures sustained depth_book15 fan-out: each op
// is one 300 ms push interval delivering one frame to each of N loopback
// subscribers (frames/s = N / (ns/op) * 1e9).
func BenchmarkWSDepthFanout(b *testing.B) {
	for _, n := range []int{10, 100} {
		b.Run("subs="+strconv.Itoa(n), func(b *testing.B) {
			clk := NewManualClock(testStart)
			srv, err := New(Config{Clock: clk, Accounts: []Account{{APIKey: "k", Secret: "s"}}, IdleTimeout: time.Hour})
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if err := srv.Start(ctx); err != nil {
				b.Fatal(err)
			}
			defer srv.Close()
			conns := make([]*websocket.Conn, n)
			for i := range conns {
				c, _, err := websocket.Dial(ctx, srv.PublicWSURL(), nil)
				if err != nil {
					b.Fatal(err)
				}
				c.SetReadLimit(1 << 20)
				conns[i] = c
				_, _, _ = c.Read(ctx) // connect
				_ = c.Write(ctx, websocket.MessageText, []byte(`{"op":"subscribe","args":[{"symbol":"BTCUSDT","ch":"depth_book15"}]}`))
				_ = c.Write(ctx, websocket.MessageText, []byte(`{"op":"ping","ping":1}`))
				_, _, _ = c.Read(ctx) // pong: subscription in place
			}
			b.ResetTimer()
			for range b.N {
				_ = srv.Advance(300 * time.Millisecond)
				for _, c := range conns {
					for {
						_, msg, err := c.Read(ctx)
						if err != nil {
							b.Fatal(err)
						}
						if len(msg) > 20 && string(msg[:20]) == `{"ch":"depth_book15"` {
							break
						}
					}
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "frames/s")
		})
	}
}

// BenchmarkRESTPlaceOrder measures signed place_order round trips over
// loopback (limit orders resting far from the market).
func BenchmarkRESTPlaceOrder(b *testing.B) {
	clk := NewManualClock(testStart)
	srv, err := New(Config{Clock: clk, Accounts: []Account{{APIKey: "k", Secret: "s", Balance: 1e17}}, DisableRateLimits: true})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	e := &testEnv{srv: srv, clock: clk, key: "k", secret: "s"}
	t := &testing.T{}
	b.ResetTimer()
	for i := range b.N {
		body := `{"symbol":"BTCUSDT","side":"BUY","orderType":"LIMIT","qty":"0.001","price":"55000","clientId":"b` + strconv.Itoa(i) + `"}`
		status, resp := e.doNoFatal(t, body)
		if status != 200 || len(resp) < 9 || resp[:9] != `{"code":0` {
			b.Fatalf("place: %d %s", status, resp)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "orders/s")
}
