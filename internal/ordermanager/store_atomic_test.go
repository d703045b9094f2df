package ordermanager

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/journal"
	"github.com/bitrader/bitrader/internal/trading"
)

var errCrashed = errors.New("simulated crash: write not made")

// crashingStore lets budget more writes through, then fails every write, as
// if the process died there: what reached the journal before is all a
// restart sees. A negative budget means unlimited.
type crashingStore struct {
	*journal.Journal
	budget int
}

func (s *crashingStore) spend() error {
	if s.budget == 0 {
		return errCrashed
	}
	if s.budget > 0 {
		s.budget--
	}
	return nil
}

func (s *crashingStore) CreateOrder(prefix string, build func(uint64) (journal.OrderRecord, error)) (journal.OrderRecord, error) {
	if err := s.spend(); err != nil {
		return journal.OrderRecord{}, err
	}
	return s.Journal.CreateOrder(prefix, build)
}

func (s *crashingStore) PutOrder(r journal.OrderRecord) error {
	if err := s.spend(); err != nil {
		return err
	}
	return s.Journal.PutOrder(r)
}

func (s *crashingStore) PutState(k string, v []byte) error {
	if err := s.spend(); err != nil {
		return err
	}
	return s.Journal.PutState(k, v)
}

func (s *crashingStore) PutOrderAndState(r journal.OrderRecord, k string, v []byte) error {
	if err := s.spend(); err != nil {
		return err
	}
	return s.Journal.PutOrderAndState(r, k, v)
}

// TestFillRecordAndLedgerAtomic: the process dies while a fill is being
// written. Whatever the crash point, after a restart and the venue's
// re-delivery of the report, the fill is booked exactly once. With two
// separate writes (order record, then ledger snapshot), a crash between them
// left the fill on the record, so the re-delivered report derived nothing
// and the position was lost.
func TestFillRecordAndLedgerAtomic(t *testing.T) {
	for _, tc := range []struct {
		name   string
		writes int // writes that reach the disk once the fill arrives
	}{
		{"crash before any write", 0},
		{"crash after the first write", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			st := &crashingStore{Journal: r.j, budget: -1}
			m, err := New(r.cfg, r.v, st)
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.Submit(context.Background(), limitBuy("0.01", "50000"))
			if err != nil {
				t.Fatal(err)
			}
			fill := Report{ClientID: got.ClientID, OrderID: got.ExchangeID, Symbol: "BTCUSDT", Status: trading.StatusFilled,
				FilledQty: fixed.MustParse("0.01"), AvgPrice: fixed.FromInt(50000), Fee: fixed.MustParse("0.3")}
			st.budget = tc.writes
			if err := m.OnOrderReport(fill); err == nil && tc.writes == 0 {
				t.Fatal("fill with a failed write reported no error")
			}
			if tc.writes == 0 {
				// Memory did not run ahead of disk.
				if o, _ := m.Order(got.ClientID); o.FilledQty != 0 {
					t.Fatalf("order in memory after failed write: %+v", o)
				}
				if ps := m.Positions(); len(ps) != 0 && ps[0].Qty != 0 {
					t.Fatalf("ledger in memory after failed write: %+v", ps)
				}
			}

			r.open() // restart from whatever reached the journal
			if err := r.m.OnOrderReport(fill); err != nil {
				t.Fatal(err)
			}
			ps := r.m.Positions()
			if len(ps) != 1 || ps[0].Qty != fixed.MustParse("0.01") || ps[0].Fees != fixed.MustParse("0.3") {
				t.Fatalf("positions after restart and re-delivery = %+v, want 0.01 with fee 0.3 (booked once)", ps)
			}
		})
	}
}

// TestFillSnapshotUsesOneWrite: with a snapshot due, a fill costs one store
// write (order and ledger together); when the snapshot is coalesced, the
// order record alone is written as before.
func TestFillSnapshotUsesOneWrite(t *testing.T) {
	for _, tc := range []struct {
		name      string
		every     time.Duration // LedgerSnapshotEvery
		wantState bool          // ledger snapshot in the journal right after the fill
	}{
		{"every fill", 0, true},
		{"coalesced", -1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			r.cfg.LedgerSnapshotEvery = tc.every
			r.open()
			got, err := r.m.Submit(context.Background(), limitBuy("0.01", "50000"))
			if err != nil {
				t.Fatal(err)
			}
			st := &crashingStore{Journal: r.j, budget: 1}
			r.m.store = st
			if err := r.m.OnOrderReport(Report{ClientID: got.ClientID, Status: trading.StatusFilled,
				FilledQty: fixed.MustParse("0.01"), AvgPrice: fixed.FromInt(50000)}); err != nil {
				t.Fatalf("fill needed more than one write: %v", err)
			}
			if o, err := r.j.Order(got.ClientID); err != nil || o.FilledQty != fixed.MustParse("0.01") {
				t.Fatalf("journaled order = %+v, %v", o, err)
			}
			_, err = r.j.GetState(ledgerStateKey)
			if gotState := err == nil; gotState != tc.wantState {
				t.Fatalf("snapshot written = %v, want %v (%v)", gotState, tc.wantState, err)
			}
		})
	}
}
