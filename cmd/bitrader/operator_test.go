package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/bitrader/bitrader/internal/config"
	"github.com/bitrader/bitrader/internal/httpapi"
)

type stubKill struct{ calls int }

func (s *stubKill) Kill(string) error { s.calls++; return nil }
func (s *stubKill) Resume() error     { s.calls++; return nil }

type stubLeader struct{ leading bool }

func (l stubLeader) IsLeader() bool         { return l.leading }
func (l stubLeader) Identity() string       { return "bot-b" }
func (l stubLeader) LeaderIdentity() string { return "bot-a" }

// `bitrader kill` against a standby fails (exit 1) naming the leader and
// never claims the switch tripped; against the leader it succeeds.
func TestKillCommandOnStandby(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("ADMIN_TOKEN", testToken)
	tests := []struct {
		name    string
		leading bool
		args    []string
		code    int
		stdout  string
		stderr  string
	}{
		{"kill on standby", false, []string{"kill"}, exitFailure, "", "kill switch NOT tripped"},
		{"resume on standby", false, []string{"kill", "--resume"}, exitFailure, "", "kill switch NOT cleared"},
		{"kill on leader", true, []string{"kill"}, 0, "kill switch tripped", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kill := &stubKill{}
			api := httpapi.New(httpapi.Config{Kill: kill, Token: config.NewSecret(testToken), Leader: stubLeader{tt.leading}})
			srv := httptest.NewServer(api.Handler())
			defer srv.Close()
			var stdout, stderr bytes.Buffer
			code := execute(context.Background(), append(tt.args, "--addr", srv.URL), &stdout, &stderr)
			if code != tt.code || !strings.Contains(stdout.String(), tt.stdout) || !strings.Contains(stderr.String(), tt.stderr) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %d, %q, %q", code, stdout.String(), stderr.String(), tt.code, tt.stdout, tt.stderr)
			}
			if !tt.leading {
				if !strings.Contains(stderr.String(), "the leader is bot-a") || strings.Contains(stdout.String(), "tripped") || kill.calls != 0 {
					t.Fatalf("standby: stdout %q, stderr %q, kill switch calls %d", stdout.String(), stderr.String(), kill.calls)
				}
			}
		})
	}
}

// `bitrader kill` does not follow a redirect: the admin token goes to
// --addr only, and a redirect is a failure, not a tripped switch.
func TestKillCommandFollowsNoRedirect(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("ADMIN_TOKEN", testToken)
	var leaked atomic.Bool
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.Header.Get("Authorization"), testToken) {
			leaked.Store(true)
		}
	}))
	defer elsewhere.Close()
	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer redirecting.Close()
	var stdout, stderr bytes.Buffer
	code := execute(context.Background(), []string{"kill", "--addr", redirecting.URL}, &stdout, &stderr)
	if code == 0 || strings.Contains(stdout.String(), "tripped") || leaked.Load() {
		t.Fatalf("exit %d, stdout %q, stderr %q, token sent on %v", code, stdout.String(), stderr.String(), leaked.Load())
	}
}
