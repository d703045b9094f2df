// Package httpapi serves bitrader's operational HTTP endpoints on one port:
// /metrics, /healthz, /readyz, /status and the token-protected admin
// actions (kill switch).
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Readiness reports nil when the bot is connected, reconciled and leading
// or ready to lead; otherwise the reason it is not ready.
type Readiness interface {
	Ready() error
}

// StatusSource returns the JSON-serialisable /status document.
type StatusSource interface {
	Status() any
}

// KillSwitch is the operator's emergency control.
type KillSwitch interface {
	Kill(reason string) error
	Resume() error
}

// Leadership says whether this replica leads (leader.Leader has these
// methods). Admin actions change the trading state, which only the
// leader's counts (and replicates): a standby refuses them.
type Leadership interface {
	IsLeader() bool
	Identity() string
	LeaderIdentity() string
}

// LeaderHeader names the leader in a standby's refusal.
const LeaderHeader = "X-Bitrader-Leader"

// TokenChecker compares a presented admin token in constant time.
type TokenChecker interface {
	Equal(candidate string) bool
	IsSet() bool
}

// Config wires the server's collaborators. Any may be nil: a nil Readiness
// is always ready, a nil KillSwitch or unset token disables /admin.
type Config struct {
	Addr      string
	Registry  *prometheus.Registry
	Readiness Readiness
	Status    StatusSource
	Kill      KillSwitch
	// Leader, if set, makes a standby refuse admin actions with 409
	// Conflict naming the leader; nil accepts them (one replica).
	Leader Leadership
	Token  TokenChecker
	Logger *slog.Logger
}

// Server is the operational HTTP server.
type Server struct {
	cfg Config
	srv *http.Server
	ln  net.Listener
}

// New builds the server; Listen binds it.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg}
	mux := http.NewServeMux()
	if cfg.Registry != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{Registry: cfg.Registry}))
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /status", s.status)
	mux.HandleFunc("POST /admin/kill", s.admin(func(r *http.Request) error {
		reason := r.URL.Query().Get("reason")
		if reason == "" {
			reason = "operator kill switch (HTTP)"
		}
		return cfg.Kill.Kill(reason)
	}))
	mux.HandleFunc("POST /admin/resume", s.admin(func(*http.Request) error { return cfg.Kill.Resume() }))
	s.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	return s
}

// Handler is the server's routes (for tests and embedding).
func (s *Server) Handler() http.Handler { return s.srv.Handler }

// Listen binds the configured address; Addr then reports the bound one.
func (s *Server) Listen() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("http server: listen on %s: %w", s.cfg.Addr, err)
	}
	s.ln = ln
	return nil
}

// Addr is the bound address (useful with port 0).
func (s *Server) Addr() string {
	if s.ln == nil {
		return s.cfg.Addr
	}
	return s.ln.Addr().String()
}

// Run serves until ctx is done, then shuts down gracefully.
func (s *Server) Run(ctx context.Context) error {
	if s.ln == nil {
		if err := s.Listen(); err != nil {
			return err
		}
	}
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("http server shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http server: %w", err)
	}
	return nil
}

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.cfg.Readiness != nil {
		if err := s.cfg.Readiness.Ready(); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("not ready: " + err.Error() + "\n"))
			return
		}
	}
	_, _ = w.Write([]byte("ready\n"))
}

func (s *Server) status(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	var doc any = map[string]string{"state": "starting"}
	if s.cfg.Status != nil {
		doc = s.cfg.Status.Status()
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		s.cfg.Logger.Warn("encoding /status", "err", err)
	}
}

// admin wraps an action behind a bearer token. Without a configured token
// or kill switch the endpoint does not exist, rather than being open.
func (s *Server) admin(action func(*http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.Kill == nil || s.cfg.Token == nil || !s.cfg.Token.IsSet() {
			http.Error(w, "admin endpoints are disabled: set ADMIN_TOKEN", http.StatusNotFound)
			return
		}
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !s.cfg.Token.Equal(token) {
			// Never the presented token: it may be a real one mistyped.
			s.cfg.Logger.Warn("admin request refused: missing or wrong token", "path", r.URL.Path, "remote", r.RemoteAddr)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if l := s.cfg.Leader; l != nil && !l.IsLeader() {
			// A kill applied here would not stop the leader: say where to go.
			// Read once: the header, the message and the log name the same holder.
			observed := l.LeaderIdentity()
			leader := observed
			if leader == "" {
				leader = "unknown (no lease holder observed)"
			}
			w.Header().Set(LeaderHeader, observed)
			http.Error(w, fmt.Sprintf("not applied: %s is a standby; the leader is %s: send the command to the leader", l.Identity(), leader), http.StatusConflict)
			s.cfg.Logger.Warn("admin action refused on a standby", "path", r.URL.Path, "leader", observed, "remote", r.RemoteAddr)
			return
		}
		if err := action(r); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		s.cfg.Logger.Warn("admin action", "path", r.URL.Path, "remote", r.RemoteAddr)
		w.WriteHeader(http.StatusNoContent)
	}
}
