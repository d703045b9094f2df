// Package sim is the Bitunix-compatible exchange simulator: REST and both
// WebSockets on one listener, speaking the protocol of
// docs/bitunix-futures-api.md (envelopes, codes, signing, frames and their
// quirks), backed by internal/matching and fed by internal/marketdata, with
// a loopback-only control API under /_sim/ for fault injection. See
// README.md.
package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/marketdata"
	"github.com/bitrader/bitrader/internal/matching"
	"github.com/bitrader/bitrader/internal/trading"
)

// Server is a running simulator. Build it with New, then Start or Run.
type Server struct {
	cfg    Config
	log    *slog.Logger
	clock  Clock
	manual *ManualClock // non-nil when time only moves via Advance

	accounts  map[string]Account  // by API key
	endpoints map[string]endpoint // REST routes, read-only after New
	symbols   map[string]*symbolState
	symOrder  []string

	// mu serialises the engine and the market state; the engine is
	// single-threaded by contract.
	mu       sync.Mutex
	engine   *matching.Engine
	outbox   []privateFrame // private pushes produced during an engine call
	lastStep time.Time
	nextPush map[string]time.Time // push cadence per frame family
	placed   map[string][]PlacedOrder

	wsMu     sync.Mutex
	sessions map[*wsSession]struct{}
	subIndex map[subKey]map[*wsSession]struct{}

	faults  *faults
	limiter *rateLimiter

	ln      net.Listener
	httpSrv *http.Server
	baseCtx context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

type privateFrame struct {
	account string
	frame   []byte
}

// PlacedOrder is one order ever accepted for an account, for tests that
// assert no duplicates reached the exchange.
type PlacedOrder struct {
	OrderID  string    `json:"orderId"`
	ClientID string    `json:"clientId"`
	Symbol   string    `json:"symbol"`
	Side     string    `json:"side"`
	Type     string    `json:"orderType"`
	Qty      string    `json:"qty"`
	Price    string    `json:"price"`
	Time     time.Time `json:"time"`
}

// symbolState is the market state of one symbol beyond the engine's.
type symbolState struct {
	cfg     SymbolConfig
	src     marketdata.Source
	head    marketdata.Event
	hasHead bool
	srcErr  error

	book          trading.Book
	last          fixed.Value
	mark          trading.MarkPrice
	settledRate   fixed.Value // last settled funding rate, fraction
	trades        []trading.Trade
	lastKlines    *candles
	markKlines    *candles
	fundingHist   []fundingRecord // newest last
	nextFunding   time.Time
	lastFundingAt time.Time
}

type fundingRecord struct {
	Rate fixed.Value
	Mark fixed.Value
	Time time.Time
}

// maintenanceMarginRate is the flat MMR of the simulator's single risk
// tier (get_position_tiers reports it).
const maintenanceMarginRate = fixed.Value(500_000) // 0.005

// New validates cfg and builds a server; nothing listens until Start.
func New(cfg Config) (*Server, error) {
	c := cfg.withDefaults()
	s := &Server{
		cfg: c, log: c.Logger, clock: c.Clock,
		accounts: map[string]Account{}, symbols: map[string]*symbolState{},
		nextPush: map[string]time.Time{}, placed: map[string][]PlacedOrder{},
		sessions: map[*wsSession]struct{}{}, subIndex: map[subKey]map[*wsSession]struct{}{},
		faults: newFaults(), limiter: newRateLimiter(),
	}
	if s.clock == nil {
		s.clock = wallClock{}
	}
	if m, ok := s.clock.(*ManualClock); ok {
		s.manual = m
	}
	now := s.clock.Now()
	ecfg := matching.Config{}
	for _, sc := range c.Symbols {
		ecfg.Instruments = append(ecfg.Instruments, matching.InstrumentConfig{
			Spec: sc.Spec, MakerFee: sc.MakerFee, TakerFee: sc.TakerFee,
			MaintenanceMarginRate: maintenanceMarginRate, FundingInterval: c.FundingInterval,
		})
	}
	eng, err := matching.New(ecfg, s.sink)
	if err != nil {
		return nil, fmt.Errorf("sim: build matching engine: %w", err)
	}
	s.engine = eng
	s.endpoints = endpointTable()
	for _, a := range c.Accounts {
		if _, dup := s.accounts[a.APIKey]; dup {
			return nil, fmt.Errorf("sim: duplicate account api key %q", a.APIKey)
		}
		s.accounts[a.APIKey] = a
		if err := eng.OpenAccount(a.APIKey, a.Balance, now); err != nil {
			return nil, fmt.Errorf("sim: open account %q: %w", a.APIKey, err)
		}
	}
	sources, err := c.MarketData.sources(c, now)
	if err != nil {
		return nil, err
	}
	for i, sc := range c.Symbols {
		if _, dup := s.symbols[sc.Spec.Symbol]; dup {
			return nil, fmt.Errorf("sim: duplicate symbol %s", sc.Spec.Symbol)
		}
		st := &symbolState{
			cfg: sc, src: sources[i],
			lastKlines: newCandles(), markKlines: newCandles(),
			nextFunding: matching.NextFunding(now, c.FundingInterval),
			last:        sc.StartPrice,
		}
		st.mark = trading.MarkPrice{Symbol: sc.Spec.Symbol, Mark: sc.StartPrice, Index: sc.StartPrice, NextFundingTime: st.nextFunding, Time: now}
		s.symbols[sc.Spec.Symbol] = st
		s.symOrder = append(s.symOrder, sc.Spec.Symbol)
	}
	s.lastStep = now
	// Prime the books so the first request sees a market.
	s.mu.Lock()
	s.pump(now)
	s.outbox = s.outbox[:0] // account-opening events predate every session
	s.mu.Unlock()
	return s, nil
}

// sources returns one market-data source per configured symbol.
func (m MarketDataConfig) sources(c Config, now time.Time) ([]marketdata.Source, error) {
	out := make([]marketdata.Source, len(c.Symbols))
	replayed := ""
	if m.ReplayFile != "" {
		replayed = replaySymbol(m.ReplayFile, c.Symbols)
	}
	for i, sc := range c.Symbols {
		if m.Sources != nil {
			if src := m.Sources(sc.Spec.Symbol, now); src != nil {
				out[i] = src
				continue
			}
		}
		if sc.Spec.Symbol == replayed {
			src, err := openReplay(m.ReplayFile, sc, c.FundingInterval, now)
			if err != nil {
				return nil, err
			}
			out[i] = src
			continue
		}
		g, err := marketdata.NewGenerator(marketdata.GeneratorConfig{
			Symbol: sc.Spec.Symbol, Spec: sc.Spec, StartPrice: sc.StartPrice,
			Seed:            uint64(m.Seed) + uint64(i)*0x9e3779b9,
			Start:           now.Add(-time.Second), // a book exists from the first request
			FundingInterval: c.FundingInterval,
		})
		if err != nil {
			return nil, fmt.Errorf("sim: market data for %s: %w", sc.Spec.Symbol, err)
		}
		out[i] = g
	}
	return out, nil
}

// Accounts returns the configured accounts, including a generated demo
// account, so the CLI can print the demo key.
func (s *Server) Accounts() []Account { return append([]Account(nil), s.cfg.Accounts...) }

// Symbols returns the configured symbol names.
func (s *Server) Symbols() []string { return append([]string(nil), s.symOrder...) }

// Start listens and serves in the background until ctx ends or Close.
func (s *Server) Start(ctx context.Context) error {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("sim: listen on %s: %w", s.cfg.Listen, err)
	}
	s.ln = ln
	s.baseCtx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	s.httpSrv = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return s.baseCtx },
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("sim: serve", "err", err)
		}
	}()
	if s.manual == nil {
		s.wg.Add(1)
		go s.tickLoop(s.baseCtx)
	}
	go func() {
		select {
		case <-ctx.Done():
			s.Close()
		case <-s.baseCtx.Done():
		}
	}()
	s.log.Info("sim: listening", "url", s.URL())
	return nil
}

