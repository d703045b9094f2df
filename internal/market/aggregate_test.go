package market

import (
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/trading"
)

// TestAggregateKline: 1-minute klines fold into 5-minute candles that close
// with the bucket's last minute; 1m and non-multiple intervals are left to
// OnKline.
func TestAggregateKline(t *testing.T) {
	m, err := New(Config{DepthLevels: 2, StatsWindow: time.Second, StatsMaxTrades: 2,
		CandleIntervals: []time.Duration{time.Minute, 5 * time.Minute, 90 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	s := m.Symbol("BTCUSDT")
	start := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	//            open high low close volume
	rows := [][5]string{
		{"10", "12", "9", "11", "1"},
		{"11", "15", "10", "14", "2"},
		{"14", "14", "8", "9", "3"},
		{"9", "10", "9", "10", "1"},
		{"10", "11", "10", "11", "1"}, // closes 03:00-03:05
		{"11", "13", "11", "12", "5"}, // opens the next bucket
	}
	var got []trading.Kline
	for i, r := range rows {
		k := trading.Kline{Symbol: "BTCUSDT", OpenTime: start.Add(time.Duration(i) * time.Minute), Interval: time.Minute,
			Open: d(r[0]), High: d(r[1]), Low: d(r[2]), Close: d(r[3]), Volume: d(r[4])}
		if err := s.OnKline(k.OpenTime.Add(time.Minute), k); err != nil {
			t.Fatal(err)
		}
		closed := s.AggregateKline(k)
		if i < 4 && len(closed) != 0 {
			t.Fatalf("minute %d closed %+v early", i, closed)
		}
		got = append(got, closed...)
	}
	want := trading.Kline{Symbol: "BTCUSDT", OpenTime: start, Interval: 5 * time.Minute,
		Open: d("10"), High: d("15"), Low: d("8"), Close: d("11"), Volume: d("8")}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("closed %+v, want %+v", got, want)
	}
	if last, ok := s.LastCandle(5 * time.Minute); !ok || last != want {
		t.Fatalf("last 5m candle %+v", last)
	}
	if open, ok := s.OpenCandle(5 * time.Minute); !ok || open.Open != d("11") || open.Volume != d("5") {
		t.Fatalf("open 5m candle %+v", open)
	}
	if _, ok := s.OpenCandle(90 * time.Second); ok {
		t.Fatal("a 90s candle from 1m klines: not a whole multiple, must stay empty")
	}
}
