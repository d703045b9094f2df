package leader

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	coordclient "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/client-go/rest"
	k8stesting "k8s.io/client-go/testing"

	"github.com/bitrader/bitrader/internal/config"
	"github.com/bitrader/bitrader/internal/ordermanager"
)

// Both implementations are order-manager fences.
var (
	_ ordermanager.Fence = (*Elector)(nil)
	_ ordermanager.Fence = (*Static)(nil)
	_ Leader             = (*Elector)(nil)
	_ Leader             = (*Static)(nil)
)

// fakeClock is the elector's clock in the unit tests: time moves only
// when the test advances it, and After fires when it passes the deadline.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []clockWaiter
}

type clockWaiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, clockWaiter{at: c.now.Add(d), ch: ch})
	return ch
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			kept = append(kept, w)
			continue
		}
		w.ch <- c.now
	}
	c.waiters = kept
}

func (c *fakeClock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

// parked waits until the elector's loop waits on the clock: its last
// attempt has finished.
func (c *fakeClock) parked(t *testing.T) {
	t.Helper()
	eventually(t, 5*time.Second, "the elector to wait on its clock", func() bool { return c.pending() > 0 })
}

// next lets the elector finish its attempt, then advances the clock by d.
func (c *fakeClock) next(t *testing.T, d time.Duration) {
	t.Helper()
	c.parked(t)
	c.Advance(d)
}

// noEpoch fails if a term has started.
func noEpoch(t *testing.T, ch chan uint64, why string) {
	t.Helper()
	select {
	case ep := <-ch:
		t.Fatalf("led with epoch %d %s", ep, why)
	default:
	}
}

type recObserver struct {
	mu     sync.Mutex
	events []string
}

func (o *recObserver) Leader(is bool, epoch uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if is {
		o.events = append(o.events, "lead:"+uintStr(epoch))
	} else {
		o.events = append(o.events, "stop:"+uintStr(epoch))
	}
}

func (o *recObserver) get() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.events...)
}

func uintStr(n uint64) string { return strconv.FormatUint(n, 10) }

// newFakeClientset returns a fake clientset whose lease updates enforce
// resourceVersion like the API server does (the fake tracker does not),
// and a switch that makes every lease write fail (a frozen or cut-off
// leader).
func newFakeClientset(objs ...runtime.Object) (*fake.Clientset, *atomic.Bool) {
	cs := fake.NewClientset(objs...)
	var broken atomic.Bool
	cs.PrependReactor("*", "leases", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if broken.Load() && a.GetVerb() != "watch" {
			return true, nil, errors.New("connection refused (test)")
		}
		switch a.GetVerb() {
		case "create":
			a.(k8stesting.CreateAction).GetObject().(*coordinationv1.Lease).ResourceVersion = "1"
		case "update":
			next := a.(k8stesting.UpdateAction).GetObject().(*coordinationv1.Lease)
			cur, err := cs.Tracker().Get(a.GetResource(), a.GetNamespace(), next.Name)
			if err != nil {
				return true, nil, err
			}
			rv := cur.(*coordinationv1.Lease).ResourceVersion
			if rv != next.ResourceVersion {
				return true, nil, apierrors.NewConflict(a.GetResource().GroupResource(), next.Name, errors.New("resourceVersion changed"))
			}
			n, _ := strconv.Atoi(rv)
			next.ResourceVersion = strconv.Itoa(n + 1)
		}
		return false, nil, nil
	})
	return cs, &broken
}

// freeLease is a lease nobody holds and no epoch was written to yet: an
// elector takes it at its first attempt.
func freeLease() *coordinationv1.Lease {
	return &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "bitrader", Namespace: "trading", ResourceVersion: "1"}}
}

// typedLeases adapts a clientset's typed lease client to Leases, so the
// unit tests can use client-go's fake clientset (the real API server
// tests exercise NewLeases).
type typedLeases struct{ c coordclient.LeaseInterface }

