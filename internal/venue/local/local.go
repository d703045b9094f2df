// Package local is a venue that fills orders on bitrader's own matching
// engine (internal/matching) for one account: the paper venue of a dry run
// (live market data, local fills) and the backtest venue (history, local
// fills). Fees, partial fills and queue position come from the matching
// engine, the same code the simulator runs.
//
// It is synchronous and not safe for concurrent use: the goroutine that
// owns the engine.Core owns the venue. Market data goes in through
// ApplyBook/ApplyTrade/ApplyMark/ApplyFunding (engine.Core calls the first
// three itself, since Venue implements engine.MarketFeed); every change to
// one of the account's orders comes out, synchronously, as an
// ordermanager.Report to the Reports sink.
package local

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/instrument"
	"github.com/bitrader/bitrader/internal/matching"
	"github.com/bitrader/bitrader/internal/ordermanager"
	"github.com/bitrader/bitrader/internal/trading"
)

// Default fees, as on Bitunix's base tier.
var (
	DefaultMakerFee = fixed.MustParse("0.0002")
	DefaultTakerFee = fixed.MustParse("0.0006")
)

// Config configures a Venue.
type Config struct {
	// Account names the single account; default "paper".
	Account string
	// Balance is the starting USDT balance (> 0).
	Balance fixed.Value
	// Specs are the tradable symbols.
	Specs []instrument.Spec
	// MakerFee and TakerFee default to DefaultMakerFee/DefaultTakerFee.
	MakerFee, TakerFee fixed.Value
	// MaintenanceMarginRate defaults to 0.005.
	MaintenanceMarginRate fixed.Value
	// Leverage per symbol (0 leaves the engine's default) and margin mode
	// ("ISOLATION" or "CROSS"; empty leaves the default, cross).
	Leverage   int
	MarginMode string
	// Start is the time the account opens (backtests: the first event).
	Start time.Time
	// FundingFromMarks makes the venue settle funding itself when a mark
	// reaches the funding time the previous mark announced (its
	// NextFundingTime, else the next 8-hour boundary): a dry run on live
	// marks. The rate is the new mark's: Bitunix's price push carries the
	// rate last settled, so the first mark after a funding time has the
	// rate just charged. Backtests leave it off and schedule funding with
	// ApplyFunding.
	FundingFromMarks bool
	// HistoryLimit caps the closed orders, fills and positions the engine
	// keeps for queries (matching.Config.HistoryLimit; zero: its default).
	HistoryLimit int
}

// Venue is the local venue. It implements ordermanager.Venue and
// engine.MarketFeed.
type Venue struct {
	eng     *matching.Engine
	acct    string
	now     time.Time // latest market or command time
	reports func(ordermanager.Report)
	funding func(symbol string, amount fixed.Value)
	// lastMark per symbol, kept when Config.FundingFromMarks is set.
	lastMark map[string]trading.MarkPrice
}

// New builds the venue and opens its account.
func New(cfg Config) (*Venue, error) {
	if cfg.Account == "" {
		cfg.Account = "paper"
	}
	if cfg.Balance <= 0 {
		return nil, fmt.Errorf("local venue: balance %s must be positive", cfg.Balance)
	}
	if cfg.MakerFee == 0 {
		cfg.MakerFee = DefaultMakerFee
	}
	if cfg.TakerFee == 0 {
		cfg.TakerFee = DefaultTakerFee
	}
	if cfg.MaintenanceMarginRate == 0 {
		cfg.MaintenanceMarginRate = fixed.MustParse("0.005")
	}
	v := &Venue{acct: cfg.Account, now: cfg.Start}
	if cfg.FundingFromMarks {
		v.lastMark = map[string]trading.MarkPrice{}
	}
	mc := matching.Config{HistoryLimit: cfg.HistoryLimit}
	for _, s := range cfg.Specs {
		mc.Instruments = append(mc.Instruments, matching.InstrumentConfig{
			Spec: s, MakerFee: cfg.MakerFee, TakerFee: cfg.TakerFee,
			MaintenanceMarginRate: cfg.MaintenanceMarginRate, FundingInterval: fundingInterval,
		})
	}
	eng, err := matching.New(mc, v.onEvent)
	if err != nil {
		return nil, fmt.Errorf("local venue: %w", err)
	}
	v.eng = eng
	if err := eng.OpenAccount(v.acct, cfg.Balance, cfg.Start); err != nil {
		return nil, fmt.Errorf("local venue: %w", err)
	}
	for _, s := range cfg.Specs {
		if cfg.MarginMode != "" {
			mode := matching.Cross
			if cfg.MarginMode == "ISOLATION" {
				mode = matching.Isolation
			}
			if err := eng.SetMarginMode(v.acct, s.Symbol, mode, cfg.Start); err != nil {
				return nil, fmt.Errorf("local venue: margin mode %s on %s: %w", cfg.MarginMode, s.Symbol, err)
			}
		}
		if cfg.Leverage > 0 {
			if err := eng.SetLeverage(v.acct, s.Symbol, cfg.Leverage, cfg.Start); err != nil {
				return nil, fmt.Errorf("local venue: leverage %d on %s: %w", cfg.Leverage, s.Symbol, err)
			}
		}
	}
	return v, nil
}

