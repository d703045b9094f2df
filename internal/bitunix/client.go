package bitunix

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fastjson"
)

// DefaultBaseURL is the production REST host (§1). There is no testnet.
const DefaultBaseURL = "https://fapi.bitunix.com"

// Config configures a REST Client. Zero values get sensible defaults.
type Config struct {
	BaseURL string
	APIKey  string
	Secret  string
	// HTTPClient supplies the Transport and the per-request Timeout; its
	// Do is not used (see Client.transport).
	HTTPClient *http.Client
	Clock      func() time.Time
	Nonce      func() string // default: 32 random hex characters
	Observer   Observer
	Logger     *slog.Logger
	// Sleep waits under ctx; tests inject a fake.
	Sleep func(ctx context.Context, d time.Duration) error
	// MaxRetries bounds retries of GETs on ambiguous or rate-limited
	// outcomes (default 3). Lookups after an ambiguous place_order use
	// LookupAttempts (default 4).
	MaxRetries     int
	LookupAttempts int
	// Backoff returns the pause before retry attempt n (0-based).
	Backoff func(attempt int) time.Duration
	// RateLimitBackoff is the base penalty after a 10005/10006 reply
	// (default 500 ms, doubling per strike up to 30 s).
	RateLimitBackoff time.Duration
}

// Client is a Bitunix futures REST client, safe for concurrent use.
type Client struct {
	cfg  Config
	base string
	lims limiters
	// parsers and replies are reused across requests: the order path
	// otherwise allocated a parser's caches and a reply buffer per call.
	parsers fastjson.ParserPool
	replies sync.Pool // *reply
	// outbounds are reused request parts (see outbound).
	outbounds sync.Pool
	// baseURL and basePath are parsed once; requests copy them.
	baseURL  url.URL
	basePath string
	// transport and timeout come from Config.HTTPClient, which is not
	// called itself: redirects are never followed (a signed request must
	// not be replayed elsewhere) and Timeout is enforced per request.
	transport http.RoundTripper
	timeout   time.Duration
	// ownNonce: Config.Nonce was left to the default, so request nonces
	// are written straight into the header string.
	ownNonce bool
}