func leasesOf(cs *fake.Clientset) Leases {
	return typedLeases{cs.CoordinationV1().Leases("trading")}
}

func (l typedLeases) Get(ctx context.Context, name string) (*coordinationv1.Lease, error) {
	return l.c.Get(ctx, name, metav1.GetOptions{})
}

func (l typedLeases) Create(ctx context.Context, lease *coordinationv1.Lease) (*coordinationv1.Lease, error) {
	return l.c.Create(ctx, lease, metav1.CreateOptions{})
}

func (l typedLeases) Update(ctx context.Context, lease *coordinationv1.Lease) (*coordinationv1.Lease, error) {
	return l.c.Update(ctx, lease, metav1.UpdateOptions{})
}

func (l typedLeases) Watch(ctx context.Context, name string) (watch.Interface, error) {
	return l.c.Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + name})
}

// testConfig runs the elector on a fake clock (clockOf).
func testConfig(id string) Config {
	return Config{
		LeaseName: "bitrader", Namespace: "trading", Identity: id,
		LeaseDuration: 3 * time.Second, RenewDeadline: 2 * time.Second, RetryPeriod: 200 * time.Millisecond,
		Clock: newFakeClock(),
	}
}

func clockOf(cfg Config) *fakeClock { return cfg.Clock.(*fakeClock) }

// maxWait is the longest an acquiring elector waits between attempts.
func maxWait(cfg Config) time.Duration {
	return cfg.RetryPeriod + time.Duration(jitterFactor*float64(cfg.RetryPeriod))
}

// eventually polls cond every 5ms until it holds or d passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func getLease(t *testing.T, cs *fake.Clientset) *coordinationv1.Lease {
	t.Helper()
	l, err := cs.CoordinationV1().Leases("trading").Get(context.Background(), "bitrader", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get lease: %v", err)
	}
	return l
}

// run starts e.Run in the background with a lead function that records its
// epoch and blocks until its context ends.
type running struct {
	cancel context.CancelFunc
	done   chan error
	epochs chan uint64
	ended  chan uint64
}

// elect starts an elector on cfg over a fake API server that holds objs.
func elect(t *testing.T, cfg Config, objs ...runtime.Object) (*fake.Clientset, *atomic.Bool, *Elector, *running) {
	t.Helper()
	cs, broken := newFakeClientset(objs...)
	e, err := NewElector(cfg, leasesOf(cs))
	if err != nil {
		t.Fatal(err)
	}
	return cs, broken, e, start(t, e)
}

func start(t *testing.T, e *Elector) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan error, 1), epochs: make(chan uint64, 16), ended: make(chan uint64, 16)}
	go func() {
		r.done <- e.Run(ctx, func(ctx context.Context, epoch uint64) error {
			r.epochs <- epoch
			<-ctx.Done()
			r.ended <- epoch
			return nil
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(10 * time.Second):
			t.Error("elector did not stop")
		}
	})
	return r
}

func recvEpoch(t *testing.T, ch chan uint64, d time.Duration, what string) uint64 {
	t.Helper()
	select {
	case e := <-ch:
		return e
	case <-time.After(d):
		t.Fatalf("timed out after %s waiting for %s", d, what)
		return 0
	}
}

func TestStatic(t *testing.T) {
	obs := &recObserver{}
	s := NewStatic("dev", obs)
	for _, ep := range []uint64{0, 1, 2, 1 << 63} {
		if !s.Allowed(ep) {
			t.Errorf("Static.Allowed(%d) = false", ep)
		}
	}
	var got uint64
	err := s.Run(context.Background(), func(ctx context.Context, epoch uint64) error {
		got = epoch
		return errors.New("boom")
	})
	if got != 1 || err == nil || err.Error() != "boom" {
		t.Fatalf("Run: epoch %d err %v, want 1 and boom", got, err)
	}
	if !s.IsLeader() || s.Epoch() != 1 || s.Identity() != "dev" || s.LeaderIdentity() != "dev" {
		t.Errorf("status: %v %d %q %q", s.IsLeader(), s.Epoch(), s.Identity(), s.LeaderIdentity())
	}
	if ev := strings.Join(obs.get(), ","); ev != "lead:1,stop:1" {
		t.Errorf("observer events %q", ev)
	}
}