// SetSinks sets where order reports and funding payments (positive
// received) go; typically engine.Core.OnOrderReport and OnFunding. Either
// may be nil.
func (v *Venue) SetSinks(reports func(ordermanager.Report), funding func(symbol string, amount fixed.Value)) {
	v.reports, v.funding = reports, funding
}

// Engine exposes the matching engine for inspection (backtest reports,
// tests). Do not place orders on it directly.
func (v *Venue) Engine() *matching.Engine { return v.eng }

// Account is the venue's account id.
func (v *Venue) Account() string { return v.acct }

// Now is the venue's current time: the latest market-data timestamp.
func (v *Venue) Now() time.Time { return v.now }

func (v *Venue) advance(t time.Time) {
	if t.After(v.now) {
		v.now = t
	}
}

// ApplyBook applies a book snapshot (fills crossing resting orders).
func (v *Venue) ApplyBook(b *trading.Book) error {
	v.advance(b.Time)
	return v.eng.ApplyBook(*b)
}

// ApplyTrade applies a public print (fills resting orders behind the queue).
func (v *Venue) ApplyTrade(t trading.Trade) error {
	v.advance(t.Time)
	return v.eng.ApplyTrade(t)
}

// ApplyMark applies a mark price (liquidations, TP/SL).
func (v *Venue) ApplyMark(m trading.MarkPrice) error {
	if v.lastMark != nil {
		if prev, ok := v.lastMark[m.Symbol]; ok {
			due := prev.NextFundingTime
			if due.IsZero() || !due.After(prev.Time) {
				due = matching.NextFunding(prev.Time, fundingInterval)
			}
			// Settled at the previous mark's price, the last before the
			// funding time, at the rate this mark reports as settled.
			if !m.Time.Before(due) {
				if err := v.ApplyFunding(m.Symbol, m.FundingRate, due); err != nil {
					return err
				}
			}
		}
		v.lastMark[m.Symbol] = m
	}
	v.advance(m.Time)
	return v.eng.ApplyMark(m)
}

// MarksQuiet reports whether marks of symbol within [lo, hi] could do
// nothing on the venue but move the mark (matching.Engine.MarksQuiet). A
// venue settling funding from marks says no: which mark comes last
// decides the price funding is settled at.
func (v *Venue) MarksQuiet(symbol string, lo, hi fixed.Value) bool {
	return v.lastMark == nil && v.eng.MarksQuiet(symbol, lo, hi)
}

// fundingInterval is Bitunix's usual one, used when marks carry no next
// funding time.
const fundingInterval = 8 * time.Hour

// ApplyFunding settles funding at rate on the account's positions in
// symbol and reports the payment to the funding sink.
func (v *Venue) ApplyFunding(symbol string, rate fixed.Value, ts time.Time) error {
	v.advance(ts)
	before := v.fundingOf(symbol)
	if err := v.eng.ApplyFunding(symbol, rate, ts); err != nil {
		return err
	}
	if d := v.fundingOf(symbol) - before; d != 0 && v.funding != nil {
		v.funding(symbol, d)
	}
	return nil
}

func (v *Venue) fundingOf(symbol string) fixed.Value {
	var sum fixed.Value
	for _, p := range v.eng.Positions(v.acct, symbol) {
		sum += p.Funding
	}
	return sum
}

func (v *Venue) onEvent(ev *matching.Event) {
	if ev.Kind != matching.EventOrder || ev.Account != v.acct || v.reports == nil {
		return
	}
	v.reports(reportOf(&ev.Order))
}

func reportOf(o *matching.Order) ordermanager.Report {
	return ordermanager.Report{
		ClientID: o.ClientID, OrderID: strconv.FormatUint(o.ID, 10), Symbol: o.Symbol,
		Side: o.Side, Type: o.Type, TimeInForce: o.TimeInForce, Price: o.Price, Qty: o.Qty,
		ReduceOnly: o.ReduceOnly, Status: o.Status, FilledQty: o.FilledQty, AvgPrice: o.AvgPrice,
		Fee: o.Fee, Time: o.Updated,
	}
}

