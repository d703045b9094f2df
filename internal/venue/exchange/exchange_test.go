package exchange

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/bitunix"
	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/ordermanager"
	"github.com/bitrader/bitrader/internal/trading"
)

func TestMapError(t *testing.T) {
	api := func(code int) error { return fmt.Errorf("place: %w", &bitunix.APIError{Code: code, Msg: "m"}) }
	cases := []struct {
		name string
		in   error
		is   error
		code int // Rejected code when is == nil
	}{
		{"duplicate 30042", api(30042), ordermanager.ErrDuplicateClientID, 0},
		{"not found 20007", api(20007), ordermanager.ErrNotFound, 0},
		{"ambiguous 5xx", &bitunix.TransportError{Status: 502, Ambiguous: true, Err: errors.New("bad gateway")}, ordermanager.ErrAmbiguous, 0},
		{"unknown error is ambiguous", errors.New("weird"), ordermanager.ErrAmbiguous, 0},
		{"business code", api(20003), nil, 20003},
		{"dial failed never sent", &bitunix.TransportError{Err: errors.New("dial")}, nil, 0},
	}
	for _, c := range cases {
		got := MapError(c.in)
		if c.is != nil {
			if !errors.Is(got, c.is) {
				t.Errorf("%s: %v is not %v", c.name, got, c.is)
			}
			continue
		}
		var rej *ordermanager.Rejected
		if !errors.As(got, &rej) || rej.Code != c.code {
			t.Errorf("%s: got %v, want Rejected %d", c.name, got, c.code)
		}
	}
}

// fakeClient answers OrderDetail from details (by order id) and PlaceOrder
// with placeErr; the rest is unused here.
type fakeClient struct {
	mu       sync.Mutex
	details  map[string]bitunix.Order
	err      error // OrderDetail's error when set
	block    bool  // OrderDetail waits for its context
	lookups  int
	deadline bool // the last lookup's context had a deadline
	placeErr error
}

func (f *fakeClient) PlaceOrder(context.Context, bitunix.OrderRequest) (bitunix.OrderAck, error) {
	return bitunix.OrderAck{}, f.placeErr
}

func (f *fakeClient) CancelOrders(context.Context, string, []bitunix.OrderRef) (bitunix.BatchResult, error) {
	return bitunix.BatchResult{}, nil
}

func (f *fakeClient) OrderDetail(ctx context.Context, ref bitunix.OrderRef) (bitunix.Order, error) {
	f.mu.Lock()
	f.lookups++
	_, f.deadline = ctx.Deadline()
	block, err := f.block, f.err
	d, ok := f.details[ref.OrderID]
	if !ok {
		for _, o := range f.details {
			if ref.ClientID != "" && o.ClientID == ref.ClientID {
				d, ok = o, true
			}
		}
	}
	f.mu.Unlock()
	if block {
		<-ctx.Done()
		return bitunix.Order{}, &bitunix.TransportError{Ambiguous: true, Err: ctx.Err()}
	}
	if err != nil {
		return bitunix.Order{}, err
	}
	if !ok {
		return bitunix.Order{}, &bitunix.APIError{Code: 20007, Msg: "not found"}
	}
	return d, nil
}

func (f *fakeClient) PendingOrders(context.Context, bitunix.Query) ([]bitunix.Order, int, error) {
	return nil, 0, nil
}

func (f *fakeClient) PendingPositions(context.Context, string) ([]bitunix.Position, error) {
	return nil, nil
}

func (f *fakeClient) Account(context.Context, string) (bitunix.Account, error) {
	return bitunix.Account{}, nil
}

func (f *fakeClient) set(o bitunix.Order) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.details == nil {
		f.details = map[string]bitunix.Order{}
	}
	f.details[o.OrderID] = o
}

func (f *fakeClient) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lookups
}

var q = fixed.MustParse

// dogePush is the reviewer's scenario: 1000 DOGE at 0.1, 600 filled, and a
// dealAmount of 60 that is the quote amount (600 × 0.1), not a quantity.
func dogePush(status string) bitunix.Order {
	st, _ := trading.ParseOrderStatus(status)
	return bitunix.Order{Event: "UPDATE", OrderID: "D1", ClientID: "bt-1", Symbol: "DOGEUSDT", Side: trading.Buy,
		Type: trading.Limit, Price: q("0.1"), Qty: q("1000"), Status: st, StatusRaw: status,
		DealAmount: q("60"), AvgPrice: q("0.1"), Fee: q("0.012")}
}

