package journal

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/trading"
)

// The order record and the state blob land in one transaction (one observed
// commit) and both survive a reopen, as after a crash.
func TestPutOrderAndStateOneCommitSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	var ops []string
	j, err := Open(path, Options{Observe: func(op string, _ time.Duration) { ops = append(ops, op) }})
	if err != nil {
		t.Fatal(err)
	}
	r := rec("bot1-1-1", trading.StatusFilled)
	if err := j.PutOrderAndState(r, "ordermanager/ledger", []byte(`{"qty":"0.01"}`)); err != nil {
		t.Fatal(err)
	}
	if len(ops) != 1 || ops[0] != "put_order_state" {
		t.Fatalf("commits observed = %v, want exactly one put_order_state", ops)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j = openT(t, path)
	defer j.Close()
	got, err := j.Order(r.ClientID)
	if err != nil || got != r {
		t.Fatalf("order after reopen = %+v, %v", got, err)
	}
	if v, err := j.GetState("ordermanager/ledger"); err != nil || string(v) != `{"qty":"0.01"}` {
		t.Fatalf("state after reopen = %q, %v", v, err)
	}
	// A final record leaves the open index, as with PutOrder.
	if open, err := j.Orders(true); err != nil || len(open) != 0 {
		t.Fatalf("open = %+v, %v", open, err)
	}
}

// When one half of the combined write fails, neither half is written: the
// previous order record and state stay as they were.
func TestPutOrderAndStateAllOrNothing(t *testing.T) {
	tests := []struct {
		name  string
		order OrderRecord
		key   string
	}{
		// bbolt refuses an empty key: the state half fails after the
		// order half was written inside the transaction.
		{name: "state half fails", order: rec("bot1-1-1", trading.StatusFilled), key: ""},
		// The order half fails first.
		{name: "order half fails", order: rec("", trading.StatusFilled), key: "ordermanager/ledger"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "j.db")
			j := openT(t, path)
			old := rec("bot1-1-1", trading.StatusNew)
			old.FilledQty = 0
			if err := j.PutOrderAndState(old, "ordermanager/ledger", []byte("old")); err != nil {
				t.Fatal(err)
			}
			if err := j.PutOrderAndState(tc.order, tc.key, []byte("new")); err == nil {
				t.Fatal("combined write with a failing half succeeded")
			}
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			j = openT(t, path)
			defer j.Close()
			got, err := j.Order("bot1-1-1")
			if err != nil || got.Status != trading.StatusNew || got.FilledQty != fixed.Value(0) {
				t.Fatalf("order = %+v, %v; want the old record", got, err)
			}
			if v, err := j.GetState("ordermanager/ledger"); err != nil || string(v) != "old" {
				t.Fatalf("state = %q, %v; want old", v, err)
			}
			if open, _ := j.Orders(true); len(open) != 1 {
				t.Fatalf("open index = %+v", open)
			}
		})
	}
}

func TestPutOrderAndStateClosed(t *testing.T) {
	j := openT(t, filepath.Join(t.TempDir(), "j.db"))
	_ = j.Close()
	if err := j.PutOrderAndState(rec("a", trading.StatusNew), "k", nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("err = %v, want ErrClosed", err)
	}
}
