package bitunix

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/instrument"
	"github.com/bitrader/bitrader/internal/trading"
	"github.com/valyala/fastjson"
)

const pathMarket = "/api/v1/futures/market/"

// TradingPairs returns contract specs (§4.1), for all symbols when none
// are given.
func (c *Client) TradingPairs(ctx context.Context, symbols ...string) ([]instrument.Spec, error) {
	var out []instrument.Spec
	err := c.get(ctx, pathMarket+"trading_pairs", params{}.set("symbols", strings.Join(symbols, ",")), false, func(v *fastjson.Value) error {
		var err error
		out, err = decodeList(v, decodeSpec)
		return err
	})
	return out, err
}

func decodeSpec(v *fastjson.Value) (instrument.Spec, error) {
	var s instrument.Spec
	var fe fieldErr
	s.Symbol = strOf(v.Get("symbol"))
	s.Base = strOf(v.Get("base"))
	s.Quote = strOf(v.Get("quote"))
	s.BasePrecision = fe.int(v, "basePrecision")
	s.QuotePrecision = fe.int(v, "quotePrecision")
	s.MinLeverage = fe.int(v, "minLeverage")
	s.MaxLeverage = fe.int(v, "maxLeverage")
	s.DefaultLeverage = fe.int(v, "defaultLeverage")
	fe.fixeds(v, ff(&s.MinQty, "minTradeVolume"), ff(&s.MaxLimitQty, "maxLimitOrderVolume"),
		ff(&s.MaxMarketQty, "maxMarketOrderVolume"), ff(&s.PriceProtectScope, "priceProtectScope"))
	s.Status = upper(v.Get("symbolStatus"))
	if fe.err == nil && (s.BasePrecision < 0 || s.BasePrecision > fixed.Scale || s.QuotePrecision < 0 || s.QuotePrecision > fixed.Scale) {
		fe.err = fmt.Errorf("%s: precision out of range (%d, %d)", s.Symbol, s.BasePrecision, s.QuotePrecision)
	}
	return s, fe.err
}

// Tickers returns 24 h tickers (§4.1), for all symbols when none are given.
func (c *Client) Tickers(ctx context.Context, symbols ...string) ([]Ticker, error) {
	var out []Ticker
	err := c.get(ctx, pathMarket+"tickers", params{}.set("symbols", strings.Join(symbols, ",")), false, func(v *fastjson.Value) error {
		for _, x := range listOf(v) {
			var t Ticker
			var fe fieldErr
			t.Symbol = strOf(x.Get("symbol"))
			fe.fixeds(x, ff(&t.Open, "open"), ff(&t.High, "high"), ff(&t.Low, "low"), ff(&t.Last, "lastPrice", "last"),
				ff(&t.Mark, "markPrice"), ff(&t.BaseVol, "baseVol"), ff(&t.QuoteVol, "quoteVol"))
			if fe.err != nil {
				return fe.err
			}
			out = append(out, t)
		}
		return nil
	})
	return out, err
}

// Depth returns an order book snapshot. limit is one of 1, 5, 15, 50, max
// (§4.1); empty means the full book.
func (c *Client) Depth(ctx context.Context, symbol, limit string) (trading.Book, error) {
	b := trading.Book{Symbol: symbol, Time: c.cfg.Clock()}
	err := c.get(ctx, pathMarket+"depth", params{}.set("symbol", symbol).set("limit", limit), false, func(v *fastjson.Value) error {
		v = objectOrFirst(v)
		if v == nil {
			return fmt.Errorf("%w: depth data is not an object", ErrFrame)
		}
		var err error
		if b.Bids, err = levels(nil, v.Get("bids")); err != nil {
			return err
		}
		b.Asks, err = levels(nil, v.Get("asks"))
		return err
	})
	return b, err
}

// KlineRequest selects candles. Interval is the REST form (1m … 1M, §4.1).
type KlineRequest struct {
	Symbol     string
	Interval   string
	Start, End time.Time
	Limit      int    // ≤ 200
	PriceType  string // LAST_PRICE (default) or MARK_PRICE
}

