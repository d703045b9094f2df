package bitunix

import (
	"context"
	"fmt"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/valyala/fastjson"
)

const (
	pathPosition = "/api/v1/futures/position/"
	pathTPSL     = "/api/v1/futures/tpsl/"
)

// PendingPositions lists open positions, in one symbol or all. Side comes
// as BUY/SELL on the wire though documented LONG/SHORT (§4.4); both parse.
func (c *Client) PendingPositions(ctx context.Context, symbol string) ([]Position, error) {
	var out []Position
	err := c.get(ctx, pathPosition+"get_pending_positions", params{}.set("symbol", symbol), true, func(v *fastjson.Value) error {
		var err error
		out, err = decodeList(v, decodePosition)
		return err
	})
	return out, err
}

// HistoryPositions lists closed positions.
func (c *Client) HistoryPositions(ctx context.Context, q Query) ([]Position, int, error) {
	var out []Position
	total := 0
	err := c.get(ctx, pathPosition+"get_history_positions", q.params(), true, func(v *fastjson.Value) error {
		x := objectOrFirst(v)
		if x == nil {
			return nil
		}
		n, _ := intOf(x.Get("total"))
		total = int(n)
		var err error
		out, err = decodeList(x.Get("positionList"), decodePosition)
		return err
	})
	return out, total, err
}

// TPSLRequest places or modifies a TP/SL order. For the position variants
// only Symbol, PositionID and the trigger prices/stop types are sent.
type TPSLRequest struct {
	OrderID      string      `json:"orderId,omitempty"` // modify only
	Symbol       string      `json:"symbol,omitempty"`
	PositionID   string      `json:"positionId,omitempty"`
	TPPrice      fixed.Value `json:"tpPrice,omitempty"`
	TPStopType   string      `json:"tpStopType,omitempty"`
	TPOrderType  string      `json:"tpOrderType,omitempty"`
	TPOrderPrice fixed.Value `json:"tpOrderPrice,omitempty"`
	TPQty        fixed.Value `json:"tpQty,omitempty"`
	SLPrice      fixed.Value `json:"slPrice,omitempty"`
	SLStopType   string      `json:"slStopType,omitempty"`
	SLOrderType  string      `json:"slOrderType,omitempty"`
	SLOrderPrice fixed.Value `json:"slOrderPrice,omitempty"`
	SLQty        fixed.Value `json:"slQty,omitempty"`
}

func (r TPSLRequest) positionOnly() TPSLRequest {
	return TPSLRequest{Symbol: r.Symbol, PositionID: r.PositionID, TPPrice: r.TPPrice, TPStopType: r.TPStopType,
		SLPrice: r.SLPrice, SLStopType: r.SLStopType}
}

// tpslID reads {orderId} or [{orderId, clientId}] (DOC vs TIQ/DEMO, §4.5).
func (c *Client) tpslCall(ctx context.Context, path string, body any) (string, error) {
	var id string
	err := c.post(ctx, pathTPSL+path, body, func(v *fastjson.Value) error {
		if x := objectOrFirst(v); x != nil {
			id = strOf(first(x, "orderId", "id"))
		}
		return nil
	})
	return id, err
}

// PlaceTPSL places a TP/SL order on a position; returns its order id.
func (c *Client) PlaceTPSL(ctx context.Context, r TPSLRequest) (string, error) {
	r.OrderID = ""
	return c.tpslCall(ctx, "place_order", r)
}

// PlacePositionTPSL places the position-wide TP/SL (one per position,
// closes all at market).
func (c *Client) PlacePositionTPSL(ctx context.Context, r TPSLRequest) (string, error) {
	return c.tpslCall(ctx, "position/place_order", r.positionOnly())
}

// ModifyTPSL changes a TP/SL order (r.OrderID required).
func (c *Client) ModifyTPSL(ctx context.Context, r TPSLRequest) (string, error) {
	if r.OrderID == "" {
		return "", fmt.Errorf("%w: orderId required", ErrParameter)
	}
	return c.tpslCall(ctx, "modify_order", r)
}

// ModifyPositionTPSL changes the position-wide TP/SL.
func (c *Client) ModifyPositionTPSL(ctx context.Context, r TPSLRequest) (string, error) {
	return c.tpslCall(ctx, "position/modify_order", r.positionOnly())
}

// CancelTPSL cancels a TP/SL order.
func (c *Client) CancelTPSL(ctx context.Context, symbol, orderID string) error {
	_, err := c.tpslCall(ctx, "cancel_order", map[string]string{"symbol": symbol, "orderId": orderID})
	return err
}

// PendingTPSL lists open TP/SL orders.
func (c *Client) PendingTPSL(ctx context.Context, q Query) ([]TPSLOrder, error) {
	var out []TPSLOrder
	p := params{}.set("symbol", q.Symbol).set("positionId", q.PositionID).int("skip", q.Skip).int("limit", q.Limit)
	err := c.get(ctx, pathTPSL+"get_pending_orders", p, true, func(v *fastjson.Value) error {
		list := v
		if x := objectOrFirst(v); x != nil && x.Get("orderList") != nil {
			list = x.Get("orderList")
		}
		var err error
		out, err = decodeList(list, decodeTPSL)
		return err
	})
	return out, err
}
