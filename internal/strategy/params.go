package strategy

import (
	"errors"
	"fmt"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
)

// Params holds the typed parameters of every configurable strategy. The
// config package embeds it under `strategy.<name>`; only the block matching
// the selected strategy name is validated and used.
type Params struct {
	MeanReversion MeanReversionParams `yaml:"meanReversion"`
	Trend         TrendParams         `yaml:"trend"`
	Grid          GridParams          `yaml:"grid"`
}

// DefaultParams returns the defaults of every strategy.
func DefaultParams() Params {
	return Params{
		MeanReversion: DefaultMeanReversionParams(),
		Trend:         DefaultTrendParams(),
		Grid:          DefaultGridParams(),
	}
}

// Validate checks the parameter block of the named strategy only, so an
// unused block with odd values does not stop the bot.
func (p Params) Validate(name string) error {
	switch name {
	case NameMeanReversion:
		return p.MeanReversion.Validate()
	case NameTrend:
		return p.Trend.Validate()
	case NameGrid:
		return p.Grid.Validate()
	case NameScripted:
		return nil
	}
	return fmt.Errorf("strategy %q: unknown name; allowed: %s, %s, %s", name, NameMeanReversion, NameTrend, NameGrid)
}

// Strategy names as they appear in config.
const (
	NameMeanReversion = "meanReversion"
	NameTrend         = "trend"
	NameGrid          = "grid"
	NameScripted      = "scripted"
)

// Sizing turns equity into order quantities. It comes from the trading
// section of the config (trading.baseSizeRatio, trading.leverage), not from
// a strategy block, because every strategy sizes the same way.
type Sizing struct {
	// BaseSizeRatio is the order notional as a fraction of equity
	// (0.1 = each order is worth 10% of equity). Must be in (0, 10].
	BaseSizeRatio fixed.Value `yaml:"baseSizeRatio"`
	// Leverage caps one order's notional at equity × Leverage. Must be >= 1.
	Leverage fixed.Value `yaml:"leverage"`
}

// DefaultSizing is 10% of equity per order at 1x leverage.
func DefaultSizing() Sizing {
	return Sizing{BaseSizeRatio: fixed.MustParse("0.1"), Leverage: fixed.One}
}

// Validate names the offending field.
func (s Sizing) Validate() error {
	if s.BaseSizeRatio <= 0 || s.BaseSizeRatio > fixed.FromInt(10) {
		return fmt.Errorf("baseSizeRatio %s: must be > 0 and <= 10 (fraction of equity per order)", s.BaseSizeRatio)
	}
	if s.Leverage < fixed.One {
		return fmt.Errorf("leverage %s: must be >= 1", s.Leverage)
	}
	return nil
}

// MeanReversionParams configures the order-flow mean-reversion strategy.
//
// It enters against a stretched price: long when the last trade is at least
// EntryZ standard deviations below the rolling VWAP (short: above), and only
// when the top-BookLevels order-book imbalance is at least MinBookImbalance
// and the taker-flow imbalance over TickWindow is at least MinTickImbalance
// in the direction of the trade. It exits when price reverts to within ExitZ
// deviations of VWAP, or at StopLoss / TakeProfit (fractions of entry).
//
// Defaults: window 60s, maxWindowTrades 4096, minTrades 50, entryZ 2,
// exitZ 0, bookLevels 5, minBookImbalance 0.1, tickWindow 10s,
// minTickImbalance 0, stopLoss 0.005, takeProfit 0.01, allowShort true.
type MeanReversionParams struct {
	// Window is the rolling window of trades for VWAP and deviation (> 0).
	Window time.Duration `yaml:"window"`
	// MaxWindowTrades caps the trades kept in the window (>= MinTrades);
	// the oldest are dropped first. Bounds memory on busy markets.
	MaxWindowTrades int `yaml:"maxWindowTrades"`
	// MinTrades is the warm-up: no entries with fewer trades in the window (>= 2).
	MinTrades int `yaml:"minTrades"`
	// EntryZ is the deviation from VWAP, in standard deviations, that
	// triggers an entry (> 0).
	EntryZ fixed.Value `yaml:"entryZ"`
	// ExitZ: exit once price is within ExitZ deviations of VWAP on the
	// entry side (0 = back at VWAP). Must be >= 0 and < EntryZ.
	ExitZ fixed.Value `yaml:"exitZ"`
	// BookLevels is N for the top-N bid-vs-ask quantity imbalance (1..50).
	BookLevels int `yaml:"bookLevels"`
	// MinBookImbalance in [-1, 1]: (bidQty-askQty)/(bidQty+askQty) must be
	// at least this for a long (and at most -this for a short).
	MinBookImbalance fixed.Value `yaml:"minBookImbalance"`
	// TickWindow is the window for taker buy-vs-sell volume (> 0, <= Window).
	TickWindow time.Duration `yaml:"tickWindow"`
	// MinTickImbalance in [-1, 1]: (buyVol-sellVol)/(buyVol+sellVol) over
	// TickWindow must be at least this for a long (at most -this for a short).
	MinTickImbalance fixed.Value `yaml:"minTickImbalance"`
	// StopLoss is the adverse move, as a fraction of entry, that closes the
	// position (0 < stopLoss < 1).
	StopLoss fixed.Value `yaml:"stopLoss"`
	// TakeProfit is the favourable move, as a fraction of entry, that closes
	// the position (> 0).
	TakeProfit fixed.Value `yaml:"takeProfit"`
	// AllowShort enables short entries.
	AllowShort bool `yaml:"allowShort"`
}

