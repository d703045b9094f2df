package ordermanager

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/trading"
)

func TestSubmitAccepted(t *testing.T) {
	r := newRig(t)
	got, err := r.m.Submit(context.Background(), limitBuy("0.01", "50000"))
	if err != nil {
		t.Fatal(err)
	}
	mustStatus(t, got, trading.StatusNew)
	if got.ClientID != "bot1-1-1" || got.ExchangeID != "ex1" {
		t.Fatalf("ids = %q/%q", got.ClientID, got.ExchangeID)
	}
	if n := r.v.placeCount(); n != 1 {
		t.Fatalf("places = %d", n)
	}
	j, err := r.j.Order(got.ClientID)
	if err != nil || j.Status != trading.StatusNew || j.ExchangeID != "ex1" {
		t.Fatalf("journal = %+v, %v", j, err)
	}
	if st := r.m.Status(); len(st.Recent) != 1 || st.Recent[0].What != "accepted" || st.Recent[0].OrderID != "ex1" || len(st.OpenOrders) != 1 {
		t.Fatalf("status %+v", st)
	}
	got2, _ := r.m.Submit(context.Background(), limitBuy("0.01", "50000"))
	if got2.ClientID != "bot1-1-2" {
		t.Fatalf("second id = %s", got2.ClientID)
	}
}

func TestSubmitRejected(t *testing.T) {
	r := newRig(t)
	obs := &countingObserver{}
	r.cfg.Observer = obs
	r.open()
	r.v.mode = placeReject
	got, err := r.m.Submit(context.Background(), limitBuy("0.0001", "50000"))
	var rej *Rejected
	if !errors.As(err, &rej) || rej.Code != 30016 {
		t.Fatalf("err = %v, want *Rejected 30016", err)
	}
	mustStatus(t, got, trading.StatusRejected)
	if got.RejectCode != 30016 || obs.rejects[30016] != 1 || obs.outcomes[OutcomeRejected] != 1 {
		t.Fatalf("reject not recorded: %+v %+v", got, obs)
	}
	if len(r.m.OpenOrders()) != 0 {
		t.Fatal("rejected order still open")
	}
}

// The reply is lost after the venue accepted: the lookup finds it, and there
// is exactly one order on the venue.
func TestAmbiguousPlaceResolvedByClientID(t *testing.T) {
	r := newRig(t)
	r.v.mode = placeDropReply
	got, err := r.m.Submit(context.Background(), limitBuy("0.01", "50000"))
	if err != nil {
		t.Fatal(err)
	}
	mustStatus(t, got, trading.StatusNew)
	if got.ExchangeID != "ex1" || got.Ambiguous {
		t.Fatalf("not adopted: %+v", got)
	}
	r.v.mode = placeOK
	res, err := r.m.Reconcile(context.Background())
	if err != nil || res.Unexplained() {
		t.Fatalf("reconcile: %+v %v", res, err)
	}
	if n := r.v.placeCount(); n != 1 {
		t.Fatalf("places = %d, want exactly 1", n)
	}
	if open, _ := r.v.OpenOrders(context.Background(), ""); len(open) != 1 {
		t.Fatalf("venue has %d orders", len(open))
	}
}

// The request timed out and never reached the venue: the order stays
// ambiguous, is never resent, and reconciliation settles it after the grace.
func TestAmbiguousNotFoundSettledByReconcile(t *testing.T) {
	r := newRig(t)
	r.v.mode = placeTimeout
	got, err := r.m.Submit(context.Background(), limitBuy("0.01", "50000"))
	if !errors.Is(err, ErrAmbiguous) {
		t.Fatalf("err = %v, want ErrAmbiguous", err)
	}
	mustStatus(t, got, trading.StatusSubmitted)
	if !got.Ambiguous {
		t.Fatal("not flagged ambiguous")
	}
	res, _ := r.m.Reconcile(context.Background())
	if res.StillAmbiguous != 1 || res.SettledNotSent != 0 {
		t.Fatalf("within grace: %+v", res)
	}
	r.clk.Advance(2 * time.Minute) // AmbiguousLookupGrace: the place call was ambiguous
	res, _ = r.m.Reconcile(context.Background())
	if res.SettledNotSent != 1 {
		t.Fatalf("after grace: %+v", res)
	}
	o, _ := r.m.Order(got.ClientID)
	mustStatus(t, o, trading.StatusCanceled)
	if !o.NeverSent {
		t.Fatal("NeverSent not set")
	}
	if n := r.v.placeCount(); n != 1 {
		t.Fatalf("places = %d, want 1 (never resent)", n)
	}
}

