package deploy_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// The image build sees every source file it compiles and the default
// configs, and no credential file wherever it lies in the tree. Paths are
// matched with Docker's own .dockerignore matcher.
func TestDockerBuildContext(t *testing.T) {
	f, err := os.Open("../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatal(err)
	}
	excluded := func(path string) bool {
		ex, err := pm.MatchesOrParentMatches(filepath.ToSlash(path))
		if err != nil {
			t.Fatalf("match %s: %v", path, err)
		}
		return ex
	}
	// What the Dockerfile builds from: the module files, every non-test Go
	// file of the binary's packages, the configs (embedded and copied).
	var needed []string
	err = filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("..", path)
		if d.IsDir() {
			if rel == ".git" || strings.HasSuffix(rel, "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		top, _, _ := strings.Cut(filepath.ToSlash(rel), "/")
		switch {
		case rel == "go.mod" || rel == "go.sum":
		case (top == "cmd" || top == "internal") && strings.HasSuffix(rel, ".go") && !strings.HasSuffix(rel, "_test.go"):
		case top == "config":
		default:
			return nil
		}
		needed = append(needed, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(needed) < 50 {
		t.Fatalf("found only %d build inputs: %v", len(needed), needed)
	}
	for _, p := range needed {
		if excluded(p) {
			t.Errorf("%s is left out of the build context, and the image needs it", p)
		}
	}
	for _, p := range []string{
		"api-key", "config/api-key", "internal/app/secret-key", "deploy/staging/admin-token",
		".env", "config/.env.production", "cmd/bitrader/tls.key", "internal/bitunix/ca.pem",
		"data/development/journal.db", "deploy/terraform/terraform.tfstate", "README.md", ".git/config",
		"bitrader.test", "internal/engine/cpu.prof",
	} {
		if !excluded(p) {
			t.Errorf("%s would enter the build context", p)
		}
	}
}