// New returns a Client.
func New(cfg Config) (*Client, error) {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("bitunix: bad base URL %q", cfg.BaseURL)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	ownNonce := cfg.Nonce == nil
	if ownNonce {
		cfg.Nonce = randomNonce
	}
	if cfg.Observer == nil {
		cfg.Observer = NopObserver{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleepCtx
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = 3
	}
	if cfg.LookupAttempts == 0 {
		cfg.LookupAttempts = 4
	}
	if cfg.Backoff == nil {
		cfg.Backoff = jitterBackoff(200*time.Millisecond, 5*time.Second)
	}
	if cfg.RateLimitBackoff == 0 {
		cfg.RateLimitBackoff = 500 * time.Millisecond
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	rt := cfg.HTTPClient.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	basePath := strings.TrimRight(u.Path, "/")
	u.Path, u.RawPath, u.RawQuery, u.Fragment = "", "", "", ""
	return &Client{cfg: cfg, base: base, baseURL: *u, basePath: basePath, transport: rt,
		timeout: cfg.HTTPClient.Timeout, ownNonce: ownNonce}, nil
}

// String never shows credentials.
func (c *Client) String() string { return "bitunix.Client(" + c.base + ")" }

// Format prints String for every verb (%#v and %d would print the struct).
func (c *Client) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// Format never shows the credentials, whatever the verb.
func (c Config) Format(f fmt.State, _ rune) {
	_, _ = fmt.Fprintf(f, "bitunix.Config{BaseURL: %q, APIKey: %s, Secret: %s}", c.BaseURL, mask(c.APIKey), mask(c.Secret))
}

// LogValue keeps the credentials out of slog output.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("baseURL", c.BaseURL), slog.String("apiKey", mask(c.APIKey)), slog.String("secret", mask(c.Secret)))
}

// mask is what a credential prints as: whether it is set, never its text.
func mask(s string) string {
	if s == "" {
		return `""`
	}
	return "[REDACTED]"
}

func randomNonce() string {
	var h [32]byte
	return string(appendRandomNonce(h[:0]))
}

// appendRandomNonce appends 32 random hex characters.
func appendRandomNonce(dst []byte) []byte {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.AppendEncode(dst, b[:])
}

// call performs a request with pacing and, where it cannot duplicate
// anything, retries: any request whose reply was a rate-limit code or that
// never left the machine (dial failure), and GETs on ambiguous outcomes.
// decode runs on the envelope's data while the parser is valid.
func (c *Client) call(ctx context.Context, method, path string, query url.Values, body any, private bool, decode func(*fastjson.Value) error) error {
	var payload []byte
	if body != nil {
		var err error
		// Serialise once, compactly; these exact bytes are signed and sent (§2.2).
		if payload, err = json.Marshal(body); err != nil {
			return fmt.Errorf("bitunix %s: encode body: %w", endpointName(path), err)
		}
	}
	return c.send(ctx, method, path, query, payload, private, decode)
}

// send is call with the body already serialised: payload is signed and
// sent as it is, on every attempt.
func (c *Client) send(ctx context.Context, method, path string, query url.Values, payload []byte, private bool, decode func(*fastjson.Value) error) error {
	for attempt := 0; ; attempt++ {
		err := c.once(ctx, method, path, query, payload, private, decode)
		if err == nil || attempt >= c.cfg.MaxRetries || ctx.Err() != nil {
			return err
		}
		retry := errors.Is(err, ErrRateLimited) || dialFailed(err) || (method == http.MethodGet && IsAmbiguous(err))
		if !retry {
			return err
		}
		c.cfg.Logger.DebugContext(ctx, "bitunix retry", "endpoint", endpointName(path), "attempt", attempt+1, "err", err)
		if !errors.Is(err, ErrRateLimited) { // rate limits are paced by the group penalty
			if serr := c.cfg.Sleep(ctx, c.cfg.Backoff(attempt)); serr != nil {
				return err
			}
		}
	}
}

func (c *Client) once(ctx context.Context, method, path string, query url.Values, payload []byte, private bool, decode func(*fastjson.Value) error) error {
	name := endpointName(path)
	g := c.lims.get(name)
	waited, err := g.wait(ctx, c.cfg.Clock, c.cfg.Sleep)
	if waited > 0 {
		c.cfg.Observer.RateLimitWait(name, waited)
	}
	if err != nil {
		return fmt.Errorf("bitunix %s: waiting for rate limit: %w", name, err)
	}
	if private && (c.cfg.APIKey == "" || c.cfg.Secret == "") {
		return fmt.Errorf("bitunix %s: %w (no credentials configured)", name, ErrMissingKey)
	}
	if c.timeout > 0 {
		// Client.Timeout's job, done here: http.Client.Do would start a
		// goroutine and a timer per request to enforce it.
		if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > c.timeout {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, c.timeout)
			defer cancel() // after exchange has read the reply
		}
	}
	o := c.outbound()
	o.url.Path = c.basePath + path
	o.url.RawQuery = query.Encode()
	// The keys are written in canonical form (what Header.Set would store)
	// and all values share the outbound's array: Set allocated a key and a
	// slice per header.
	hdr := o.hdr
	o.vals[0], o.vals[1] = "application/json", "en-US"
	hdr["Content-Type"] = o.vals[0:1:1]
	hdr["Language"] = o.vals[1:2:2]
	if private {
		// nonce, timestamp and signature share one string allocation.
		var buf [32 + 20 + 64]byte
		var b []byte
		if c.ownNonce {
			b = appendRandomNonce(buf[:0])
		} else {
			b = append(buf[:0], c.cfg.Nonce()...)
		}
		nn := len(b)
		b = strconv.AppendInt(b, c.cfg.Clock().UnixMilli(), 10)
		nts := len(b)
		b = appendSignREST(b, b, c.cfg.APIKey, c.cfg.Secret, query, payload)
		all := string(b)
		o.vals[2], o.vals[3], o.vals[4], o.vals[5] = c.cfg.APIKey, all[:nn], all[nn:nts], all[nts:]
		hdr["Api-Key"] = o.vals[2:3:3]
		hdr["Nonce"] = o.vals[3:4:4]
		hdr["Timestamp"] = o.vals[4:5:5]
		hdr["Sign"] = o.vals[5:6:6]
	}
	// What http.NewRequest would build, without parsing the URL again.
	r := http.Request{Method: method, URL: &o.url, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: hdr, Host: o.url.Host}
	if payload != nil {
		r.ContentLength = int64(len(payload))
		if len(payload) == 0 {
			r.Body, r.GetBody = http.NoBody, noBody
		} else {
			// The outbound owns a copy rather than borrowing the caller's:
			// the transport may still read it after RoundTrip returns.
			o.payload = o.inline[:0]
			if len(payload) > len(o.inline) {
				o.payload = make([]byte, 0, len(payload))
			}
			o.payload = append(o.payload, payload...)
			// The reader itself is per request: a transport that read a
			// body late (after the reply was closed; x/net/http2 had such
			// bugs) would drain its own reader, never the next request's.
			rb := new(requestBody)
			rb.o.Store(o)
			rb.Reset(o.payload)
			r.Body, r.GetBody = rb, o.rewind
			o.refs.Add(1) // released when the transport closes the body
		}
	}
	req := r.WithContext(ctx)
	start := c.cfg.Clock()
	err = c.exchange(req, o, name, decode)
	outcome := "ok"
	switch {
	case err == nil:
		g.ok()
	case errors.Is(err, ErrRateLimited):
		outcome = "rate_limited"
		g.penalise(c.cfg.Clock(), c.cfg.RateLimitBackoff, 30*time.Second)
	case isAPIError(err):
		outcome = "api_error"
	case IsAmbiguous(err):
		outcome = "ambiguous"
	default:
		outcome = "transport_error"
	}
	c.cfg.Observer.RESTRequest(name, outcome, c.cfg.Clock().Sub(start))
	return err
}

