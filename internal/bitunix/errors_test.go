package bitunix

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/bitrader/bitrader/internal/trading"
)

func TestAPIErrorMapping(t *testing.T) {
	tests := []struct {
		code int
		want []error
	}{
		{10007, []error{ErrSignature}},
		{10005, []error{ErrRateLimited}},
		{10006, []error{ErrRateLimited}},
		{30042, []error{ErrDuplicateClientID}},
		{20003, []error{ErrInsufficientBalance}},
		{30016, []error{ErrPrecision, ErrQtyTooSmall}},
		{30017, []error{ErrPrecision, ErrQtyTooSmall}},
		{30039, []error{ErrQtyTooLarge}},
		{20007, []error{ErrNotFound}},
		{404, []error{ErrNotFound}},
		{20015, []error{ErrUnknownSymbol}},
		{30018, []error{ErrReduceOnly}},
		{30019, []error{ErrReduceOnly}},
		{10008, []error{ErrParameter}},
		{10002, []error{ErrParameter}},
		{1, []error{ErrParameter}},
		{10003, []error{ErrMissingKey}},
		{403, []error{ErrPermission}},
		{30025, []error{ErrTPSL}},
		{20016, []error{ErrBatchTooLarge}},
	}
	all := []error{ErrSignature, ErrRateLimited, ErrDuplicateClientID, ErrInsufficientBalance, ErrPrecision,
		ErrQtyTooSmall, ErrQtyTooLarge, ErrNotFound, ErrUnknownSymbol, ErrReduceOnly, ErrParameter,
		ErrMissingKey, ErrPermission, ErrTPSL, ErrBatchTooLarge, ErrAmbiguous}
	for _, tc := range tests {
		err := fmt.Errorf("wrapped: %w", &APIError{Code: tc.code, Msg: "m", Endpoint: "/x"})
		for _, s := range all {
			want := false
			for _, w := range tc.want {
				want = want || w == s
			}
			if got := errors.Is(err, s); got != want {
				t.Errorf("code %d: errors.Is(%v) = %v, want %v", tc.code, s, got, want)
			}
		}
		if IsAmbiguous(err) {
			t.Errorf("code %d reported ambiguous", tc.code)
		}
	}
}

func TestTransportAmbiguity(t *testing.T) {
	amb := &TransportError{Endpoint: "/x", Status: 502, Ambiguous: true, Err: errors.New("bad gateway")}
	if !IsAmbiguous(fmt.Errorf("w: %w", amb)) {
		t.Error("5xx not ambiguous")
	}
	notAmb := &TransportError{Endpoint: "/x", Err: &net.OpError{Op: "dial", Err: errors.New("refused")}}
	if IsAmbiguous(notAmb) {
		t.Error("dial failure reported ambiguous")
	}
	if !dialFailed(notAmb) {
		t.Error("dialFailed missed a dial error")
	}
	if dialFailed(&net.OpError{Op: "read", Err: errors.New("reset")}) {
		t.Error("read reset treated as dial failure")
	}
}

func TestPlaceRefusedOnlyForProvenRefusals(t *testing.T) {
	tests := []struct {
		code    int
		refused bool
	}{
		{10001, false}, // "Network error": may have been placed
		{1, false},     // also "Network Error"
		{20007, false}, // about an existing order
		{30011, false},
		{10013, false}, // undocumented
		{99999, false}, // undocumented
		{0, false},
		{10002, true}, {10005, true}, {10007, true}, {10008, true},
		{403, true}, {404, true},
		{20003, true}, {20015, true},
		{30001, true}, {30017, true}, {30025, true}, {30041, true},
		{40001, true},
	}
	for _, tc := range tests {
		if got := placeRefused(tc.code); got != tc.refused {
			t.Errorf("placeRefused(%d) = %v, want %v", tc.code, got, tc.refused)
		}
		err := fmt.Errorf("w: %w", &APIError{Code: tc.code, Endpoint: "trade/place_order"})
		if got := PlaceOutcomeUnknown(err); got != !tc.refused {
			t.Errorf("PlaceOutcomeUnknown(%d) = %v, want %v", tc.code, got, !tc.refused)
		}
	}
	if PlaceOutcomeUnknown(&APIError{Code: 30042}) {
		t.Error("30042 is 'already placed', handled on its own, not unknown")
	}
	if PlaceOutcomeUnknown(errors.New("not an api error")) || PlaceOutcomeUnknown(nil) {
		t.Error("non-API errors are not classified here")
	}
}

