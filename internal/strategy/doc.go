// Package strategy turns market events into trading intents. Strategies are
// pure state machines: OnEvent gets the time, one event and a read-only view
// of market and account state and returns what it wants done. They do no
// I/O, start no goroutines and never read the clock, so backtest, paper and
// live drive the same code deterministically.
package strategy