// outbound is one request's URL, header map, header values and body bytes
// in a single object, pooled: it goes back to the pool once the response
// body is closed (http.RoundTripper's contract), never after a transport
// error. The body's reader is allocated per request (requestBody).
type outbound struct {
	url     url.URL
	hdr     http.Header
	vals    [6]string
	payload []byte // the body's bytes: inline, or allocated if larger
	inline  [wireOrderSize]byte
	rewind  func() (io.ReadCloser, error) // GetBody, bound once
	client  *Client
	// refs counts holds: the response (released by exchange) and, with a
	// body, the transport's (released by requestBody.Close).
	refs atomic.Int32
}

// outbound returns a clean outbound for a request to the base URL.
func (c *Client) outbound() *outbound {
	o, _ := c.outbounds.Get().(*outbound)
	if o == nil {
		o = &outbound{hdr: make(http.Header, 6), client: c}
		o.rewind = o.replay
	}
	o.refs.Store(1)
	clear(o.hdr)
	o.vals = [6]string{}
	o.payload = nil
	o.url = c.baseURL
	return o
}

// replay lets the transport resend a request that a stale keep-alive
// connection refused before any of it was written.
// A copy: a replayed body is rare and must not share bytes with a later
// request.
func (o *outbound) replay() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(bytes.Clone(o.payload))), nil
}

// release drops one hold on o (the response, or the transport's hold on
// the request body); the last one returns it to the pool.
func (c *Client) release(o *outbound) {
	if o.refs.Add(-1) == 0 {
		c.outbounds.Put(o)
	}
}

// requestBody is a request's body reader. Close, which the transport
// calls once it is done with the body, releases the outbound.
type requestBody struct {
	bytes.Reader
	o atomic.Pointer[outbound] // nil once closed: a transport may close twice
}

func (b *requestBody) Close() error {
	if o := b.o.Swap(nil); o != nil {
		o.client.release(o)
	}
	return nil
}

func noBody() (io.ReadCloser, error) { return http.NoBody, nil }

const maxReplyBytes = 32 << 20

// isAPIError is errors.As in a function of its own, so that the target
// escapes to the heap only when there is an error to look at.
func isAPIError(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr)
}

// reply is a reusable reply buffer with its size limit.
type reply struct {
	buf bytes.Buffer
	lim io.LimitedReader
}

