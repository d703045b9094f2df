package bitunix

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/trading"
	"github.com/valyala/fastjson"
)

const (
	pathTrade      = "/api/v1/futures/trade/"
	pathPlaceOrder = pathTrade + "place_order"
)

// OrderRequest is a place_order (or batch element) request (§4.3). Prices
// and quantities must already be rounded by instrument.Spec.
type OrderRequest struct {
	Symbol      string
	Side        trading.Side
	Type        trading.OrderType
	TimeInForce trading.TimeInForce // LIMIT only
	Qty         fixed.Value
	Price       fixed.Value // LIMIT only
	ClientID    string      // required by PlaceOrder; ≤ 64 characters
	ReduceOnly  bool
	// TradeSide OPEN/CLOSE and PositionID are for hedge mode; empty in one-way.
	TradeSide  string
	PositionID string
	// Optional attached take-profit / stop-loss.
	TPPrice, TPOrderPrice fixed.Value
	TPStopType            string // MARK_PRICE or LAST_PRICE
	TPOrderType           trading.OrderType
	SLPrice, SLOrderPrice fixed.Value
	SLStopType            string
	SLOrderType           trading.OrderType
}

type wireOrder struct {
	Symbol       string      `json:"symbol,omitempty"`
	Side         string      `json:"side"`
	TradeSide    string      `json:"tradeSide,omitempty"`
	PositionID   string      `json:"positionId,omitempty"`
	OrderType    string      `json:"orderType"`
	Qty          fixed.Value `json:"qty"`
	Price        fixed.Value `json:"price,omitempty"`
	Effect       string      `json:"effect,omitempty"`
	ClientID     string      `json:"clientId,omitempty"`
	ReduceOnly   bool        `json:"reduceOnly,omitempty"`
	TPPrice      fixed.Value `json:"tpPrice,omitempty"`
	TPStopType   string      `json:"tpStopType,omitempty"`
	TPOrderType  string      `json:"tpOrderType,omitempty"`
	TPOrderPrice fixed.Value `json:"tpOrderPrice,omitempty"`
	SLPrice      fixed.Value `json:"slPrice,omitempty"`
	SLStopType   string      `json:"slStopType,omitempty"`
	SLOrderType  string      `json:"slOrderType,omitempty"`
	SLOrderPrice fixed.Value `json:"slOrderPrice,omitempty"`
}

func enumOrEmpty(t trading.OrderType) string {
	if t == 0 {
		return ""
	}
	return t.String()
}

func (r OrderRequest) wire(withSymbol bool) (wireOrder, error) {
	if r.Side != trading.Buy && r.Side != trading.Sell {
		return wireOrder{}, fmt.Errorf("%w: side %v", ErrParameter, r.Side)
	}
	if r.Type != trading.Limit && r.Type != trading.Market {
		return wireOrder{}, fmt.Errorf("%w: order type %v", ErrParameter, r.Type)
	}
	w := wireOrder{Side: r.Side.String(), TradeSide: r.TradeSide, PositionID: r.PositionID, OrderType: r.Type.String(),
		Qty: r.Qty, ClientID: r.ClientID, ReduceOnly: r.ReduceOnly,
		TPPrice: r.TPPrice, TPStopType: r.TPStopType, TPOrderType: enumOrEmpty(r.TPOrderType), TPOrderPrice: r.TPOrderPrice,
		SLPrice: r.SLPrice, SLStopType: r.SLStopType, SLOrderType: enumOrEmpty(r.SLOrderType), SLOrderPrice: r.SLOrderPrice}
	if withSymbol {
		w.Symbol = r.Symbol
	}
	if r.Type == trading.Limit {
		w.Price, w.Effect = r.Price, r.TimeInForce.String()
	}
	return w, nil
}

// OrderAck identifies a placed order. Recovered is set when the order was
// found by client id after an ambiguous outcome or a 30042 reply rather
// than acknowledged directly; Order then holds what the exchange reported.
type OrderAck struct {
	OrderID   string
	ClientID  string
	Recovered bool
	Order     *Order
}

