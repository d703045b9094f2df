package sim

import (
	"fmt"
	"io"

	"github.com/bitrader/bitrader/internal/marketdata"
)

// ScriptedSource is a market-data source that plays a fixed list of
// events, for tests that need to know every price (MarketDataConfig.Sources).
type ScriptedSource struct {
	events []marketdata.Event
	next   int
}

// NewScriptedSource returns a source of events, which must be in time
// order (checked: an out-of-order event ends the stream with an error).
func NewScriptedSource(events ...marketdata.Event) *ScriptedSource {
	return &ScriptedSource{events: events}
}

// Next returns the next event, or io.EOF after the last.
func (s *ScriptedSource) Next() (marketdata.Event, error) {
	if s.next >= len(s.events) {
		return marketdata.Event{}, io.EOF
	}
	ev := s.events[s.next]
	if s.next > 0 {
		if prev := s.events[s.next-1]; ev.Time().Before(prev.Time()) {
			return marketdata.Event{}, fmt.Errorf("sim: scripted event %d at %v is before event %d at %v", s.next, ev.Time(), s.next-1, prev.Time())
		}
	}
	s.next++
	return ev, nil
}