// 30042 means already placed: adopt by lookup, do not fail.
func TestDuplicateClientIDAdopted(t *testing.T) {
	r := newRig(t)
	r.v.mode = placeDuplicate
	got, err := r.m.Submit(context.Background(), limitBuy("0.01", "50000"))
	if err != nil {
		t.Fatal(err)
	}
	mustStatus(t, got, trading.StatusNew)
	if got.ExchangeID != "ex1" {
		t.Fatalf("exchange id = %q", got.ExchangeID)
	}
	if n := r.v.placeCount(); n != 1 {
		t.Fatalf("places = %d", n)
	}
}

func TestFencedSubmitNotSent(t *testing.T) {
	r := newRig(t)
	r.fence = false
	_, err := r.m.Submit(context.Background(), limitBuy("0.01", "50000"))
	if !errors.Is(err, ErrFenced) {
		t.Fatalf("err = %v", err)
	}
	if n := r.v.placeCount(); n != 0 {
		t.Fatalf("fenced order sent: %d", n)
	}

	// Leadership lost between journaling and the wire: the fence check right
	// before Place refuses, and the journaled order is settled as not sent.
	calls := 0
	r.cfg.Fence = FenceFunc(func(uint64) bool { calls++; return calls == 1 })
	r.open()
	got, err := r.m.Submit(context.Background(), limitBuy("0.01", "50000"))
	if !errors.Is(err, ErrFenced) {
		t.Fatalf("err = %v", err)
	}
	mustStatus(t, got, trading.StatusCanceled)
	if !got.NeverSent || r.v.placeCount() != 0 {
		t.Fatalf("got %+v, places %d", got, r.v.placeCount())
	}
	if j, _ := r.j.Order(got.ClientID); j.Status != trading.StatusCanceled {
		t.Fatalf("journal = %s", j.Status)
	}
}

