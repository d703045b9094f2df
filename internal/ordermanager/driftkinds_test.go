package ordermanager

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"testing"
)

// Every DriftKind constant declared in this package is in DriftKinds, so
// metrics create a series for it before the first drift.
func TestDriftKindsListsEveryKind(t *testing.T) {
	pkgs, err := parser.ParseDir(token.NewFileSet(), ".", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var declared []string
	for _, f := range pkgs["ordermanager"].Files {
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); ok && id.Name == "DriftKind" {
					for _, n := range vs.Names {
						declared = append(declared, n.Name)
					}
				}
			}
		}
	}
	kinds := DriftKinds()
	if len(kinds) != len(declared) || len(slices.Compact(slices.Sorted(slices.Values(kinds)))) != len(kinds) {
		t.Fatalf("declared DriftKind constants %v; DriftKinds() lists %v (each once)", declared, kinds)
	}
}
