package sim

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestWSPingNoAckUnsubscribe(t *testing.T) {
	e := newEnv(t, nil)
	w := e.dial(t, false)
	// Ping: pong echoes the client value, ping carries server seconds.
	w.send(`{"op":"ping","ping":1732519687}`)
	var pong struct {
		Op   string `json:"op"`
		Pong int64  `json:"pong"`
		Ping int64  `json:"ping"`
	}
	if err := json.Unmarshal([]byte(w.read()), &pong); err != nil || pong.Op != "ping" || pong.Pong != 1732519687 || pong.Ping != testStart.Unix() {
		t.Fatalf("pong %+v %v", pong, err)
	}
	// Subscribe gets no acknowledgement; unknown channel gets nothing.
	w.send(`{"op":"subscribe","args":[{"symbol":"BTCUSDT","ch":"depth_book5"},{"symbol":"BTCUSDT","ch":"depth_book5"},{"symbol":"BTCUSDT","ch":"nonsense"}]}`)
	if got := w.pingSync(1); len(got) != 0 {
		t.Fatalf("frames before pong: %v", got)
	}
	w.send("not json at all") // ignored
	w.pingSync(9)
	e.advance(t, 300*time.Millisecond)
	f := w.read()
	var depth struct {
		Ch, Symbol string
		Ts         int64
		Data       struct{ B, A [][]string }
	}
	if err := json.Unmarshal([]byte(f), &depth); err != nil || depth.Ch != "depth_book5" || len(depth.Data.B) != 5 || len(depth.Data.A) != 5 {
		t.Fatalf("depth frame %s", f)
	}
	// Duplicate subscribe = one stream: exactly one depth frame per push.
	e.advance(t, time.Second)
	// Pushes fell at +100 ms, so the next second holds +400, +700, +1000
	// and +1300 ms: four frames; a doubled stream would give eight.
	if got := w.pingSync(2); len(got) != 4 {
		t.Fatalf("want 4 depth frames (one stream), got %d", len(got))
	}
	w.send(`{"op":"unsubscribe","args":[{"symbol":"BTCUSDT","ch":"depth_book5"}]}`)
	if got := w.read(); !strings.HasPrefix(got, `{"op":"unsubscribe","ts":`) || !strings.HasSuffix(got, `,"data":"success"}`) {
		t.Fatalf("unsubscribe reply %s", got)
	}
	e.advance(t, time.Second)
	if got := w.pingSync(3); len(got) != 0 {
		t.Fatalf("frames after unsubscribe: %v", got)
	}
}

func TestWSUnknownSymbolAndCap(t *testing.T) {
	e := newEnv(t, nil)
	w := e.dial(t, false)
	w.send(`{"op":"subscribe","args":[{"symbol":"NOPEUSDT","ch":"depth_book1"}]}`)
	f := w.read()
	if !strings.HasPrefix(f, `{"ch":"depth_book1","symbol":"NOPEUSDT","ts":`) || !strings.HasSuffix(f, `"data":{"b":[["",""]],"a":[["",""]]}}`) {
		t.Fatalf("unknown symbol frame %s", f)
	}
	e.advance(t, time.Second)
	if got := w.pingSync(1); len(got) != 0 {
		t.Fatalf("unknown symbol kept streaming: %v", got)
	}
	// Past the cap (lowered to 10 here; TestWSCap300 checks 300): the
	// documented refusal.
	var args []string
	chans := []string{"depth_book1", "depth_book5", "depth_book15", "depth_books", "trade", "ticker", "tickers", "price", "market_kline_1min", "mark_kline_1min", "market_kline_5min"}
	e2 := newEnv(t, func(c *Config) { c.MaxSubscriptions = 10 })
	w2 := e2.dial(t, false)
	for i := range 11 {
		args = append(args, `{"symbol":"BTCUSDT","ch":"`+chans[i]+`"}`)
	}
	w2.send(`{"op":"subscribe","args":[` + strings.Join(args, ",") + `]}`)
	if got := w2.read(); got != `{"op":"subscribe","data":{"msg":"subscribe channel > 300","nonce":"","result":false}}` {
		t.Fatalf("cap reply %s", got)
	}
}

func TestWSCap300(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		for i := range 40 {
			c.Symbols = append(c.Symbols, SymbolFromName("S"+string(rune('A'+i%26))+string(rune('A'+i/26))+"USDT"))
		}
	})
	w := e.dial(t, false)
	var args []string
	for _, sym := range e.srv.Symbols() {
		for _, ch := range []string{"depth_book1", "depth_book5", "depth_book15", "trade", "ticker", "price", "market_kline_1min", "mark_kline_1min"} {
			args = append(args, `{"symbol":"`+sym+`","ch":"`+ch+`"}`)
		}
	}
	if len(args) <= 300 {
		t.Fatalf("only %d streams", len(args))
	}
	w.send(`{"op":"subscribe","args":[` + strings.Join(args, ",") + `]}`)
	if got := w.read(); got != `{"op":"subscribe","data":{"msg":"subscribe channel > 300","nonce":"","result":false}}` {
		t.Fatalf("cap reply %s", got)
	}
	e.srv.wsMu.Lock()
	n := 0
	for c := range e.srv.sessions {
		n = len(c.subs)
	}
	e.srv.wsMu.Unlock()
	if n != 300 {
		t.Fatalf("%d subscriptions kept, want 300", n)
	}
}

