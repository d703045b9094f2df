package marketdata

import (
	"context"
	"fmt"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/instrument"
	"github.com/bitrader/bitrader/internal/trading"
)

// GenerateKlines runs a generator from cfg.Start to cfg.End (which must be
// set) and passes each kline of the given interval, built from its trades,
// to emit. Trades at or after End are dropped so the last candle is whole
// when End is on an interval boundary.
func GenerateKlines(ctx context.Context, cfg GeneratorConfig, interval time.Duration, emit func(trading.Kline) error) error {
	if cfg.End.IsZero() {
		return fmt.Errorf("generate klines %s: End is required", cfg.Symbol)
	}
	g, err := NewGenerator(cfg)
	if err != nil {
		return err
	}
	agg, err := NewAggregator(cfg.Symbol, interval)
	if err != nil {
		return err
	}
	var closed []trading.Kline
	n := 0
	for ev := range g.All() {
		if n++; n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("generate klines %s: %w", cfg.Symbol, err)
			}
		}
		if ev.Kind != KindTrade || !ev.Trade.Time.Before(cfg.End) {
			continue
		}
		if closed, err = agg.Add(closed[:0], ev.Trade); err != nil {
			return err
		}
		for _, k := range closed {
			if err := emit(k); err != nil {
				return err
			}
		}
	}
	if k, ok := agg.Flush(); ok {
		return emit(k)
	}
	return nil
}

// SampleConfig is the generator configuration behind testdata/sample:
// BTCUSDT from 42000 USDT, seed 20240101, three days from 2024-01-01 UTC.
// Changing it, or the generator, changes the sample files; the package's
// tests say how to regenerate them.
func SampleConfig() GeneratorConfig {
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	return GeneratorConfig{
		Symbol:     "BTCUSDT",
		Spec:       instrument.Default("BTCUSDT"),
		StartPrice: fixed.FromInt(42000),
		Seed:       20240101,
		Start:      start,
		End:        start.Add(72 * time.Hour),
		Step:       time.Second,
		Depth:      15,
	}
}
