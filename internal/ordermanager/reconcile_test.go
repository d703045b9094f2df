package ordermanager

import (
	"context"
	"testing"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/trading"
)

// raceVenue is a fakeVenue whose account changes at chosen points of a
// reconciliation, as a live exchange's does between two REST calls.
type raceVenue struct {
	*fakeVenue
	afterList func()                      // once, after the first all-symbols listing
	positions func(call int, before bool) // around every Positions call (1-based)
	calls     int
}

func (v *raceVenue) OpenOrders(ctx context.Context, symbol string) ([]Report, error) {
	out, err := v.fakeVenue.OpenOrders(ctx, symbol)
	if symbol == "" && v.afterList != nil {
		f := v.afterList
		v.afterList = nil
		f()
	}
	return out, err
}

func (v *raceVenue) Positions(ctx context.Context) ([]PositionReport, error) {
	v.calls++
	if v.positions != nil {
		v.positions(v.calls, true)
	}
	out, err := v.fakeVenue.Positions(ctx)
	if v.positions != nil {
		v.positions(v.calls, false)
	}
	return out, err
}

// fillOnVenue moves an order's cumulative fill on the venue to filled (at
// price) and sets the venue's position in its symbol to pos; it returns the
// push the exchange would send for it.
func (v *fakeVenue) fillOnVenue(cid, filled, price, pos string) Report {
	v.mu.Lock()
	defer v.mu.Unlock()
	r := v.orders[cid]
	r.FilledQty, r.AvgPrice = fixed.MustParse(filled), fixed.MustParse(price)
	r.Status = trading.StatusPartiallyFilled
	if r.FilledQty >= r.Qty {
		r.Status = trading.StatusFilled
	}
	v.setPositionLocked(r.Symbol, pos, price)
	return *r
}

func (v *fakeVenue) setPositionLocked(symbol, qty, entry string) {
	for i := range v.positions {
		if v.positions[i].Symbol == symbol {
			v.positions[i].Qty, v.positions[i].AvgEntry = fixed.MustParse(qty), fixed.MustParse(entry)
			return
		}
	}
	v.positions = append(v.positions, PositionReport{Symbol: symbol, Qty: fixed.MustParse(qty), AvgEntry: fixed.MustParse(entry)})
}

func newRaceRig(t *testing.T) (*rig, *raceVenue) {
	t.Helper()
	r := newRig(t)
	rv := &raceVenue{fakeVenue: r.v}
	m, err := New(r.cfg, rv, r.j)
	if err != nil {
		t.Fatal(err)
	}
	r.m = m
	return r, rv
}

func (r *rig) localQty(symbol string) fixed.Value {
	for _, p := range r.m.Positions() {
		if p.Symbol == symbol {
			return p.Qty
		}
	}
	return 0
}

func (r *rig) venueQty(symbol string) fixed.Value {
	ps, _ := r.v.Positions(context.Background())
	for _, p := range ps {
		if p.Symbol == symbol {
			return p.Qty
		}
	}
	return 0
}

func driftsOf(res ReconcileResult, kind DriftKind) int {
	n := 0
	for _, d := range res.Drifts {
		if d.Kind == kind {
			n++
		}
	}
	return n
}

