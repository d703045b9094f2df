// Package exchange is the venue over the Bitunix REST API (the real
// exchange or the simulator): it maps the client's typed errors onto the
// order manager's vocabulary and translates private WebSocket pushes into
// order reports.
package exchange

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/bitrader/bitrader/internal/bitunix"
	"github.com/bitrader/bitrader/internal/fixed"
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

// mapPlaceError is MapError for place_order: an exchange code that does not
// prove the order was refused (10001 "Network error", undocumented codes:
// bitunix.PlaceOutcomeUnknown) is ambiguous, not a final rejection. The real
// client already resolves those by client id; this keeps any other Client
// from turning them into Rejected.
func mapPlaceError(err error) error {
	if bitunix.PlaceOutcomeUnknown(err) && !bitunix.IsAmbiguous(err) {
		return fmt.Errorf("%w: %w", ordermanager.ErrAmbiguous, err)
	}
	return MapError(err)
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
		return ordermanager.Ack{}, mapPlaceError(err)
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
	return restReport(&o), nil
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
				out = append(out, restReport(&os[i]))
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
		// One-way mode has one position per symbol; sum defensively. A
		// merged report has no single position id, so its funding is left
		// to the pushes and the balance check.
		if j, ok := byKey[p.Symbol]; ok {
			out[j].Qty += p.Qty
			out[j].PositionID, out[j].Funding = "", 0
			continue
		}
		byKey[p.Symbol] = len(out)
		out = append(out, p)
	}
	return out, nil
}

// LiveAccount reports that this venue is an exchange account: the order
// manager books funding from its position reports and keeps its ledger's
// cash on the exchange's balance (ordermanager.LiveAccount).
func (v *Venue) LiveAccount() bool { return true }

// Balance returns the account in the margin coin.
func (v *Venue) Balance(ctx context.Context) (ordermanager.BalanceReport, error) {
	a, err := v.c.Account(ctx, v.marginCoin)
	if err != nil {
		return ordermanager.BalanceReport{}, MapError(err)
	}
	return ordermanager.BalanceReport{Coin: v.marginCoin, Available: a.Available, Frozen: a.Frozen, Margin: a.Margin,
		UnrealizedPnL: a.CrossUnrealizedPNL + a.IsolationUnrealizedPNL}, nil
}

// restReport converts a REST order (get_order_detail, get_pending_orders,
// history): there the executed size is the documented tradeQty (§4.3),
// taken as it is.
func restReport(o *bitunix.Order) ordermanager.Report {
	st := o.Status
	if st == trading.StatusUnknown {
		st = trading.StatusNew
	}
	return ordermanager.Report{
		ClientID: o.ClientID, OrderID: o.OrderID, Symbol: o.Symbol, Side: o.Side, Type: o.Type,
		TimeInForce: o.TimeInForce, Price: o.Price, Qty: o.Qty, ReduceOnly: o.ReduceOnly, Status: st,
		FilledQty: o.FilledQty, AvgPrice: o.AvgPrice, Fee: o.Fee, Time: o.Updated,
	}
}

// pushFill returns the executed size an order push proves, and whether it
// proves one. The push has no documented executed size (§5.5): it carries
// tradeQty only if Bitunix ever adds it; a FILLED order executed its whole
// qty; an order that is NEW, CANCELED or EXPIRED with no dealAmount executed
// nothing. Anything else (PART_FILLED, PART_FILLED_CANCELED, or any status
// with a non-zero dealAmount) is unknown here. dealAmount is undocumented and
// may be a quantity or a quote amount (1000 DOGE at 0.1 with 600 filled: a
// quote 60 is also a plausible quantity), so it is never read as a size; it
// only says something was executed.
func pushFill(o *bitunix.Order) (filled fixed.Value, known bool) {
	switch {
	case o.FilledQty > 0:
		return o.FilledQty, true
	case o.Status == trading.StatusFilled:
		return o.Qty, true
	case o.Status == trading.StatusPartiallyFilled, partFilledCanceled(o.StatusRaw), o.DealAmount != 0:
		return 0, false
	}
	return 0, true
}

// partFilledCanceled reports Bitunix's PART_FILLED_CANCELED, which
// trading.ParseOrderStatus folds into Canceled.
func partFilledCanceled(raw string) bool {
	return strings.EqualFold(strings.TrimRight(raw, "_"), "PART_FILLED_CANCELED")
}

// Report converts an order push without I/O, never guessing the executed
// size. When the push does not prove it (see pushFill), the report carries
// no execution (zero cumulative quantity, price and fee, which the order
// state machine reads as "no news": totals only grow) and a final status
// is lowered to PART_FILLED. The order then stays open locally, so the next
// reconciliation looks it up by client id and books the exact tradeQty;
// were it final, reconciliation would never revisit it and the execution
// would be lost for good. Venue.PushTranslator does the lookup at once.
func Report(o *bitunix.Order) ordermanager.Report {
	r := restReport(o)
	filled, known := pushFill(o)
	if known {
		r.FilledQty = filled
		return r
	}
	r.FilledQty, r.AvgPrice, r.Fee = 0, 0, 0
	if r.Status.Final() {
		r.Status = trading.StatusPartiallyFilled
	}
	return r
}

