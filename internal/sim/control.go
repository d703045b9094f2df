package sim

import (
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/bitrader/bitrader/internal/matching"
)

// controlHandler serves the /_sim/ control API (README.md): faults,
// inspection and time. Loopback clients only.
func (s *Server) controlHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /_sim/ws/drop", s.ctlDrop)
	mux.HandleFunc("POST /_sim/ws/stall", s.ctlStall)
	mux.HandleFunc("POST /_sim/rest/latency", s.ctlLatency)
	mux.HandleFunc("POST /_sim/rest/error", s.ctlError)
	mux.HandleFunc("POST /_sim/rest/ratelimit", s.ctlRateLimit)
	mux.HandleFunc("POST /_sim/rest/blackhole", s.ctlBlackhole)
	mux.HandleFunc("POST /_sim/faults/clear", s.ctlClear)
	mux.HandleFunc("GET /_sim/orders", s.ctlOrders)
	mux.HandleFunc("GET /_sim/positions", s.ctlPositions)
	mux.HandleFunc("GET /_sim/balances", s.ctlBalances)
	mux.HandleFunc("GET /_sim/time", s.ctlTime)
	mux.HandleFunc("POST /_sim/time/advance", s.ctlAdvance)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			ctlReply(w, http.StatusForbidden, map[string]string{"error": "control API is loopback-only"})
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// ctlRequest is the JSON body every control POST accepts; each endpoint
// uses the fields it needs.
type ctlRequest struct {
	Which      string `json:"which"`      // ws: public | private | all
	DurationMs int64  `json:"durationMs"` // ws stall, time advance
	Path       string `json:"path"`       // REST path, e.g. /api/v1/futures/trade/place_order; "" = all
	LatencyMs  int64  `json:"latencyMs"`
	Code       int    `json:"code"`
	Msg        string `json:"msg"`
	Count      int    `json:"count"` // uses before the fault clears itself; 0 = until cleared
}

func ctlReply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func ctlDecode(w http.ResponseWriter, r *http.Request) (ctlRequest, bool) {
	var req ctlRequest
	if r.ContentLength != 0 {
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&req); err != nil {
			ctlReply(w, http.StatusBadRequest, map[string]string{"error": "bad JSON: " + err.Error()})
			return req, false
		}
	}
	if req.Count < 0 {
		ctlReply(w, http.StatusBadRequest, map[string]string{"error": "count must be >= 0"})
		return req, false
	}
	return req, true
}

func (s *Server) ctlDrop(w http.ResponseWriter, r *http.Request) {
	req, ok := ctlDecode(w, r)
	if !ok {
		return
	}
	ctlReply(w, http.StatusOK, map[string]int{"dropped": s.dropWS(req.Which)})
}

func (s *Server) ctlStall(w http.ResponseWriter, r *http.Request) {
	req, ok := ctlDecode(w, r)
	if !ok {
		return
	}
	if req.DurationMs <= 0 {
		ctlReply(w, http.StatusBadRequest, map[string]string{"error": "durationMs must be > 0"})
		return
	}
	ctlReply(w, http.StatusOK, map[string]int{"stalled": s.stallWS(req.Which, time.Duration(req.DurationMs)*time.Millisecond)})
}

func (s *Server) ctlLatency(w http.ResponseWriter, r *http.Request) {
	req, ok := ctlDecode(w, r)
	if !ok {
		return
	}
	s.faults.mu.Lock()
	if req.LatencyMs <= 0 {
		delete(s.faults.latency, req.Path)
	} else {
		s.faults.latency[req.Path] = time.Duration(req.LatencyMs) * time.Millisecond
	}
	s.faults.mu.Unlock()
	ctlReply(w, http.StatusOK, map[string]bool{"ok": true})
}