func TestNewElectorValidates(t *testing.T) {
	cs, _ := newFakeClientset()
	tests := []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"ok", func(*Config) {}, ""},
		{"no name", func(c *Config) { c.LeaseName = "" }, "must not be empty"},
		{"no namespace", func(c *Config) { c.Namespace = "" }, "must not be empty"},
		{"no identity", func(c *Config) { c.Identity = "" }, "identity"},
		{"sub-second lease", func(c *Config) { c.LeaseDuration = 900 * time.Millisecond }, "at least 1s"},
		{"renew >= truncated lease", func(c *Config) { c.LeaseDuration = 2500 * time.Millisecond; c.RenewDeadline = 2 * time.Second }, "shorter than the lease duration 2s"},
		{"retry too long", func(c *Config) { c.RetryPeriod = 1800 * time.Millisecond }, "retry period"},
		{"retry zero", func(c *Config) { c.RetryPeriod = 0 }, "must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig("a")
			tt.mod(&cfg)
			_, err := NewElector(cfg, leasesOf(cs))
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := NewElector(testConfig("a"), nil); err == nil {
		t.Error("nil client accepted")
	}
}

func TestNewStaticWhenDisabled(t *testing.T) {
	l, err := New(config.HAConfig{Enabled: false}, Options{
		Getenv:   func(k string) string { return map[string]string{"POD_NAME": "pod-7"}[k] },
		Hostname: func() (string, error) { return "host", nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := l.(*Static); !ok || l.Identity() != "pod-7" {
		t.Fatalf("got %T identity %q, want *Static pod-7", l, l.Identity())
	}
	// The epoch is the start time in ms, so a restart that lost its
	// journal (and with it the order sequence) still makes new client ids.
	clock := newFakeClock()
	epochs := map[uint64]bool{}
	for range 3 {
		l, err := New(config.HAConfig{}, Options{Clock: clock, Hostname: func() (string, error) { return "host", nil }})
		if err != nil {
			t.Fatal(err)
		}
		if want := uint64(clock.Now().UnixMilli()); l.Epoch() != want {
			t.Fatalf("static epoch %d, want the start time %d", l.Epoch(), want)
		}
		epochs[l.Epoch()] = true
		clock.Advance(3 * time.Second) // a pod rescheduled
	}
	if len(epochs) != 3 {
		t.Fatalf("three starts gave epochs %v", epochs)
	}
	_, err = New(config.HAConfig{Enabled: true, LeaseName: "x"}, Options{
		Getenv:   func(string) string { return "" },
		Hostname: func() (string, error) { return "host", nil },
	})
	if err == nil || !strings.Contains(err.Error(), "KUBECONFIG") {
		t.Fatalf("enabled without cluster or KUBECONFIG: err %v", err)
	}
}

func TestEpochIncrementsOnAcquisition(t *testing.T) {
	old := metav1.NewMicroTime(time.Now().Add(-time.Hour))
	holder, dur := "gone", int32(1)
	lease := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: "bitrader", Namespace: "trading", ResourceVersion: "1", Annotations: map[string]string{EpochAnnotation: "41"}},
		Spec:       coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &dur, RenewTime: &old, AcquireTime: &old},
	}
	obs := &recObserver{}
	cfg := testConfig("a")
	cfg.Observer = obs
	clk := clockOf(cfg)
	cs, _, e, r := elect(t, cfg, lease)
	// The holder's 1s lease runs from when we first saw it, whatever
	// renewTime its own clock wrote.
	clk.next(t, 900*time.Millisecond)
	clk.parked(t)
	noEpoch(t, r.epochs, "before the holder's lease expired")
	clk.Advance(maxWait(cfg))
	if got := recvEpoch(t, r.epochs, 5*time.Second, "leadership"); got != 42 {
		t.Fatalf("epoch %d, want 42", got)
	}
	l := getLease(t, cs)
	if l.Annotations[EpochAnnotation] != "42" || *l.Spec.HolderIdentity != "a" {
		t.Fatalf("lease annotation %q holder %q", l.Annotations[EpochAnnotation], *l.Spec.HolderIdentity)
	}
	if got := ptrValue(l.Spec.LeaseTransitions); got != 1 || !l.Spec.AcquireTime.Equal(l.Spec.RenewTime) || *l.Spec.LeaseDurationSeconds != 3 {
		t.Fatalf("acquired lease spec: transitions %d acquire %v renew %v duration %d", got, l.Spec.AcquireTime, l.Spec.RenewTime, *l.Spec.LeaseDurationSeconds)
	}
	acquired := l.Spec.AcquireTime
	if !e.Allowed(42) || e.Allowed(41) || e.Allowed(43) || e.Allowed(0) {
		t.Errorf("fence: 42=%v 41=%v 43=%v 0=%v", e.Allowed(42), e.Allowed(41), e.Allowed(43), e.Allowed(0))
	}
	if !e.IsLeader() || e.Epoch() != 42 || e.LeaderIdentity() != "a" {
		t.Errorf("status %v %d %q", e.IsLeader(), e.Epoch(), e.LeaderIdentity())
	}
	// Renewals keep the epoch.
	rv := l.ResourceVersion
	clk.next(t, cfg.RetryPeriod)
	eventually(t, 3*time.Second, "a renewal", func() bool { return getLease(t, cs).ResourceVersion != rv })
	renewed := getLease(t, cs)
	if got := renewed.Annotations[EpochAnnotation]; got != "42" {
		t.Fatalf("renewal changed epoch to %q", got)
	}
	if !renewed.Spec.AcquireTime.Equal(acquired) || ptrValue(renewed.Spec.LeaseTransitions) != 1 || !renewed.Spec.RenewTime.After(acquired.Time) {
		t.Fatalf("renewal: acquire %v (was %v) transitions %d renew %v", renewed.Spec.AcquireTime, acquired, ptrValue(renewed.Spec.LeaseTransitions), renewed.Spec.RenewTime)
	}
	r.cancel()
	recvEpoch(t, r.ended, 5*time.Second, "term end")
	eventually(t, 5*time.Second, "observer stop", func() bool { return strings.Join(obs.get(), ",") == "lead:42,stop:42" })
}