// A place_order answered with a code that does not prove a refusal (10001
// "Network error", an undocumented code) is resolved by client id, never
// reported as a rejection: found means placed.
func TestPlaceOrderUncertainCodeFoundIsPlaced(t *testing.T) {
	for _, reply := range []string{
		`{"code":10001,"data":null,"msg":"Network error"}`,
		`{"code":1,"data":null,"msg":"Network Error"}`,
		`{"code":12345,"data":null,"msg":"something new"}`,
	} {
		f, c, _ := newFake(t)
		f.reply("trade/place_order", reply)
		f.reply("trade/get_order_detail", orderDetail)
		ack, err := c.PlaceOrder(context.Background(), OrderRequest{Symbol: "BTCUSDT", Side: trading.Buy, Type: trading.Limit,
			Qty: m("0.01"), Price: m("60000"), ClientID: "cid-1"})
		if err != nil || !ack.Recovered || ack.OrderID != "O1" || ack.Order == nil {
			t.Errorf("%s: ack %+v err %v, want the order found and reported placed", reply, ack, err)
		}
		if n := f.count("trade/place_order"); n != 1 {
			t.Errorf("%s: place_order sent %d times, want 1 (never resent blind)", reply, n)
		}
	}
}

// Not found after the lookups: ambiguous (kept open for reconciliation),
// not the exchange's code, which a caller would take as a final rejection.
func TestPlaceOrderUncertainCodeNotFoundIsAmbiguous(t *testing.T) {
	f, c, _ := newFake(t)
	f.reply("trade/place_order", `{"code":10001,"data":null,"msg":"Network error"}`)
	f.reply("trade/get_order_detail", `{"code":20007,"data":null,"msg":"Order not found"}`)
	_, err := c.PlaceOrder(context.Background(), OrderRequest{Symbol: "BTCUSDT", Side: trading.Sell, Type: trading.Market, Qty: m("1"), ClientID: "cid-2"})
	if !IsAmbiguous(err) {
		t.Fatalf("err = %v, want ambiguous", err)
	}
	var api *APIError
	if errors.As(err, &api) || errors.Is(err, ErrNotFound) {
		t.Errorf("err %v still carries an exchange code: callers would map it to a rejection", err)
	}
	if f.count("trade/place_order") != 1 || f.count("trade/get_order_detail") == 0 {
		t.Errorf("calls: place %d, lookups %d", f.count("trade/place_order"), f.count("trade/get_order_detail"))
	}
}

// A proven refusal is returned as is, without lookups.
func TestPlaceOrderProvenRefusalIsNotLookedUp(t *testing.T) {
	f, c, _ := newFake(t)
	f.reply("trade/place_order", `{"code":20003,"data":null,"msg":"insufficient balance"}`)
	f.reply("trade/get_order_detail", orderDetail)
	_, err := c.PlaceOrder(context.Background(), OrderRequest{Symbol: "BTCUSDT", Side: trading.Buy, Type: trading.Market, Qty: m("1"), ClientID: "cid-3"})
	if !errors.Is(err, ErrInsufficientBalance) || IsAmbiguous(err) {
		t.Errorf("err = %v, want insufficient balance", err)
	}
	if n := f.count("trade/get_order_detail"); n != 0 {
		t.Errorf("%d lookups after a definite refusal", n)
	}
}