// mapErr turns a matching refusal into the order manager's vocabulary.
func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, matching.ErrDuplicateClientID):
		return fmt.Errorf("%w: %v", ordermanager.ErrDuplicateClientID, err)
	case errors.Is(err, matching.ErrOrderNotFound):
		return fmt.Errorf("%w: %v", ordermanager.ErrNotFound, err)
	}
	return &ordermanager.Rejected{Code: matching.Code(err), Reason: err.Error()}
}

// Place places the order on the matching engine at the venue's time.
// Reports (including immediate fills) reach the sink before it returns.
func (v *Venue) Place(ctx context.Context, o ordermanager.Order) (ordermanager.Ack, error) {
	if err := ctx.Err(); err != nil {
		return ordermanager.Ack{}, err // not sent: the manager settles it by lookup
	}
	req := matching.OrderRequest{
		Account: v.acct, Symbol: o.Symbol, Side: o.Side, Type: o.Type, TimeInForce: o.TimeInForce,
		Price: o.Price, Qty: o.Qty, ClientID: o.ClientID, ReduceOnly: o.ReduceOnly,
	}
	if o.Type == trading.Market {
		req.Price = 0
	}
	got, err := v.eng.PlaceOrder(req, v.now)
	if err != nil {
		return ordermanager.Ack{}, mapErr(err)
	}
	return ordermanager.Ack{OrderID: strconv.FormatUint(got.ID, 10), ClientID: got.ClientID}, nil
}

// Cancel cancels one order; an already final order is not an error (its
// final report was delivered).
func (v *Venue) Cancel(_ context.Context, ref ordermanager.OrderRef) error {
	var id uint64
	if ref.OrderID != "" {
		n, err := strconv.ParseUint(ref.OrderID, 10, 64)
		if err != nil {
			return fmt.Errorf("cancel %s: order id %q: %w", ref.ClientID, ref.OrderID, ordermanager.ErrNotFound)
		}
		id = n
	}
	_, err := v.eng.CancelOrder(v.acct, ref.Symbol, id, ref.ClientID, v.now)
	if errors.Is(err, matching.ErrOrderNotFound) {
		if o, lerr := v.eng.Order(v.acct, id, ref.ClientID); lerr == nil && !o.Open() {
			return nil
		}
	}
	return mapErr(err)
}

// OrderByClientID returns an open or historical order.
func (v *Venue) OrderByClientID(_ context.Context, clientID string) (ordermanager.Report, error) {
	o, err := v.eng.Order(v.acct, 0, clientID)
	if err != nil {
		return ordermanager.Report{}, mapErr(err)
	}
	return reportOf(&o), nil
}

// OpenOrders lists open orders ("" = all symbols).
func (v *Venue) OpenOrders(_ context.Context, symbol string) ([]ordermanager.Report, error) {
	os := v.eng.OpenOrders(v.acct, symbol)
	out := make([]ordermanager.Report, len(os))
	for i := range os {
		out[i] = reportOf(&os[i])
	}
	return out, nil
}

// Positions lists open positions, signed (one-way mode).
func (v *Venue) Positions(_ context.Context) ([]ordermanager.PositionReport, error) {
	var out []ordermanager.PositionReport
	for _, p := range v.eng.Positions(v.acct, "") {
		q := p.Qty
		if p.Side == trading.Sell {
			q = -q
		}
		out = append(out, ordermanager.PositionReport{
			Symbol: p.Symbol, Qty: q, AvgEntry: p.EntryPrice, UnrealizedPnL: p.UnrealizedPnL,
			RealizedPnL: p.RealizedPnL, Fee: p.Fee, Funding: p.Funding,
		})
	}
	return out, nil
}

// Balance returns the account's USDT balance.
func (v *Venue) Balance(_ context.Context) (ordermanager.BalanceReport, error) {
	a, err := v.eng.Account(v.acct)
	if err != nil {
		return ordermanager.BalanceReport{}, mapErr(err)
	}
	return ordermanager.BalanceReport{Coin: "USDT", Available: a.Available, Frozen: a.Frozen, Margin: a.Margin,
		UnrealizedPnL: a.CrossUnrealizedPnL + a.IsolationUnrealizedPnL}, nil
}

// Equity is wallet plus unrealised PnL: the venue's own account value,
// for comparing with the engine's ledger.
func (v *Venue) Equity() fixed.Value {
	a, err := v.eng.Account(v.acct)
	if err != nil {
		return 0
	}
	return a.Equity
}