// Run starts the server and blocks until ctx ends, then shuts down.
func (s *Server) Run(ctx context.Context) error {
	if err := s.Start(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	s.Close()
	return nil
}

// Close stops serving, drops every WebSocket and waits for goroutines.
func (s *Server) Close() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	shCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = s.httpSrv.Shutdown(shCtx) // hijacked WebSockets are not waited for
	s.dropWS("")
	s.wg.Wait()
	s.closeSources()
}

// closeSources releases replay files still open.
func (s *Server) closeSources() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range s.symbols {
		if c, ok := st.src.(io.Closer); ok {
			_ = c.Close()
		}
	}
}

// Addr is the listening address (host:port).
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// URL is the REST base URL, e.g. http://127.0.0.1:41234.
func (s *Server) URL() string { return "http://" + s.Addr() }

// PublicWSURL and PrivateWSURL are the WebSocket endpoints.
func (s *Server) PublicWSURL() string { return "ws://" + s.Addr() + "/public/" }

// PrivateWSURL is the private WebSocket endpoint.
func (s *Server) PrivateWSURL() string { return "ws://" + s.Addr() + "/private/" }

// Handler returns the HTTP handler: Bitunix paths, both WebSockets and the
// /_sim/ control API. Start uses it; embedding callers may mount it.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/public/", s.handleWS(false))
	mux.HandleFunc("/public", s.handleWS(false))
	mux.HandleFunc("/private/", s.handleWS(true))
	mux.HandleFunc("/private", s.handleWS(true))
	mux.Handle("/_sim/", s.controlHandler())
	mux.HandleFunc("/", s.handleREST)
	return mux
}

