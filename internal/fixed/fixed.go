// Package fixed is bitrader's money and quantity type: a signed integer
// scaled by 10^8.
//
// Why not a general decimal: exchange values (prices, sizes, balances,
// fees, funding rates) all fit in 8 decimal places, and a scaled int64 gives
// native +, -, ==, < and map keys, zero-allocation parsing straight off the
// wire, and no error to check on every addition. Multiplication and division
// go through 128-bit intermediates and round half away from zero, so they
// never silently overflow in the ranges a trading bot sees (|v| < 9.2e10).
package fixed

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
)

// Scale is the number of decimal places a Value carries.
const Scale = 8

// unit is 10^Scale, the integer that represents 1.
const unit = 100_000_000

// Value is a fixed-point number: Value(1) is 0.00000001. The zero value is 0.
type Value int64

// Common values.
const (
	Zero Value = 0
	One  Value = unit
)

// Max and Min are the largest and smallest representable values.
const (
	Max Value = math.MaxInt64
	Min Value = math.MinInt64 + 1 // symmetric, so Neg never overflows
)

var pow10 = [...]int64{1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000}

// ErrSyntax reports text that is not a decimal number.
var ErrSyntax = errors.New("fixed: invalid decimal")

// ErrRange reports a number too large for a Value or with more than 8 decimals
// that would be lost.
var ErrRange = errors.New("fixed: value out of range")

// FromInt returns n as a Value.
func FromInt(n int64) Value { return Value(n * unit) }

// New returns mantissa * 10^-decimals, e.g. New(12345, 2) is 123.45.
// decimals must be between 0 and 8.
func New(mantissa int64, decimals int) Value {
	if decimals < 0 || decimals > Scale {
		panic("fixed.New: decimals out of range")
	}
	return Value(mantissa * pow10[Scale-decimals])
}

// MustParse parses s and panics on error; for constants in code and tests.
func MustParse(s string) Value {
	v, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return v
}

// Parse parses a decimal string such as "-123.4500", "1e-3" is not accepted.
// More than 8 decimals are rounded half away from zero.
func Parse(s string) (Value, error) {
	return parse(s)
}

// ParseBytes is Parse for a byte slice, without allocating.
func ParseBytes(b []byte) (Value, error) {
	return parse(b)
}

func parse[T string | []byte](s T) (Value, error) {
	n := len(s)
	if n == 0 {
		return 0, ErrSyntax
	}
	i := 0
	neg := false
	switch s[0] {
	case '-':
		neg = true
		i++
	case '+':
		i++
	}
	if i == n {
		return 0, ErrSyntax
	}
	var intPart uint64
	digits := 0
	for ; i < n && s[i] >= '0' && s[i] <= '9'; i++ {
		if intPart > (math.MaxInt64/unit)/10+1 {
			return 0, ErrRange
		}
		intPart = intPart*10 + uint64(s[i]-'0')
		digits++
	}
	var frac uint64
	fracDigits := 0
	roundUp := false
	if i < n && s[i] == '.' {
		i++
		for ; i < n && s[i] >= '0' && s[i] <= '9'; i++ {
			digits++
			if fracDigits < Scale {
				frac = frac*10 + uint64(s[i]-'0')
				fracDigits++
			} else if fracDigits == Scale {
				roundUp = s[i] >= '5'
				fracDigits++ // later digits do not matter for half-away rounding
			}
		}
	}
	if i != n || digits == 0 {
		return 0, ErrSyntax
	}
	if fracDigits > Scale {
		fracDigits = Scale
	}
	frac *= uint64(pow10[Scale-fracDigits])
	if intPart > math.MaxInt64/unit {
		return 0, ErrRange
	}
	total := intPart*unit + frac
	if roundUp {
		total++
	}
	if total > math.MaxInt64 {
		return 0, ErrRange
	}
	if neg {
		return Value(-int64(total)), nil
	}
	return Value(total), nil
}

// String formats v with trailing zeros trimmed: "123.45", "0", "-0.001".
func (v Value) String() string {
	var buf [24]byte
	return string(v.AppendText(buf[:0]))
}

