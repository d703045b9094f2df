package loopback

import (
	"os"
	"testing"
)

func TestScrubbed(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"ENVIRONMENT", true},
		{"BITRADER_API_BASEURL", true},
		{"BITRADER_API_KEY_FILE", true},
		{"API_KEY", true},
		{"SECRET_KEY_FILE", true},
		{"ADMIN_TOKEN", true},
		{"KUBECONFIG", true},
		{"KUBERNETES_SERVICE_HOST", true},
		{"POD_NAMESPACE", true},
		{"DRY_RUN", true},
		{"LOG_LEVEL", true},
		{"API_KEYS", false},       // not ours
		{"BITRADER_TOOLS", false}, // where the test tools are
		{"KUBEBUILDER_ASSETS", false},
		{"PATH", false},
		{"HOME", false},
		{"GOFLAGS", false},
	}
	for _, tt := range tests {
		if got := scrubbed(tt.name); got != tt.want {
			t.Errorf("scrubbed(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestScrubEnv(t *testing.T) {
	t.Setenv("BITRADER_API_BASEURL", "https://fapi.bitunix.com")
	t.Setenv("BITRADER_TOOLS", "/tools")
	ScrubEnv()
	if v, ok := os.LookupEnv("BITRADER_API_BASEURL"); ok {
		t.Errorf("BITRADER_API_BASEURL=%q survived", v)
	}
	if v, _ := os.LookupEnv("BITRADER_TOOLS"); v != "/tools" {
		t.Errorf("BITRADER_TOOLS=%q, want it kept", v)
	}
}
