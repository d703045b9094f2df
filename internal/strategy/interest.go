package strategy

import "time"

// EventFilter is optionally implemented by a strategy that ignores some
// event kinds (returns an empty Output for them whatever the view). The
// engine then skips calling it for those kinds, which saves building its
// view on every book and mark update. Wants must be constant for the
// strategy's lifetime; a strategy without it gets every event.
type EventFilter interface {
	Wants(kind EventKind) bool
}

// Wants: the trend strategy acts on closed candles and on trades (stop
// checks) only.
func (t *Trend) Wants(kind EventKind) bool { return kind == EventTrade || kind == EventCandle }

// CandleFilter is optionally implemented by a strategy that acts on
// candles of some intervals only (returns an empty Output for the others
// whatever the view). The engine then skips calling it for those, which
// matters in backtests from 1-minute klines where most candles are not the
// strategy's. WantsCandle must be constant for the strategy's lifetime.
type CandleFilter interface {
	WantsCandle(interval time.Duration) bool
}

// WantsCandle: the trend strategy trades on candles of its interval only.
func (t *Trend) WantsCandle(interval time.Duration) bool { return interval == t.p.Interval }
