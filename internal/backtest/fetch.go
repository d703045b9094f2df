package backtest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bitrader/bitrader/internal/bitunix"
	"github.com/bitrader/bitrader/internal/trading"
)

// KlineClient is what Fetch needs from the exchange; *bitunix.Client
// implements it (and respects the endpoint's rate limit).
type KlineClient interface {
	Klines(ctx context.Context, r bitunix.KlineRequest) ([]trading.Kline, error)
}

// KlineSink receives fetched klines in time order; *marketdata.KlineWriter
// implements it.
type KlineSink interface {
	Write(k trading.Kline) error
}

// MaxKlinesPerCall is the exchange's page size limit for the kline endpoint.
const MaxKlinesPerCall = 200

// FetchRequest selects what to download: klines of Interval opening in
// [From, To).
type FetchRequest struct {
	Symbol   string
	Interval string // REST form: 1m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 8h, 12h, 1d, 3d, 1w
	From, To time.Time
}

// Intervals maps the REST interval names Fetch accepts to their length.
// Calendar months (1M) are refused: pages are cut by fixed time windows.
var Intervals = map[string]time.Duration{
	"1m": time.Minute, "5m": 5 * time.Minute, "15m": 15 * time.Minute, "30m": 30 * time.Minute,
	"1h": time.Hour, "2h": 2 * time.Hour, "4h": 4 * time.Hour, "6h": 6 * time.Hour, "8h": 8 * time.Hour,
	"12h": 12 * time.Hour, "1d": 24 * time.Hour, "3d": 72 * time.Hour, "1w": 7 * 24 * time.Hour,
}

// Fetch downloads klines page by page: each call asks for the window of at
// most MaxKlinesPerCall intervals starting at the cursor, so paging never
// depends on whether the exchange returns the oldest or the newest rows
// first. Rows outside the window or not after the last written one are
// dropped, so the output is sorted and free of duplicates. progress
// (optional) gets the number of klines written so far and the cursor.
// It returns the number of klines written.
func Fetch(ctx context.Context, c KlineClient, req FetchRequest, sink KlineSink, progress func(n int, at time.Time)) (int, error) {
	iv, ok := Intervals[req.Interval]
	if !ok {
		return 0, fmt.Errorf("fetch: interval %q: allowed 1m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w", req.Interval)
	}
	if req.Symbol == "" {
		return 0, errors.New("fetch: symbol is required")
	}
	if !req.From.Before(req.To) {
		return 0, fmt.Errorf("fetch: from %s must be before to %s", req.From.UTC().Format(time.RFC3339), req.To.UTC().Format(time.RFC3339))
	}
	from := req.From.Truncate(iv)
	if from.Before(req.From) {
		from = from.Add(iv)
	}
	var last time.Time
	n := 0
	for cur := from; cur.Before(req.To); {
		end := cur.Add(iv * MaxKlinesPerCall)
		if end.After(req.To) {
			end = req.To
		}
		ks, err := c.Klines(ctx, bitunix.KlineRequest{
			Symbol: req.Symbol, Interval: req.Interval,
			Start: cur, End: end.Add(-time.Millisecond), Limit: MaxKlinesPerCall,
		})
		if err != nil {
			return n, fmt.Errorf("fetch %s %s klines from %s: %w", req.Symbol, req.Interval, cur.UTC().Format(time.RFC3339), err)
		}
		for _, k := range ks {
			if k.OpenTime.Before(cur) || !k.OpenTime.Before(end) || (n > 0 && !k.OpenTime.After(last)) {
				continue
			}
			k.Symbol, k.Interval = req.Symbol, iv
			if err := sink.Write(k); err != nil {
				return n, err
			}
			last = k.OpenTime
			n++
		}
		cur = end
		if progress != nil {
			progress(n, cur)
		}
	}
	return n, nil
}
