package leader

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// snapshotVar is a Config.Snapshot the test sets.
type snapshotVar struct {
	mu sync.Mutex
	b  []byte
}

func (s *snapshotVar) set(v string) { s.mu.Lock(); s.b = []byte(v); s.mu.Unlock() }
func (s *snapshotVar) get() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b
}

// The replicated state on the lease: the acquiring write keeps the
// predecessor's; Inherit hands it over; renewals publish our Snapshot only
// after it was applied; the release publishes the latest one.
func TestSharedStateInheritedThenPublished(t *testing.T) {
	old := metav1.NewMicroTime(time.Now().Add(-time.Hour))
	holder, dur := "gone", int32(1)
	cs, _ := newFakeClientset(&coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: "bitrader", Namespace: "trading", ResourceVersion: "1",
			Annotations: map[string]string{EpochAnnotation: "4", SharedStateAnnotation: `{"from":"gone"}`}},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &dur, RenewTime: &old, AcquireTime: &old},
	})
	snap := &snapshotVar{}
	snap.set(`{"from":"a"}`)
	cfg := testConfig("a")
	cfg.Snapshot = snap.get
	clk := clockOf(cfg)
	e, err := NewElector(cfg, leasesOf(cs))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Inherit(func([]byte) error { t.Error("apply called before any term"); return nil }); err == nil {
		t.Error("Inherit before a term succeeded")
	}
	r := start(t, e)
	clk.next(t, time.Second+maxWait(cfg)) // "gone"'s lease expires
	if ep := recvEpoch(t, r.epochs, 5*time.Second, "leadership"); ep != 5 {
		t.Fatalf("epoch %d, want 5", ep)
	}
	annotation := func() string { return getLease(t, cs).Annotations[SharedStateAnnotation] }
	renewed := func() {
		t.Helper()
		rv := getLease(t, cs).ResourceVersion
		clk.next(t, cfg.RetryPeriod)
		eventually(t, 3*time.Second, "a renewal", func() bool { return getLease(t, cs).ResourceVersion != rv })
	}
	renewed()
	if got := annotation(); got != `{"from":"gone"}` {
		t.Fatalf("before Inherit the lease carries %q, want the predecessor's state", got)
	}
	// A failed apply keeps the predecessor's state on the lease.
	if err := e.Inherit(func([]byte) error { return errors.New("disk full") }); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Inherit with a failing apply: %v", err)
	}
	renewed()
	if got := annotation(); got != `{"from":"gone"}` {
		t.Fatalf("after a failed Inherit the lease carries %q", got)
	}
	var got []byte
	if err := e.Inherit(func(b []byte) error { got = b; return nil }); err != nil {
		t.Fatal(err)
	}
	if string(got) != `{"from":"gone"}` {
		t.Fatalf("inherited %q", got)
	}
	renewed()
	if got := annotation(); got != `{"from":"a"}` {
		t.Fatalf("after Inherit the renewal wrote %q, want our snapshot", got)
	}

	// Too large: not published (the last good one stays).
	snap.set(strings.Repeat("x", MaxSharedState+1))
	renewed()
	renewed()
	if got := annotation(); got != `{"from":"a"}` {
		t.Fatalf("oversized snapshot published (%d bytes)", len(got))
	}

	// The release carries the state as it was when lead returned.
	snap.set(`{"from":"a","last":true}`)
	r.cancel()
	recvEpoch(t, r.ended, 5*time.Second, "term end")
	eventually(t, 5*time.Second, "release", func() bool { return *getLease(t, cs).Spec.HolderIdentity == "" })
	if got := annotation(); got != `{"from":"a","last":true}` {
		t.Fatalf("released lease carries %q", got)
	}
}

// A new lease carries our snapshot from its creation; there is nothing to
// inherit.
func TestSharedStateOnCreate(t *testing.T) {
	cfg := testConfig("a")
	cfg.Snapshot = func() []byte { return []byte(`{"k":1}`) }
	cs, _, e, r := elect(t, cfg)
	clockOf(cfg).next(t, cfg.LeaseDuration) // a missing lease is created after a lease duration
	recvEpoch(t, r.epochs, 5*time.Second, "leadership")
	if got := getLease(t, cs).Annotations[SharedStateAnnotation]; got != `{"k":1}` {
		t.Fatalf("created lease carries %q", got)
	}
	called := false
	if err := e.Inherit(func(b []byte) error {
		called = true
		if b != nil {
			t.Errorf("inherited %q from a new lease", b)
		}
		return nil
	}); err != nil || !called {
		t.Fatalf("Inherit: %v (apply called %v)", err, called)
	}
}

func TestStaticInheritsNothing(t *testing.T) {
	called := false
	err := NewStatic("dev", nil).Inherit(func(b []byte) error {
		called = true
		if b != nil {
			t.Errorf("static inherited %q", b)
		}
		return nil
	})
	if err != nil || !called {
		t.Fatalf("Inherit: %v (apply called %v)", err, called)
	}
}
