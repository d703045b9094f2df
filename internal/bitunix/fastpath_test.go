package bitunix

import (
	"slices"
	"testing"
)

// sameEvent reports how a fast-path event differs from the general
// decoder's, on the fields the frame's kind defines.
func sameEvent(fast, general *PublicEvent) (string, bool) {
	switch {
	case fast.Kind != general.Kind:
		return "kind", false
	case fast.Channel != general.Channel:
		return "channel", false
	case fast.Symbol != general.Symbol:
		return "symbol", false
	case fast.Time != general.Time:
		return "time", false
	}
	switch fast.Kind {
	case KindDepth:
		fb, gb := fast.Book, general.Book
		if fb.Symbol != gb.Symbol || fb.Time != gb.Time || !slices.Equal(fb.Bids, gb.Bids) || !slices.Equal(fb.Asks, gb.Asks) {
			return "book", false
		}
	case KindTrade:
		if !slices.Equal(fast.Trades, general.Trades) {
			return "trades", false
		}
	default:
		return "fast path decoded a kind it does not handle", false
	}
	return "", true
}

// checkFastAgrees decodes b with the fast path alone and the general path
// alone: when the fast path accepts a frame, the general decoder must too,
// with the same event.
func checkFastAgrees(t *testing.T, fastDec, generalDec *PublicDecoder, b []byte) (took bool) {
	t.Helper()
	fev, ok := fastDec.decodeFast(b)
	gev, gerr := generalDec.decodeGeneral(b)
	if !ok {
		return false
	}
	if gerr != nil {
		t.Fatalf("fast path accepted %q, general decoder rejected it: %v", b, gerr)
	}
	if what, same := sameEvent(fev, gev); !same {
		t.Fatalf("decoders disagree on %s for %q:\nfast    %+v\ngeneral %+v", what, b, fev, gev)
	}
	return true
}