func dogeREST(status string, traded string) bitunix.Order {
	o := dogePush(status)
	o.Event, o.DealAmount, o.FilledQty = "", 0, q(traded)
	return o
}

func dogeRecord() ordermanager.OrderRecord {
	return ordermanager.OrderRecord{ClientID: "bt-1", ExchangeID: "D1", Status: trading.StatusNew,
		Intent: trading.Intent{Symbol: "DOGEUSDT", Side: trading.Buy, Type: trading.Limit, Price: q("0.1"), Qty: q("1000")}}
}

// apply runs reports through the order state machine and returns the final
// record and every booked fill quantity.
func apply(t *testing.T, rec ordermanager.OrderRecord, reps ...ordermanager.Report) (ordermanager.OrderRecord, []fixed.Value) {
	t.Helper()
	var fills []fixed.Value
	for _, r := range reps {
		st, err := ordermanager.Apply(rec, ordermanager.Event{Kind: ordermanager.EvReport, Report: r})
		if err != nil {
			t.Fatalf("apply %+v: %v", r, err)
		}
		rec = st.Order
		if st.Fill.Qty != 0 {
			fills = append(fills, st.Fill.Qty)
		}
	}
	return rec, fills
}

// Report (no I/O) never reads dealAmount as a size. An unknown size books
// nothing and a final status is kept open, so reconciliation revisits it.
func TestReportNeverGuessesFromDealAmount(t *testing.T) {
	cases := []struct {
		name   string
		o      bitunix.Order
		filled fixed.Value
		status trading.OrderStatus
	}{
		{"DOGE partial: quote dealAmount 60 is not a quantity", dogePush("PART_FILLED"), 0, trading.StatusPartiallyFilled},
		{"DOGE part-filled-canceled stays open for reconciliation", dogePush("PART_FILLED_CANCELED"), 0, trading.StatusPartiallyFilled},
		{"canceled with an execution stays open", dogePush("CANCELED"), 0, trading.StatusPartiallyFilled},
		{"filled is the whole qty", bitunix.Order{Status: trading.StatusFilled, StatusRaw: "FILLED", Qty: q("0.5"), DealAmount: q("0.2")}, q("0.5"), trading.StatusFilled},
		{"tradeQty, if pushed, is taken", bitunix.Order{Status: trading.StatusPartiallyFilled, Qty: q("0.5"), FilledQty: q("0.3"), DealAmount: q("0.2")}, q("0.3"), trading.StatusPartiallyFilled},
		{"new, nothing executed", bitunix.Order{Status: trading.StatusNew, StatusRaw: "NEW", Qty: q("0.5")}, 0, trading.StatusNew},
		{"plain cancel is final", bitunix.Order{Status: trading.StatusCanceled, StatusRaw: "CANCELED", Qty: q("0.5")}, 0, trading.StatusCanceled},
	}
	for _, c := range cases {
		r := Report(&c.o)
		if r.FilledQty != c.filled || r.Status != c.status {
			t.Errorf("%s: filled %s status %v, want %s %v", c.name, r.FilledQty, r.Status, c.filled, c.status)
		}
		if r.FilledQty == 0 && r.Fee != 0 {
			t.Errorf("%s: fee %s without a known quantity", c.name, r.Fee)
		}
	}
	// The reviewer's sequence through the state machine: 60 is never booked
	// and the order is not closed with a wrong quantity.
	rec, fills := apply(t, dogeRecord(), Report(ptr(dogePush("PART_FILLED"))), Report(ptr(dogePush("PART_FILLED_CANCELED"))))
	if len(fills) != 0 || rec.FilledQty != 0 || rec.Status.Final() {
		t.Errorf("booked %v, record %s %v: want nothing booked and the order still open", fills, rec.FilledQty, rec.Status)
	}
}

func ptr(o bitunix.Order) *bitunix.Order { return &o }