// DefaultPushLookupTimeout bounds PushTranslator's REST lookup.
const DefaultPushLookupTimeout = 2 * time.Second

// PushConfig tunes PushTranslator.
type PushConfig struct {
	// LookupTimeout bounds one get_order_detail for a push whose executed
	// size is unknown; DefaultPushLookupTimeout if zero.
	LookupTimeout time.Duration
	Logger        *slog.Logger
}

// PushTranslator returns the engine's order-push translator
// (engine.OrderTranslator): Report, plus a REST lookup when the push does
// not prove the executed size.
//
// Design: the lookup is synchronous, on the engine goroutine, bounded by
// cfg.LookupTimeout under ctx (the engine's run context). Correctness comes
// before latency: the exact cumulative tradeQty is booked before the engine
// takes its next decision (risk, position, the strategy's view of its
// order), instead of up to one reconciliation interval later. It costs one
// REST call per push with an unknown size (partial fills, which are rare;
// CREATE, FILLED and plain cancels need none), and a stall of at most the
// timeout while pushes queue in the Runner's buffer, nothing dropped. If
// the lookup fails, the report is Report's: no execution, status kept open,
// and reconciliation (which reads REST tradeQty) settles it, so nothing is
// lost either way.
func (v *Venue) PushTranslator(ctx context.Context, cfg PushConfig) func(*bitunix.Order) ordermanager.Report {
	if cfg.LookupTimeout <= 0 {
		cfg.LookupTimeout = DefaultPushLookupTimeout
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return func(o *bitunix.Order) ordermanager.Report {
		if _, known := pushFill(o); known {
			return Report(o) // most pushes: no lookup, no deadline to set up
		}
		lctx, cancel := context.WithTimeout(ctx, cfg.LookupTimeout)
		defer cancel()
		r, err := v.PushReport(lctx, o)
		if err != nil {
			log.WarnContext(ctx, "order push: executed size unknown and the lookup failed; reconciliation will settle it",
				"clientId", o.ClientID, "orderId", o.OrderID, "status", o.StatusRaw, "err", err)
		}
		return r
	}
}

// PushReport converts an order push, looking the order up (get_order_detail
// by order id, else client id) when the push does not prove its executed
// size. On a lookup failure it returns Report(o), which never books a
// guess, with the error.
func (v *Venue) PushReport(ctx context.Context, o *bitunix.Order) (ordermanager.Report, error) {
	if _, known := pushFill(o); known {
		return Report(o), nil
	}
	ref := bitunix.OrderRef{OrderID: o.OrderID}
	if ref.OrderID == "" {
		ref.ClientID = o.ClientID
	}
	if ref == (bitunix.OrderRef{}) {
		return Report(o), fmt.Errorf("order push without order id or client id: %w", ordermanager.ErrNotFound)
	}
	d, err := v.c.OrderDetail(ctx, ref)
	if err != nil {
		return Report(o), fmt.Errorf("look up order %s/%s after a %s push: %w", o.ClientID, o.OrderID, o.StatusRaw, MapError(err))
	}
	if (o.OrderID != "" && d.OrderID != "" && d.OrderID != o.OrderID) || (o.ClientID != "" && d.ClientID != "" && d.ClientID != o.ClientID) {
		return Report(o), fmt.Errorf("look up order %s/%s: got %s/%s", o.ClientID, o.OrderID, d.ClientID, d.OrderID)
	}
	if d.Status.Final() && d.Status != trading.StatusFilled && d.FilledQty == 0 {
		// The push says something executed (that is why we asked); a final
		// answer with nothing executed contradicts it and would close the
		// order for good. Keep it open for reconciliation to ask again.
		return Report(o), fmt.Errorf("look up order %s/%s: %s with tradeQty 0 after a %s push (dealAmount %s)",
			o.ClientID, o.OrderID, d.StatusRaw, o.StatusRaw, o.DealAmount)
	}
	if d.ClientID == "" {
		d.ClientID = o.ClientID
	}
	if d.OrderID == "" {
		d.OrderID = o.OrderID
	}
	return restReport(&d), nil
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
	return ordermanager.PositionReport{Symbol: p.Symbol, PositionID: p.PositionID, Qty: q, AvgEntry: entry,
		UnrealizedPnL: p.UnrealizedPNL, RealizedPnL: p.RealizedPNL, Fee: p.Fee, Funding: p.Funding}
}

// BalanceReport converts a balance push.
func BalanceReport(b *bitunix.Balance) ordermanager.BalanceReport {
	return ordermanager.BalanceReport{Coin: b.Coin, Available: b.Available, Frozen: b.Frozen, Margin: b.Margin}
}
