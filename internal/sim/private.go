package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/matching"
	"github.com/bitrader/bitrader/internal/trading"
)

// flexInt decodes 20 or "20".
type flexInt struct {
	v   int
	set bool
}

func (f *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.Trim(b, `"`)
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	n, err := strconv.Atoi(string(b))
	if err != nil {
		return err
	}
	f.v, f.set = n, true
	return nil
}

// flexBool decodes true or "true".
type flexBool bool

func (f *flexBool) UnmarshalJSON(b []byte) error {
	switch strings.ToLower(string(bytes.Trim(b, `"`))) {
	case "true", "1":
		*f = true
	default:
		*f = false
	}
	return nil
}

// flexID decodes an id sent as a string or a number.
type flexID string

func (f *flexID) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	*f = flexID(bytes.Trim(b, `"`))
	return nil
}

func (f flexID) uint() (uint64, bool) {
	if f == "" {
		return 0, true
	}
	n, err := strconv.ParseUint(string(f), 10, 64)
	return n, err == nil
}

func decodeBody(b []byte, v any) *apiError {
	if isJSONEmpty(b) {
		return errNetwork
	}
	if err := json.Unmarshal(b, v); err != nil {
		return errParam
	}
	return nil
}

// engineErr maps an engine refusal to its wire error.
func engineErr(err error) *apiError {
	if err == nil {
		return nil
	}
	code := matching.Code(err)
	if code == 20015 {
		return errSymbolNotFound
	}
	var me *matching.Error
	if errors.As(err, &me) {
		return errf(code, me.Error())
	}
	return errf(code, err.Error())
}

// --- account ---

func (s *Server) account(r *reqCtx) (any, *apiError) {
	mc := r.param("marginCoin")
	if mc == "" {
		return nil, errNetwork
	}
	if !strings.EqualFold(mc, "USDT") {
		return nil, errEnum(mc, []string{"USDT"})
	}
	var a matching.AccountSummary
	var err error
	s.withEngine(func(e *matching.Engine, _ time.Time) { a, err = e.Account(r.account) })
	if err != nil {
		return nil, engineErr(err)
	}
	// A single object, as observed live (TIQ), not the doc's list.
	return map[string]any{
		"marginCoin": "USDT", "available": a.Available, "frozen": a.Frozen, "margin": a.Margin,
		"transfer": a.Available, "positionMode": a.PositionMode.String(),
		"crossUnrealizedPNL": a.CrossUnrealizedPnL, "isolationUnrealizedPNL": a.IsolationUnrealizedPnL,
		"bonus": fixed.Zero,
	}, nil
}

type settingsBody struct {
	Symbol       string  `json:"symbol"`
	MarginCoin   string  `json:"marginCoin"`
	Leverage     flexInt `json:"leverage"`
	MarginMode   string  `json:"marginMode"`
	PositionMode string  `json:"positionMode"`
}

func (s *Server) changeLeverage(r *reqCtx) (any, *apiError) {
	var b settingsBody
	if e := decodeBody(r.body, &b); e != nil {
		return nil, e
	}
	st, e := s.symbolParam(b.Symbol)
	if e != nil {
		return nil, e
	}
	if !b.Leverage.set {
		return nil, errNetwork
	}
	var err error
	s.withEngine(func(en *matching.Engine, now time.Time) {
		err = en.SetLeverage(r.account, st.cfg.Spec.Symbol, b.Leverage.v, now)
	})
	if err != nil {
		return nil, engineErr(err)
	}
	return map[string]any{"symbol": st.cfg.Spec.Symbol, "marginCoin": "USDT", "leverage": b.Leverage.v}, nil
}

func parseMarginMode(v string) (matching.MarginMode, *apiError) {
	switch strings.ToUpper(v) {
	case "ISOLATION":
		return matching.Isolation, nil
	case "CROSS":
		return matching.Cross, nil
	case "":
		return 0, errNetwork
	}
	return 0, errEnum(v, []string{"ISOLATION", "CROSS"})
}

func (s *Server) changeMarginMode(r *reqCtx) (any, *apiError) {
	var b settingsBody
	if e := decodeBody(r.body, &b); e != nil {
		return nil, e
	}
	st, e := s.symbolParam(b.Symbol)
	if e != nil {
		return nil, e
	}
	mode, e := parseMarginMode(b.MarginMode)
	if e != nil {
		return nil, e
	}
	var err error
	s.withEngine(func(en *matching.Engine, now time.Time) {
		err = en.SetMarginMode(r.account, st.cfg.Spec.Symbol, mode, now)
	})
	if err != nil {
		return nil, engineErr(err)
	}
	return map[string]any{"symbol": st.cfg.Spec.Symbol, "marginCoin": "USDT", "marginMode": mode.String()}, nil
}

func (s *Server) changePositionMode(r *reqCtx) (any, *apiError) {
	var b settingsBody
	if e := decodeBody(r.body, &b); e != nil {
		return nil, e
	}
	var mode matching.PositionMode
	switch strings.ToUpper(b.PositionMode) {
	case "ONE_WAY":
		mode = matching.OneWay
	case "HEDGE":
		mode = matching.Hedge
	case "":
		return nil, errNetwork
	default:
		return nil, errEnum(b.PositionMode, []string{"ONE_WAY", "HEDGE"})
	}
	var err error
	s.withEngine(func(en *matching.Engine, now time.Time) { err = en.SetPositionMode(r.account, mode, now) })
	if err != nil {
		// Bitunix refuses a position-mode change with orders or positions
		// open with 20009 in either case.
		if matching.Code(err) == 20006 {
			return nil, errf(20009, "position or open orders exist, can't change position mode")
		}
		return nil, engineErr(err)
	}
	return map[string]any{"positionMode": mode.String()}, nil
}

