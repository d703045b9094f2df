package fixed

import (
	"encoding/json"
	"errors"
	"math/big"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Value
		err  error
	}{
		{"0", 0, nil},
		{"1", One, nil},
		{"-1", -One, nil},
		{"+2.5", 250_000_000, nil},
		{"123.45", 12_345_000_000, nil},
		{".5", 50_000_000, nil},
		{"5.", 500_000_000, nil},
		{"0.00000001", 1, nil},
		{"0.000000005", 1, nil},   // half away from zero
		{"0.000000004", 0, nil},   // rounds down
		{"-0.000000005", -1, nil}, // half away from zero, negative
		{"86699.6", 8_669_960_000_000, nil},
		{"92233720368.54775807", Max, nil},
		{"92233720369", 0, ErrRange},
		{"", 0, ErrSyntax},
		{"-", 0, ErrSyntax},
		{".", 0, ErrSyntax},
		{"1e3", 0, ErrSyntax},
		{"1.2.3", 0, ErrSyntax},
		{"abc", 0, ErrSyntax},
		{" 1", 0, ErrSyntax},
		{"market", 0, ErrSyntax},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if !errors.Is(err, tt.err) {
			t.Errorf("Parse(%q) error = %v, want %v", tt.in, err, tt.err)
			continue
		}
		if err == nil && got != tt.want {
			t.Errorf("Parse(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestStringRoundTrip(t *testing.T) {
	for _, s := range []string{"0", "1", "-1", "0.1", "123.456", "-0.00000001", "92233720368.54775807", "86699.6"} {
		if got := MustParse(s).String(); got != s {
			t.Errorf("String(Parse(%q)) = %q", s, got)
		}
	}
	if got := MustParse("1.5").StringFixed(3); got != "1.500" {
		t.Errorf("StringFixed = %q", got)
	}
	if got := MustParse("-1.25").StringFixed(1); got != "-1.3" {
		t.Errorf("StringFixed(-1.25,1) = %q, want -1.3", got)
	}
}

func TestArithmetic(t *testing.T) {
	p := MustParse
	tests := []struct {
		name string
		got  Value
		want Value
	}{
		{"mul", p("60000").Mul(p("0.001")), p("60")},
		{"mul neg", p("-2.5").Mul(p("4")), p("-10")},
		{"mul rounds", p("0.00000001").Mul(p("0.5")), p("0.00000001")},
		{"mul saturates", p("90000000000").Mul(p("1000")), Max},
		{"mul saturates neg", p("-90000000000").Mul(p("1000")), Min},
		{"div", p("1").Div(p("3")), p("0.33333333")},
		{"div rounds up", p("2").Div(p("3")), p("0.66666667")},
		{"div neg", p("-1").Div(p("8")), p("-0.125")},
		{"div zero", p("1").Div(0), 0},
		{"mulint", p("0.1").MulInt(3), p("0.3")},
		{"divint", p("1").DivInt(4), p("0.25")},
		{"trunc", p("1.23456").Trunc(2), p("1.23")},
		{"trunc neg", p("-1.23456").Trunc(2), p("-1.23")},
		{"floor neg", p("-1.231").Floor(2), p("-1.24")},
		{"ceil", p("1.231").Ceil(2), p("1.24")},
		{"ceil exact", p("1.23").Ceil(2), p("1.23")},
		{"round half", p("1.25").Round(1), p("1.3")},
		{"round half neg", p("-1.25").Round(1), p("-1.3")},
		{"round down", p("1.24").Round(1), p("1.2")},
		{"round 0", p("2.5").Round(0), p("3")},
		{"abs", p("-3").Abs(), p("3")},
		{"min", p("1").Min(p("2")), p("1")},
		{"max", p("1").Max(p("2")), p("2")},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, tt.got, tt.want)
		}
	}
}

func TestJSON(t *testing.T) {
	var s struct {
		A Value `json:"a"`
		B Value `json:"b"`
		C Value `json:"c"`
		D Value `json:"d"`
	}
	if err := json.Unmarshal([]byte(`{"a":"1.5","b":2.25,"c":"","d":null}`), &s); err != nil {
		t.Fatal(err)
	}
	if s.A != MustParse("1.5") || s.B != MustParse("2.25") || s.C != 0 || s.D != 0 {
		t.Fatalf("decoded %+v", s)
	}
	out, _ := json.Marshal(s)
	if string(out) != `{"a":"1.5","b":"2.25","c":"0","d":"0"}` {
		t.Fatalf("encoded %s", out)
	}
	if err := json.Unmarshal([]byte(`{"a":"x"}`), &s); err == nil {
		t.Fatal("want error for non-number")
	}
}

func TestParseBytesNoAlloc(t *testing.T) {
	b := []byte("86699.6")
	allocs := testing.AllocsPerRun(100, func() { _, _ = ParseBytes(b) })
	if allocs != 0 {
		t.Fatalf("ParseBytes allocates %v", allocs)
	}
}

// FuzzParse checks that parsing never panics, and that whatever parses
// agrees with exact big-rational arithmetic and round-trips through String.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"0", "-1.5", "123.456789012", "92233720368.54775807", "", ".", "1e5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Parse(s)
		if err != nil {
			return
		}
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			t.Fatalf("Parse accepted %q, big.Rat did not", s)
		}
		r.Mul(r, big.NewRat(unit, 1))
		// |exact - parsed| <= 0.5 ulp
		diff := new(big.Rat).Sub(r, new(big.Rat).SetInt64(int64(v)))
		if diff.Abs(diff).Cmp(big.NewRat(1, 2)) > 0 {
			t.Fatalf("Parse(%q) = %d, exact %s", s, v, r.FloatString(3))
		}
		if back, err := Parse(v.String()); err != nil || back != v {
			t.Fatalf("round trip of %q: %s -> %d, %v", s, v, back, err)
		}
	})
}

func BenchmarkParseBytes(b *testing.B) {
	in := []byte("86699.6")
	for b.Loop() {
		_, _ = ParseBytes(in)
	}
}
