package sim

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/bitrader/bitrader/internal/instrument"
	"github.com/bitrader/bitrader/internal/marketdata"
	"github.com/bitrader/bitrader/internal/trading"
)

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

// openReplay opens path for `--market-data replay:FILE`. The format is
// detected: klines (ours or a Binance dump) go through marketdata.Replay,
// trades through tradeReplay. Times are shifted so the file's first event
// happens at start, the simulator's start time.
func openReplay(path string, sc SymbolConfig, fundingInterval time.Duration, start time.Time) (marketdata.Source, error) {
	format, err := detectFile(path)
	if err != nil {
		return nil, fmt.Errorf("sim: replay %s: %w", path, err)
	}
	sym := sc.Spec.Symbol
	var src marketdata.Source
	var closer io.Closer
	switch format {
	case marketdata.FormatTrades:
		tr, err := marketdata.OpenTrades(path, marketdata.TradeOptions{Symbol: sym})
		if err != nil {
			return nil, fmt.Errorf("sim: replay %s: %w", path, err)
		}
		src, closer = &tradeReplay{r: tr, spec: sc.Spec}, tr
	default:
		r, err := marketdata.OpenReplay(path,
			marketdata.KlineOptions{Symbol: sym, Format: format, AllowGaps: true},
			marketdata.ReplayConfig{Spec: sc.Spec, FundingInterval: fundingInterval})
		if err != nil {
			return nil, fmt.Errorf("sim: replay %s: %w", path, err)
		}
		src, closer = r, r
	}
	return &shiftedSource{src: src, closer: closer, start: start, name: path}, nil
}

func detectFile(path string) (marketdata.Format, error) {
	f, err := os.Open(path)
	if err != nil {
		return marketdata.FormatAuto, err
	}
	defer f.Close()
	return marketdata.DetectReader(bufio.NewReader(f))
}

// shiftedSource moves a recorded stream in time so its first event falls
// at start, and closes the file when the stream ends.
type shiftedSource struct {
	src    marketdata.Source
	closer io.Closer
	name   string
	start  time.Time
	shift  time.Duration
	primed bool
	err    error // sticky end: io.EOF or the failure
}

func (s *shiftedSource) Next() (marketdata.Event, error) {
	if s.err != nil {
		return marketdata.Event{}, s.err
	}
	ev, err := s.src.Next()
	if err != nil {
		if err != io.EOF {
			err = fmt.Errorf("sim: replay %s: %w", s.name, err)
		}
		s.err = err
		_ = s.Close()
		return marketdata.Event{}, err
	}
	if !s.primed {
		s.shift, s.primed = s.start.Sub(ev.Time()), true
	}
	switch ev.Kind {
	case marketdata.KindBook:
		ev.Book.Time = ev.Book.Time.Add(s.shift)
	case marketdata.KindTrade:
		ev.Trade.Time = ev.Trade.Time.Add(s.shift)
	case marketdata.KindMark:
		ev.Mark.Time = ev.Mark.Time.Add(s.shift)
		if !ev.Mark.NextFundingTime.IsZero() {
			ev.Mark.NextFundingTime = ev.Mark.NextFundingTime.Add(s.shift)
		}
	}
	return ev, nil
}

// Close releases the file; Server.Close calls it for streams cut short.
func (s *shiftedSource) Close() error {
	if s.closer == nil {
		return nil
	}
	c := s.closer
	s.closer = nil
	return c.Close()
}

// replayFundingRate is the constant funding rate of replayed trades'
// marks, the default marketdata.Replay uses for klines.
const replayFundingRate = marketdata.DefaultFundingRate

// tradeReplay turns recorded trades into events: for each print, a book
// whose touch is at the print on the aggressor's side (the ask for a buy,
// the bid for a sell, as marketdata.Replay places it), the trade, and a
// mark (= index) at the print.
type tradeReplay struct {
	r     *marketdata.TradeReader
	spec  instrument.Spec
	queue [3]marketdata.Event
	n, i  int
}

func (t *tradeReplay) Next() (marketdata.Event, error) {
	if t.i >= t.n {
		tr, err := t.r.Next()
		if err != nil {
			return marketdata.Event{}, err
		}
		p := t.spec.RoundPrice(tr.Price)
		tr.Price = p
		t.queue = [3]marketdata.Event{
			{Kind: marketdata.KindBook, Book: marketdata.TouchBook(t.spec, tr.Symbol, p, tr.Side, tr.Time, marketdata.DefaultTouchDepth, marketdata.DefaultTouchQty(t.spec))},
			{Kind: marketdata.KindTrade, Trade: tr},
			{Kind: marketdata.KindMark, Mark: trading.MarkPrice{Symbol: tr.Symbol, Mark: p, Index: p, FundingRate: replayFundingRate, Time: tr.Time}},
		}
		t.n, t.i = len(t.queue), 0
	}
	ev := t.queue[t.i]
	t.i++
	return ev, nil
}
