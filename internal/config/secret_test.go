package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// verbs are every way a value commonly reaches text through fmt.
var verbs = []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%t", "%p", "%10s", "%T %v"}

// A secret's text must not come out of any fmt verb, slog or JSON,
// whether the Secret is printed itself, inside the config, or nested in an
// unexported field (where fmt cannot call its methods).
func TestSecretNeverPrinted(t *testing.T) {
	const text = "sk-9f2c-very-secret"
	type wrapper struct {
		hidden Secret // unexported: fmt prints it raw
		Shown  Secret
	}
	s := NewSecret(text)
	values := map[string]any{
		"secret":            s,
		"pointer":           &s,
		"secrets":           Secrets{APIKey: s, SecretKey: s, AdminToken: s},
		"config":            Config{Secrets: Secrets{APIKey: s, SecretKey: s}},
		"nested":            wrapper{hidden: s, Shown: s},
		"in a slice of any": []any{s, wrapper{hidden: s}},
	}
	for name, v := range values {
		for _, verb := range verbs {
			if got := fmt.Sprintf(verb, v); strings.Contains(got, text) || strings.Contains(got, fmt.Sprintf("%x", text)) {
				t.Errorf("%s with %s: %s", name, verb, got)
			}
		}
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "v", v)
		slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "v", v)
		if strings.Contains(buf.String(), text) {
			t.Errorf("%s in slog: %s", name, buf.String())
		}
		if b, err := json.Marshal(v); err == nil && strings.Contains(string(b), text) {
			t.Errorf("%s as JSON: %s", name, b)
		}
	}
	if got := fmt.Sprintf("%d %#v", s, s); got != "[REDACTED] [REDACTED]" {
		t.Errorf("Secret through verbs String does not serve: %s", got)
	}
	if s.Reveal() != text || !s.IsSet() || !s.Equal(text) || s.Equal(text+"x") {
		t.Fatal("the secret itself is not intact")
	}
	if empty := NewSecret(""); empty.IsSet() || empty.Reveal() != "" || empty.Equal("") || fmt.Sprint(empty) != "" {
		t.Fatalf("an empty secret: set %v, %q", empty.IsSet(), fmt.Sprint(empty))
	}
}
