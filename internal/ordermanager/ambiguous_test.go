package ordermanager

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/trading"
)

// openFor reports whether the strategy's view (AppendOpenOrders, which the
// engine's Core builds the strategy's open orders from) holds cid.
func openFor(m *Manager, cid string) (OrderRecord, bool) {
	for _, o := range m.AppendOpenOrders(nil) {
		if o.ClientID == cid {
			return o, true
		}
	}
	return OrderRecord{}, false
}

// An order whose place call was ambiguous is not given up as never sent
// after the short LookupGrace: it stays open for the strategy (so the same
// intent is not sent again) until AmbiguousLookupGrace. If it turns up in
// the meantime it is simply the order, with one placement on the venue.
func TestAmbiguousOrderLongGraceAndStaysOpen(t *testing.T) {
	for _, tc := range []struct {
		name       string
		grace      time.Duration // Config.AmbiguousLookupGrace; 0 = default
		turnsUpAt  time.Duration // when the venue shows the order; 0 = never
		wantSettle time.Duration // when it is settled as never sent; 0 = never
	}{
		{name: "default grace, never found", wantSettle: 2 * time.Minute},
		{name: "configured grace", grace: 30 * time.Second, wantSettle: 30 * time.Second},
		{name: "indexed late", turnsUpAt: 90 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			r.cfg.AmbiguousLookupGrace = tc.grace
			r.open()
			r.v.mode = placeTimeout
			got, err := r.m.Submit(context.Background(), limitBuy("0.01", "50000"))
			if !errors.Is(err, ErrAmbiguous) || !got.Ambiguous {
				t.Fatalf("submit = %+v, %v; want ambiguous", got, err)
			}
			r.v.mode = placeOK
			var elapsed time.Duration
			for step := 0; step < 30; step++ {
				res, _ := r.m.Reconcile(context.Background())
				o, open := openFor(r.m, got.ClientID)
				settled := res.SettledNotSent == 1
				switch {
				case tc.wantSettle != 0 && elapsed >= tc.wantSettle:
					if !settled || open {
						t.Fatalf("at %v: settled=%v open=%v, want settled and gone", elapsed, settled, open)
					}
					return
				case tc.turnsUpAt != 0 && elapsed >= tc.turnsUpAt:
					if settled || !open || o.Status != trading.StatusNew || o.ExchangeID != "late" || len(res.Drifts) != 0 {
						t.Fatalf("at %v: %+v open=%v res=%+v; want adopted as New without drift", elapsed, o, open, res)
					}
					if n := r.v.placeCount(); n != 1 {
						t.Fatalf("places = %d, want 1", n)
					}
					return
				default:
					if settled || !open || res.StillAmbiguous != 1 {
						t.Fatalf("at %v (within grace): settled=%v open=%v res=%+v; want still ambiguous and open", elapsed, settled, open, res)
					}
					if o.Status != trading.StatusSubmitted || !o.Ambiguous || o.Intent.Qty != fixed.MustParse("0.01") {
						t.Fatalf("strategy sees %+v", o)
					}
				}
				r.clk.Advance(10 * time.Second)
				elapsed += 10 * time.Second
				if tc.turnsUpAt != 0 && elapsed == tc.turnsUpAt {
					r.v.add(Report{ClientID: got.ClientID, OrderID: "late", Symbol: "BTCUSDT", Side: trading.Buy, Type: trading.Limit,
						Qty: fixed.MustParse("0.01"), Price: fixed.FromInt(50000), Status: trading.StatusNew})
				}
			}
			t.Fatal("loop ended without a verdict")
		})
	}
}

// A Pending order restored after a crash (its place outcome was never seen,
// Ambiguous unset) keeps the short LookupGrace: a crash is not the exchange
// under stress, and the restart itself took longer than indexing does.
func TestRestoredPendingKeepsShortGrace(t *testing.T) {
	r := newRig(t)
	r.cfg.AmbiguousLookupGrace = time.Hour
	pending, err := r.j.CreateOrder("bot1", func(seq uint64) (OrderRecord, error) {
		return OrderRecord{ClientID: FormatClientID("bot1", 1, seq), Epoch: 1, Seq: seq,
			Intent: limitBuy("0.01", "50000"), Status: trading.StatusPending, Created: t0, Updated: t0}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r.clk.Advance(10 * time.Second)
	r.open()
	res, _ := r.m.Reconcile(context.Background())
	if res.SettledNotSent != 1 {
		t.Fatalf("restored pending %s not settled after LookupGrace: %+v", pending.ClientID, res)
	}
}
