package journal

import (
	"errors"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/trading"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func openT(t testing.TB, path string) *Journal {
	t.Helper()
	j, err := Open(path, Options{LockTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func rec(id string, st trading.OrderStatus) OrderRecord {
	return OrderRecord{
		ClientID: id, Epoch: 1, Seq: 7,
		Intent: trading.Intent{Symbol: "BTCUSDT", Side: trading.Buy, Type: trading.Limit,
			Price: fixed.MustParse("50000.5"), Qty: fixed.MustParse("0.01"), Tag: "entry"},
		Status: st, ExchangeID: "ex" + id, FilledQty: fixed.MustParse("0.005"),
		AvgPrice: fixed.MustParse("50000.25"), Fee: fixed.MustParse("0.1"),
		Created: t0, Updated: t0.Add(time.Second),
	}
}

func TestPersistenceAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "journal.db")
	j := openT(t, path)
	want := []OrderRecord{rec("a", trading.StatusPending), rec("b", trading.StatusFilled), rec("c", trading.StatusPartiallyFilled)}
	for _, r := range want {
		if err := j.PutOrder(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.PutState("risk", []byte(`{"tripped":true}`)); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if n, err := j.NextSeq("bot"); err != nil || n != uint64(i) {
			t.Fatalf("NextSeq = %d, %v; want %d", n, err, i)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}

	j = openT(t, path)
	defer j.Close()
	all, err := j.Orders(false)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 {
		t.Fatalf("got %d orders, want 3", len(all))
	}
	for i := range want {
		if all[i] != want[i] {
			t.Errorf("order %d:\n got %+v\nwant %+v", i, all[i], want[i])
		}
	}
	open, err := j.Orders(true)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, o := range open {
		ids = append(ids, o.ClientID)
	}
	sort.Strings(ids)
	if len(ids) != 2 || ids[0] != "a" || ids[1] != "c" {
		t.Errorf("open orders = %v, want [a c]", ids)
	}
	if b, err := j.GetState("risk"); err != nil || string(b) != `{"tripped":true}` {
		t.Errorf("GetState = %q, %v", b, err)
	}
	if _, err := j.GetState("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetState(missing) err = %v, want ErrNotFound", err)
	}
	if n, err := j.NextSeq("bot"); err != nil || n != 4 {
		t.Errorf("NextSeq after reopen = %d, %v; want 4", n, err)
	}
	if n, err := j.NextSeq("other"); err != nil || n != 1 {
		t.Errorf("NextSeq(other) = %d, %v; want 1 (separate counter)", n, err)
	}
}

func TestOpenIndexFollowsStatus(t *testing.T) {
	j := openT(t, filepath.Join(t.TempDir(), "j.db"))
	defer j.Close()
	r := rec("x", trading.StatusNew)
	if err := j.PutOrder(r); err != nil {
		t.Fatal(err)
	}
	r.Status = trading.StatusCanceled
	if err := j.PutOrder(r); err != nil {
		t.Fatal(err)
	}
	open, _ := j.Orders(true)
	if len(open) != 0 {
		t.Fatalf("final order still listed open: %+v", open)
	}
	got, err := j.Order("x")
	if err != nil || got.Status != trading.StatusCanceled {
		t.Fatalf("Order = %+v, %v", got, err)
	}
	if _, err := j.Order("y"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing order err = %v", err)
	}
}

func TestCreateOrder(t *testing.T) {
	j := openT(t, filepath.Join(t.TempDir(), "j.db"))
	defer j.Close()
	mk := func(seq uint64) (OrderRecord, error) {
		r := rec("id"+string(rune('0'+seq)), trading.StatusPending)
		r.Seq = seq
		return r, nil
	}
	r1, err := j.CreateOrder("p", mk)
	if err != nil || r1.Seq != 1 || r1.ClientID != "id1" {
		t.Fatalf("first = %+v, %v", r1, err)
	}
	// A failing build consumes no sequence number and writes nothing.
	if _, err := j.CreateOrder("p", func(uint64) (OrderRecord, error) { return OrderRecord{}, errors.New("boom") }); err == nil {
		t.Fatal("build error not returned")
	}
	r2, err := j.CreateOrder("p", mk)
	if err != nil || r2.Seq != 2 {
		t.Fatalf("second = %+v, %v", r2, err)
	}
	// A client id that is already journaled is refused: ids are never reused.
	if _, err := j.CreateOrder("p", func(uint64) (OrderRecord, error) { return rec("id1", trading.StatusPending), nil }); err == nil {
		t.Fatal("duplicate client id accepted")
	}
	all, _ := j.Orders(false)
	if len(all) != 2 {
		t.Fatalf("want 2 records, got %d", len(all))
	}
}

func TestLockedByAnotherOpener(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	j := openT(t, path)
	defer j.Close()
	_, err := Open(path, Options{LockTimeout: 50 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open err = %v, want ErrLocked", err)
	}
}

func TestPruneFinal(t *testing.T) {
	j := openT(t, filepath.Join(t.TempDir(), "j.db"))
	defer j.Close()
	old := rec("old", trading.StatusFilled)
	openOld := rec("open", trading.StatusNew)
	recent := rec("recent", trading.StatusFilled)
	recent.Updated = t0.Add(time.Hour)
	for _, r := range []OrderRecord{old, openOld, recent} {
		if err := j.PutOrder(r); err != nil {
			t.Fatal(err)
		}
	}
	n, err := j.PruneFinal(t0.Add(time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("PruneFinal = %d, %v; want 1", n, err)
	}
	if _, err := j.Order("old"); !errors.Is(err, ErrNotFound) {
		t.Error("old final order not pruned")
	}
	for _, id := range []string{"open", "recent"} {
		if _, err := j.Order(id); err != nil {
			t.Errorf("%s pruned: %v", id, err)
		}
	}
}

func TestObserverSeesWrites(t *testing.T) {
	var ops []string
	j, err := Open(filepath.Join(t.TempDir(), "j.db"), Options{Observe: func(op string, d time.Duration) {
		if d <= 0 {
			t.Errorf("%s: non-positive duration %v", op, d)
		}
		ops = append(ops, op)
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	_ = j.PutOrder(rec("a", trading.StatusNew))
	_, _ = j.NextSeq("p")
	_ = j.PutState("k", []byte("v"))
	if len(ops) != 3 || ops[0] != "put_order" || ops[1] != "next_seq" || ops[2] != "put_state" {
		t.Fatalf("observed %v", ops)
	}
}

// BenchmarkPutOrder measures one durable order write (bbolt commit + fsync).
func BenchmarkPutOrder(b *testing.B) {
	j := openT(b, filepath.Join(b.TempDir(), "j.db"))
	defer j.Close()
	r := rec("bench", trading.StatusNew)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r.FilledQty = fixed.Value(i)
		if err := j.PutOrder(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateOrder measures the submit-path write: sequence + record in
// one fsynced transaction.
func BenchmarkCreateOrder(b *testing.B) {
	j := openT(b, filepath.Join(b.TempDir(), "j.db"))
	defer j.Close()
	r := rec("", trading.StatusPending)
	b.ReportAllocs()
	for b.Loop() {
		_, err := j.CreateOrder("p", func(seq uint64) (OrderRecord, error) {
			r.ClientID = "p-1-" + string(rune('a'+seq%26)) + time.Duration(seq).String()
			return r, nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