func (s *Server) leverageMarginMode(r *reqCtx) (any, *apiError) {
	st, e := s.symbolParam(r.param("symbol"))
	if e != nil {
		return nil, e
	}
	var set matching.Settings
	var err error
	s.withEngine(func(en *matching.Engine, _ time.Time) { set, err = en.Settings(r.account, st.cfg.Spec.Symbol) })
	if err != nil {
		return nil, engineErr(err)
	}
	return map[string]any{"symbol": st.cfg.Spec.Symbol, "marginCoin": "USDT", "leverage": set.Leverage, "marginMode": set.MarginMode.String()}, nil
}

func (s *Server) positionMode(r *reqCtx) (any, *apiError) {
	var a matching.AccountSummary
	var err error
	s.withEngine(func(en *matching.Engine, _ time.Time) { a, err = en.Account(r.account) })
	if err != nil {
		return nil, engineErr(err)
	}
	return map[string]any{"positionMode": a.PositionMode.String()}, nil
}

func (s *Server) tradingSettings(r *reqCtx) (any, *apiError) {
	syms := s.symbolList(r.param("symbols"))
	out := []map[string]any{}
	var err error
	s.withEngine(func(en *matching.Engine, _ time.Time) {
		for _, st := range syms {
			set, e := en.Settings(r.account, st.cfg.Spec.Symbol)
			if e != nil {
				err = e
				return
			}
			out = append(out, map[string]any{"symbol": st.cfg.Spec.Symbol, "marginCoin": "USDT",
				"marginMode": set.MarginMode.String(), "leverage": set.Leverage,
				"longLeverage": set.Leverage, "shortLeverage": set.Leverage})
		}
	})
	if err != nil {
		return nil, engineErr(err)
	}
	return out, nil
}

func (s *Server) adjustPositionMargin(r *reqCtx) (any, *apiError) {
	// The matching engine has no margin transfer; refuse rather than
	// pretend it happened.
	return nil, errf(10002, "adjust_position_margin is not supported by the simulator")
}

// --- trade ---

type orderBody struct {
	Symbol       string      `json:"symbol"`
	Qty          fixed.Value `json:"qty"`
	Price        fixed.Value `json:"price"`
	Side         string      `json:"side"`
	TradeSide    string      `json:"tradeSide"`
	PositionID   flexID      `json:"positionId"`
	OrderType    string      `json:"orderType"`
	Effect       string      `json:"effect"`
	ClientID     string      `json:"clientId"`
	ReduceOnly   flexBool    `json:"reduceOnly"`
	OrderID      flexID      `json:"orderId"`
	TPPrice      fixed.Value `json:"tpPrice"`
	TPStopType   string      `json:"tpStopType"`
	TPOrderType  string      `json:"tpOrderType"`
	TPOrderPrice fixed.Value `json:"tpOrderPrice"`
	TPQty        fixed.Value `json:"tpQty"`
	SLPrice      fixed.Value `json:"slPrice"`
	SLStopType   string      `json:"slStopType"`
	SLOrderType  string      `json:"slOrderType"`
	SLOrderPrice fixed.Value `json:"slOrderPrice"`
	SLQty        fixed.Value `json:"slQty"`

	hasQty, hasPrice bool
}

func (b *orderBody) UnmarshalJSON(data []byte) error {
	type plain orderBody
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	if err := json.Unmarshal(data, (*plain)(b)); err != nil {
		return err
	}
	b.hasQty = present(raw["qty"])
	b.hasPrice = present(raw["price"])
	return nil
}

func present(v json.RawMessage) bool {
	s := string(v)
	return s != "" && s != "null" && s != `""`
}

func parseStopType(v string) (matching.StopType, *apiError) {
	switch strings.ToUpper(v) {
	case "", "MARK_PRICE", "MARK":
		return matching.MarkPrice, nil
	case "LAST_PRICE", "LAST":
		return matching.LastPrice, nil
	}
	return 0, errEnum(v, []string{"MARK_PRICE", "LAST_PRICE"})
}

func parseChildType(v string) (trading.OrderType, *apiError) {
	switch strings.ToUpper(v) {
	case "", "MARKET":
		return trading.Market, nil
	case "LIMIT":
		return trading.Limit, nil
	}
	return 0, errEnum(v, []string{"LIMIT", "MARKET"})
}

func trigger(price fixed.Value, stop, otype string, oprice, qty fixed.Value) (matching.Trigger, *apiError) {
	if price <= 0 {
		return matching.Trigger{}, nil
	}
	st, e := parseStopType(stop)
	if e != nil {
		return matching.Trigger{}, e
	}
	ot, e := parseChildType(otype)
	if e != nil {
		return matching.Trigger{}, e
	}
	return matching.Trigger{Price: price, StopType: st, OrderType: ot, OrderPrice: oprice, Qty: qty}, nil
}

