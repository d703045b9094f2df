package sim

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// rateLimiter enforces the documented per-endpoint limits (§4): private
// endpoints per account, market endpoints per IP. It reads time from the
// server clock so tests are deterministic.
type rateLimiter struct {
	mu       sync.Mutex
	limiters map[string]*rate.Limiter
}

func newRateLimiter() *rateLimiter {
	return &rateLimiter{limiters: make(map[string]*rate.Limiter)}
}

// allow reports whether one more request from who on path fits perSec.
func (r *rateLimiter) allow(path, who string, perSec int, now time.Time) bool {
	if perSec <= 0 {
		return true
	}
	key := path + "\x00" + who
	r.mu.Lock()
	defer r.mu.Unlock()
	l, ok := r.limiters[key]
	if !ok {
		l = rate.NewLimiter(rate.Limit(perSec), perSec)
		l.SetLimitAt(now, rate.Limit(perSec)) // start the bucket at clock time, not wall time
		r.limiters[key] = l
	}
	return l.AllowN(now, 1)
}