func decodeAck(v *fastjson.Value) (OrderAck, error) {
	x := objectOrFirst(v)
	if x == nil {
		return OrderAck{}, fmt.Errorf("%w: no order ack", ErrFrame)
	}
	return OrderAck{OrderID: strOf(first(x, "orderId", "id")), ClientID: strOf(x.Get("clientId"))}, nil
}

// PlaceOrder submits one order, and never duplicates it. The contract:
//
//   - ClientID is required (ErrMissingClientID otherwise): it is what makes
//     the outcome knowable.
//   - The request is sent once. It is re-sent only when the exchange
//     certainly did not act on it (a 10005/10006 reply, or a connection that
//     never opened).
//   - On an ambiguous outcome (timeout, reset, 5xx, undecodable reply, or
//     an exchange code that does not prove a refusal, such as 10001
//     "Network error": see PlaceOutcomeUnknown) the order is looked up by client id, up to Config.LookupAttempts times
//     with back-off. Found: it is returned with Recovered set. Not found:
//     the error wraps ErrAmbiguous; the caller must keep the intent open
//     and reconcile later (a late-appearing order is adopted then).
//   - 30042 (duplicate client id) means "already placed" (design
//     invariant 2): the existing order is looked up and returned with
//     Recovered set; if the lookup fails the error wraps both
//     ErrDuplicateClientID and the lookup failure.
func (c *Client) PlaceOrder(ctx context.Context, r OrderRequest) (OrderAck, error) {
	if r.ClientID == "" {
		return OrderAck{}, ErrMissingClientID
	}
	w, err := r.wire(true)
	if err != nil {
		return OrderAck{}, err
	}
	// Serialise once; these bytes are signed and sent (§2.2). Encoded on
	// the stack: once copies them into the request it builds.
	var enc [wireOrderSize]byte
	payload := w.appendJSON(enc[:0])
	var ack OrderAck
	err = c.send(ctx, http.MethodPost, pathPlaceOrder, nil, payload, true, func(v *fastjson.Value) error {
		var derr error
		ack, derr = decodeAck(v)
		return derr
	})
	switch {
	case err == nil:
		if ack.ClientID == "" {
			ack.ClientID = r.ClientID
		}
		return ack, nil
	case errors.Is(err, ErrDuplicateClientID):
		o, lerr := c.OrderDetail(ctx, OrderRef{ClientID: r.ClientID})
		if lerr != nil {
			return OrderAck{}, fmt.Errorf("place_order %s: %w; lookup failed: %w", r.ClientID, err, lerr)
		}
		return OrderAck{OrderID: o.OrderID, ClientID: r.ClientID, Recovered: true, Order: &o}, nil
	case IsAmbiguous(err) || PlaceOutcomeUnknown(err):
		return c.resolveAmbiguous(ctx, r.ClientID, err)
	}
	return OrderAck{}, err
}

func (c *Client) resolveAmbiguous(ctx context.Context, clientID string, cause error) (OrderAck, error) {
	var lastErr error
	for attempt := 0; attempt < c.cfg.LookupAttempts; attempt++ {
		if attempt > 0 {
			if err := c.cfg.Sleep(ctx, c.cfg.Backoff(attempt-1)); err != nil {
				lastErr = err
				break
			}
		}
		o, err := c.OrderDetail(ctx, OrderRef{ClientID: clientID})
		if err == nil {
			c.cfg.Logger.InfoContext(ctx, "bitunix place_order resolved by client id", "clientId", clientID, "orderId", o.OrderID)
			return OrderAck{OrderID: o.OrderID, ClientID: clientID, Recovered: true, Order: &o}, nil
		}
		lastErr = err
		if !errors.Is(err, ErrNotFound) && !IsAmbiguous(err) && !errors.Is(err, ErrRateLimited) {
			break
		}
	}
	return OrderAck{}, fmt.Errorf("place_order %s: %w (cause: %v; last lookup: %v)", clientID, ErrAmbiguous, cause, lastErr)
}