// With the venue, a push of unknown size is settled from REST tradeQty at
// once: the DOGE order ends with exactly 600, never 60.
func TestPushTranslatorBooksRESTTradeQty(t *testing.T) {
	fc := &fakeClient{}
	tr := New(fc, "", nil).PushTranslator(context.Background(), PushConfig{})

	fc.set(dogeREST("PART_FILLED", "600"))
	r1 := tr(ptr(dogePush("PART_FILLED")))
	fc.set(dogeREST("PART_FILLED_CANCELED", "600"))
	r2 := tr(ptr(dogePush("PART_FILLED_CANCELED")))
	if r1.FilledQty != q("600") || r2.FilledQty != q("600") || r2.Status != trading.StatusCanceled {
		t.Fatalf("reports: %s %v, %s %v; want 600 then 600 canceled", r1.FilledQty, r1.Status, r2.FilledQty, r2.Status)
	}
	rec, fills := apply(t, dogeRecord(), r1, r2)
	if rec.FilledQty != q("600") || rec.Status != trading.StatusCanceled || len(fills) != 1 || fills[0] != q("600") {
		t.Errorf("record %s %v fills %v, want 600 canceled booked once", rec.FilledQty, rec.Status, fills)
	}
	if fc.calls() != 2 {
		t.Errorf("%d lookups, want 2", fc.calls())
	}
	if !fc.deadline {
		t.Error("lookup ran without a deadline: it could hold the engine goroutine indefinitely")
	}
}

// Pushes whose size is known need no REST call.
func TestPushTranslatorNoLookupWhenKnown(t *testing.T) {
	fc := &fakeClient{err: errors.New("must not be called")}
	tr := New(fc, "", nil).PushTranslator(context.Background(), PushConfig{})
	for _, o := range []bitunix.Order{
		{OrderID: "1", Status: trading.StatusNew, StatusRaw: "NEW", Qty: q("1")},
		{OrderID: "1", Status: trading.StatusFilled, StatusRaw: "FILLED", Qty: q("1"), DealAmount: q("100")},
		{OrderID: "1", Status: trading.StatusCanceled, StatusRaw: "CANCELED", Qty: q("1")},
	} {
		tr(&o)
	}
	if n := fc.calls(); n != 0 {
		t.Errorf("%d lookups for pushes of known size", n)
	}
}

// When the lookup fails or times out, nothing is guessed and the order stays
// open; the reconciliation lookup (OrderByClientID, REST tradeQty) then
// settles it with the exact quantity.
func TestPushLookupFailureFallsBackToReconciliation(t *testing.T) {
	for _, mode := range []string{"error", "timeout"} {
		fc := &fakeClient{}
		if mode == "error" {
			fc.err = &bitunix.TransportError{Status: 502, Ambiguous: true, Err: errors.New("bad gateway")}
		} else {
			fc.block = true
		}
		v := New(fc, "", nil)
		tr := v.PushTranslator(context.Background(), PushConfig{LookupTimeout: 10 * time.Millisecond})
		r := tr(ptr(dogePush("PART_FILLED_CANCELED")))
		rec, fills := apply(t, dogeRecord(), r)
		if len(fills) != 0 || rec.Status.Final() {
			t.Fatalf("%s: booked %v, status %v: want nothing booked, order open", mode, fills, rec.Status)
		}
		if !rec.Open() {
			t.Fatalf("%s: record not open: reconciliation would skip it", mode)
		}
		// Reconciliation's lookup.
		fc.mu.Lock()
		fc.err, fc.block = nil, false
		fc.mu.Unlock()
		fc.set(dogeREST("PART_FILLED_CANCELED", "600"))
		rep, err := v.OrderByClientID(context.Background(), "bt-1")
		if err != nil {
			t.Fatal(err)
		}
		rec, fills = apply(t, rec, rep)
		if rec.FilledQty != q("600") || rec.Status != trading.StatusCanceled || len(fills) != 1 || fills[0] != q("600") {
			t.Errorf("%s: after reconciliation %s %v fills %v, want 600 canceled", mode, rec.FilledQty, rec.Status, fills)
		}
	}
}

// A REST answer that contradicts the push (final, nothing executed, while
// the push says something was) does not close the order.
func TestPushLookupContradictionKeepsOrderOpen(t *testing.T) {
	fc := &fakeClient{}
	fc.set(dogeREST("CANCELED", "0"))
	r, err := New(fc, "", nil).PushReport(context.Background(), ptr(dogePush("PART_FILLED_CANCELED")))
	if err == nil || r.Status.Final() || r.FilledQty != 0 {
		t.Errorf("report %s %v err %v: want open, nothing booked, an error", r.FilledQty, r.Status, err)
	}
}

