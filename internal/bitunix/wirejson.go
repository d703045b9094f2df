package bitunix

import (
	"encoding/json"

	"github.com/bitrader/bitrader/internal/fixed"
)

// place_order is on the tick-to-order path, so its body is encoded by
// appending rather than through encoding/json's reflection (which also
// allocated once per fixed.Value). The output is byte-for-byte what
// json.Marshal(wireOrder) produces (TestWireOrderAppendJSONMatchesMarshal
// and its fuzz test hold it to that): same field order, same omitempty
// rules, same string escaping.

// wireOrderSize fits a typical place_order body (about 130 bytes) in the
// stack buffer it is encoded into; a larger one spills to the heap.
const wireOrderSize = 256

// appendJSON appends the JSON encoding of w to dst.
func (w *wireOrder) appendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	if w.Symbol != "" {
		dst = appendKey(dst, "symbol")
		dst = appendJSONString(dst, w.Symbol)
	}
	dst = appendKey(dst, "side")
	dst = appendJSONString(dst, w.Side)
	dst = appendOptString(dst, "tradeSide", w.TradeSide)
	dst = appendOptString(dst, "positionId", w.PositionID)
	dst = appendKey(dst, "orderType")
	dst = appendJSONString(dst, w.OrderType)
	dst = appendKey(dst, "qty")
	dst = appendJSONValue(dst, w.Qty)
	dst = appendOptValue(dst, "price", w.Price)
	dst = appendOptString(dst, "effect", w.Effect)
	dst = appendOptString(dst, "clientId", w.ClientID)
	if w.ReduceOnly {
		dst = appendKey(dst, "reduceOnly")
		dst = append(dst, "true"...)
	}
	dst = appendOptValue(dst, "tpPrice", w.TPPrice)
	dst = appendOptString(dst, "tpStopType", w.TPStopType)
	dst = appendOptString(dst, "tpOrderType", w.TPOrderType)
	dst = appendOptValue(dst, "tpOrderPrice", w.TPOrderPrice)
	dst = appendOptValue(dst, "slPrice", w.SLPrice)
	dst = appendOptString(dst, "slStopType", w.SLStopType)
	dst = appendOptString(dst, "slOrderType", w.SLOrderType)
	dst = appendOptValue(dst, "slOrderPrice", w.SLOrderPrice)
	return append(dst, '}')
}

// appendKey writes `"key":`, preceded by a comma unless it is the first
// member (dst ends in '{').
func appendKey(dst []byte, key string) []byte {
	if dst[len(dst)-1] != '{' {
		dst = append(dst, ',')
	}
	dst = append(dst, '"')
	dst = append(dst, key...)
	return append(dst, '"', ':')
}

func appendOptString(dst []byte, key, s string) []byte {
	if s == "" {
		return dst
	}
	return appendJSONString(appendKey(dst, key), s)
}

func appendOptValue(dst []byte, key string, v fixed.Value) []byte {
	if v == 0 {
		return dst
	}
	return appendJSONValue(appendKey(dst, key), v)
}

// appendJSONValue matches fixed.Value.MarshalJSON.
func appendJSONValue(dst []byte, v fixed.Value) []byte {
	dst = append(dst, '"')
	dst = v.AppendText(dst)
	return append(dst, '"')
}

// appendJSONString quotes s as encoding/json does. Plain printable ASCII
// (all that symbols, enums and our client ids contain) is copied; anything
// else goes through json.Marshal, which decides escaping, HTML-safety and
// invalid UTF-8 exactly as before.
func appendJSONString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s) // a string always marshals
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}