// StringFixed formats v with exactly decimals places (0..8), rounding half
// away from zero.
func (v Value) StringFixed(decimals int) string {
	r := v.Round(decimals)
	var buf [24]byte
	b := r.appendDecimals(buf[:0], decimals)
	return string(b)
}

// AppendText appends the String form of v to b.
func (v Value) AppendText(b []byte) []byte {
	u := uint64(v)
	if v < 0 {
		b = append(b, '-')
		u = uint64(-v)
	}
	b = strconv.AppendUint(b, u/unit, 10)
	frac := u % unit
	if frac == 0 {
		return b
	}
	var tmp [Scale]byte
	for i := Scale - 1; i >= 0; i-- {
		tmp[i] = byte('0' + frac%10)
		frac /= 10
	}
	end := Scale
	for end > 0 && tmp[end-1] == '0' {
		end--
	}
	b = append(b, '.')
	return append(b, tmp[:end]...)
}

func (v Value) appendDecimals(b []byte, decimals int) []byte {
	u := uint64(v)
	if v < 0 {
		b = append(b, '-')
		u = uint64(-v)
	}
	b = strconv.AppendUint(b, u/unit, 10)
	if decimals <= 0 {
		return b
	}
	frac := u % unit
	var tmp [Scale]byte
	for i := Scale - 1; i >= 0; i-- {
		tmp[i] = byte('0' + frac%10)
		frac /= 10
	}
	b = append(b, '.')
	return append(b, tmp[:decimals]...)
}

// Format implements fmt.Formatter so %v and %s print the decimal form.
func (v Value) Format(f fmt.State, verb rune) {
	switch verb {
	case 'v', 's':
		_, _ = f.Write(v.AppendText(nil))
	case 'q':
		_, _ = fmt.Fprintf(f, "%q", v.String())
	default:
		_, _ = fmt.Fprintf(f, "%%!%c(fixed.Value=%s)", verb, v.String())
	}
}

// MarshalText encodes v as its decimal string.
func (v Value) MarshalText() ([]byte, error) { return v.AppendText(nil), nil }

// UnmarshalText parses a decimal string.
func (v *Value) UnmarshalText(b []byte) error {
	p, err := ParseBytes(b)
	if err != nil {
		return fmt.Errorf("%w: %q", err, truncate(b))
	}
	*v = p
	return nil
}

// MarshalJSON encodes v as a JSON string, as Bitunix does for every price,
// size and balance.
func (v Value) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 24)
	b = append(b, '"')
	b = v.AppendText(b)
	return append(b, '"'), nil
}

// UnmarshalJSON accepts a JSON string or number; "" and null decode to 0,
// because Bitunix sends empty strings for absent values.
func (v *Value) UnmarshalJSON(b []byte) error {
	if len(b) == 0 {
		return ErrSyntax
	}
	if string(b) == "null" {
		*v = 0
		return nil
	}
	if b[0] == '"' {
		if len(b) < 2 || b[len(b)-1] != '"' {
			return fmt.Errorf("%w: %q", ErrSyntax, truncate(b))
		}
		b = b[1 : len(b)-1]
		if len(b) == 0 {
			*v = 0
			return nil
		}
	}
	return v.UnmarshalText(b)
}

func truncate(b []byte) []byte {
	if len(b) > 32 {
		return b[:32]
	}
	return b
}

// Int64 returns the integer part of v, truncated toward zero.
func (v Value) Int64() int64 { return int64(v) / unit }

// Float64 returns v as a float64. Use it only for statistics and display,
// never for money arithmetic.
func (v Value) Float64() float64 { return float64(v) / unit }

// FromFloat64 converts f, rounding to 8 decimals. Only for statistics and
// configuration input, never for money arithmetic.
func FromFloat64(f float64) Value { return Value(math.Round(f * unit)) }

// Raw returns the underlying scaled integer.
func (v Value) Raw() int64 { return int64(v) }

