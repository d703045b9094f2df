package leader

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/go-logr/logr"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/klog/v2"
)

// Config configures an Elector.
type Config struct {
	LeaseName string
	Namespace string
	// Identity must be unique per replica (the pod name).
	Identity string
	// LeaseDuration is how long a standby waits after the last renewal it
	// saw before taking over. It is written to the lease in whole seconds,
	// so it must be at least 1s; fractions are dropped.
	LeaseDuration time.Duration
	// RenewDeadline is how long the leader keeps trying to renew before it
	// gives up; the fence window is one RetryPeriod shorter: the leader
	// submits only within RenewDeadline - RetryPeriod of the start of its
	// last successful renewal, which is
	// before any standby can take over (LeaseDuration after it saw that
	// renewal). LeaseDuration - RenewDeadline is the margin for clock rate
	// differences and request latency.
	RenewDeadline time.Duration
	// RetryPeriod is the interval between acquire/renew attempts.
	RetryPeriod time.Duration
	// Clock drives the fence's freshness check, lease expiry, the renew
	// deadline and the waits between attempts; default the real clock.
	Clock    Clock
	Observer Observer
	Logger   *slog.Logger
	// Snapshot returns the state to replicate to the next leader (the
	// engine's breaker and halt state), written to SharedStateAnnotation
	// on every lease update this replica makes as leader once the term
	// has inherited its predecessor's state (see Inherit). Nil or empty
	// leaves the annotation as it is. Called from the election goroutine.
	Snapshot func() []byte
}

// EpochAnnotation holds the fencing epoch on the Lease. It is incremented
// in the same optimistic-concurrency update that acquires the lease, so a
// term's epoch is durable before the term starts, and two terms never
// share an epoch.
const EpochAnnotation = "bitrader.io/epoch"

// SharedStateAnnotation carries the leader's replicated state
// (Config.Snapshot) on the Lease, so that a new leader starts from it.
const SharedStateAnnotation = "bitrader.io/shared-state"

// MaxSharedState bounds what is written to SharedStateAnnotation (the API
// server allows 256 KiB of annotations per object; the engine's state is
// well under 2 KiB). A larger snapshot is not published.
const MaxSharedState = 64 << 10

// jitterFactor spreads a standby's acquire attempts over RetryPeriod to
// (1+jitterFactor) x RetryPeriod, as client-go's leader election does, so
// that standbys started together do not write the lease in lock step.
const jitterFactor = 1.2

// repeatWarningEvery bounds how often the same acquire or watch error is
// logged again.
const repeatWarningEvery = time.Minute

// Elector is a Leader backed by a coordination.k8s.io/v1 Lease.
type Elector struct {
	cfg    Config
	leases Leases
	clock  Clock
	obs    Observer
	log    *slog.Logger
	window time.Duration
	// lastWrite is the resourceVersion of this process's last successful
	// write of the lease, across campaigns: only that version with our
	// name on it is ours. Election goroutine only.
	lastWrite string

	mu      sync.Mutex
	leading bool // a term is active (its context not yet cancelled)
	termCtx context.Context
	epoch   uint64    // epoch of the current or last term
	renewed time.Time // start of the last successful write of the lease by this term
	holder  string    // holder last observed on the lease

	// Replicated state of the term with epoch inheritedEpoch: what the
	// lease carried when the term was won, and whether the term has
	// applied it (Inherit) so that its own Snapshot may replace it.
	inherited      []byte
	inheritedEpoch uint64
	adopted        bool
}

