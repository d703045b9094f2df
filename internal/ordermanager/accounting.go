package ordermanager

import (
	"fmt"

	"github.com/bitrader/bitrader/internal/fixed"
)

// Keeping the ledger's equity equal to a live exchange account's
// (LiveAccount venues only; the local venues are untouched).
//
// Three things move a real account that no order report shows:
//   - Funding: booked from the cumulative funding each position report and
//     push carries, as the change since the last value seen for that
//     position id (Ledger.FundingSeen, journaled). The first positions read
//     after start only records the values: the start balance, read from the
//     exchange at start, already holds every payment made until then.
//   - A position the venue closed on its own (liquidation, a manual close):
//     Reconcile takes the venue's quantity and Ledger.SetPosition realises
//     the closed part at the last mark, so equity keeps its unrealised PnL
//     instead of dropping it.
//   - Everything else (the true close price and liquidation fee of such a
//     close, deposits, withdrawals, a funding payment on a position closed
//     between two reads, exchange rounding): Reconcile compares the venue's
//     balance with the ledger's cash, and when the same difference (beyond
//     BalanceTolerance) is found by two reconciliations in a row it rebases
//     the ledger's start balance by it and records a DriftBalance, which
//     does not halt. Waiting for a second sighting keeps a fill whose push
//     is still queued from being mistaken for a deposit (and then undone).
//     A Manager restored from a snapshot starts from the venue's balance.

// DriftBalance: the venue's balance differed from the ledger's cash
// (start balance + realised - fees + funding) in two reconciliations in a
// row; the ledger's start balance was moved by the difference. Deposits and
// withdrawals do this, so it does not stop entries.
const DriftBalance DriftKind = "balance"

// defaultBalanceTolerance is 0.01 in the margin coin (fixed.Value is
// scaled by 1e8).
const defaultBalanceTolerance fixed.Value = 1_000_000

// liveAccounting is the Manager's state for the above; guarded by m.mu.
type liveAccounting struct {
	live bool // the venue is a LiveAccount
	// fundingSynced: a positions read has set the funding baselines.
	fundingSynced bool
	// pendingDiff is the balance difference seen by the last
	// reconciliation, waiting for a second sighting; zero if none (a
	// difference is only kept when beyond BalanceTolerance, which is > 0).
	pendingDiff fixed.Value
	// startRebase is what New moved a snapshot's start balance by.
	startRebase fixed.Value
}

// StartRebase is how much New moved a restored snapshot's start balance to
// meet the venue's balance at start (zero if it did not). Equity moved by
// as much without any PnL: a caller keeping equity baselines (the risk
// gate's day start and peak) should move them too, as for a DriftBalance
// (whose amount is Venue - Local).
func (m *Manager) StartRebase() fixed.Value {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.acct.startRebase
}

// fundingKey is the FundingSeen key of a venue position.
func fundingKey(symbol, positionID string) string { return symbol + "/" + positionID }

// PositionFunding records the cumulative funding (positive received) of a
// venue position from a position push and returns the payment to book
// since the last report of that position: the caller books it through
// Core.OnFunding, whose ledger snapshot then holds the new baseline too.
// It returns zero for a repeated report, on venues that are not a
// LiveAccount (their funding arrives through OnFunding), without a
// position id, and before the first reconciliation has set the baselines.
func (m *Manager) PositionFunding(symbol, positionID string, cumulative fixed.Value) fixed.Value {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.acct.live || positionID == "" {
		return 0
	}
	d := m.ledger.SeeFunding(fundingKey(symbol, positionID), cumulative)
	if d != 0 || !m.acct.fundingSynced {
		m.ledgerDirty = true // the baseline moved; totals did not
	}
	if !m.acct.fundingSynced {
		return 0
	}
	return d
}

// reconcileFundingLocked books the funding the venue's positions carry
// beyond their baselines and forgets the baselines of positions the venue
// no longer has. The first call after start only sets the baselines.
func (m *Manager) reconcileFundingLocked(venuePos []PositionReport) {
	if !m.acct.live {
		return
	}
	open := make(map[string]bool, len(venuePos))
	changed := false
	for _, p := range venuePos {
		if p.PositionID == "" {
			continue
		}
		k := fundingKey(p.Symbol, p.PositionID)
		open[k] = true
		if prev, ok := m.ledger.FundingSeen[k]; ok && prev == p.Funding {
			continue
		}
		d := m.ledger.SeeFunding(k, p.Funding)
		changed = true
		if !m.acct.fundingSynced || d == 0 {
			continue
		}
		m.ledger.ApplyFunding(p.Symbol, d)
		m.logEvent("", fmt.Sprintf("funding %s %s (position %s, reconcile)", p.Symbol, d, p.PositionID))
	}
	for k := range m.ledger.FundingSeen {
		if !open[k] {
			delete(m.ledger.FundingSeen, k)
			changed = true
		}
	}
	m.acct.fundingSynced = true
	if changed {
		m.ledgerChangedLocked()
	}
}

// checkBalanceLocked compares the venue's balance with the ledger's cash
// and rebases the start balance on a difference seen twice in a row.
func (m *Manager) checkBalanceLocked(b BalanceReport, res *ReconcileResult) {
	if !m.acct.live {
		return
	}
	cash := m.ledger.Cash()
	venue := b.Total()
	diff := venue - cash
	tol := m.cfg.BalanceTolerance
	switch {
	case diff.Abs() <= tol:
		m.acct.pendingDiff = 0
		return
	case (diff - m.acct.pendingDiff).Abs() > tol:
		// First sighting (nothing pending: |diff| > tol) or a different
		// difference: a fill still on its way looks like this too. Check
		// again next time.
		m.acct.pendingDiff = diff
		m.logEvent("", fmt.Sprintf("balance: venue %s, ledger cash %s: checking again at the next reconciliation", venue, cash))
		return
	}
	m.acct.pendingDiff = 0
	m.ledger.StartBalance += diff
	m.ledgerChangedLocked()
	res.Drifts = append(res.Drifts, Drift{Kind: DriftBalance, Local: cash, Venue: venue,
		Detail: fmt.Sprintf("start balance rebased by %s (deposit, withdrawal, or PnL the ledger did not see)", diff)})
}

// adoptStartBalance makes a snapshot-restored ledger's cash equal start,
// the venue's balance read at start (LiveAccount venues, when given): the
// snapshot may come from an earlier run, with deposits or withdrawals
// since. Realised PnL, fees and funding history are kept; only the start
// balance moves. Called from New, before the Manager is shared.
func (m *Manager) adoptStartBalance(start fixed.Value) {
	if !m.acct.live || start == 0 {
		return
	}
	cash := m.ledger.Cash()
	diff := start - cash
	if diff == 0 {
		return
	}
	m.ledger.StartBalance += diff
	m.acct.startRebase = diff
	m.ledgerChangedLocked()
	if diff.Abs() > m.cfg.BalanceTolerance {
		if m.drift.ByKind == nil {
			m.drift.ByKind = map[DriftKind]int{}
		}
		m.drift.ByKind[DriftBalance]++
		m.logEvent("", fmt.Sprintf("drift %s: snapshot cash %s, venue %s at start: start balance rebased by %s", DriftBalance, cash, start, diff))
	}
}
