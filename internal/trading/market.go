package trading

import (
	"time"

	"github.com/bitrader/bitrader/internal/fixed"
)

// Level is one price level of an order book.
type Level struct {
	Price fixed.Value
	Qty   fixed.Value
}

// Book is a full-window order book snapshot, as Bitunix's depth_book1/5/15
// channels push it: bids descending, asks ascending.
type Book struct {
	Symbol string
	Bids   []Level
	Asks   []Level
	Time   time.Time // exchange timestamp
}

// BestBid returns the best bid, or a zero Level if there is none.
func (b *Book) BestBid() Level {
	if len(b.Bids) == 0 {
		return Level{}
	}
	return b.Bids[0]
}

// BestAsk returns the best ask, or a zero Level if there is none.
func (b *Book) BestAsk() Level {
	if len(b.Asks) == 0 {
		return Level{}
	}
	return b.Asks[0]
}

// Trade is one public trade print. Side is the taker's side.
type Trade struct {
	Symbol string
	Price  fixed.Value
	Qty    fixed.Value
	Side   Side
	Time   time.Time
}

// Kline is one candle. OpenTime is the start of its interval.
type Kline struct {
	Symbol   string
	OpenTime time.Time
	Interval time.Duration
	Open     fixed.Value
	High     fixed.Value
	Low      fixed.Value
	Close    fixed.Value
	Volume   fixed.Value // base coin
}

// MarkPrice carries the mark and index price and funding information.
// FundingRate is a fraction (0.0001 = 0.01%), converted from Bitunix's
// percent at the protocol edge.
type MarkPrice struct {
	Symbol          string
	Mark            fixed.Value
	Index           fixed.Value
	FundingRate     fixed.Value
	NextFundingTime time.Time
	Time            time.Time
}