// BatchItem is one success or failure in a batch, cancel or cancel-all reply.
type BatchItem struct {
	OrderID  string `json:"orderId"`
	ClientID string `json:"clientId"`
	Code     int    `json:"code,omitempty"` // 0 on success
	Msg      string `json:"msg,omitempty"`
}

// BatchResult splits a batch reply.
type BatchResult struct {
	Success []BatchItem
	Failure []BatchItem
}

func decodeBatch(v *fastjson.Value) (BatchResult, error) {
	var r BatchResult
	x := objectOrFirst(v)
	if x == nil {
		return r, nil // cancel_all may answer "" or null
	}
	for _, it := range listOf(x.Get("successList")) {
		r.Success = append(r.Success, BatchItem{OrderID: strOf(first(it, "orderId", "id")), ClientID: strOf(it.Get("clientId"))})
	}
	for _, it := range listOf(x.Get("failureList")) {
		code, _ := intOf(it.Get("errorCode")) // documented string, shown as number (§6.1)
		r.Failure = append(r.Failure, BatchItem{OrderID: strOf(it.Get("orderId")), ClientID: strOf(it.Get("clientId")),
			Code: int(code), Msg: strOf(it.Get("errorMsg"))})
	}
	return r, nil
}

// BatchOrder places up to 5 orders in one symbol. It is not retried on
// ambiguity; look the client ids up instead.
func (c *Client) BatchOrder(ctx context.Context, symbol string, orders []OrderRequest) (BatchResult, error) {
	list := make([]wireOrder, 0, len(orders))
	for _, o := range orders {
		w, err := o.wire(false)
		if err != nil {
			return BatchResult{}, err
		}
		list = append(list, w)
	}
	var r BatchResult
	err := c.post(ctx, pathTrade+"batch_order", map[string]any{"symbol": symbol, "orderList": list}, func(v *fastjson.Value) (err error) {
		r, err = decodeBatch(v)
		return err
	})
	return r, err
}

// ModifyRequest changes an order's qty and price (both required).
type ModifyRequest struct {
	OrderRef
	Qty   fixed.Value `json:"qty"`
	Price fixed.Value `json:"price"`
}

// ModifyOrder amends an open order.
func (c *Client) ModifyOrder(ctx context.Context, r ModifyRequest) (OrderAck, error) {
	var ack OrderAck
	err := c.post(ctx, pathTrade+"modify_order", r, func(v *fastjson.Value) (err error) {
		ack, err = decodeAck(v)
		return err
	})
	return ack, err
}

// OrderRef names an order by exchange id or client id (orderId wins if
// both are set).
type OrderRef struct {
	OrderID  string `json:"orderId,omitempty"`
	ClientID string `json:"clientId,omitempty"`
}

// CancelOrders cancels orders in one symbol.
func (c *Client) CancelOrders(ctx context.Context, symbol string, refs []OrderRef) (BatchResult, error) {
	var r BatchResult
	err := c.post(ctx, pathTrade+"cancel_orders", map[string]any{"symbol": symbol, "orderList": refs}, func(v *fastjson.Value) (err error) {
		r, err = decodeBatch(v)
		return err
	})
	return r, err
}

// CancelAllOrders cancels every open order, in one symbol or all when
// symbol is empty.
func (c *Client) CancelAllOrders(ctx context.Context, symbol string) (BatchResult, error) {
	body := map[string]any{}
	if symbol != "" {
		body["symbol"] = symbol
	}
	var r BatchResult
	err := c.post(ctx, pathTrade+"cancel_all_orders", body, func(v *fastjson.Value) (err error) {
		r, err = decodeBatch(v)
		return err
	})
	return r, err
}

// CloseAllPositions market-closes every position, in one symbol or all.
func (c *Client) CloseAllPositions(ctx context.Context, symbol string) error {
	body := map[string]any{}
	if symbol != "" {
		body["symbol"] = symbol
	}
	return c.post(ctx, pathTrade+"close_all_position", body, nil)
}