func (b *orderBody) triggers() (tp, sl matching.Trigger, e *apiError) {
	if tp, e = trigger(b.TPPrice, b.TPStopType, b.TPOrderType, b.TPOrderPrice, b.TPQty); e != nil {
		return
	}
	sl, e = trigger(b.SLPrice, b.SLStopType, b.SLOrderType, b.SLOrderPrice, b.SLQty)
	return
}

// orderRequest validates a place_order body (symbol given separately for
// batch orders).
func (s *Server) orderRequest(account, symbol string, b *orderBody) (matching.OrderRequest, *apiError) {
	var req matching.OrderRequest
	st, e := s.symbolParam(symbol)
	if e != nil {
		return req, e
	}
	if b.Side == "" || b.OrderType == "" || !b.hasQty {
		return req, errNetwork
	}
	side, err := trading.ParseSide(b.Side)
	if err != nil || strings.EqualFold(b.Side, "LONG") || strings.EqualFold(b.Side, "SHORT") {
		return req, errEnum(b.Side, []string{"BUY", "SELL"})
	}
	typ, err := trading.ParseOrderType(b.OrderType)
	if err != nil {
		return req, errEnum(b.OrderType, []string{"LIMIT", "MARKET"})
	}
	if typ == trading.Limit && !b.hasPrice {
		return req, errNetwork
	}
	tif, err := trading.ParseTimeInForce(b.Effect)
	if err != nil {
		return req, errEnum(b.Effect, []string{"GTC", "IOC", "FOK", "POST_ONLY"})
	}
	ts := matching.Open
	switch strings.ToUpper(b.TradeSide) {
	case "", "OPEN":
	case "CLOSE":
		ts = matching.Close
	default:
		return req, errEnum(b.TradeSide, []string{"OPEN", "CLOSE"})
	}
	pid, ok := b.PositionID.uint()
	if !ok {
		return req, errf(30004, "position does not exist")
	}
	if len(b.ClientID) > 64 {
		return req, errEnum(b.ClientID, []string{"<= 64 characters"})
	}
	tp, sl, e := b.triggers()
	if e != nil {
		return req, e
	}
	price := b.Price
	if typ == trading.Market {
		price = 0
	}
	return matching.OrderRequest{
		Account: account, Symbol: st.cfg.Spec.Symbol, Side: side, Type: typ, TimeInForce: tif,
		Price: price, Qty: b.Qty, ClientID: b.ClientID, ReduceOnly: bool(b.ReduceOnly),
		TradeSide: ts, PositionID: pid, TP: tp, SL: sl,
	}, nil
}

// place runs one validated order through the engine; callers hold mu.
func (s *Server) place(e *matching.Engine, req matching.OrderRequest, now time.Time) (matching.Order, error) {
	o, err := e.PlaceOrder(req, now)
	if err == nil {
		s.placed[req.Account] = append(s.placed[req.Account], PlacedOrder{
			OrderID: id(o.ID), ClientID: o.ClientID, Symbol: o.Symbol, Side: o.Side.String(),
			Type: o.Type.String(), Qty: o.Qty.String(), Price: o.Price.String(), Time: now,
		})
	}
	return o, err
}

type idPair struct {
	OrderID  string `json:"orderId"`
	ClientID string `json:"clientId"`
}

func (s *Server) placeOrder(r *reqCtx) (any, *apiError) {
	var b orderBody
	if e := decodeBody(r.body, &b); e != nil {
		return nil, e
	}
	req, e := s.orderRequest(r.account, b.Symbol, &b)
	if e != nil {
		return nil, e
	}
	var o matching.Order
	var err error
	s.withEngine(func(en *matching.Engine, now time.Time) { o, err = s.place(en, req, now) })
	if err != nil {
		return nil, engineErr(err)
	}
	return idPair{id(o.ID), o.ClientID}, nil
}

type failure struct {
	OrderID   string `json:"orderId,omitempty"`
	ClientID  string `json:"clientId"`
	ErrorMsg  string `json:"errorMsg"`
	ErrorCode string `json:"errorCode"`
}

func failureOf(orderID, clientID string, e *apiError) failure {
	return failure{OrderID: orderID, ClientID: clientID, ErrorMsg: e.Msg, ErrorCode: strconv.Itoa(e.Code)}
}

func (s *Server) batchOrder(r *reqCtx) (any, *apiError) {
	var b struct {
		Symbol    string      `json:"symbol"`
		OrderList []orderBody `json:"orderList"`
	}
	if e := decodeBody(r.body, &b); e != nil {
		return nil, e
	}
	if _, e := s.symbolParam(b.Symbol); e != nil {
		return nil, e
	}
	if len(b.OrderList) > 5 {
		return nil, errf(20016, "batch orders exceed the maximum size")
	}
	success, failures := []idPair{}, []failure{}
	for i := range b.OrderList {
		ob := &b.OrderList[i]
		req, e := s.orderRequest(r.account, b.Symbol, ob)
		if e != nil {
			failures = append(failures, failureOf("", ob.ClientID, e))
			continue
		}
		var o matching.Order
		var err error
		s.withEngine(func(en *matching.Engine, now time.Time) { o, err = s.place(en, req, now) })
		if err != nil {
			failures = append(failures, failureOf("", ob.ClientID, engineErr(err)))
			continue
		}
		success = append(success, idPair{id(o.ID), o.ClientID})
	}
	return map[string]any{"successList": success, "failureList": failures}, nil
}

