package ordermanager

import (
	"errors"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/trading"
)

func base(st trading.OrderStatus) OrderRecord {
	return OrderRecord{ClientID: "bot1-1-1", Intent: trading.Intent{Symbol: "BTCUSDT", Side: trading.Buy,
		Type: trading.Limit, Price: fixed.FromInt(100), Qty: fixed.FromInt(2)}, Status: st, ExchangeID: "ex", Created: t0, Updated: t0}
}

func report(st trading.OrderStatus, filled, avg, fee int64) Event {
	return Event{Kind: EvReport, Time: t0.Add(time.Second), Report: Report{ClientID: "bot1-1-1", OrderID: "ex", Status: st,
		FilledQty: fixed.FromInt(filled), AvgPrice: fixed.FromInt(avg), Fee: fixed.FromInt(fee)}}
}

func TestApplyTransitions(t *testing.T) {
	const (
		P  = trading.StatusPending
		S  = trading.StatusSubmitted
		N  = trading.StatusNew
		PF = trading.StatusPartiallyFilled
		F  = trading.StatusFilled
		C  = trading.StatusCanceled
		R  = trading.StatusRejected
		X  = trading.StatusExpired
	)
	ev := func(k EventKind) Event { return Event{Kind: k, Time: t0.Add(time.Second), OrderID: "ex", Code: 30016} }
	withFill := func(st trading.OrderStatus, filled int64) OrderRecord {
		o := base(st)
		o.FilledQty, o.AvgPrice = fixed.FromInt(filled), fixed.FromInt(100)
		return o
	}
	neverSent := base(C)
	neverSent.NeverSent = true
	ambiguous := base(S)
	ambiguous.Ambiguous = true

	tests := []struct {
		name      string
		from      OrderRecord
		ev        Event
		want      trading.OrderStatus
		illegal   bool
		changed   bool
		fillQty   int64
		ambiguous bool
		neverSent bool
	}{
		{"pending sent", base(P), ev(EvSent), S, false, true, 0, false, false},
		{"submitted sent again", base(S), ev(EvSent), S, true, false, 0, false, false},
		{"new sent", base(N), ev(EvSent), N, true, false, 0, false, false},
		{"submitted accepted", base(S), ev(EvAccepted), N, false, true, 0, false, false},
		{"pending accepted", base(P), ev(EvAccepted), N, false, true, 0, false, false},
		{"ambiguous accepted clears flag", ambiguous, ev(EvAccepted), N, false, true, 0, false, false},
		{"accepted after filled push keeps filled", withFill(F, 2), ev(EvAccepted), F, false, false, 0, false, false},
		{"never-sent accepted: venue wins", neverSent, ev(EvAccepted), N, false, true, 0, false, false},
		{"submitted rejected", base(S), ev(EvRejected), R, false, true, 0, false, false},
		{"rejected twice", base(R), ev(EvRejected), R, false, false, 0, false, false},
		{"rejected after new is illegal", base(N), ev(EvRejected), N, true, false, 0, false, false},
		{"rejected after filled is illegal", base(F), ev(EvRejected), F, true, false, 0, false, false},
		{"submitted ambiguous", base(S), ev(EvAmbiguous), S, false, true, 0, true, false},
		{"pending ambiguous", base(P), ev(EvAmbiguous), S, false, true, 0, true, false},
		{"new ambiguous no-op", base(N), ev(EvAmbiguous), N, false, false, 0, false, false},
		{"submitted not found", base(S), ev(EvNotFound), C, false, true, 0, false, true},
		{"pending not sent", base(P), ev(EvNotSent), C, false, true, 0, false, true},
		{"new not found is illegal", base(N), ev(EvNotFound), N, true, false, 0, false, false},
		{"part filled not found is illegal", withFill(PF, 1), ev(EvNotFound), PF, true, false, 0, false, false},
		{"filled not found no-op", base(F), ev(EvNotFound), F, false, false, 0, false, false},
		{"unknown event", base(N), Event{Kind: 99}, N, true, false, 0, false, false},
		{"submitted report new", base(S), report(N, 0, 0, 0), N, false, true, 0, false, false},
		{"ambiguous report new", ambiguous, report(N, 0, 0, 0), N, false, true, 0, false, false},
		{"new report part filled", base(N), report(PF, 1, 100, 0), PF, false, true, 1, false, false},
		{"new report filled", base(N), report(F, 2, 100, 0), F, false, true, 2, false, false},
		{"new report new-with-fill becomes part filled", base(N), report(N, 1, 100, 0), PF, false, true, 1, false, false},
		{"part filled reaching qty becomes filled", withFill(PF, 1), report(PF, 2, 100, 0), F, false, true, 1, false, false},
		{"part filled stale new", withFill(PF, 1), report(N, 0, 0, 0), PF, false, false, 0, false, false},
		{"part filled stale lower fill", withFill(PF, 1), report(PF, 0, 0, 0), PF, false, false, 0, false, false},
		{"filled stale part filled", withFill(F, 2), report(PF, 1, 100, 0), F, false, false, 0, false, false},
		{"filled duplicate", withFill(F, 2), report(F, 2, 100, 0), F, false, false, 0, false, false},
		{"canceled then late fill: qty grows, status stays", withFill(C, 1), report(PF, 2, 100, 0), C, false, true, 1, false, false},
		{"canceled stays canceled on filled report", base(C), report(F, 0, 0, 0), C, false, false, 0, false, false},
		{"expired stays on new", base(X), report(N, 0, 0, 0), X, false, false, 0, false, false},
		{"rejected stays on new", base(R), report(N, 0, 0, 0), R, false, false, 0, false, false},
		{"never-sent canceled, venue reports new", neverSent, report(N, 0, 0, 0), N, false, true, 0, false, false},
		{"new report canceled", base(N), report(C, 0, 0, 0), C, false, true, 0, false, false},
		{"part filled report canceled", withFill(PF, 1), report(C, 1, 100, 0), C, false, true, 0, false, false},
		{"report pending is illegal", base(N), report(P, 0, 0, 0), N, true, false, 0, false, false},
		{"report unknown is illegal", base(N), report(trading.StatusUnknown, 0, 0, 0), N, true, false, 0, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			step, err := Apply(tc.from, tc.ev)
			if tc.illegal != errors.Is(err, ErrIllegalTransition) {
				t.Fatalf("err = %v, illegal want %v", err, tc.illegal)
			}
			if step.Order.Status != tc.want {
				t.Errorf("status = %s, want %s", step.Order.Status, tc.want)
			}
			if step.Changed != tc.changed {
				t.Errorf("changed = %v, want %v", step.Changed, tc.changed)
			}
			if step.Fill.Qty != fixed.FromInt(tc.fillQty) {
				t.Errorf("fill qty = %s, want %d", step.Fill.Qty, tc.fillQty)
			}
			if step.Order.Ambiguous != tc.ambiguous || step.Order.NeverSent != tc.neverSent {
				t.Errorf("ambiguous/neverSent = %v/%v, want %v/%v", step.Order.Ambiguous, step.Order.NeverSent, tc.ambiguous, tc.neverSent)
			}
			if tc.illegal && step.Order != tc.from {
				t.Error("illegal event changed the order")
			}
			if step.Changed && !step.Order.Updated.Equal(tc.ev.Time) {
				t.Error("Updated not set on change")
			}
			if step.Order.FilledQty < tc.from.FilledQty {
				t.Error("filled qty decreased")
			}
		})
	}
}