// place_order answered with a code that does not prove a refusal is
// ambiguous at the venue, never a final rejection.
func TestPlaceUncertainCodeIsAmbiguous(t *testing.T) {
	cases := []struct {
		err      error
		rejected bool
	}{
		{&bitunix.APIError{Code: 10001, Msg: "Network error", Endpoint: "trade/place_order"}, false},
		{&bitunix.APIError{Code: 77777, Msg: "new", Endpoint: "trade/place_order"}, false},
		{&bitunix.APIError{Code: 30017, Msg: "qty below min", Endpoint: "trade/place_order"}, true},
		{&bitunix.APIError{Code: 20003, Msg: "balance", Endpoint: "trade/place_order"}, true},
	}
	for _, c := range cases {
		v := New(&fakeClient{placeErr: c.err}, "", nil)
		_, err := v.Place(context.Background(), ordermanager.Order{ClientID: "bt-1",
			Intent: trading.Intent{Symbol: "BTCUSDT", Side: trading.Buy, Type: trading.Market, Qty: q("1")}})
		var rej *ordermanager.Rejected
		if got := errors.As(err, &rej); got != c.rejected {
			t.Errorf("%v: rejected %v (err %v), want %v", c.err, got, err, c.rejected)
		}
		if !c.rejected && !errors.Is(err, ordermanager.ErrAmbiguous) {
			t.Errorf("%v: err %v, want ambiguous", c.err, err)
		}
	}
}

// FuzzReport: whatever a push holds, Report's executed size is the pushed
// tradeQty, the whole qty of a FILLED order, or zero (nothing booked), never
// something derived from dealAmount; and an order is never closed with an
// executed size it does not know.
func FuzzReport(f *testing.F) {
	f.Add("PART_FILLED", int64(1000_00000000), int64(60_00000000), int64(10000000), int64(0))
	f.Add("PART_FILLED_CANCELED", int64(1000_00000000), int64(60_00000000), int64(10000000), int64(0))
	f.Add("FILLED", int64(5), int64(7), int64(1), int64(0))
	f.Add("CANCELED", int64(5), int64(0), int64(0), int64(0))
	f.Add("NEW_", int64(5), int64(3), int64(0), int64(2))
	f.Fuzz(func(t *testing.T, status string, qty, deal, avg, traded int64) {
		st, _ := trading.ParseOrderStatus(status)
		o := bitunix.Order{Status: st, StatusRaw: status, Qty: fixed.Value(qty), DealAmount: fixed.Value(deal),
			AvgPrice: fixed.Value(avg), FilledQty: fixed.Value(traded)}
		r := Report(&o)
		switch r.FilledQty {
		case 0, o.FilledQty:
		case o.Qty:
			if st != trading.StatusFilled {
				t.Fatalf("%+v: whole qty booked for status %v", o, st)
			}
		default:
			t.Fatalf("%+v: filled %s is not tradeQty, qty or 0", o, r.FilledQty)
		}
		if r.Status.Final() && r.Status != trading.StatusFilled && r.FilledQty == 0 && (deal != 0 || partFilledCanceled(status)) && traded <= 0 {
			t.Fatalf("%+v: closed as %v with an execution of unknown size", o, r.Status)
		}
	})
}

// A push without an order id is looked up by client id; an answer about
// another order is not taken for this one.
func TestPushReportLookupRef(t *testing.T) {
	fc := &fakeClient{}
	fc.set(dogeREST("PART_FILLED", "600"))
	push := dogePush("PART_FILLED")
	push.OrderID = ""
	r, err := New(fc, "", nil).PushReport(context.Background(), &push)
	if err != nil || r.FilledQty != q("600") || r.OrderID != "D1" {
		t.Errorf("by client id: report %s order %q err %v, want 600 on D1", r.FilledQty, r.OrderID, err)
	}

	other := dogeREST("PART_FILLED", "600")
	other.ClientID = "bt-2" // the exchange answered about another order
	fc.set(other)
	r, err = New(fc, "", nil).PushReport(context.Background(), ptr(dogePush("PART_FILLED")))
	if err == nil || r.FilledQty != 0 {
		t.Errorf("mismatched answer: report %s err %v, want nothing booked and an error", r.FilledQty, err)
	}
}
