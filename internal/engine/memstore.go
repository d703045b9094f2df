package engine

import (
	"fmt"
	"sort"
	"sync"

	"github.com/bitrader/bitrader/internal/journal"
)

// MemStore is an in-memory ordermanager.Store for backtests, benchmarks and
// tests: the same contract as the bbolt journal without durability. It is
// safe for concurrent use.
type MemStore struct {
	mu     sync.Mutex
	orders map[string]*journal.OrderRecord
	seq    map[string]uint64
	state  map[string][]byte
	// spare holds records PruneFinal dropped: a backtest creates and
	// prunes orders all day, and a fresh record per order was garbage.
	spare []*journal.OrderRecord
}

// NewMemStore returns an empty store.
func NewMemStore() *MemStore {
	return &MemStore{orders: map[string]*journal.OrderRecord{}, seq: map[string]uint64{}, state: map[string][]byte{}}
}

// CreateOrder issues the next sequence for prefix and stores the record
// build returns, refusing a client id that already exists.
func (s *MemStore) CreateOrder(prefix string, build func(seq uint64) (journal.OrderRecord, error)) (journal.OrderRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	seq := s.seq[prefix] + 1
	rec, err := build(seq)
	if err != nil {
		return journal.OrderRecord{}, err
	}
	if _, dup := s.orders[rec.ClientID]; dup {
		return journal.OrderRecord{}, fmt.Errorf("memstore: client id %s already stored", rec.ClientID)
	}
	s.seq[prefix] = seq
	s.putLocked(rec)
	return rec, nil
}

func (s *MemStore) putLocked(r journal.OrderRecord) {
	if p, ok := s.orders[r.ClientID]; ok {
		*p = r
		return
	}
	var p *journal.OrderRecord
	if n := len(s.spare); n > 0 {
		p, s.spare = s.spare[n-1], s.spare[:n-1]
	} else {
		p = new(journal.OrderRecord)
	}
	*p = r
	s.orders[r.ClientID] = p
}

// PutOrder stores or replaces a record.
func (s *MemStore) PutOrder(r journal.OrderRecord) error {
	s.mu.Lock()
	s.putLocked(r)
	s.mu.Unlock()
	return nil
}

// Order returns one record or an error wrapping journal.ErrNotFound.
func (s *MemStore) Order(clientID string) (journal.OrderRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.orders[clientID]
	if !ok {
		return journal.OrderRecord{}, fmt.Errorf("memstore order %s: %w", clientID, journal.ErrNotFound)
	}
	return *r, nil
}

// Orders lists records (only open ones if openOnly) in client id order.
func (s *MemStore) Orders(openOnly bool) ([]journal.OrderRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]journal.OrderRecord, 0, len(s.orders))
	for _, r := range s.orders {
		if !openOnly || r.Open() {
			out = append(out, *r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ClientID < out[j].ClientID })
	return out, nil
}

// PutState stores a copy of value under key.
func (s *MemStore) PutState(key string, value []byte) error {
	s.mu.Lock()
	s.state[key] = append([]byte(nil), value...)
	s.mu.Unlock()
	return nil
}

// PutOrderAndState stores a record and a copy of value under key together,
// under the one lock, as the journal does in one transaction.
func (s *MemStore) PutOrderAndState(r journal.OrderRecord, key string, value []byte) error {
	s.mu.Lock()
	s.putLocked(r)
	s.state[key] = append([]byte(nil), value...)
	s.mu.Unlock()
	return nil
}

// GetState returns a copy of the value under key or an error wrapping
// journal.ErrNotFound.
func (s *MemStore) GetState(key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.state[key]
	if !ok {
		return nil, fmt.Errorf("memstore state %s: %w", key, journal.ErrNotFound)
	}
	return append([]byte(nil), v...), nil
}

// PruneFinal forgets orders in a final state, as the bbolt journal's
// PruneFinal does, so long backtests and benchmarks keep memory flat.
// Sequences are kept, so a pruned client id is never issued again.
func (s *MemStore) PruneFinal() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, r := range s.orders {
		if !r.Open() {
			delete(s.orders, id)
			*r = journal.OrderRecord{}
			s.spare = append(s.spare, r)
			n++
		}
	}
	return n
}
