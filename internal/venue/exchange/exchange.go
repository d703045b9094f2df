// Package exchange is the venue over the Bitunix REST API (the real
// exchange or the simulator): it maps the client's typed errors onto the
// order manager's vocabulary and translates private WebSocket pushes into
// order reports.
package exchange

import (
	"context"
	"errors"
	"fmt"

	"github.com/bitrader/bitrader/internal/bitunix"
	"github.com/bitrader/bitrader/internal/ordermanager"
	"github.com/bitrader/bitrader/internal/trading"
)

// Client is what the venue needs from *bitunix.Client.
type Client interface {
	PlaceOrder(ctx context.Context, r bitunix.OrderRequest) (bitunix.OrderAck, error)
	CancelOrders(ctx context.Context, symbol string, refs []bitunix.OrderRef) (bitunix.BatchResult, error)
	OrderDetail(ctx context.Context, ref bitunix.OrderRef) (bitunix.Order, error)
	PendingOrders(ctx context.Context, q bitunix.Query) ([]bitunix.Order, int, error)
	PendingPositions(ctx context.Context, symbol string) ([]bitunix.Position, error)
	Account(ctx context.Context, marginCoin string) (bitunix.Account, error)
}

// Venue implements ordermanager.Venue on Bitunix. It is safe for
// concurrent use (the client is).
type Venue struct {
	c          Client
	marginCoin string
	// Symbols limits OpenOrders("") to these symbols' listings, one call
	// each, when set; otherwise one unfiltered listing is paged through.
	symbols []string
}

// New returns a venue. marginCoin defaults to USDT.
func New(c Client, marginCoin string, symbols []string) *Venue {
	if marginCoin == "" {
		marginCoin = "USDT"
	}
	return &Venue{c: c, marginCoin: marginCoin, symbols: append([]string(nil), symbols...)}
}

// MapError maps a bitunix error onto ordermanager's sentinels: 30042 to
// ErrDuplicateClientID, 20007 to ErrNotFound, an ambiguous outcome to
// ErrAmbiguous, any other exchange code to *ordermanager.Rejected, and a
// request that certainly never left (dial failure) to Rejected with code 0.
func MapError(err error) error {
	if err == nil {
		return nil
	}
	var api *bitunix.APIError
	var tr *bitunix.TransportError
	switch {
	case errors.Is(err, bitunix.ErrDuplicateClientID):
		return fmt.Errorf("%w: %w", ordermanager.ErrDuplicateClientID, err)
	case errors.Is(err, bitunix.ErrNotFound):
		return fmt.Errorf("%w: %w", ordermanager.ErrNotFound, err)
	case bitunix.IsAmbiguous(err):
		return fmt.Errorf("%w: %w", ordermanager.ErrAmbiguous, err)
	case errors.As(err, &api):
		return &ordermanager.Rejected{Code: api.Code, Reason: api.Msg}
	case errors.As(err, &tr) && !tr.Ambiguous && tr.Status == 0:
		return &ordermanager.Rejected{Code: 0, Reason: "not sent: " + tr.Error()}
	}
	// Anything else (context ended mid-request, unknown): may have taken
	// effect, so it is ambiguous.
	return fmt.Errorf("%w: %w", ordermanager.ErrAmbiguous, err)
}

// Place sends place_order. The client never resends blind and resolves
// ambiguity and 30042 by client id itself; what it cannot resolve is
// returned as ErrAmbiguous for reconciliation.
func (v *Venue) Place(ctx context.Context, o ordermanager.Order) (ordermanager.Ack, error) {
	req := bitunix.OrderRequest{
		Symbol: o.Symbol, Side: o.Side, Type: o.Type, Qty: o.Qty, ClientID: o.ClientID, ReduceOnly: o.ReduceOnly,
	}
	if o.Type == trading.Limit {
		req.Price, req.TimeInForce = o.Price, o.TimeInForce
	}
	ack, err := v.c.PlaceOrder(ctx, req)
	if err != nil {
		return ordermanager.Ack{}, MapError(err)
	}
	return ordermanager.Ack{OrderID: ack.OrderID, ClientID: o.ClientID}, nil
}

// Cancel cancels one order by exchange id (preferred) or client id.
func (v *Venue) Cancel(ctx context.Context, ref ordermanager.OrderRef) error {
	r := bitunix.OrderRef{OrderID: ref.OrderID, ClientID: ref.ClientID}
	if r.OrderID != "" {
		r.ClientID = ""
	}
	res, err := v.c.CancelOrders(ctx, ref.Symbol, []bitunix.OrderRef{r})
	if err != nil {
		return MapError(err)
	}
	if len(res.Failure) > 0 {
		f := res.Failure[0]
		if f.Code == 20007 {
			return fmt.Errorf("cancel %s/%s: %w", ref.ClientID, ref.OrderID, ordermanager.ErrNotFound)
		}
		return &ordermanager.Rejected{Code: f.Code, Reason: f.Msg}
	}
	return nil
}

