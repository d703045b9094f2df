package bitunix

import (
	"errors"
	"fmt"
	"net"
	"testing"
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
