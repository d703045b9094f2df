package bitunix

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/bitrader/bitrader/internal/fixed"
)

func TestWireOrderAppendJSONMatchesMarshal(t *testing.T) {
	v := fixed.MustParse
	tests := []struct {
		name string
		w    wireOrder
	}{
		{"zero", wireOrder{}},
		{"limit", wireOrder{Symbol: "BTCUSDT", Side: "BUY", OrderType: "LIMIT", Qty: v("0.001"), Price: v("86599.6"), Effect: "POST_ONLY", ClientID: "b-1-42"}},
		{"market reduce", wireOrder{Symbol: "ETHUSDT", Side: "SELL", OrderType: "MARKET", Qty: v("12"), ClientID: "x", ReduceOnly: true}},
		{"batch element", wireOrder{Side: "BUY", OrderType: "LIMIT", Qty: v("1"), Price: v("2")}},
		{"negative and tiny", wireOrder{Side: "SELL", OrderType: "LIMIT", Qty: v("-0.00000001"), Price: v("-5")}},
		{"all fields", wireOrder{Symbol: "S", Side: "BUY", TradeSide: "OPEN", PositionID: "p1", OrderType: "LIMIT", Qty: v("1.5"),
			Price: v("2.25"), Effect: "GTC", ClientID: "c", ReduceOnly: true, TPPrice: v("3"), TPStopType: "MARK_PRICE",
			TPOrderType: "LIMIT", TPOrderPrice: v("3.1"), SLPrice: v("1"), SLStopType: "LAST_PRICE", SLOrderType: "MARKET", SLOrderPrice: v("0.9")}},
		{"escapes", wireOrder{Symbol: "A\"B\\C", Side: "<&>", OrderType: "\n\t\x00", ClientID: "é\u2028\xff"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := json.Marshal(tt.w)
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.w.appendJSON([]byte("prefix")); !bytes.Equal(got, append([]byte("prefix"), want...)) {
				t.Errorf("appendJSON:\n got %s\nwant prefix%s", got, want)
			}
		})
	}
}

func FuzzWireOrderAppendJSON(f *testing.F) {
	f.Add("BTCUSDT", "BUY", "LIMIT", "b-1-1", "POST_ONLY", int64(100000), int64(8659960000000), false, int64(0))
	f.Add("", "", "", "<\"é\xff>", "", int64(-1), int64(0), true, int64(7))
	f.Fuzz(func(t *testing.T, sym, side, typ, cid, effect string, qty, price int64, reduce bool, tp int64) {
		w := wireOrder{Symbol: sym, Side: side, OrderType: typ, ClientID: cid, Effect: effect, TradeSide: effect,
			Qty: fixed.Value(qty), Price: fixed.Value(price), ReduceOnly: reduce, TPPrice: fixed.Value(tp), SLStopType: cid}
		want, err := json.Marshal(w)
		if err != nil {
			t.Fatal(err)
		}
		if got := w.appendJSON(nil); !bytes.Equal(got, want) {
			t.Errorf("appendJSON:\n got %q\nwant %q", got, want)
		}
	})
}
