// Package leader decides which replica may trade (design invariant 1).
//
// Leadership is a context, as in client-go's leaderelection: Run calls the
// lead function with a context that is cancelled the moment leadership is
// lost, and everything that may only run while leading (the order manager's
// submit path) runs under it. On top of that every term has a fencing epoch
// that grows across terms and is embedded in client order ids; Allowed(epoch)
// is the ordermanager.Fence, asked immediately before every order goes on
// the wire. It answers true only while this process holds the lease with
// exactly that epoch and renewed it recently enough that no other replica
// can have taken it over.
//
// Two implementations: Elector (a Kubernetes Lease, for replicas > 1) and
// Static (development and single-replica deployments: always leads, in an
// epoch that is its start time in milliseconds).
package leader

import (
	"context"
	"time"
)

// Leader is what the application needs from either implementation.
type Leader interface {
	// Run campaigns until ctx is cancelled, calling lead for every term won.
	// lead must return soon after its context is cancelled; the lease is
	// released only after it has returned, so a successor never overlaps
	// with in-flight work. A non-nil error from lead ends Run with it.
	Run(ctx context.Context, lead func(ctx context.Context, epoch uint64) error) error
	// Allowed is the ordermanager.Fence: may this process submit under epoch now?
	Allowed(epoch uint64) bool
	// IsLeader reports whether a term is active (for /status and metrics;
	// submission decisions use Allowed).
	IsLeader() bool
	// Epoch is the epoch of the current term, or of the last one.
	Epoch() uint64
	// Identity is this process's candidate name.
	Identity() string
	// LeaderIdentity is the holder last observed on the lease ("" if none).
	LeaderIdentity() string
	// Inherit hands the state the previous leader replicated (nil if
	// none) to apply; a new leader calls it at the start of every term,
	// before its first order. See Elector.Inherit.
	Inherit(apply func(state []byte) error) error
}

// Observer is told about every role change; metrics.Bot has this method.
type Observer interface {
	Leader(isLeader bool, epoch uint64)
}

// Clock is the Elector's time source: the fence's freshness check, lease
// expiry, the renew deadline and the waits between attempts.
type Clock interface {
	Now() time.Time
	// After is time.After on this clock.
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

type nopObserver struct{}

func (nopObserver) Leader(bool, uint64) {}

// StaticEpoch is the epoch of a Static leader made by NewStatic.
const StaticEpoch = 1

// Static always leads, in one epoch: the development path and
// single-replica deployments without a Kubernetes API (ha.enabled false).
type Static struct {
	identity string
	epoch    uint64
	obs      Observer
}

// NewStatic returns a Static leader in epoch 1 (tests, backtests). obs
// may be nil.
func NewStatic(identity string, obs Observer) *Static {
	return NewStaticEpoch(identity, StaticEpoch, obs)
}

// NewStaticEpoch returns a Static leader in the given epoch. A running
// bot uses its start time in milliseconds (see New): client ids carry the
// epoch and a sequence kept in the journal, so if the journal is lost (an
// emptyDir after a reschedule) a restart must not issue btr-1-1 again:
// the exchange would answer "duplicate client id" and the bot would take
// an old order for the new one.
func NewStaticEpoch(identity string, epoch uint64, obs Observer) *Static {
	if obs == nil {
		obs = nopObserver{}
	}
	return &Static{identity: identity, epoch: epoch, obs: obs}
}

// Run runs lead once in the Static epoch and returns its error.
func (s *Static) Run(ctx context.Context, lead func(ctx context.Context, epoch uint64) error) error {
	s.obs.Leader(true, s.epoch)
	defer s.obs.Leader(false, s.epoch)
	return lead(ctx, s.epoch)
}

// Allowed is true for every epoch: there is no other replica to fence off.
func (s *Static) Allowed(uint64) bool { return true }

// IsLeader is always true.
func (s *Static) IsLeader() bool { return true }

// Epoch is the Static epoch.
func (s *Static) Epoch() uint64 { return s.epoch }

// Identity is the configured identity.
func (s *Static) Identity() string { return s.identity }

// LeaderIdentity is this process.
func (s *Static) LeaderIdentity() string { return s.identity }

// Inherit applies nothing: there is no other replica (the journal holds
// the state across restarts).
func (s *Static) Inherit(apply func(state []byte) error) error { return apply(nil) }

// Status is the leader section of /status.
type Status struct {
	Role           string `json:"role"` // "leader" or "standby"
	IsLeader       bool   `json:"isLeader"`
	Epoch          uint64 `json:"epoch"`
	Identity       string `json:"identity"`
	LeaderIdentity string `json:"leaderIdentity"`
}

// StatusOf reads l's status.
func StatusOf(l Leader) Status {
	s := Status{IsLeader: l.IsLeader(), Epoch: l.Epoch(), Identity: l.Identity(), LeaderIdentity: l.LeaderIdentity(), Role: "standby"}
	if s.IsLeader {
		s.Role = "leader"
	}
	return s
}
