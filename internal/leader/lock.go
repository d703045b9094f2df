package leader

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	rl "k8s.io/client-go/tools/leaderelection/resourcelock"
)

// epochLock is client-go's LeaseLock plus the fencing epoch. One lock
// serves one campaign; client-go calls it from a single goroutine.
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
}

var _ rl.Interface = (*epochLock)(nil)

func (l *epochLock) client() interface {
	Get(ctx context.Context, name string, opts metav1.GetOptions) (*coordinationv1.Lease, error)
	Create(ctx context.Context, lease *coordinationv1.Lease, opts metav1.CreateOptions) (*coordinationv1.Lease, error)
	Update(ctx context.Context, lease *coordinationv1.Lease, opts metav1.UpdateOptions) (*coordinationv1.Lease, error)
} {
	return l.e.leases.Leases(l.e.cfg.Namespace)
}

// Get reads the lease. A term that sees another holder or another epoch
// has lost the lease, whatever its renew loop still thinks.
func (l *epochLock) Get(ctx context.Context) (*rl.LeaderElectionRecord, []byte, error) {
	lease, err := l.client().Get(ctx, l.e.cfg.LeaseName, metav1.GetOptions{})
	if err != nil {
		return nil, nil, err
	}
	l.lease = lease
	l.written = false
	rec := rl.LeaseSpecToLeaderElectionRecord(&lease.Spec)
	l.e.observedHolder(rec.HolderIdentity)
	if l.termEpoch != 0 {
		epoch, perr := leaseEpoch(lease)
		if rec.HolderIdentity != l.Identity() || perr != nil || epoch != l.termEpoch {
			l.e.log.Warn("lease taken over", "epoch", l.termEpoch, "holder", rec.HolderIdentity, "leaseEpoch", epoch)
			l.e.endTerm(l.termEpoch)
			l.onLost()
		}
	}
	raw, err := json.Marshal(*rec)
	if err != nil {
		return nil, nil, fmt.Errorf("encode lease record: %w", err)
	}
	return rec, raw, nil
}

// Create makes the lease with epoch 1 (the lease did not exist).
func (l *epochLock) Create(ctx context.Context, ler rl.LeaderElectionRecord) error {
	start := l.e.clock.Now()
	lease := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{
			Name:        l.e.cfg.LeaseName,
			Namespace:   l.e.cfg.Namespace,
			Annotations: map[string]string{EpochAnnotation: "1"},
		},
		Spec: rl.LeaderElectionRecordToLeaseSpec(&ler),
	}
	// A new lease has no predecessor's state to keep: publish ours.
	l.e.wonTerm(1, nil, true)
	if s, ok := l.e.sharedToPublish(1); ok {
		lease.Annotations[SharedStateAnnotation] = s
	}
	created, err := l.client().Create(ctx, lease, metav1.CreateOptions{})
	if err != nil {
		l.e.wonTerm(0, nil, false)
		return err
	}
	l.lease, l.written, l.termEpoch = created, true, 1
	l.e.renewedAt(1, start)
	return nil
}

// Update writes ler over the lease last read. Taking the lease (first
// write of this campaign with us as holder) increments the epoch.
func (l *epochLock) Update(ctx context.Context, ler rl.LeaderElectionRecord) error {
	if l.lease == nil {
		return errors.New("lease not read yet")
	}
	if ler.HolderIdentity != l.Identity() {
		return fmt.Errorf("refusing to write holder %q from %q", ler.HolderIdentity, l.Identity())
	}
	start := l.e.clock.Now()
	next := l.lease.DeepCopy()
	next.Spec = rl.LeaderElectionRecordToLeaseSpec(&ler)
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
		next.Annotations[EpochAnnotation] = strconv.FormatUint(epoch, 10)
		// The acquiring write keeps the predecessor's replicated state:
		// if we died before applying it, the next leader still gets it.
		if s, ok := l.lease.Annotations[SharedStateAnnotation]; ok && s != "" {
			inherited = []byte(s)
		}
	} else if s, ok := l.e.sharedToPublish(epoch); ok {
		next.Annotations[SharedStateAnnotation] = s
	}
	updated, err := l.client().Update(ctx, next, metav1.UpdateOptions{})
	if err != nil {
		if l.termEpoch != 0 && apierrors.IsConflict(err) {
			// Someone else wrote the lease: our term is over now, not at
			// the renew deadline.
			l.e.log.Warn("lease changed by another writer", "epoch", l.termEpoch)
			l.e.endTerm(l.termEpoch)
			l.onLost()
		}
		l.written = false
		return err
	}
	if l.termEpoch == 0 {
		l.e.wonTerm(epoch, inherited, inherited == nil)
	}
	l.lease, l.written, l.termEpoch = updated, true, epoch
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
		lease, err := l.client().Get(ctx, l.e.cfg.LeaseName, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("release lease %s: %w", l.Describe(), err)
		}
		epoch, _ := leaseEpoch(lease)
		if h := lease.Spec.HolderIdentity; h == nil || *h != l.Identity() || epoch != l.termEpoch {
			return fmt.Errorf("release lease %s: now held by someone else (epoch %d)", l.Describe(), epoch)
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
	updated, err := l.client().Update(ctx, next, metav1.UpdateOptions{})
	if err != nil {
		return fmt.Errorf("release lease %s: %w", l.Describe(), err)
	}
	l.lease, l.written = updated, false
	l.e.observedHolder("")
	return nil
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

func (l *epochLock) RecordEvent(string) {}

func (l *epochLock) Identity() string { return l.e.cfg.Identity }

func (l *epochLock) Describe() string { return l.e.cfg.Namespace + "/" + l.e.cfg.LeaseName }
