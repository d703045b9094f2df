package marketdata

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// The readers must never panic and must fail only with *ParseError (or a
// clean EOF) whatever the bytes.
func FuzzKlineReader(f *testing.F) {
	f.Add("open_time,open,high,low,close,volume\n0,1,2,0.5,1,3\n60000,1,1,1,1,1\n")
	f.Add(binanceRow1 + "\n" + binanceRow2 + "\n")
	f.Add("Volume,CLOSE,low,high,open,open_time\r\n1,1,1,1,1,2024-01-01T00:00:00Z\r\n")
	f.Add("open_time,open,high,low,close,volume\n\"1\",,,\n")
	f.Fuzz(func(t *testing.T, in string) {
		r := NewKlineReader(strings.NewReader(in), KlineOptions{File: "f.csv"})
		for range 1000 {
			k, err := r.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				var pe *ParseError
				if !errors.As(err, &pe) {
					t.Fatalf("error %v is not a *ParseError", err)
				}
				return
			}
			if k.High < k.Low {
				t.Fatalf("accepted high < low: %+v", k)
			}
		}
	})
}

func FuzzTradeReader(f *testing.F) {
	f.Add("time,price,qty,side\n0,1,1,buy\n1,2,3,SELL\n")
	f.Add("side,qty,price,timestamp\nsell,1,1,2024-01-01T00:00:00.123+02:00\n")
	f.Fuzz(func(t *testing.T, in string) {
		r := NewTradeReader(strings.NewReader(in), TradeOptions{File: "f.csv"})
		for range 1000 {
			tr, err := r.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				var pe *ParseError
				if !errors.As(err, &pe) {
					t.Fatalf("error %v is not a *ParseError", err)
				}
				return
			}
			if tr.Price <= 0 || tr.Qty <= 0 {
				t.Fatalf("accepted %+v", tr)
			}
		}
	})
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"1704067200000", "2024-02-29T12:30:15.123456789Z", "2024-01-01 01:00:00+01:00", "9999-12-31T23:59:59-23:59"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, ok := parseTime([]byte(in))
		if !ok || allDigits([]byte(in)) {
			return
		}
		// Whatever the fast path accepts, the standard library must agree on.
		std, err := timeParseStd(in)
		if err == nil && !std.Equal(got) {
			t.Fatalf("parseTime(%q) = %s, time.Parse = %s", in, got, std)
		}
	})
}

func FuzzDetect(f *testing.F) {
	f.Add("open_time,open,high,low,close,volume")
	f.Add(binanceRow1)
	f.Fuzz(func(t *testing.T, in string) {
		_, _ = Detect([]byte(in))
	})
}

func timeParseStd(s string) (time.Time, error) {
	if len(s) > 10 && s[10] == ' ' {
		s = s[:10] + "T" + s[11:]
	}
	return time.Parse(time.RFC3339Nano, s)
}
