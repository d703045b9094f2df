package ordermanager

import (
	"errors"
	"math"
	"regexp"
	"testing"
)

var idChars = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func TestClientIDRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		prefix     string
		epoch, seq uint64
		want       string
	}{
		{"bot1", 1, 1, "bot1-1-1"},
		{"A", 0, 35, "A-0-z"},
		{"acct42", 7, 36, "acct42-7-10"},
		{"abcdefghijkl", math.MaxUint64, math.MaxUint64, "abcdefghijkl-3w5e11264sgsf-3w5e11264sgsf"},
	} {
		id := FormatClientID(tc.prefix, tc.epoch, tc.seq)
		if id != tc.want {
			t.Errorf("Format = %q, want %q", id, tc.want)
		}
		if len(id) > 40 || !idChars.MatchString(id) {
			t.Errorf("%q breaks the length/charset rule", id)
		}
		p, e, s, err := ParseClientID(id)
		if err != nil || p != tc.prefix || e != tc.epoch || s != tc.seq {
			t.Errorf("Parse(%q) = %q %d %d %v", id, p, e, s, err)
		}
	}
}

func TestParseClientIDRejects(t *testing.T) {
	for _, id := range []string{
		"", "bot1", "bot1-1", "bot1-1-", "-1-1", "bot1--1", "bot1-01-1", "bot1-1-01",
		"bot1-1-A", "bot_1-1-1", "bot1-1-1-1", "abcdefghijklm-1-1", "bot1-1-3w5e11264sgsg",
		"bot1-+1-1", "bot1-1- 1",
	} {
		if _, _, _, err := ParseClientID(id); !errors.Is(err, ErrBadClientID) {
			t.Errorf("Parse(%q) err = %v, want ErrBadClientID", id, err)
		}
	}
}

func TestValidatePrefix(t *testing.T) {
	for _, p := range []string{"", "a-b", "a_b", "abcdefghijklm", "ü"} {
		if ValidatePrefix(p) == nil {
			t.Errorf("prefix %q accepted", p)
		}
	}
	if !IsOurs("bot1-1-2", "bot1") || IsOurs("bot12-1-2", "bot1") || IsOurs("manual", "bot1") {
		t.Error("IsOurs wrong")
	}
}

func FuzzParseClientID(f *testing.F) {
	for _, s := range []string{"bot1-1-1", "A-0-z", "x-", "bot1-01-1", "abcdefghijkl-3w5e11264sgsf-3w5e11264sgsf"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		p, e, s, err := ParseClientID(id)
		if err != nil {
			return
		}
		// Whatever parses must be exactly what Format produces.
		if again := FormatClientID(p, e, s); again != id {
			t.Fatalf("Parse(%q) -> Format = %q", id, again)
		}
		if len(id) > 40 || !idChars.MatchString(id) {
			t.Fatalf("accepted id %q breaks the rules", id)
		}
	})
}
