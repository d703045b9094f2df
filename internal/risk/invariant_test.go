package risk

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/trading"
)

// TestApprovedStaysWithinLimits: whatever the state, an approved intent
// that adds exposure respects every size limit, and no decision exceeds
// the requested quantity.
func TestApprovedStaysWithinLimits(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	l := testLimits()
	l.MaxOrdersPerMinute = 6000
	l.MaxDailyLoss, l.MaxDrawdown = d("0.9"), d("0.9") // equity varies 9000..20000: keep breakers out of the way
	g := newGate(t, l)
	px := d("100")
	approved := 0
	refused := map[Reason]int{}
	defer func() {
		if approved < 5000 {
			t.Errorf("only %d approvals: the invariant was barely exercised; refusals %v", approved, refused)
		}
	}()
	for i := range 20000 {
		at := now.Add(time.Duration(i) * time.Second)
		st := AccountState{Equity: fixed.FromInt(rng.Int64N(20000)), Price: px, MarketData: at,
			Position: fixed.FromInt(rng.Int64N(120) - 60), TotalNotional: fixed.FromInt(rng.Int64N(12000))}
		st.Equity = max(st.Equity, fixed.FromInt(9000))
		side := trading.Side(1 - 2*rng.IntN(2))
		in := trading.Intent{Symbol: "X", Side: side, Type: trading.Market, Qty: fixed.Value(1 + rng.Int64N(40e8))}
		dec := g.Check(at, in, st)
		if dec.Qty > in.Qty || (dec.Approved() != (dec.Qty > 0)) {
			t.Fatalf("case %d: %v for %s", i, dec, in.Qty)
		}
		if !dec.Approved() {
			refused[dec.Reason]++
			continue
		}
		approved++
		newPos := st.Position + dec.Qty.Mul(side.Sign())
		if newPos.Abs() <= st.Position.Abs() && newPos.Sign()*st.Position.Sign() >= 0 {
			continue // pure reduce: exempt
		}
		inc := (newPos.Abs() - st.Position.Abs()).Mul(px)
		if dec.Qty.Mul(px) > l.MaxOrderNotional || newPos.Abs().Mul(px) > l.MaxPositionNotional ||
			st.TotalNotional+inc > l.MaxTotalNotional || st.TotalNotional+inc > st.Equity.Mul(l.MaxLeverage) {
			t.Fatalf("case %d: %v breaks a limit: pos %s -> %s, total %s + %s, equity %s", i, dec, st.Position, newPos, st.TotalNotional, inc, st.Equity)
		}
	}
}