// Klines returns candles sorted by open time (the exchange's order is
// undocumented, so we sort).
func (c *Client) Klines(ctx context.Context, r KlineRequest) ([]trading.Kline, error) {
	iv := restInterval(r.Interval)
	var out []trading.Kline
	q := params{}.set("symbol", r.Symbol).set("interval", r.Interval).time("startTime", r.Start).time("endTime", r.End).int("limit", r.Limit).set("type", r.PriceType)
	err := c.get(ctx, pathMarket+"kline", q, false, func(v *fastjson.Value) error {
		for _, x := range listOf(v) {
			k := trading.Kline{Symbol: r.Symbol, Interval: iv}
			var fe fieldErr
			fe.fixeds(x, ff(&k.Open, "open"), ff(&k.High, "high"), ff(&k.Low, "low"), ff(&k.Close, "close"), ff(&k.Volume, "baseVol"))
			k.OpenTime = fe.time(x, "time")
			if fe.err != nil {
				return fe.err
			}
			out = append(out, k)
		}
		return nil
	})
	sortKlines(out)
	return out, err
}

func sortKlines(ks []trading.Kline) {
	for i := 1; i < len(ks); i++ { // insertion sort: input is usually sorted or reversed-small
		for j := i; j > 0 && ks[j].OpenTime.Before(ks[j-1].OpenTime); j-- {
			ks[j], ks[j-1] = ks[j-1], ks[j]
		}
	}
}

// FundingRate is the current funding information for a contract.
// Rate, MaxRate and MinRate are fractions: REST sends percent ("0.01"
// means 0.0001, §4.1) and this edge converts, so nothing inside bitrader
// ever sees a percent.
type FundingRate struct {
	Symbol          string
	Rate            fixed.Value
	MaxRate         fixed.Value
	MinRate         fixed.Value
	MarkPrice       fixed.Value
	LastPrice       fixed.Value
	IndexPrice      fixed.Value
	IntervalHours   int
	NextFundingTime time.Time
}

func decodeFunding(x *fastjson.Value) (FundingRate, error) {
	var f FundingRate
	var fe fieldErr
	f.Symbol = strOf(x.Get("symbol"))
	fe.fixeds(x, ff(&f.Rate, "fundingRate"), ff(&f.MaxRate, "maxFundingRate"), ff(&f.MinRate, "minFundingRate"),
		ff(&f.MarkPrice, "markPrice"), ff(&f.LastPrice, "lastPrice"), ff(&f.IndexPrice, "indexPrice"))
	f.Rate, f.MaxRate, f.MinRate = percentToFraction(f.Rate), percentToFraction(f.MaxRate), percentToFraction(f.MinRate)
	f.IntervalHours = fe.int(x, "fundingInterval")
	f.NextFundingTime = fe.time(x, "nextFundingTime")
	return f, fe.err
}

// FundingRate returns one contract's funding (the DOC example wraps it in
// a list; both shapes are accepted).
func (c *Client) FundingRate(ctx context.Context, symbol string) (FundingRate, error) {
	var f FundingRate
	err := c.get(ctx, pathMarket+"funding_rate", params{}.set("symbol", symbol), false, func(v *fastjson.Value) error {
		x := objectOrFirst(v)
		if x == nil {
			return fmt.Errorf("%w: no funding data", ErrFrame)
		}
		var err error
		f, err = decodeFunding(x)
		return err
	})
	return f, err
}

// FundingRates returns funding for every contract, delisted ones included.
func (c *Client) FundingRates(ctx context.Context) ([]FundingRate, error) {
	var out []FundingRate
	err := c.get(ctx, pathMarket+"funding_rate/batch", params{}, false, func(v *fastjson.Value) error {
		var err error
		out, err = decodeList(v, decodeFunding)
		return err
	})
	return out, err
}