// DefaultMeanReversionParams returns the documented defaults.
func DefaultMeanReversionParams() MeanReversionParams {
	return MeanReversionParams{
		Window:           60 * time.Second,
		MaxWindowTrades:  4096,
		MinTrades:        50,
		EntryZ:           fixed.FromInt(2),
		ExitZ:            0,
		BookLevels:       5,
		MinBookImbalance: fixed.MustParse("0.1"),
		TickWindow:       10 * time.Second,
		MinTickImbalance: 0,
		StopLoss:         fixed.MustParse("0.005"),
		TakeProfit:       fixed.MustParse("0.01"),
		AllowShort:       true,
	}
}

// Validate names the offending field and what is allowed.
func (p MeanReversionParams) Validate() error {
	var errs []error
	bad := func(field string, v any, allowed string) {
		errs = append(errs, fmt.Errorf("strategy.meanReversion.%s %v: must be %s", field, v, allowed))
	}
	if p.Window <= 0 {
		bad("window", p.Window, "> 0 (e.g. 60s)")
	}
	if p.MinTrades < 2 {
		bad("minTrades", p.MinTrades, ">= 2")
	}
	if p.MaxWindowTrades < p.MinTrades || p.MaxWindowTrades > 1<<20 {
		bad("maxWindowTrades", p.MaxWindowTrades, ">= minTrades and <= 1048576")
	}
	if p.EntryZ <= 0 {
		bad("entryZ", p.EntryZ, "> 0 standard deviations")
	}
	if p.ExitZ < 0 || p.ExitZ >= p.EntryZ {
		bad("exitZ", p.ExitZ, ">= 0 and < entryZ")
	}
	if p.BookLevels < 1 || p.BookLevels > 50 {
		bad("bookLevels", p.BookLevels, "between 1 and 50")
	}
	if p.MinBookImbalance < -fixed.One || p.MinBookImbalance > fixed.One {
		bad("minBookImbalance", p.MinBookImbalance, "between -1 and 1")
	}
	if p.TickWindow <= 0 || p.TickWindow > p.Window {
		bad("tickWindow", p.TickWindow, "> 0 and <= window")
	}
	if p.MinTickImbalance < -fixed.One || p.MinTickImbalance > fixed.One {
		bad("minTickImbalance", p.MinTickImbalance, "between -1 and 1")
	}
	if p.StopLoss <= 0 || p.StopLoss >= fixed.One {
		bad("stopLoss", p.StopLoss, "> 0 and < 1 (fraction of entry price)")
	}
	if p.TakeProfit <= 0 {
		bad("takeProfit", p.TakeProfit, "> 0 (fraction of entry price)")
	}
	return errors.Join(errs...)
}

// TrendParams configures the EMA-crossover trend follower.
//
// On each closed candle of Interval it updates a FastPeriod and a
// SlowPeriod EMA of closes (seeded with the simple mean of the first
// period) and a Wilder ATR over ATRPeriod. When the fast EMA crosses above
// the slow one it goes long (below: short, if AllowShort), closing any
// opposite position first. The stop sits ATRMultiplier × ATR from entry;
// with Trailing it follows the best close since entry. Stops are checked on
// every trade and every candle.
//
// Defaults: interval 5m, fastPeriod 12, slowPeriod 26, atrPeriod 14,
// atrMultiplier 2, trailing true, allowShort true.
type TrendParams struct {
	// Interval is the candle interval the strategy trades on (>= 1s).
	Interval time.Duration `yaml:"interval"`
	// FastPeriod is the fast EMA period in candles (>= 1, < slowPeriod).
	FastPeriod int `yaml:"fastPeriod"`
	// SlowPeriod is the slow EMA period in candles (> fastPeriod, <= 1000).
	SlowPeriod int `yaml:"slowPeriod"`
	// ATRPeriod is the ATR period in candles (1..1000).
	ATRPeriod int `yaml:"atrPeriod"`
	// ATRMultiplier is the stop distance in ATRs (> 0).
	ATRMultiplier fixed.Value `yaml:"atrMultiplier"`
	// Trailing moves the stop with the best close since entry.
	Trailing bool `yaml:"trailing"`
	// AllowShort enables short entries on a downward cross.
	AllowShort bool `yaml:"allowShort"`
}

