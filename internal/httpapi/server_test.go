package httpapi

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/bitrader/bitrader/internal/config"
	"github.com/bitrader/bitrader/internal/metrics"
)

type fakeReady struct{ err error }

func (f fakeReady) Ready() error { return f.err }

type fakeKill struct{ killed, resumed int }

func (f *fakeKill) Kill(string) error { f.killed++; return nil }
func (f *fakeKill) Resume() error     { f.resumed++; return nil }

type fakeStatus struct{}

func (fakeStatus) Status() any { return map[string]int{"openOrders": 2} }

func TestEndpoints(t *testing.T) {
	kill := &fakeKill{}
	tok := config.NewSecret("s3cret")
	srv := New(Config{
		Registry:  metrics.NewRegistry(metrics.BuildInfo{Version: "v1", Commit: "c", Date: "d"}),
		Readiness: fakeReady{err: errors.New("websocket not connected")},
		Status:    fakeStatus{},
		Kill:      kill,
		Token:     tok,
	})
	tests := []struct {
		method, path, auth string
		code               int
		body               string
	}{
		{"GET", "/healthz", "", 200, "ok"},
		{"GET", "/readyz", "", 503, "websocket not connected"},
		{"GET", "/status", "", 200, `"openOrders": 2`},
		{"GET", "/metrics", "", 200, `bitrader_build_info{commit="c",date="d"`},
		{"POST", "/admin/kill", "", 401, "unauthorized"},
		{"POST", "/admin/kill", "Bearer wrong", 401, "unauthorized"},
		{"POST", "/admin/kill", "s3cret", 401, "unauthorized"},
		{"POST", "/admin/kill", "Bearer s3cret", 204, ""},
		{"POST", "/admin/resume", "Bearer s3cret", 204, ""},
		{"GET", "/admin/kill", "Bearer s3cret", 405, ""},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(tt.method, tt.path, nil)
		if tt.auth != "" {
			req.Header.Set("Authorization", tt.auth)
		}
		rec := httptest.NewRecorder()
		srv.srv.Handler.ServeHTTP(rec, req)
		if rec.Code != tt.code || !strings.Contains(rec.Body.String(), tt.body) {
			t.Errorf("%s %s (%q): got %d %q, want %d containing %q", tt.method, tt.path, tt.auth, rec.Code, rec.Body.String(), tt.code, tt.body)
		}
	}
	if kill.killed != 1 || kill.resumed != 1 {
		t.Errorf("kill=%d resume=%d, want 1 and 1", kill.killed, kill.resumed)
	}
}

func TestAdminDisabledWithoutToken(t *testing.T) {
	srv := New(Config{Kill: &fakeKill{}, Token: config.NewSecret("")})
	req := httptest.NewRequest("POST", "/admin/kill", nil)
	req.Header.Set("Authorization", "Bearer ")
	rec := httptest.NewRecorder()
	srv.srv.Handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotFound {
		t.Fatalf("got %d, want 404", rec.Code)
	}
}

