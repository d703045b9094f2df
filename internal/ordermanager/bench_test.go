package ordermanager

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/bitrader/bitrader/internal/journal"
)

// memStore is an in-memory Store, to measure the submit path without fsync.
type memStore struct {
	mu     sync.Mutex
	seq    map[string]uint64
	orders map[string]journal.OrderRecord
	state  map[string][]byte
}

func newMemStore() *memStore {
	return &memStore{seq: map[string]uint64{}, orders: map[string]journal.OrderRecord{}, state: map[string][]byte{}}
}

func (s *memStore) CreateOrder(prefix string, build func(uint64) (journal.OrderRecord, error)) (journal.OrderRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq[prefix]++
	r, err := build(s.seq[prefix])
	if err == nil {
		s.orders[r.ClientID] = r
	}
	return r, err
}
func (s *memStore) PutOrder(r journal.OrderRecord) error {
	s.mu.Lock()
	s.orders[r.ClientID] = r
	s.mu.Unlock()
	return nil
}
func (s *memStore) Order(id string) (journal.OrderRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.orders[id]
	if !ok {
		return r, journal.ErrNotFound
	}
	return r, nil
}
func (s *memStore) Orders(bool) ([]journal.OrderRecord, error) { return nil, nil }
func (s *memStore) PutState(k string, v []byte) error {
	s.mu.Lock()
	s.state[k] = v
	s.mu.Unlock()
	return nil
}
func (s *memStore) GetState(k string) ([]byte, error) { return nil, journal.ErrNotFound }
func (s *memStore) PutOrderAndState(r journal.OrderRecord, k string, v []byte) error {
	s.mu.Lock()
	s.orders[r.ClientID] = r
	s.state[k] = v
	s.mu.Unlock()
	return nil
}

// nullVenue accepts everything and keeps nothing, so the benchmark measures
// the manager, not a fake exchange's bookkeeping.
type nullVenue struct{ fakeVenue }

func (*nullVenue) Place(_ context.Context, o Order) (Ack, error) {
	return Ack{OrderID: "1", ClientID: o.ClientID}, nil
}

func benchSubmit(b *testing.B, store Store) {
	clk := &clock{t: t0}
	m, err := New(Config{Prefix: "bot1", Epoch: 1, Now: clk.Now}, &nullVenue{}, store)
	if err != nil {
		b.Fatal(err)
	}
	in := limitBuy("0.01", "50000")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		rec, err := m.Submit(ctx, in)
		if err != nil {
			b.Fatal(err)
		}
		m.mu.Lock()
		delete(m.orders, rec.ClientID) // keep memory flat across iterations
		m.mu.Unlock()
	}
}

// BenchmarkSubmitMemStore: the submit path without disk or venue cost.
func BenchmarkSubmitMemStore(b *testing.B) { benchSubmit(b, newMemStore()) }

// BenchmarkSubmitJournal: the real submit path with two fsynced bbolt
// commits (intent before send, New after the ack) and a no-op venue.
func BenchmarkSubmitJournal(b *testing.B) {
	j, err := journal.Open(filepath.Join(b.TempDir(), "j.db"), journal.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	benchSubmit(b, j)
}
