package ordermanager

import (
	"context"
	"errors"
	"fmt"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/trading"
)

// DriftKind classifies a difference between local state and the venue.
type DriftKind string

// Drift kinds.
const (
	// DriftPosition: the venue's position quantity differs from the ledger's
	// with no order in flight on that symbol to explain it.
	DriftPosition DriftKind = "position"
	// DriftPositionInFlight: a position difference that an unsettled order
	// on the symbol may explain; counted but not "unexplained".
	DriftPositionInFlight DriftKind = "position_in_flight"
	// DriftMissingOrder: an order we track as open that the venue does not
	// know at all.
	DriftMissingOrder DriftKind = "missing_order"
	// DriftResurrected: an order we had settled as never sent that the venue
	// has after all.
	DriftResurrected DriftKind = "resurrected"
)

// Drift is one difference found.
type Drift struct {
	Kind     DriftKind   `json:"kind"`
	Symbol   string      `json:"symbol,omitempty"`
	ClientID string      `json:"clientId,omitempty"`
	Local    fixed.Value `json:"local"`
	Venue    fixed.Value `json:"venue"`
	Detail   string      `json:"detail,omitempty"`
}

// Unexplained reports whether this drift should stop new entries.
func (d Drift) Unexplained() bool {
	return d.Kind == DriftPosition || d.Kind == DriftMissingOrder || d.Kind == DriftResurrected
}

// DriftTotals counts drift by kind since start.
type DriftTotals struct {
	ByKind      map[DriftKind]int `json:"byKind,omitempty"`
	Unexplained int               `json:"unexplained"`
}

// ReconcileResult says what one reconciliation run did, for metrics.
type ReconcileResult struct {
	Checked         int     // local open orders checked
	Settled         int     // local orders whose state the venue changed
	SettledNotSent  int     // Pending/Submitted orders settled as never sent
	StillAmbiguous  int     // unsettled orders left for the next run
	AdoptedOurs     int     // venue orders with our prefix we did not track
	AdoptedForeign  int     // foreign orders adopted per policy
	CanceledForeign int     // foreign orders cancelled per policy
	IgnoredForeign  int     // foreign orders left alone per policy
	Drifts          []Drift // every difference found
	Errors          []error // venue calls that failed; the run went on
}

// Unexplained reports whether any drift found should stop new entries.
func (r ReconcileResult) Unexplained() bool {
	for _, d := range r.Drifts {
		if d.Unexplained() {
			return true
		}
	}
	return false
}