// A first term's epoch is the time in ms, whether the lease is new or
// carries no epoch yet: counting from 1 again after the lease was deleted
// would reuse client ids. A missing lease is created only after it has
// been missing for a lease duration: it may have been deleted under a
// leader that is still leading until its next renewal.
func TestFirstTermEpochIsTheTime(t *testing.T) {
	for _, existing := range []bool{false, true} {
		var objs []runtime.Object
		if existing {
			objs = append(objs, freeLease())
		}
		cfg := testConfig("a")
		clk := clockOf(cfg)
		cs, _, e, r := elect(t, cfg, objs...)
		if !existing {
			clk.next(t, cfg.LeaseDuration-time.Millisecond)
			clk.parked(t)
			noEpoch(t, r.epochs, "a lease duration after the lease went missing")
			clk.Advance(maxWait(cfg))
		}
		want := uint64(clk.Now().UnixMilli())
		if got := recvEpoch(t, r.epochs, 5*time.Second, "leadership"); got != want {
			t.Fatalf("existing lease %v: epoch %d, want %d", existing, got, want)
		}
		if got := getLease(t, cs).Annotations[EpochAnnotation]; got != uintStr(want) {
			t.Fatalf("existing lease %v: annotation %q", existing, got)
		}
		if !e.Allowed(want) {
			t.Errorf("existing lease %v: fence shut for the first epoch", existing)
		}
		r.cancel()
		recvEpoch(t, r.ended, 5*time.Second, "term end")
	}
}

