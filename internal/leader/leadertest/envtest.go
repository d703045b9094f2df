// Package leadertest starts a real Kubernetes API server (envtest: a
// kube-apiserver and etcd started as processes) for the leader election
// tests, or skips the test with the reason when the binaries are missing.
package leadertest

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// DefaultToolsDir is where .ci/tools.sh caches the binaries it builds.
const DefaultToolsDir = "/var/cache/bitrader-tools/v1/bin"

// Assets are the paths of the control-plane binaries.
type Assets struct {
	APIServer, Etcd, Kubectl string
}

// FindAssets looks for kube-apiserver in $KUBEBUILDER_ASSETS, then
// $BITRADER_TOOLS/bin, then DefaultToolsDir, then /tmp/ha-tools/bin; etcd
// next to it or else on PATH (Debian's etcd-server installs /usr/bin/etcd).
// kubectl is optional. The error says what was looked for where.
func FindAssets(getenv func(string) string) (Assets, error) {
	var dirs []string
	if d := getenv("KUBEBUILDER_ASSETS"); d != "" {
		dirs = append(dirs, d)
	}
	if d := getenv("BITRADER_TOOLS"); d != "" {
		dirs = append(dirs, filepath.Join(d, "bin"))
	}
	dirs = append(dirs, DefaultToolsDir, "/tmp/ha-tools/bin")
	for _, d := range dirs {
		api := filepath.Join(d, "kube-apiserver")
		if !isExec(api) {
			continue
		}
		a := Assets{APIServer: api}
		if p := filepath.Join(d, "etcd"); isExec(p) {
			a.Etcd = p
		} else if p, err := exec.LookPath("etcd"); err == nil {
			a.Etcd = p
		} else {
			return Assets{}, fmt.Errorf("found %s but no etcd next to it or on PATH (apt-get install etcd-server)", api)
		}
		if p := filepath.Join(d, "kubectl"); isExec(p) {
			a.Kubectl = p
		}
		return a, nil
	}
	return Assets{}, fmt.Errorf("no kube-apiserver in %v: set KUBEBUILDER_ASSETS to a folder with kube-apiserver and etcd (.ci/tools.sh builds them)", dirs)
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// Env is a running API server.
type Env struct {
	Config *rest.Config
	env    *envtest.Environment
}

// Start starts envtest for t and stops it in t.Cleanup; it skips t when
// the binaries are missing.
func Start(t testing.TB) *Env {
	t.Helper()
	a, err := FindAssets(os.Getenv)
	if err != nil {
		t.Skipf("real API server tests skipped: %v", err)
	}
	// controller-runtime warns, with a stack trace, if its global logger
	// is never set; envtest's own logs are not interesting here.
	ctrllog.SetLogger(logr.Discard())
	te := &envtest.Environment{ControlPlaneStartTimeout: 60 * time.Second, ControlPlaneStopTimeout: 30 * time.Second}
	te.ControlPlane.GetAPIServer().Path = a.APIServer
	te.ControlPlane.Etcd = &envtest.Etcd{Path: a.Etcd}
	te.ControlPlane.KubectlPath = a.Kubectl
	t0 := time.Now()
	rc, err := te.Start()
	if err != nil {
		t.Fatalf("start envtest (kube-apiserver %s, etcd %s): %v", a.APIServer, a.Etcd, err)
	}
	t.Logf("API server %s ready in %s", rc.Host, time.Since(t0).Round(time.Millisecond))
	t.Cleanup(func() {
		if err := te.Stop(); err != nil {
			t.Errorf("stop envtest: %v", err)
		}
	})
	return &Env{Config: rc, env: te}
}

// WriteKubeconfig writes an admin kubeconfig for this API server into dir
// and returns its path (for bot processes: KUBECONFIG=path).
func (e *Env) WriteKubeconfig(dir string) (string, error) {
	u, err := e.env.AddUser(envtest.User{Name: "bitrader-e2e", Groups: []string{"system:masters"}}, e.Config)
	if err != nil {
		return "", fmt.Errorf("add kubeconfig user: %w", err)
	}
	b, err := u.KubeConfig()
	if err != nil {
		return "", fmt.Errorf("render kubeconfig: %w", err)
	}
	p := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		return "", fmt.Errorf("write kubeconfig: %w", err)
	}
	return p, nil
}

// Proxy is a TCP proxy on 127.0.0.1 in front of the API server whose link
// can be cut: Cut blackholes it (open connections stall, new ones hang
// unanswered), as a network partition does.
type Proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	cut   bool
	conns []net.Conn
	wg    sync.WaitGroup
}

// NewProxy listens on 127.0.0.1:0 and forwards to target (host:port).
func NewProxy(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("proxy listen: %w", err)
	}
	p := &Proxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.conns = append(p.conns, c)
		cut := p.cut
		p.mu.Unlock()
		if cut {
			continue // hold it open, answer nothing
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, up)
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(up, c)
		go p.pipe(c, up)
	}
}

// pipe copies until error; while cut, bytes are swallowed, not forwarded.
func (p *Proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			cut := p.cut
			p.mu.Unlock()
			if !cut {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				dst.Close()
			}
			return
		}
	}
}

// Cut stops forwarding in both directions; nothing is closed, so clients
// see silence until their own timeouts, like a partition.
func (p *Proxy) Cut() {
	p.mu.Lock()
	p.cut = true
	p.mu.Unlock()
}

// Close closes the listener and every connection.
func (p *Proxy) Close() {
	p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}