func (s *Server) modifyOrder(r *reqCtx) (any, *apiError) {
	var b orderBody
	if e := decodeBody(r.body, &b); e != nil {
		return nil, e
	}
	oid, ok := b.OrderID.uint()
	if !ok {
		return nil, errf(20007, "order not found")
	}
	if (oid == 0 && b.ClientID == "") || !b.hasQty || !b.hasPrice {
		return nil, errNetwork
	}
	tp, sl, e := b.triggers()
	if e != nil {
		return nil, e
	}
	var o matching.Order
	var err error
	s.withEngine(func(en *matching.Engine, now time.Time) {
		o, err = en.ModifyOrder(matching.ModifyRequest{Account: r.account, OrderID: oid, ClientID: b.ClientID,
			Qty: b.Qty, Price: b.Price, TP: tp, SL: sl}, now)
	})
	if err != nil {
		return nil, engineErr(err)
	}
	return idPair{id(o.ID), o.ClientID}, nil
}

func (s *Server) cancelOrders(r *reqCtx) (any, *apiError) {
	var b struct {
		Symbol    string `json:"symbol"`
		OrderList []struct {
			OrderID  flexID `json:"orderId"`
			ClientID string `json:"clientId"`
		} `json:"orderList"`
	}
	if e := decodeBody(r.body, &b); e != nil {
		return nil, e
	}
	st, e := s.symbolParam(b.Symbol)
	if e != nil {
		return nil, e
	}
	if len(b.OrderList) == 0 {
		return nil, errNetwork
	}
	success, failures := []idPair{}, []failure{}
	s.withEngine(func(en *matching.Engine, now time.Time) {
		for _, it := range b.OrderList {
			oid, ok := it.OrderID.uint()
			clientID := it.ClientID
			if oid != 0 {
				clientID = "" // orderId wins when both are given
			}
			if !ok || (oid == 0 && clientID == "") {
				failures = append(failures, failureOf(string(it.OrderID), it.ClientID, errf(20007, "order not found")))
				continue
			}
			o, err := en.CancelOrder(r.account, st.cfg.Spec.Symbol, oid, clientID, now)
			if err != nil {
				failures = append(failures, failureOf(string(it.OrderID), it.ClientID, engineErr(err)))
				continue
			}
			success = append(success, idPair{id(o.ID), o.ClientID})
		}
	})
	return map[string]any{"successList": success, "failureList": failures}, nil
}

func (s *Server) optionalSymbol(body []byte) (string, *apiError) {
	var b struct {
		Symbol string `json:"symbol"`
	}
	if !isJSONEmpty(body) {
		if json.Unmarshal(body, &b) != nil {
			return "", errParam
		}
	}
	if b.Symbol == "" {
		return "", nil
	}
	st, e := s.symbolParam(b.Symbol)
	if e != nil {
		return "", e
	}
	return st.cfg.Spec.Symbol, nil
}

func (s *Server) cancelAllOrders(r *reqCtx) (any, *apiError) {
	sym, e := s.optionalSymbol(r.body)
	if e != nil {
		return nil, e
	}
	var os []matching.Order
	var err error
	s.withEngine(func(en *matching.Engine, now time.Time) { os, err = en.CancelAll(r.account, sym, now) })
	if err != nil {
		return nil, engineErr(err)
	}
	success := make([]idPair, 0, len(os))
	for _, o := range os {
		success = append(success, idPair{id(o.ID), o.ClientID})
	}
	return map[string]any{"successList": success, "failureList": []failure{}}, nil
}

func (s *Server) closeAllPosition(r *reqCtx) (any, *apiError) {
	sym, e := s.optionalSymbol(r.body)
	if e != nil {
		return nil, e
	}
	var err error
	s.withEngine(func(en *matching.Engine, now time.Time) { _, err = en.CloseAll(r.account, sym, now) })
	if err != nil {
		return nil, engineErr(err)
	}
	return "", nil
}

func (s *Server) flashClosePosition(r *reqCtx) (any, *apiError) {
	var b struct {
		PositionID flexID `json:"positionId"`
	}
	if e := decodeBody(r.body, &b); e != nil {
		return nil, e
	}
	pid, ok := b.PositionID.uint()
	if b.PositionID == "" {
		return nil, errNetwork
	}
	if !ok {
		return nil, errf(30004, "position does not exist")
	}
	var err error
	s.withEngine(func(en *matching.Engine, now time.Time) { _, err = en.FlashClose(r.account, pid, now) })
	if err != nil {
		return nil, engineErr(err)
	}
	return map[string]string{"positionId": string(b.PositionID)}, nil
}

