package matching

import (
	"fmt"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/instrument"
	"github.com/bitrader/bitrader/internal/trading"
)

// PositionMode is the account-wide position mode.
type PositionMode int8

// Position modes. OneWay is the zero value, as on a fresh Bitunix account.
const (
	OneWay PositionMode = iota
	Hedge
)

func (m PositionMode) String() string {
	if m == Hedge {
		return "HEDGE"
	}
	return "ONE_WAY"
}

// MarginMode is the per-symbol margin mode.
type MarginMode int8

// Margin modes. Zero means "use the engine default" in configuration.
const (
	Isolation MarginMode = 1
	Cross     MarginMode = 2
)

func (m MarginMode) String() string {
	switch m {
	case Isolation:
		return "ISOLATION"
	case Cross:
		return "CROSS"
	}
	return fmt.Sprintf("MarginMode(%d)", int8(m))
}

// TradeSide is Bitunix's tradeSide: OPEN or CLOSE. It matters in hedge mode
// only; in one-way mode orders net against the single position.
type TradeSide int8

// Trade sides. Open is the zero value.
const (
	Open TradeSide = iota
	Close
)

func (t TradeSide) String() string {
	if t == Close {
		return "CLOSE"
	}
	return "OPEN"
}

// StopType says which price a TP/SL trigger watches.
type StopType int8

// Stop types. MarkPrice is the zero value ("market price" is Bitunix's
// documented default).
const (
	MarkPrice StopType = iota
	LastPrice
)

func (s StopType) String() string {
	if s == LastPrice {
		return "LAST_PRICE"
	}
	return "MARK_PRICE"
}

// TPSLKind distinguishes a position TP/SL (closes the whole position at
// market, at most one per position) from a partial TP/SL order.
type TPSLKind int8

// TP/SL kinds, named as Bitunix's tpsl push "type" field.
const (
	KindTPSL TPSLKind = iota
	KindPositionTPSL
)

func (k TPSLKind) String() string {
	if k == KindPositionTPSL {
		return "POSITION_TPSL"
	}
	return "TPSL"
}

// TPSLStatus is a TP/SL order's state (§5.5). Filled means the trigger fired
// and the child order was placed, not that the child filled.
type TPSLStatus int8

// TP/SL states.
const (
	TPSLNew TPSLStatus = iota
	TPSLCanceled
	TPSLFilled
)

func (s TPSLStatus) String() string {
	switch s {
	case TPSLCanceled:
		return "CANCELED"
	case TPSLFilled:
		return "FILLED"
	}
	return "NEW"
}

// Trigger is one side (take-profit or stop-loss) of a TP/SL. A zero Price
// means "not set".
type Trigger struct {
	Price      fixed.Value       // trigger price
	StopType   StopType          // which price is watched
	OrderType  trading.OrderType // child order type; zero means MARKET
	OrderPrice fixed.Value       // child limit price when OrderType is LIMIT
	Qty        fixed.Value       // TP/SL orders only; zero means the whole position
}

// Set reports whether the trigger is in use.
func (t Trigger) Set() bool { return t.Price > 0 }

// InstrumentConfig configures one tradable symbol.
type InstrumentConfig struct {
	Spec instrument.Spec
	// MakerFee and TakerFee are fractions of notional (0.0002 = 0.02%).
	MakerFee fixed.Value
	TakerFee fixed.Value
	// MaintenanceMarginRate is a fraction of notional at mark (e.g. 0.005).
	MaintenanceMarginRate fixed.Value
	// FundingInterval is how often funding is settled (Bitunix: 8h). The
	// engine does not act on it; see FundingDue.
	FundingInterval time.Duration
}

// Config configures an Engine.
type Config struct {
	Instruments []InstrumentConfig
	// DefaultMarginMode for symbols an account has not configured; zero
	// means Cross.
	DefaultMarginMode MarginMode
	// HistoryLimit caps the closed orders, fills and closed positions kept
	// per engine for queries (oldest dropped first); zero means 10000.
	// Client ids stay reserved while their order is open or in history.
	HistoryLimit int
}

// OrderRequest is a place_order call.
type OrderRequest struct {
	Account     string
	Symbol      string
	Side        trading.Side
	Type        trading.OrderType
	TimeInForce trading.TimeInForce // ignored for MARKET (always IOC)
	Price       fixed.Value         // LIMIT only
	Qty         fixed.Value         // base coin
	ClientID    string              // optional; unique per account
	ReduceOnly  bool
	TradeSide   TradeSide // hedge mode: OPEN or CLOSE
	PositionID  uint64    // hedge CLOSE: the position to close (optional)
	TP, SL      Trigger   // attached TP/SL, created when the order fills
}

// ModifyRequest is a modify_order call: new total qty and price. The order
// is found by OrderID, or by ClientID when OrderID is zero.
type ModifyRequest struct {
	Account  string
	OrderID  uint64
	ClientID string
	Qty      fixed.Value
	Price    fixed.Value
	// TP and SL replace the attached triggers when Set.
	TP, SL Trigger
}