// FlashClosePosition market-closes one position.
func (c *Client) FlashClosePosition(ctx context.Context, positionID string) error {
	return c.post(ctx, pathTrade+"flash_close_position", map[string]any{"positionId": positionID}, nil)
}

// OrderDetail fetches one order by id or client id. A missing order is
// ErrNotFound.
func (c *Client) OrderDetail(ctx context.Context, ref OrderRef) (Order, error) {
	if ref.OrderID == "" && ref.ClientID == "" {
		return Order{}, fmt.Errorf("%w: orderId or clientId required", ErrParameter)
	}
	var o Order
	err := c.get(ctx, pathTrade+"get_order_detail", params{}.set("orderId", ref.OrderID).set("clientId", ref.ClientID), true, func(v *fastjson.Value) error {
		x := objectOrFirst(v)
		if x == nil {
			return errNoData
		}
		var err error
		o, err = decodeOrder(x)
		return err
	})
	if errors.Is(err, errNoData) {
		return Order{}, &APIError{Code: 20007, Msg: "empty order detail", Endpoint: "trade/get_order_detail"}
	}
	return o, err
}

var errNoData = errors.New("no data")

// Query filters list endpoints; zero fields are not sent.
type Query struct {
	Symbol     string
	OrderID    string
	ClientID   string
	PositionID string
	Status     string
	Type       string
	Start, End time.Time
	Skip       int
	Limit      int // ≤ 100
}

func (q Query) params() params {
	return params{}.set("symbol", q.Symbol).set("orderId", q.OrderID).set("clientId", q.ClientID).
		set("positionId", q.PositionID).set("status", q.Status).set("type", q.Type).
		time("startTime", q.Start).time("endTime", q.End).int("skip", q.Skip).int("limit", q.Limit)
}

func (c *Client) orderList(ctx context.Context, path string, q params) ([]Order, int, error) {
	var out []Order
	total := 0
	err := c.get(ctx, path, q, true, func(v *fastjson.Value) error {
		list := v
		if x := objectOrFirst(v); x != nil && x.Get("orderList") != nil {
			list = x.Get("orderList")
			n, _ := intOf(x.Get("total"))
			total = int(n)
		}
		var err error
		out, err = decodeList(list, decodeOrder)
		return err
	})
	return out, total, err
}

// PendingOrders lists open orders (status NEW or PART_FILLED).
func (c *Client) PendingOrders(ctx context.Context, q Query) ([]Order, int, error) {
	return c.orderList(ctx, pathTrade+"get_pending_orders", q.params())
}

// HistoryOrders lists finished orders (90 days; 3 for canceled-only).
func (c *Client) HistoryOrders(ctx context.Context, q Query) ([]Order, int, error) {
	return c.orderList(ctx, pathTrade+"get_history_orders", q.params())
}

// HistoryTrades lists the account's fills.
func (c *Client) HistoryTrades(ctx context.Context, q Query) ([]trading.Fill, int, error) {
	var out []trading.Fill
	total := 0
	err := c.get(ctx, pathTrade+"get_history_trades", q.params(), true, func(v *fastjson.Value) error {
		x := objectOrFirst(v)
		if x == nil {
			return nil
		}
		n, _ := intOf(x.Get("total"))
		total = int(n)
		for _, it := range listOf(x.Get("tradeList")) {
			var f trading.Fill
			var fe fieldErr
			f.Symbol, f.OrderID, f.ClientID, f.TradeID = strOf(it.Get("symbol")), strOf(it.Get("orderId")), strOf(it.Get("clientId")), strOf(it.Get("tradeId"))
			f.Side, _ = trading.ParseSide(strOf(it.Get("side")))
			fe.fixeds(it, ff(&f.Price, "price"), ff(&f.Qty, "qty"), ff(&f.Fee, "fee"))
			f.Maker = upper(it.Get("roleType")) == "MAKER"
			f.Time = fe.time(it, "ctime")
			if fe.err != nil {
				return fe.err
			}
			out = append(out, f)
		}
		return nil
	})
	return out, total, err
}
