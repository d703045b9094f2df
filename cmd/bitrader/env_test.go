package main

import (
	"testing"

	"github.com/bitrader/bitrader/internal/loopback"
)

// TestMain keeps the caller's environment (ENVIRONMENT, BITRADER_*, keys,
// KUBECONFIG, a CI pod's KUBERNETES_*) away from the bitrader these tests
// run: they must reach nothing but loopback.
func TestMain(m *testing.M) { loopback.Main(m) }