func TestApplyFillFromCumulative(t *testing.T) {
	o := base(trading.StatusNew)
	s1, _ := Apply(o, Event{Kind: EvReport, Report: Report{Status: trading.StatusPartiallyFilled,
		FilledQty: fixed.MustParse("0.5"), AvgPrice: fixed.FromInt(100), Fee: fixed.MustParse("0.05")}})
	s2, _ := Apply(s1.Order, Event{Kind: EvReport, Report: Report{Status: trading.StatusFilled,
		FilledQty: fixed.FromInt(2), AvgPrice: fixed.FromInt(103), Fee: fixed.MustParse("0.2")}})
	// (103*2 - 100*0.5) / 1.5 = 104
	want := trading.Fill{Symbol: "BTCUSDT", OrderID: "ex", ClientID: "bot1-1-1", TradeID: "bot1-1-1/2",
		Side: trading.Buy, Price: fixed.FromInt(104), Qty: fixed.MustParse("1.5"), Fee: fixed.MustParse("0.15")}
	if s2.Fill != want {
		t.Fatalf("fill\n got %+v\nwant %+v", s2.Fill, want)
	}
	// A late fee-only update books only the fee.
	s3, _ := Apply(s2.Order, Event{Kind: EvReport, Report: Report{Status: trading.StatusFilled,
		FilledQty: fixed.FromInt(2), AvgPrice: fixed.FromInt(103), Fee: fixed.MustParse("0.25")}})
	if s3.Fill.Qty != 0 || s3.Fill.Fee != fixed.MustParse("0.05") {
		t.Fatalf("fee-only fill %+v", s3.Fill)
	}
}

func TestLedgerShortAndFlip(t *testing.T) {
	l := NewLedger(fixed.FromInt(100))
	f := func(side trading.Side, qty, price, fee string) fixed.Value {
		return l.ApplyFill(trading.Fill{Symbol: "ETHUSDT", Side: side, Qty: fixed.MustParse(qty), Price: fixed.MustParse(price), Fee: fixed.MustParse(fee)})
	}
	f(trading.Sell, "2", "3000", "1")                                         // short 2 @ 3000
	if got := f(trading.Buy, "1", "2900", "0.5"); got != fixed.FromInt(100) { // +100 on 1
		t.Fatalf("realized %s", got)
	}
	if got := f(trading.Buy, "3", "2950", "1.5"); got != fixed.FromInt(50) { // close 1: +50, long 2 @ 2950
		t.Fatalf("realized %s", got)
	}
	p := *l.Positions["ETHUSDT"]
	if p.Qty != fixed.FromInt(2) || p.AvgEntry != fixed.FromInt(2950) || p.Realized != fixed.FromInt(150) || p.Fees != fixed.FromInt(3) {
		t.Fatalf("%+v", p)
	}
	f(trading.Sell, "2", "2950", "0")
	if p := l.Positions["ETHUSDT"]; p.Qty != 0 || p.AvgEntry != 0 {
		t.Fatalf("not flat: %+v", p)
	}
	if eq := l.Totals().Equity; eq != fixed.FromInt(247) { // 100 + 150 - 3
		t.Fatalf("equity %s", eq)
	}
}
