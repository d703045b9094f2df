package bitunix

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/trading"
	"github.com/valyala/fastjson"
)

// Tolerant accessors for values Bitunix sends in inconsistent shapes (§3,
// §7.2): numbers as strings or numbers, "" or null for absent, booleans as
// strings, times as epoch ms (number or string) or ISO-8601. They never
// panic on any input and do not allocate for numbers.

// errField records the first field that failed to decode.
type fieldErr struct{ err error }

func (f *fieldErr) set(key string, err error) {
	if f.err == nil && err != nil {
		f.err = fmt.Errorf("field %q: %w", key, err)
	}
}

// scalar returns the text of a string or number value; nil for absent,
// null and other types. Strings (what Bitunix sends for decimals) cost no
// allocation; JSON numbers cost one, since fastjson exposes their raw text
// only through MarshalTo.
func scalar(v *fastjson.Value) []byte {
	if v == nil {
		return nil
	}
	switch v.Type() {
	case fastjson.TypeString:
		b := sb(v)
		return b
	case fastjson.TypeNumber:
		return v.MarshalTo(nil)
	}
	return nil
}

// fixedOf decodes a decimal; absent, null and "" are zero.
func fixedOf(v *fastjson.Value) (fixed.Value, error) {
	b := scalar(v)
	if len(b) == 0 {
		if v != nil && !isNullish(v) {
			return 0, fmt.Errorf("want decimal, got %s", v.Type())
		}
		return 0, nil
	}
	x, err := fixed.ParseBytes(b)
	if err != nil {
		return 0, fmt.Errorf("%w: %q", err, clip(b))
	}
	return x, nil
}

func isNullish(v *fastjson.Value) bool {
	switch v.Type() {
	case fastjson.TypeNull:
		return true
	case fastjson.TypeString:
		b := sb(v)
		return len(b) == 0
	}
	return false
}

// intOf decodes an integer sent as a number or a string; fractional
// numbers are truncated ("20.0" leverage has been seen as text).
func intOf(v *fastjson.Value) (int64, error) {
	if v != nil && v.Type() == fastjson.TypeNumber {
		if n, err := v.Int64(); err == nil {
			return n, nil
		}
	}
	b := scalar(v)
	if len(b) == 0 {
		return 0, nil
	}
	if i := bytes.IndexByte(b, '.'); i >= 0 {
		b = b[:i]
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("want integer: %q", clip(b))
	}
	return n, nil
}

// boolOf accepts true/false, "true"/"false" and 1/0.
func boolOf(v *fastjson.Value) bool {
	if v == nil {
		return false
	}
	switch v.Type() {
	case fastjson.TypeTrue:
		return true
	case fastjson.TypeString:
		b := sb(v)
		return bytes.EqualFold(b, []byte("true")) || string(b) == "1"
	case fastjson.TypeNumber:
		return v.GetInt() != 0
	}
	return false
}

// strOf copies a string (or number) value; "" when absent.
func strOf(v *fastjson.Value) string {
	return string(scalar(v))
}

// timeOf decodes epoch milliseconds (number or string) or ISO-8601; zero
// for absent, "", 0.
func timeOf(v *fastjson.Value) (time.Time, error) {
	return timeBytes(scalar(v))
}

// timeBytes is timeOf on the raw text of a string or number; the fast
// decoder calls it directly so both decoders read times identically.
func timeBytes(b []byte) (time.Time, error) {
	if len(b) == 0 {
		return time.Time{}, nil
	}
	if b[0] >= '0' && b[0] <= '9' && bytes.IndexByte(b, '-') < 0 {
		if i := bytes.IndexByte(b, '.'); i >= 0 {
			b = b[:i]
		}
		ms, ok := atoi(b)
		if !ok {
			return time.Time{}, fmt.Errorf("bad epoch ms %q", clip(b))
		}
		if ms == 0 {
			return time.Time{}, nil
		}
		return time.UnixMilli(ms).UTC(), nil
	}
	return parseISO(b)
}

