package marketdata

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/trading"
)

// The committed samples must be exactly what the generator produces. After a
// deliberate change to the generator, regenerate them with
//
//	BITRADER_UPDATE_SAMPLE=1 go test ./internal/marketdata -run TestSample
const (
	sampleKlines = "../../testdata/sample/BTCUSDT-1m.csv"
	sampleTrades = "../../testdata/sample/BTCUSDT-trades.csv"
)

func sampleKlineBytes(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	kw := NewKlineWriter(&buf)
	if err := GenerateKlines(context.Background(), SampleConfig(), time.Minute, kw.Write); err != nil {
		t.Fatal(err)
	}
	if err := kw.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sampleTradeBytes writes the first 20 minutes of the sample generator's trades.
func sampleTradeBytes(t testing.TB) []byte {
	t.Helper()
	cfg := SampleConfig()
	cfg.End = cfg.Start.Add(20 * time.Minute)
	g, err := NewGenerator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := NewTradeWriter(&buf)
	for ev := range g.All() {
		if ev.Kind == KindTrade && ev.Trade.Time.Before(cfg.End) {
			if err := tw.Write(ev.Trade); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestSampleFilesComeFromGenerator(t *testing.T) {
	for _, tc := range []struct {
		path string
		gen  func(testing.TB) []byte
	}{
		{sampleKlines, sampleKlineBytes},
		{sampleTrades, sampleTradeBytes},
	} {
		t.Run(filepath.Base(tc.path), func(t *testing.T) {
			want := tc.gen(t)
			if os.Getenv("BITRADER_UPDATE_SAMPLE") == "1" {
				if err := os.WriteFile(tc.path, want, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := os.ReadFile(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s differs from the generator's output (%d vs %d bytes); regenerate it (see the comment above)", tc.path, len(got), len(want))
			}
			if len(got) > 300<<10 {
				t.Errorf("%s is %d bytes, over the 300 KB budget", tc.path, len(got))
			}
		})
	}
}

// The committed sample must also read back cleanly: 3 days of gap-free 1m
// klines.
func TestSampleKlinesRead(t *testing.T) {
	r, err := OpenKlines(sampleKlines, KlineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var n int
	var first, last trading.Kline
	for k, err := range r.All() {
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			first = k
		}
		last = k
		n++
	}
	if n != 3*24*60 {
		t.Errorf("rows = %d, want %d", n, 3*24*60)
	}
	if first.Symbol != "BTCUSDT" || first.Interval != time.Minute || !first.OpenTime.Equal(SampleConfig().Start) {
		t.Errorf("first kline = %+v", first)
	}
	if !last.OpenTime.Equal(SampleConfig().End.Add(-time.Minute)) {
		t.Errorf("last open time = %s", last.OpenTime)
	}
}
