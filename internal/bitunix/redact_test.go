package bitunix

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// The client's credentials must not come out of any fmt verb or slog,
// whether the Config, the WSConfig or the Client is printed.
func TestCredentialsNeverPrinted(t *testing.T) {
	const key, secret = "AKIA-key-3e1f", "sk-secret-77aa"
	cfg := Config{BaseURL: "http://127.0.0.1:1", APIKey: key, Secret: secret}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]any{
		"Config":   cfg,
		"*Config":  &cfg,
		"WSConfig": WSConfig{PublicURL: "ws://127.0.0.1:1/public/", APIKey: key, Secret: secret},
		"*Client":  c,
	}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%t"} {
			got := fmt.Sprintf(verb, v)
			if strings.Contains(got, key) || strings.Contains(got, secret) || strings.Contains(got, fmt.Sprintf("%x", secret)) {
				t.Errorf("%s with %s: %s", name, verb, got)
			}
		}
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "v", v)
		if strings.Contains(buf.String(), key) || strings.Contains(buf.String(), secret) {
			t.Errorf("%s in slog: %s", name, buf.String())
		}
	}
	if got := fmt.Sprintf("%+v", cfg); !strings.Contains(got, "127.0.0.1") || !strings.Contains(got, "[REDACTED]") {
		t.Errorf("Config prints %s: want its address and the credentials masked", got)
	}
	// slog shows the configs through LogValue: the address, and the
	// credentials as set but masked (without it, slog's JSON cannot print
	// them at all, so the absence checks above would pass vacuously).
	for name, v := range map[string]any{"Config": cfg, "WSConfig": values["WSConfig"]} {
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "v", v)
		if got := buf.String(); !strings.Contains(got, `"apiKey":"[REDACTED]"`) || !strings.Contains(got, "127.0.0.1") {
			t.Errorf("%s in slog: %s; want its address and apiKey [REDACTED]", name, got)
		}
	}
}
