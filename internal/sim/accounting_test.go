package sim

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/marketdata"
	"github.com/bitrader/bitrader/internal/trading"
)

// Funding, liquidation and TP/SL through the protocol, on a scripted
// BTCUSDT market so every price is known. Fees are the defaults (taker
// 0.0006), maintenance margin rate 0.005; every position is ISOLATION at
// 10x: 0.1 BTC bought at 60000 costs 6000 × 0.0006 = 3.6 in fees and
// ties 6000 / 10 = 600 of margin.

var fundingRate = fixed.MustParse("0.0001")

func bookAt(t time.Time, bid, ask string) marketdata.Event {
	b, a := fixed.MustParse(bid), fixed.MustParse(ask)
	tick, qty := fixed.MustParse("0.1"), fixed.FromInt(10)
	bk := trading.Book{Symbol: "BTCUSDT", Time: t}
	for i := range int64(5) {
		bk.Bids = append(bk.Bids, trading.Level{Price: b - tick.MulInt(i), Qty: qty})
		bk.Asks = append(bk.Asks, trading.Level{Price: a + tick.MulInt(i), Qty: qty})
	}
	return marketdata.Event{Kind: marketdata.KindBook, Book: bk}
}

func markAt(t time.Time, p string) marketdata.Event {
	m := fixed.MustParse(p)
	return marketdata.Event{Kind: marketdata.KindMark, Mark: trading.MarkPrice{Symbol: "BTCUSDT", Mark: m, Index: m, FundingRate: fundingRate, Time: t}}
}

// scriptedEnv starts a simulator whose BTCUSDT market is script (after a
// 59999.9/60000 book and a 60000 mark at the start), logs key1 in on the
// private stream, and opens a 0.1 BTC isolated 10x long at 60000.
func scriptedEnv(t *testing.T, script ...marketdata.Event) (*testEnv, *wsConn, string) {
	t.Helper()
	events := append([]marketdata.Event{bookAt(testStart, "59999.9", "60000"), markAt(testStart, "60000")}, script...)
	e := newEnv(t, func(c *Config) {
		c.FundingInterval = time.Hour
		c.TickInterval = time.Second
		c.IdleTimeout = 24 * time.Hour // the private socket stays quiet across funding intervals
		c.MarketData.Sources = func(sym string, _ time.Time) marketdata.Source {
			if sym == "BTCUSDT" {
				return NewScriptedSource(events...)
			}
			return nil
		}
	})
	w := e.dial(t, true)
	w.send(wsLogin("key1", "secret1", testStart.Unix(), "n1"))
	if f := w.read(); f != `{"op":"login","data":{"result":true}}` {
		t.Fatalf("login %s", f)
	}
	for path, body := range map[string]string{
		"account/change_margin_mode": `{"symbol":"BTCUSDT","marginCoin":"USDT","marginMode":"ISOLATION"}`,
		"account/change_leverage":    `{"symbol":"BTCUSDT","marginCoin":"USDT","leverage":10}`,
	} {
		if r := e.post(t, path, body); r.Code != 0 {
			t.Fatalf("%s: %d %s", path, r.Code, r.Msg)
		}
	}
	if r := e.post(t, "trade/place_order", `{"symbol":"BTCUSDT","side":"BUY","orderType":"MARKET","qty":"0.1","clientId":"open1"}`); r.Code != 0 {
		t.Fatalf("open: %d %s", r.Code, r.Msg)
	}
	pos := e.positions(t)
	if len(pos) != 1 || pos[0]["entryValue"] != "6000" || pos[0]["margin"] != "600" || pos[0]["fee"] != "3.6" {
		t.Fatalf("opened position %v", pos)
	}
	w.pingSync(0) // drain the opening pushes
	return e, w, pos[0]["positionId"].(string)
}

func (e *testEnv) positions(t *testing.T) []map[string]any {
	t.Helper()
	var ps []map[string]any
	if r := e.get(t, "position/get_pending_positions", "symbol=BTCUSDT"); r.Code != 0 || json.Unmarshal(r.Data, &ps) != nil {
		t.Fatalf("pending positions: %d %s %s", r.Code, r.Msg, r.Data)
	}
	return ps
}

func (e *testEnv) accountREST(t *testing.T) map[string]any {
	t.Helper()
	var a map[string]any
	if r := e.get(t, "account", "marginCoin=USDT"); r.Code != 0 || json.Unmarshal(r.Data, &a) != nil {
		t.Fatalf("account: %d %s %s", r.Code, r.Msg, r.Data)
	}
	return a
}

type push struct {
	Ch   string
	Data map[string]any
}

// pushes returns the private frames that arrived before a pong.
func (w *wsConn) pushes(v int) []push {
	w.t.Helper()
	var out []push
	for _, f := range w.pingSync(v) {
		var p push
		if err := json.Unmarshal([]byte(f), &p); err != nil {
			w.t.Fatalf("push %s: %v", f, err)
		}
		out = append(out, p)
	}
	return out
}

// last returns the data of the last push on ch, or nil.
func last(ps []push, ch string) map[string]any {
	var d map[string]any
	for _, p := range ps {
		if p.Ch == ch {
			d = p.Data
		}
	}
	return d
}

