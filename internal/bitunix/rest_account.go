package bitunix

import (
	"context"
	"fmt"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/valyala/fastjson"
)

const pathAccount = "/api/v1/futures/account"

// Account is the futures account in one margin coin (§4.2).
type Account struct {
	MarginCoin             string
	Available              fixed.Value
	Frozen                 fixed.Value
	Margin                 fixed.Value
	Transfer               fixed.Value
	Bonus                  fixed.Value
	CrossUnrealizedPNL     fixed.Value
	IsolationUnrealizedPNL fixed.Value
	PositionMode           string
}

// Account returns the account for marginCoin (e.g. USDT). DOC shows data as
// a list, live it is an object (§4.2): both are accepted.
func (c *Client) Account(ctx context.Context, marginCoin string) (Account, error) {
	var a Account
	err := c.get(ctx, pathAccount, params{}.set("marginCoin", marginCoin), true, func(v *fastjson.Value) error {
		x := objectOrFirst(v)
		if x == nil {
			return fmt.Errorf("%w: no account data", ErrFrame)
		}
		var fe fieldErr
		a.MarginCoin = strOf(x.Get("marginCoin"))
		a.PositionMode = upper(x.Get("positionMode"))
		fe.fixeds(x, ff(&a.Available, "available"), ff(&a.Frozen, "frozen"), ff(&a.Margin, "margin"), ff(&a.Transfer, "transfer"),
			ff(&a.Bonus, "bonus"), ff(&a.CrossUnrealizedPNL, "crossUnrealizedPNL"), ff(&a.IsolationUnrealizedPNL, "isolationUnrealizedPNL"))
		return fe.err
	})
	return a, err
}

// ChangeLeverage sets a symbol's leverage.
func (c *Client) ChangeLeverage(ctx context.Context, symbol, marginCoin string, leverage int) error {
	return c.post(ctx, pathAccount+"/change_leverage", map[string]any{"symbol": symbol, "marginCoin": marginCoin, "leverage": leverage}, nil)
}

// ChangeMarginMode sets ISOLATION or CROSS; fails with ErrModeChange while
// anything is open.
func (c *Client) ChangeMarginMode(ctx context.Context, symbol, marginCoin, mode string) error {
	return c.post(ctx, pathAccount+"/change_margin_mode", map[string]any{"symbol": symbol, "marginCoin": marginCoin, "marginMode": mode}, nil)
}

// ChangePositionMode sets ONE_WAY or HEDGE, account-wide.
func (c *Client) ChangePositionMode(ctx context.Context, mode string) error {
	return c.post(ctx, pathAccount+"/change_position_mode", map[string]any{"positionMode": mode}, nil)
}

// LeverageMarginMode is a symbol's leverage and margin mode.
type LeverageMarginMode struct {
	Symbol     string
	MarginCoin string
	Leverage   int
	MarginMode string
}

// LeverageMarginMode returns the symbol's leverage and margin mode.
func (c *Client) LeverageMarginMode(ctx context.Context, symbol, marginCoin string) (LeverageMarginMode, error) {
	var r LeverageMarginMode
	err := c.get(ctx, pathAccount+"/get_leverage_margin_mode", params{}.set("symbol", symbol).set("marginCoin", marginCoin), true, func(v *fastjson.Value) error {
		x := objectOrFirst(v)
		if x == nil {
			return fmt.Errorf("%w: no data", ErrFrame)
		}
		var fe fieldErr
		r.Symbol, r.MarginCoin, r.MarginMode = strOf(x.Get("symbol")), strOf(x.Get("marginCoin")), upper(x.Get("marginMode"))
		r.Leverage = fe.int(x, "leverage")
		return fe.err
	})
	return r, err
}

// PositionMode returns ONE_WAY or HEDGE. The path has no get_ prefix (§6.3).
func (c *Client) PositionMode(ctx context.Context) (string, error) {
	var mode string
	err := c.get(ctx, pathAccount+"/position_mode", params{}, true, func(v *fastjson.Value) error {
		if x := objectOrFirst(v); x != nil {
			mode = upper(x.Get("positionMode"))
		}
		if mode == "" {
			return fmt.Errorf("%w: no positionMode", ErrFrame)
		}
		return nil
	})
	return mode, err
}
