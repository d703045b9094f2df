package bitunix

import (
	"fmt"
	"strings"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/trading"
	"github.com/valyala/fastjson"
)

// Balance is a private `balance` push (§5.5).
type Balance struct {
	Coin            string
	Available       fixed.Value
	Frozen          fixed.Value
	IsolationFrozen fixed.Value
	CrossFrozen     fixed.Value
	Margin          fixed.Value
	IsolationMargin fixed.Value
	CrossMargin     fixed.Value
	ExpMoney        fixed.Value
}

// Position is an open or historical position, from REST (§4.4) or the
// private `position` push (§5.5). Fields a source does not carry are zero.
type Position struct {
	Event         string // WS only: OPEN, UPDATE, CLOSE
	PositionID    string
	Symbol        string
	Side          trading.Side // wire sends LONG/SHORT or BUY/SELL (§4.4)
	Qty           fixed.Value
	EntryValue    fixed.Value
	AvgOpenPrice  fixed.Value
	MarginMode    string
	PositionMode  string
	Leverage      int
	Margin        fixed.Value
	MarginRate    fixed.Value
	Fee           fixed.Value
	Funding       fixed.Value
	RealizedPNL   fixed.Value
	UnrealizedPNL fixed.Value
	LiqPrice      fixed.Value
	MaxQty        fixed.Value // history only
	EntryPrice    fixed.Value // history only
	ClosePrice    fixed.Value // history only
	Created       time.Time
	Updated       time.Time
}

// Order is an order from REST (detail, pending, history) or the private
// `order` push. The two spell several fields differently (type/orderType,
// status/orderStatus, reduceOnly/reductionOnly, marginMode/positionType);
// both are read.
type Order struct {
	Event         string // WS only: CREATE, UPDATE, CLOSE
	OrderID       string
	ClientID      string
	Symbol        string
	Side          trading.Side
	Type          trading.OrderType
	TimeInForce   trading.TimeInForce
	EffectRaw     string // as sent; Bitunix sometimes puts LONG/SHORT here (§5.5)
	Status        trading.OrderStatus
	StatusRaw     string
	Price         fixed.Value
	PriceIsMarket bool // history sends price "market" (§4.3): Price is then zero
	Qty           fixed.Value
	FilledQty     fixed.Value // tradeQty
	AvgPrice      fixed.Value
	DealAmount    fixed.Value // WS, undocumented
	Fee           fixed.Value
	RealizedPNL   fixed.Value
	ReduceOnly    bool
	Leverage      int
	MarginMode    string
	PositionMode  string
	TPPrice       fixed.Value
	SLPrice       fixed.Value
	Created       time.Time
	Updated       time.Time
}

// TPSLOrder is a take-profit/stop-loss order (§4.5, §5.5).
type TPSLOrder struct {
	Event        string
	OrderID      string // `orderId`, or `id` on get_pending_orders
	PositionID   string
	Symbol       string
	Side         trading.Side
	Type         string // TPSL or POSITION_TPSL
	Status       string // NEW, CANCELED, SYSTEM_CANCELED, FILLED (= triggered), FAILED
	Leverage     int
	PositionMode string
	TPPrice      fixed.Value
	TPStopType   string // normalised to MARK_PRICE / LAST_PRICE
	TPOrderType  trading.OrderType
	TPOrderPrice fixed.Value
	TPQty        fixed.Value
	SLPrice      fixed.Value
	SLStopType   string
	SLOrderType  trading.OrderType
	SLOrderPrice fixed.Value
	SLQty        fixed.Value
	Created      time.Time
	TriggerTime  time.Time
}

type fixedField struct {
	keys []string
	dst  *fixed.Value
}

func (fe *fieldErr) fixeds(v *fastjson.Value, fs ...fixedField) {
	for _, f := range fs {
		x := first(v, f.keys...)
		val, err := fixedOf(x)
		fe.set(f.keys[0], err)
		*f.dst = val
	}
}

func (fe *fieldErr) time(v *fastjson.Value, key string) time.Time {
	t, err := timeOf(v.Get(key))
	fe.set(key, err)
	return t
}

func (fe *fieldErr) int(v *fastjson.Value, key string) int {
	n, err := intOf(v.Get(key))
	fe.set(key, err)
	return int(n)
}

func ff(dst *fixed.Value, keys ...string) fixedField { return fixedField{keys, dst} }

func upper(v *fastjson.Value) string { return strings.ToUpper(strOf(v)) }

func decodeBalance(v *fastjson.Value) (Balance, error) {
	var b Balance
	if v == nil {
		return b, fmt.Errorf("%w: balance data missing", ErrFrame)
	}
	var fe fieldErr
	b.Coin = strOf(first(v, "coin", "marginCoin"))
	fe.fixeds(v, ff(&b.Available, "available"), ff(&b.Frozen, "frozen"), ff(&b.IsolationFrozen, "isolationFrozen"),
		ff(&b.CrossFrozen, "crossFrozen"), ff(&b.Margin, "margin"), ff(&b.IsolationMargin, "isolationMargin"),
		ff(&b.CrossMargin, "crossMargin"), ff(&b.ExpMoney, "expMoney"))
	return b, fe.err
}

