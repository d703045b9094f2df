package config

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
)

// Secret holds a credential. Every way Go prints, marshals or logs a value
// yields "[REDACTED]"; only Reveal returns the text, so a secret can reach
// output only through a deliberate call.
//
// The text sits behind a pointer: fmt cannot call methods on unexported
// struct fields, so a Secret nested in one prints as its raw struct, which
// then shows an address, not the text.
type Secret struct{ value *string }

const redacted = "[REDACTED]"

// NewSecret wraps s.
func NewSecret(s string) Secret {
	if s == "" {
		return Secret{}
	}
	return Secret{value: &s}
}

// Reveal returns the secret text, for signing requests and nothing else.
func (s Secret) Reveal() string {
	if s.value == nil {
		return ""
	}
	return *s.value
}

// IsSet reports whether the secret is non-empty.
func (s Secret) IsSet() bool { return s.value != nil }

// Equal compares in constant time, so a token check leaks no timing; the
// digests are compared, not the texts, so not even the length leaks.
func (s Secret) Equal(candidate string) bool {
	if s.value == nil {
		return false
	}
	want, got := sha256.Sum256([]byte(*s.value)), sha256.Sum256([]byte(candidate))
	return subtle.ConstantTimeCompare(want[:], got[:]) == 1
}

// String is for callers outside fmt; fmt itself uses Format.
func (s Secret) String() string { return s.mask() }

// Format masks every verb (%#v included, so no GoString is needed): fmt
// uses String only for %v %s %q %x %X. The pointer already keeps the text
// out of the others (%d, %#v ... would print an address); Format makes
// them read [REDACTED] too.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.mask())) }

// LogValue keeps secrets out of slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.mask()) }

// MarshalText covers JSON, YAML and any text encoder.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.mask()), nil }

func (s Secret) mask() string {
	if s.value == nil {
		return ""
	}
	return redacted
}

// Secrets are the credentials bitrader uses. They are never read from
// configuration files, only from the environment or mounted files.
type Secrets struct {
	APIKey     Secret `yaml:"apiKey" json:"apiKey"`
	SecretKey  Secret `yaml:"secretKey" json:"secretKey"`
	AdminToken Secret `yaml:"adminToken" json:"adminToken"`
}

// HasExchangeKeys reports whether both API key and secret are present.
func (s Secrets) HasExchangeKeys() bool { return s.APIKey.IsSet() && s.SecretKey.IsSet() }
