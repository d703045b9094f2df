package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
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