// Sign returns -1, 0 or +1.
func (v Value) Sign() int {
	switch {
	case v < 0:
		return -1
	case v > 0:
		return 1
	}
	return 0
}

// IsZero reports whether v is 0.
func (v Value) IsZero() bool { return v == 0 }

// Abs returns |v|.
func (v Value) Abs() Value {
	if v < 0 {
		return -v
	}
	return v
}

// Neg returns -v.
func (v Value) Neg() Value { return -v }

// Min returns the smaller of v and w.
func (v Value) Min(w Value) Value {
	if w < v {
		return w
	}
	return v
}

// Max returns the larger of v and w.
func (v Value) Max(w Value) Value {
	if w > v {
		return w
	}
	return v
}

// Mul returns v*w rounded half away from zero to 8 decimals. It saturates at
// Max/Min rather than wrapping.
func (v Value) Mul(w Value) Value {
	return mulDiv(v, w, unit)
}

// Div returns v/w rounded half away from zero. Division by zero returns 0
// and is the caller's bug to avoid; use DivOK where w may be zero.
func (v Value) Div(w Value) Value {
	q, _ := v.DivOK(w)
	return q
}

// DivOK is Div that reports division by zero.
func (v Value) DivOK(w Value) (Value, bool) {
	if w == 0 {
		return 0, false
	}
	return mulDiv(v, unit, int64(w)), true
}

// MulInt returns v*n, saturating.
func (v Value) MulInt(n int64) Value {
	return mulDiv(v, Value(n), 1)
}

// DivInt returns v/n rounded half away from zero; 0 when n is 0.
func (v Value) DivInt(n int64) Value {
	if n == 0 {
		return 0
	}
	return mulDiv(v, 1, n)
}

// mulDiv computes a*b/d with a 128-bit intermediate, rounding half away from
// zero and saturating on overflow.
func mulDiv(a Value, b Value, d int64) Value {
	neg := (a < 0) != (b < 0) != (d < 0)
	ua, ub, ud := abs64(int64(a)), abs64(int64(b)), abs64(d)
	hi, lo := bits.Mul64(ua, ub)
	if hi >= ud {
		return saturate(neg)
	}
	q, r := bits.Div64(hi, lo, ud)
	if r >= ud-r { // r*2 >= ud without overflow
		q++
	}
	if q > math.MaxInt64 {
		return saturate(neg)
	}
	if neg {
		return Value(-int64(q))
	}
	return Value(q)
}

func abs64(x int64) uint64 {
	if x < 0 {
		return uint64(-x)
	}
	return uint64(x)
}

func saturate(neg bool) Value {
	if neg {
		return Min
	}
	return Max
}

// step returns 10^-decimals as a raw scaled integer.
func step(decimals int) int64 {
	if decimals >= Scale {
		return 1
	}
	if decimals < 0 {
		decimals = 0
	}
	return pow10[Scale-decimals]
}

// Trunc rounds toward zero to the given number of decimals.
func (v Value) Trunc(decimals int) Value {
	s := step(decimals)
	return Value(int64(v) / s * s)
}

// Floor rounds toward negative infinity to the given number of decimals.
func (v Value) Floor(decimals int) Value {
	s := step(decimals)
	q := int64(v) / s
	if int64(v)%s < 0 {
		q--
	}
	return Value(q * s)
}

// Ceil rounds toward positive infinity to the given number of decimals.
func (v Value) Ceil(decimals int) Value {
	s := step(decimals)
	q := int64(v) / s
	if int64(v)%s > 0 {
		q++
	}
	return Value(q * s)
}

// Round rounds half away from zero to the given number of decimals.
func (v Value) Round(decimals int) Value {
	s := step(decimals)
	q, r := int64(v)/s, int64(v)%s
	if r >= 0 && r*2 >= s && r != 0 {
		q++
	} else if r < 0 && -r*2 >= s {
		q--
	}
	return Value(q * s)
}

// Step returns the smallest increment at the given number of decimals,
// e.g. Step(1) is 0.1.
func Step(decimals int) Value { return Value(step(decimals)) }