func decodePosition(v *fastjson.Value) (Position, error) {
	var p Position
	if v == nil {
		return p, fmt.Errorf("%w: position data missing", ErrFrame)
	}
	var fe fieldErr
	p.Event = upper(v.Get("event"))
	p.PositionID = strOf(v.Get("positionId"))
	p.Symbol = strOf(v.Get("symbol"))
	p.Side, _ = trading.ParseSide(strOf(v.Get("side")))
	p.MarginMode = upper(first(v, "marginMode", "positionType"))
	p.PositionMode = upper(v.Get("positionMode"))
	p.Leverage = fe.int(v, "leverage")
	fe.fixeds(v, ff(&p.Qty, "qty"), ff(&p.EntryValue, "entryValue"), ff(&p.AvgOpenPrice, "avgOpenPrice"),
		ff(&p.Margin, "margin"), ff(&p.MarginRate, "marginRate"), ff(&p.Fee, "fee"), ff(&p.Funding, "funding"),
		ff(&p.RealizedPNL, "realizedPNL"), ff(&p.UnrealizedPNL, "unrealizedPNL"), ff(&p.LiqPrice, "liqPrice"),
		ff(&p.MaxQty, "maxQty"), ff(&p.EntryPrice, "entryPrice"), ff(&p.ClosePrice, "closePrice"))
	p.Created = fe.time(v, "ctime")
	p.Updated = fe.time(v, "mtime")
	return p, fe.err
}

func decodeOrder(v *fastjson.Value) (Order, error) {
	var o Order
	if v == nil {
		return o, fmt.Errorf("%w: order data missing", ErrFrame)
	}
	var fe fieldErr
	o.Event = upper(v.Get("event"))
	o.OrderID = strOf(first(v, "orderId", "id"))
	o.ClientID = strOf(v.Get("clientId"))
	o.Symbol = strOf(v.Get("symbol"))
	o.Side, _ = trading.ParseSide(strOf(v.Get("side")))
	o.Type, _ = trading.ParseOrderType(strOf(first(v, "orderType", "type")))
	o.EffectRaw = strOf(v.Get("effect"))
	o.TimeInForce, _ = trading.ParseTimeInForce(o.EffectRaw) // LONG/SHORT → GTC, raw kept
	o.StatusRaw = strOf(first(v, "status", "orderStatus"))
	o.Status, _ = trading.ParseOrderStatus(o.StatusRaw)
	if px := v.Get("price"); px != nil && px.Type() == fastjson.TypeString && strings.EqualFold(strOf(px), "market") {
		o.PriceIsMarket = true
	} else {
		var err error
		o.Price, err = fixedOf(px)
		fe.set("price", err)
	}
	fe.fixeds(v, ff(&o.Qty, "qty"), ff(&o.FilledQty, "tradeQty"), ff(&o.AvgPrice, "avgPrice", "averagePrice"),
		ff(&o.DealAmount, "dealAmount"), ff(&o.Fee, "fee"), ff(&o.RealizedPNL, "realizedPNL"),
		ff(&o.TPPrice, "tpPrice"), ff(&o.SLPrice, "slPrice"))
	o.ReduceOnly = boolOf(first(v, "reduceOnly", "reductionOnly"))
	o.Leverage = fe.int(v, "leverage")
	o.MarginMode = upper(first(v, "marginMode", "positionType"))
	o.PositionMode = upper(v.Get("positionMode"))
	o.Created = fe.time(v, "ctime")
	o.Updated = fe.time(v, "mtime")
	return o, fe.err
}

// stopType normalises Last/Mark/LAST/MARK_PRICE (§4.3, §5.5) to the
// documented MARK_PRICE / LAST_PRICE.
func stopType(v *fastjson.Value) string {
	s := upper(v)
	switch s {
	case "MARK", "MARK_PRICE":
		return "MARK_PRICE"
	case "LAST", "LAST_PRICE":
		return "LAST_PRICE"
	}
	return s
}

func decodeTPSL(v *fastjson.Value) (TPSLOrder, error) {
	var t TPSLOrder
	if v == nil {
		return t, fmt.Errorf("%w: tpsl data missing", ErrFrame)
	}
	var fe fieldErr
	t.Event = upper(v.Get("event"))
	t.OrderID = strOf(first(v, "orderId", "id"))
	t.PositionID = strOf(v.Get("positionId"))
	t.Symbol = strOf(v.Get("symbol"))
	t.Side, _ = trading.ParseSide(strOf(v.Get("side")))
	t.Type = upper(v.Get("type"))
	t.Status = upper(v.Get("status"))
	t.Leverage = fe.int(v, "leverage")
	t.PositionMode = upper(v.Get("positionMode"))
	t.TPStopType = stopType(v.Get("tpStopType"))
	t.SLStopType = stopType(v.Get("slStopType"))
	t.TPOrderType, _ = trading.ParseOrderType(strOf(v.Get("tpOrderType")))
	t.SLOrderType, _ = trading.ParseOrderType(strOf(v.Get("slOrderType")))
	fe.fixeds(v, ff(&t.TPPrice, "tpPrice"), ff(&t.TPOrderPrice, "tpOrderPrice"), ff(&t.TPQty, "tpQty"),
		ff(&t.SLPrice, "slPrice"), ff(&t.SLOrderPrice, "slOrderPrice"), ff(&t.SLQty, "slQty"))
	t.Created = fe.time(v, "ctime")
	t.TriggerTime = fe.time(v, "triggerTime")
	return t, fe.err
}