// DefaultTrendParams returns the documented defaults.
func DefaultTrendParams() TrendParams {
	return TrendParams{
		Interval:      5 * time.Minute,
		FastPeriod:    12,
		SlowPeriod:    26,
		ATRPeriod:     14,
		ATRMultiplier: fixed.FromInt(2),
		Trailing:      true,
		AllowShort:    true,
	}
}

// Validate names the offending field and what is allowed.
func (p TrendParams) Validate() error {
	var errs []error
	bad := func(field string, v any, allowed string) {
		errs = append(errs, fmt.Errorf("strategy.trend.%s %v: must be %s", field, v, allowed))
	}
	if p.Interval < time.Second {
		bad("interval", p.Interval, ">= 1s (e.g. 1m, 5m, 1h)")
	}
	if p.FastPeriod < 1 || p.FastPeriod >= p.SlowPeriod {
		bad("fastPeriod", p.FastPeriod, ">= 1 and < slowPeriod")
	}
	if p.SlowPeriod < 2 || p.SlowPeriod > 1000 {
		bad("slowPeriod", p.SlowPeriod, "between 2 and 1000")
	}
	if p.ATRPeriod < 1 || p.ATRPeriod > 1000 {
		bad("atrPeriod", p.ATRPeriod, "between 1 and 1000")
	}
	if p.ATRMultiplier <= 0 {
		bad("atrMultiplier", p.ATRMultiplier, "> 0")
	}
	return errors.Join(errs...)
}

// GridParams configures the passive grid / market maker.
//
// It quotes Levels POST_ONLY limit buys below and Levels sells above a
// centre, level i at centre × (1 ∓ i × Spacing). The centre is the mid price
// when the grid is (re)built, shifted against inventory: with inventory
// ratio r = position notional / MaxPositionNotional (in [-1, 1]) the centre
// moves by -r × SkewFactor × Spacing, so a long grid sells cheaper and buys
// lower. When mid drifts from the centre by RecenterDrift or more, all grid
// orders are cancelled and the grid is rebuilt. No buys are quoted when a
// fill could push the position past MaxPositionQty / MaxPositionNotional
// (no sells, mirrored). Each level is sized with the shared Sizing.
//
// Defaults: levels 3, spacing 0.001, recenterDrift 0.002,
// maxPositionNotional 1000, maxPositionQty 0 (notional limit only),
// skewFactor 1.
type GridParams struct {
	// Levels is the number of quotes per side (1..50).
	Levels int `yaml:"levels"`
	// Spacing is the distance between levels as a fraction of the centre
	// price (> 0 and < 0.1).
	Spacing fixed.Value `yaml:"spacing"`
	// RecenterDrift is the |mid-centre|/centre that triggers a rebuild (> 0).
	RecenterDrift fixed.Value `yaml:"recenterDrift"`
	// MaxPositionNotional caps |position| × price in quote currency (> 0).
	MaxPositionNotional fixed.Value `yaml:"maxPositionNotional"`
	// MaxPositionQty caps |position| in base units; 0 = notional cap only.
	MaxPositionQty fixed.Value `yaml:"maxPositionQty"`
	// SkewFactor scales the inventory skew, in levels (0 = no skew, <= Levels).
	SkewFactor fixed.Value `yaml:"skewFactor"`
}

// DefaultGridParams returns the documented defaults.
func DefaultGridParams() GridParams {
	return GridParams{
		Levels:              3,
		Spacing:             fixed.MustParse("0.001"),
		RecenterDrift:       fixed.MustParse("0.002"),
		MaxPositionNotional: fixed.FromInt(1000),
		MaxPositionQty:      0,
		SkewFactor:          fixed.One,
	}
}

// Validate names the offending field and what is allowed.
func (p GridParams) Validate() error {
	var errs []error
	bad := func(field string, v any, allowed string) {
		errs = append(errs, fmt.Errorf("strategy.grid.%s %v: must be %s", field, v, allowed))
	}
	if p.Levels < 1 || p.Levels > 50 {
		bad("levels", p.Levels, "between 1 and 50")
	}
	if p.Spacing <= 0 || p.Spacing >= fixed.MustParse("0.1") {
		bad("spacing", p.Spacing, "> 0 and < 0.1 (fraction of price)")
	}
	if p.RecenterDrift <= 0 {
		bad("recenterDrift", p.RecenterDrift, "> 0 (fraction of price)")
	}
	if p.MaxPositionNotional <= 0 {
		bad("maxPositionNotional", p.MaxPositionNotional, "> 0 (quote currency)")
	}
	if p.MaxPositionQty < 0 {
		bad("maxPositionQty", p.MaxPositionQty, ">= 0 (0 = notional cap only)")
	}
	if p.SkewFactor < 0 || p.SkewFactor > fixed.FromInt(int64(max(p.Levels, 1))) {
		bad("skewFactor", p.SkewFactor, ">= 0 and <= levels")
	}
	return errors.Join(errs...)
}