// NewElector validates cfg and returns an Elector using the given client.
func NewElector(cfg Config, leases Leases) (*Elector, error) {
	switch {
	case leases == nil:
		return nil, errors.New("leader: a Kubernetes client is required")
	case cfg.LeaseName == "" || cfg.Namespace == "":
		return nil, fmt.Errorf("leader: lease name %q and namespace %q must not be empty", cfg.LeaseName, cfg.Namespace)
	case cfg.Identity == "":
		return nil, errors.New("leader: identity must not be empty")
	case cfg.LeaseDuration < time.Second:
		return nil, fmt.Errorf("leader: lease duration %s: must be at least 1s (the lease stores whole seconds)", cfg.LeaseDuration)
	case cfg.RetryPeriod <= 0:
		return nil, fmt.Errorf("leader: retry period %s must be positive", cfg.RetryPeriod)
	}
	// What standbys will honour is the truncated value written on the lease.
	cfg.LeaseDuration = cfg.LeaseDuration.Truncate(time.Second)
	if cfg.RenewDeadline >= cfg.LeaseDuration {
		return nil, fmt.Errorf("leader: renew deadline %s must be shorter than the lease duration %s", cfg.RenewDeadline, cfg.LeaseDuration)
	}
	if cfg.RenewDeadline <= time.Duration(jitterFactor*float64(cfg.RetryPeriod)) {
		return nil, fmt.Errorf("leader: renew deadline %s must exceed %.1f x retry period %s", cfg.RenewDeadline, jitterFactor, cfg.RetryPeriod)
	}
	e := &Elector{cfg: cfg, leases: leases, clock: cfg.Clock, obs: cfg.Observer, log: cfg.Logger, window: fenceWindow(cfg)}
	if e.clock == nil {
		e.clock = realClock{}
	}
	if e.obs == nil {
		e.obs = nopObserver{}
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	e.log = e.log.With("component", "leader", "lease", cfg.Namespace+"/"+cfg.LeaseName, "identity", cfg.Identity)
	return e, nil
}

// fenceWindow is how long after the start of its last successful renewal
// the leader may still submit: one retry period less than the renew
// deadline. keepRenewing gives the term up (and the lease is released) at the
// renew deadline, so the fence must already be shut then, with a margin for
// a leader goroutine that is descheduled between two checks.
// NewElector has checked that RenewDeadline exceeds 1.2 x RetryPeriod,
// so the window is positive.
func fenceWindow(cfg Config) time.Duration {
	return cfg.RenewDeadline - cfg.RetryPeriod
}

// Allowed implements ordermanager.Fence: true only while a term with
// exactly this epoch is active and its last renewal started less than
// RenewDeadline - RetryPeriod ago on the local clock.
func (e *Elector) Allowed(epoch uint64) bool {
	now := e.clock.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.leadingLocked() && epoch != 0 && epoch == e.epoch && now.Sub(e.renewed) < e.window
}

// leadingLocked also consults the term's context directly, so the fence
// is shut the instant it is cancelled, not when the AfterFunc has run.
func (e *Elector) leadingLocked() bool {
	return e.leading && e.termCtx != nil && e.termCtx.Err() == nil
}

// IsLeader reports whether a term is active.
func (e *Elector) IsLeader() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.leadingLocked()
}

// Epoch is the epoch of the current or last term (0 before the first).
func (e *Elector) Epoch() uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.epoch
}

// Identity is this candidate's name.
func (e *Elector) Identity() string { return e.cfg.Identity }

// LeaderIdentity is the holder last observed on the lease.
func (e *Elector) LeaderIdentity() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.holder
}

// Inherit hands the state replicated on the lease when the current (or
// last) term was won to apply, nil if there was none, on the caller's
// goroutine. A new leader calls it at the start of each term, before its
// first order. Until apply has succeeded the term's lease updates keep the
// predecessor's state on the lease; from then on they carry Snapshot(),
// which by then includes it. Before any term, apply is not called.
func (e *Elector) Inherit(apply func(state []byte) error) error {
	e.mu.Lock()
	epoch, state := e.inheritedEpoch, e.inherited
	e.mu.Unlock()
	if epoch == 0 {
		return errors.New("leader: no term won yet: nothing to inherit")
	}
	if err := apply(state); err != nil {
		return fmt.Errorf("inherit replicated state (term %d): %w", epoch, err)
	}
	e.mu.Lock()
	if e.inheritedEpoch == epoch {
		e.adopted = true
	}
	e.mu.Unlock()
	return nil
}

// wonTerm records the state a term inherited from the lease; adopted says
// there is nothing to wait for (the lease carried none).
func (e *Elector) wonTerm(epoch uint64, state []byte, adopted bool) {
	e.mu.Lock()
	e.inheritedEpoch, e.inherited, e.adopted = epoch, state, adopted
	e.mu.Unlock()
}

