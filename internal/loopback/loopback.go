// Package loopback holds test helpers for servers on 127.0.0.1: tests
// never reach any other address.
package loopback

import (
	"net"
	"testing"
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
