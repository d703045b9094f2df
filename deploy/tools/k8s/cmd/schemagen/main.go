// Command schemagen writes kubeconform-compatible, self-contained, strict JSON schemas
// (draft-04) for every Kubernetes kind in a swagger.json, so that manifests can be validated
// offline against the exact API version the deployment targets.
//
// File names follow kubeconform's template "{{ .ResourceKind }}{{ .KindSuffix }}.json":
// "<kind>-<group first label>-<version>.json", and "<kind>-<version>.json" for the core group.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

type gvk struct {
	Group   string `json:"group"`
	Version string `json:"version"`
	Kind    string `json:"kind"`
}

const (
	refPrefix   = "#/definitions/"
	intOrString = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
	quantity    = "io.k8s.apimachinery.pkg.api.resource.Quantity"
)

func main() {
	swaggerPath := flag.String("swagger", "", "path to api/openapi-spec/swagger.json")
	outDir := flag.String("out", "", "output directory")
	flag.Parse()
	if *swaggerPath == "" || *outDir == "" {
		log.Fatal("usage: schemagen -swagger swagger.json -out DIR")
	}
	n, err := run(*swaggerPath, *outDir)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("schemagen: wrote %d schemas to %s\n", n, *outDir)
}

func run(swaggerPath, outDir string) (int, error) {
	raw, err := os.ReadFile(swaggerPath)
	if err != nil {
		return 0, fmt.Errorf("read swagger: %w", err)
	}
	var doc struct {
		Definitions map[string]map[string]any `json:"definitions"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return 0, fmt.Errorf("parse swagger %s: %w", swaggerPath, err)
	}
	defs := doc.Definitions
	for name, def := range defs {
		switch name {
		case intOrString:
			defs[name] = oneOf("string", "integer")
		case quantity:
			defs[name] = oneOf("string", "number")
		default:
			tighten(def)
		}
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return 0, fmt.Errorf("create %s: %w", outDir, err)
	}
	names := make([]string, 0, len(defs))
	for name := range defs {
		names = append(names, name)
	}
	sort.Strings(names)
	written := map[string]bool{}
	for _, name := range names {
		kinds, err := gvks(defs[name])
		if err != nil {
			return 0, fmt.Errorf("definition %s: %w", name, err)
		}
		for _, k := range kinds {
			file := strings.ToLower(k.Kind)
			if k.Group != "" {
				file += "-" + strings.Split(k.Group, ".")[0]
			}
			file += "-" + k.Version + ".json"
			if written[file] {
				continue
			}
			schema := map[string]any{
				"$schema":     "http://json-schema.org/draft-04/schema#",
				"$ref":        refPrefix + name,
				"definitions": closure(defs, name),
			}
			b, err := json.Marshal(schema)
			if err != nil {
				return 0, fmt.Errorf("marshal %s: %w", file, err)
			}
			if err := os.WriteFile(filepath.Join(outDir, file), b, 0o644); err != nil {
				return 0, fmt.Errorf("write %s: %w", file, err)
			}
			written[file] = true
		}
	}
	return len(written), nil
}

func oneOf(a, b string) map[string]any {
	return map[string]any{"oneOf": []any{map[string]any{"type": a}, map[string]any{"type": b}}}
}

func gvks(def map[string]any) ([]gvk, error) {
	v, ok := def["x-kubernetes-group-version-kind"]
	if !ok {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out []gvk
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("x-kubernetes-group-version-kind: %w", err)
	}
	return out, nil
}

// tighten walks a schema node: objects with properties and no declared extra properties reject
// unknown fields, and int-or-string formats accept both types.
func tighten(node any) {
	switch n := node.(type) {
	case map[string]any:
		if f, _ := n["format"].(string); f == "int-or-string" {
			delete(n, "type")
			delete(n, "format")
			n["oneOf"] = []any{map[string]any{"type": "string"}, map[string]any{"type": "integer"}}
		}
		if _, hasProps := n["properties"]; hasProps {
			_, hasAP := n["additionalProperties"]
			_, preserve := n["x-kubernetes-preserve-unknown-fields"]
			if !hasAP && !preserve {
				n["additionalProperties"] = false
			}
		}
		if props, ok := n["properties"].(map[string]any); ok {
			for _, p := range props {
				tighten(p)
			}
		}
		for _, key := range []string{"items", "additionalProperties"} {
			if sub, ok := n[key].(map[string]any); ok {
				tighten(sub)
			}
		}
	}
}

// closure returns the definition and every definition it references, transitively.
func closure(defs map[string]map[string]any, root string) map[string]any {
	out := map[string]any{}
	var visit func(string)
	visit = func(name string) {
		if _, done := out[name]; done {
			return
		}
		def, ok := defs[name]
		if !ok {
			return
		}
		out[name] = def
		for _, ref := range refs(def, nil) {
			visit(ref)
		}
	}
	visit(root)
	return out
}

func refs(node any, acc []string) []string {
	switch n := node.(type) {
	case map[string]any:
		for k, v := range n {
			if s, ok := v.(string); ok && k == "$ref" && strings.HasPrefix(s, refPrefix) {
				acc = append(acc, strings.TrimPrefix(s, refPrefix))
				continue
			}
			acc = refs(v, acc)
		}
	case []any:
		for _, v := range n {
			acc = refs(v, acc)
		}
	}
	return acc
}
