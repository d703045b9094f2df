package backtest

import (
	"fmt"
	"html"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
)

// Chart geometry, in SVG user units.
const (
	chartW      = 960
	equityH     = 300
	drawdownH   = 140
	chartLeft   = 90
	chartRight  = 20
	chartTop    = 20
	chartBottom = 30
)

// maxHTMLTrades caps the trade rows in the HTML page (the JSON report has
// them all); a browser chokes on a table of a million rows.
const maxHTMLTrades = 2000

// WriteHTML writes rep as a self-contained HTML page: summary, an equity
// curve and a drawdown chart as inline SVG, and the trade list. No
// scripts, no external resources; the same report gives the same bytes.
func WriteHTML(w io.Writer, rep *Report) error {
	var b strings.Builder
	esc := html.EscapeString
	title := fmt.Sprintf("Backtest: %s on %s", rep.Strategy, rep.Symbol)
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>")
	b.WriteString(esc(title))
	b.WriteString(`</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222;max-width:1000px}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;font-size:13px}
td,th{padding:3px 10px;border-bottom:1px solid #e3e3e3;text-align:right}
th{background:#f4f4f4}td.l,th.l{text-align:left}
.pos{color:#1a7f37}.neg{color:#cf222e}
svg{background:#fcfcfc;border:1px solid #ddd}
.axis{font-size:11px;fill:#555}
</style></head><body>
`)
	fmt.Fprintf(&b, "<h1>%s</h1>\n<p>Data <code>%s</code> (%s), %s to %s.</p>\n",
		esc(title), esc(rep.Data), esc(rep.Format), fmtTime(rep.From), fmtTime(rep.To))

	b.WriteString("<h2>Summary</h2>\n<table>\n")
	row := func(k, v string) {
		fmt.Fprintf(&b, "<tr><th class=\"l\">%s</th><td>%s</td></tr>\n", esc(k), esc(v))
	}
	row("Start balance", rep.StartBalance.String())
	row("Final equity", rep.FinalEquity.String())
	row("Net PnL", rep.NetPnL.String())
	row("Total return", pct(rep.TotalReturn))
	row("Annualised return", pct(rep.AnnualizedReturn))
	row("Sharpe ("+rep.Period+" returns, annualised)", ratio(rep.Sharpe))
	row("Sortino", ratio(rep.Sortino))
	row("Max drawdown", pct(rep.MaxDrawdown)+" ("+rep.MaxDrawdownAmount.String()+")")
	row("Max drawdown duration", rep.MaxDrawdownDuration)
	row("Round trips", strconv.Itoa(rep.RoundTrips))
	row("Win rate", pct(rep.WinRate))
	row("Profit factor", ratio(rep.ProfitFactor))
	row("Fills", strconv.Itoa(rep.Fills))
	row("Liquidations", strconv.Itoa(rep.Liquidations))
	row("Fees paid", rep.Fees.String())
	row("Funding received (negative: paid)", rep.Funding.String())
	row("Realised PnL (before fees)", rep.RealizedPnL.String())
	row("Unrealised PnL at end", rep.Unrealized.String())
	row("Exposure (time in market)", pct(rep.Exposure))
	row("Orders submitted / rejected", fmt.Sprintf("%d / %d", rep.Orders.Submitted, rep.Orders.Rejected))
	row("Risk gate approved / trimmed / refused", fmt.Sprintf("%d / %d / %d", rep.Risk.Approved, rep.Risk.Trimmed, rep.Risk.Refused))
	if len(rep.Risk.Breakers) > 0 {
		row("Breakers tripped", strings.Join(rep.Risk.Breakers, ", "))
	}
	row("Latency", rep.Latency)
	b.WriteString("</table>\n")

	b.WriteString("<h2>Equity</h2>\n")
	writeChart(&b, rep.Curve, equityH, false)
	b.WriteString("<h2>Drawdown</h2>\n")
	writeChart(&b, rep.Curve, drawdownH, true)

	fmt.Fprintf(&b, "<h2>Trades (%d)</h2>\n", len(rep.List))
	b.WriteString("<table>\n<tr><th>#</th><th class=\"l\">Side</th><th class=\"l\">Entry</th><th class=\"l\">Exit</th><th>Qty</th><th>Entry price</th><th>Exit price</th><th>PnL</th><th>Fees</th><th>Funding</th><th>Net</th></tr>\n")
	for i, tr := range rep.List {
		if i == maxHTMLTrades {
			fmt.Fprintf(&b, "<tr><td class=\"l\" colspan=\"11\">… %d more in the JSON report</td></tr>\n", len(rep.List)-i)
			break
		}
		exit := "open"
		if !tr.Open {
			exit = fmtTime(tr.ExitTime)
		}
		cls := "pos"
		if tr.Net < 0 {
			cls = "neg"
		}
		fmt.Fprintf(&b, "<tr><td>%d</td><td class=\"l\">%s</td><td class=\"l\">%s</td><td class=\"l\">%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td class=\"%s\">%s</td></tr>\n",
			i+1, tr.Side, fmtTime(tr.EntryTime), exit, tr.Qty, tr.EntryPrice, tr.ExitPrice, tr.PnL, tr.Fees, tr.Funding, cls, tr.Net)
	}
	b.WriteString("</table>\n</body></html>\n")
	_, err := io.WriteString(w, b.String())
	if err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	return nil
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

func pct(x *float64) string {
	if x == nil {
		return "n/a"
	}
	return strconv.FormatFloat(*x*100, 'f', 2, 64) + "%"
}

func ratio(x *float64) string {
	if x == nil {
		return "n/a"
	}
	return strconv.FormatFloat(*x, 'f', 3, 64)
}

// writeChart draws the equity curve (or, with dd, the drawdown below zero)
// as an SVG line with min/max and start/end labels.
func writeChart(b *strings.Builder, pts []Point, h int, dd bool) {
	fmt.Fprintf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">\n", chartW, h, chartW, h)
	if len(pts) == 0 {
		fmt.Fprintf(b, "<text x=\"%d\" y=\"%d\" class=\"axis\">no data</text></svg>\n", chartLeft, h/2)
		return
	}
	val := func(p Point) float64 {
		if dd {
			return -p.Drawdown * 100
		}
		return p.Equity.Float64()
	}
	lo, hi := val(pts[0]), val(pts[0])
	for _, p := range pts {
		v := val(p)
		lo, hi = min(lo, v), max(hi, v)
	}
	if dd {
		hi = 0
	}
	if hi == lo {
		hi, lo = hi+1, lo-1
	}
	t0, t1 := pts[0].Time.UnixNano(), pts[len(pts)-1].Time.UnixNano()
	if t1 == t0 {
		t1 = t0 + 1
	}
	pw := float64(chartW - chartLeft - chartRight)
	ph := float64(h - chartTop - chartBottom)
	x := func(t time.Time) float64 { return chartLeft + pw*float64(t.UnixNano()-t0)/float64(t1-t0) }
	y := func(v float64) float64 { return chartTop + ph*(hi-v)/(hi-lo) }
	num := func(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

	// Axes and labels.
	fmt.Fprintf(b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>\n", chartLeft, chartTop, chartLeft, h-chartBottom)
	fmt.Fprintf(b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>\n", chartLeft, h-chartBottom, chartW-chartRight, h-chartBottom)
	label := func(v float64) string {
		if dd {
			return strconv.FormatFloat(v, 'f', 2, 64) + "%"
		}
		return fixed.FromFloat64(v).StringFixed(2)
	}
	fmt.Fprintf(b, "<text x=\"%d\" y=\"%s\" class=\"axis\" text-anchor=\"end\">%s</text>\n", chartLeft-6, num(y(hi)+4), label(hi))
	fmt.Fprintf(b, "<text x=\"%d\" y=\"%s\" class=\"axis\" text-anchor=\"end\">%s</text>\n", chartLeft-6, num(y(lo)+4), label(lo))
	fmt.Fprintf(b, "<text x=\"%d\" y=\"%d\" class=\"axis\">%s</text>\n", chartLeft, h-8, fmtTime(pts[0].Time))
	fmt.Fprintf(b, "<text x=\"%d\" y=\"%d\" class=\"axis\" text-anchor=\"end\">%s</text>\n", chartW-chartRight, h-8, fmtTime(pts[len(pts)-1].Time))

	var path strings.Builder
	for i, p := range pts {
		if i == 0 {
			path.WriteString("M")
		} else {
			path.WriteString(" L")
		}
		path.WriteString(num(x(p.Time)))
		path.WriteByte(' ')
		path.WriteString(num(y(val(p))))
	}
	if dd {
		// Fill the area between zero and the drawdown.
		fmt.Fprintf(b, "<path d=\"%s L%s %s L%s %s Z\" fill=\"#f4c7c3\" stroke=\"#cf222e\" stroke-width=\"1\"/>\n",
			path.String(), num(x(pts[len(pts)-1].Time)), num(y(0)), num(x(pts[0].Time)), num(y(0)))
	} else {
		fmt.Fprintf(b, "<path d=\"%s\" fill=\"none\" stroke=\"#0969da\" stroke-width=\"1.5\"/>\n", path.String())
	}
	b.WriteString("</svg>\n")
}