func TestRunServesAndShutsDown(t *testing.T) {
	srv := New(Config{Addr: "127.0.0.1:0"})
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	resp, err := http.Get("http://" + srv.Addr() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "ok\n" {
		t.Fatalf("healthz body %q", b)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

type fakeLeader struct {
	leading        bool
	self, observed string
}

func (f fakeLeader) IsLeader() bool         { return f.leading }
func (f fakeLeader) Identity() string       { return f.self }
func (f fakeLeader) LeaderIdentity() string { return f.observed }

// Admin actions on a standby are refused with 409 naming the leader and
// never reach the local kill switch; on the leader they apply.
func TestAdminOnStandbyIsRefused(t *testing.T) {
	tests := []struct {
		name       string
		leader     fakeLeader
		code       int
		body, hdr  string
		wantCalled bool
	}{
		{"standby", fakeLeader{false, "bot-b", "bot-a"}, 409, "bot-b is a standby; the leader is bot-a", "bot-a", false},
		{"standby, no holder seen", fakeLeader{false, "bot-b", ""}, 409, "the leader is unknown", "", false},
		{"leader", fakeLeader{true, "bot-a", "bot-a"}, 204, "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kill := &fakeKill{}
			srv := New(Config{Kill: kill, Token: config.NewSecret("s3cret"), Leader: tt.leader})
			for _, path := range []string{"/admin/kill", "/admin/resume"} {
				req := httptest.NewRequest("POST", path, nil)
				req.Header.Set("Authorization", "Bearer s3cret")
				rec := httptest.NewRecorder()
				srv.srv.Handler.ServeHTTP(rec, req)
				if rec.Code != tt.code || !strings.Contains(rec.Body.String(), tt.body) || rec.Header().Get(LeaderHeader) != tt.hdr {
					t.Errorf("%s: got %d %q (leader header %q), want %d containing %q (header %q)",
						path, rec.Code, rec.Body.String(), rec.Header().Get(LeaderHeader), tt.code, tt.body, tt.hdr)
				}
			}
			if called := kill.killed+kill.resumed > 0; called != tt.wantCalled {
				t.Errorf("kill switch called: %v (kill %d, resume %d), want %v", called, kill.killed, kill.resumed, tt.wantCalled)
			}
		})
	}
	// Unauthenticated requests learn nothing about the topology.
	srv := New(Config{Kill: &fakeKill{}, Token: config.NewSecret("s3cret"), Leader: fakeLeader{false, "bot-b", "bot-a"}})
	req := httptest.NewRequest("POST", "/admin/kill", nil)
	rec := httptest.NewRecorder()
	srv.srv.Handler.ServeHTTP(rec, req)
	if rec.Code != 401 || rec.Header().Get(LeaderHeader) != "" {
		t.Errorf("unauthenticated on a standby: %d, leader header %q", rec.Code, rec.Header().Get(LeaderHeader))
	}
}

// A refused admin request is logged, without the token it presented (a
// mistyped real token would otherwise land in the logs).
func TestRefusedAdminRequestIsLoggedWithoutToken(t *testing.T) {
	var logs strings.Builder
	kill := &fakeKill{}
	srv := New(Config{Kill: kill, Token: config.NewSecret("s3cret"), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	req := httptest.NewRequest("POST", "/admin/kill", nil)
	req.Header.Set("Authorization", "Bearer s3cre7-almost")
	rec := httptest.NewRecorder()
	srv.srv.Handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized || kill.killed != 0 {
		t.Fatalf("got %d, kill called %d times", rec.Code, kill.killed)
	}
	if !strings.Contains(logs.String(), "wrong token") || strings.Contains(logs.String(), "s3cre7-almost") || strings.Contains(logs.String(), "s3cret") {
		t.Fatalf("log: %s", logs.String())
	}
}

// movingLeader reports a new lease holder on every call, as a lease
// changing hands mid-request would.
type movingLeader struct{ calls int }

func (m *movingLeader) IsLeader() bool   { return false }
func (m *movingLeader) Identity() string { return "bot-b" }
func (m *movingLeader) LeaderIdentity() string {
	m.calls++
	return "bot-" + strconv.Itoa(m.calls)
}

// The header and the message of one refusal name the same leader.
func TestStandbyRefusalNamesOneLeader(t *testing.T) {
	srv := New(Config{Kill: &fakeKill{}, Token: config.NewSecret("s3cret"), Leader: &movingLeader{}})
	req := httptest.NewRequest("POST", "/admin/kill", nil)
	req.Header.Set("Authorization", "Bearer s3cret")
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	hdr := rec.Header().Get(LeaderHeader)
	if rec.Code != http.StatusConflict || hdr == "" || !strings.Contains(rec.Body.String(), "the leader is "+hdr+":") {
		t.Fatalf("got %d %q, leader header %q: want both to name one leader", rec.Code, rec.Body.String(), hdr)
	}
}
