package strategy

import (
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/market"
	"github.com/bitrader/bitrader/internal/trading"
)

// MeanReversion trades stretches away from the rolling VWAP confirmed by
// order flow; see MeanReversionParams for the rules and defaults.
type MeanReversion struct {
	symbol string
	sizing Sizing
	p      MeanReversionParams

	win  market.TradeWindow // VWAP and deviation
	tick market.TradeWindow // taker-flow imbalance

	entryZ, exitZ, minBook, minTick float64
	out                             out
}

// NewMeanReversion returns the strategy; p must be valid.
func NewMeanReversion(symbol string, sizing Sizing, p MeanReversionParams) *MeanReversion {
	m := &MeanReversion{symbol: symbol, sizing: sizing, p: p,
		entryZ: p.EntryZ.Float64(), exitZ: p.ExitZ.Float64(),
		minBook: p.MinBookImbalance.Float64(), minTick: p.MinTickImbalance.Float64(),
		out: out{place: make([]trading.Intent, 0, 2)}}
	m.win.Init(p.Window, p.MaxWindowTrades)
	m.tick.Init(p.TickWindow, p.MaxWindowTrades)
	return m
}

// Name is "meanReversion".
func (m *MeanReversion) Name() string { return NameMeanReversion }

// Window exposes the VWAP window, for status pages and tests.
func (m *MeanReversion) Window() *market.TradeWindow { return &m.win }

// OnEvent acts on trades of its symbol.
func (m *MeanReversion) OnEvent(_ time.Time, ev Event, v View) Output {
	m.out.reset()
	if ev.Kind != EventTrade || ev.Symbol != m.symbol {
		return m.out.output()
	}
	tr := ev.Trade
	m.win.Add(tr)
	m.tick.Add(tr)
	if hasLiveOrders(v.Orders) {
		return m.out.output()
	}
	price := tr.Price
	pos := v.Position.Qty
	z, zok := m.win.ZScore(price)
	if pos != 0 {
		m.exit(price, pos, v.Position.EntryPrice, z, zok)
		return m.out.output()
	}
	if !zok || m.win.Count() < m.p.MinTrades || v.Market == nil {
		return m.out.output()
	}
	book, ok := v.Market.BookImbalance(m.p.BookLevels)
	if !ok {
		return m.out.output()
	}
	flow := m.tick.TickImbalance()
	switch {
	case z <= -m.entryZ && book >= m.minBook && flow >= m.minTick:
		m.out.market(m.symbol, trading.Buy, m.sizing.Qty(v.Equity, price, v.Spec, true), false, "mr-long")
	case m.p.AllowShort && z >= m.entryZ && book <= -m.minBook && flow <= -m.minTick:
		m.out.market(m.symbol, trading.Sell, m.sizing.Qty(v.Equity, price, v.Spec, true), false, "mr-short")
	}
	return m.out.output()
}

func (m *MeanReversion) exit(price, pos, entry fixed.Value, z float64, zok bool) {
	if entry <= 0 {
		return
	}
	stopDist, tpDist := entry.Mul(m.p.StopLoss), entry.Mul(m.p.TakeProfit)
	var tag string
	if pos > 0 {
		switch {
		case price <= entry-stopDist:
			tag = "mr-stop"
		case price >= entry+tpDist:
			tag = "mr-take"
		case zok && z >= -m.exitZ:
			tag = "mr-revert"
		}
	} else {
		switch {
		case price >= entry+stopDist:
			tag = "mr-stop"
		case price <= entry-tpDist:
			tag = "mr-take"
		case zok && z <= m.exitZ:
			tag = "mr-revert"
		}
	}
	if tag != "" {
		m.out.closePosition(m.symbol, pos, tag)
	}
}