func (s *Server) tickLoop(ctx context.Context) {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.TickInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.stepTo(s.clock.Now())
		}
	}
}

// ErrNotManual is returned by Advance when the server runs on a real clock.
var ErrNotManual = errors.New("sim: Advance needs a *ManualClock in Config.Clock")

// Advance moves a manual clock forward by d in TickInterval steps, running
// market data, funding, pushes and idle checks at each step, synchronously:
// when it returns, every frame of the period is queued.
func (s *Server) Advance(d time.Duration) error {
	if s.manual == nil {
		return ErrNotManual
	}
	end := s.manual.Now().Add(d)
	for {
		next := s.manual.Now().Add(s.cfg.TickInterval)
		if next.After(end) {
			next = end
		}
		s.manual.set(next)
		s.stepTo(next)
		if !next.Before(end) {
			return nil
		}
	}
}

// stepTo advances market data and the engine to now and pushes what is due.
func (s *Server) stepTo(now time.Time) {
	s.mu.Lock()
	if now.After(s.lastStep) {
		s.pump(now)
		s.settleFunding(now)
		s.publish(now)
		s.lastStep = now
	}
	s.flushOutbox()
	s.mu.Unlock()
	s.checkIdle(now)
}

// pump feeds every market event up to now into the engine; callers hold mu.
func (s *Server) pump(now time.Time) {
	for _, sym := range s.symOrder {
		st := s.symbols[sym]
		for {
			if !st.hasHead {
				if st.srcErr != nil {
					break
				}
				ev, err := st.src.Next()
				if err != nil {
					if err != io.EOF {
						s.log.Error("sim: market data", "symbol", sym, "err", err)
					}
					st.srcErr = err
					break
				}
				st.head, st.hasHead = ev, true
			}
			if st.head.Time().After(now) {
				break
			}
			s.applyMarket(st, st.head)
			st.hasHead = false
		}
	}
}

func (s *Server) applyMarket(st *symbolState, ev marketdata.Event) {
	switch ev.Kind {
	case marketdata.KindBook:
		st.book = ev.Book
		if err := s.engine.ApplyBook(ev.Book); err != nil {
			s.log.Debug("sim: apply book", "err", err)
		}
	case marketdata.KindTrade:
		st.last = ev.Trade.Price
		st.trades = append(st.trades, ev.Trade)
		if len(st.trades) > 1000 {
			st.trades = st.trades[len(st.trades)-1000:]
		}
		st.lastKlines.add(ev.Trade.Time, ev.Trade.Price, ev.Trade.Qty)
		if err := s.engine.ApplyTrade(ev.Trade); err != nil {
			s.log.Debug("sim: apply trade", "err", err)
		}
	case marketdata.KindMark:
		m := ev.Mark
		m.NextFundingTime = st.nextFunding
		st.mark = m
		st.markKlines.add(m.Time, m.Mark, 0)
		if err := s.engine.ApplyMark(m); err != nil {
			s.log.Debug("sim: apply mark", "err", err)
		}
	}
}

// settleFunding runs funding on every symbol whose funding time passed.
func (s *Server) settleFunding(now time.Time) {
	for _, sym := range s.symOrder {
		st := s.symbols[sym]
		for !st.nextFunding.After(now) {
			at := st.nextFunding
			rate := st.mark.FundingRate
			if err := s.engine.ApplyFunding(sym, rate, at); err != nil {
				s.log.Warn("sim: funding", "symbol", sym, "err", err)
			}
			st.settledRate = rate
			st.lastFundingAt = at
			st.fundingHist = append(st.fundingHist, fundingRecord{Rate: rate, Mark: st.mark.Mark, Time: at})
			if len(st.fundingHist) > 1000 {
				st.fundingHist = st.fundingHist[1:]
			}
			st.nextFunding = matching.NextFunding(at, s.cfg.FundingInterval)
			if !st.nextFunding.After(at) { // engine skeleton guard: never loop forever
				st.nextFunding = at.Add(s.cfg.FundingInterval)
			}
			st.mark.NextFundingTime = st.nextFunding
		}
	}
}

// sink receives engine events (under mu) and queues their private frames.
func (s *Server) sink(ev *matching.Event) {
	frame := encodePrivate(ev)
	if frame != nil {
		s.outbox = append(s.outbox, privateFrame{account: ev.Account, frame: frame})
	}
}

// flushOutbox pushes queued private frames; callers hold mu, which keeps
// the frames of concurrent requests in engine order.
func (s *Server) flushOutbox() {
	for _, f := range s.outbox {
		s.pushPrivate(f.account, f.frame)
	}
	clear(s.outbox)
	s.outbox = s.outbox[:0]
}

// withEngine runs fn with the engine locked at the current clock time and
// pushes the private frames it caused.
func (s *Server) withEngine(fn func(e *matching.Engine, now time.Time)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(s.engine, s.clock.Now())
	s.flushOutbox()
}