func TestBadEpochAnnotationNeverLeads(t *testing.T) {
	lease := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: "bitrader", Namespace: "trading", ResourceVersion: "1", Annotations: map[string]string{EpochAnnotation: "x7"}},
	}
	cfg := testConfig("a")
	clk := clockOf(cfg)
	cs, _, _, r := elect(t, cfg, lease)
	// Several acquire attempts must all fail.
	for range 5 {
		clk.next(t, maxWait(cfg))
	}
	clk.parked(t)
	noEpoch(t, r.epochs, "over a corrupt annotation")
	if got := getLease(t, cs).Annotations[EpochAnnotation]; got != "x7" {
		t.Fatalf("annotation rewritten to %q", got)
	}
}

// The fence closes RenewDeadline - RetryPeriod after the last renewal
// started, even though the term's context is still alive: before the
// elector gives the term up at the renew deadline.
func TestFenceClosesAtRenewDeadlineWithoutRenewal(t *testing.T) {
	cfg := testConfig("a")
	clk := clockOf(cfg)
	_, broken, e, r := elect(t, cfg, freeLease())
	ep := recvEpoch(t, r.epochs, 5*time.Second, "leadership")
	renewed := clk.Now() // the acquiring write
	broken.Store(true)   // no renewal succeeds from here on
	window := cfg.RenewDeadline - cfg.RetryPeriod
	for elapsed := time.Duration(0); elapsed+cfg.RetryPeriod < window; elapsed += cfg.RetryPeriod {
		clk.next(t, cfg.RetryPeriod) // a renewal attempt fails
		if !e.Allowed(ep) {
			t.Fatalf("fence closed %s after the last renewal, before its window %s", elapsed+cfg.RetryPeriod, window)
		}
	}
	clk.parked(t)
	clk.Advance(window - clk.Now().Sub(renewed) - time.Millisecond)
	if !e.Allowed(ep) {
		t.Fatal("fence closed 1ms before its window ended")
	}
	clk.Advance(time.Millisecond)
	if e.Allowed(ep) {
		t.Fatal("fence still open one retry period before the renew deadline")
	}
	clk.parked(t) // the renewal that advance started has failed: the elector waits again
	noEpoch(t, r.ended, "before the renew deadline")
	// The elector then gives up the term too, at the renew deadline.
	clk.next(t, cfg.RetryPeriod)
	recvEpoch(t, r.ended, 5*time.Second, "term end after failed renewals")
	if e.IsLeader() {
		t.Error("IsLeader after the term ended")
	}
}

