package leader

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// epochLock reads and writes the Lease for one campaign: client-go's
// LeaseLock and LeaderElector.tryAcquireOrRenew, plus the fencing epoch.
// One lock serves one campaign, from a single goroutine.
//
// Every write is an Update carrying the resourceVersion last read or
// written, so it succeeds only if nobody else wrote the lease in between:
// a successful renewal proves we still hold it, and the acquiring write
// bumps the epoch atomically with taking the lease.
type epochLock struct {
	e      *Elector
	onLost func() // ends the campaign's term at once

	lease     *coordinationv1.Lease // last read or written
	termEpoch uint64                // epoch this campaign acquired; 0 before
	written   bool                  // lease holds our last successful write

	// When this campaign first saw the lease's current version, by the
	// local clock: a holder's lease expires LeaseDurationSeconds after we
	// saw its last renewal, not after the renewTime its clock wrote.
	observedVersion string
	observedAt      time.Time
	// Start of the write that acquired the lease, by e.clock.
	acquiredAt time.Time
	// When this campaign first found the lease missing, and the longest
	// lease duration it saw on it: a deleted lease is no release, its last
	// holder may still be leading until its own renewal fails.
	absentSince  time.Time
	lastDuration time.Duration
}

// errTakenOver: the lease is someone else's now; nothing to release.
var errTakenOver = errors.New("lease already held by another replica")

// tryAcquire makes one attempt to take the lease (create it, or take it
// over once its holder's lease has expired or been released). It reports
// whether this campaign now holds it.
func (l *epochLock) tryAcquire(ctx context.Context) (bool, error) {
	lease, err := l.get(ctx)
	now := l.e.clock.Now()
	if apierrors.IsNotFound(err) {
		// A missing lease may have been deleted under a live leader, whose
		// fence stays open until its next renewal fails: create it only
		// once it has been missing for a whole lease duration.
		if l.absentSince.IsZero() {
			l.absentSince = now
		}
		if now.Sub(l.absentSince) < max(l.e.cfg.LeaseDuration, l.lastDuration) {
			return false, nil
		}
		err = l.create(ctx)
		return err == nil, err
	}
	if err != nil {
		return false, err
	}
	l.absentSince = time.Time{}
	duration := time.Duration(ptrValue(lease.Spec.LeaseDurationSeconds)) * time.Second
	l.lastDuration = max(l.lastDuration, duration)
	if lease.ResourceVersion != l.observedVersion {
		l.observedVersion, l.observedAt = lease.ResourceVersion, now
	}
	holder := ptrValue(lease.Spec.HolderIdentity)
	// Our own name on the lease is ours only if we wrote that version: a
	// second replica misconfigured with the same identity, or this pod's
	// previous process, must be waited out like any other holder.
	ours := holder == l.Identity() && lease.ResourceVersion == l.e.lastWrite
	if holder != "" && !ours && now.Before(l.observedAt.Add(duration)) {
		return false, nil
	}
	err = l.update(ctx)
	return err == nil, err
}

