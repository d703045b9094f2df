package backtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/bitrader/bitrader/internal/fixed"
)

// Axis is one dimension of a parameter grid: a config key and its values.
type Axis struct {
	Key    string
	Values []string
}

// ParseGrid parses --grid flags of the form key=v1,v2,v3. A key may appear
// once; values keep their order.
func ParseGrid(specs []string) ([]Axis, error) {
	var axes []Axis
	seen := map[string]bool{}
	for _, s := range specs {
		k, vs, ok := strings.Cut(s, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.TrimSpace(vs) == "" {
			return nil, fmt.Errorf("grid %q: want key=value1,value2,...", s)
		}
		if seen[k] {
			return nil, fmt.Errorf("grid %q: key %s given twice", s, k)
		}
		seen[k] = true
		a := Axis{Key: k}
		for _, v := range strings.Split(vs, ",") {
			v = strings.TrimSpace(v)
			if v == "" {
				return nil, fmt.Errorf("grid %q: empty value", s)
			}
			a.Values = append(a.Values, v)
		}
		axes = append(axes, a)
	}
	if len(axes) == 0 {
		return nil, errors.New("sweep needs at least one --grid key=v1,v2,...")
	}
	return axes, nil
}

// Combinations returns the cartesian product as --set style assignments,
// the first axis varying slowest, so the order is fixed by the flags.
func Combinations(axes []Axis) [][]string {
	out := [][]string{nil}
	for _, a := range axes {
		next := make([][]string, 0, len(out)*len(a.Values))
		for _, prefix := range out {
			for _, v := range a.Values {
				next = append(next, append(slices.Clone(prefix), a.Key+"="+v))
			}
		}
		out = next
	}
	return out
}

// SweepResult is one grid point's outcome.
type SweepResult struct {
	Rank   int      `json:"rank"`
	Index  int      `json:"index"` // position in the grid
	Set    []string `json:"params"`
	Error  string   `json:"error,omitempty"`
	Report *Report  `json:"-"`
}

// RunFunc runs one backtest with the given extra config assignments.
type RunFunc func(ctx context.Context, set []string) (*Report, error)

// Sweep runs every combination on a pool of parallel workers. Each run is
// independent and deterministic, so results do not depend on parallel;
// they come back in grid order. done (optional) is called after each run,
// from one goroutine at a time.
func Sweep(ctx context.Context, combos [][]string, parallel int, run RunFunc, done func(finished, total int)) []SweepResult {
	if parallel < 1 {
		parallel = 1
	}
	res := make([]SweepResult, len(combos))
	jobs := make(chan int)
	var mu sync.Mutex
	finished := 0
	var wg sync.WaitGroup
	for range min(parallel, max(1, len(combos))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				r := SweepResult{Index: i, Set: combos[i]}
				rep, err := run(ctx, combos[i])
				if err != nil {
					r.Error = err.Error()
				} else {
					r.Report = rep
				}
				res[i] = r
				mu.Lock()
				finished++
				if done != nil {
					done(finished, len(combos))
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for i := range combos {
		select {
		case jobs <- i:
		case <-ctx.Done():
			for j := i; j < len(combos); j++ {
				res[j] = SweepResult{Index: j, Set: combos[j], Error: ctx.Err().Error()}
			}
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	return res
}

// RankKeys are the metrics a sweep can be ranked by; all but drawdown rank
// higher-is-better.
var RankKeys = []string{"sharpe", "sortino", "return", "annualized", "drawdown", "profitFactor", "winRate", "netPnl"}

// metric returns the value of key for r, and whether it exists.
func metric(r *Report, key string) (float64, bool) {
	f := func(p *float64) (float64, bool) {
		if p == nil {
			return 0, false
		}
		return *p, true
	}
	switch key {
	case "sharpe":
		return f(r.Sharpe)
	case "sortino":
		return f(r.Sortino)
	case "return":
		return f(r.TotalReturn)
	case "annualized":
		return f(r.AnnualizedReturn)
	case "drawdown":
		v, ok := f(r.MaxDrawdown)
		return -v, ok
	case "profitFactor":
		return f(r.ProfitFactor)
	case "winRate":
		return f(r.WinRate)
	case "netPnl":
		return r.NetPnL.Float64(), true
	}
	return 0, false
}

// Rank orders results best first by key; failed runs and runs without the
// metric go last, ties keep grid order. It sets each Rank (1-based).
func Rank(res []SweepResult, key string) error {
	if !slices.Contains(RankKeys, key) {
		return fmt.Errorf("rank %q: allowed: %s", key, strings.Join(RankKeys, ", "))
	}
	slices.SortStableFunc(res, func(a, b SweepResult) int {
		va, oka := 0.0, false
		vb, okb := 0.0, false
		if a.Report != nil {
			va, oka = metric(a.Report, key)
		}
		if b.Report != nil {
			vb, okb = metric(b.Report, key)
		}
		switch {
		case oka && !okb:
			return -1
		case !oka && okb:
			return 1
		case !oka && !okb:
			return a.Index - b.Index
		case va > vb:
			return -1
		case va < vb:
			return 1
		}
		return a.Index - b.Index
	})
	for i := range res {
		res[i].Rank = i + 1
	}
	return nil
}

// SweepRow is one line of the machine-readable sweep summary.
type SweepRow struct {
	Rank             int         `json:"rank"`
	Params           []string    `json:"params"`
	Error            string      `json:"error,omitempty"`
	FinalEquity      fixed.Value `json:"finalEquity"`
	TotalReturn      *float64    `json:"totalReturn"`
	AnnualizedReturn *float64    `json:"annualizedReturn"`
	Sharpe           *float64    `json:"sharpe"`
	Sortino          *float64    `json:"sortino"`
	MaxDrawdown      *float64    `json:"maxDrawdown"`
	WinRate          *float64    `json:"winRate"`
	ProfitFactor     *float64    `json:"profitFactor"`
	RoundTrips       int         `json:"roundTrips"`
	Fees             fixed.Value `json:"fees"`
	Funding          fixed.Value `json:"funding"`
	Exposure         *float64    `json:"exposure"`
}

// Rows summarises ranked results.
func Rows(res []SweepResult) []SweepRow {
	out := make([]SweepRow, 0, len(res))
	for _, r := range res {
		row := SweepRow{Rank: r.Rank, Params: r.Set, Error: r.Error}
		if p := r.Report; p != nil {
			row.FinalEquity, row.TotalReturn, row.AnnualizedReturn = p.FinalEquity, p.TotalReturn, p.AnnualizedReturn
			row.Sharpe, row.Sortino, row.MaxDrawdown = p.Sharpe, p.Sortino, p.MaxDrawdown
			row.WinRate, row.ProfitFactor, row.RoundTrips = p.WinRate, p.ProfitFactor, p.RoundTrips
			row.Fees, row.Funding, row.Exposure = p.Fees, p.Funding, p.Exposure
		}
		out = append(out, row)
	}
	return out
}

// WriteTable prints the ranked summary as an aligned text table.
func WriteTable(w io.Writer, rows []SweepRow) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "rank\treturn\tannual\tsharpe\tsortino\tmaxDD\twin\tPF\ttrades\tfees\tfinal equity\t  params")
	for _, r := range rows {
		if r.Error != "" {
			fmt.Fprintf(tw, "%d\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t  %s  error: %s\n", r.Rank, strings.Join(r.Params, " "), r.Error)
			continue
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t  %s\n", r.Rank,
			pct(r.TotalReturn), pct(r.AnnualizedReturn), ratio(r.Sharpe), ratio(r.Sortino), pct(r.MaxDrawdown),
			pct(r.WinRate), ratio(r.ProfitFactor), r.RoundTrips, r.Fees.StringFixed(2), r.FinalEquity.StringFixed(2),
			strings.Join(r.Params, " "))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write sweep table: %w", err)
	}
	return nil
}
