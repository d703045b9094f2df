package sim

import (
	"strconv"
	"strings"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/trading"
)

// symbolParam resolves a required symbol parameter: missing is code 1
// (observed), unknown is 20015.
func (s *Server) symbolParam(v string) (*symbolState, *apiError) {
	if v == "" {
		return nil, errNetwork
	}
	st, ok := s.symbols[strings.ToUpper(v)]
	if !ok {
		return nil, errSymbolNotFound
	}
	return st, nil
}

// symbolList parses an optional comma-separated symbols parameter; unknown
// names are skipped as the real batch endpoints do.
func (s *Server) symbolList(v string) []*symbolState {
	if v == "" {
		out := make([]*symbolState, 0, len(s.symOrder))
		for _, sym := range s.symOrder {
			out = append(out, s.symbols[sym])
		}
		return out
	}
	var out []*symbolState
	for _, p := range strings.Split(v, ",") {
		if st, ok := s.symbols[strings.ToUpper(strings.TrimSpace(p))]; ok {
			out = append(out, st)
		}
	}
	return out
}

type tickerJSON struct {
	Symbol    string      `json:"symbol"`
	MarkPrice fixed.Value `json:"markPrice"`
	LastPrice fixed.Value `json:"lastPrice"`
	Open      fixed.Value `json:"open"`
	Last      fixed.Value `json:"last"`
	QuoteVol  fixed.Value `json:"quoteVol"`
	BaseVol   fixed.Value `json:"baseVol"`
	High      fixed.Value `json:"high"`
	Low       fixed.Value `json:"low"`
}

func (s *Server) tickers(r *reqCtx) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []tickerJSON{}
	for _, st := range s.symbolList(r.param("symbols")) {
		t := s.tickerOf(st, r.now)
		out = append(out, tickerJSON{st.cfg.Spec.Symbol, st.mark.Mark, t.last, t.open, t.last, t.quote, t.base, t.high, t.low})
	}
	return out, nil
}

// depthLimits are the accepted depth `limit` values, for the error text.
func depthLimits() []string { return []string{"1", "5", "15", "50", "max"} }

// levelsJSON marshals levels as [["price","qty"],...] strings (PROBE).
type levelsJSON []trading.Level

func (l levelsJSON) MarshalJSON() ([]byte, error) { return appendLevels(nil, l), nil }

func (s *Server) depth(r *reqCtx) (any, *apiError) {
	st, e := s.symbolParam(r.param("symbol"))
	if e != nil {
		return nil, e
	}
	n := 0
	switch lim := r.param("limit"); lim {
	case "", "max":
	case "1", "5", "15", "50":
		n, _ = strconv.Atoi(lim)
	default:
		return nil, errEnum(lim, depthLimits())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	book, err := s.engine.Depth(st.cfg.Spec.Symbol, n)
	if err != nil || (len(book.Bids) == 0 && len(book.Asks) == 0) {
		book = trimBook(st.book, n)
	}
	return map[string]levelsJSON{"asks": book.Asks, "bids": book.Bids}, nil
}

// restKlineTable lists the REST kline intervals (§4.1) in the documented
// order; a month counts 30 days.
func restKlineTable() [14]klineInterval {
	return [14]klineInterval{
		{"1m", time.Minute}, {"5m", 5 * time.Minute}, {"15m", 15 * time.Minute}, {"30m", 30 * time.Minute},
		{"1h", time.Hour}, {"2h", 2 * time.Hour}, {"4h", 4 * time.Hour}, {"6h", 6 * time.Hour},
		{"8h", 8 * time.Hour}, {"12h", 12 * time.Hour}, {"1d", 24 * time.Hour}, {"3d", 72 * time.Hour},
		{"1w", 7 * 24 * time.Hour}, {"1M", 30 * 24 * time.Hour},
	}
}

// restKlineIntervals are the REST kline interval enum values, for the error text.
func restKlineIntervals() []string {
	var names []string
	for _, k := range restKlineTable() {
		names = append(names, k.name)
	}
	return names
}

// restKlineDur is the length of a REST kline interval.
func restKlineDur(name string) (time.Duration, bool) {
	for _, k := range restKlineTable() {
		if k.name == name {
			return k.dur, true
		}
	}
	return 0, false
}

type klineJSON struct {
	Open     fixed.Value `json:"open"`
	High     fixed.Value `json:"high"`
	Low      fixed.Value `json:"low"`
	Close    fixed.Value `json:"close"`
	Time     int64       `json:"time"`
	QuoteVol fixed.Value `json:"quoteVol"`
	BaseVol  fixed.Value `json:"baseVol"`
	Type     string      `json:"type"`
}

func msParam(v string, def time.Time) (time.Time, *apiError) {
	if v == "" {
		return def, nil
	}
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return def, errEnum(v, []string{"<unix ms>"})
	}
	return time.UnixMilli(ms), nil
}

