package engine_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/engine"
	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/instrument"
	"github.com/bitrader/bitrader/internal/ordermanager"
	"github.com/bitrader/bitrader/internal/risk"
	"github.com/bitrader/bitrader/internal/strategy"
	"github.com/bitrader/bitrader/internal/trading"
	"github.com/bitrader/bitrader/internal/venue/local"
)

// lostReplyVenue places every order on the local venue (which fills a
// market order at once) and then reports the reply lost: the order
// manager settles the ambiguity with a lookup and books the fill right
// there, inside Submit.
type lostReplyVenue struct{ *local.Venue }

func (v lostReplyVenue) Place(ctx context.Context, o ordermanager.Order) (ordermanager.Ack, error) {
	if _, err := v.Venue.Place(ctx, o); err != nil {
		return ordermanager.Ack{}, err
	}
	return ordermanager.Ack{}, errors.New("reply lost")
}

// chaser buys on its first book and again on every fill, up to max orders,
// and keeps the fills it is told of.
type chaser struct {
	max, placed int
	fills       []trading.Fill
}

func (c *chaser) Name() string { return "chaser" }
func (c *chaser) OnEvent(_ time.Time, ev strategy.Event, _ strategy.View) strategy.Output {
	switch ev.Kind {
	case strategy.EventFill:
		c.fills = append(c.fills, ev.Fill)
	case strategy.EventBook:
		if c.placed > 0 {
			return strategy.Output{}
		}
	default:
		return strategy.Output{}
	}
	if c.placed == c.max {
		return strategy.Output{}
	}
	c.placed++
	return strategy.Output{Place: []trading.Intent{mkt(trading.Buy, "0.01", false)}}
}

// Fills booked while the Core delivers fills (a strategy's order on a fill,
// filled inside Submit) go to the Core's other fill buffer: with one
// buffer, or two sharing memory, such a fill overwrites or is cleared with
// the batch being delivered, and the strategy never hears of it.
func TestFillsBookedDuringDeliveryAreDelivered(t *testing.T) {
	ctx := context.Background()
	spec := instrument.Default(sym)
	lv, err := local.New(local.Config{Balance: fixed.FromInt(10000), Specs: []instrument.Spec{spec}, Start: t0})
	if err != nil {
		t.Fatal(err)
	}
	strat := &chaser{max: 4}
	c, err := engine.NewCore(engine.CoreConfig{
		Strategies: map[string]strategy.Strategy{sym: strat},
		Specs:      map[string]instrument.Spec{sym: spec},
		Limits:     risk.DefaultLimits(),
		Venue:      lostReplyVenue{lv}, Store: engine.NewMemStore(),
		Orders: ordermanager.Config{Prefix: "t", Epoch: 1, StartBalance: fixed.FromInt(10000)},
	})
	if err != nil {
		t.Fatal(err)
	}
	lv.SetSinks(func(r ordermanager.Report) { c.OnOrderReport(ctx, r.Time, r) }, nil)

	c.OnBook(ctx, t0, book(t0, "50000", "50001"))
	if strat.placed != 4 || len(strat.fills) != 4 {
		t.Fatalf("placed %d orders, %d fills delivered (%+v); want 4 and 4", strat.placed, len(strat.fills), strat.fills)
	}
	seen := map[string]bool{}
	for _, f := range strat.fills {
		if f.ClientID == "" || seen[f.ClientID] {
			t.Fatalf("fill client ids %+v: want 4 distinct", strat.fills)
		}
		seen[f.ClientID] = true
	}
}
