// Package operator holds the human- and script-facing account commands
// (account, cancel-all, close-all, market): they print aligned tables for
// people or JSON for scripts. The CLI wires them; they only need the small
// Exchange interface below.
package operator

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/bitrader/bitrader/internal/bitunix"
	"github.com/bitrader/bitrader/internal/instrument"
)

// Exchange is what the operator commands use; *bitunix.Client implements it.
type Exchange interface {
	Account(ctx context.Context, marginCoin string) (bitunix.Account, error)
	PendingPositions(ctx context.Context, symbol string) ([]bitunix.Position, error)
	PendingOrders(ctx context.Context, q bitunix.Query) ([]bitunix.Order, int, error)
	CancelAllOrders(ctx context.Context, symbol string) (bitunix.BatchResult, error)
	CloseAllPositions(ctx context.Context, symbol string) error
	TradingPairs(ctx context.Context, symbols ...string) ([]instrument.Spec, error)
	Tickers(ctx context.Context, symbols ...string) ([]bitunix.Ticker, error)
}

// MarginCoin is the margin coin the account view reports.
const MarginCoin = "USDT"

type accountView struct {
	Balance   balanceJSON    `json:"balance"`
	Positions []positionJSON `json:"positions"`
	Orders    []orderJSON    `json:"orders"`
}

type balanceJSON struct {
	Coin          string `json:"coin"`
	Available     string `json:"available"`
	Frozen        string `json:"frozen"`
	Margin        string `json:"margin"`
	UnrealizedPNL string `json:"unrealizedPnl"`
	PositionMode  string `json:"positionMode"`
}

type positionJSON struct {
	PositionID    string `json:"positionId"`
	Symbol        string `json:"symbol"`
	Side          string `json:"side"`
	Qty           string `json:"qty"`
	AvgOpenPrice  string `json:"avgOpenPrice"`
	Leverage      int    `json:"leverage"`
	UnrealizedPNL string `json:"unrealizedPnl"`
	LiqPrice      string `json:"liqPrice"`
}

type orderJSON struct {
	OrderID  string `json:"orderId"`
	ClientID string `json:"clientId"`
	Symbol   string `json:"symbol"`
	Side     string `json:"side"`
	Type     string `json:"type"`
	Price    string `json:"price"`
	Qty      string `json:"qty"`
	Filled   string `json:"filled"`
	Status   string `json:"status"`
}

// Account prints balance, open positions and open orders (in symbol, or
// all when empty).
func Account(ctx context.Context, ex Exchange, w io.Writer, symbol string, asJSON bool) error {
	acct, err := ex.Account(ctx, MarginCoin)
	if err != nil {
		return fmt.Errorf("account: %w", err)
	}
	positions, err := ex.PendingPositions(ctx, symbol)
	if err != nil {
		return fmt.Errorf("open positions: %w", err)
	}
	orders, _, err := ex.PendingOrders(ctx, bitunix.Query{Symbol: symbol, Limit: 100})
	if err != nil {
		return fmt.Errorf("open orders: %w", err)
	}
	v := accountView{Balance: balanceJSON{Coin: acct.MarginCoin, Available: acct.Available.String(), Frozen: acct.Frozen.String(),
		Margin: acct.Margin.String(), UnrealizedPNL: (acct.CrossUnrealizedPNL + acct.IsolationUnrealizedPNL).String(), PositionMode: acct.PositionMode},
		Positions: []positionJSON{}, Orders: []orderJSON{}}
	for _, p := range positions {
		v.Positions = append(v.Positions, positionJSON{p.PositionID, p.Symbol, sideName(p.Side.String(), p.Side != 0), p.Qty.String(),
			p.AvgOpenPrice.String(), p.Leverage, p.UnrealizedPNL.String(), p.LiqPrice.String()})
	}
	for _, o := range orders {
		price := o.Price.String()
		if o.PriceIsMarket {
			price = "market"
		}
		v.Orders = append(v.Orders, orderJSON{o.OrderID, o.ClientID, o.Symbol, sideName(o.Side.String(), o.Side != 0),
			sideName(o.Type.String(), o.Type != 0), price, o.Qty.String(), o.FilledQty.String(), o.Status.String()})
	}
	if asJSON {
		return writeJSON(w, v)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	b := v.Balance
	fmt.Fprintf(tw, "BALANCE\nCOIN\tAVAILABLE\tFROZEN\tMARGIN\tUNREALIZED PNL\tMODE\n%s\t%s\t%s\t%s\t%s\t%s\n\n",
		b.Coin, b.Available, b.Frozen, b.Margin, b.UnrealizedPNL, b.PositionMode)
	fmt.Fprintf(tw, "POSITIONS (%d)\nID\tSYMBOL\tSIDE\tQTY\tAVG OPEN\tLEV\tUNREALIZED PNL\tLIQ PRICE\n", len(v.Positions))
	for _, p := range v.Positions {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", p.PositionID, p.Symbol, p.Side, p.Qty, p.AvgOpenPrice, p.Leverage, p.UnrealizedPNL, p.LiqPrice)
	}
	fmt.Fprintf(tw, "\nOPEN ORDERS (%d)\nID\tCLIENT ID\tSYMBOL\tSIDE\tTYPE\tPRICE\tQTY\tFILLED\tSTATUS\n", len(v.Orders))
	for _, o := range v.Orders {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", o.OrderID, o.ClientID, o.Symbol, o.Side, o.Type, o.Price, o.Qty, o.Filled, o.Status)
	}
	return tw.Flush()
}

func sideName(s string, ok bool) string {
	if !ok {
		return "?"
	}
	return s
}

type cancelJSON struct {
	Canceled []bitunix.BatchItem `json:"canceled"`
	Failed   []bitunix.BatchItem `json:"failed"`
}

// CancelAll cancels every open order (in symbol, or all). Per-order
// failures are printed and also returned as an error so scripts notice.
func CancelAll(ctx context.Context, ex Exchange, w io.Writer, symbol string, asJSON bool) error {
	r, err := ex.CancelAllOrders(ctx, symbol)
	if err != nil {
		return fmt.Errorf("cancel all orders: %w", err)
	}
	if asJSON {
		err = writeJSON(w, cancelJSON{Canceled: nonNil(r.Success), Failed: nonNil(r.Failure)})
	} else {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "RESULT\tORDER ID\tCLIENT ID\tERROR\n")
		for _, it := range r.Success {
			fmt.Fprintf(tw, "canceled\t%s\t%s\t\n", it.OrderID, it.ClientID)
		}
		for _, it := range r.Failure {
			fmt.Fprintf(tw, "failed\t%s\t%s\t%d %s\n", it.OrderID, it.ClientID, it.Code, it.Msg)
		}
		fmt.Fprintf(tw, "%d canceled, %d failed\n", len(r.Success), len(r.Failure))
		err = tw.Flush()
	}
	if err == nil && len(r.Failure) > 0 {
		err = fmt.Errorf("cancel all orders: %d orders could not be canceled", len(r.Failure))
	}
	return err
}

