package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The binary must not link client-go's typed clientset or anything built
// on it: registering every Kubernetes API group at start-up cost about
// 8 MiB of resident memory whether HA was on or not (BENCHMARKS.md,
// Resident memory). internal/leader needs only Leases.
func TestBinaryLinksNoKubernetesClientset(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	forbidden := []string{
		"k8s.io/client-go/kubernetes",           // the clientset and its scheme of every API group
		"k8s.io/client-go/tools/leaderelection", // its resource locks import the clientset
		"k8s.io/client-go/informers",
		"sigs.k8s.io/controller-runtime",
	}
	var apiGroups []string
	for _, pkg := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if pkg == f || strings.HasPrefix(pkg, f+"/") {
				t.Errorf("bitrader links %s", pkg)
			}
		}
		if strings.HasPrefix(pkg, "k8s.io/api/") {
			apiGroups = append(apiGroups, pkg)
		}
	}
	if len(apiGroups) != 1 || apiGroups[0] != "k8s.io/api/coordination/v1" {
		t.Errorf("bitrader links Kubernetes API types %v; it needs only k8s.io/api/coordination/v1", apiGroups)
	}
}
