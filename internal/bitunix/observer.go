package bitunix

import "time"

// Observer receives metrics-worthy events. Label values are low-cardinality:
// endpoint names like "trade/place_order", group names, WS channel kinds
// ("public", "private"). Implementations must be fast and non-blocking.
type Observer interface {
	// RESTRequest reports one HTTP attempt. outcome is "ok", "api_error",
	// "rate_limited", "ambiguous" or "transport_error".
	RESTRequest(endpoint, outcome string, d time.Duration)
	// RateLimitWait reports time spent waiting for the local limiter or a
	// back-off before a request in group.
	RateLimitWait(group string, d time.Duration)
	WSState(stream string, connected bool)
	WSReconnect(stream string)
	// WSMessage reports one data frame and its lag behind the exchange ts.
	WSMessage(stream string, lag time.Duration)
}

// NopObserver ignores everything; the default.
type NopObserver struct{}

func (NopObserver) RESTRequest(string, string, time.Duration) {}
func (NopObserver) RateLimitWait(string, time.Duration)       {}
func (NopObserver) WSState(string, bool)                      {}
func (NopObserver) WSReconnect(string)                        {}
func (NopObserver) WSMessage(string, time.Duration)           {}