func TestWSRateLimitDisconnect(t *testing.T) {
	e := newEnv(t, nil)
	w := e.dial(t, false)
	for i := range 5 {
		w.send(`{"op":"ping","ping":` + string(rune('0'+i)) + `}`)
	}
	for range 5 {
		w.read()
	}
	w.send(`{"op":"ping","ping":9}`) // sixth message within one second
	w.expectClosed()

	// Five a second forever is fine.
	w2 := e.dial(t, false)
	for range 3 {
		for range 5 {
			w2.send(`{"op":"ping","ping":1}`)
			w2.read()
		}
		e.advance(t, time.Second)
	}
}

func TestWSIdleDrop(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.IdleTimeout = 10 * time.Second })
	quiet := e.dial(t, false)
	chatty := e.dial(t, false)
	for range 4 {
		e.advance(t, 3*time.Second)
		chatty.send(`{"op":"ping","ping":1}`)
		chatty.read()
	}
	quiet.expectClosed()
	chatty.send(`{"op":"ping","ping":2}`)
	if f := chatty.read(); !strings.HasPrefix(f, `{"op":"ping","pong":2`) {
		t.Fatalf("chatty got %s", f)
	}
}

func TestWSPublicChannels(t *testing.T) {
	e := newEnv(t, nil)
	w := e.dial(t, false)
	w.send(`{"op":"subscribe","args":[{"symbol":"BTCUSDT","ch":"trade"},{"symbol":"BTCUSDT","ch":"price"},{"symbol":"BTCUSDT","ch":"ticker"},{"symbol":"BTCUSDT","ch":"tickers"},{"symbol":"ETHUSDT","ch":"tickers"},{"symbol":"BTCUSDT","ch":"market_kline_1min"}]}`)
	w.pingSync(0) // the subscription is in place before time moves
	e.advance(t, 3*time.Second)
	seen := map[string]map[string]any{}
	for _, f := range w.pingSync(1) {
		var m map[string]any
		if err := json.Unmarshal([]byte(f), &m); err != nil {
			t.Fatalf("bad frame %s", f)
		}
		seen[m["ch"].(string)] = m
	}
	for _, ch := range []string{"trade", "price", "ticker", "tickers", "market_kline_1min"} {
		if seen[ch] == nil {
			t.Errorf("no %s frame", ch)
		}
	}
	if tr, ok := seen["trade"]["data"].([]any); ok {
		ts := tr[0].(map[string]any)["t"].(string)
		if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
			t.Errorf("trade t %q not ISO", ts)
		}
	}
	if tk := seen["tickers"]; tk != nil {
		if _, has := tk["symbol"]; has {
			t.Error("tickers envelope must have no symbol")
		}
		list := tk["data"].([]any)
		if len(list) != 2 || list[0].(map[string]any)["bd"] == nil {
			t.Errorf("tickers data %v", list)
		}
	}
	if p := seen["price"]; p != nil {
		d := p["data"].(map[string]any)
		if _, err := time.Parse(time.RFC3339, d["nft"].(string)); err != nil {
			t.Errorf("nft %v", d["nft"])
		}
	}
}

func TestPrivateLoginAndPushes(t *testing.T) {
	e := newEnv(t, nil)
	bad := e.dial(t, true)
	bad.send(wsLogin("key1", "wrong", testStart.Unix(), "n1"))
	if f := bad.read(); !strings.HasPrefix(f, `{"data":{"msg":`) && !strings.Contains(f, `"result":false`) {
		t.Fatalf("bad login %s", f)
	}
	stale := e.dial(t, true)
	stale.send(wsLogin("key1", "secret1", testStart.Unix()-3600, "n1"))
	if f := stale.read(); !strings.Contains(f, `"result":false`) {
		t.Fatalf("stale login %s", f)
	}
	ms := e.dial(t, true) // milliseconds are tolerated
	ms.send(wsLogin("key1", "secret1", testStart.UnixMilli(), "n1"))
	if f := ms.read(); f != `{"op":"login","data":{"result":true}}` {
		t.Fatalf("ms login %s", f)
	}
	w := e.dial(t, true)
	w.send(wsLogin("key1", "secret1", testStart.Unix(), "Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0Lm"))
	if f := w.read(); f != `{"op":"login","data":{"result":true}}` {
		t.Fatalf("login %s", f)
	}
	other := e.dial(t, true)
	other.send(wsLogin("key2", "secret2", testStart.Unix(), "n2"))
	other.read()

	e.advance(t, time.Second)
	if w := e.post(t, "trade/place_order", `{"symbol":"BTCUSDT","side":"BUY","orderType":"MARKET","qty":"0.01","clientId":"push1"}`); w.Code != 0 {
		t.Fatalf("place %d %s", w.Code, w.Msg)
	}
	got := map[string]map[string]any{}
	for _, f := range w.pingSync(1) {
		var m struct {
			Ch   string
			Ts   int64
			Data map[string]any
		}
		if err := json.Unmarshal([]byte(f), &m); err != nil || m.Ts == 0 {
			t.Fatalf("frame %s", f)
		}
		got[m.Ch] = m.Data
	}
	o := got["order"]
	if o == nil || o["side"] != "Buy" || o["type"] != "Market" || o["clientId"] != "push1" {
		t.Fatalf("order push %v", o)
	}
	if _, err := time.Parse(time.RFC3339Nano, o["ctime"].(string)); err != nil {
		t.Errorf("order ctime %v", o["ctime"])
	}
	if got["position"] == nil || got["balance"] == nil {
		t.Errorf("pushes %v", got)
	}
	if f := other.pingSync(1); len(f) != 0 {
		t.Errorf("other account got %v", f)
	}
}
