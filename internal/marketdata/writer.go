package marketdata

import (
	"bufio"
	"fmt"
	"io"
	"strconv"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/trading"
)

// KlineHeader and TradeHeader are the header rows the writers emit.
const (
	KlineHeader = "open_time,open,high,low,close,volume"
	TradeHeader = "time,price,qty,side"
)

// KlineWriter writes klines as CSV with KlineHeader, open_time in epoch
// milliseconds and numbers in their shortest exact decimal form. Call Flush
// at the end; the header is written even when there are no rows.
type KlineWriter struct {
	w      *bufio.Writer
	buf    []byte
	header bool
}

// NewKlineWriter returns a writer to w.
func NewKlineWriter(w io.Writer) *KlineWriter {
	return &KlineWriter{w: bufio.NewWriterSize(w, 64<<10), buf: make([]byte, 0, 128)}
}

// Write appends one kline.
func (kw *KlineWriter) Write(k trading.Kline) error {
	if err := kw.writeHeader(); err != nil {
		return err
	}
	b := strconv.AppendInt(kw.buf[:0], k.OpenTime.UnixMilli(), 10)
	for _, v := range [...]fixed.Value{k.Open, k.High, k.Low, k.Close, k.Volume} {
		b = append(b, ',')
		b = v.AppendText(b)
	}
	b = append(b, '\n')
	kw.buf = b
	if _, err := kw.w.Write(b); err != nil {
		return fmt.Errorf("write kline: %w", err)
	}
	return nil
}

func (kw *KlineWriter) writeHeader() error {
	if kw.header {
		return nil
	}
	kw.header = true
	if _, err := kw.w.WriteString(KlineHeader + "\n"); err != nil {
		return fmt.Errorf("write kline header: %w", err)
	}
	return nil
}

// Flush writes any buffered data (and the header, if nothing else was
// written).
func (kw *KlineWriter) Flush() error {
	if err := kw.writeHeader(); err != nil {
		return err
	}
	if err := kw.w.Flush(); err != nil {
		return fmt.Errorf("flush klines: %w", err)
	}
	return nil
}

// TradeWriter writes trades as CSV with TradeHeader, time in epoch
// milliseconds and side as buy or sell.
type TradeWriter struct {
	w      *bufio.Writer
	buf    []byte
	header bool
}

// NewTradeWriter returns a writer to w.
func NewTradeWriter(w io.Writer) *TradeWriter {
	return &TradeWriter{w: bufio.NewWriterSize(w, 64<<10), buf: make([]byte, 0, 96)}
}

// Write appends one trade.
func (tw *TradeWriter) Write(t trading.Trade) error {
	if err := tw.writeHeader(); err != nil {
		return err
	}
	b := strconv.AppendInt(tw.buf[:0], t.Time.UnixMilli(), 10)
	b = append(b, ',')
	b = t.Price.AppendText(b)
	b = append(b, ',')
	b = t.Qty.AppendText(b)
	switch t.Side {
	case trading.Buy:
		b = append(b, ",buy\n"...)
	case trading.Sell:
		b = append(b, ",sell\n"...)
	default:
		return fmt.Errorf("write trade at %s: invalid side %v", fmtTime(t.Time), t.Side)
	}
	tw.buf = b
	if _, err := tw.w.Write(b); err != nil {
		return fmt.Errorf("write trade: %w", err)
	}
	return nil
}

func (tw *TradeWriter) writeHeader() error {
	if tw.header {
		return nil
	}
	tw.header = true
	if _, err := tw.w.WriteString(TradeHeader + "\n"); err != nil {
		return fmt.Errorf("write trade header: %w", err)
	}
	return nil
}

// Flush writes any buffered data.
func (tw *TradeWriter) Flush() error {
	if err := tw.writeHeader(); err != nil {
		return err
	}
	if err := tw.w.Flush(); err != nil {
		return fmt.Errorf("flush trades: %w", err)
	}
	return nil
}