// OrderByClientID looks an order up by client id.
func (v *Venue) OrderByClientID(ctx context.Context, clientID string) (ordermanager.Report, error) {
	o, err := v.c.OrderDetail(ctx, bitunix.OrderRef{ClientID: clientID})
	if err != nil {
		return ordermanager.Report{}, MapError(err)
	}
	return Report(&o), nil
}

// pageSize is get_pending_orders' maximum limit.
const pageSize = 100

// OpenOrders lists open orders, paging through the listing.
func (v *Venue) OpenOrders(ctx context.Context, symbol string) ([]ordermanager.Report, error) {
	syms := []string{symbol}
	if symbol == "" && len(v.symbols) > 0 {
		syms = v.symbols
	}
	var out []ordermanager.Report
	for _, s := range syms {
		for skip := 0; ; skip += pageSize {
			os, total, err := v.c.PendingOrders(ctx, bitunix.Query{Symbol: s, Skip: skip, Limit: pageSize})
			if err != nil {
				return nil, fmt.Errorf("pending orders %s skip %d: %w", s, skip, MapError(err))
			}
			for i := range os {
				out = append(out, Report(&os[i]))
			}
			if len(os) < pageSize || (total > 0 && skip+len(os) >= total) {
				break
			}
		}
	}
	return out, nil
}

// Positions lists open positions, signed.
func (v *Venue) Positions(ctx context.Context) ([]ordermanager.PositionReport, error) {
	ps, err := v.c.PendingPositions(ctx, "")
	if err != nil {
		return nil, MapError(err)
	}
	out := make([]ordermanager.PositionReport, 0, len(ps))
	byKey := map[string]int{}
	for i := range ps {
		p := PositionReport(&ps[i])
		// One-way mode has one position per symbol; sum defensively.
		if j, ok := byKey[p.Symbol]; ok {
			out[j].Qty += p.Qty
			continue
		}
		byKey[p.Symbol] = len(out)
		out = append(out, p)
	}
	return out, nil
}

// Balance returns the account in the margin coin.
func (v *Venue) Balance(ctx context.Context) (ordermanager.BalanceReport, error) {
	a, err := v.c.Account(ctx, v.marginCoin)
	if err != nil {
		return ordermanager.BalanceReport{}, MapError(err)
	}
	return ordermanager.BalanceReport{Coin: v.marginCoin, Available: a.Available, Frozen: a.Frozen, Margin: a.Margin,
		UnrealizedPnL: a.CrossUnrealizedPNL + a.IsolationUnrealizedPNL}, nil
}

// Report converts a REST order or an order push.
//
// The order push carries no tradeQty (§5.5): the executed size comes in the
// undocumented dealAmount. A FILLED order executed its whole qty, so that is
// certain; otherwise dealAmount is read as a quantity when it can be one
// (<= qty), else as a quote amount converted at the average price.
func Report(o *bitunix.Order) ordermanager.Report {
	st := o.Status
	if st == trading.StatusUnknown {
		st = trading.StatusNew
	}
	filled := o.FilledQty
	if filled == 0 {
		switch {
		case st == trading.StatusFilled:
			filled = o.Qty
		case o.DealAmount > 0 && o.DealAmount <= o.Qty:
			filled = o.DealAmount
		case o.DealAmount > 0 && o.AvgPrice > 0:
			filled = min(o.DealAmount.Div(o.AvgPrice), o.Qty)
		}
	}
	return ordermanager.Report{
		ClientID: o.ClientID, OrderID: o.OrderID, Symbol: o.Symbol, Side: o.Side, Type: o.Type,
		TimeInForce: o.TimeInForce, Price: o.Price, Qty: o.Qty, ReduceOnly: o.ReduceOnly, Status: st,
		FilledQty: filled, AvgPrice: o.AvgPrice, Fee: o.Fee, Time: o.Updated,
	}
}

// PositionReport converts a REST position or a position push.
func PositionReport(p *bitunix.Position) ordermanager.PositionReport {
	q := p.Qty
	if p.Side == trading.Sell {
		q = -q
	}
	entry := p.AvgOpenPrice
	if entry == 0 && p.Qty != 0 {
		entry = p.EntryValue.Div(p.Qty)
	}
	return ordermanager.PositionReport{Symbol: p.Symbol, Qty: q, AvgEntry: entry, UnrealizedPnL: p.UnrealizedPNL,
		RealizedPnL: p.RealizedPNL, Fee: p.Fee, Funding: p.Funding}
}

// BalanceReport converts a balance push.
func BalanceReport(b *bitunix.Balance) ordermanager.BalanceReport {
	return ordermanager.BalanceReport{Coin: b.Coin, Available: b.Available, Frozen: b.Frozen, Margin: b.Margin}
}