// renew writes the lease again during a term. After a write whose outcome
// is unknown it reads the lease first (which ends the term if someone else
// holds it), as client-go falls back from its optimistic update.
func (l *epochLock) renew(ctx context.Context) error {
	if !l.written {
		if _, err := l.get(ctx); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return l.update(ctx)
}

// get reads the lease. A term that sees another holder or another epoch
// has lost the lease, whatever its renew loop still thinks.
func (l *epochLock) get(ctx context.Context) (*coordinationv1.Lease, error) {
	lease, err := l.e.leases.Get(ctx, l.e.cfg.LeaseName)
	if err != nil {
		if l.termEpoch != 0 && apierrors.IsNotFound(err) {
			l.lost("lease deleted")
		}
		return nil, err
	}
	l.lease = lease
	l.written = false
	holder := ptrValue(lease.Spec.HolderIdentity)
	l.e.observedHolder(holder)
	if l.termEpoch != 0 {
		epoch, perr := leaseEpoch(lease)
		if holder != l.Identity() || perr != nil || epoch != l.termEpoch {
			l.lost("lease taken over", "holder", holder, "leaseEpoch", epoch)
		}
	}
	return lease, nil
}

// spec is the lease spec of a write by this replica at now: a renewal
// keeps the acquire time and transition count, an acquisition sets them.
func (l *epochLock) spec(now time.Time) coordinationv1.LeaseSpec {
	t := metav1.NewMicroTime(now)
	spec := coordinationv1.LeaseSpec{
		HolderIdentity:       new(l.Identity()),
		LeaseDurationSeconds: new(int32(l.e.cfg.LeaseDuration / time.Second)),
		AcquireTime:          &t,
		RenewTime:            &t,
		LeaseTransitions:     new(int32(0)),
	}
	if l.lease == nil {
		return spec
	}
	prev := l.lease.Spec
	switch {
	case l.termEpoch != 0:
		spec.AcquireTime, spec.LeaseTransitions = prev.AcquireTime, prev.LeaseTransitions
	default:
		spec.LeaseTransitions = new(ptrValue(prev.LeaseTransitions) + 1)
	}
	return spec
}

func ptrValue[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// create makes the lease (it did not exist) in epoch firstEpoch.
func (l *epochLock) create(ctx context.Context) error {
	start := l.e.clock.Now()
	epoch := firstEpoch(start)
	lease := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{
			Name:        l.e.cfg.LeaseName,
			Namespace:   l.e.cfg.Namespace,
			Annotations: map[string]string{EpochAnnotation: strconv.FormatUint(epoch, 10)},
		},
		Spec: l.spec(start),
	}
	// A new lease has no predecessor's state to keep: publish ours.
	l.e.wonTerm(epoch, nil, true)
	if s, ok := l.e.sharedToPublish(epoch); ok {
		lease.Annotations[SharedStateAnnotation] = s
	}
	created, err := l.e.leases.Create(ctx, lease)
	if err != nil {
		l.e.wonTerm(0, nil, false)
		return err
	}
	l.lease, l.written, l.termEpoch, l.acquiredAt = created, true, epoch, start
	l.e.lastWrite = created.ResourceVersion
	l.e.renewedAt(epoch, start)
	return nil
}

// firstEpoch is the epoch of a lease's first term: the time in
// milliseconds, not 1. Client ids carry the epoch and a sequence kept in
// each replica's journal; if the lease is deleted (a namespace rebuilt)
// and counting restarted at 1, a replica with a fresh journal would issue
// ids the exchange has seen before, and take an old order for its new one.
// Later terms add one, so epochs still only grow.
func firstEpoch(now time.Time) uint64 {
	return uint64(max(1, now.UnixMilli()))
}

// update writes us as holder over the lease last read or written. Taking
// the lease (first write of this campaign) increments the epoch.
func (l *epochLock) update(ctx context.Context) error {
	if l.lease == nil {
		return errors.New("lease not read yet")
	}
	start := l.e.clock.Now()
	next := l.lease.DeepCopy()
	next.Spec = l.spec(start)
	if next.Annotations == nil {
		next.Annotations = map[string]string{}
	}
	epoch := l.termEpoch
	var inherited []byte
	if epoch == 0 {
		prev, err := leaseEpoch(l.lease)
		if err != nil {
			return err
		}
		epoch = prev + 1
		if prev == 0 { // a lease without our annotation: a first term
			epoch = firstEpoch(start)
		}
		next.Annotations[EpochAnnotation] = strconv.FormatUint(epoch, 10)
		// The acquiring write keeps the predecessor's replicated state:
		// if we died before applying it, the next leader still gets it.
		if s, ok := l.lease.Annotations[SharedStateAnnotation]; ok && s != "" {
			inherited = []byte(s)
		}
	} else if s, ok := l.e.sharedToPublish(epoch); ok {
		next.Annotations[SharedStateAnnotation] = s
	}
	updated, err := l.e.leases.Update(ctx, next)
	if err != nil {
		if l.termEpoch != 0 && (apierrors.IsConflict(err) || apierrors.IsNotFound(err)) {
			// Someone else wrote or deleted the lease: our term is over
			// now, not at the renew deadline.
			l.lost("lease changed by another writer", "err", err)
		}
		l.written = false
		return err
	}
	if l.termEpoch == 0 {
		l.e.wonTerm(epoch, inherited, inherited == nil)
		l.acquiredAt = start
	}
	l.lease, l.written, l.termEpoch = updated, true, epoch
	l.e.lastWrite = updated.ResourceVersion
	l.e.renewedAt(epoch, start)
	return nil
}

// release clears the holder, but only if the lease still carries our last
// write: the update is conditional on its resourceVersion.
func (l *epochLock) release(ctx context.Context) error {
	if l.termEpoch == 0 {
		return errors.New("lease never acquired")
	}
	if !l.written || l.lease == nil {
		// A renewal cancelled in flight may still have been applied: the
		// lease is ours to release only if it still names us and our epoch.
		lease, err := l.e.leases.Get(ctx, l.e.cfg.LeaseName)
		if err != nil {
			return fmt.Errorf("release lease %s: %w", l.Describe(), err)
		}
		epoch, _ := leaseEpoch(lease)
		if h := lease.Spec.HolderIdentity; h == nil || *h != l.Identity() || epoch != l.termEpoch {
			return fmt.Errorf("release lease %s: %w (holder %q, epoch %d)", l.Describe(), errTakenOver, ptrValue(h), epoch)
		}
		l.lease = lease
	}
	next := l.lease.DeepCopy()
	now := metav1.NewMicroTime(l.e.clock.Now())
	one := int32(1)
	empty := ""
	next.Spec.HolderIdentity = &empty
	next.Spec.LeaseDurationSeconds = &one
	next.Spec.RenewTime = &now
	next.Spec.AcquireTime = &now
	// The last word of the term: the state as it is after lead returned,
	// so a graceful handover loses nothing.
	if s, ok := l.e.sharedToPublish(l.termEpoch); ok {
		if next.Annotations == nil {
			next.Annotations = map[string]string{}
		}
		next.Annotations[SharedStateAnnotation] = s
	}
	updated, err := l.e.leases.Update(ctx, next)
	if apierrors.IsConflict(err) {
		return fmt.Errorf("release lease %s: %w: %w", l.Describe(), errTakenOver, err)
	}
	if err != nil {
		return fmt.Errorf("release lease %s: %w", l.Describe(), err)
	}
	l.lease, l.written = updated, false
	l.e.observedHolder("")
	return nil
}

// lost ends this campaign's term now.
func (l *epochLock) lost(why string, args ...any) {
	l.e.log.Warn(why, append([]any{"epoch", l.termEpoch}, args...)...)
	l.e.endTerm(l.termEpoch)
	l.onLost()
}

// leaseEpoch reads the epoch annotation; a lease without one is epoch 0.
func leaseEpoch(lease *coordinationv1.Lease) (uint64, error) {
	s, ok := lease.Annotations[EpochAnnotation]
	if !ok {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("lease %s/%s: annotation %s=%q is not an epoch: %w", lease.Namespace, lease.Name, EpochAnnotation, s, err)
	}
	return n, nil
}

func (l *epochLock) Identity() string { return l.e.cfg.Identity }

func (l *epochLock) Describe() string { return l.e.cfg.Namespace + "/" + l.e.cfg.LeaseName }