func limitParam(v string, def, max int) int {
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return def
	}
	return min(n, max)
}

func (s *Server) kline(r *reqCtx) (any, *apiError) {
	st, e := s.symbolParam(r.param("symbol"))
	if e != nil {
		return nil, e
	}
	ivName := r.param("interval")
	if ivName == "" {
		return nil, errNetwork
	}
	iv, ok := restKlineDur(ivName)
	if !ok {
		return nil, errEnum(ivName, restKlineIntervals())
	}
	typ := r.param("type")
	switch typ {
	case "":
		typ = "LAST_PRICE"
	case "LAST_PRICE", "MARK_PRICE":
	default:
		return nil, errEnum(typ, []string{"LAST_PRICE", "MARK_PRICE"})
	}
	from, e := msParam(r.param("startTime"), time.Time{})
	if e != nil {
		return nil, e
	}
	to, e := msParam(r.param("endTime"), r.now)
	if e != nil {
		return nil, e
	}
	limit := limitParam(r.param("limit"), 100, 200)
	s.mu.Lock()
	cs := st.lastKlines
	if typ == "MARK_PRICE" {
		cs = st.markKlines
	}
	got := cs.aggregate(iv, from, to, limit)
	s.mu.Unlock()
	out := make([]klineJSON, 0, len(got))
	for _, c := range got {
		out = append(out, klineJSON{c.o, c.h, c.l, c.c, c.open.UnixMilli(), c.quote, c.base, typ})
	}
	return out, nil
}

type fundingJSON struct {
	Symbol          string      `json:"symbol"`
	MarkPrice       fixed.Value `json:"markPrice"`
	LastPrice       fixed.Value `json:"lastPrice"`
	IndexPrice      fixed.Value `json:"indexPrice"`
	FundingRate     fixed.Value `json:"fundingRate"` // percent
	FundingInterval int         `json:"fundingInterval"`
	NextFundingTime string      `json:"nextFundingTime"`
	MaxFundingRate  fixed.Value `json:"maxFundingRate"`
	MinFundingRate  fixed.Value `json:"minFundingRate"`
}

const maxFundingPct = fixed.Value(75_000_000) // 0.75 (%)

func (s *Server) fundingOf(st *symbolState) fundingJSON {
	return fundingJSON{
		Symbol: st.cfg.Spec.Symbol, MarkPrice: st.mark.Mark, LastPrice: st.last, IndexPrice: st.mark.Index,
		FundingRate: percent(st.mark.FundingRate), FundingInterval: int(s.cfg.FundingInterval / time.Hour),
		NextFundingTime: strconv.FormatInt(st.nextFunding.UnixMilli(), 10),
		MaxFundingRate:  maxFundingPct, MinFundingRate: -maxFundingPct,
	}
}

func (s *Server) fundingRate(r *reqCtx) (any, *apiError) {
	st, e := s.symbolParam(r.param("symbol"))
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fundingOf(st), nil
}

func (s *Server) fundingRateBatch(r *reqCtx) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]fundingJSON, 0, len(s.symOrder))
	for _, st := range s.symbolList("") {
		out = append(out, s.fundingOf(st))
	}
	return out, nil
}

