package matching

import (
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/trading"
)

// Engine is the exchange: instruments, books, accounts. Not safe for
// concurrent use; callers serialise.
type Engine struct {
	sink Sink
}

// New builds an engine with cfg's instruments. sink may be nil.
func New(cfg Config, sink Sink) (*Engine, error) { return &Engine{sink: sink}, nil }

// AddInstrument adds or replaces (when no orders or positions exist for it)
// a symbol.
func (e *Engine) AddInstrument(ic InstrumentConfig) error { return nil }

// Instrument returns a symbol's configuration.
func (e *Engine) Instrument(symbol string) (InstrumentConfig, bool) { return InstrumentConfig{}, false }

// Symbols lists configured symbols in the order they were added.
func (e *Engine) Symbols() []string { return nil }

// OpenAccount creates an account with a USDT deposit. Refused if it exists.
func (e *Engine) OpenAccount(account string, deposit fixed.Value, ts time.Time) error { return nil }

// Deposit credits (or, negative, withdraws up to Available) USDT.
func (e *Engine) Deposit(account string, amount fixed.Value, ts time.Time) error { return nil }

// SetPositionMode switches ONE_WAY/HEDGE; refused with any open order
// (ErrHasOpenOrders) or position (ErrHasPositions).
func (e *Engine) SetPositionMode(account string, mode PositionMode, ts time.Time) error { return nil }

// SetLeverage sets a symbol's leverage within the spec's limits
// (ErrLeverage); refused with open orders or a position on the symbol.
func (e *Engine) SetLeverage(account, symbol string, leverage int, ts time.Time) error { return nil }

// SetMarginMode sets a symbol's ISOLATION/CROSS mode; refused with open
// orders or a position on the symbol.
func (e *Engine) SetMarginMode(account, symbol string, mode MarginMode, ts time.Time) error {
	return nil
}

// Settings returns an account's leverage and margin mode for a symbol.
func (e *Engine) Settings(account, symbol string) (Settings, error) { return Settings{}, nil }

// Account returns the account summary at the last marks.
func (e *Engine) Account(account string) (AccountSummary, error) { return AccountSummary{}, nil }

// PlaceOrder validates, reserves margin, matches and rests an order. A
// refusal returns an error and leaves no order. IOC/FOK/MARKET orders that
// cannot (fully) fill are returned CANCELED, not as an error.
func (e *Engine) PlaceOrder(req OrderRequest, ts time.Time) (Order, error) { return Order{}, nil }

// ModifyOrder changes an open LIMIT order's total qty and price. A price
// change or qty increase loses queue priority and may match at once.
func (e *Engine) ModifyOrder(req ModifyRequest, ts time.Time) (Order, error) { return Order{}, nil }

// CancelOrder cancels an open order by id, or by client id when orderID is
// zero. symbol may be empty.
func (e *Engine) CancelOrder(account, symbol string, orderID uint64, clientID string, ts time.Time) (Order, error) {
	return Order{}, nil
}

// CancelAll cancels an account's open orders on symbol, or on every symbol
// when symbol is empty, and returns them in id order.
func (e *Engine) CancelAll(account, symbol string, ts time.Time) ([]Order, error) { return nil, nil }

// FlashClose closes a position with a reduce-only MARKET order.
func (e *Engine) FlashClose(account string, positionID uint64, ts time.Time) (Order, error) {
	return Order{}, nil
}

// CloseAll flash-closes every position of the account on symbol (all
// symbols when empty) and returns the closing orders.
func (e *Engine) CloseAll(account, symbol string, ts time.Time) ([]Order, error) { return nil, nil }

// ApplyBook replaces the external levels of b.Symbol.
func (e *Engine) ApplyBook(b trading.Book) error { return nil }

// ApplyTrade applies a public print: it fills resting account orders it
// reaches and fires LAST_PRICE TP/SL.
func (e *Engine) ApplyTrade(t trading.Trade) error { return nil }

// ApplyMark updates the mark, unrealised PnL, liquidations and MARK_PRICE
// TP/SL.
func (e *Engine) ApplyMark(m trading.MarkPrice) error { return nil }

// ApplyFunding settles funding at rate (a fraction) on every open position
// of symbol.
func (e *Engine) ApplyFunding(symbol string, rate fixed.Value, ts time.Time) error { return nil }

// FundingDue reports whether a funding time (a multiple of interval since
// the Unix epoch, i.e. 00:00/08:00/16:00 UTC for 8h) lies in (prev, now].
func FundingDue(prev, now time.Time, interval time.Duration) bool { return false }

// NextFunding returns the first funding time strictly after t.
func NextFunding(t time.Time, interval time.Duration) time.Time { return time.Time{} }

// PlaceTPSL places a TP/SL on a position (Kind says position or partial).
func (e *Engine) PlaceTPSL(req TPSLRequest, ts time.Time) (TPSL, error) { return TPSL{}, nil }

// ModifyTPSL replaces the triggers of a pending TP/SL found by req.ID, or
// for KindPositionTPSL by req.PositionID.
func (e *Engine) ModifyTPSL(req TPSLRequest, ts time.Time) (TPSL, error) { return TPSL{}, nil }

// CancelTPSL cancels a pending TP/SL.
func (e *Engine) CancelTPSL(account, symbol string, id uint64, ts time.Time) (TPSL, error) {
	return TPSL{}, nil
}

// PendingTPSL lists pending TP/SL orders (symbol and positionID optional
// filters), in id order.
func (e *Engine) PendingTPSL(account, symbol string, positionID uint64) []TPSL { return nil }

// HistoryTPSL lists finished TP/SL orders, newest first.
func (e *Engine) HistoryTPSL(account, symbol string) []TPSL { return nil }

// Order finds an open or historical order by id, or by client id when
// orderID is zero.
func (e *Engine) Order(account string, orderID uint64, clientID string) (Order, error) {
	return Order{}, nil
}

// OpenOrders lists open orders (symbol optional), in id order.
func (e *Engine) OpenOrders(account, symbol string) []Order { return nil }

// HistoryOrders lists closed orders (symbol optional), newest first.
func (e *Engine) HistoryOrders(account, symbol string) []Order { return nil }

// Fills lists executions (symbol optional), newest first.
func (e *Engine) Fills(account, symbol string) []Fill { return nil }

// Positions lists open positions (symbol optional), in id order.
func (e *Engine) Positions(account, symbol string) []Position { return nil }

// Position returns one open position.
func (e *Engine) Position(account string, positionID uint64) (Position, error) {
	return Position{}, nil
}

// HistoryPositions lists closed positions (symbol optional), newest first.
func (e *Engine) HistoryPositions(account, symbol string) []Position { return nil }

// Depth returns the combined external and account book, levels per side (0
// = all), for publishing depth.
func (e *Engine) Depth(symbol string, levels int) (trading.Book, error) { return trading.Book{}, nil }

// LastPrice returns the last print price (0 if none).
func (e *Engine) LastPrice(symbol string) fixed.Value { return 0 }

// Mark returns the last mark price (0 if none).
func (e *Engine) Mark(symbol string) fixed.Value { return 0 }