// orderJSON is the REST order object (detail, pending, history).
type orderJSON struct {
	OrderID      string      `json:"orderId"`
	Symbol       string      `json:"symbol"`
	Qty          fixed.Value `json:"qty"`
	TradeQty     fixed.Value `json:"tradeQty"`
	PositionMode string      `json:"positionMode"`
	MarginMode   string      `json:"marginMode"`
	Leverage     int         `json:"leverage"`
	Price        fixed.Value `json:"price"`
	Side         string      `json:"side"`
	OrderType    string      `json:"orderType"`
	Effect       string      `json:"effect"`
	ClientID     string      `json:"clientId"`
	ReduceOnly   bool        `json:"reduceOnly"`
	Status       string      `json:"status"`
	Fee          fixed.Value `json:"fee"`
	RealizedPNL  fixed.Value `json:"realizedPNL"`
	AvgPrice     fixed.Value `json:"avgPrice"`
	TPPrice      *string     `json:"tpPrice"`
	TPStopType   *string     `json:"tpStopType"`
	TPOrderType  *string     `json:"tpOrderType"`
	TPOrderPrice *string     `json:"tpOrderPrice"`
	SLPrice      *string     `json:"slPrice"`
	SLStopType   *string     `json:"slStopType"`
	SLOrderType  *string     `json:"slOrderType"`
	SLOrderPrice *string     `json:"slOrderPrice"`
	Ctime        int64       `json:"ctime"`
	Mtime        int64       `json:"mtime"`
}

func strp(s string) *string { return &s }

func orderOut(o matching.Order) orderJSON {
	j := orderJSON{
		OrderID: id(o.ID), Symbol: o.Symbol, Qty: o.Qty, TradeQty: o.FilledQty,
		PositionMode: o.PositionMode.String(), MarginMode: o.MarginMode.String(), Leverage: o.Leverage,
		Price: o.Price, Side: o.Side.String(), OrderType: o.Type.String(), Effect: o.TimeInForce.String(),
		ClientID: o.ClientID, ReduceOnly: o.ReduceOnly, Status: orderStatusWire(o), Fee: o.Fee,
		RealizedPNL: o.RealizedPnL, AvgPrice: o.AvgPrice, Ctime: o.Created.UnixMilli(), Mtime: o.Updated.UnixMilli(),
	}
	if o.TP.Set() {
		j.TPPrice, j.TPStopType = strp(o.TP.Price.String()), strp(o.TP.StopType.String())
		j.TPOrderType, j.TPOrderPrice = strp(orderTypeOrMarket(o.TP.OrderType)), strp(o.TP.OrderPrice.String())
	}
	if o.SL.Set() {
		j.SLPrice, j.SLStopType = strp(o.SL.Price.String()), strp(o.SL.StopType.String())
		j.SLOrderType, j.SLOrderPrice = strp(orderTypeOrMarket(o.SL.OrderType)), strp(o.SL.OrderPrice.String())
	}
	return j
}

func (s *Server) orderDetail(r *reqCtx) (any, *apiError) {
	oid, err := strconv.ParseUint(r.param("orderId"), 10, 64)
	cid := r.param("clientId")
	if r.param("orderId") == "" {
		oid, err = 0, nil
	}
	if err != nil {
		return nil, errf(20007, "order not found")
	}
	if oid == 0 && cid == "" {
		return nil, errNetwork
	}
	var o matching.Order
	s.withEngine(func(en *matching.Engine, _ time.Time) { o, err = en.Order(r.account, oid, cid) })
	if err != nil {
		return nil, engineErr(err)
	}
	return orderOut(o), nil
}

// orderFilter applies the common list filters of the order queries.
type orderFilter struct {
	symbol, clientID, status string
	orderID                  uint64
	from, to                 time.Time
	skip, limit              int
}

func (s *Server) parseOrderFilter(r *reqCtx, statuses []string) (orderFilter, *apiError) {
	f := orderFilter{clientID: r.param("clientId"), status: r.param("status")}
	if v := r.param("symbol"); v != "" {
		st, e := s.symbolParam(v)
		if e != nil {
			return f, e
		}
		f.symbol = st.cfg.Spec.Symbol
	}
	if v := r.param("orderId"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return f, errf(20007, "order not found")
		}
		f.orderID = n
	}
	if f.status != "" && statuses != nil {
		ok := false
		for _, s := range statuses {
			ok = ok || s == f.status
		}
		if !ok {
			return f, errEnum(f.status, statuses)
		}
	}
	var e *apiError
	if f.from, e = msParam(r.param("startTime"), time.Time{}); e != nil {
		return f, e
	}
	if f.to, e = msParam(r.param("endTime"), time.Time{}); e != nil {
		return f, e
	}
	f.skip, _ = strconv.Atoi(r.param("skip"))
	f.limit = limitParam(r.param("limit"), 10, 100)
	return f, nil
}

func (f orderFilter) keep(o matching.Order) bool {
	return (f.orderID == 0 || o.ID == f.orderID) && (f.clientID == "" || o.ClientID == f.clientID) &&
		(f.status == "" || orderStatusWire(o) == f.status) &&
		(f.from.IsZero() || !o.Created.Before(f.from)) && (f.to.IsZero() || !o.Created.After(f.to))
}

func page[T any](all []T, skip, limit int) []T {
	if skip < 0 || skip >= len(all) {
		return []T{}
	}
	all = all[skip:]
	return all[:min(limit, len(all))]
}