// Reconcile compares local state with the venue and settles differences:
// unsettled and missing orders by client id lookup, unknown venue orders
// per prefix and policy, positions by drift counting (then the venue's
// position is taken), and the balance. Venue errors do not stop the run;
// they are returned in the result and as the joined error.
func (m *Manager) Reconcile(ctx context.Context) (ReconcileResult, error) {
	start := m.now()
	var res ReconcileResult

	venueOpen, err := m.venue.OpenOrders(ctx, "")
	if err != nil {
		res.Errors = append(res.Errors, fmt.Errorf("list open orders: %w", err))
	}
	onVenue := make(map[string]Report, len(venueOpen))
	for _, r := range venueOpen {
		onVenue[keyOf(r)] = r
	}

	// 1. Venue open orders: catch up ours, adopt untracked ours, apply the
	// policy to foreign ones.
	for _, r := range venueOpen {
		key := keyOf(r)
		m.mu.Lock()
		cur, tracked := m.orders[key]
		var wasNeverSent bool
		if tracked {
			wasNeverSent = cur.NeverSent
		}
		m.mu.Unlock()
		ours := IsOurs(r.ClientID, m.cfg.Prefix)
		if !tracked && !ours {
			switch m.cfg.Foreign {
			case ForeignIgnore:
				res.IgnoredForeign++
				continue
			case ForeignCancel:
				// Cancelling changes the account: only the active trader
				// may (a standby reconciles read-only).
				if !m.cfg.Fence.Allowed(m.epoch.Load()) {
					res.IgnoredForeign++
					continue
				}
				if err := m.venue.Cancel(ctx, OrderRef{Symbol: r.Symbol, ClientID: r.ClientID, OrderID: r.OrderID}); err != nil {
					res.Errors = append(res.Errors, fmt.Errorf("cancel foreign order %s: %w", r.OrderID, err))
				} else {
					res.CanceledForeign++
					m.mu.Lock()
					m.logEvent(key, "cancelled foreign order "+r.OrderID)
					m.mu.Unlock()
				}
				continue
			}
		}
		m.mu.Lock()
		if !tracked {
			var journaled bool
			if _, err := m.store.Order(key); err == nil {
				journaled = true
			}
			if err := m.trackLocked(r); err != nil {
				res.Errors = append(res.Errors, err)
				m.mu.Unlock()
				continue
			}
			wasNeverSent = m.orders[key].NeverSent
			if !journaled {
				if ours {
					res.AdoptedOurs++
				} else {
					res.AdoptedForeign++
				}
			}
		}
		before := *m.orders[key]
		after, err := m.applyLocked(key, Event{Kind: EvReport, Time: m.now(), Report: r}, "reconcile "+r.Status.String())
		m.mu.Unlock()
		if err != nil {
			res.Errors = append(res.Errors, err)
			continue
		}
		if wasNeverSent {
			res.Drifts = append(res.Drifts, Drift{Kind: DriftResurrected, Symbol: r.Symbol, ClientID: key, Detail: "settled as never sent, but open on the venue"})
		}
		if after != before && tracked {
			res.Settled++
		}
	}

	// 2. Local open orders the venue did not list: look each up by client id.
	m.mu.Lock()
	var check []OrderRecord
	for k, o := range m.orders {
		if o.Open() && !m.inflight[k] {
			if _, listed := onVenue[k]; !listed || err != nil {
				check = append(check, *o)
			}
		}
	}
	m.mu.Unlock()
	now := m.now()
	for _, o := range check {
		if err != nil {
			break // without the venue listing we cannot tell missing from open
		}
		res.Checked++
		if o.Adopted && len(o.ClientID) > 2 && o.ClientID[:2] == "x-" {
			continue // foreign without client id: cannot look up; left open
		}
		rep, lerr := m.venue.OrderByClientID(ctx, o.ClientID)
		switch {
		case lerr == nil:
			after, aerr := m.apply(o.ClientID, Event{Kind: EvReport, Time: m.now(), Report: rep}, "reconcile lookup "+rep.Status.String())
			if aerr != nil {
				res.Errors = append(res.Errors, aerr)
			} else if after != o {
				res.Settled++
			}
		case errors.Is(lerr, ErrNotFound):
			unsent := o.Status == trading.StatusPending || o.Status == trading.StatusSubmitted
			if unsent && now.Sub(o.Updated) >= m.cfg.LookupGrace {
				if _, aerr := m.apply(o.ClientID, Event{Kind: EvNotFound, Time: now}, "settled: never reached the venue"); aerr != nil {
					res.Errors = append(res.Errors, aerr)
				} else {
					res.SettledNotSent++
				}
			} else if unsent {
				res.StillAmbiguous++
			} else {
				res.Drifts = append(res.Drifts, Drift{Kind: DriftMissingOrder, Symbol: o.Intent.Symbol, ClientID: o.ClientID, Detail: "open locally, unknown to the venue"})
			}
		default:
			res.StillAmbiguous++
			res.Errors = append(res.Errors, fmt.Errorf("look up %s: %w", o.ClientID, lerr))
		}
	}

	// 3. Positions.
	if err := m.reconcilePositions(ctx, &res); err != nil {
		res.Errors = append(res.Errors, err)
	}

	// 4. Balance.
	if b, err := m.venue.Balance(ctx); err != nil {
		res.Errors = append(res.Errors, fmt.Errorf("balance: %w", err))
	} else {
		m.OnBalance(b)
	}

	m.mu.Lock()
	if m.drift.ByKind == nil {
		m.drift.ByKind = map[DriftKind]int{}
	}
	for _, d := range res.Drifts {
		m.drift.ByKind[d.Kind]++
		if d.Unexplained() {
			m.drift.Unexplained++
		}
		m.logEvent(d.ClientID, fmt.Sprintf("drift %s %s local %s venue %s", d.Kind, d.Symbol, d.Local, d.Venue))
	}
	m.logEvent("", fmt.Sprintf("reconciled: settled %d, not sent %d, adopted %d+%d, drifts %d, errors %d",
		res.Settled, res.SettledNotSent, res.AdoptedOurs, res.AdoptedForeign, len(res.Drifts), len(res.Errors)))
	m.mu.Unlock()
	m.obs.Reconciled(res, m.now().Sub(start))
	return res, errors.Join(res.Errors...)
}

func (m *Manager) reconcilePositions(ctx context.Context, res *ReconcileResult) error {
	venuePos, err := m.venue.Positions(ctx)
	if err != nil {
		return fmt.Errorf("positions: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	venueQty := map[string]PositionReport{}
	for _, p := range venuePos {
		venueQty[p.Symbol] = p
	}
	symbols := map[string]bool{}
	for s := range venueQty {
		symbols[s] = true
	}
	for s, p := range m.ledger.Positions {
		if p.Qty != 0 {
			symbols[s] = true
		}
	}
	unsettled := map[string]bool{}
	for k, o := range m.orders {
		if m.inflight[k] || o.Status == trading.StatusPending || o.Status == trading.StatusSubmitted {
			unsettled[o.Intent.Symbol] = true
		}
	}
	changed := false
	for s := range symbols {
		var local fixed.Value
		if p := m.ledger.Positions[s]; p != nil {
			local = p.Qty
		}
		v := venueQty[s]
		if local == v.Qty {
			continue
		}
		kind := DriftPosition
		if unsettled[s] {
			kind = DriftPositionInFlight
		}
		res.Drifts = append(res.Drifts, Drift{Kind: kind, Symbol: s, Local: local, Venue: v.Qty})
		if kind == DriftPosition {
			// The exchange is the source of truth; take its position so the
			// same difference is not counted again on every run.
			m.ledger.SetPosition(s, v.Qty, v.AvgEntry)
			changed = true
		}
	}
	if changed {
		m.ledgerChangedLocked()
	}
	// Reconciliation is a safe point: write coalesced changes too.
	if m.ledgerDirty {
		return m.saveLedgerLocked()
	}
	return nil
}
