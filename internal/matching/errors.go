package matching

import "errors"

// Error is a matching-engine refusal that carries the Bitunix error code the
// simulator puts on the wire. Sentinels below are compared with errors.Is;
// the engine wraps them with context (symbol, qty, order id) using %w.
type Error struct {
	code   int
	msg    string
	parent *Error // a family sentinel this one also matches with errors.Is
}

func (e *Error) Error() string { return e.msg }

// Code is the Bitunix error code for this refusal.
func (e *Error) Code() int { return e.code }

// Is lets a specific sentinel match its family (ErrPriceProtectBuy is also
// ErrPriceProtect).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && e.parent != nil && e.parent == t
}

func newErr(code int, msg string) *Error { return &Error{code: code, msg: msg} }

// Sentinel errors. Codes follow bitunix-futures-api.md §6.1; where Bitunix
// documents no code (post-only cross) the closest one is chosen and noted.
var (
	ErrBadRequest           = newErr(10002, "parameter error")
	ErrUnknownSymbol        = newErr(20015, "this Futures is not allowed to trade")
	ErrInsufficientBalance  = newErr(20003, "insufficient balance")
	ErrLeverage             = newErr(20005, "invalid leverage")
	ErrHasOpenOrders        = newErr(20006, "open orders exist")
	ErrOrderNotFound        = newErr(20007, "order not found")
	ErrHasPositions         = newErr(20009, "position exists")
	ErrAccountNotFound      = newErr(20011, "account not allowed")
	ErrNotTrading           = newErr(20012, "contract not tradable")
	ErrPositionNotFound     = newErr(30004, "position does not exist")
	ErrTPSLInvalid          = newErr(30006, "invalid take-profit/stop-loss")
	ErrOrderFinal           = newErr(30011, "abnormal order status")
	ErrPrecision            = newErr(30016, "qty or price does not match the symbol precision")
	ErrQtyTooSmall          = newErr(30017, "qty below the minimum")
	ErrReduceOnlyNoPosition = newErr(30018, "reduce-only order with no position")
	ErrReduceOnlySameSide   = newErr(30019, "reduce-only order in the same direction as the position")
	ErrQtyTooLarge          = newErr(30039, "qty above the maximum")
	ErrDuplicateClientID    = newErr(30042, "client id duplicate")
	// ErrPostOnlyWouldCross: Bitunix documents no code; 10002 (parameter
	// error) is used so clients treat it as a non-retryable refusal.
	ErrPostOnlyWouldCross = newErr(10002, "post-only order would cross the book")
	// ErrPriceProtect is the family of the two price-protection refusals.
	ErrPriceProtect     = newErr(30014, "limit price outside the price protection scope")
	ErrPriceProtectBuy  = &Error{code: 30014, msg: "buy price above mark*(1+priceProtectScope)", parent: ErrPriceProtect}
	ErrPriceProtectSell = &Error{code: 30015, msg: "sell price below mark*(1-priceProtectScope)", parent: ErrPriceProtect}
)

// Code returns the Bitunix error code carried by err, 0 for nil, and 10001
// (network error, Bitunix's catch-all) for errors the engine did not create.
func Code(err error) int {
	if err == nil {
		return 0
	}
	var e *Error
	if errors.As(err, &e) {
		return e.code
	}
	return 10001
}
