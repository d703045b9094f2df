package bitunix

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"testing"
)

const (
	v1Key    = "4f2c1a9e8b7d6c5e4f3a2b1c0d9e8f7a"
	v1Secret = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
	v2Body   = `{"symbol":"BTCUSDT","side":"BUY","tradeSide":"OPEN","orderType":"LIMIT","qty":"0.001","price":"60000","effect":"GTC","clientId":"bot-0001","reduceOnly":false}`
)

func TestSignRESTVectors(t *testing.T) {
	tests := []struct {
		name                           string
		nonce, ts, key, secret, digest string
		query                          url.Values
		body                           string
		want                           string
	}{
		{"V0 official", "33333333333333333", "1747104711262", "11111111111111111", "22222222222222222",
			"ea0f6d6bc37d102c41ccbd820f4cfbb10663f3675a75aea80a353e0e317fcdcc",
			url.Values{"marginCoin": {"USDT"}}, "",
			"40e87256554e263e39201a3979469b7fbb640d1c7c41759abf5c6a18f937f922"},
		{"V1 get_pending_orders", "9b1f3c5e7a9d2b4f6e8c0a1d3f5b7e9c", "1735689600000", v1Key, v1Secret,
			"b773de378b9db60816e0271f977b7487188781f5c3ef9cdd8290f63cea95fe0b",
			url.Values{"symbol": {"BTCUSDT"}, "limit": {"20"}, "status": {"NEW"}}, "",
			"6f19da40c495355680e8887ba6b43b32331204bdab794c13ed0fdeaad2045467"},
		{"V2 place_order", "c4a8e2f6b0d4c8a2e6f0b4d8c2a6e0f4", "1735689601234", v1Key, v1Secret,
			"7b6f2b2afb99daa4f3d10643aadc9ba629597eddf3bf091d9f0e7817087802bf",
			nil, v2Body,
			"7bc4b30f05c33f90184a6756eb898acffae91becd6f558ce829c0e595e18c0c5"},
		{"V3 doc example", "123456", "20241120123045", "yourApiKey", "yourSecretKey",
			"75099831ac6803e9c5b79dd3cde2c3c529b4750bd3508186afdde0dd13599b38",
			url.Values{"uid": {"200"}, "id": {"1"}}, `{"uid":"2899","arr":[{"id":1,"name":"maple"},{"id":2,"name":"lily"}]}`,
			"00397cd1e52c7dce3258067324363b6361fabc9178a0912b330c138db8745655"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var body []byte
			if tc.body != "" {
				body = []byte(tc.body)
			}
			d := sha256.Sum256([]byte(tc.nonce + tc.ts + tc.key + SignQuery(tc.query) + tc.body))
			if got := hex.EncodeToString(d[:]); got != tc.digest {
				t.Errorf("digest = %s, want %s", got, tc.digest)
			}
			if got := SignREST(tc.nonce, tc.ts, tc.key, tc.secret, tc.query, body); got != tc.want {
				t.Errorf("SignREST = %s, want %s", got, tc.want)
			}
			if !VerifyREST(tc.want, tc.nonce, tc.ts, tc.key, tc.secret, tc.query, body) {
				t.Error("VerifyREST rejected the correct signature")
			}
			if VerifyREST(tc.want[:63]+"0", tc.nonce, tc.ts, tc.key, tc.secret, tc.query, body) && tc.want[63] != '0' {
				t.Error("VerifyREST accepted a wrong signature")
			}
		})
	}
}

func TestSignQuery(t *testing.T) {
	tests := []struct {
		q    url.Values
		want string
	}{
		{nil, ""},
		{url.Values{"id": {"1"}, "uid": {"200"}}, "id1uid200"},
		{url.Values{"symbol": {"BTCUSDT"}, "limit": {"20"}, "status": {"NEW"}}, "limit20statusNEWsymbolBTCUSDT"},
		{url.Values{"symbols": {"BTCUSDT,ETHUSDT"}}, "symbolsBTCUSDT,ETHUSDT"}, // raw, not %2C
		{url.Values{"a": {"z", "b"}}, "abaz"},
	}
	for _, tc := range tests {
		if got := SignQuery(tc.q); got != tc.want {
			t.Errorf("SignQuery(%v) = %q, want %q", tc.q, got, tc.want)
		}
	}
}

func TestSignWSLoginVector(t *testing.T) {
	const nonce = "Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0Lm"
	first := sha256.Sum256([]byte(nonce + "1735689600" + v1Key))
	if got := hex.EncodeToString(first[:]); got != "517d2e530fd78410c94337ae84bef09852844bfe1171a2c87790f1decde6ba39" {
		t.Errorf("first hash = %s", got)
	}
	const want = "fb9d8a9ed8866508abfaeb12a111adead88db55dceb6f75f6715e0a68c607b1c"
	if got := SignWSLogin(nonce, 1735689600, v1Key, v1Secret); got != want {
		t.Errorf("SignWSLogin = %s, want %s", got, want)
	}
	if !VerifyWSLogin(want, nonce, 1735689600, v1Key, v1Secret) || VerifyWSLogin(want, nonce, 1735689601, v1Key, v1Secret) {
		t.Error("VerifyWSLogin wrong")
	}
}

func TestSignLargeBody(t *testing.T) {
	// Bodies beyond the stack buffer must give the same result as a plain computation.
	body := make([]byte, 4000)
	for i := range body {
		body[i] = 'a' + byte(i%26)
	}
	d := sha256.Sum256([]byte("n" + "1" + "k" + string(body)))
	s := sha256.Sum256([]byte(hex.EncodeToString(d[:]) + "s"))
	if got := SignREST("n", "1", "k", "s", nil, body); got != hex.EncodeToString(s[:]) {
		t.Errorf("large body signature mismatch")
	}
}

func BenchmarkSignRESTPlaceOrder(b *testing.B) {
	body := []byte(v2Body)
	var out [64]byte
	b.ReportAllocs()
	for b.Loop() {
		AppendSignREST(out[:0], "c4a8e2f6b0d4c8a2e6f0b4d8c2a6e0f4", "1735689601234", v1Key, v1Secret, nil, body)
	}
}

func BenchmarkSignRESTString(b *testing.B) {
	body := []byte(v2Body)
	b.ReportAllocs()
	for b.Loop() {
		_ = SignREST("c4a8e2f6b0d4c8a2e6f0b4d8c2a6e0f4", "1735689601234", v1Key, v1Secret, nil, body)
	}
}
