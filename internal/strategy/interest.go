package strategy

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
