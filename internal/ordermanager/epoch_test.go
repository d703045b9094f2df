package ordermanager

import (
	"context"
	"testing"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/trading"
)

// A new term's epoch is in the client ids of every order submitted after
// SetEpoch, and the fence is asked about that epoch, not the old one.
func TestSetEpochNewIDsAndFence(t *testing.T) {
	r := newRig(t)
	var asked []uint64
	r.cfg.Fence = FenceFunc(func(e uint64) bool { asked = append(asked, e); return e == 7 })
	r.open()
	if _, err := r.m.Submit(context.Background(), limitBuy("0.01", "50000")); err == nil {
		t.Fatal("epoch 1 submitted although the fence only allows 7")
	}
	r.m.SetEpoch(7)
	if got := r.m.Epoch(); got != 7 {
		t.Fatalf("Epoch() = %d", got)
	}
	got, err := r.m.Submit(context.Background(), limitBuy("0.01", "50000"))
	if err != nil {
		t.Fatal(err)
	}
	_, epoch, _, err := ParseClientID(got.ClientID)
	if err != nil || epoch != 7 || got.Epoch != 7 {
		t.Fatalf("client id %s epoch %d (record %d), err %v", got.ClientID, epoch, got.Epoch, err)
	}
	for _, e := range asked[1:] {
		if e != 7 {
			t.Fatalf("fence asked about epoch %d after SetEpoch(7): %v", e, asked)
		}
	}
	if s := r.m.Status(); s.Epoch != 7 {
		t.Fatalf("status epoch %d", s.Epoch)
	}
}

// A standby (fence shut) reconciles read-only: foreign orders are not
// cancelled even under ForeignCancel.
func TestReconcileForeignCancelOnlyWhenAllowed(t *testing.T) {
	r := newRig(t)
	r.cfg.Foreign = ForeignCancel
	r.open()
	r.v.add(Report{ClientID: "manual1", OrderID: "m1", Symbol: "BTCUSDT", Side: trading.Buy, Type: trading.Limit,
		Price: fixed.MustParse("100"), Qty: fixed.MustParse("1"), Status: trading.StatusNew})
	r.fence = false
	res, _ := r.m.Reconcile(context.Background())
	if len(r.v.cancels) != 0 || res.CanceledForeign != 0 || res.IgnoredForeign != 1 {
		t.Fatalf("standby cancelled: cancels %v, result %+v", r.v.cancels, res)
	}
	r.fence = true
	res, _ = r.m.Reconcile(context.Background())
	if len(r.v.cancels) != 1 || res.CanceledForeign != 1 {
		t.Fatalf("leader did not cancel: cancels %v, result %+v", r.v.cancels, res)
	}
}