// Crash after the journal write but before the send: on restart,
// reconciliation looks the id up, does not find it, settles it as never
// sent, and nothing is placed.
func TestCrashBeforeSendNoDuplicate(t *testing.T) {
	r := newRig(t)
	pending, err := r.j.CreateOrder("bot1", func(seq uint64) (OrderRecord, error) {
		return OrderRecord{ClientID: FormatClientID("bot1", 1, seq), Epoch: 1, Seq: seq,
			Intent: limitBuy("0.01", "50000"), Status: trading.StatusPending, Created: t0, Updated: t0}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r.clk.Advance(time.Minute)
	r.open() // restart
	if open := r.m.OpenOrders(); len(open) != 1 || open[0].ClientID != pending.ClientID {
		t.Fatalf("restored open = %+v", open)
	}
	res, err := r.m.Reconcile(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.SettledNotSent != 1 || r.v.placeCount() != 0 {
		t.Fatalf("res %+v, places %d", res, r.v.placeCount())
	}
	// The next order gets a fresh id: the sequence survived the restart.
	got, err := r.m.Submit(context.Background(), limitBuy("0.01", "50000"))
	if err != nil || got.ClientID != "bot1-1-2" {
		t.Fatalf("next = %+v, %v", got, err)
	}
	if r.v.placesFor(pending.ClientID) != 0 {
		t.Fatal("crashed intent was sent")
	}
}

// Crash after the send but before the journal update: the venue has the
// order, the journal says Pending. Reconciliation adopts it, no resend.
func TestCrashAfterSendAdopted(t *testing.T) {
	r := newRig(t)
	pending, err := r.j.CreateOrder("bot1", func(seq uint64) (OrderRecord, error) {
		return OrderRecord{ClientID: FormatClientID("bot1", 1, seq), Epoch: 1, Seq: seq,
			Intent: limitBuy("0.01", "50000"), Status: trading.StatusPending, Created: t0, Updated: t0}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.v.Place(context.Background(), Order{ClientID: pending.ClientID, Intent: pending.Intent}); err != nil {
		t.Fatal(err)
	}
	r.open() // restart, no clock advance: the venue knows it, grace is moot
	res, err := r.m.Reconcile(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	o, _ := r.m.Order(pending.ClientID)
	mustStatus(t, o, trading.StatusNew)
	if o.ExchangeID != "ex1" || res.Settled != 1 || res.AdoptedOurs != 0 {
		t.Fatalf("order %+v res %+v", o, res)
	}
	if n := r.v.placeCount(); n != 1 {
		t.Fatalf("places = %d", n)
	}
	// A second reconcile is a no-op.
	res, _ = r.m.Reconcile(context.Background())
	if res.Settled != 0 || len(res.Drifts) != 0 {
		t.Fatalf("second run: %+v", res)
	}
}

// Crash where even the journal record is lost is impossible (fsync first),
// but an order with our prefix the journal does not know is adopted.
func TestReconcileAdoptsOurUnknownOrder(t *testing.T) {
	r := newRig(t)
	r.v.add(Report{ClientID: "bot1-1-9", OrderID: "ex9", Symbol: "BTCUSDT", Side: trading.Sell,
		Type: trading.Limit, Price: fixed.FromInt(60000), Qty: fixed.MustParse("0.02"), Status: trading.StatusNew})
	res, err := r.m.Reconcile(context.Background())
	if err != nil || res.AdoptedOurs != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	o, err := r.j.Order("bot1-1-9")
	if err != nil || !o.Adopted || o.Seq != 9 || o.Intent.Side != trading.Sell {
		t.Fatalf("journal %+v %v", o, err)
	}
}

func TestReconcileForeignPolicies(t *testing.T) {
	foreign := []Report{
		{ClientID: "manual1", OrderID: "f1", Symbol: "ETHUSDT", Side: trading.Buy, Type: trading.Limit, Qty: fixed.One, Price: fixed.FromInt(3000), Status: trading.StatusNew},
		{OrderID: "f2", Symbol: "ETHUSDT", Side: trading.Sell, Type: trading.Limit, Qty: fixed.One, Price: fixed.FromInt(4000), Status: trading.StatusNew},
		{ClientID: "other-1-1", OrderID: "f3", Symbol: "ETHUSDT", Side: trading.Sell, Type: trading.Limit, Qty: fixed.One, Price: fixed.FromInt(4000), Status: trading.StatusNew},
	}
	for _, tc := range []struct {
		policy                   ForeignPolicy
		ignored, adopted, cancel int
	}{
		{ForeignIgnore, 3, 0, 0},
		{ForeignAdopt, 0, 3, 0},
		{ForeignCancel, 0, 0, 3},
	} {
		r := newRig(t)
		r.cfg.Foreign = tc.policy
		r.open()
		for _, f := range foreign {
			r.v.add(f)
		}
		res, err := r.m.Reconcile(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if res.IgnoredForeign != tc.ignored || res.AdoptedForeign != tc.adopted || res.CanceledForeign != tc.cancel {
			t.Errorf("policy %d: %+v", tc.policy, res)
		}
		if got := len(r.m.OpenOrders()); got != tc.adopted {
			t.Errorf("policy %d: tracking %d orders", tc.policy, got)
		}
		if res.Unexplained() {
			t.Errorf("policy %d: foreign orders counted as unexplained drift", tc.policy)
		}
		venueOpen, _ := r.v.OpenOrders(context.Background(), "")
		if want := 3 - tc.cancel; len(venueOpen) != want {
			t.Errorf("policy %d: %d open on venue, want %d", tc.policy, len(venueOpen), want)
		}
		// The adopted order without a client id is cancelled by order id.
		if tc.policy == ForeignAdopt {
			if err := r.m.CancelAll(context.Background()); err != nil {
				t.Fatal(err)
			}
			if venueOpen, _ := r.v.OpenOrders(context.Background(), ""); len(venueOpen) != 0 {
				t.Errorf("CancelAll left %d", len(venueOpen))
			}
		}
	}
}

func TestReconcilePositionDrift(t *testing.T) {
	r := newRig(t)
	// Ledger: long 0.01 via a filled order.
	got, _ := r.m.Submit(context.Background(), limitBuy("0.01", "50000"))
	if err := r.m.OnOrderReport(Report{ClientID: got.ClientID, OrderID: got.ExchangeID, Status: trading.StatusFilled,
		FilledQty: fixed.MustParse("0.01"), AvgPrice: fixed.FromInt(50000)}); err != nil {
		t.Fatal(err)
	}
	r.v.positions = []PositionReport{{Symbol: "BTCUSDT", Qty: fixed.MustParse("0.01"), AvgEntry: fixed.FromInt(50000)}}
	res, _ := r.m.Reconcile(context.Background())
	if len(res.Drifts) != 0 {
		t.Fatalf("matching position reported drift: %+v", res.Drifts)
	}
	// Someone closed half by hand and opened an ETH short.
	r.v.positions = []PositionReport{
		{Symbol: "BTCUSDT", Qty: fixed.MustParse("0.005"), AvgEntry: fixed.FromInt(50000)},
		{Symbol: "ETHUSDT", Qty: fixed.MustParse("-1"), AvgEntry: fixed.FromInt(3000)},
	}
	res, _ = r.m.Reconcile(context.Background())
	if len(res.Drifts) != 2 || !res.Unexplained() {
		t.Fatalf("drifts = %+v", res.Drifts)
	}
	st := r.m.Status()
	if st.Drift.Unexplained != 2 || st.Drift.ByKind[DriftPosition] != 2 {
		t.Fatalf("drift totals %+v", st.Drift)
	}
	// The venue's positions were taken; the next run is clean.
	res, _ = r.m.Reconcile(context.Background())
	if len(res.Drifts) != 0 {
		t.Fatalf("drift counted twice: %+v", res.Drifts)
	}
	// A difference on a symbol with an unsettled order is explained.
	r.v.mode = placeTimeout
	_, _ = r.m.Submit(context.Background(), limitBuy("0.01", "50000"))
	r.v.positions[0].Qty = fixed.MustParse("0.015")
	res, _ = r.m.Reconcile(context.Background())
	if len(res.Drifts) != 1 || res.Drifts[0].Kind != DriftPositionInFlight || res.Unexplained() {
		t.Fatalf("in-flight drift = %+v", res.Drifts)
	}
}

// A submitted order we settled as never sent turns up on the venue: the
// venue wins, and it is counted as drift.
func TestResurrectedOrder(t *testing.T) {
	r := newRig(t)
	r.v.mode = placeTimeout
	got, _ := r.m.Submit(context.Background(), limitBuy("0.01", "50000"))
	r.clk.Advance(3 * time.Minute) // past AmbiguousLookupGrace
	if res, _ := r.m.Reconcile(context.Background()); res.SettledNotSent != 1 {
		t.Fatalf("%+v", res)
	}
	r.v.add(Report{ClientID: got.ClientID, OrderID: "late", Symbol: "BTCUSDT", Side: trading.Buy, Type: trading.Limit,
		Qty: fixed.MustParse("0.01"), Price: fixed.FromInt(50000), Status: trading.StatusNew})
	res, _ := r.m.Reconcile(context.Background())
	if len(res.Drifts) != 1 || res.Drifts[0].Kind != DriftResurrected {
		t.Fatalf("%+v", res)
	}
	o, _ := r.m.Order(got.ClientID)
	mustStatus(t, o, trading.StatusNew)
}

// WS pushes out of order and duplicated: the state never goes backwards and
// the fill is booked once.
func TestOutOfOrderReports(t *testing.T) {
	r := newRig(t)
	got, _ := r.m.Submit(context.Background(), limitBuy("0.02", "50000"))
	cid := got.ClientID
	rep := func(st trading.OrderStatus, filled, avg, fee string) Report {
		return Report{ClientID: cid, OrderID: "ex1", Symbol: "BTCUSDT", Status: st,
			FilledQty: fixed.MustParse(filled), AvgPrice: fixed.MustParse(avg), Fee: fixed.MustParse(fee)}
	}
	for _, x := range []Report{
		rep(trading.StatusFilled, "0.02", "50000", "0.4"),
		rep(trading.StatusPartiallyFilled, "0.01", "50000", "0.2"), // stale
		rep(trading.StatusNew, "0", "0", "0"),                      // stale
		rep(trading.StatusFilled, "0.02", "50000", "0.4"),          // duplicate
	} {
		if err := r.m.OnOrderReport(x); err != nil {
			t.Fatal(err)
		}
	}
	o, _ := r.m.Order(cid)
	mustStatus(t, o, trading.StatusFilled)
	pos := r.m.Positions()
	if len(pos) != 1 || pos[0].Qty != fixed.MustParse("0.02") || pos[0].Fees != fixed.MustParse("0.4") {
		t.Fatalf("positions %+v", pos)
	}
}

// PnL worked by hand:
//
//	buy 0.02 @ 50000 fee 0.4        -> long 0.02 @ 50000
//	buy 0.01 @ 53000 fee 0.2        -> long 0.03 @ 51000 ((1000+530)/0.03)
//	funding -1.5 (paid)
//	sell 0.04 @ 52000 fee 0.8       -> closes 0.03: realised (52000-51000)*0.03 = 30
//	                                   opens short 0.01 @ 52000
//	mark 51500                      -> unrealised (51500-52000)*-0.01 = 5
//	equity = 1000 + 30 - 1.4 - 1.5 + 5 = 1032.1
func TestPnLByHand(t *testing.T) {
	r := newRig(t)
	fill := func(side trading.Side, qty, price, fee string) {
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
	fill(trading.Buy, "0.02", "50000", "0.4")
	fill(trading.Buy, "0.01", "53000", "0.2")
	if err := r.m.OnFunding("BTCUSDT", fixed.MustParse("-1.5")); err != nil {
		t.Fatal(err)
	}
	fill(trading.Sell, "0.04", "52000", "0.8")
	r.m.OnMarkEquity("BTCUSDT", fixed.FromInt(51500))

	p := r.m.Positions()[0]
	want := Position{Symbol: "BTCUSDT", Qty: fixed.MustParse("-0.01"), AvgEntry: fixed.FromInt(52000),
		Realized: fixed.FromInt(30), Fees: fixed.MustParse("1.4"), Funding: fixed.MustParse("-1.5"), Mark: fixed.FromInt(51500)}
	if p != want {
		t.Fatalf("position\n got %+v\nwant %+v", p, want)
	}
	pnl := r.m.PnL()
	if pnl.Unrealized != fixed.FromInt(5) || pnl.Equity != fixed.MustParse("1032.1") {
		t.Fatalf("pnl %+v", pnl)
	}

	// The ledger survives a restart (mark is memory-only but journaled with
	// the last fill's snapshot; compare the booked parts).
	r.open()
	p2 := r.m.Positions()[0]
	if p2.Qty != want.Qty || p2.AvgEntry != want.AvgEntry || p2.Realized != want.Realized || p2.Fees != want.Fees || p2.Funding != want.Funding {
		t.Fatalf("after restart %+v", p2)
	}
}

func TestPartialFillsDeriveExecutions(t *testing.T) {
	r := newRig(t)
	got, _ := r.m.Submit(context.Background(), limitBuy("0.03", "50000"))
	// Cumulative: 0.01 @ 50000, then 0.03 @ avg 50200 -> second execution
	// is 0.02 @ (1506-500)/0.02 = 50300.
	_ = r.m.OnOrderReport(Report{ClientID: got.ClientID, Status: trading.StatusPartiallyFilled,
		FilledQty: fixed.MustParse("0.01"), AvgPrice: fixed.FromInt(50000), Fee: fixed.MustParse("0.1")})
	obs := r.m.Positions()[0]
	if obs.Qty != fixed.MustParse("0.01") || obs.AvgEntry != fixed.FromInt(50000) {
		t.Fatalf("after first %+v", obs)
	}
	_ = r.m.OnOrderReport(Report{ClientID: got.ClientID, Status: trading.StatusFilled,
		FilledQty: fixed.MustParse("0.03"), AvgPrice: fixed.FromInt(50200), Fee: fixed.MustParse("0.3")})
	p := r.m.Positions()[0]
	if p.Qty != fixed.MustParse("0.03") || p.AvgEntry != fixed.FromInt(50200) || p.Fees != fixed.MustParse("0.3") {
		t.Fatalf("after second %+v", p)
	}
}

func TestRestartRestoresOpenOrders(t *testing.T) {
	r := newRig(t)
	a, _ := r.m.Submit(context.Background(), limitBuy("0.01", "50000"))
	b, _ := r.m.Submit(context.Background(), limitBuy("0.01", "49000"))
	_ = r.m.OnOrderReport(Report{ClientID: b.ClientID, Status: trading.StatusCanceled})
	r.open()
	open := r.m.OpenOrders()
	if len(open) != 1 || open[0].ClientID != a.ClientID || open[0].Status != trading.StatusNew {
		t.Fatalf("open after restart = %+v", open)
	}
	// A late push for the final order, no longer in memory, still lands.
	if err := r.m.OnOrderReport(Report{ClientID: b.ClientID, Status: trading.StatusCanceled}); err != nil {
		t.Fatal(err)
	}
	if got := r.m.Status(); len(got.OpenOrders) != 1 {
		t.Fatalf("status %+v", got)
	}
}

func TestSubmitValidation(t *testing.T) {
	r := newRig(t)
	bad := []trading.Intent{
		{},
		{Symbol: "BTCUSDT", Side: trading.Buy, Type: trading.Limit, Qty: 0, Price: fixed.One},
		{Symbol: "BTCUSDT", Side: trading.Buy, Type: trading.Limit, Qty: fixed.One},
		{Symbol: "BTCUSDT", Side: 3, Type: trading.Market, Qty: fixed.One},
	}
	for i, in := range bad {
		if _, err := r.m.Submit(context.Background(), in); err == nil {
			t.Errorf("intent %d accepted", i)
		}
	}
	if r.v.placeCount() != 0 {
		t.Fatal("invalid intent sent")
	}
}

func TestCancelledContextNotSent(t *testing.T) {
	r := newRig(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got, err := r.m.Submit(ctx, limitBuy("0.01", "50000"))
	if !errors.Is(err, context.Canceled) || r.v.placeCount() != 0 || got.Status != trading.StatusCanceled {
		t.Fatalf("%+v %v places %d", got, err, r.v.placeCount())
	}
}

type countingObserver struct {
	NopObserver
	outcomes map[string]int
	rejects  map[int]int
}

func (o *countingObserver) OrderSubmitted(_ Order, outcome string) {
	if o.outcomes == nil {
		o.outcomes = map[string]int{}
	}
	o.outcomes[outcome]++
}

func (o *countingObserver) OrderRejected(_ string, code int) {
	if o.rejects == nil {
		o.rejects = map[int]int{}
	}
	o.rejects[code]++
}

// The WS push (filled) arrives before the REST ack: the late ack must not
// move the order back to New, and the fill is booked once.
func TestPushBeforeAck(t *testing.T) {
	r := newRig(t)
	r.v.onAccept = func(rep Report) {
		rep.Status, rep.FilledQty, rep.AvgPrice = trading.StatusFilled, rep.Qty, rep.Price
		if err := r.m.OnOrderReport(rep); err != nil {
			t.Error(err)
		}
	}
	got, err := r.m.Submit(context.Background(), limitBuy("0.01", "50000"))
	if err != nil {
		t.Fatal(err)
	}
	mustStatus(t, got, trading.StatusFilled)
	if p := r.m.Positions(); len(p) != 1 || p[0].Qty != fixed.MustParse("0.01") {
		t.Fatalf("positions %+v", p)
	}
	if j, _ := r.j.Order(got.ClientID); j.Status != trading.StatusFilled || j.ExchangeID != "ex1" {
		t.Fatalf("journal %+v", j)
	}
}