func (s *Server) listOrders(r *reqCtx, statuses []string, open bool) (any, *apiError) {
	f, e := s.parseOrderFilter(r, statuses)
	if e != nil {
		return nil, e
	}
	var os []matching.Order
	s.withEngine(func(en *matching.Engine, _ time.Time) {
		if open {
			os = en.OpenOrders(r.account, f.symbol)
		} else {
			os = en.HistoryOrders(r.account, f.symbol)
		}
	})
	all := []orderJSON{}
	for _, o := range os {
		if f.keep(o) {
			all = append(all, orderOut(o))
		}
	}
	return map[string]any{"orderList": page(all, f.skip, f.limit), "total": strconv.Itoa(len(all))}, nil
}

func (s *Server) pendingOrders(r *reqCtx) (any, *apiError) {
	return s.listOrders(r, []string{"NEW", "PART_FILLED"}, true)
}

func (s *Server) historyOrders(r *reqCtx) (any, *apiError) {
	return s.listOrders(r, []string{"FILLED", "CANCELED", "PART_FILLED_CANCELED", "EXPIRED"}, false)
}

func (s *Server) historyTrades(r *reqCtx) (any, *apiError) {
	f, e := s.parseOrderFilter(r, nil)
	if e != nil {
		return nil, e
	}
	var pid uint64
	if v := r.param("positionId"); v != "" {
		pid, _ = strconv.ParseUint(v, 10, 64)
	}
	type tradeJSON struct {
		TradeID      string      `json:"tradeId"`
		OrderID      string      `json:"orderId"`
		Symbol       string      `json:"symbol"`
		Qty          fixed.Value `json:"qty"`
		Price        fixed.Value `json:"price"`
		Side         string      `json:"side"`
		OrderType    string      `json:"orderType"`
		PositionMode string      `json:"positionMode"`
		MarginMode   string      `json:"marginMode"`
		Leverage     int         `json:"leverage"`
		Effect       string      `json:"effect"`
		ClientID     string      `json:"clientId"`
		ReduceOnly   bool        `json:"reduceOnly"`
		Fee          fixed.Value `json:"fee"`
		RealizedPNL  fixed.Value `json:"realizedPNL"`
		Ctime        int64       `json:"ctime"`
		RoleType     string      `json:"roleType"`
	}
	all := []tradeJSON{}
	s.withEngine(func(en *matching.Engine, _ time.Time) {
		for _, fl := range en.Fills(r.account, f.symbol) {
			if (f.orderID != 0 && fl.OrderID != f.orderID) || (pid != 0 && fl.PositionID != pid) ||
				(!f.from.IsZero() && fl.Time.Before(f.from)) || (!f.to.IsZero() && fl.Time.After(f.to)) {
				continue
			}
			role := "TAKER"
			if fl.Maker {
				role = "MAKER"
			}
			t := tradeJSON{TradeID: id(fl.TradeID), OrderID: id(fl.OrderID), Symbol: fl.Symbol, Qty: fl.Qty,
				Price: fl.Price, Side: fl.Side.String(), OrderType: fl.Type.String(), ClientID: fl.ClientID,
				ReduceOnly: fl.ReduceOnly, Fee: fl.Fee, RealizedPNL: fl.RealizedPnL, Ctime: fl.Time.UnixMilli(), RoleType: role}
			if o, err := en.Order(r.account, fl.OrderID, ""); err == nil {
				t.PositionMode, t.MarginMode, t.Leverage, t.Effect = o.PositionMode.String(), o.MarginMode.String(), o.Leverage, o.TimeInForce.String()
			}
			all = append(all, t)
		}
	})
	return map[string]any{"tradeList": page(all, f.skip, f.limit), "total": strconv.Itoa(len(all))}, nil
}

// --- position ---

// positionJSON is a pending position. side is BUY/SELL and ctime/mtime are
// strings, as observed live (TIQ), not the documented LONG/SHORT and ints.
type positionJSON struct {
	PositionID    string      `json:"positionId"`
	Symbol        string      `json:"symbol"`
	Qty           fixed.Value `json:"qty"`
	EntryValue    fixed.Value `json:"entryValue"`
	Side          string      `json:"side"`
	MarginMode    string      `json:"marginMode"`
	PositionMode  string      `json:"positionMode"`
	Leverage      int         `json:"leverage"`
	Fee           fixed.Value `json:"fee"`
	Funding       fixed.Value `json:"funding"`
	RealizedPNL   fixed.Value `json:"realizedPNL"`
	Margin        fixed.Value `json:"margin"`
	UnrealizedPNL fixed.Value `json:"unrealizedPNL"`
	LiqPrice      fixed.Value `json:"liqPrice"`
	MarginRate    fixed.Value `json:"marginRate"`
	AvgOpenPrice  fixed.Value `json:"avgOpenPrice"`
	Ctime         string      `json:"ctime"`
	Mtime         string      `json:"mtime"`
}

func positionOut(p matching.Position) positionJSON {
	var rate fixed.Value
	if eq := p.Margin + p.UnrealizedPnL; eq > 0 && p.Mark > 0 {
		rate = maintenanceMarginRate.Mul(p.Mark.Mul(p.Qty)).Div(eq).Round(4)
	}
	return positionJSON{
		PositionID: id(p.ID), Symbol: p.Symbol, Qty: p.Qty, EntryValue: p.EntryValue, Side: p.Side.String(),
		MarginMode: p.MarginMode.String(), PositionMode: p.PositionMode.String(), Leverage: p.Leverage,
		Fee: p.Fee, Funding: p.Funding, RealizedPNL: p.RealizedPnL, Margin: p.Margin,
		UnrealizedPNL: p.UnrealizedPnL, LiqPrice: p.LiqPrice, MarginRate: rate, AvgOpenPrice: p.EntryPrice,
		Ctime: strconv.FormatInt(p.Created.UnixMilli(), 10), Mtime: strconv.FormatInt(p.Updated.UnixMilli(), 10),
	}
}

