package metrics

import (
	"sync"
	"time"

	"github.com/bitrader/bitrader/internal/engine"
	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/ordermanager"
	"github.com/bitrader/bitrader/internal/risk"
)

// EngineObserver is the Bot seen as an engine.Observer. It is a separate
// type because engine.Observer and ordermanager.Observer both have a
// Reconciled method with different signatures.
type EngineObserver struct {
	b *Bot

	mu   sync.Mutex
	seen map[string]bool // symbols with a position series, zeroed when gone
}

var _ engine.Observer = (*EngineObserver)(nil)

// Engine returns the engine.Observer view of b. Call it once and pass the
// result to engine.CoreConfig.Observer and engine.RunnerConfig.Observer.
func (b *Bot) Engine() *EngineObserver {
	return &EngineObserver{b: b, seen: map[string]bool{}}
}

// TickToOrder records decision latency per symbol.
func (e *EngineObserver) TickToOrder(symbol string, d time.Duration) { e.b.TickToOrder(symbol, d) }

// Decision counts a risk verdict.
func (e *EngineObserver) Decision(_ string, v risk.Verdict, r risk.Reason) {
	e.b.riskDecisions.WithLabelValues(v.String(), r.String()).Inc()
}

// Account exports equity, PnL, drawdown and positions. Symbols that
// disappear from the snapshot (flat) are set to zero, not left stale.
func (e *EngineObserver) Account(a engine.AccountSnapshot) {
	b := e.b
	b.equity.Set(a.Equity.Float64())
	b.dailyPnL.Set(a.DailyPnL.Float64())
	b.drawdownAmt.Set(a.Drawdown.Float64())
	ratio := 0.0
	if peak := a.Equity + a.Drawdown; peak > 0 {
		ratio = a.Drawdown.Float64() / peak.Float64()
	}
	b.drawdown.Set(ratio)
	b.realisedPnL.Set(a.PnL.Realized.Float64())
	b.feesPaid.Set(a.PnL.Fees.Float64())
	// The ledger counts funding received as positive; the metric is paid.
	b.fundingPaid.Set(a.PnL.Funding.Neg().Float64())
	b.openOrders.Set(float64(a.OpenOrders))

	e.mu.Lock()
	defer e.mu.Unlock()
	now := make(map[string]bool, len(a.Positions))
	for _, p := range a.Positions {
		now[p.Symbol] = true
		e.seen[p.Symbol] = true
		b.Position(p.Symbol, p.Qty, positionNotional(p), p.AvgEntry, p.Unrealized())
	}
	for sym := range e.seen {
		if !now[sym] {
			b.Position(sym, 0, 0, 0, 0)
		}
	}
}

// positionNotional values the position at the mark, or at entry when no
// mark is known yet.
func positionNotional(p ordermanager.Position) fixed.Value {
	price := p.Mark
	if price == 0 {
		price = p.AvgEntry
	}
	return p.Qty.Mul(price).Abs()
}

// Breakers exports every breaker's state.
func (e *EngineObserver) Breakers(bs []risk.BreakerStatus) {
	for _, s := range bs {
		if s.Breaker == risk.BreakerNone {
			continue
		}
		e.b.Breaker(s.Name, s.Tripped)
	}
}

// Halted exports whether new entries are stopped (the reason goes to logs
// and /status; as a label it would be unbounded).
func (e *EngineObserver) Halted(halted bool, _ string) { e.b.halted.Set(boolFloat(halted)) }

// Reconciled does nothing: the run is counted through the order manager's
// observer (the Bot, set as CoreConfig.Orders.Observer), which the engine
// forwards every run to; counting here too would double it.
func (e *EngineObserver) Reconciled(ordermanager.ReconcileResult, time.Duration, error) {}

// WSState exports a stream's connection state.
func (e *EngineObserver) WSState(stream string, connected bool) { e.b.WSState(stream, connected) }

// WSReconnect does nothing: the bitunix stream (with the Bot as
// WSConfig.Observer) counts every redial itself.
func (e *EngineObserver) WSReconnect(string) {}

// Leader exports leadership; the epoch comes from Bot.LeaderEpoch.
func (e *EngineObserver) Leader(leading bool) { e.b.isLeader.Set(boolFloat(leading)) }

// Ready exports readiness.
func (e *EngineObserver) Ready(ready bool) { e.b.Ready(ready) }
