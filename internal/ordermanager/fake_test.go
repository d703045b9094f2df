package ordermanager

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/journal"
	"github.com/bitrader/bitrader/internal/trading"
)

// placeMode says how fakeVenue answers the next Place.
type placeMode int

const (
	placeOK        placeMode = iota
	placeReject              // refuse with code 30016
	placeDropReply           // accept the order, then answer ErrAmbiguous
	placeTimeout             // do not accept; answer ErrAmbiguous
	placeDuplicate           // answer ErrDuplicateClientID (order exists)
)

// fakeVenue is an in-memory venue that records every call.
type fakeVenue struct {
	mu        sync.Mutex
	mode      placeMode
	places    []Order
	cancels   []OrderRef
	orders    map[string]*Report // by client id (or "x-"+orderID)
	positions []PositionReport
	balance   BalanceReport
	nextID    int
	lookupErr error // forced OrderByClientID error
	// onAccept, if set, runs after an order is accepted and before Place
	// returns, without the venue lock: a WS push racing the REST reply.
	onAccept func(r Report)
}

func newFakeVenue() *fakeVenue { return &fakeVenue{orders: map[string]*Report{}} }

func (v *fakeVenue) add(r Report) {
	v.mu.Lock()
	defer v.mu.Unlock()
	cp := r
	v.orders[keyOf(r)] = &cp
}

func (v *fakeVenue) Place(ctx context.Context, o Order) (Ack, error) {
	ack, err := v.place(o)
	if v.onAccept != nil && (err == nil || v.mode == placeDropReply) {
		v.mu.Lock()
		r := *v.orders[o.ClientID]
		v.mu.Unlock()
		v.onAccept(r)
	}
	return ack, err
}

func (v *fakeVenue) place(o Order) (Ack, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.places = append(v.places, o)
	if _, dup := v.orders[o.ClientID]; dup {
		return Ack{}, fmt.Errorf("place %s: code 30042: %w", o.ClientID, ErrDuplicateClientID)
	}
	switch v.mode {
	case placeReject:
		return Ack{}, &Rejected{Code: 30016, Reason: "qty too small"}
	case placeTimeout:
		return Ack{}, fmt.Errorf("place: context deadline exceeded: %w", ErrAmbiguous)
	}
	v.nextID++
	id := fmt.Sprintf("ex%d", v.nextID)
	v.orders[o.ClientID] = &Report{
		ClientID: o.ClientID, OrderID: id, Symbol: o.Symbol, Side: o.Side, Type: o.Type,
		Price: o.Price, Qty: o.Qty, ReduceOnly: o.ReduceOnly, Status: trading.StatusNew,
	}
	switch v.mode {
	case placeDropReply:
		return Ack{}, fmt.Errorf("place: connection reset: %w", ErrAmbiguous)
	case placeDuplicate:
		return Ack{}, fmt.Errorf("code 30042: %w", ErrDuplicateClientID)
	}
	return Ack{OrderID: id, ClientID: o.ClientID}, nil
}

func (v *fakeVenue) Cancel(ctx context.Context, ref OrderRef) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.cancels = append(v.cancels, ref)
	for _, r := range v.orders {
		if (ref.OrderID != "" && r.OrderID == ref.OrderID) || (ref.OrderID == "" && r.ClientID == ref.ClientID) {
			if !r.Status.Final() {
				r.Status = trading.StatusCanceled
			}
			return nil
		}
	}
	return ErrNotFound
}

func (v *fakeVenue) OrderByClientID(ctx context.Context, clientID string) (Report, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.lookupErr != nil {
		return Report{}, v.lookupErr
	}
	if r, ok := v.orders[clientID]; ok && clientID != "" {
		return *r, nil
	}
	return Report{}, fmt.Errorf("detail %s: %w", clientID, ErrNotFound)
}

func (v *fakeVenue) OpenOrders(ctx context.Context, symbol string) ([]Report, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []Report
	for _, r := range v.orders {
		if !r.Status.Final() && (symbol == "" || r.Symbol == symbol) {
			out = append(out, *r)
		}
	}
	return out, nil
}

func (v *fakeVenue) Positions(ctx context.Context) ([]PositionReport, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]PositionReport(nil), v.positions...), nil
}

func (v *fakeVenue) Balance(ctx context.Context) (BalanceReport, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.balance, nil
}

func (v *fakeVenue) placeCount() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.places)
}

func (v *fakeVenue) placesFor(cid string) int {
	v.mu.Lock()
	defer v.mu.Unlock()
	n := 0
	for _, p := range v.places {
		if p.ClientID == cid {
			n++
		}
	}
	return n
}

// clock is a manual clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type rig struct {
	t     *testing.T
	path  string
	j     *journal.Journal
	v     *fakeVenue
	clk   *clock
	m     *Manager
	cfg   Config
	fence bool
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{t: t, path: filepath.Join(t.TempDir(), "journal.db"), v: newFakeVenue(), clk: &clock{t: t0}, fence: true}
	r.cfg = Config{Prefix: "bot1", Epoch: 1, Now: r.clk.Now, StartBalance: fixed.FromInt(1000),
		Fence: FenceFunc(func(uint64) bool { return r.fence })}
	r.open()
	t.Cleanup(func() { _ = r.j.Close() })
	return r
}

// open (re)opens the journal and builds a fresh Manager: a restart.
func (r *rig) open() {
	r.t.Helper()
	if r.j != nil {
		_ = r.j.Close()
	}
	j, err := journal.Open(r.path, journal.Options{})
	if err != nil {
		r.t.Fatal(err)
	}
	r.j = j
	m, err := New(r.cfg, r.v, j)
	if err != nil {
		r.t.Fatal(err)
	}
	r.m = m
}

func limitBuy(qty, price string) trading.Intent {
	return trading.Intent{Symbol: "BTCUSDT", Side: trading.Buy, Type: trading.Limit,
		Qty: fixed.MustParse(qty), Price: fixed.MustParse(price), Tag: "entry"}
}

func mustStatus(t *testing.T, got OrderRecord, want trading.OrderStatus) {
	t.Helper()
	if got.Status != want {
		t.Fatalf("order %s status = %s, want %s (%+v)", got.ClientID, got.Status, want, got)
	}
}
