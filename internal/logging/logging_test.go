package logging

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	tests := []struct {
		level, format string
		wantErr       bool
		wantDebug     bool
		json          bool
	}{
		{"debug", "text", false, true, false},
		{"info", "json", false, false, true},
		{"warn", "", false, false, false},
		{"loud", "text", true, false, false},
		{"info", "xml", true, false, false},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		l, err := New(&buf, tt.level, tt.format)
		if (err != nil) != tt.wantErr {
			t.Fatalf("New(%q,%q) err = %v", tt.level, tt.format, err)
		}
		if err != nil {
			continue
		}
		l.Debug("dbg")
		l.Error("boom", "k", 1)
		out := buf.String()
		if strings.Contains(out, "dbg") != tt.wantDebug {
			t.Errorf("%s: debug line present = %v", tt.level, !tt.wantDebug)
		}
		if tt.json {
			var m map[string]any
			if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &m); err != nil || m["msg"] != "boom" {
				t.Errorf("json output %q: %v", out, err)
			}
		}
	}
}