// sharedToPublish is what the lease update of the term epoch should write
// to SharedStateAnnotation; ok false means leave the annotation alone.
func (e *Elector) sharedToPublish(epoch uint64) (state string, ok bool) {
	if e.cfg.Snapshot == nil {
		return "", false
	}
	e.mu.Lock()
	adopted := e.adopted && e.inheritedEpoch == epoch
	e.mu.Unlock()
	if !adopted {
		return "", false
	}
	b := e.cfg.Snapshot()
	switch {
	case len(b) == 0:
		return "", false
	case len(b) > MaxSharedState:
		e.log.Error("replicated state not published: too large", "bytes", len(b), "max", MaxSharedState)
		return "", false
	}
	return string(b), true
}

// Run campaigns until ctx is cancelled. Each won term runs lead under a
// context cancelled when the term ends: ctx cancelled, renewal failed, or
// the lease observed in other hands. After lead returns the lease is
// released (only if nobody else wrote it since our last renewal), so a
// graceful stop hands over at once. If lead returns before the term ends,
// the term is ended and released; a non-nil error from lead is returned.
func (e *Elector) Run(ctx context.Context, lead func(ctx context.Context, epoch uint64) error) error {
	// client-go's REST client logs through klog; route it to our logger.
	ctx = klog.NewContext(ctx, logr.FromSlogHandler(e.log.Handler()))
	for ctx.Err() == nil {
		if err := e.campaign(ctx, lead); err != nil {
			return err
		}
	}
	return nil
}

// campaign is one term's life: acquire (until ctx ends), lead while
// renewing, then release. A fresh lock per campaign keeps no stale
// observation of the lease.
func (e *Elector) campaign(ctx context.Context, lead func(ctx context.Context, epoch uint64) error) error {
	termCtx, endTerm := context.WithCancel(ctx)
	defer endTerm()
	lock := &epochLock{e: e, onLost: endTerm}
	if !e.acquire(ctx, lock) {
		return nil
	}
	epoch := e.startTerm(termCtx)
	leadErr := make(chan error, 1)
	go func() {
		err := lead(termCtx, epoch)
		endTerm() // lead returned: end the term either way
		leadErr <- err
	}()
	e.keepRenewing(termCtx, lock)
	endTerm()
	err := <-leadErr
	e.endTerm(epoch)
	// We release ourselves, after lead has returned and only if the lease
	// is unchanged since our last write.
	relCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.cfg.RenewDeadline)
	defer cancel()
	if rerr := lock.release(relCtx); errors.Is(rerr, errTakenOver) {
		e.log.Info("lease not released: already taken over", "epoch", epoch, "err", rerr)
	} else if rerr != nil {
		e.log.Warn("lease not released; a standby takes over when it expires", "epoch", epoch, "err", rerr)
	} else {
		e.log.Info("lease released", "epoch", epoch)
	}
	if err != nil {
		return fmt.Errorf("leader term %d: %w", epoch, err)
	}
	return nil
}

// acquire tries to take the lease every RetryPeriod (jittered) and at
// once when a watch sees it released, until it holds it (true) or ctx
// ends (false).
func (e *Elector) acquire(ctx context.Context, lock *epochLock) bool {
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	released := make(chan struct{}, 1)
	go e.watchRelease(watchCtx, func() {
		select {
		case released <- struct{}{}:
		default:
		}
	})
	// A standby that cannot read or write the lease (API server down,
	// RBAC missing) must say so, but not every retry period.
	var warned rateLimited
	for {
		attemptCtx, cancel := context.WithTimeout(ctx, e.cfg.RenewDeadline)
		ok, err := lock.tryAcquire(attemptCtx)
		cancel()
		switch {
		case ok && err == nil:
			return true
		case err != nil && ctx.Err() == nil && !apierrors.IsConflict(err) && !apierrors.IsAlreadyExists(err):
			// (Conflict and AlreadyExists: another standby won the race.)
			if warned.allow(err, e.clock.Now()) {
				e.log.Warn("cannot acquire the lease; retrying", "err", err)
			}
		}
		pause := wait.Jitter(e.cfg.RetryPeriod, jitterFactor) // client-go's spread
		select {
		case <-ctx.Done():
			return false
		case <-released:
		case <-e.clock.After(pause):
		}
	}
}

