package backtest

import (
	"math"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/trading"
)

// Report is the outcome of one backtest. Money is exact (fixed.Value, JSON
// strings); ratios are float64, rounded to 6 decimals so reports are stable
// and readable. A ratio that does not exist (Sharpe with fewer than two
// periods, profit factor without a losing trade) is null.
type Report struct {
	Strategy string            `json:"strategy"`
	Symbol   string            `json:"symbol"`
	Data     string            `json:"data"`
	Format   string            `json:"format"`
	Params   map[string]string `json:"params,omitempty"`

	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	Klines  int64     `json:"klines"`
	Trades  int64     `json:"trades"` // public trades read (trade files)
	Latency string    `json:"latency"`
	// FillModel is set when not the default ohlc-path.
	FillModel string `json:"fillModel,omitempty"`

	StartBalance fixed.Value `json:"startBalance"`
	FinalEquity  fixed.Value `json:"finalEquity"`
	NetPnL       fixed.Value `json:"netPnl"`
	RealizedPnL  fixed.Value `json:"realizedPnl"` // price PnL of closing fills, before fees
	Unrealized   fixed.Value `json:"unrealizedPnl"`
	Fees         fixed.Value `json:"fees"`    // paid (positive = cost)
	Funding      fixed.Value `json:"funding"` // net received (negative = paid)

	TotalReturn      *float64 `json:"totalReturn"`      // final/start - 1
	AnnualizedReturn *float64 `json:"annualizedReturn"` // (final/start)^(year/span) - 1
	Sharpe           *float64 `json:"sharpe"`
	Sortino          *float64 `json:"sortino"`
	Period           string   `json:"period"` // return sampling period
	PeriodsPerYear   float64  `json:"periodsPerYear"`

	MaxDrawdown         *float64    `json:"maxDrawdown"` // fraction of the peak
	MaxDrawdownAmount   fixed.Value `json:"maxDrawdownAmount"`
	MaxDrawdownDuration string      `json:"maxDrawdownDuration"` // longest peak-to-recovery

	RoundTrips   int      `json:"roundTrips"`
	WinRate      *float64 `json:"winRate"`
	ProfitFactor *float64 `json:"profitFactor"`
	Fills        int      `json:"fills"`
	Liquidations int      `json:"liquidations"`
	Exposure     *float64 `json:"exposure"` // fraction of time with a position

	Orders  OrderStats `json:"orders"`
	Risk    RiskStats  `json:"risk"`
	Funds   []Funding  `json:"fundingPayments"`
	List    []Trade    `json:"tradeList"`
	FillLog []Fill     `json:"fillList"`
	Curve   []Point    `json:"equityCurve"`
}

// OrderStats counts what the order manager did.
type OrderStats struct {
	Submitted int `json:"submitted"`
	Rejected  int `json:"rejected"`
	Canceled  int `json:"canceled"`
}

// RiskStats counts the risk gate's decisions.
type RiskStats struct {
	Approved int      `json:"approved"`
	Trimmed  int      `json:"trimmed"`
	Refused  int      `json:"refused"`
	Breakers []string `json:"breakersTripped,omitempty"`
}

// Trade is one round trip: from flat to flat (a flip closes one trade and
// opens the next at the same fill).
type Trade struct {
	Side       string      `json:"side"` // LONG or SHORT
	EntryTime  time.Time   `json:"entryTime"`
	ExitTime   time.Time   `json:"exitTime,omitzero"`
	EntryPrice fixed.Value `json:"entryPrice"` // average
	ExitPrice  fixed.Value `json:"exitPrice"`  // average
	Qty        fixed.Value `json:"qty"`        // largest size held
	PnL        fixed.Value `json:"pnl"`        // price PnL before fees
	Fees       fixed.Value `json:"fees"`
	Funding    fixed.Value `json:"funding"`
	Net        fixed.Value `json:"net"` // pnl - fees + funding
	Open       bool        `json:"open,omitempty"`

	entryQty fixed.Value
	exitQty  fixed.Value
	curQty   fixed.Value
}

// Fill is one execution of one of the backtest's orders.
type Fill struct {
	Time        time.Time   `json:"time"`
	ClientID    string      `json:"clientId"`
	Side        string      `json:"side"`
	Price       fixed.Value `json:"price"`
	Qty         fixed.Value `json:"qty"`
	Fee         fixed.Value `json:"fee"`
	Maker       bool        `json:"maker,omitempty"`
	Liquidation bool        `json:"liquidation,omitempty"`
	RealizedPnL fixed.Value `json:"realizedPnl"`
}

// Funding is one funding settlement on the position.
type Funding struct {
	Time   time.Time   `json:"time"`
	Amount fixed.Value `json:"amount"` // received (negative = paid)
}

// Point is one sample of the equity curve.
type Point struct {
	Time     time.Time   `json:"time"`
	Equity   fixed.Value `json:"equity"`
	Drawdown float64     `json:"drawdown"` // fraction below the running peak, >= 0
}

// round6 keeps six decimals: enough for ratios, and stable text.
func round6(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	r := math.Round(x*1e6) / 1e6
	if r == 0 {
		r = 0 // no -0 in reports
	}
	return &r
}

// sideName names a position direction.
func sideName(s trading.Side) string {
	if s == trading.Buy {
		return "LONG"
	}
	return "SHORT"
}