func (s *Server) pendingPositions(r *reqCtx) (any, *apiError) {
	sym := ""
	if v := r.param("symbol"); v != "" {
		st, e := s.symbolParam(v)
		if e != nil {
			return nil, e
		}
		sym = st.cfg.Spec.Symbol
	}
	pid, _ := strconv.ParseUint(r.param("positionId"), 10, 64)
	out := []positionJSON{}
	s.withEngine(func(en *matching.Engine, _ time.Time) {
		for _, p := range en.Positions(r.account, sym) {
			if pid == 0 || p.ID == pid {
				out = append(out, positionOut(p))
			}
		}
	})
	return out, nil
}

func (s *Server) historyPositions(r *reqCtx) (any, *apiError) {
	f, e := s.parseOrderFilter(r, nil)
	if e != nil {
		return nil, e
	}
	pid, _ := strconv.ParseUint(r.param("positionId"), 10, 64)
	type histJSON struct {
		PositionID   string      `json:"positionId"`
		Symbol       string      `json:"symbol"`
		MaxQty       fixed.Value `json:"maxQty"`
		EntryPrice   fixed.Value `json:"entryPrice"`
		ClosePrice   fixed.Value `json:"closePrice"`
		LiqQty       fixed.Value `json:"liqQty"`
		Side         string      `json:"side"`
		MarginMode   string      `json:"marginMode"`
		PositionMode string      `json:"positionMode"`
		Leverage     int         `json:"leverage"`
		Fee          fixed.Value `json:"fee"`
		Funding      fixed.Value `json:"funding"`
		RealizedPNL  fixed.Value `json:"realizedPNL"`
		LiqPrice     fixed.Value `json:"liqPrice"`
		Ctime        string      `json:"ctime"`
		Mtime        string      `json:"mtime"`
	}
	all := []histJSON{}
	s.withEngine(func(en *matching.Engine, _ time.Time) {
		for _, p := range en.HistoryPositions(r.account, f.symbol) {
			if pid != 0 && p.ID != pid {
				continue
			}
			all = append(all, histJSON{id(p.ID), p.Symbol, p.MaxQty, p.EntryPrice, p.ClosePrice, p.LiqQty,
				p.Side.String(), p.MarginMode.String(), p.PositionMode.String(), p.Leverage, p.Fee, p.Funding,
				p.RealizedPnL, p.LiqPrice, strconv.FormatInt(p.Created.UnixMilli(), 10), strconv.FormatInt(p.Updated.UnixMilli(), 10)})
		}
	})
	return map[string]any{"positionList": page(all, f.skip, f.limit), "total": strconv.Itoa(len(all))}, nil
}

// --- tpsl ---

func (s *Server) tpslRequest(r *reqCtx, kind matching.TPSLKind, needSymbol bool) (matching.TPSLRequest, *apiError) {
	var b orderBody
	var req matching.TPSLRequest
	if e := decodeBody(r.body, &b); e != nil {
		return req, e
	}
	if needSymbol || b.Symbol != "" {
		st, e := s.symbolParam(b.Symbol)
		if e != nil {
			return req, e
		}
		req.Symbol = st.cfg.Spec.Symbol
	}
	pid, ok := b.PositionID.uint()
	if !ok {
		return req, errf(30004, "position does not exist")
	}
	oid, ok := b.OrderID.uint()
	if !ok {
		return req, errf(20007, "order not found")
	}
	tp, sl, e := b.triggers()
	if e != nil {
		return req, e
	}
	req.Account, req.PositionID, req.ID, req.Kind, req.TP, req.SL = r.account, pid, oid, kind, tp, sl
	return req, nil
}

// tpslTarget says which id a TP/SL action needs: place and position-modify act
// on a position, modify and cancel on an existing TP/SL order.
type tpslTarget int

const (
	tpslOnPosition tpslTarget = iota
	tpslOnOrder
)

// tpslRun decodes a TP/SL request, answers a missing target id as the real API
// does (a network error), and runs act on the engine; it returns the TP/SL id.
func (s *Server) tpslRun(r *reqCtx, kind matching.TPSLKind, needSymbol bool, target tpslTarget,
	act func(*matching.Engine, matching.TPSLRequest, time.Time) (matching.TPSL, error)) (string, *apiError) {
	req, e := s.tpslRequest(r, kind, needSymbol)
	if e != nil {
		return "", e
	}
	if (target == tpslOnPosition && req.PositionID == 0) || (target == tpslOnOrder && req.ID == 0) {
		return "", errNetwork
	}
	var t matching.TPSL
	var err error
	s.withEngine(func(en *matching.Engine, now time.Time) { t, err = act(en, req, now) })
	if err != nil {
		return "", engineErr(err)
	}
	return id(t.ID), nil
}

