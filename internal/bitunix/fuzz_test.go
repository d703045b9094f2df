package bitunix

import (
	"errors"
	"testing"

	"github.com/valyala/fastjson"
)

func publicSeeds(f *testing.F) {
	for _, s := range []string{frameDepth15, frameTrade, frameTicker, frameTickers, frameKline, framePrice,
		`{"op":"connect","data":{"result":true}}`, `{"ch":"depth_book5","symbol":"X","ts":1,"data":{"b":[["",""]],"a":[["",""]]}}`,
		`{"ch":"mark_kline_1month","symbol":"X","ts":"1","data":[{"o":1}]}`, `{"ch":"tickers","data":{"s":"X"}}`} {
		f.Add([]byte(s))
	}
	f.Add(depth15())
}

func FuzzPublicDecode(f *testing.F) {
	publicSeeds(f)
	d := NewPublicDecoder()
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := d.Decode(b)
		if err == nil && ev == nil {
			t.Fatal("nil event without error")
		}
		if len(d.str) > maxInterned {
			t.Fatal("interner unbounded")
		}
	})
}

func FuzzPrivateDecode(f *testing.F) {
	for _, s := range []string{frameBalance, framePosition, frameOrder, frameTPSL, `{"op":"login","data":{"result":true}}`,
		`{"ch":"order","ts":1,"data":[{"side":"Sell","price":"market","orderStatus":"NEW_","qty":1}]}`} {
		f.Add([]byte(s))
	}
	d := NewPrivateDecoder()
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := d.Decode(b)
		if err == nil && ev == nil {
			t.Fatal("nil event without error")
		}
	})
}

// FuzzTolerantFields drives every tolerant field decoder with arbitrary JSON values.
func FuzzTolerantFields(f *testing.F) {
	for _, s := range []string{`"1.5"`, `1.5`, `""`, `null`, `"market"`, `"2025-04-26T17:06:13.155255000Z"`, `1748803492958`,
		`"1748803492958"`, `true`, `"true"`, `[{"a":1}]`, `{}`, `"9999999999999999999999"`, `-0`, `1e400`} {
		f.Add([]byte(s))
	}
	var p fastjson.Parser
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := p.ParseBytes(b)
		if err != nil {
			return
		}
		_, _ = fixedOf(v)
		_, _ = intOf(v)
		_, _ = timeOf(v)
		_ = boolOf(v)
		_ = strOf(v)
		_ = objectOrFirst(v)
		_ = listOf(v)
		_, _ = parseISO(b)
		_, _ = decodeOrder(objectOrFirst(v))
		_, _ = decodePosition(objectOrFirst(v))
		_, _ = decodeTPSL(objectOrFirst(v))
		_, _ = decodeBalance(objectOrFirst(v))
	})
}

// FuzzEnvelope drives the REST envelope and every REST data decoder.
func FuzzEnvelope(f *testing.F) {
	for _, s := range []string{`{"code":0,"msg":"Success","data":{"orderId":"1","clientId":"c"}}`,
		`{"code":10007,"data":null,"msg":"Signature Error"}`, `{"code":"0","data":[{"symbol":"BTCUSDT","basePrecision":4}]}`,
		`{"code":0,"data":{"orderList":[{"price":"market","side":"Buy"}],"total":"1"}}`, `<html>`, `{"code":0,"data":""}`,
		`{"code":0,"data":{"successList":[{"orderId":1}],"failureList":[{"errorCode":"10013"}]}}`} {
		f.Add([]byte(s))
	}
	decoders := []func(*fastjson.Value) error{
		func(v *fastjson.Value) error { _, err := decodeAck(v); return err },
		func(v *fastjson.Value) error { _, err := decodeBatch(v); return err },
		func(v *fastjson.Value) error {
			for _, x := range listOf(v) {
				_, _ = decodeSpec(x)
				_, _ = decodeFunding(x)
			}
			return nil
		},
		func(v *fastjson.Value) error { _, err := levels(nil, v); return err },
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var p fastjson.Parser // reused across decoders, as the client reuses pooled parsers
		for _, d := range decoders {
			err := decodeEnvelope(&p, b, "fuzz", d)
			var apiErr *APIError
			if err != nil && !IsAmbiguous(err) && !errors.As(err, &apiErr) {
				t.Fatalf("unclassified error %v", err)
			}
		}
	})
}
