package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// The committed dashboards must be exactly what the generator produces, so
// that the SDK-built structure is what Grafana loads.
func TestCommittedDashboardsAreGenerated(t *testing.T) {
	files, err := render()
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 3 {
		t.Fatalf("render produced %d dashboards, want 3", len(files))
	}
	dir := filepath.Join("..", "..", "..", "deploy", "grafana", "dashboards")
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%v (run: go run ./internal/metrics/dashgen -out deploy/grafana/dashboards)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run go run ./internal/metrics/dashgen -out deploy/grafana/dashboards", name)
		}
	}
}

func TestWriteCreatesFiles(t *testing.T) {
	dir := t.TempDir()
	if err := write(dir); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 3 {
		t.Fatalf("wrote %d files (err %v), want 3", len(entries), err)
	}
}