// atoi parses a non-negative decimal integer without allocating.
func atoi(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

var errISO = errors.New("bad ISO-8601 time")

// parseISO parses "2006-01-02T15:04:05[.frac]Z" without allocating, and
// falls back to time.Parse for offsets and other layouts.
func parseISO(b []byte) (time.Time, error) {
	if len(b) >= 20 && b[4] == '-' && b[7] == '-' && (b[10] == 'T' || b[10] == ' ') && b[13] == ':' && b[16] == ':' && b[len(b)-1] == 'Z' {
		y, ok1 := atoi(b[0:4])
		mo, ok2 := atoi(b[5:7])
		d, ok3 := atoi(b[8:10])
		h, ok4 := atoi(b[11:13])
		mi, ok5 := atoi(b[14:16])
		s, ok6 := atoi(b[17:19])
		if ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h < 24 && mi < 60 && s < 61 {
			var ns int64
			rest := b[19 : len(b)-1]
			if len(rest) > 0 {
				if rest[0] != '.' || len(rest) < 2 {
					return time.Time{}, fmt.Errorf("%w: %q", errISO, clip(b))
				}
				digits := 0
				for _, c := range rest[1:] {
					if c < '0' || c > '9' {
						return time.Time{}, fmt.Errorf("%w: %q", errISO, clip(b))
					}
					if digits < 9 {
						ns = ns*10 + int64(c-'0')
						digits++
					}
				}
				for ; digits < 9; digits++ {
					ns *= 10
				}
			}
			return time.Date(int(y), time.Month(mo), int(d), int(h), int(mi), int(s), int(ns), time.UTC), nil
		}
	}
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %q", errISO, clip(b))
	}
	return t.UTC(), nil
}

// objectOrFirst returns v if it is an object, or its first element if it is
// a non-empty array: several endpoints document a list and return an
// object, or the reverse (§4.2, §5.5).
func objectOrFirst(v *fastjson.Value) *fastjson.Value {
	if v == nil {
		return nil
	}
	switch v.Type() {
	case fastjson.TypeObject:
		return v
	case fastjson.TypeArray:
		a, _ := v.Array()
		if len(a) > 0 && a[0].Type() == fastjson.TypeObject {
			return a[0]
		}
	}
	return nil
}

// listOf returns v's elements if it is an array, or v alone if it is an
// object.
func listOf(v *fastjson.Value) []*fastjson.Value {
	if v == nil {
		return nil
	}
	switch v.Type() {
	case fastjson.TypeArray:
		a, _ := v.Array()
		return a
	case fastjson.TypeObject:
		return []*fastjson.Value{v}
	}
	return nil
}

// decodeList decodes each element of a list (or a lone object) with dec. On
// a failure it returns what was decoded before it, with the error.
func decodeList[T any](v *fastjson.Value, dec func(*fastjson.Value) (T, error)) ([]T, error) {
	var out []T
	for _, x := range listOf(v) {
		t, err := dec(x)
		if err != nil {
			return out, err
		}
		out = append(out, t)
	}
	return out, nil
}

// first returns the first of keys present and not null.
func first(v *fastjson.Value, keys ...string) *fastjson.Value {
	for _, k := range keys {
		if x := v.Get(k); x != nil && x.Type() != fastjson.TypeNull {
			return x
		}
	}
	return nil
}

// sideOf parses BUY/SELL/LONG/SHORT in any case without allocating.
func sideOf(b []byte) trading.Side {
	switch len(b) {
	case 3:
		if bytes.EqualFold(b, []byte("buy")) {
			return trading.Buy
		}
	case 4:
		if bytes.EqualFold(b, []byte("sell")) {
			return trading.Sell
		}
		if bytes.EqualFold(b, []byte("long")) {
			return trading.Buy
		}
	case 5:
		if bytes.EqualFold(b, []byte("short")) {
			return trading.Sell
		}
	}
	return 0
}

func clip(b []byte) []byte {
	if len(b) > 40 {
		return b[:40]
	}
	return b
}

// sb returns a string value's bytes, nil for anything else (including nil).
func sb(v *fastjson.Value) []byte {
	if v == nil || v.Type() != fastjson.TypeString {
		return nil
	}
	b, _ := v.StringBytes()
	return b
}