func TestFastPathAgrees(t *testing.T) {
	tests := []struct {
		name  string
		frame string
		fast  bool // whether the fast path must take it
	}{
		{"depth15 doc", frameDepth15, true},
		{"depth15 full", string(depth15()), true},
		{"trade doc", frameTrade, true},
		{"empty levels", `{"ch":"depth_book5","symbol":"NOPE","ts":1,"data":{"b":[["",""],["",""]],"a":[["",""]]}}`, true},
		{"numeric levels, string ts", `{"ch":"depth_book1","symbol":"ETHUSDT","ts":"2","data":{"b":[[3000.5,1]],"a":[[3001,2.5]]}}`, true},
		{"null level price", `{"ch":"depth_book1","symbol":"X","ts":1,"data":{"b":[[null,"1"]],"a":null}}`, true},
		{"empty depth data", `{"ch":"depth_book1","symbol":"X","ts":1,"data":{}}`, true},
		{"asks first, spaces", " {\n\t\"ch\" : \"depth_book5\" , \"ts\":7,\"symbol\":\"X\",\r\n\"data\":{ \"a\":[ [ \"1\" , \"2\" ] ] , \"b\" : [ ] } } \n", true},
		{"no symbol, ts null", `{"ch":"depth_book1","ts":null,"data":{"b":[],"a":[]}}`, true},
		{"mixed trades", `{"ch":"trade","symbol":"BTCUSDT","ts":5,"data":[{"p":1,"s":"SELL","t":"2025-06-01T18:44:52.123456789Z","v":"2"},{"p":"2","s":"Sell","t":1748803492958,"v":"3"}]}`, true},
		{"trade object", `{"ch":"trade","symbol":"X","ts":9,"data":{"p":"1","v":"2","s":"buy"}}`, true},
		{"trade empty fields", `{"ch":"trade","symbol":"X","ts":9,"data":[{},{"p":"","v":null,"s":null,"t":""}]}`, true},
		{"trade offset time", `{"ch":"trade","symbol":"X","ts":9,"data":[{"p":"1","v":"1","s":"buy","t":"2025-06-01T18:44:52+02:00"}]}`, true},
		{"trade null data", `{"ch":"trade","symbol":"X","ts":9,"data":null}`, true},
		{"trade empty list", `{"ch":"trade","symbol":"X","ts":9,"data":[]}`, true},
		// Shapes the fast path leaves to the general decoder.
		{"ticker", frameTicker, false},
		{"control", `{"op":"ping","ping":1}`, false},
		{"bad price", `{"ch":"depth_book1","symbol":"X","ts":1,"data":{"b":[["x","1"]],"a":[]}}`, false},
		{"escaped symbol", `{"ch":"trade","symbol":"B\u0054C","ts":1,"data":[]}`, false},
		{"duplicate key", `{"ch":"trade","ch":"ticker","ts":1,"data":[]}`, false},
		{"duplicate levels", `{"ch":"depth_book1","ts":1,"data":{"b":[["1","1"]],"b":[]}}`, false},
		{"field after data", `{"ch":"trade","data":[],"symbol":"X"}`, false},
		{"data before ch", `{"data":[],"ch":"trade"}`, false},
		{"extra key", `{"ch":"trade","symbol":"X","id":1,"data":[]}`, false},
		{"three-element level", `{"ch":"depth_book1","ts":1,"data":{"b":[["1","1","x"]]}}`, false},
		{"float ts", `{"ch":"trade","ts":1.5,"data":[]}`, false},
		{"negative ts", `{"ch":"trade","ts":-1,"data":[]}`, false},
		{"numeric side", `{"ch":"trade","ts":1,"data":[{"s":1}]}`, false},
		{"bad time", `{"ch":"trade","ts":1,"data":[{"t":"yesterday"}]}`, false},
		{"trailing garbage", frameTrade + "x", false},
		{"trailing comma", `{"ch":"trade","ts":1,"data":[],}`, false},
		{"no data", `{"ch":"trade","ts":1}`, false},
		{"truncated", frameDepth15[:len(frameDepth15)-3], false},
		{"nan level", `{"ch":"depth_book1","ts":1,"data":{"b":[[-nan,"1"]]}}`, false},
	}
	fastDec, generalDec := NewPublicDecoder(), NewPublicDecoder()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if took := checkFastAgrees(t, fastDec, generalDec, []byte(tc.frame)); took != tc.fast {
				t.Errorf("fast path taken = %v, want %v", took, tc.fast)
			}
			// Decode (fast path first) must give what the general decoder alone gives.
			ev, err := NewPublicDecoder().Decode([]byte(tc.frame))
			gev, gerr := NewPublicDecoder().decodeGeneral([]byte(tc.frame))
			if (err == nil) != (gerr == nil) || err != nil && err.Error() != gerr.Error() {
				t.Fatalf("Decode err = %v, general err = %v", err, gerr)
			}
			if err == nil && ev.Kind != KindUnknown {
				if ev.Kind != KindDepth && ev.Kind != KindTrade {
					return
				}
				if what, same := sameEvent(ev, gev); !same {
					t.Errorf("Decode and general decoder disagree on %s", what)
				}
			}
		})
	}
}

// FuzzPublicDecodeDifferential cross-checks the fast path against the
// general decoder on every input: they agree, or the fast path defers.
func FuzzPublicDecodeDifferential(f *testing.F) {
	publicSeeds(f)
	for _, s := range []string{
		`{"ch":"depth_book1","symbol":"ETHUSDT","ts":"2","data":{"b":[[3000.5,1]],"a":[[3001,2.5]]}}`,
		`{"ch":"trade","symbol":"BTCUSDT","ts":5,"data":[{"p":1,"s":"SELL","t":"2025-06-01T18:44:52.123456789Z","v":"2"},{"p":"2","s":"Sell","t":1748803492958,"v":"3"}]}`,
		`{"ch":"trade","symbol":"X","ts":9,"data":{"p":"1","v":"2","s":"buy"}}`,
		`{"ch":"depth_book1","ts":null,"data":{"b":[[null,1e3]],"a":null}}`,
	} {
		f.Add([]byte(s))
	}
	fastDec, generalDec := NewPublicDecoder(), NewPublicDecoder()
	f.Fuzz(func(t *testing.T, b []byte) {
		checkFastAgrees(t, fastDec, generalDec, b)
	})
}
