package sim

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bitrader/bitrader/internal/bitunix"
)

// reqCtx is one authenticated or public REST call.
type reqCtx struct {
	query   url.Values
	body    []byte
	account string // API key, private endpoints only
	now     time.Time
}

type endpoint struct {
	method  string
	private bool
	perSec  int // documented limit: per account when private, else per IP
	handle  func(s *Server, r *reqCtx) (any, *apiError)
}

const apiPrefix = "/api/v1/futures/"

// endpointTable lists every path of §4 with its documented rate limit;
// New stores it on the Server (no package-level tables).
func endpointTable() map[string]endpoint {
	return map[string]endpoint{
		"market/tickers":                  {http.MethodGet, false, 10, (*Server).tickers},
		"market/depth":                    {http.MethodGet, false, 10, (*Server).depth},
		"market/kline":                    {http.MethodGet, false, 10, (*Server).kline},
		"market/funding_rate":             {http.MethodGet, false, 10, (*Server).fundingRate},
		"market/funding_rate/batch":       {http.MethodGet, false, 10, (*Server).fundingRateBatch},
		"market/get_funding_rate_history": {http.MethodGet, false, 10, (*Server).fundingHistory},
		"market/trading_pairs":            {http.MethodGet, false, 10, (*Server).tradingPairs},
		"position/get_position_tiers":     {http.MethodGet, false, 10, (*Server).positionTiers},

		"account":                          {http.MethodGet, true, 10, (*Server).account},
		"account/change_leverage":          {http.MethodPost, true, 10, (*Server).changeLeverage},
		"account/change_margin_mode":       {http.MethodPost, true, 10, (*Server).changeMarginMode},
		"account/change_position_mode":     {http.MethodPost, true, 10, (*Server).changePositionMode},
		"account/get_leverage_margin_mode": {http.MethodGet, true, 10, (*Server).leverageMarginMode},
		"account/position_mode":            {http.MethodGet, true, 20, (*Server).positionMode},
		"account/trading_settings":         {http.MethodGet, true, 20, (*Server).tradingSettings},
		"account/adjust_position_margin":   {http.MethodPost, true, 5, (*Server).adjustPositionMargin},

		"trade/place_order":          {http.MethodPost, true, 10, (*Server).placeOrder},
		"trade/batch_order":          {http.MethodPost, true, 1, (*Server).batchOrder},
		"trade/modify_order":         {http.MethodPost, true, 10, (*Server).modifyOrder},
		"trade/cancel_orders":        {http.MethodPost, true, 5, (*Server).cancelOrders},
		"trade/cancel_all_orders":    {http.MethodPost, true, 10, (*Server).cancelAllOrders},
		"trade/close_all_position":   {http.MethodPost, true, 1, (*Server).closeAllPosition},
		"trade/flash_close_position": {http.MethodPost, true, 5, (*Server).flashClosePosition},
		"trade/get_order_detail":     {http.MethodGet, true, 10, (*Server).orderDetail},
		"trade/get_pending_orders":   {http.MethodGet, true, 10, (*Server).pendingOrders},
		"trade/get_history_orders":   {http.MethodGet, true, 10, (*Server).historyOrders},
		"trade/get_history_trades":   {http.MethodGet, true, 10, (*Server).historyTrades},

		"position/get_pending_positions": {http.MethodGet, true, 10, (*Server).pendingPositions},
		"position/get_history_positions": {http.MethodGet, true, 10, (*Server).historyPositions},

		"tpsl/place_order":           {http.MethodPost, true, 10, (*Server).tpslPlace},
		"tpsl/position/place_order":  {http.MethodPost, true, 10, (*Server).tpslPositionPlace},
		"tpsl/modify_order":          {http.MethodPost, true, 10, (*Server).tpslModify},
		"tpsl/position/modify_order": {http.MethodPost, true, 10, (*Server).tpslPositionModify},
		"tpsl/cancel_order":          {http.MethodPost, true, 10, (*Server).tpslCancel},
		"tpsl/get_pending_orders":    {http.MethodGet, true, 10, (*Server).tpslPending},
		"tpsl/get_history_orders":    {http.MethodGet, true, 10, (*Server).tpslHistory},
	}
}

func (s *Server) handleREST(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	name, ok := strings.CutPrefix(path, apiPrefix)
	ep, found := s.endpoints[name]
	if !ok || !found || r.Method != ep.method {
		writeErr(w, errNotFound)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeErr(w, errNetwork)
		return
	}
	// url.ParseQuery decodes values: the signature covers raw, decoded
	// values (§2.2).
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		writeErr(w, errParam)
		return
	}
	rc := &reqCtx{query: query, body: body, now: s.clock.Now()}
	if ep.private {
		if e := s.authenticate(r, rc); e != nil {
			writeErr(w, e)
			return
		}
	}
	f := s.faults.forRequest(path)
	if f.latency > 0 {
		if !sleepCtx(r.Context(), f.latency) {
			return
		}
	}
	if f.err != nil {
		writeErr(w, f.err)
		return
	}
	if !s.cfg.DisableRateLimits {
		who, code := rc.account, errTooFrequent
		if !ep.private {
			who, code = remoteIP(r), errTooMany
		}
		if !s.limiter.allow(path, who, ep.perSec, rc.now) {
			writeErr(w, code)
			return
		}
	}
	data, e := ep.handle(s, rc)
	if f.blackhole {
		// The request took effect; the response never arrives.
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	if e != nil {
		writeErr(w, e)
		return
	}
	writeOK(w, data)
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// authenticate checks the four headers and the signature over the sorted
// raw query and the raw body bytes (§2).
func (s *Server) authenticate(r *http.Request, rc *reqCtx) *apiError {
	key := r.Header.Get("api-key") // Header.Get is case-insensitive
	if key == "" {
		return errAPIKeyEmpty
	}
	sign, nonce, ts := r.Header.Get("sign"), r.Header.Get("nonce"), r.Header.Get("timestamp")
	if sign == "" || nonce == "" || ts == "" {
		return errSignature
	}
	acct, ok := s.accounts[key]
	if !ok {
		return errSignature // an unknown key cannot produce a valid signature
	}
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errSignature
	}
	// Bitunix documents no code for a stale timestamp; 10007 is assumed.
	if d := rc.now.Sub(time.UnixMilli(ms)); d > s.cfg.TimestampWindow || -d > s.cfg.TimestampWindow {
		return errSignature
	}
	if !bitunix.VerifyREST(strings.ToLower(sign), nonce, ts, key, acct.Secret, rc.query, rc.body) {
		return errSignature
	}
	rc.account = key
	return nil
}

// param returns a query parameter, trimmed.
func (r *reqCtx) param(k string) string { return strings.TrimSpace(r.query.Get(k)) }

// isJSONEmpty reports whether a POST body is absent.
func isJSONEmpty(b []byte) bool { return len(bytes.TrimSpace(b)) == 0 }
