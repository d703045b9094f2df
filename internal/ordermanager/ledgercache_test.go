package ordermanager

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/trading"
)

// TestEquityCacheFollowsLedger checks the cached totals change with every
// ledger change (fill, mark on an open position, funding) and only then.
func TestEquityCacheFollowsLedger(t *testing.T) {
	r := newRig(t)
	fill := func(side trading.Side, qty, price, fee string) {
		t.Helper()
		in := limitBuy(qty, price)
		in.Side = side
		got, err := r.m.Submit(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.m.OnOrderReport(Report{ClientID: got.ClientID, Status: trading.StatusFilled,
			FilledQty: fixed.MustParse(qty), AvgPrice: fixed.MustParse(price), Fee: fixed.MustParse(fee)}); err != nil {
			t.Fatal(err)
		}
	}
	check := func(step, want string) {
		t.Helper()
		if got := r.m.Equity(); got != fixed.MustParse(want) {
			t.Fatalf("%s: equity %s, want %s", step, got, want)
		}
		if got := r.m.PnL().Equity; got != fixed.MustParse(want) {
			t.Fatalf("%s: PnL().Equity %s, want %s", step, got, want)
		}
	}
	check("start", "1000")
	r.m.OnMarkEquity("BTCUSDT", fixed.FromInt(50000)) // no position yet: nothing moves
	check("mark, flat", "1000")
	fill(trading.Buy, "0.02", "50000", "0.4") // 1000 - 0.4
	check("buy", "999.6")
	r.m.OnMarkEquity("BTCUSDT", fixed.FromInt(51000)) // +1000*0.02 = +20
	check("mark up", "1019.6")
	if got := r.m.OnMarkEquity("BTCUSDT", fixed.FromInt(50500)); got != fixed.MustParse("1009.6") {
		t.Fatalf("OnMarkEquity returned %s, want 1009.6", got)
	}
	check("OnMarkEquity down", "1009.6")
	eqs := make([]fixed.Value, 3)
	r.m.OnMarks("BTCUSDT", []fixed.Value{fixed.FromInt(50000), fixed.FromInt(52000), fixed.FromInt(50500)}, eqs)
	if want := []fixed.Value{fixed.MustParse("999.6"), fixed.MustParse("1039.6"), fixed.MustParse("1009.6")}; !slices.Equal(eqs, want) {
		t.Fatalf("OnMarks equities %v, want %v", eqs, want)
	}
	check("OnMarks", "1009.6")
	r.m.OnMarkEquity("BTCUSDT", fixed.FromInt(51000))
	if err := r.m.OnFunding("BTCUSDT", fixed.MustParse("-1.5")); err != nil {
		t.Fatal(err)
	}
	check("funding", "1018.1")
	fill(trading.Sell, "0.02", "52000", "0.4")     // realised +40, fee 0.4, flat: unrealised 0
	check("close", "1037.7")                       // 1018.1 - 20 unrealised + 40 realised - 0.4 fee
	r.m.OnMarkEquity("BTCUSDT", fixed.FromInt(10)) // flat: the mark does not matter
	check("mark, flat again", "1037.7")
}

// TestLedgerSnapshotPolicy: with LedgerSnapshotEvery 0 every fill is in the
// store at once; negative waits for FlushLedger or Reconcile; positive
// writes at most once per interval of event time.
func TestLedgerSnapshotPolicy(t *testing.T) {
	for _, tc := range []struct {
		name  string
		every time.Duration
		// booked fees seen after a restart: right after the 2nd fill (no
		// flush, time advanced by 1s between fills), then after FlushLedger
		wantNoFlush, wantFlushed string
	}{
		{"every fill", 0, "0.6", "0.6"},
		{"only at flush", -1, "0", "0.6"},
		{"at most every 10s", 10 * time.Second, "0.4", "0.6"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, flush := range []bool{false, true} {
				r := newRig(t)
				r.cfg.LedgerSnapshotEvery = tc.every
				r.open()
				for i, fee := range []string{"0.4", "0.2"} {
					got, err := r.m.Submit(context.Background(), limitBuy("0.01", "50000"))
					if err != nil {
						t.Fatal(err)
					}
					if err := r.m.OnOrderReport(Report{ClientID: got.ClientID, Status: trading.StatusFilled,
						FilledQty: fixed.MustParse("0.01"), AvgPrice: fixed.FromInt(50000), Fee: fixed.MustParse(fee)}); err != nil {
						t.Fatalf("fill %d: %v", i, err)
					}
					r.clk.Advance(time.Second)
				}
				want := tc.wantNoFlush
				if flush {
					want = tc.wantFlushed
					if err := r.m.FlushLedger(); err != nil {
						t.Fatal(err)
					}
				}
				r.open() // restart
				var fees fixed.Value
				if ps := r.m.Positions(); len(ps) > 0 {
					fees = ps[0].Fees
				}
				if fees != fixed.MustParse(want) {
					t.Fatalf("flush=%v: fees after restart %s, want %s", flush, fees, want)
				}
			}
		})
	}
}

// TestEquityCacheExactOverManyMarks: the cache updated mark by mark stays
// equal to a fresh sum of the ledger, to the last unit, with awkward
// prices and two symbols (one short).
func TestEquityCacheExactOverManyMarks(t *testing.T) {
	r := newRig(t)
	for _, f := range []struct {
		sym  string
		side trading.Side
	}{{"BTCUSDT", trading.Buy}, {"ETHUSDT", trading.Sell}} {
		in := limitBuy("0.0123", "101.37")
		in.Symbol, in.Side = f.sym, f.side
		got, err := r.m.Submit(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.m.OnOrderReport(Report{ClientID: got.ClientID, Status: trading.StatusFilled,
			FilledQty: in.Qty, AvgPrice: in.Price, Fee: fixed.MustParse("0.00000007")}); err != nil {
			t.Fatal(err)
		}
	}
	_ = r.m.Equity() // cache warm: the marks below take the incremental path
	for i := range 1000 {
		sym := "BTCUSDT"
		if i%3 == 0 {
			sym = "ETHUSDT"
		}
		r.m.OnMarkEquity(sym, fixed.New(int64(10000+(i*7919)%997), 2)+fixed.New(int64(i%7), 8))
		r.m.mu.Lock()
		fresh := r.m.ledger.Totals()
		r.m.mu.Unlock()
		if got := r.m.PnL(); got != fresh {
			t.Fatalf("mark %d: cached %+v, fresh %+v", i, got, fresh)
		}
	}
}
