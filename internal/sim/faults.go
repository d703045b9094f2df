package sim

import (
	"sync"
	"time"
)

// faults holds the injected failures the /_sim/ control API sets. Counts of
// 0 mean "until cleared".
type faults struct {
	mu        sync.Mutex
	latency   map[string]time.Duration // REST path -> added latency
	errors    map[string]*forcedError  // REST path ("" = every path) -> forced error
	rateLimit map[string]*counter      // REST path ("" = every path) -> forced 10006
	blackhole map[string]*counter      // REST path -> accept but never answer
}

type counter struct {
	remaining int // 0 = unlimited
}

type forcedError struct {
	counter
	err *apiError
}

func newFaults() *faults {
	f := &faults{}
	f.clear()
	return f
}

func (f *faults) clear() {
	f.latency = map[string]time.Duration{}
	f.errors = map[string]*forcedError{}
	f.rateLimit = map[string]*counter{}
	f.blackhole = map[string]*counter{}
}

// take consumes one use of a counted fault, deleting it when used up.
func take[T interface{ get() *counter }](m map[string]T, path string) (T, bool) {
	var zero T
	key := path
	v, ok := m[key]
	if !ok {
		key = ""
		if v, ok = m[key]; !ok {
			return zero, false
		}
	}
	c := v.get()
	if c.remaining > 0 {
		c.remaining--
		if c.remaining == 0 {
			delete(m, key)
		}
	}
	return v, true
}

func (c *counter) get() *counter     { return c }
func (e *forcedError) get() *counter { return &e.counter }

// restFaults is what applies to one REST request.
type restFaults struct {
	latency   time.Duration
	err       *apiError
	blackhole bool
}

func (f *faults) forRequest(path string) restFaults {
	f.mu.Lock()
	defer f.mu.Unlock()
	var r restFaults
	r.latency = f.latency[path]
	if r.latency == 0 {
		r.latency = f.latency[""]
	}
	if _, ok := take(f.rateLimit, path); ok {
		r.err = errTooFrequent
		return r
	}
	if fe, ok := take(f.errors, path); ok {
		r.err = fe.err
		return r
	}
	if _, ok := take(f.blackhole, path); ok {
		r.blackhole = true
	}
	return r
}
