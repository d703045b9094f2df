package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/bitrader/bitrader/internal/journal"
	"github.com/bitrader/bitrader/internal/ordermanager"
	"github.com/bitrader/bitrader/internal/risk"
)

// SharedRisk replicates the Core's breaker and halt state between HA
// replicas (each keeps its own journal). It keeps the exact bytes the Core
// writes to (or restored from) its journal under the risk and halt keys,
// so what is published is what survives a restart, and the Core needs no
// hook: wrap the Core's store with Store. Snapshot is safe to call from
// any goroutine (the leader elector's); the Core is not.
type SharedRisk struct {
	mu   sync.Mutex
	risk []byte // last risk state written or read, nil before
	halt []byte
	doc  []byte // encoded Snapshot, rebuilt on change
}

// sharedDoc is the replicated document: the journal's two state values
// verbatim.
type sharedDoc struct {
	Risk json.RawMessage `json:"risk,omitempty"`
	Halt json.RawMessage `json:"halt,omitempty"`
}

// NewSharedRisk returns an empty SharedRisk.
func NewSharedRisk() *SharedRisk { return &SharedRisk{} }

// Store wraps st: risk and halt state the Core puts or gets also lands in
// s. Everything else passes through.
func (s *SharedRisk) Store(st ordermanager.Store) ordermanager.Store {
	return sharedStore{Store: st, s: s}
}

// Snapshot is the document to publish, {"risk":…,"halt":…}, or nil while
// the Core has neither written nor restored any risk or halt state.
func (s *SharedRisk) Snapshot() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.doc
}

func (s *SharedRisk) note(key string, v []byte) {
	if key != riskStateKey && key != haltStateKey {
		return
	}
	v = bytes.Clone(v)
	s.mu.Lock()
	defer s.mu.Unlock()
	if key == riskStateKey {
		s.risk = v
	} else {
		s.halt = v
	}
	doc, err := json.Marshal(sharedDoc{Risk: s.risk, Halt: s.halt})
	if err != nil {
		return // not JSON: the Core never writes such state; keep the last good document
	}
	s.doc = doc
}

type sharedStore struct {
	ordermanager.Store
	s *SharedRisk
}

func (t sharedStore) PutState(key string, v []byte) error {
	if err := t.Store.PutState(key, v); err != nil {
		return err
	}
	t.s.note(key, v)
	return nil
}

func (t sharedStore) GetState(key string) ([]byte, error) {
	v, err := t.Store.GetState(key)
	if err == nil {
		t.s.note(key, v)
	}
	return v, err
}

func (t sharedStore) PutOrderAndState(r journal.OrderRecord, key string, v []byte) error {
	if err := t.Store.PutOrderAndState(r, key, v); err != nil {
		return err
	}
	t.s.note(key, v)
	return nil
}

