package sim

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/marketdata"
	"github.com/bitrader/bitrader/internal/trading"
)

// klineReplay turns recorded klines into book, trade and mark events,
// shifted so the first candle opens at the simulator's start time. Each
// candle becomes four prints (open, the nearer extreme, the farther
// extreme, close), each with a one-tick-spread book and a mark at the print.
type klineReplay struct {
	r      *marketdata.KlineReader
	sc     SymbolConfig
	shift  time.Duration
	start  time.Time
	queue  []marketdata.Event
	primed bool
}

// replaySymbol says which configured symbol a replay file drives: the one
// named by the file, else the first.
func replaySymbol(path string, syms []SymbolConfig) string {
	name := strings.ToUpper(marketdata.SymbolFromFileName(path))
	for _, s := range syms {
		if s.Spec.Symbol == name {
			return name
		}
	}
	return syms[0].Spec.Symbol
}

func openReplay(path string, sc SymbolConfig, now time.Time) (marketdata.Source, error) {
	r, err := marketdata.OpenKlines(path, marketdata.KlineOptions{Symbol: sc.Spec.Symbol, AllowGaps: true})
	if err != nil {
		return nil, fmt.Errorf("sim: replay %s: %w", path, err)
	}
	return &klineReplay{r: r, sc: sc, start: now}, nil
}

func (k *klineReplay) Next() (marketdata.Event, error) {
	for len(k.queue) == 0 {
		kl, err := k.r.Next()
		if err != nil {
			_ = k.r.Close()
			if err == io.EOF {
				return marketdata.Event{}, io.EOF
			}
			return marketdata.Event{}, fmt.Errorf("sim: replay: %w", err)
		}
		if !k.primed {
			k.shift, k.primed = k.start.Sub(kl.OpenTime), true
		}
		k.expand(kl)
	}
	ev := k.queue[0]
	k.queue = k.queue[1:]
	return ev, nil
}

func (k *klineReplay) expand(kl trading.Kline) {
	iv := kl.Interval
	if iv <= 0 {
		iv = time.Minute
	}
	a, b := kl.High, kl.Low
	if kl.Close > kl.Open { // rising candle: low first
		a, b = kl.Low, kl.High
	}
	spec := k.sc.Spec
	qty := spec.RoundQty(kl.Volume.DivInt(4)).Max(spec.LotStep())
	prices := [4]fixed.Value{kl.Open, a, b, kl.Close}
	prev := kl.Open
	for i, p := range prices {
		t := kl.OpenTime.Add(k.shift + iv*time.Duration(i)/4)
		side := trading.Buy
		if p < prev {
			side = trading.Sell
		}
		prev = p
		k.queue = append(k.queue,
			marketdata.Event{Kind: marketdata.KindBook, Book: syntheticBook(spec.Symbol, p, spec.Tick(), qty.MulInt(20), 20, t)},
			marketdata.Event{Kind: marketdata.KindTrade, Trade: trading.Trade{Symbol: spec.Symbol, Price: p, Qty: qty, Side: side, Time: t}},
			marketdata.Event{Kind: marketdata.KindMark, Mark: trading.MarkPrice{Symbol: spec.Symbol, Mark: p, Index: p, FundingRate: fixed.MustParse("0.0001"), Time: t}},
		)
	}
}

// syntheticBook is a book with one-tick spread around p.
func syntheticBook(sym string, p, tick, qty fixed.Value, levels int, t time.Time) trading.Book {
	b := trading.Book{Symbol: sym, Time: t, Bids: make([]trading.Level, levels), Asks: make([]trading.Level, levels)}
	for i := range levels {
		b.Bids[i] = trading.Level{Price: p - tick.MulInt(int64(i)), Qty: qty}
		b.Asks[i] = trading.Level{Price: p + tick.MulInt(int64(i+1)), Qty: qty}
	}
	return b
}
