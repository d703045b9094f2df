// Package marketdata produces the market events the simulator, the paper
// venue and the backtester consume: a seeded synthetic generator, kline
// aggregation from trades, fast streaming CSV readers and writers for klines
// and trades, and a replay source that turns a kline file into book, trade
// and mark-price events.
//
// Every source is deterministic: time comes from the data or from the
// generator's own schedule, never from the wall clock, and randomness comes
// from a PCG source seeded by the caller.
package marketdata
