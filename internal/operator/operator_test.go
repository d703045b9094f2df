package operator

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/bitunix"
)

func newClient(t *testing.T, routes map[string]string) *bitunix.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/api/v1/futures/")
		body, ok := routes[name]
		if !ok {
			body = `{"code":404,"data":null,"msg":"Not Found"}`
		}
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	c, err := bitunix.New(bitunix.Config{BaseURL: srv.URL, APIKey: "k", Secret: "s",
		Backoff: func(int) time.Duration { return time.Millisecond }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var accountRoutes = map[string]string{
	"account":                        `{"code":0,"data":{"marginCoin":"USDT","available":"1000.5","frozen":"10","margin":"50","crossUnrealizedPNL":"2.5","positionMode":"ONE_WAY"}}`,
	"position/get_pending_positions": `{"code":0,"data":[{"positionId":"P1","symbol":"BTCUSDT","side":"BUY","qty":"0.01","avgOpenPrice":"60000","leverage":"10","unrealizedPNL":"2.5","liqPrice":"50000"}]}`,
	"trade/get_pending_orders":       `{"code":0,"data":{"orderList":[{"orderId":"O1","clientId":"c1","symbol":"BTCUSDT","side":"SELL","orderType":"LIMIT","price":"65000","qty":"0.01","tradeQty":"0","status":"NEW"}],"total":1}}`,
}

func TestAccountTable(t *testing.T) {
	c := newClient(t, accountRoutes)
	var buf bytes.Buffer
	if err := Account(context.Background(), c, &buf, "", false); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"1000.5", "P1", "BTCUSDT", "BUY", "60000", "O1", "c1", "SELL", "LIMIT", "65000", "NEW", "POSITIONS (1)", "OPEN ORDERS (1)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Columns are aligned: the header and the row start their second column at the same offset.
	lines := strings.Split(out, "\n")
	if strings.Index(lines[1], "AVAILABLE") != strings.Index(lines[2], "1000.5") {
		t.Errorf("columns not aligned:\n%s\n%s", lines[1], lines[2])
	}
}

func TestAccountJSON(t *testing.T) {
	c := newClient(t, accountRoutes)
	var buf bytes.Buffer
	if err := Account(context.Background(), c, &buf, "BTCUSDT", true); err != nil {
		t.Fatal(err)
	}
	var v accountView
	if err := json.Unmarshal(buf.Bytes(), &v); err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	if v.Balance.Available != "1000.5" || v.Balance.UnrealizedPNL != "2.5" || len(v.Positions) != 1 || v.Positions[0].Leverage != 10 ||
		len(v.Orders) != 1 || v.Orders[0].Price != "65000" {
		t.Errorf("json = %+v", v)
	}
}

func TestCancelAllReportsFailures(t *testing.T) {
	c := newClient(t, map[string]string{"trade/cancel_all_orders": `{"code":0,"data":{"successList":[{"orderId":"O1","clientId":"c1"}],"failureList":[{"orderId":"O2","errorCode":"10013","errorMsg":"Order status error"}]}}`})
	var buf bytes.Buffer
	err := CancelAll(context.Background(), c, &buf, "BTCUSDT", false)
	if err == nil || !strings.Contains(buf.String(), "1 canceled, 1 failed") || !strings.Contains(buf.String(), "10013") {
		t.Errorf("err %v out:\n%s", err, buf.String())
	}
	buf.Reset()
	c = newClient(t, map[string]string{"trade/cancel_all_orders": `{"code":0,"data":{"successList":[],"failureList":[]}}`})
	if err := CancelAll(context.Background(), c, &buf, "", true); err != nil || !strings.Contains(buf.String(), `"canceled": []`) {
		t.Errorf("err %v out %s", err, buf.String())
	}
}

func TestCloseAll(t *testing.T) {
	c := newClient(t, map[string]string{"trade/close_all_position": `{"code":0,"data":""}`})
	var buf bytes.Buffer
	if err := CloseAll(context.Background(), c, &buf, "", false); err != nil || !strings.Contains(buf.String(), "all symbols") {
		t.Errorf("err %v out %s", err, buf.String())
	}
	c = newClient(t, map[string]string{"trade/close_all_position": `{"code":30004,"data":null,"msg":"position does not exist"}`})
	if err := CloseAll(context.Background(), c, &buf, "BTCUSDT", false); err == nil {
		t.Error("API error swallowed")
	}
}

func TestMarket(t *testing.T) {
	c := newClient(t, map[string]string{
		"market/trading_pairs": `{"code":0,"data":[{"symbol":"BTCUSDT","base":"BTC","quote":"USDT","minTradeVolume":"0.0001","basePrecision":4,"quotePrecision":1,"maxLeverage":125,"symbolStatus":"OPEN"}]}`,
		"market/tickers":       `{"code":0,"data":[{"symbol":"BTCUSDT","lastPrice":"60000.5","markPrice":"60000.4","high":"61000","low":"59000","quoteVol":"123456"}]}`,
	})
	var buf bytes.Buffer
	if err := Market(context.Background(), c, &buf, "BTCUSDT", false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"BTCUSDT", "OPEN", "0.1", "0.0001", "125", "60000.5", "60000.4"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("market output lacks %q:\n%s", want, buf.String())
		}
	}
	buf.Reset()
	if err := Market(context.Background(), c, &buf, "", true); err != nil {
		t.Fatal(err)
	}
	var rows []marketJSON
	if err := json.Unmarshal(buf.Bytes(), &rows); err != nil || len(rows) != 1 || rows[0].Tick != "0.1" || rows[0].Last != "60000.5" {
		t.Errorf("json rows %+v err %v", rows, err)
	}
}
