package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/engine"
	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/instrument"
	"github.com/bitrader/bitrader/internal/journal"
	"github.com/bitrader/bitrader/internal/ordermanager"
	"github.com/bitrader/bitrader/internal/risk"
	"github.com/bitrader/bitrader/internal/strategy"
	"github.com/bitrader/bitrader/internal/trading"
	"github.com/bitrader/bitrader/internal/venue/local"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

const sym = "BTCUSDT"

func px(s string) fixed.Value { return fixed.MustParse(s) }

type rig struct {
	core  *engine.Core
	venue *local.Venue
	store *engine.MemStore
}

func newRig(t *testing.T, strat strategy.Strategy, store *engine.MemStore, limits risk.Limits) *rig {
	t.Helper()
	return newRigVenue(t, strat, store, limits, local.Config{})
}

// newRigVenue is newRig with venue options (balance, specs and start are
// the rig's).
func newRigVenue(t *testing.T, strat strategy.Strategy, store *engine.MemStore, limits risk.Limits, vc local.Config) *rig {
	t.Helper()
	spec := instrument.Default(sym)
	vc.Balance, vc.Specs, vc.Start = fixed.FromInt(10000), []instrument.Spec{spec}, t0
	v, err := local.New(vc)
	if err != nil {
		t.Fatal(err)
	}
	if store == nil {
		store = engine.NewMemStore()
	}
	c, err := engine.NewCore(engine.CoreConfig{
		Strategies: map[string]strategy.Strategy{sym: strat},
		Specs:      map[string]instrument.Spec{sym: spec},
		Limits:     limits,
		Venue:      v, Store: store,
		Orders: ordermanager.Config{Prefix: "t", Epoch: 1, StartBalance: fixed.FromInt(10000)},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	v.SetSinks(func(r ordermanager.Report) { c.OnOrderReport(ctx, r.Time, r) },
		func(s string, a fixed.Value) { c.OnFunding(ctx, v.Now(), s, a) })
	return &rig{core: c, venue: v, store: store}
}

func book(at time.Time, bid, ask string) *trading.Book {
	return &trading.Book{Symbol: sym, Time: at,
		Bids: []trading.Level{{Price: px(bid), Qty: px("5")}},
		Asks: []trading.Level{{Price: px(ask), Qty: px("5")}}}
}

func mkt(side trading.Side, qty string, reduce bool) trading.Intent {
	return trading.Intent{Symbol: sym, Side: side, Type: trading.Market, Qty: px(qty), ReduceOnly: reduce}
}

func TestCoreOpensAndClosesOnLocalVenue(t *testing.T) {
	ctx := context.Background()
	s := strategy.NewScripted([]strategy.Step{
		{At: t0.Add(time.Second), Intent: mkt(trading.Buy, "0.01", false)},
		{At: t0.Add(3 * time.Second), Intent: mkt(trading.Sell, "0.01", true)},
	})
	r := newRig(t, s, nil, risk.DefaultLimits())
	r.core.OnBook(ctx, t0, book(t0, "50000", "50001"))
	r.core.OnBook(ctx, t0.Add(time.Second), book(t0.Add(time.Second), "50000", "50001"))
	pos := r.core.Orders().Positions()
	if len(pos) != 1 || pos[0].Qty != px("0.01") || pos[0].AvgEntry != px("50001") {
		t.Fatalf("after buy: positions %+v", pos)
	}
	r.core.OnBook(ctx, t0.Add(3*time.Second), book(t0.Add(3*time.Second), "50100", "50101"))
	st := r.core.Status()
	if n := len(st.Orders.OpenOrders); n != 0 {
		t.Fatalf("open orders %d", n)
	}
	// Realised (50100-50001)*0.01 = 0.99; fees 0.0006*(500.01+501) = 0.600606.
	if st.Orders.PnL.Realized != px("0.99") || st.Orders.PnL.Fees != px("0.600606") {
		t.Fatalf("pnl %+v", st.Orders.PnL)
	}
	if len(st.Decisions) != 2 || st.Decisions[0].Verdict != "approve" || st.Decisions[1].ClientID == "" {
		t.Fatalf("decisions %+v", st.Decisions)
	}
	// The ledger agrees with the venue's own account.
	if got, want := st.Equity, r.venue.Equity(); got != want {
		t.Fatalf("engine equity %s, venue equity %s", got, want)
	}
}

func TestCoreRiskGateRefusesOversizeAndKill(t *testing.T) {
	ctx := context.Background()
	s := strategy.NewScripted([]strategy.Step{
		{At: t0.Add(time.Second), Intent: mkt(trading.Buy, "1", false)}, // 50k notional > 1000: trimmed
		{At: t0.Add(2 * time.Second), Intent: mkt(trading.Buy, "0.01", false)},
		{At: t0.Add(3 * time.Second), Intent: mkt(trading.Sell, "0.01", true)},
	})
	r := newRig(t, s, nil, risk.DefaultLimits())
	r.core.OnBook(ctx, t0, book(t0, "50000", "50001"))
	r.core.OnBook(ctx, t0.Add(time.Second), book(t0.Add(time.Second), "50000", "50001"))
	st := r.core.Status()
	if d := st.Decisions[0]; d.Verdict != "trim" || d.Approved != px("0.0199") {
		t.Fatalf("oversize decision %+v", d)
	}
	r.core.Kill(t0.Add(time.Second), "test")
	r.core.OnBook(ctx, t0.Add(2*time.Second), book(t0.Add(2*time.Second), "50000", "50001"))
	if d := r.core.Status().Decisions[1]; d.Verdict != "refuse" || d.Reason != "kill_switch" {
		t.Fatalf("killed decision %+v", d)
	}
	// Reduce-only passes a tripped breaker.
	r.core.OnBook(ctx, t0.Add(3*time.Second), book(t0.Add(3*time.Second), "50000", "50001"))
	if d := r.core.Status().Decisions[2]; d.Verdict != "approve" || d.ClientID == "" {
		t.Fatalf("reduce-only under kill %+v", d)
	}
	if pos := r.core.Orders().Positions(); pos[0].Qty != px("0.0099") {
		t.Fatalf("position after reduce %+v", pos)
	}
}

func TestCoreBreakerAndHaltSurviveRestart(t *testing.T) {
	ctx := context.Background()
	store := engine.NewMemStore()
	r := newRig(t, strategy.NewScripted(nil), store, risk.DefaultLimits())
	r.core.OnBook(ctx, t0, book(t0, "50000", "50001"))
	r.core.Kill(t0, "operator")
	r.core.Halt(t0, "drift")
	r2 := newRig(t, strategy.NewScripted([]strategy.Step{{At: t0, Intent: mkt(trading.Buy, "0.01", false)}}), store, risk.DefaultLimits())
	st := r2.core.Status()
	if !st.Halt.Halted || st.Halt.Reason != "drift" {
		t.Fatalf("halt not restored: %+v", st.Halt)
	}
	if !st.Breakers[0].Tripped {
		t.Fatalf("kill switch not restored: %+v", st.Breakers)
	}
	r2.core.OnBook(ctx, t0.Add(time.Second), book(t0.Add(time.Second), "50000", "50001"))
	if d := r2.core.Status().Decisions; len(d) != 1 || d[0].Verdict != "refuse" {
		t.Fatalf("entry while halted: %+v", d)
	}
	r2.core.Resume(t0.Add(time.Second))
	if st := r2.core.Status(); st.Halt.Halted || st.Breakers[0].Tripped {
		t.Fatalf("resume: %+v %+v", st.Halt, st.Breakers)
	}
}

func TestCoreDailyLossBreakerStopsEntries(t *testing.T) {
	ctx := context.Background()
	lim := risk.DefaultLimits()
	lim.MaxDailyLoss = px("0.01") // 100 USDT of 10000
	lim.MaxOrderNotional = fixed.FromInt(100000)
	lim.MaxPositionNotional = fixed.FromInt(100000)
	lim.MaxTotalNotional = fixed.FromInt(100000)
	s := strategy.NewScripted([]strategy.Step{
		{At: t0.Add(time.Second), Intent: mkt(trading.Buy, "1", false)},
		{At: t0.Add(3 * time.Second), Intent: mkt(trading.Buy, "0.1", false)},
	})
	r := newRig(t, s, nil, lim)
	r.core.OnBook(ctx, t0, book(t0, "50000", "50001"))
	r.core.OnBook(ctx, t0.Add(time.Second), book(t0.Add(time.Second), "50000", "50001"))
	// Mark drops 150: unrealised -150 - fees: breaker trips on the mark.
	r.core.OnMark(ctx, t0.Add(2*time.Second), trading.MarkPrice{Symbol: sym, Mark: px("49850"), Time: t0.Add(2 * time.Second)})
	st := r.core.Status()
	if !st.Breakers[1].Tripped {
		t.Fatalf("daily loss not tripped: equity %s breakers %+v", st.Equity, st.Breakers)
	}
	r.core.OnBook(ctx, t0.Add(3*time.Second), book(t0.Add(3*time.Second), "49850", "49851"))
	if d := r.core.Status().Decisions; len(d) != 2 || d[1].Reason != "daily_loss" {
		t.Fatalf("decisions %+v", d)
	}
}

func TestMemStoreSequenceAndState(t *testing.T) {
	s := engine.NewMemStore()
	for want := uint64(1); want <= 3; want++ {
		rec, err := s.CreateOrder("p", func(seq uint64) (ordermanager.OrderRecord, error) {
			return ordermanager.OrderRecord{ClientID: ordermanager.FormatClientID("p", 1, seq), Seq: seq, Status: trading.StatusPending}, nil
		})
		if err != nil || rec.Seq != want {
			t.Fatalf("seq %d want %d err %v", rec.Seq, want, err)
		}
	}
	if os, _ := s.Orders(true); len(os) != 3 {
		t.Fatalf("open %d", len(os))
	}
	if _, err := s.GetState("x"); err == nil {
		t.Fatal("missing state found")
	}
}

// A dry run books funding from the exchange's marks: settled when a mark
// reaches the funding time the previous mark announced, at the previous
// mark's price and the rate the new mark reports as last settled (Bitunix's
// fr), through the Core into the order manager.
func TestDryRunFundingFromMarks(t *testing.T) {
	ctx := context.Background()
	s := strategy.NewScripted([]strategy.Step{{At: t0, Intent: mkt(trading.Buy, "0.01", false)}})
	r := newRigVenue(t, s, nil, risk.DefaultLimits(), local.Config{FundingFromMarks: true})
	r.core.OnBook(ctx, t0, book(t0, "50000", "50001"))
	due := t0.Add(10 * time.Second)
	mark := func(at time.Time, price, rate string, next time.Time) { // rate: last settled
		r.core.OnMark(ctx, at, trading.MarkPrice{Symbol: sym, Mark: px(price), Index: px(price), FundingRate: px(rate),
			NextFundingTime: next, Time: at})
	}
	funding := func() fixed.Value { return r.core.Orders().PnL().Funding }
	cases := []struct {
		name  string
		at    time.Time
		price string
		rate  string
		next  time.Time
		want  string // total funding booked after this mark
	}{
		{"next funding at t0+10s", t0.Add(time.Second), "50000", "0.0003", due, "0"},
		{"before the funding time: nothing", t0.Add(9 * time.Second), "50000", "0.0003", due, "0"},
		// 0.01 BTC x 50000 x 0.0001 = 0.05 paid by the long: the previous
		// mark's price, this mark's (just settled) rate.
		{"reaches it: settled", due, "50100", "0.0001", t0.Add(8 * time.Hour), "-0.05"},
		{"no second payment for the same time", due.Add(time.Second), "50100", "0.0001", t0.Add(8 * time.Hour), "-0.05"},
		// No next time given: the next 8-hour boundary after the last
		// mark (16:00 UTC), at 50100.
		{"no next time announced", t0.Add(3 * time.Hour), "50100", "0.0001", time.Time{}, "-0.05"},
		{"8-hour boundary", t0.Add(4 * time.Hour), "50200", "0.0001", time.Time{}, "-0.1001"},
		// An announced time not after the mark's own is stale: the next
		// 8-hour boundary (00:00 UTC) applies instead.
		{"stale announced time", t0.Add(5 * time.Hour), "50200", "0.0001", t0.Add(5 * time.Hour), "-0.1001"},
		{"nothing before the boundary", t0.Add(6 * time.Hour), "50200", "0.0001", time.Time{}, "-0.1001"},
	}
	for _, c := range cases {
		mark(c.at, c.price, c.rate, c.next)
		if got := funding(); got != px(c.want) {
			t.Fatalf("%s: funding booked %s, want %s", c.name, got, c.want)
		}
	}
	pos := r.venue.Engine().Positions(r.venue.Account(), sym)
	if len(pos) != 1 || pos[0].Funding != px("-0.1001") {
		t.Fatalf("venue positions %+v, want funding -0.1001 on the exchange side too", pos)
	}
}

// Under a tripped breaker only closing risk passes, and resting orders on
// the closing side count first: a sell that, with the resting sells, would
// leave the account short is refused or trimmed, and what passes goes to
// the exchange as reduce-only.
func TestCoreBlockedClosesCountRestingOrders(t *testing.T) {
	ctx := context.Background()
	lim := func(side trading.Side, qty string) trading.Intent {
		return trading.Intent{Symbol: sym, Side: side, Type: trading.Limit, TimeInForce: trading.GTC, Price: px("52000"), Qty: px(qty)}
	}
	s := strategy.NewScripted([]strategy.Step{
		{At: t0.Add(time.Second), Intent: mkt(trading.Buy, "0.03", false)},
		{At: t0.Add(2 * time.Second), Intent: lim(trading.Sell, "0.01")}, // rests far above
		{At: t0.Add(3 * time.Second), Intent: lim(trading.Sell, "0.03")}, // killed: 0.01 already resting
		{At: t0.Add(4 * time.Second), Intent: lim(trading.Sell, "0.01")},
		{At: t0.Add(5 * time.Second), Intent: lim(trading.Sell, "0.01")}, // the rest is covered
	})
	lims := risk.DefaultLimits()
	lims.MaxOrderNotional = fixed.FromInt(10000)
	lims.MaxPositionNotional = fixed.FromInt(10000)
	r := newRig(t, s, nil, lims)
	for i := range 3 {
		at := t0.Add(time.Duration(i) * time.Second)
		r.core.OnBook(ctx, at, book(at, "50000", "50001"))
	}
	r.core.Kill(t0.Add(2*time.Second), "test")
	for i := 3; i <= 5; i++ {
		at := t0.Add(time.Duration(i) * time.Second)
		r.core.OnBook(ctx, at, book(at, "50000", "50001"))
	}
	ds := r.core.Status().Decisions
	want := []struct {
		verdict, qty string
		reduceOnly   bool
	}{
		{"approve", "0.03", false},
		{"approve", "0.01", false},
		{"trim", "0.02", true},
		{"refuse", "0", false},
		{"refuse", "0", false},
	}
	if len(ds) != len(want) {
		t.Fatalf("%d decisions, want %d: %+v", len(ds), len(want), ds)
	}
	for i, w := range want {
		d := ds[i]
		if d.Verdict != w.verdict || d.Approved != px(w.qty) || (w.verdict != "refuse" && d.ReduceOnly != w.reduceOnly) {
			t.Errorf("decision %d: %s %s reduceOnly=%v, want %s %s reduceOnly=%v", i, d.Verdict, d.Approved, d.ReduceOnly, w.verdict, w.qty, w.reduceOnly)
		}
	}
	// What rests on the exchange can never leave the account short.
	var sells fixed.Value
	for _, o := range r.venue.Engine().OpenOrders(r.venue.Account(), sym) {
		if o.Side == trading.Sell {
			sells += o.Qty - o.FilledQty
			if o.Qty == px("0.02") && !o.ReduceOnly {
				t.Errorf("the close approved under the kill switch rests without reduce-only: %+v", o)
			}
		}
	}
	if sells != px("0.03") {
		t.Fatalf("resting sells %s, want exactly the position 0.03", sells)
	}
}

// Whatever a strategy computes, what reaches the exchange is on the lot
// and tick grid, never rounded toward more risk, and within the symbol's
// limits.
func TestCoreRoundsOrdersToTheInstrument(t *testing.T) {
	ctx := context.Background()
	lim := func(side trading.Side, price, qty string) trading.Intent {
		return trading.Intent{Symbol: sym, Side: side, Type: trading.Limit, TimeInForce: trading.GTC, Price: px(price), Qty: px(qty)}
	}
	s := strategy.NewScripted([]strategy.Step{
		{At: t0.Add(time.Second), Intent: lim(trading.Buy, "49000.06", "0.012345")}, // tick 0.1, lot 0.0001
		{At: t0.Add(2 * time.Second), Intent: lim(trading.Sell, "52000.01", "0.00999")},
		{At: t0.Add(3 * time.Second), Intent: lim(trading.Buy, "49000", "0.00009")}, // below the minimum once rounded
	})
	r := newRig(t, s, nil, risk.DefaultLimits())
	for i := range 4 {
		at := t0.Add(time.Duration(i) * time.Second)
		r.core.OnBook(ctx, at, book(at, "50000", "50001"))
	}
	got := map[string]string{}
	for _, o := range r.venue.Engine().OpenOrders(r.venue.Account(), sym) {
		got[o.Side.String()] = o.Price.String() + " " + o.Qty.String()
	}
	want := map[string]string{"BUY": "49000 0.0123", "SELL": "52000.1 0.0099"}
	if len(got) != len(want) || got["BUY"] != want["BUY"] || got["SELL"] != want["SELL"] {
		t.Fatalf("resting orders %v, want %v", got, want)
	}
	ds := r.core.Status().Decisions
	if len(ds) != 3 || ds[2].Verdict != "refuse" || !strings.Contains(ds[2].Reason, "instrument") {
		t.Fatalf("decisions %+v: the third must be refused by the instrument check", ds)
	}
}

// failingFillStore fails the write that records a fill with its ledger
// snapshot, as a full disk would.
type failingFillStore struct{ *engine.MemStore }

func (failingFillStore) PutOrderAndState(journal.OrderRecord, string, []byte) error {
	return errors.New("disk full")
}

// A fill that cannot be journaled stops new entries: memory must never
// run ahead of disk on a path that books money.
func TestCoreStopsEntriesWhenAFillCannotBeJournaled(t *testing.T) {
	ctx := context.Background()
	spec := instrument.Default(sym)
	v, err := local.New(local.Config{Balance: fixed.FromInt(10000), Specs: []instrument.Spec{spec}, Start: t0})
	if err != nil {
		t.Fatal(err)
	}
	s := strategy.NewScripted([]strategy.Step{
		{At: t0.Add(time.Second), Intent: mkt(trading.Buy, "0.01", false)},
		{At: t0.Add(2 * time.Second), Intent: mkt(trading.Buy, "0.01", false)},
	})
	c, err := engine.NewCore(engine.CoreConfig{
		Strategies: map[string]strategy.Strategy{sym: s}, Specs: map[string]instrument.Spec{sym: spec},
		Limits: risk.DefaultLimits(), Venue: v, Store: failingFillStore{engine.NewMemStore()},
		Orders: ordermanager.Config{Prefix: "t", Epoch: 1, StartBalance: fixed.FromInt(10000)},
	})
	if err != nil {
		t.Fatal(err)
	}
	v.SetSinks(func(r ordermanager.Report) { c.OnOrderReport(ctx, r.Time, r) }, nil)
	for i := range 3 {
		at := t0.Add(time.Duration(i) * time.Second)
		c.OnBook(ctx, at, book(at, "50000", "50001"))
	}
	ds := c.Status().Decisions
	if len(ds) != 2 || ds[1].Verdict != "refuse" || !strings.Contains(ds[1].Reason, "journal failure") {
		t.Fatalf("decisions %+v: the entry after the failed fill write must be refused", ds)
	}
}

// The equity peak the drawdown breaker measures from is saved as it rises
// (each 0.1%), not only at a clean shutdown: after a crash the breaker
// still measures from the day's high.
func TestCoreSavesTheEquityPeakWithoutShutdown(t *testing.T) {
	ctx := context.Background()
	s := strategy.NewScripted([]strategy.Step{{At: t0, Intent: mkt(trading.Buy, "0.1", false)}})
	lims := risk.DefaultLimits()
	lims.MaxOrderNotional = fixed.FromInt(10000)
	lims.MaxPositionNotional = fixed.FromInt(10000)
	r := newRig(t, s, nil, lims)
	r.core.OnBook(ctx, t0, book(t0, "50000", "50001"))
	saved := func() fixed.Value {
		blob, err := r.store.GetState("engine/risk")
		if err != nil {
			t.Fatal(err)
		}
		var st risk.State
		if err := json.Unmarshal(blob, &st); err != nil {
			t.Fatal(err)
		}
		return st.PeakEquity
	}
	for i, p := range []string{"50000", "51000", "52000"} {
		at := t0.Add(time.Duration(i+1) * time.Second)
		r.core.OnMark(ctx, at, trading.MarkPrice{Symbol: sym, Mark: px(p), Index: px(p), Time: at})
	}
	peak := r.core.Status().Equity // at the high: 0.1 BTC up 2000
	if got := saved(); got < peak-peak.DivInt(1000) || got > peak {
		t.Fatalf("saved peak %s, want within 0.1%% below the high %s (no Flush happened)", got, peak)
	}
}

// A live mark feed must not hide a dead depth feed: entries are priced
// from the book, so once the book is older than risk.staleData new
// exposure is refused, whatever else still arrives.
func TestCoreStaleBookBlocksEntriesDespiteFreshMarks(t *testing.T) {
	ctx := context.Background()
	s := strategy.NewScripted([]strategy.Step{{At: t0.Add(6 * time.Second), Intent: mkt(trading.Buy, "0.001", false)}})
	r := newRig(t, s, nil, risk.DefaultLimits()) // staleData 5s
	r.core.OnBook(ctx, t0, book(t0, "50000", "50001"))
	for i := 1; i <= 6; i++ { // marks keep coming, the book does not
		at := t0.Add(time.Duration(i) * time.Second)
		r.core.OnMark(ctx, at, trading.MarkPrice{Symbol: sym, Mark: px("50000"), Index: px("50000"), Time: at})
	}
	ds := r.core.Status().Decisions
	if len(ds) != 1 || ds[0].Verdict != "refuse" || ds[0].Reason != "stale_data" {
		t.Fatalf("decisions %+v: the entry must be refused for stale data", ds)
	}
}

// Under a halt (drift, shutdown, a journal failure) a close still goes
// out, and goes out as reduce-only: left resting while the position
// closes some other way, it can never open new exposure.
func TestCoreHaltedClosesAreReduceOnly(t *testing.T) {
	ctx := context.Background()
	s := strategy.NewScripted([]strategy.Step{
		{At: t0.Add(time.Second), Intent: mkt(trading.Buy, "0.01", false)},
		{At: t0.Add(2 * time.Second), Intent: trading.Intent{Symbol: sym, Side: trading.Sell, Type: trading.Limit,
			TimeInForce: trading.GTC, Price: px("52000"), Qty: px("0.01")}}, // rests far above
	})
	r := newRig(t, s, nil, risk.DefaultLimits())
	for i := range 3 {
		at := t0.Add(time.Duration(i) * time.Second)
		if i == 2 {
			r.core.Halt(at, "drift")
		}
		r.core.OnBook(ctx, at, book(at, "50000", "50001"))
	}
	ds := r.core.Status().Decisions
	if len(ds) != 2 || ds[1].Verdict != "approve" || !ds[1].ReduceOnly {
		t.Fatalf("decisions %+v: the close under the halt must be approved as reduce-only", ds)
	}
	var resting int
	for _, o := range r.venue.Engine().OpenOrders(r.venue.Account(), sym) {
		resting++
		if o.Side != trading.Sell || !o.ReduceOnly {
			t.Errorf("resting order %+v: want the sell, reduce-only", o)
		}
	}
	if resting != 1 {
		t.Fatalf("%d resting orders, want the one close", resting)
	}
}

// PruneFinal's records are recycled for new orders: a recycled record is
// each order's own, and nothing of the pruned order shows through.
func TestMemStoreRecyclesPrunedRecords(t *testing.T) {
	s := engine.NewMemStore()
	put := func(id string, st trading.OrderStatus, fee string) {
		t.Helper()
		if err := s.PutOrder(ordermanager.OrderRecord{ClientID: id, Status: st, Fee: px(fee)}); err != nil {
			t.Fatal(err)
		}
	}
	put("a", trading.StatusFilled, "1")
	put("b", trading.StatusCanceled, "2")
	if n := s.PruneFinal(); n != 2 {
		t.Fatalf("pruned %d, want 2", n)
	}
	put("c", trading.StatusNew, "0")
	put("d", trading.StatusNew, "0.5")
	put("e", trading.StatusNew, "0.25") // beyond the recycled ones
	recs, err := s.Orders(false)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ id, fee string }{{"c", "0"}, {"d", "0.5"}, {"e", "0.25"}} // client id order
	if len(recs) != len(want) {
		t.Fatalf("records %+v, want c, d and e", recs)
	}
	for i, w := range want {
		if r := recs[i]; r.ClientID != w.id || r.Fee != px(w.fee) || r.Status != trading.StatusNew {
			t.Errorf("record %+v, want %s NEW with fee %s", r, w.id, w.fee)
		}
	}
}