func nonNil(s []bitunix.BatchItem) []bitunix.BatchItem {
	if s == nil {
		return []bitunix.BatchItem{}
	}
	return s
}

// CloseAll market-closes every position (in symbol, or all).
func CloseAll(ctx context.Context, ex Exchange, w io.Writer, symbol string, asJSON bool) error {
	if err := ex.CloseAllPositions(ctx, symbol); err != nil {
		return fmt.Errorf("close all positions: %w", err)
	}
	scope := symbol
	if scope == "" {
		scope = "all symbols"
	}
	if asJSON {
		return writeJSON(w, map[string]any{"closed": true, "symbol": symbol})
	}
	_, err := fmt.Fprintf(w, "close-all requested for %s (confirm with 'account': the exchange acts asynchronously)\n", scope)
	return err
}

type marketJSON struct {
	Symbol         string `json:"symbol"`
	Status         string `json:"status"`
	BasePrecision  int    `json:"basePrecision"`
	QuotePrecision int    `json:"quotePrecision"`
	Tick           string `json:"tick"`
	MinQty         string `json:"minQty"`
	MaxLeverage    int    `json:"maxLeverage"`
	Last           string `json:"last"`
	Mark           string `json:"mark"`
	High           string `json:"high24h"`
	Low            string `json:"low24h"`
	QuoteVol       string `json:"quoteVol24h"`
}

// Market prints contract precision and limits with the 24 h ticker, for one
// symbol or all.
func Market(ctx context.Context, ex Exchange, w io.Writer, symbol string, asJSON bool) error {
	var syms []string
	if symbol != "" {
		syms = []string{symbol}
	}
	specs, err := ex.TradingPairs(ctx, syms...)
	if err != nil {
		return fmt.Errorf("trading pairs: %w", err)
	}
	tickers, err := ex.Tickers(ctx, syms...)
	if err != nil {
		return fmt.Errorf("tickers: %w", err)
	}
	bySym := make(map[string]bitunix.Ticker, len(tickers))
	for _, t := range tickers {
		bySym[t.Symbol] = t
	}
	rows := make([]marketJSON, 0, len(specs))
	for _, s := range specs {
		t := bySym[s.Symbol]
		rows = append(rows, marketJSON{s.Symbol, s.Status, s.BasePrecision, s.QuotePrecision, s.Tick().String(), s.MinQty.String(),
			s.MaxLeverage, t.Last.String(), t.Mark.String(), t.High.String(), t.Low.String(), t.QuoteVol.String()})
	}
	if asJSON {
		return writeJSON(w, rows)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "SYMBOL\tSTATUS\tQTY DP\tPRICE DP\tTICK\tMIN QTY\tMAX LEV\tLAST\tMARK\t24H HIGH\t24H LOW\t24H QUOTE VOL\n")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", r.Symbol, r.Status, r.BasePrecision, r.QuotePrecision,
			r.Tick, r.MinQty, r.MaxLeverage, r.Last, r.Mark, r.High, r.Low, r.QuoteVol)
	}
	return tw.Flush()
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
