package backtest

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteSummary prints the report's headline figures as aligned text.
func WriteSummary(w io.Writer, rep *Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	p("strategy", rep.Strategy+" on "+rep.Symbol)
	p("data", fmt.Sprintf("%s (%s), %s to %s", rep.Data, rep.Format, fmtTime(rep.From), fmtTime(rep.To)))
	p("start balance", rep.StartBalance.String())
	p("final equity", rep.FinalEquity.String())
	p("net pnl", rep.NetPnL.String())
	p("total return", pct(rep.TotalReturn))
	p("annualised return", pct(rep.AnnualizedReturn))
	p("sharpe", ratio(rep.Sharpe)+" ("+rep.Period+" returns, annualised over 365 days)")
	p("sortino", ratio(rep.Sortino))
	p("max drawdown", pct(rep.MaxDrawdown)+" ("+rep.MaxDrawdownAmount.String()+", longest "+rep.MaxDrawdownDuration+")")
	p("round trips", fmt.Sprintf("%d (win rate %s, profit factor %s)", rep.RoundTrips, pct(rep.WinRate), ratio(rep.ProfitFactor)))
	p("fills", fmt.Sprintf("%d (liquidations %d)", rep.Fills, rep.Liquidations))
	p("fees paid", rep.Fees.String())
	p("funding", rep.Funding.String()+" (negative: paid)")
	p("exposure", pct(rep.Exposure))
	p("orders", fmt.Sprintf("%d submitted, %d rejected", rep.Orders.Submitted, rep.Orders.Rejected))
	risk := fmt.Sprintf("%d approved, %d trimmed, %d refused", rep.Risk.Approved, rep.Risk.Trimmed, rep.Risk.Refused)
	if len(rep.Risk.Breakers) > 0 {
		risk += "; breakers tripped: " + strings.Join(rep.Risk.Breakers, ", ")
	}
	p("risk gate", risk)
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}
