// Package matching is bitrader's exchange core: the matching engine and
// perpetual-futures accounting shared by the simulator, the paper venue and
// the backtest venue.
//
// It is a pure, single-threaded state machine: no goroutines, no clock, no
// I/O. Callers pass timestamps, serialise access, feed market data (ApplyBook,
// ApplyTrade, ApplyMark, ApplyFunding) and account commands (PlaceOrder,
// CancelOrder, ...), and receive every state change as an Event through the
// Sink given to New. Ids are sequence counters and nothing iterates a map to
// produce output, so the same inputs always produce the same events.
//
// # Liquidity model
//
// External liquidity is the last book snapshot (ApplyBook). Taker orders
// walk it and consume it: a second taker in the same tick sees what is left
// until the next snapshot. Account orders rest in a price-time book of their
// own and also match each other (self-trades are allowed). A resting order
// records the external qty at its price when it joined ("queue ahead"); a
// public print (ApplyTrade) at that price first eats the queue ahead, then
// fills the order; a print through the price (buy above, sell below) fills
// it up to the print's qty. A print's qty is shared among account orders in
// price-time priority. Prints ignore the taker side. A snapshot can only
// shrink a queue ahead (to the level's new qty). A snapshot that crosses a
// resting order fills it as maker at its own price, consuming the crossing
// external qty. At one price, external qty ahead of an account order trades
// first, then the order.
//
// # Accounting model
//
// Wallet is cash. Opening fills move initial margin (fill notional /
// leverage) from the order's reservation into the position; fees (rate ×
// fill notional) and funding go to the wallet; reducing fills realise
// (exit - entry) × qty × side and release margin pro rata.
// Available = Wallet - position margin - order reservations; unrealised PnL
// is not available. Orders reserve price × qty / leverage (MARKET: best
// opposite price, else mark) and need that plus the taker fee on it
// available. Reduce-only and CLOSE orders reserve nothing.
//
// Reduce-only: refused with no position (30018) or when the order would
// grow the position (30019). A qty larger than the position is accepted; each
// fill is clamped to the position, and the rest is cancelled once the
// position is gone. Hedge-mode CLOSE orders behave the same; with a
// PositionID the order closes that position whatever side it says (both
// conventions seen in the wild are accepted), without one a SELL closes the
// long and a BUY the short.
//
// Funding (ApplyFunding): payment = mark × qty × rate, paid by longs to
// shorts for a positive rate, booked to the wallet and Position.Funding.
//
// # Liquidation model
//
// Maintenance margin = MaintenanceMarginRate × mark × qty.
// Isolated: a position is liquidated when margin + unrealised PnL <=
// maintenance, i.e. when the mark reaches
//
//	long:  liq = (entryValue - margin) / (qty × (1 - mmr))
//	short: liq = (entryValue + margin) / (qty × (1 + mmr))
//
// It is closed at liq (not at the mark, so a gap costs no more); what equity
// is left after the price loss is taken as the liquidation fee, so an
// isolated liquidation costs exactly the position's margin.
// Cross: the account is liquidated when Wallet - isolated margins + cross
// unrealised PnL <= the cross positions' maintenance. All the account's open
// orders are cancelled and every cross position is closed at its mark with
// the taker fee; a negative cross balance is reset to zero (the insurance
// fund absorbs it). A cross position's LiqPrice is the mark at which this
// would happen if every other price stayed put.
//
// Mark updates do not emit position events (unrealised PnL is in queries);
// liquidations and TP/SL triggers do.
package matching