func (c *Client) exchange(req *http.Request, o *outbound, name string, decode func(*fastjson.Value) error) error {
	resp, err := c.transport.RoundTrip(req)
	if err != nil {
		// Anything after the dial may have reached the exchange. The URL
		// in the error has no query: errors never carry request parameters.
		// o is not reused: the transport may still hold the request.
		u := *req.URL
		u.RawQuery = ""
		err = &url.Error{Op: req.Method, URL: u.String(), Err: err}
		return &TransportError{Endpoint: name, Ambiguous: !dialFailed(err), Err: err}
	}
	defer func() {
		_ = resp.Body.Close()
		// Reused once the response body is closed and the transport has
		// closed the request body (RoundTripper's contract).
		c.release(o)
	}()
	rp, _ := c.replies.Get().(*reply)
	if rp == nil {
		rp = new(reply)
	}
	defer c.replies.Put(rp) // every use of raw below copies what it keeps
	rp.buf.Reset()
	rp.lim = io.LimitedReader{R: resp.Body, N: maxReplyBytes}
	_, err = rp.buf.ReadFrom(&rp.lim)
	rp.lim.R = nil
	raw := rp.buf.Bytes()
	if err != nil {
		return &TransportError{Endpoint: name, Status: resp.StatusCode, Ambiguous: true, Err: fmt.Errorf("read reply: %w", err)}
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return &TransportError{Endpoint: name, Status: resp.StatusCode, Err: ErrRateLimited}
	case resp.StatusCode >= 500:
		return &TransportError{Endpoint: name, Status: resp.StatusCode, Ambiguous: true, Err: errors.New(http.StatusText(resp.StatusCode))}
	case resp.StatusCode != http.StatusOK:
		return &TransportError{Endpoint: name, Status: resp.StatusCode, Err: fmt.Errorf("unexpected status: %q", clip(raw))}
	}
	p := c.parsers.Get()
	defer c.parsers.Put(p) // decoders copy out what they keep
	return decodeEnvelope(p, raw, name, decode)
}

// decodeEnvelope parses {code,msg,data} (§3). A reply that is not a valid
// envelope is ambiguous: a proxy may have eaten the real answer.
func decodeEnvelope(p *fastjson.Parser, raw []byte, name string, decode func(*fastjson.Value) error) error {
	v, err := p.ParseBytes(raw)
	if err != nil || v.Type() != fastjson.TypeObject || v.Get("code") == nil {
		return &TransportError{Endpoint: name, Status: http.StatusOK, Ambiguous: true, Err: fmt.Errorf("undecodable reply: %q", clip(raw))}
	}
	code, err := intOf(v.Get("code"))
	if err != nil {
		return &TransportError{Endpoint: name, Status: http.StatusOK, Ambiguous: true, Err: fmt.Errorf("bad code: %w", err)}
	}
	if code != 0 {
		return &APIError{Code: int(code), Msg: strOf(first(v, "msg", "message")), Endpoint: name}
	}
	if decode == nil {
		return nil
	}
	if err := decode(v.Get("data")); err != nil {
		return &TransportError{Endpoint: name, Status: http.StatusOK, Ambiguous: true, Err: fmt.Errorf("decode data: %w", err)}
	}
	return nil
}

// params builds a query, dropping empty values: Bitunix's own signer skips
// them (§2.2, Java SignUtils), so sending them would risk 10007.
type params url.Values

func (p params) set(k, v string) params {
	if v != "" {
		p[k] = []string{v}
	}
	return p
}

func (p params) time(k string, t time.Time) params {
	if !t.IsZero() {
		p[k] = []string{strconv.FormatInt(t.UnixMilli(), 10)}
	}
	return p
}

func (p params) int(k string, n int) params {
	if n != 0 {
		p[k] = []string{strconv.Itoa(n)}
	}
	return p
}

func (c *Client) get(ctx context.Context, path string, q params, private bool, decode func(*fastjson.Value) error) error {
	return c.call(ctx, http.MethodGet, path, url.Values(q), nil, private, decode)
}

func (c *Client) post(ctx context.Context, path string, body any, decode func(*fastjson.Value) error) error {
	return c.call(ctx, http.MethodPost, path, nil, body, true, decode)
}
