package bitunix

import (
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/bitrader/bitrader/internal/trading"
)

// TestPlaceOrderWire pins what place_order puts on the wire now that it
// bypasses encoding/json and Header.Set: the exact body, the header names
// and values, and nonces both default (fresh, 32 hex) and injected. The
// fake exchange verifies every signature against the received bytes.
func TestPlaceOrderWire(t *testing.T) {
	const wantBody = `{"symbol":"BTCUSDT","side":"BUY","orderType":"LIMIT","qty":"0.01","price":"60000.5","effect":"POST_ONLY","clientId":"cid-w","reduceOnly":true}`
	req := OrderRequest{Symbol: "BTCUSDT", Side: trading.Buy, Type: trading.Limit, TimeInForce: trading.PostOnly,
		Qty: m("0.01"), Price: m("60000.5"), ClientID: "cid-w", ReduceOnly: true}
	tests := []struct {
		name  string
		nonce func() string // nil: the default
	}{
		{"default nonce", nil},
		{"injected nonce", func() string { return "fixed-nonce-0123456789-abcdefghijklmnopq" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, c, _ := newFake(t)
			if tt.nonce != nil {
				c.cfg.Nonce, c.ownNonce = tt.nonce, false
			}
			var mu sync.Mutex
			var nonces []string
			f.on("trade/place_order", func(w http.ResponseWriter, r *http.Request, body []byte) {
				if string(body) != wantBody {
					t.Errorf("body\n got %s\nwant %s", body, wantBody)
				}
				for k, want := range map[string]string{"Content-Type": "application/json", "Language": "en-US", "Api-Key": testKey} {
					if got := r.Header.Values(k); len(got) != 1 || got[0] != want {
						t.Errorf("header %s = %q, want %q", k, got, want)
					}
				}
				if len(r.Header.Values("Sign")) != 1 || len(r.Header.Get("Sign")) != 64 {
					t.Errorf("sign header %q", r.Header.Values("Sign"))
				}
				mu.Lock()
				nonces = append(nonces, r.Header.Get("nonce"))
				mu.Unlock()
				_, _ = io.WriteString(w, `{"code":0,"data":{"orderId":"O9","clientId":"cid-w"}}`)
			})
			for range 2 {
				ack, err := c.PlaceOrder(context.Background(), req)
				if err != nil || ack.OrderID != "O9" || ack.ClientID != "cid-w" {
					t.Fatalf("PlaceOrder = %+v, %v", ack, err)
				}
			}
			if len(nonces) != 2 {
				t.Fatalf("%d requests", len(nonces))
			}
			if tt.nonce != nil {
				for _, n := range nonces {
					if n != tt.nonce() {
						t.Errorf("nonce %q, want the injected one", n)
					}
				}
				return
			}
			for _, n := range nonces {
				if _, err := hex.DecodeString(n); err != nil || len(n) != 32 {
					t.Errorf("default nonce %q is not 32 hex characters", n)
				}
			}
			if nonces[0] == nonces[1] {
				t.Errorf("nonce repeated: %q", nonces[0])
			}
		})
	}
}
