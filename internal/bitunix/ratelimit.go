package bitunix

import (
	"context"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// endpointLimit is the per-endpoint request limit from §4 ("uid" for
// private, per IP for market), in requests per second; endpoints not
// listed get defaultLimit.
func endpointLimit(name string) float64 {
	switch name {
	case "account/position_mode", "account/trading_settings":
		return 20
	case "account/adjust_position_margin", "trade/cancel_orders", "trade/flash_close_position":
		return 5
	case "trade/batch_order", "trade/close_all_position":
		return 1
	}
	return defaultLimit
}

const defaultLimit = 10

// endpointName turns a path into a short, low-cardinality label:
// /api/v1/futures/trade/place_order → trade/place_order.
func endpointName(path string) string {
	return strings.TrimPrefix(path, "/api/v1/futures/")
}

// limitGroup paces requests to one endpoint: a token bucket at the
// documented rate, plus an exponential penalty after the exchange still
// answers 10005/10006 (our clock and theirs disagree, or another process
// shares the key).
type limitGroup struct {
	name    string
	lim     *rate.Limiter
	mu      sync.Mutex
	strikes int
	until   time.Time
}

type limiters struct {
	mu     sync.Mutex
	groups map[string]*limitGroup
}

func (l *limiters) get(name string) *limitGroup {
	l.mu.Lock()
	defer l.mu.Unlock()
	if g, ok := l.groups[name]; ok {
		return g
	}
	r := endpointLimit(name)
	g := &limitGroup{name: name, lim: rate.NewLimiter(rate.Limit(r), max(1, int(r)))}
	if l.groups == nil {
		l.groups = map[string]*limitGroup{}
	}
	l.groups[name] = g
	return g
}

// wait blocks until a request may be sent, under ctx. It reserves with the
// injected clock so tests control time.
func (g *limitGroup) wait(ctx context.Context, now func() time.Time, sleep func(context.Context, time.Duration) error) (time.Duration, error) {
	t := now()
	g.mu.Lock()
	penalty := g.until.Sub(t)
	g.mu.Unlock()
	r := g.lim.ReserveN(t, 1)
	d := max(r.DelayFrom(t), penalty)
	if d <= 0 {
		return 0, nil
	}
	if err := sleep(ctx, d); err != nil {
		r.CancelAt(t)
		return 0, err
	}
	return d, nil
}

// penalise records a rate-limit reply: the next call in this group waits
// base·2^strikes (capped), with jitter.
func (g *limitGroup) penalise(now time.Time, base, capd time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	d := min(base<<min(g.strikes, 10), capd)
	d = d/2 + rand.N(d/2+1)
	g.strikes++
	g.until = now.Add(d)
}

func (g *limitGroup) ok() {
	g.mu.Lock()
	g.strikes = 0
	g.mu.Unlock()
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// jitterBackoff is full-jitter-ish exponential back-off: between half and
// all of base·2^attempt, capped.
func jitterBackoff(base, capd time.Duration) func(int) time.Duration {
	return func(attempt int) time.Duration {
		d := min(base<<min(attempt, 16), capd)
		return d/2 + rand.N(d/2+1)
	}
}
