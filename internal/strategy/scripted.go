package strategy

import (
	"time"

	"github.com/bitrader/bitrader/internal/trading"
)

// Step is one scripted action: at or after At, place Intent.
type Step struct {
	At     time.Time
	Intent trading.Intent
}

// Scripted emits given intents at given times, for tests and backtest
// parity checks: on each event it emits every step whose time has come,
// once, in order.
type Scripted struct {
	steps []Step
	next  int
	out   out
}

// NewScripted returns a scripted strategy; steps must be in time order.
func NewScripted(steps []Step) *Scripted {
	return &Scripted{steps: append([]Step(nil), steps...)}
}

// Name is "scripted".
func (s *Scripted) Name() string { return NameScripted }

// OnEvent emits the due steps.
func (s *Scripted) OnEvent(now time.Time, _ Event, _ View) Output {
	s.out.reset()
	for s.next < len(s.steps) && !s.steps[s.next].At.After(now) {
		s.out.place = append(s.out.place, s.steps[s.next].Intent)
		s.next++
	}
	return s.out.output()
}

// Done reports whether every step was emitted.
func (s *Scripted) Done() bool { return s.next == len(s.steps) }
