package market

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/trading"
)

// TestTradeWindowMatchesBruteForce checks the incremental sums against a
// recomputation over the trades that should be in the window.
func TestTradeWindowMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const window, capacity = 5 * time.Second, 50
	w := NewTradeWindow(window, capacity)
	var all []trading.Trade
	ts := t0
	for i := range 5000 {
		ts = ts.Add(time.Duration(rng.IntN(300)) * time.Millisecond)
		tr := trading.Trade{Price: fixed.FromInt(60000) + fixed.Value(rng.Int64N(1e11)), Qty: fixed.Value(1 + rng.Int64N(1e8)),
			Side: trading.Side(1 - 2*rng.IntN(2)), Time: ts}
		w.Add(tr)
		all = append(all, tr)
		var in []trading.Trade
		for j := len(all) - 1; j >= 0 && len(in) < capacity && all[j].Time.After(ts.Add(-window)); j-- {
			in = append(in, all[j])
		}
		var buy, sell fixed.Value
		var sq, spq float64
		for _, x := range in {
			if x.Side == trading.Buy {
				buy += x.Qty
			} else {
				sell += x.Qty
			}
			sq += x.Qty.Float64()
			spq += x.Qty.Float64() * x.Price.Float64()
		}
		vwap := spq / sq
		var v float64
		for _, x := range in {
			v += x.Qty.Float64() * (x.Price.Float64() - vwap) * (x.Price.Float64() - vwap)
		}
		sd := math.Sqrt(v / sq)
		if w.Count() != len(in) || w.BuyVolume() != buy || w.SellVolume() != sell ||
			math.Abs(w.VWAP()-vwap) > 1e-6 || (len(in) > 1 && math.Abs(w.StdDev()-sd) > 1e-6*max(1, sd)) {
			t.Fatalf("step %d: n %d/%d buy %s/%s vwap %v/%v sd %v/%v", i, w.Count(), len(in), w.BuyVolume(), buy, w.VWAP(), vwap, w.StdDev(), sd)
		}
	}
}