// keepRenewing renews the lease every RetryPeriod until termCtx ends, and
// ends the term itself when no renewal has succeeded for RenewDeadline
// (the fence shut one RetryPeriod before that).
func (e *Elector) keepRenewing(termCtx context.Context, lock *epochLock) {
	last := lock.acquiredAt // start of the last successful write
	for {
		select {
		case <-termCtx.Done():
			return
		case <-e.clock.After(e.cfg.RetryPeriod):
		}
		start := e.clock.Now()
		attemptCtx, cancel := context.WithTimeout(termCtx, last.Add(e.cfg.RenewDeadline).Sub(start))
		err := lock.renew(attemptCtx)
		cancel()
		switch {
		case termCtx.Err() != nil:
			return
		case err == nil:
			last = start
		case e.clock.Now().Sub(last) >= e.cfg.RenewDeadline:
			e.log.Warn("lease not renewed within the renew deadline: stepping down", "epoch", lock.termEpoch, "err", err)
			return
		default:
			e.log.Warn("lease renewal failed; retrying", "epoch", lock.termEpoch, "err", err)
		}
	}
}

// startTerm opens the fence for the epoch the lock just acquired and
// closes it the instant leaderCtx is cancelled.
// The observer is told under e.mu, so that it sees a term's start and end
// in that order even when the term ends while it starts.
func (e *Elector) startTerm(leaderCtx context.Context) uint64 {
	e.mu.Lock()
	epoch := e.epoch
	e.leading = leaderCtx.Err() == nil
	e.termCtx = leaderCtx
	if e.leading {
		e.log.Info("leading", "epoch", epoch)
		e.obs.Leader(true, epoch)
	}
	e.mu.Unlock()
	context.AfterFunc(leaderCtx, func() { e.endTerm(epoch) })
	return epoch
}

// endTerm closes the fence for epoch if that term is still open.
func (e *Elector) endTerm(epoch uint64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.leading && e.epoch == epoch {
		e.leading = false
		e.log.Info("stopped leading", "epoch", epoch)
		e.obs.Leader(false, epoch)
	}
}

// rateLimited lets the same error through once a minute, a new one at once.
type rateLimited struct {
	msg string
	at  time.Time
}

func (r *rateLimited) allow(err error, now time.Time) bool {
	if msg := err.Error(); msg != r.msg || now.Sub(r.at) >= repeatWarningEvery {
		r.msg, r.at = msg, now
		return true
	}
	return false
}

// renewedAt records a successful write of the lease for epoch that started
// at start.
func (e *Elector) renewedAt(epoch uint64, start time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.epoch != epoch {
		e.epoch = epoch
		e.leading = false // opened by startTerm
	}
	e.renewed = start
	e.holder = e.cfg.Identity
}

func (e *Elector) observedHolder(h string) {
	e.mu.Lock()
	e.holder = h
	e.mu.Unlock()
}

// watchRelease calls onRelease when the lease is modified to have no
// holder. The initial state is ignored: the campaign's first attempt
// already sees it.
func (e *Elector) watchRelease(ctx context.Context, onRelease func()) {
	var warned rateLimited
	for ctx.Err() == nil {
		w, err := e.leases.Watch(ctx, e.cfg.LeaseName)
		if err != nil {
			if ctx.Err() == nil && warned.allow(err, e.clock.Now()) {
				// Handover still works, at the next retry instead of at once.
				e.log.Warn("cannot watch the lease; a released lease is noticed at the next attempt", "err", err)
			}
			select {
			case <-ctx.Done():
			case <-e.clock.After(e.cfg.RetryPeriod):
			}
			continue
		}
		e.watchEvents(ctx, w, onRelease)
		w.Stop()
	}
}

func (e *Elector) watchEvents(ctx context.Context, w watch.Interface, onRelease func()) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.ResultChan():
			if !ok {
				return
			}
			lease, _ := ev.Object.(*coordinationv1.Lease)
			// A deletion is not a release: the last holder may still lead
			// until its renewal fails (see tryAcquire).
			if ev.Type == watch.Modified && lease != nil && lease.Name == e.cfg.LeaseName &&
				(lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity == "") {
				onRelease()
			}
		}
	}
}
