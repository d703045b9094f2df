// Package bitunix is the protocol client for Bitunix perpetual futures:
// request signing, the REST API, WebSocket streams and wire decoders. It
// speaks the protocol described in docs/bitunix-futures-api.md and nothing
// else; order management, risk and strategy live elsewhere.
package bitunix

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/url"
	"slices"
	"strconv"
)

// Signing follows §2.2 of the API reference: it is not HMAC but two plain
// SHA-256 passes,
//
//	digest = hex(sha256(nonce + timestamp + apiKey + queryParams + body))
//	sign   = hex(sha256(digest + secretKey))
//
// where queryParams is key+value of every query parameter, sorted by key,
// concatenated with no '=' or '&', and values raw (not URL-encoded). The
// HTTP method and path are not signed.
//
// Sorting: §2.2 says "sorted ascending by ASCII of (key + value)", while the
// vendor demo (DEMO Go SortParams) sorts by key. They only differ when one
// key is a prefix of another; we follow the demo, the only executable
// source, and break ties between repeated keys by value.

// signBufSize covers a typical place_order (about 250 bytes of input) on the
// stack; larger inputs spill to the heap, which is correct, only slower.
const signBufSize = 512

// SignREST returns the lowercase hex signature of a REST request. query may
// be nil; body is the exact bytes sent (nil for GET). It is pure and safe
// for concurrent use; the simulator verifies requests with it.
func SignREST(nonce, timestamp, apiKey, secret string, query url.Values, body []byte) string {
	var out [64]byte
	return string(AppendSignREST(out[:0], nonce, timestamp, apiKey, secret, query, body))
}

// AppendSignREST appends the signature to dst: SignREST without allocating
// the result string.
func AppendSignREST(dst []byte, nonce, timestamp, apiKey, secret string, query url.Values, body []byte) []byte {
	buf := make([]byte, 0, signBufSize)
	buf = append(buf, nonce...)
	buf = append(buf, timestamp...)
	return appendSignRESTFrom(dst, buf, apiKey, secret, query, body)
}

// appendSignREST is AppendSignREST with nonce and timestamp already
// concatenated in nonceTS, which may alias dst's contents (it is copied
// before dst is written).
func appendSignREST(dst, nonceTS []byte, apiKey, secret string, query url.Values, body []byte) []byte {
	buf := make([]byte, 0, signBufSize)
	buf = append(buf, nonceTS...)
	return appendSignRESTFrom(dst, buf, apiKey, secret, query, body)
}

// appendSignRESTFrom finishes the first pass over buf (nonce+timestamp so
// far) and appends the signature to dst.
func appendSignRESTFrom(dst, buf []byte, apiKey, secret string, query url.Values, body []byte) []byte {
	buf = append(buf, apiKey...)
	buf = AppendSignQuery(buf, query)
	buf = append(buf, body...)
	return secondPass(dst, sha256.Sum256(buf), secret)
}

// SignWSLogin returns the signature for the private WebSocket login (§5.3):
// sha256hex(sha256hex(nonce + timestamp + apiKey) + secret), timestamp in
// seconds. DOC sign.html also shows a variant with sorted params, copied
// from the spot docs (§5.3, CACHY 12); the futures demos omit params, so do we.
func SignWSLogin(nonce string, tsSeconds int64, apiKey, secret string) string {
	buf := make([]byte, 0, 128)
	buf = append(buf, nonce...)
	buf = strconv.AppendInt(buf, tsSeconds, 10)
	buf = append(buf, apiKey...)
	var out [64]byte
	return string(secondPass(out[:0], sha256.Sum256(buf), secret))
}

func secondPass(dst []byte, first [32]byte, secret string) []byte {
	buf := make([]byte, 0, 64+128)
	buf = hex.AppendEncode(buf, first[:])
	buf = append(buf, secret...)
	second := sha256.Sum256(buf)
	return hex.AppendEncode(dst, second[:])
}

// SignQuery returns the string that is signed for query: key+value pairs
// sorted by key, no separators, values raw.
func SignQuery(query url.Values) string {
	return string(AppendSignQuery(nil, query))
}

// AppendSignQuery appends SignQuery(query) to dst.
func AppendSignQuery(dst []byte, query url.Values) []byte {
	if len(query) == 0 {
		return dst
	}
	var keysArr [16]string
	keys := keysArr[:0]
	for k := range query {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		vs := query[k]
		if len(vs) > 1 && !slices.IsSorted(vs) {
			vs = slices.Sorted(slices.Values(vs))
		}
		for _, v := range vs {
			dst = append(dst, k...)
			dst = append(dst, v...)
		}
	}
	return dst
}

// VerifyREST reports whether sign is the correct signature of the request,
// comparing in constant time. For the simulator and tests.
func VerifyREST(sign, nonce, timestamp, apiKey, secret string, query url.Values, body []byte) bool {
	var out [64]byte
	want := AppendSignREST(out[:0], nonce, timestamp, apiKey, secret, query, body)
	return subtle.ConstantTimeCompare(want, []byte(sign)) == 1
}

// VerifyWSLogin reports whether sign is the correct login signature,
// comparing in constant time.
func VerifyWSLogin(sign, nonce string, tsSeconds int64, apiKey, secret string) bool {
	return subtle.ConstantTimeCompare([]byte(SignWSLogin(nonce, tsSeconds, apiKey, secret)), []byte(sign)) == 1
}