// Order is a snapshot of an order.
type Order struct {
	ID           uint64
	ClientID     string
	Account      string
	Symbol       string
	Side         trading.Side
	Type         trading.OrderType
	TimeInForce  trading.TimeInForce
	Price        fixed.Value // zero for MARKET
	Qty          fixed.Value
	FilledQty    fixed.Value
	AvgPrice     fixed.Value // volume-weighted fill price, 0 before a fill
	Fee          fixed.Value // positive = paid
	RealizedPnL  fixed.Value
	ReduceOnly   bool
	TradeSide    TradeSide
	PositionID   uint64 // hedge CLOSE target, as requested
	Status       trading.OrderStatus
	Leverage     int
	MarginMode   MarginMode
	PositionMode PositionMode
	TP, SL       Trigger
	Created      time.Time
	Updated      time.Time
}

// Open reports whether the order can still fill.
func (o Order) Open() bool { return !o.Status.Final() }

// Fill is one execution on one account's order (a Bitunix history trade).
type Fill struct {
	TradeID     uint64
	OrderID     uint64
	ClientID    string
	Account     string
	Symbol      string
	PositionID  uint64
	Side        trading.Side
	Type        trading.OrderType
	Price       fixed.Value
	Qty         fixed.Value
	Fee         fixed.Value // positive = paid
	RealizedPnL fixed.Value // on the reducing part, before fees
	Maker       bool
	ReduceOnly  bool
	Liquidation bool
	Time        time.Time
}

// Trading converts the fill to the shared vocabulary.
func (f Fill) Trading() trading.Fill {
	return trading.Fill{
		Symbol: f.Symbol, OrderID: fmt.Sprint(f.OrderID), ClientID: f.ClientID,
		TradeID: fmt.Sprint(f.TradeID), Side: f.Side, Price: f.Price, Qty: f.Qty,
		Fee: f.Fee, Maker: f.Maker, Time: f.Time,
	}
}

// Position is a snapshot of a position.
type Position struct {
	ID            uint64
	Account       string
	Symbol        string
	Side          trading.Side // Buy = long, Sell = short
	Qty           fixed.Value
	MaxQty        fixed.Value // largest qty held (history)
	EntryPrice    fixed.Value // average open price
	EntryValue    fixed.Value // EntryPrice*Qty
	Leverage      int
	MarginMode    MarginMode
	PositionMode  PositionMode
	Margin        fixed.Value // initial margin held by the position
	Fee           fixed.Value // fees paid on this position's fills
	Funding       fixed.Value // net funding received (negative = paid)
	RealizedPnL   fixed.Value // price PnL of reducing fills, before fee/funding
	UnrealizedPnL fixed.Value // at the last mark
	LiqPrice      fixed.Value // 0 when there is none
	ClosePrice    fixed.Value // history: price of the closing fill
	LiqQty        fixed.Value // history: qty closed by liquidation
	Mark          fixed.Value // mark used for UnrealizedPnL
	Created       time.Time
	Updated       time.Time
}

// TPSL is a snapshot of a TP/SL order.
type TPSL struct {
	ID           uint64
	Account      string
	Symbol       string
	PositionID   uint64
	Side         trading.Side // the position's side
	Kind         TPSLKind
	PositionMode PositionMode
	Leverage     int
	TP, SL       Trigger
	Status       TPSLStatus
	ChildOrderID uint64 // order placed when it fired
	Created      time.Time
	Updated      time.Time
	TriggerTime  time.Time
}

// TPSLRequest places or modifies a TP/SL on a position. For a position
// TP/SL (Kind KindPositionTPSL) only Price and StopType of each trigger are
// used. ID is used by ModifyTPSL only.
type TPSLRequest struct {
	Account    string
	Symbol     string
	PositionID uint64
	Kind       TPSLKind
	ID         uint64
	TP, SL     Trigger
}

// AccountSummary is the USDT account: what Bitunix's account endpoint and
// balance push report.
type AccountSummary struct {
	Account string
	// Wallet is cash: deposits + realised PnL - fees + funding.
	Wallet fixed.Value
	// Available = Wallet - Margin - Frozen.
	Available       fixed.Value
	Frozen          fixed.Value // initial margin reserved by open orders
	IsolationFrozen fixed.Value
	CrossFrozen     fixed.Value
	Margin          fixed.Value // initial margin held by positions
	IsolationMargin fixed.Value
	CrossMargin     fixed.Value
	// Unrealised PnL at the last marks, split by margin mode.
	CrossUnrealizedPnL     fixed.Value
	IsolationUnrealizedPnL fixed.Value
	// Equity = Wallet + all unrealised PnL.
	Equity       fixed.Value
	PositionMode PositionMode
}

// Settings are an account's per-symbol leverage and margin mode.
type Settings struct {
	Symbol     string
	Leverage   int
	MarginMode MarginMode
}