// The reviewer's scenario: a resting limit order fills between the
// open-orders listing and the positions read; its push is queued behind the
// reconciliation. No unexplained drift, the fill is booked once, and the
// local position ends equal to the venue's.
func TestReconcileFillDuringReconcileIsNotDrift(t *testing.T) {
	r, rv := newRaceRig(t)
	got, err := r.m.Submit(context.Background(), limitBuy("0.01", "50000"))
	if err != nil {
		t.Fatal(err)
	}
	var queued []Report
	rv.afterList = func() { queued = append(queued, r.v.fillOnVenue(got.ClientID, "0.01", "50000", "0.01")) }

	res, err := r.m.Reconcile(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Unexplained() || len(res.Drifts) != 0 {
		t.Fatalf("fill during reconcile reported as drift: %+v", res.Drifts)
	}
	if st := r.m.Status(); st.Drift.Unexplained != 0 {
		t.Fatalf("drift totals %+v", st.Drift)
	}
	for _, p := range queued { // the push that waited for the engine
		if err := r.m.OnOrderReport(p); err != nil {
			t.Fatal(err)
		}
	}
	if l, v := r.localQty("BTCUSDT"), r.venueQty("BTCUSDT"); l != v || l != fixed.MustParse("0.01") {
		t.Fatalf("local %s, venue %s: want both 0.01 (fill booked once)", l, v)
	}
	o, _ := r.m.Order(got.ClientID)
	mustStatus(t, o, trading.StatusFilled)
	if res, _ := r.m.Reconcile(context.Background()); len(res.Drifts) != 0 {
		t.Fatalf("next reconcile: %+v", res.Drifts)
	}
	if n := r.v.placeCount(); n != 1 {
		t.Fatalf("places = %d", n)
	}
}

// A grid always has resting orders; real drift on its symbol (a trade by
// hand) must still be caught. When a grid order also fills during the
// reconciliation, that fill is booked once and only the rest is drift; the
// venue's position is adopted and the late push adds nothing.
func TestReconcileGridDriftStillDetected(t *testing.T) {
	for _, tc := range []struct {
		name      string
		fillGrid  bool   // a grid order partially fills during the run
		venuePos  string // the venue's position after the hand trade
		wantLocal string // ledger before adoption, as reported in the drift
	}{
		{"hand trade only", false, "0.005", "0"},
		{"hand trade and a grid fill", true, "0.015", "0.01"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, rv := newRaceRig(t)
			var grid []OrderRecord
			for _, px := range []string{"49000", "48000", "47000"} {
				o, err := r.m.Submit(context.Background(), limitBuy("0.02", px))
				if err != nil {
					t.Fatal(err)
				}
				grid = append(grid, o)
			}
			var queued []Report
			rv.afterList = func() {
				if tc.fillGrid {
					queued = append(queued, r.v.fillOnVenue(grid[0].ClientID, "0.01", "49000", tc.venuePos))
					return
				}
				r.v.mu.Lock()
				r.v.setPositionLocked("BTCUSDT", tc.venuePos, "50000")
				r.v.mu.Unlock()
			}
			res, _ := r.m.Reconcile(context.Background())
			if !res.Unexplained() || driftsOf(res, DriftPosition) != 1 || len(res.Drifts) != 1 {
				t.Fatalf("drift not detected on a symbol with resting orders: %+v", res.Drifts)
			}
			if d := res.Drifts[0]; d.Local != fixed.MustParse(tc.wantLocal) || d.Venue != fixed.MustParse(tc.venuePos) {
				t.Fatalf("drift = %+v, want local %s venue %s", d, tc.wantLocal, tc.venuePos)
			}
			for _, p := range queued {
				if err := r.m.OnOrderReport(p); err != nil {
					t.Fatal(err)
				}
			}
			if l, v := r.localQty("BTCUSDT"), r.venueQty("BTCUSDT"); l != v {
				t.Fatalf("local %s != venue %s after the late push (double booked?)", l, v)
			}
			if open := r.m.OpenOrders(); len(open) != 3 {
				t.Fatalf("grid orders open = %d, want 3", len(open))
			}
			if res, _ := r.m.Reconcile(context.Background()); len(res.Drifts) != 0 {
				t.Fatalf("drift counted twice: %+v", res.Drifts)
			}
		})
	}
}

// Fills keep landing while the position is being checked: the mismatch is
// in flight, not drift, and the venue's (already stale) position is not
// adopted. Once the venue is quiet the books agree.
func TestReconcileFillsStillLandingAreInFlight(t *testing.T) {
	r, rv := newRaceRig(t)
	got, err := r.m.Submit(context.Background(), limitBuy("0.03", "50000"))
	if err != nil {
		t.Fatal(err)
	}
	var queued []Report
	fill := func(q string) { queued = append(queued, r.v.fillOnVenue(got.ClientID, q, "50000", q)) }
	rv.positions = func(call int, before bool) {
		switch {
		case call == 1 && before:
			fill("0.01")
		case call == 2 && before:
			fill("0.02")
		case call == 2 && !before:
			fill("0.03")
		}
	}
	res, err := r.m.Reconcile(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Unexplained() || len(res.Drifts) != 1 || res.Drifts[0].Kind != DriftPositionInFlight {
		t.Fatalf("drifts = %+v, want one in-flight", res.Drifts)
	}
	for _, p := range queued {
		if err := r.m.OnOrderReport(p); err != nil {
			t.Fatal(err)
		}
	}
	if l := r.localQty("BTCUSDT"); l != fixed.MustParse("0.03") {
		t.Fatalf("local = %s, want 0.03", l)
	}
	rv.positions = nil
	if res, _ := r.m.Reconcile(context.Background()); len(res.Drifts) != 0 {
		t.Fatalf("quiet reconcile: %+v", res.Drifts)
	}
}
