package ordermanager

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Client ids look like "bot1-2-1a": prefix, epoch and sequence separated by
// '-', epoch and sequence in lowercase base 36 without leading zeros.
//
// Why base 36: a uint64 always fits in 13 characters, so with a prefix of at
// most MaxPrefixLen the id stays within 40 characters of [A-Za-z0-9-], well
// under Bitunix's limit, for any epoch and sequence. The prefix may not
// contain '-', so the id splits unambiguously and the prefix alone tells our
// orders from anyone else's.
const MaxPrefixLen = 12

// MaxClientIDLen is the longest id FormatClientID produces.
const MaxClientIDLen = MaxPrefixLen + 1 + 13 + 1 + 13

// ErrBadClientID is wrapped by ParseClientID for ids not in our format.
var ErrBadClientID = errors.New("not a bitrader client id")

// ValidatePrefix checks an account/bot prefix: 1..12 of [A-Za-z0-9].
func ValidatePrefix(p string) error {
	if len(p) == 0 || len(p) > MaxPrefixLen {
		return fmt.Errorf("client id prefix %q: length must be 1..%d", p, MaxPrefixLen)
	}
	for i := 0; i < len(p); i++ {
		if !isAlnum(p[i]) {
			return fmt.Errorf("client id prefix %q: only letters and digits allowed", p)
		}
	}
	return nil
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// FormatClientID builds the id for (prefix, epoch, seq). The prefix must pass
// ValidatePrefix.
func FormatClientID(prefix string, epoch, seq uint64) string {
	b := make([]byte, 0, MaxClientIDLen)
	b = append(b, prefix...)
	b = append(b, '-')
	b = strconv.AppendUint(b, epoch, 36)
	b = append(b, '-')
	b = strconv.AppendUint(b, seq, 36)
	return string(b)
}

// ParseClientID splits an id made by FormatClientID. It accepts exactly the
// ids FormatClientID can produce, so parse and format round-trip.
func ParseClientID(id string) (prefix string, epoch, seq uint64, err error) {
	if len(id) > MaxClientIDLen {
		return "", 0, 0, fmt.Errorf("%w: %q too long", ErrBadClientID, id)
	}
	p, rest, ok := strings.Cut(id, "-")
	if !ok || ValidatePrefix(p) != nil {
		return "", 0, 0, fmt.Errorf("%w: %q has no valid prefix", ErrBadClientID, id)
	}
	e, s, ok := strings.Cut(rest, "-")
	if !ok {
		return "", 0, 0, fmt.Errorf("%w: %q has no sequence", ErrBadClientID, id)
	}
	if epoch, err = parseBase36(e); err != nil {
		return "", 0, 0, fmt.Errorf("%w: %q epoch: %v", ErrBadClientID, id, err)
	}
	if seq, err = parseBase36(s); err != nil {
		return "", 0, 0, fmt.Errorf("%w: %q sequence: %v", ErrBadClientID, id, err)
	}
	return p, epoch, seq, nil
}

// parseBase36 accepts only the canonical form strconv.FormatUint(n, 36) gives.
func parseBase36(s string) (uint64, error) {
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return 0, errors.New("not canonical base 36")
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z') {
			return 0, errors.New("not lowercase base 36")
		}
	}
	return strconv.ParseUint(s, 36, 64)
}

// IsOurs reports whether id was made by FormatClientID with this prefix.
func IsOurs(id, prefix string) bool {
	p, _, _, err := ParseClientID(id)
	return err == nil && p == prefix
}
