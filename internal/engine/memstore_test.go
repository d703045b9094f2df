package engine_test

import (
	"fmt"
	"testing"

	"github.com/bitrader/bitrader/internal/engine"
	"github.com/bitrader/bitrader/internal/journal"
	"github.com/bitrader/bitrader/internal/trading"
)

func TestMemStorePruneFinal(t *testing.T) {
	s := engine.NewMemStore()
	for i, st := range []trading.OrderStatus{trading.StatusNew, trading.StatusFilled, trading.StatusCanceled} {
		_, err := s.CreateOrder("p", func(seq uint64) (journal.OrderRecord, error) {
			return journal.OrderRecord{ClientID: fmt.Sprintf("p-1-%d", i), Seq: seq, Status: st}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := s.PruneFinal(); n != 2 {
		t.Fatalf("pruned %d, want 2", n)
	}
	open, _ := s.Orders(false)
	if len(open) != 1 || open[0].ClientID != "p-1-0" {
		t.Fatalf("left %+v", open)
	}
	// The sequence survives pruning: the next id is new.
	rec, err := s.CreateOrder("p", func(seq uint64) (journal.OrderRecord, error) {
		return journal.OrderRecord{ClientID: fmt.Sprintf("p-1-%d", seq), Seq: seq}, nil
	})
	if err != nil || rec.Seq != 4 {
		t.Fatalf("next seq = %d, %v; want 4", rec.Seq, err)
	}
}
