package bitunix

import (
	"errors"
	"fmt"
	"net"
)

// Sentinel errors. An *APIError matches the sentinel for its code with
// errors.Is, so callers branch on meaning, not numbers (§6.1).
var (
	ErrSignature           = errors.New("bitunix: signature rejected")               // 10007
	ErrRateLimited         = errors.New("bitunix: rate limited")                     // 10005, 10006
	ErrDuplicateClientID   = errors.New("bitunix: duplicate client id")              // 30042
	ErrInsufficientBalance = errors.New("bitunix: insufficient balance")             // 20003, 20008
	ErrPrecision           = errors.New("bitunix: quantity precision or minimum")    // 30016, 30017
	ErrQtyTooSmall         = errors.New("bitunix: quantity too small")               // 30016, 30017
	ErrQtyTooLarge         = errors.New("bitunix: quantity too large")               // 30013, 30039
	ErrNotFound            = errors.New("bitunix: not found")                        // 20007, 404
	ErrUnknownSymbol       = errors.New("bitunix: unknown or untradable symbol")     // 20001, 20012, 20015
	ErrReduceOnly          = errors.New("bitunix: reduce-only rejected")             // 30018, 30019
	ErrParameter           = errors.New("bitunix: bad parameter")                    // 1, 10002, 10008
	ErrMissingKey          = errors.New("bitunix: api key missing")                  // 10003
	ErrPermission          = errors.New("bitunix: permission denied")                // 403, 10004
	ErrLeverage            = errors.New("bitunix: invalid leverage")                 // 20005
	ErrModeChange          = errors.New("bitunix: mode change not allowed")          // 20006, 20009
	ErrPositionNotFound    = errors.New("bitunix: position does not exist")          // 30004
	ErrPriceLimit          = errors.New("bitunix: price outside allowed range")      // 30014, 30015, 30002, 30003
	ErrTPSL                = errors.New("bitunix: tp/sl rejected")                   // 30005-30010, 30020-30038
	ErrBatchTooLarge       = errors.New("bitunix: batch too large")                  // 20016
	ErrOrderState          = errors.New("bitunix: order status does not allow this") // 30011, 10013
	ErrServer              = errors.New("bitunix: server error")                     // 10001

	// ErrAmbiguous wraps outcomes where the request may or may not have
	// taken effect (timeout, reset, 5xx, undecodable reply). Callers must
	// reconcile, never resend blind.
	ErrAmbiguous = errors.New("bitunix: outcome unknown")
	// ErrMissingClientID is returned by PlaceOrder without a client id.
	ErrMissingClientID = errors.New("bitunix: clientId is required")
)

// APIError is a non-zero code in the {code,msg,data} envelope. Bitunix sends
// these with HTTP 200 (§3).
type APIError struct {
	Code     int
	Msg      string
	Endpoint string // path, e.g. /api/v1/futures/trade/place_order
}

func (e *APIError) Error() string {
	return fmt.Sprintf("bitunix %s: code %d: %s", e.Endpoint, e.Code, e.Msg)
}

// Is maps codes to the sentinel errors.
func (e *APIError) Is(target error) bool {
	for _, s := range sentinelsFor(e.Code) {
		if s == target {
			return true
		}
	}
	return false
}

func sentinelsFor(code int) []error {
	switch code {
	case 10007:
		return []error{ErrSignature}
	case 10005, 10006:
		return []error{ErrRateLimited}
	case 30042:
		return []error{ErrDuplicateClientID}
	case 20003, 20008:
		return []error{ErrInsufficientBalance}
	case 30016, 30017:
		return []error{ErrPrecision, ErrQtyTooSmall}
	case 30013, 30039:
		return []error{ErrQtyTooLarge}
	case 20007, 404:
		return []error{ErrNotFound}
	case 20001, 20012, 20015:
		return []error{ErrUnknownSymbol}
	case 30018, 30019:
		return []error{ErrReduceOnly}
	case 1, 10002, 10008:
		return []error{ErrParameter}
	case 10003:
		return []error{ErrMissingKey}
	case 403, 10004:
		return []error{ErrPermission}
	case 20005:
		return []error{ErrLeverage}
	case 20006, 20009:
		return []error{ErrModeChange}
	case 30004:
		return []error{ErrPositionNotFound}
	case 30002, 30003, 30014, 30015:
		return []error{ErrPriceLimit}
	case 20016:
		return []error{ErrBatchTooLarge}
	case 30011, 10013:
		return []error{ErrOrderState}
	case 10001:
		return []error{ErrServer}
	}
	if (code >= 30005 && code <= 30010) || (code >= 30020 && code <= 30038) {
		return []error{ErrTPSL}
	}
	return nil
}

// PlaceOutcomeUnknown reports whether err, returned by place_order, leaves it
// unknown whether the exchange placed the order: an *APIError whose code
// does not prove a refusal (see placeRefused). Such an order must be looked
// up by client id and, if not found, kept open for reconciliation: marking
// it rejected would be final, and later reports could not reopen it.
func PlaceOutcomeUnknown(err error) bool {
	var api *APIError
	return errors.As(err, &api) && api.Code != 30042 && !placeRefused(api.Code)
}

// placeRefused reports whether a place_order reply code proves the order was
// NOT placed: the documented validation and business refusals of §6.1
// (parameters, credentials, rate limits, market, balance, leverage, price,
// quantity, reduce-only, TP/SL, copy trading). Deliberately not proof, so
// ambiguous: 10001 "Network error" (an internal failure that may come after
// the order reached the matching engine), 1 (also answered "Network Error";
// seen for a missing parameter, which we never send, but the text says
// otherwise), 20007 and 30011 (about an existing order, meaningless for a new
// one), 30042 (handled as "already placed") and every undocumented code.
func placeRefused(code int) bool {
	switch {
	case code == 403, code == 404:
		return true
	case code >= 10002 && code <= 10008:
		return true
	case code >= 20001 && code <= 20016:
		return code != 20007
	case code >= 30001 && code <= 30041:
		return code != 30011
	case code >= 40001 && code <= 40008:
		return true
	}
	return false
}

// TransportError is a failure below the envelope: the connection, the HTTP
// status or an undecodable reply. Ambiguous says whether the request may
// have reached the exchange.
type TransportError struct {
	Endpoint  string
	Status    int // HTTP status, 0 if none was received
	Ambiguous bool
	Err       error
}

func (e *TransportError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("bitunix %s: HTTP %d: %v", e.Endpoint, e.Status, e.Err)
	}
	return fmt.Sprintf("bitunix %s: %v", e.Endpoint, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// Is lets errors.Is(err, ErrAmbiguous) work on ambiguous transport errors.
func (e *TransportError) Is(target error) bool { return target == ErrAmbiguous && e.Ambiguous }

// IsAmbiguous reports whether err leaves it unknown if the request took
// effect: a timeout, reset or cancellation after the request was sent, an
// HTTP 5xx, or a reply that could not be decoded. For those, an order may
// exist: look it up by client id, never resend.
func IsAmbiguous(err error) bool {
	return errors.Is(err, ErrAmbiguous)
}

// dialFailed reports whether err happened before any byte of the request
// could be sent (connection refused, DNS failure): safe to retry.
func dialFailed(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}
