package config

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestExamplesDocumentEveryKey keeps config.yaml.example and .env.example
// complete: a new key without documentation fails here.
func TestExamplesDocumentEveryKey(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	envExample, err := os.ReadFile(filepath.Join(root, ".env.example"))
	if err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0)
	for k := range schema() {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !strings.Contains(string(envExample), envKey(k)+"=") {
			t.Errorf(".env.example does not document %s (%s)", k, envKey(k))
		}
	}
	// The YAML example must load as a user file, and set every key.
	t.Chdir(t.TempDir())
	l, err := Load(Options{ConfigDir: filepath.Join(root, "config"), UserFile: filepath.Join(root, "config.yaml.example"), Env: []string{}})
	if err != nil {
		t.Fatalf("config.yaml.example does not load: %v", err)
	}
	for _, k := range keys {
		if src := l.Sources[k]; src.Layer != "user-file" && src.Layer != "derived" {
			t.Errorf("config.yaml.example does not set %s (set by %s)", k, src)
		}
	}
}