func (s *Server) ctlError(w http.ResponseWriter, r *http.Request) {
	req, ok := ctlDecode(w, r)
	if !ok {
		return
	}
	if req.Code == 0 {
		ctlReply(w, http.StatusBadRequest, map[string]string{"error": "code is required"})
		return
	}
	msg := req.Msg
	if msg == "" {
		msg = "Injected error " + strconv.Itoa(req.Code)
	}
	s.faults.mu.Lock()
	s.faults.errors[req.Path] = &forcedError{counter: counter{remaining: req.Count}, err: errf(req.Code, msg)}
	s.faults.mu.Unlock()
	ctlReply(w, http.StatusOK, map[string]bool{"ok": true})
}

func (s *Server) ctlRateLimit(w http.ResponseWriter, r *http.Request) {
	req, ok := ctlDecode(w, r)
	if !ok {
		return
	}
	s.faults.mu.Lock()
	s.faults.rateLimit[req.Path] = &counter{remaining: req.Count}
	s.faults.mu.Unlock()
	ctlReply(w, http.StatusOK, map[string]bool{"ok": true})
}

func (s *Server) ctlBlackhole(w http.ResponseWriter, r *http.Request) {
	req, ok := ctlDecode(w, r)
	if !ok {
		return
	}
	if req.Path == "" {
		req.Path = apiPrefix + "trade/place_order"
	}
	s.faults.mu.Lock()
	s.faults.blackhole[req.Path] = &counter{remaining: req.Count}
	s.faults.mu.Unlock()
	ctlReply(w, http.StatusOK, map[string]bool{"ok": true})
}

func (s *Server) ctlClear(w http.ResponseWriter, r *http.Request) {
	s.faults.mu.Lock()
	s.faults.clear()
	s.faults.mu.Unlock()
	now := s.clock.Now()
	s.wsMu.Lock()
	for c := range s.sessions {
		c.stallUntil = now
	}
	s.wsMu.Unlock()
	ctlReply(w, http.StatusOK, map[string]bool{"ok": true})
}

// accountsFor returns the account named by ?apiKey=, or all of them.
func (s *Server) accountsFor(r *http.Request) []string {
	if k := r.URL.Query().Get("apiKey"); k != "" {
		return []string{k}
	}
	out := make([]string, 0, len(s.cfg.Accounts))
	for _, a := range s.cfg.Accounts {
		out = append(out, a.APIKey)
	}
	return out
}

func (s *Server) ctlOrders(w http.ResponseWriter, r *http.Request) {
	out := map[string][]PlacedOrder{}
	s.mu.Lock()
	for _, k := range s.accountsFor(r) {
		out[k] = append([]PlacedOrder{}, s.placed[k]...)
	}
	s.mu.Unlock()
	ctlReply(w, http.StatusOK, out)
}

func (s *Server) ctlPositions(w http.ResponseWriter, r *http.Request) {
	out := map[string][]positionJSON{}
	s.mu.Lock()
	for _, k := range s.accountsFor(r) {
		ps := []positionJSON{}
		for _, p := range s.engine.Positions(k, "") {
			ps = append(ps, positionOut(p))
		}
		out[k] = ps
	}
	s.mu.Unlock()
	ctlReply(w, http.StatusOK, out)
}

func (s *Server) ctlBalances(w http.ResponseWriter, r *http.Request) {
	out := map[string]matching.AccountSummary{}
	s.mu.Lock()
	for _, k := range s.accountsFor(r) {
		if a, err := s.engine.Account(k); err == nil {
			out[k] = a
		}
	}
	s.mu.Unlock()
	ctlReply(w, http.StatusOK, out)
}

func (s *Server) ctlTime(w http.ResponseWriter, r *http.Request) {
	now := s.clock.Now()
	ctlReply(w, http.StatusOK, map[string]any{"now": now.UTC().Format(time.RFC3339Nano), "ms": now.UnixMilli(), "manual": s.manual != nil})
}

func (s *Server) ctlAdvance(w http.ResponseWriter, r *http.Request) {
	req, ok := ctlDecode(w, r)
	if !ok {
		return
	}
	if err := s.Advance(time.Duration(req.DurationMs) * time.Millisecond); err != nil {
		ctlReply(w, http.StatusConflict, map[string]string{"error": err.Error()})
		return
	}
	s.ctlTime(w, r)
}
