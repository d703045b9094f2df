package exchange

import (
	"context"
	"testing"

	"github.com/bitrader/bitrader/internal/bitunix"
	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/ordermanager"
	"github.com/bitrader/bitrader/internal/trading"
)

// positionsClient is fakeClient with pending positions.
type positionsClient struct {
	*fakeClient
	positions []bitunix.Position
}

func (c *positionsClient) PendingPositions(context.Context, string) ([]bitunix.Position, error) {
	return c.positions, nil
}

// A position push decodes into a report that carries what funding booking
// needs: the position id and the cumulative funding, and the venue says it
// is a live account (funding comes from positions, not from a sink).
func TestPositionPushCarriesIDAndFunding(t *testing.T) {
	frame := `{"ch":"position","ts":1645123456000,"data":{"event":"UPDATE","positionId":"12345","side":"SHORT","qty":"0.5","entryValue":"20000","symbol":"BTCUSDT","funding":"-1.25","fee":"5.75"}}`
	ev, err := bitunix.NewPrivateDecoder().Decode([]byte(frame))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Kind != bitunix.KindPosition {
		t.Fatalf("kind %v", ev.Kind)
	}
	got := PositionReport(&ev.Position)
	want := ordermanager.PositionReport{Symbol: "BTCUSDT", PositionID: "12345", Qty: fixed.MustParse("-0.5"),
		AvgEntry: fixed.MustParse("40000"), Fee: fixed.MustParse("5.75"), Funding: fixed.MustParse("-1.25")}
	if got != want {
		t.Fatalf("report %+v, want %+v", got, want)
	}
	var v ordermanager.Venue = New(&fakeClient{}, "USDT", nil)
	if la, ok := v.(ordermanager.LiveAccount); !ok || !la.LiveAccount() {
		t.Fatal("the exchange venue is not a LiveAccount: its funding would never be booked")
	}
}

// Positions lists each position with its id; two positions in one symbol
// (hedge mode) are summed without an id or funding, so reconciliation does
// not book one position's funding under the other's baseline.
func TestPositionsIDsAndMerge(t *testing.T) {
	c := &positionsClient{fakeClient: &fakeClient{}, positions: []bitunix.Position{
		{PositionID: "a", Symbol: "BTCUSDT", Side: trading.Buy, Qty: fixed.MustParse("1"), AvgOpenPrice: fixed.MustParse("100"), Funding: fixed.MustParse("-1")},
		{PositionID: "b", Symbol: "ETHUSDT", Side: trading.Buy, Qty: fixed.MustParse("2"), AvgOpenPrice: fixed.MustParse("10"), Funding: fixed.MustParse("0.5")},
		{PositionID: "c", Symbol: "BTCUSDT", Side: trading.Sell, Qty: fixed.MustParse("0.25"), AvgOpenPrice: fixed.MustParse("100"), Funding: fixed.MustParse("-2")},
	}}
	got, err := New(c, "USDT", nil).Positions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("positions %+v", got)
	}
	if p := got[0]; p.Symbol != "BTCUSDT" || p.Qty != fixed.MustParse("0.75") || p.PositionID != "" || p.Funding != 0 {
		t.Fatalf("merged %+v", p)
	}
	if p := got[1]; p.PositionID != "b" || p.Funding != fixed.MustParse("0.5") {
		t.Fatalf("single %+v", p)
	}
}
