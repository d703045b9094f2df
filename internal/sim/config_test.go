package sim

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/bitrader/bitrader/internal/fixed"
)

func TestParseAccountFlag(t *testing.T) {
	cases := []struct {
		in      string
		want    Account
		wantErr bool
	}{
		{"k:s", Account{APIKey: "k", Secret: "s"}, false},
		{"k:s:2500.5", Account{APIKey: "k", Secret: "s", Balance: fixed.MustParse("2500.5")}, false},
		{"k", Account{}, true},
		{"k::1", Account{}, true},
		{"k:s:abc", Account{}, true},
		{"k:s:1:2", Account{}, true},
	}
	for _, c := range cases {
		got, err := ParseAccountFlag(c.in)
		if (err != nil) != c.wantErr || (!c.wantErr && got != c.want) {
			t.Errorf("ParseAccountFlag(%q) = %+v, %v", c.in, got, err)
		}
	}
}

func TestLoadAccountsFile(t *testing.T) {
	dir := t.TempDir()
	y := filepath.Join(dir, "a.yaml")
	j := filepath.Join(dir, "a.json")
	_ = os.WriteFile(y, []byte("- apiKey: a\n  secret: b\n  balance: \"100\"\n- apiKey: c\n  secret: d\n"), 0o600)
	_ = os.WriteFile(j, []byte(`[{"apiKey":"a","secret":"b","balance":"100"}]`), 0o600)
	for _, p := range []string{y, j} {
		got, err := LoadAccountsFile(p)
		if err != nil || got[0] != (Account{APIKey: "a", Secret: "b", Balance: fixed.FromInt(100)}) {
			t.Errorf("%s: %+v %v", p, got, err)
		}
	}
}

func FuzzOrderBody(f *testing.F) {
	f.Add(`{"symbol":"BTCUSDT","side":"BUY","tradeSide":"OPEN","orderType":"LIMIT","qty":"0.001","price":"60000","effect":"GTC","clientId":"bot-0001","reduceOnly":false}`)
	f.Add(`{"symbol":"btcusdt","side":"sell","orderType":"MARKET","qty":1,"positionId":12,"tpPrice":"1","tpStopType":"LAST"}`)
	srv, err := New(Config{Clock: NewManualClock(testStart)})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var b orderBody
		if decodeBody([]byte(body), &b) != nil {
			return
		}
		_, _ = srv.orderRequest("k", b.Symbol, &b) // must not panic
	})
}

func TestFeeConstants(t *testing.T) {
	for _, tc := range []struct {
		got  fixed.Value
		want string
	}{
		{DefaultMakerFee, "0.0002"}, {DefaultTakerFee, "0.0006"}, {defaultBalance, "10000"},
		{maintenanceMarginRate, "0.005"}, {maxFundingPct, "0.75"}, {replayFundingRate, "0.0001"},
	} {
		if tc.got != fixed.MustParse(tc.want) {
			t.Errorf("constant %s, want %s", tc.got, tc.want)
		}
	}
}

func TestParseMarketData(t *testing.T) {
	for _, tt := range []struct {
		in   string
		file string
		ok   bool
	}{{"synthetic", "", true}, {"replay:a.csv", "a.csv", true}, {"replay:", "", false}, {"live", "", false}} {
		md, err := ParseMarketData(tt.in, 7)
		if (err == nil) != tt.ok || (tt.ok && (md.ReplayFile != tt.file || md.Seed != 7)) {
			t.Errorf("ParseMarketData(%q) = %+v, %v", tt.in, md, err)
		}
	}
}
