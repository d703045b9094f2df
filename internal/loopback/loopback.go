// Package loopback holds test helpers for servers on 127.0.0.1: tests
// never reach any other address.
package loopback

import (
	"net"
	"os"
	"strings"
	"testing"

	"github.com/bitrader/bitrader/internal/config"
)

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago,
// for a process the test starts with a port flag. Another listener may
// take it before that process binds; a test that cares retries.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// ScrubEnv removes from this process's environment everything that could
// point a bitrader under test at a real exchange or cluster, or hand it
// credentials: bitrader's own variables (but BITRADER_TOOLS, where the
// test tools are), ENVIRONMENT, the secrets and their files, and the
// Kubernetes variables. A TestMain calls it before m.Run, so neither the
// code under test nor a binary it starts (which inherits the environment)
// sees a developer's or a CI pod's settings.
func ScrubEnv() {
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if scrubbed(name) {
			os.Unsetenv(name)
		}
	}
}

// Main is a TestMain that only needs ScrubEnv: it scrubs, runs the tests
// and exits with their status.
func Main(m *testing.M) {
	ScrubEnv()
	os.Exit(m.Run())
}

// scrubbed: what the configuration reads (config.ReadsEnv), but
// BITRADER_TOOLS, and what points client-go at a cluster.
func scrubbed(name string) bool {
	switch name {
	case "BITRADER_TOOLS":
		return false
	case "KUBECONFIG", "POD_NAME", "POD_NAMESPACE":
		return true
	}
	return config.ReadsEnv(name) || strings.HasPrefix(name, "KUBERNETES_")
}
