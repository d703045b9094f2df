package ordermanager

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

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
	// on the symbol may explain, or that fills still landing during the
	// check may (see reconcilePositions); counted but not "unexplained",
	// and the venue's position is not taken: the next run checks again.
	DriftPositionInFlight DriftKind = "position_in_flight"
	// DriftMissingOrder: an order we track as open that the venue does not
	// know at all.
	DriftMissingOrder DriftKind = "missing_order"
	// DriftResurrected: an order we had settled as never sent that the venue
	// has after all.
	DriftResurrected DriftKind = "resurrected"
)

// DriftKinds lists every kind (for metrics that create their series up
// front); TestDriftKindsListsEveryKind keeps it complete.
func DriftKinds() []DriftKind {
	return []DriftKind{DriftPosition, DriftPositionInFlight, DriftMissingOrder, DriftResurrected, DriftBalance}
}

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
	SettledNotSent  int     // Pending/Submitted orders settled as never sent (after LookupGrace, or AmbiguousLookupGrace if the place call was ambiguous)
	StillAmbiguous  int     // unsettled orders left for the next run (still open for the strategy)
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
// per prefix and policy, positions by drift counting (a mismatch is first
// explained by re-reading the symbol's orders; unexplained drift takes the
// venue's position), and the balance. Venue errors do not stop the run;
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
		if noClientID(o) {
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
			grace := m.cfg.LookupGrace
			if o.Ambiguous {
				grace = m.cfg.AmbiguousLookupGrace
			}
			if unsent && now.Sub(o.Updated) >= grace {
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
	posErr := m.reconcilePositions(ctx, &res)
	if posErr != nil {
		res.Errors = append(res.Errors, posErr)
	}

	// 4. Balance: on a live account, compared with the ledger's cash
	// (after this run's funding and adopted positions are booked).
	if b, err := m.venue.Balance(ctx); err != nil {
		res.Errors = append(res.Errors, fmt.Errorf("balance: %w", err))
	} else {
		m.mu.Lock()
		m.balance = b
		if posErr == nil { // else funding or a venue close may be unbooked
			m.checkBalanceLocked(b, &res)
		}
		if m.ledgerDirty {
			if err := m.saveLedgerLocked(); err != nil {
				res.Errors = append(res.Errors, err)
			}
		}
		m.mu.Unlock()
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

// reconcilePositions compares the venue's positions with the ledger.
//
// The open-orders listing (step 1) is older than the positions read, so a
// resting order may have filled in between: its fill is in the venue's
// position but not yet in the ledger, and its push is still queued. Taking
// the venue's position then would count the fill as drift (halting entries)
// and book it twice when the push arrives. So a mismatch is first explained
// by re-reading the symbol's open orders AFTER the positions read and
// booking their fills (from cumulative totals, so the later push adds
// nothing). If that booked a fill, positions are read again and the check
// repeats once. A mismatch that survives an order refresh which found no new
// fill is drift: every fill in that positions read is then already on the
// order records, so adopting the venue's quantity cannot be double counted.
// A refresh that still finds new fills (or fails) leaves the mismatch as
// in-flight for the next run.
func (m *Manager) reconcilePositions(ctx context.Context, res *ReconcileResult) error {
	venuePos, err := m.venue.Positions(ctx)
	if err != nil {
		return fmt.Errorf("positions: %w", err)
	}
	mismatched := m.positionMismatches(venuePos)
	var moving map[string]bool // symbols whose latest order refresh found fills or failed
	if len(mismatched) > 0 {
		moving = m.refreshSymbolOrders(ctx, mismatched, res)
		if len(moving) > 0 {
			venuePos, err = m.venue.Positions(ctx)
			if err != nil {
				return fmt.Errorf("positions (after order refresh): %w", err)
			}
			mismatched = m.positionMismatches(venuePos)
			moving = nil
			if len(mismatched) > 0 {
				moving = m.refreshSymbolOrders(ctx, mismatched, res)
			}
		}
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	unsettled := map[string]bool{}
	for k, o := range m.orders {
		if m.inflight[k] || o.Status == trading.StatusPending || o.Status == trading.StatusSubmitted {
			unsettled[o.Intent.Symbol] = true
		}
	}
	changed := false
	for _, s := range slices.Sorted(maps.Keys(mismatched)) {
		v := mismatched[s]
		local := m.ledger.qty(s)
		if local == v.Qty {
			continue // the refresh booked what was missing
		}
		kind := DriftPosition
		if unsettled[s] || moving[s] {
			kind = DriftPositionInFlight
		}
		res.Drifts = append(res.Drifts, Drift{Kind: kind, Symbol: s, Local: local, Venue: v.Qty})
		if kind == DriftPosition {
			// The exchange is the source of truth; take its position so the
			// same difference is not counted again on every run. The order
			// records already hold every fill in this position (the refresh
			// after the read found none new), so no push can book it again.
			// What the venue closed on its own is realised at the last mark
			// (Ledger.SetPosition); the balance check below catches the rest.
			if pnl := m.ledger.SetPosition(s, v.Qty, v.AvgEntry); pnl != 0 {
				m.logEvent("", fmt.Sprintf("realised %s on %s closed by the venue (at the last mark)", pnl, s))
			}
			changed = true
		}
	}
	if changed {
		m.ledgerChangedLocked()
	}
	m.reconcileFundingLocked(venuePos)
	// Reconciliation is a safe point: write coalesced changes too.
	if m.ledgerDirty {
		return m.saveLedgerLocked()
	}
	return nil
}

// positionMismatches returns the venue's report (zero if flat) for every
// symbol whose venue quantity differs from the ledger's.
func (m *Manager) positionMismatches(venuePos []PositionReport) map[string]PositionReport {
	m.mu.Lock()
	defer m.mu.Unlock()
	venue := make(map[string]PositionReport, len(venuePos))
	for _, p := range venuePos {
		venue[p.Symbol] = p
	}
	out := map[string]PositionReport{}
	for s, v := range venue {
		if m.ledger.qty(s) != v.Qty {
			out[s] = v
		}
	}
	for s, p := range m.ledger.Positions {
		if _, ok := venue[s]; !ok && p.Qty != 0 {
			out[s] = PositionReport{Symbol: s}
		}
	}
	return out
}

// refreshSymbolOrders re-reads from the venue every order we track as open
// on the given symbols (the listing, then a client id lookup for those no
// longer listed) and applies the reports, booking any fills. It returns the
// symbols where a fill was booked or an order's state could not be read:
// their position may still be moving, so a mismatch there is not drift yet.
// Orders with a Place in progress are left to Submit (their symbol counts as
// unsettled anyway).
func (m *Manager) refreshSymbolOrders(ctx context.Context, symbols map[string]PositionReport, res *ReconcileResult) map[string]bool {
	moving := map[string]bool{}
	for _, s := range slices.Sorted(maps.Keys(symbols)) {
		m.mu.Lock()
		var mine []OrderRecord
		for k, o := range m.orders {
			if o.Intent.Symbol == s && o.Open() && !m.inflight[k] {
				mine = append(mine, *o)
			}
		}
		m.mu.Unlock()
		if len(mine) == 0 {
			continue
		}
		listed, err := m.venue.OpenOrders(ctx, s)
		if err != nil {
			res.Errors = append(res.Errors, fmt.Errorf("list open orders on %s (position check): %w", s, err))
			moving[s] = true
			continue
		}
		bykey := make(map[string]Report, len(listed))
		for _, r := range listed {
			bykey[keyOf(r)] = r
		}
		for _, o := range mine {
			rep, ok := bykey[o.ClientID]
			if !ok {
				if noClientID(o) {
					moving[s] = true // no client id to look up: cannot tell
					continue
				}
				var lerr error
				rep, lerr = m.venue.OrderByClientID(ctx, o.ClientID)
				if errors.Is(lerr, ErrNotFound) {
					continue // step 2 deals with orders the venue does not know
				}
				if lerr != nil {
					res.Errors = append(res.Errors, fmt.Errorf("look up %s (position check): %w", o.ClientID, lerr))
					moving[s] = true
					continue
				}
			}
			after, aerr := m.apply(o.ClientID, Event{Kind: EvReport, Time: m.now(), Report: rep}, "reconcile position check "+rep.Status.String())
			if aerr != nil {
				res.Errors = append(res.Errors, aerr)
				moving[s] = true
				continue
			}
			if after != o {
				res.Settled++
			}
			if after.FilledQty != o.FilledQty {
				moving[s] = true
			}
		}
	}
	return moving
}