// AdoptShared merges a replicated document (SharedRisk.Snapshot bytes as
// published by another replica) into the Core's risk and halt state and
// journals the result. A new leader calls it at the start of its term,
// before its takeover reconciliation and so before its first order.
//
// The merge keeps the more restrictive of the two: a kill switch,
// drawdown breaker or halt tripped on either side stays tripped (the
// earlier trip is kept); the daily baseline and daily-loss breaker come
// from the later UTC day, or on the same day the breaker is tripped if
// either tripped and the baseline is the higher; the equity peak is the
// higher; recent order times are the union. Empty b changes nothing.
// Owner goroutine only.
func (c *Core) AdoptShared(b []byte) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	var doc sharedDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("engine: decode shared risk state %.64q: %w", b, err)
	}
	var remote *risk.State
	if len(doc.Risk) > 0 && !bytes.Equal(doc.Risk, []byte("null")) {
		remote = new(risk.State)
		if err := json.Unmarshal(doc.Risk, remote); err != nil {
			return fmt.Errorf("engine: decode shared risk state: %w", err)
		}
	}
	var halt Halt
	if len(doc.Halt) > 0 {
		if err := json.Unmarshal(doc.Halt, &halt); err != nil {
			return fmt.Errorf("engine: decode shared halt state: %w", err)
		}
	}
	if remote != nil {
		st := mergeRisk(c.gate.Snapshot(), *remote)
		c.gate.Restore(st)
		// The gate changed behind persistRisk's caches.
		c.obsValid, c.riskKeyValid = false, false
		if err := c.saveRisk(st); err != nil {
			return err
		}
		for _, br := range c.breakers {
			if br.Tripped {
				c.log.Warn("breaker tripped (replicated)", "breaker", br.Name, "detail", br.Detail, "since", br.Since)
			}
		}
	}
	if merged := mergeHalt(c.halt, halt); merged != c.halt {
		c.halt = merged
		if merged.Halted {
			c.log.Warn("new entries halted (replicated)", "reason", merged.Reason, "since", merged.Since)
		} else {
			c.log.Info("halt lifted (replicated resume)", "resumed", merged.Resumed)
		}
		c.obs.Halted(merged.Halted, merged.Reason)
		if err := c.saveState(haltStateKey, c.halt); err != nil {
			c.setFatal(err)
			return err
		}
	}
	return nil
}

// mergeRisk is the more restrictive of two gate states (see AdoptShared).
func mergeRisk(local, remote risk.State) risk.State {
	out := local
	out.Kill = mergeBreaker(local.Kill, remote.Kill)
	out.Drawdown = mergeBreaker(local.Drawdown, remote.Drawdown)
	switch {
	case remote.Day.After(local.Day):
		out.Day, out.DayStartEquity, out.DailyLoss = remote.Day, remote.DayStartEquity, remote.DailyLoss
	case remote.Day.Equal(local.Day):
		out.DailyLoss = mergeBreaker(local.DailyLoss, remote.DailyLoss)
		out.DayStartEquity = max(local.DayStartEquity, remote.DayStartEquity)
	}
	// A drawdown release re-based the peak: the later re-base wins, so an
	// old high another replica still holds does not re-trip it at once.
	switch {
	case remote.PeakRebased.After(local.PeakRebased):
		out.PeakEquity, out.PeakRebased = remote.PeakEquity, remote.PeakRebased
	case local.PeakRebased.After(remote.PeakRebased):
	default:
		out.PeakEquity = max(local.PeakEquity, remote.PeakEquity)
	}
	orders := append(slices.Clone(local.RecentOrders), remote.RecentOrders...)
	slices.SortFunc(orders, func(a, b time.Time) int { return a.Compare(b) })
	out.RecentOrders = slices.CompactFunc(orders, time.Time.Equal)
	if len(out.RecentOrders) == 0 {
		out.RecentOrders = nil
	}
	return out
}

// mergeBreaker: tripped if either is, unless the other side was released
// at or after that trip (an operator's resume on one replica reaches the
// others); of two trips, the earlier.
func mergeBreaker(a, b risk.BreakerState) risk.BreakerState {
	return mergeTrip(a, b, func(s risk.BreakerState) (bool, time.Time, time.Time) { return s.Tripped, s.Since, s.Resumed })
}

// mergeHalt: the same rule for a halt.
func mergeHalt(a, b Halt) Halt {
	return mergeTrip(a, b, func(h Halt) (bool, time.Time, time.Time) { return h.Halted, h.Since, h.Resumed })
}

// mergeTrip merges two trip states given as (tripped, since, resumed).
func mergeTrip[T any](a, b T, get func(T) (tripped bool, since, resumed time.Time)) T {
	at, as, ar := get(a)
	bt, bs, br := get(b)
	switch {
	case at && bt:
		if bs.Before(as) {
			return b
		}
		return a
	case at:
		if !br.IsZero() && !br.Before(as) {
			return b
		}
		return a
	case bt:
		if !ar.IsZero() && !ar.Before(bs) {
			return a
		}
		return b
	case br.After(ar):
		return b
	}
	return a
}