func (s *Server) fundingHistory(r *reqCtx) (any, *apiError) {
	st, e := s.symbolParam(r.param("symbol"))
	if e != nil {
		return nil, e
	}
	from, e := msParam(r.param("starTime"), time.Time{}) // sic: the real parameter name
	if e != nil {
		return nil, e
	}
	to, e := msParam(r.param("endTime"), r.now)
	if e != nil {
		return nil, e
	}
	limit := limitParam(r.param("limit"), 100, 200)
	type rec struct {
		FundingRate fixed.Value `json:"fundingRate"` // fraction on this endpoint
		FundingTime string      `json:"fundingTime"`
		MarkPrice   fixed.Value `json:"markPrice"`
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []rec{}
	for i := len(st.fundingHist) - 1; i >= 0 && len(out) < limit; i-- { // newest first
		h := st.fundingHist[i]
		if h.Time.Before(from) || h.Time.After(to) {
			continue
		}
		out = append(out, rec{h.Rate, strconv.FormatInt(h.Time.UnixMilli(), 10), h.Mark})
	}
	return out, nil
}

type pairJSON struct {
	Symbol               string      `json:"symbol"`
	Base                 string      `json:"base"`
	Quote                string      `json:"quote"`
	MinTradeVolume       fixed.Value `json:"minTradeVolume"`
	MinBuyPriceOffset    fixed.Value `json:"minBuyPriceOffset"`
	MaxSellPriceOffset   fixed.Value `json:"maxSellPriceOffset"`
	MaxLimitOrderVolume  fixed.Value `json:"maxLimitOrderVolume"`
	MaxMarketOrderVolume fixed.Value `json:"maxMarketOrderVolume"`
	BasePrecision        int         `json:"basePrecision"`
	QuotePrecision       int         `json:"quotePrecision"`
	MaxLeverage          int         `json:"maxLeverage"`
	MinLeverage          int         `json:"minLeverage"`
	DefaultLeverage      int         `json:"defaultLeverage"`
	DefaultMarginMode    string      `json:"defaultMarginMode"`
	PriceProtectScope    fixed.Value `json:"priceProtectScope"`
	SymbolStatus         string      `json:"symbolStatus"`
	IsAPISupported       bool        `json:"isApiSupported"`
	MaxFundingRate       fixed.Value `json:"maxFundingRate"`
	MinFundingRate       fixed.Value `json:"minFundingRate"`
}

func (s *Server) tradingPairs(r *reqCtx) (any, *apiError) {
	out := []pairJSON{}
	for _, st := range s.symbolList(r.param("symbols")) {
		sp := st.cfg.Spec
		status := sp.Status
		if status == "" {
			status = "OPEN"
		}
		out = append(out, pairJSON{
			Symbol: sp.Symbol, Base: sp.Base, Quote: sp.Quote, MinTradeVolume: sp.MinQty,
			MinBuyPriceOffset: -sp.PriceProtectScope, MaxSellPriceOffset: sp.PriceProtectScope,
			MaxLimitOrderVolume: sp.MaxLimitQty, MaxMarketOrderVolume: sp.MaxMarketQty,
			BasePrecision: sp.BasePrecision, QuotePrecision: sp.QuotePrecision,
			MaxLeverage: sp.MaxLeverage, MinLeverage: sp.MinLeverage, DefaultLeverage: sp.DefaultLeverage,
			DefaultMarginMode: "Cross", PriceProtectScope: sp.PriceProtectScope, SymbolStatus: status,
			IsAPISupported: true, MaxFundingRate: maxFundingPct, MinFundingRate: -maxFundingPct,
		})
	}
	return out, nil
}

func (s *Server) positionTiers(r *reqCtx) (any, *apiError) {
	st, e := s.symbolParam(r.param("symbol"))
	if e != nil {
		return nil, e
	}
	type tier struct {
		Symbol                string      `json:"symbol"`
		Level                 int         `json:"level"`
		StartValue            fixed.Value `json:"startValue"`
		EndValue              fixed.Value `json:"endValue"`
		Leverage              int         `json:"leverage"`
		MaintenanceMarginRate fixed.Value `json:"maintenanceMarginRate"`
	}
	// One tier: the engine uses a flat maintenance margin rate.
	return []tier{{st.cfg.Spec.Symbol, 1, 0, fixed.FromInt(1_000_000_000), st.cfg.Spec.MaxLeverage, maintenanceMarginRate}}, nil
}