func TestFundingSettlesAtInterval(t *testing.T) {
	e, w, _ := scriptedEnv(t)
	// Nothing is paid before the funding time (01:00 with a 1 h interval).
	e.advance(t, time.Hour-time.Second)
	if ps := w.pushes(1); last(ps, "balance") != nil || last(ps, "position") != nil {
		t.Fatalf("pushes before funding time: %v", ps)
	}
	e.advance(t, time.Second)
	ps := w.pushes(2)
	// Payment = mark × qty × rate = 60000 × 0.1 × 0.0001 = 0.6, paid by the long.
	pos, bal := last(ps, "position"), last(ps, "balance")
	if pos == nil || pos["event"] != "UPDATE" || pos["funding"] != "-0.6" {
		t.Fatalf("position push after funding: %v", ps)
	}
	// Available = 10000 - 3.6 fee - 600 margin - 0.6 funding.
	if bal == nil || bal["available"] != "9395.8" || bal["isolationMargin"] != "600" {
		t.Fatalf("balance push after funding: %v", bal)
	}
	if a := e.accountREST(t); a["available"] != "9395.8" || a["margin"] != "600" {
		t.Errorf("REST account after funding: %v", a)
	}
	if p := e.positions(t); len(p) != 1 || p[0]["funding"] != "-0.6" {
		t.Errorf("REST position after funding: %v", p)
	}
	// The next settlement is one interval later, not before.
	e.advance(t, time.Hour-time.Second)
	if ps := w.pushes(3); last(ps, "balance") != nil {
		t.Fatalf("second funding too early: %v", ps)
	}
	e.advance(t, time.Second)
	if bal := last(w.pushes(4), "balance"); bal == nil || bal["available"] != "9395.2" {
		t.Fatalf("balance after second funding: %v", bal)
	}
}

func TestIsolatedLiquidationOnMark(t *testing.T) {
	// liq = (entryValue - margin) / (qty × (1 - mmr)) = 5400 / 0.0995
	//     = 54271.356783919… → 54271.35678392
	e, w, _ := scriptedEnv(t,
		markAt(testStart.Add(10*time.Second), "54300"),
		markAt(testStart.Add(20*time.Second), "54271.3"))
	if p := e.positions(t); p[0]["liqPrice"] != "54271.35678392" {
		t.Fatalf("liqPrice %v", p[0]["liqPrice"])
	}
	e.advance(t, 15*time.Second)
	if ps := w.pushes(1); last(ps, "position") != nil {
		t.Fatalf("liquidated above the liquidation price: %v", ps)
	}
	if p := e.positions(t); len(p) != 1 {
		t.Fatalf("position gone at mark 54300: %v", p)
	}
	e.advance(t, 10*time.Second)
	ps := w.pushes(2)
	if pos := last(ps, "position"); pos == nil || pos["event"] != "CLOSE" {
		t.Fatalf("no position CLOSE push: %v", ps)
	}
	// The isolated margin is lost, nothing more: 10000 - 3.6 - 600.
	if bal := last(ps, "balance"); bal == nil || bal["available"] != "9396.4" || bal["margin"] != "0" {
		t.Fatalf("balance push after liquidation: %v", bal)
	}
	if a := e.accountREST(t); a["available"] != "9396.4" || a["margin"] != "0" {
		t.Errorf("REST account after liquidation: %v", a)
	}
	if p := e.positions(t); len(p) != 0 {
		t.Errorf("positions after liquidation: %v", p)
	}
}

func TestPositionTPSLFiresOnMark(t *testing.T) {
	e, w, pid := scriptedEnv(t,
		// The last price never moves (no prints): only the mark can fire it.
		bookAt(testStart.Add(10*time.Second), "60400", "60400.1"),
		markAt(testStart.Add(10*time.Second), "60400"),
		bookAt(testStart.Add(20*time.Second), "61000", "61000.1"),
		markAt(testStart.Add(20*time.Second), "61000"))
	r := e.post(t, "tpsl/position/place_order", `{"symbol":"BTCUSDT","positionId":"`+pid+`","tpPrice":"60500","tpStopType":"MARK_PRICE","slPrice":"59000","slStopType":"MARK_PRICE"}`)
	if r.Code != 0 {
		t.Fatalf("tpsl place: %d %s", r.Code, r.Msg)
	}
	if tp := last(w.pushes(1), "tpsl"); tp == nil {
		t.Error("no tpsl push on placement")
	}
	e.advance(t, 15*time.Second) // mark 60400: below the TP
	if ps := w.pushes(2); last(ps, "position") != nil {
		t.Fatalf("TP fired below its price: %v", ps)
	}
	e.advance(t, 10*time.Second) // mark 61000: TP fires, a market sell at the 61000 bid
	ps := w.pushes(3)
	if pos := last(ps, "position"); pos == nil || pos["event"] != "CLOSE" {
		t.Fatalf("no position CLOSE push: %v", ps)
	}
	// pnl = (61000 - 60000) × 0.1 = 100; close fee = 6100 × 0.0006 = 3.66;
	// 10000 - 3.6 + 100 - 3.66 = 10092.74.
	if bal := last(ps, "balance"); bal == nil || bal["available"] != "10092.74" {
		t.Fatalf("balance push after TP: %v", bal)
	}
	if a := e.accountREST(t); a["available"] != "10092.74" {
		t.Errorf("REST account after TP: %v", a)
	}
	if p := e.positions(t); len(p) != 0 {
		t.Errorf("positions after TP: %v", p)
	}
	var pending []map[string]any
	if r := e.get(t, "tpsl/get_pending_orders", "symbol=BTCUSDT"); r.Code != 0 || json.Unmarshal(r.Data, &pending) != nil || len(pending) != 0 {
		t.Errorf("pending TP/SL after firing: %d %s", r.Code, r.Data)
	}
}