// Another writer taking the lease ends the term at the next renewal
// (conflict), not at the renew deadline; and a later term has a new epoch.
func TestConflictEndsTermAndNextTermHasNewEpoch(t *testing.T) {
	cfg := testConfig("a")
	clk := clockOf(cfg)
	cs, _, e, r := elect(t, cfg, freeLease())
	ep := recvEpoch(t, r.epochs, 5*time.Second, "leadership")
	// An operator (or a confused replica) hands the lease to "b", who
	// then lets it lapse quickly.
	l := getLease(t, cs)
	b, one := "b", int32(1)
	now := metav1.NewMicroTime(clk.Now())
	l.Spec.HolderIdentity, l.Spec.LeaseDurationSeconds, l.Spec.RenewTime = &b, &one, &now
	l.Annotations[EpochAnnotation] = uintStr(ep + 1)
	if _, err := cs.CoordinationV1().Leases("trading").Update(context.Background(), l, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	clk.next(t, cfg.RetryPeriod) // the next renewal conflicts
	recvEpoch(t, r.ended, 5*time.Second, "term end on conflict")
	if e.Allowed(ep) {
		t.Error("fence open after losing the lease")
	}
	clk.next(t, 900*time.Millisecond)
	clk.parked(t)
	noEpoch(t, r.epochs, "while b's lease was valid")
	clk.Advance(maxWait(cfg))
	next := recvEpoch(t, r.epochs, 5*time.Second, "re-acquisition after b's lease lapsed")
	if next != ep+2 {
		t.Fatalf("next epoch %d, want %d", next, ep+2)
	}
	if e.Allowed(ep) || !e.Allowed(next) {
		t.Error("fence must allow only the new epoch")
	}
}

// Graceful stop: lead returns first, then the lease is released (holder
// cleared) with the epoch kept for the successor to increment.
func TestGracefulStopReleasesAfterLeadReturns(t *testing.T) {
	cs, _ := newFakeClientset(freeLease())
	e, err := NewElector(testConfig("a"), leasesOf(cs))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	holderWhenLeadReturned := make(chan string, 1)
	leading := make(chan uint64, 1)
	go func() {
		done <- e.Run(ctx, func(lctx context.Context, epoch uint64) error {
			leading <- epoch
			<-lctx.Done()
			if e.Allowed(epoch) {
				t.Error("fence open after the leader context was cancelled")
			}
			holderWhenLeadReturned <- *getLease(t, cs).Spec.HolderIdentity
			return nil
		})
	}()
	ep := recvEpoch(t, leading, 5*time.Second, "leadership")
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
	if h := <-holderWhenLeadReturned; h != "a" {
		t.Errorf("lease holder %q while lead was finishing; release must wait for it", h)
	}
	l := getLease(t, cs)
	if *l.Spec.HolderIdentity != "" || l.Annotations[EpochAnnotation] != uintStr(ep) {
		t.Fatalf("after release: holder %q epoch %q", *l.Spec.HolderIdentity, l.Annotations[EpochAnnotation])
	}
	if e.IsLeader() || e.Allowed(ep) {
		t.Error("still leading after Run returned")
	}
}

// A lead function that fails ends the term, releases, and Run returns its error.
func TestLeadErrorIsReturned(t *testing.T) {
	cs, _ := newFakeClientset(freeLease())
	e, err := NewElector(testConfig("a"), leasesOf(cs))
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("engine failed")
	err = e.Run(context.Background(), func(context.Context, uint64) error { return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("Run: %v, want %v", err, boom)
	}
	if h := *getLease(t, cs).Spec.HolderIdentity; h != "" {
		t.Errorf("holder %q after failed term, want released", h)
	}
}

// syncBuffer is a log sink the elector's goroutines may write to while
// the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A standby that cannot reach the lease (API server down, RBAC missing)
// says so at warning level, once per distinct error, not every attempt.
func TestAcquireErrorsAreLoggedOnce(t *testing.T) {
	cs, broken := newFakeClientset(freeLease())
	broken.Store(true)
	var logs syncBuffer
	cfg := testConfig("a")
	cfg.RetryPeriod, cfg.RenewDeadline, cfg.LeaseDuration = 10*time.Millisecond, 500*time.Millisecond, time.Second
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	clk := clockOf(cfg)
	e, err := NewElector(cfg, leasesOf(cs)) // not elect: broken before the first attempt
	if err != nil {
		t.Fatal(err)
	}
	r := start(t, e)
	for range 5 {
		clk.next(t, maxWait(cfg))
	}
	clk.parked(t)
	out := logs.String()
	if n := strings.Count(out, "cannot acquire the lease"); n != 1 || !strings.Contains(out, "level=WARN") || !strings.Contains(out, "connection refused (test)") {
		t.Fatalf("after 6 failed attempts the log has %d warnings:\n%s", n, out)
	}
	broken.Store(false)
	clk.Advance(maxWait(cfg))
	if ep := recvEpoch(t, r.epochs, 5*time.Second, "leadership once the API server answers"); ep != firstEpoch(clk.Now()) {
		t.Fatalf("epoch %d, want %d", ep, firstEpoch(clk.Now()))
	}
}

// An explicit KUBECONFIG wins over the pod's service account (as kubectl
// and controller-runtime do), so tests and operators can point a bot at
// the cluster they mean.
func TestRestConfigPrefersKubeconfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kubeconfig")
	kubeconfig := `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: u, user: {token: t0k}}]
contexts: [{name: x, context: {cluster: c, user: u, namespace: trading}}]
current-context: x
`
	if err := os.WriteFile(path, []byte(kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"KUBECONFIG": path, "KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}
	getenv := func(k string) string { return env[k] }
	inCluster := func() (*rest.Config, error) { return &rest.Config{Host: "https://10.0.0.1:443"}, nil }
	rc, ns, err := restConfig(getenv, inCluster)
	if err != nil || rc.Host != "https://127.0.0.1:6443" || ns != "trading" {
		t.Fatalf("restConfig: host %v namespace %q err %v; want the kubeconfig's", rc, ns, err)
	}
	delete(env, "KUBECONFIG")
	if rc, _, err = restConfig(getenv, inCluster); err != nil || rc.Host != "https://10.0.0.1:443" {
		t.Fatalf("in a pod without KUBECONFIG: host %v err %v; want the service account's", rc, err)
	}
	delete(env, "KUBERNETES_SERVICE_HOST")
	if _, _, err := restConfig(getenv, inCluster); err == nil || !strings.Contains(err.Error(), "KUBECONFIG is not set") {
		t.Fatalf("neither KUBECONFIG nor a pod: err %v", err)
	}
}

// A deleted lease ends the leader's term at its next renewal, and no
// elector recreates it before a lease duration has passed: until its
// renewal fails, the old leader may still be trading.
func TestDeletedLease(t *testing.T) {
	cfg := testConfig("a")
	clk := clockOf(cfg)
	cs, _, e, r := elect(t, cfg, freeLease())
	ep := recvEpoch(t, r.epochs, 5*time.Second, "leadership")
	if err := cs.CoordinationV1().Leases("trading").Delete(context.Background(), "bitrader", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	clk.next(t, cfg.RetryPeriod) // the renewal finds no lease
	recvEpoch(t, r.ended, 5*time.Second, "term end when the lease is gone")
	if e.Allowed(ep) {
		t.Fatal("fence open after the lease was deleted")
	}
	clk.next(t, cfg.LeaseDuration-time.Millisecond)
	clk.parked(t)
	noEpoch(t, r.epochs, "within a lease duration of finding it deleted")
	clk.Advance(maxWait(cfg))
	if next := recvEpoch(t, r.epochs, 5*time.Second, "the recreated lease"); next <= ep {
		t.Fatalf("epoch %d after %d", next, ep)
	}
}

// Our own name on the lease, written by another process (a replica
// misconfigured with the same identity, or this pod's previous process),
// is waited out like any other holder.
func TestSameIdentityElsewhereIsWaitedOut(t *testing.T) {
	holder, dur := "a", int32(1)
	lease := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: "bitrader", Namespace: "trading", ResourceVersion: "1", Annotations: map[string]string{EpochAnnotation: "7"}},
		Spec:       coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &dur},
	}
	cfg := testConfig("a")
	clk := clockOf(cfg)
	_, _, _, r := elect(t, cfg, lease)
	clk.next(t, 900*time.Millisecond)
	clk.parked(t)
	noEpoch(t, r.epochs, "over a live lease in our name that we did not write")
	clk.Advance(maxWait(cfg))
	if ep := recvEpoch(t, r.epochs, 5*time.Second, "leadership once it expired"); ep != 8 {
		t.Fatalf("epoch %d, want 8", ep)
	}
}