// orderIDReply is the {"orderId": ...} answer of the TP/SL endpoints.
func orderIDReply(orderID string, e *apiError) (any, *apiError) {
	if e != nil {
		return nil, e
	}
	return map[string]string{"orderId": orderID}, nil
}

func (s *Server) tpslPlace(r *reqCtx) (any, *apiError) {
	oid, e := s.tpslRun(r, matching.KindTPSL, true, tpslOnPosition, (*matching.Engine).PlaceTPSL)
	if e != nil {
		return nil, e
	}
	// A list, as TIQ and DEMO Java parse it.
	return []idPair{{OrderID: oid}}, nil
}

func (s *Server) tpslPositionPlace(r *reqCtx) (any, *apiError) {
	return orderIDReply(s.tpslRun(r, matching.KindPositionTPSL, true, tpslOnPosition, (*matching.Engine).PlaceTPSL))
}

func (s *Server) tpslModify(r *reqCtx) (any, *apiError) {
	return orderIDReply(s.tpslRun(r, matching.KindTPSL, false, tpslOnOrder, (*matching.Engine).ModifyTPSL))
}

func (s *Server) tpslPositionModify(r *reqCtx) (any, *apiError) {
	return orderIDReply(s.tpslRun(r, matching.KindPositionTPSL, true, tpslOnPosition, (*matching.Engine).ModifyTPSL))
}

func (s *Server) tpslCancel(r *reqCtx) (any, *apiError) {
	return orderIDReply(s.tpslRun(r, matching.KindTPSL, true, tpslOnOrder,
		func(en *matching.Engine, req matching.TPSLRequest, now time.Time) (matching.TPSL, error) {
			return en.CancelTPSL(req.Account, req.Symbol, req.ID, now)
		}))
}

type tpslJSON struct {
	ID           string  `json:"id"`
	PositionID   string  `json:"positionId"`
	Symbol       string  `json:"symbol"`
	Base         string  `json:"base"`
	Quote        string  `json:"quote"`
	TPPrice      *string `json:"tpPrice"`
	TPStopType   *string `json:"tpStopType"`
	SLPrice      *string `json:"slPrice"`
	SLStopType   *string `json:"slStopType"`
	TPOrderType  *string `json:"tpOrderType"`
	TPOrderPrice *string `json:"tpOrderPrice"`
	SLOrderType  *string `json:"slOrderType"`
	SLOrderPrice *string `json:"slOrderPrice"`
	TPQty        *string `json:"tpQty"`
	SLQty        *string `json:"slQty"`
	Status       string  `json:"status,omitempty"`
	Ctime        int64   `json:"ctime,omitempty"`
	TriggerTime  int64   `json:"triggerTime,omitempty"`
}

func (s *Server) tpslOut(t matching.TPSL, history bool) tpslJSON {
	j := tpslJSON{ID: id(t.ID), PositionID: id(t.PositionID), Symbol: t.Symbol}
	if st, ok := s.symbols[t.Symbol]; ok {
		j.Base, j.Quote = st.cfg.Spec.Base, st.cfg.Spec.Quote
	}
	if t.TP.Set() {
		j.TPPrice, j.TPStopType = strp(t.TP.Price.String()), strp(t.TP.StopType.String())
		j.TPOrderType, j.TPOrderPrice, j.TPQty = strp(orderTypeOrMarket(t.TP.OrderType)), strp(t.TP.OrderPrice.String()), strp(t.TP.Qty.String())
	}
	if t.SL.Set() {
		j.SLPrice, j.SLStopType = strp(t.SL.Price.String()), strp(t.SL.StopType.String())
		j.SLOrderType, j.SLOrderPrice, j.SLQty = strp(orderTypeOrMarket(t.SL.OrderType)), strp(t.SL.OrderPrice.String()), strp(t.SL.Qty.String())
	}
	if history {
		j.Status, j.Ctime = t.Status.String(), t.Created.UnixMilli()
		if !t.TriggerTime.IsZero() {
			j.TriggerTime = t.TriggerTime.UnixMilli()
		}
	}
	return j
}

func (s *Server) tpslPending(r *reqCtx) (any, *apiError) {
	sym := ""
	if v := r.param("symbol"); v != "" {
		st, e := s.symbolParam(v)
		if e != nil {
			return nil, e
		}
		sym = st.cfg.Spec.Symbol
	}
	pid, _ := strconv.ParseUint(r.param("positionId"), 10, 64)
	skip, _ := strconv.Atoi(r.param("skip"))
	out := []tpslJSON{}
	s.withEngine(func(en *matching.Engine, _ time.Time) {
		for _, t := range en.PendingTPSL(r.account, sym, pid) {
			out = append(out, s.tpslOut(t, false))
		}
	})
	return page(out, skip, limitParam(r.param("limit"), 100, 100)), nil
}

func (s *Server) tpslHistory(r *reqCtx) (any, *apiError) {
	f, e := s.parseOrderFilter(r, nil)
	if e != nil {
		return nil, e
	}
	all := []tpslJSON{}
	s.withEngine(func(en *matching.Engine, _ time.Time) {
		for _, t := range en.HistoryTPSL(r.account, f.symbol) {
			all = append(all, s.tpslOut(t, true))
		}
	})
	return map[string]any{"orderList": page(all, f.skip, f.limit), "total": strconv.Itoa(len(all))}, nil
}
