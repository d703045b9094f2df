package leader_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/bitrader/bitrader/internal/leader"
	"github.com/bitrader/bitrader/internal/leader/leadertest"
)

// Short durations keep the suite fast; the ratios match production
// (15s/10s/2s): the fence closes 0.5s before a standby may take over.
const (
	leaseDuration = 2 * time.Second
	renewDeadline = 1500 * time.Millisecond
	retryPeriod   = 300 * time.Millisecond
)

// gate sits in a client's transport: frozen blocks every request until
// thawed (a SIGSTOPped process), dead fails every request (a crashed one).
type gate struct {
	rt     http.RoundTripper
	mu     sync.Mutex
	frozen chan struct{} // non-nil while frozen; closed to thaw
	dead   atomic.Bool
}

func (g *gate) RoundTrip(r *http.Request) (*http.Response, error) {
	if g.dead.Load() {
		return nil, errors.New("process crashed (test)")
	}
	g.mu.Lock()
	f := g.frozen
	g.mu.Unlock()
	if f != nil {
		select {
		case <-f:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	return g.rt.RoundTrip(r)
}

func (g *gate) freeze() {
	g.mu.Lock()
	g.frozen = make(chan struct{})
	g.mu.Unlock()
}

func (g *gate) thaw() {
	g.mu.Lock()
	close(g.frozen)
	g.frozen = nil
	g.mu.Unlock()
}

// order is one Place that reached the fake venue.
type order struct {
	at    time.Time
	who   string
	epoch uint64
}

// venue records orders the way an exchange would: in arrival order.
type venue struct {
	mu     sync.Mutex
	orders []order
}

func (v *venue) place(who string, epoch uint64) {
	v.mu.Lock()
	v.orders = append(v.orders, order{time.Now(), who, epoch})
	v.mu.Unlock()
}

func (v *venue) snapshot() []order {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]order(nil), v.orders...)
}

// check asserts that epochs never interleave: once an epoch appears no
// older one follows, and each epoch belongs to one process.
func (v *venue) check(t *testing.T) map[uint64]int {
	t.Helper()
	perEpoch := map[uint64]int{}
	owner := map[uint64]string{}
	var last uint64
	for i, o := range v.snapshot() {
		if o.epoch < last {
			t.Errorf("order %d by %s has stale epoch %d after epoch %d traded", i, o.who, o.epoch, last)
		}
		last = max(last, o.epoch)
		if w, ok := owner[o.epoch]; ok && w != o.who {
			t.Errorf("epoch %d used by %s and %s", o.epoch, w, o.who)
		}
		owner[o.epoch] = o.who
		perEpoch[o.epoch]++
	}
	return perEpoch
}

type node struct {
	id     string
	e      *leader.Elector
	gate   *gate
	cancel context.CancelFunc
	done   chan error
	terms  chan uint64 // epochs of won terms
}

type cluster struct {
	t     *testing.T
	env   *leadertest.Env
	venue *venue
	mu    sync.Mutex
	nodes []*node
	// overlap counts samples in which two fences were open at once.
	overlap atomic.Int64
	stopMon context.CancelFunc
}

func newCluster(t *testing.T) *cluster {
	env := leadertest.Start(t)
	c := &cluster{t: t, env: env, venue: &venue{}}
	ctx, cancel := context.WithCancel(context.Background())
	c.stopMon = cancel
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); c.monitor(ctx) }()
	t.Cleanup(func() {
		for _, n := range c.nodes {
			n.cancel()
		}
		for _, n := range c.nodes {
			select {
			case <-n.done:
			case <-time.After(10 * time.Second):
				t.Errorf("%s did not stop", n.id)
			}
		}
		cancel()
		wg.Wait()
		if n := c.overlap.Load(); n > 0 {
			t.Errorf("two fences open at once in %d samples", n)
		}
	})
	return c
}

// monitor samples every fence each millisecond.
func (c *cluster) monitor(ctx context.Context) {
	tk := time.NewTicker(time.Millisecond)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
		}
		open := 0
		for _, n := range c.nodeList() {
			if n.e.Allowed(n.e.Epoch()) {
				open++
			}
		}
		if open > 1 {
			c.overlap.Add(1)
		}
	}
}

func (c *cluster) nodeList() []*node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*node(nil), c.nodes...)
}

// add starts an elector named id. host, if set, replaces the API server
// address (to go through a proxy).
func (c *cluster) add(id, host string) *node {
	return c.start(id, host, nil, nil)
}

// start starts an elector named id that publishes snapshot (if not nil)
// and, in each term, runs beginTerm (if not nil) and then trades.
func (c *cluster) start(id, host string, snapshot func() []byte, beginTerm func(e *leader.Elector, epoch uint64) error) *node {
	t := c.t
	rc := rest.CopyConfig(c.env.Config)
	if host != "" {
		rc.Host = host
	}
	g := &gate{}
	rc.Wrap(func(rt http.RoundTripper) http.RoundTripper { g.rt = rt; return g })
	leases, err := leader.NewLeases(rc, "default")
	if err != nil {
		t.Fatal(err)
	}
	e, err := leader.NewElector(leader.Config{
		LeaseName: "bitrader", Namespace: "default", Identity: id,
		LeaseDuration: leaseDuration, RenewDeadline: renewDeadline, RetryPeriod: retryPeriod,
		Snapshot: snapshot,
	}, leases)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &node{id: id, e: e, gate: g, cancel: cancel, done: make(chan error, 1), terms: make(chan uint64, 16)}
	go func() {
		n.done <- e.Run(ctx, func(ctx context.Context, epoch uint64) error {
			if beginTerm != nil {
				if err := beginTerm(e, epoch); err != nil {
					return err
				}
			}
			n.terms <- epoch
			// The "order manager": place an order every 5ms, each one
			// only if the fence allows it, like ordermanager.Submit.
			tk := time.NewTicker(5 * time.Millisecond)
			defer tk.Stop()
			for {
				select {
				case <-ctx.Done():
					return nil
				case <-tk.C:
				}
				if e.Allowed(epoch) {
					c.venue.place(id, epoch)
				}
			}
		})
	}()
	c.mu.Lock()
	c.nodes = append(c.nodes, n)
	c.mu.Unlock()
	return n
}

// frozenPlacer keeps trying to place under epoch after its process was
// "frozen": the adversary of fencing. It stops with ctx.
func (c *cluster) frozenPlacer(ctx context.Context, n *node, epoch uint64) {
	go func() {
		tk := time.NewTicker(time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tk.C:
			}
			if n.e.Allowed(epoch) {
				c.venue.place(n.id, epoch)
			}
		}
	}()
}

// waitLeader waits for exactly one node to lead and returns it and its epoch.
func (c *cluster) waitLeader(d time.Duration, exclude *node) (*node, uint64, time.Time) {
	c.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		for _, n := range c.nodeList() {
			if n == exclude {
				continue
			}
			if ep := n.e.Epoch(); n.e.Allowed(ep) {
				return n, ep, time.Now()
			}
		}
		time.Sleep(time.Millisecond)
	}
	c.t.Fatalf("no leader within %s", d)
	return nil, 0, time.Time{}
}

func (c *cluster) assertFollowersRefuse(lead *node, maxEpoch uint64) {
	c.t.Helper()
	leaders := 0
	for _, n := range c.nodeList() {
		if n.e.IsLeader() {
			leaders++
		}
		if n == lead {
			continue
		}
		for _, ep := range []uint64{0, 1, maxEpoch - 1, maxEpoch, maxEpoch + 1, n.e.Epoch()} {
			if n.e.Allowed(ep) {
				c.t.Errorf("follower %s allows epoch %d", n.id, ep)
			}
		}
		if got := n.e.LeaderIdentity(); got != lead.id && got != "" {
			c.t.Logf("follower %s sees leader %q (leader is %s)", n.id, got, lead.id)
		}
	}
	if leaders != 1 {
		c.t.Errorf("%d electors report IsLeader, want 1", leaders)
	}
}

// Two and three electors: one leads at a time; graceful stops hand over
// quickly with strictly increasing epochs.
func TestRealGracefulHandover(t *testing.T) {
	for _, size := range []int{2, 3} {
		t.Run(fmt.Sprintf("%d electors", size), func(t *testing.T) {
			c := newCluster(t)
			for i := range size {
				c.add(fmt.Sprintf("bot-%d", i), "")
			}
			lead, epoch, _ := c.waitLeader(10*time.Second, nil)
			var epochs []uint64
			for round := 0; round < size; round++ {
				epochs = append(epochs, epoch)
				time.Sleep(3 * retryPeriod) // let the standbys settle into their loops
				c.assertFollowersRefuse(lead, epoch)
				t0 := time.Now()
				lead.cancel()
				var next *node
				var at time.Time
				if round == size-1 {
					break
				}
				next, epoch, at = c.waitLeader(5*time.Second, lead)
				took := at.Sub(t0)
				t.Logf("graceful handover %s -> %s (epoch %d -> %d) took %s", lead.id, next.id, epochs[len(epochs)-1], epoch, took.Round(time.Millisecond))
				if took > 2*time.Second {
					t.Errorf("graceful handover took %s, want < 2s", took)
				}
				if epoch <= epochs[len(epochs)-1] {
					t.Errorf("epoch went from %d to %d", epochs[len(epochs)-1], epoch)
				}
				select {
				case err := <-lead.done:
					if err != nil {
						t.Errorf("stopped leader's Run: %v", err)
					}
					lead.done <- nil // for cleanup
				case <-time.After(5 * time.Second):
					t.Fatal("stopped leader's Run did not return")
				}
				lead = next
			}
			per := c.venue.check(t)
			for _, ep := range epochs {
				if per[ep] == 0 {
					t.Errorf("epoch %d placed no orders", ep)
				}
			}
			t.Logf("orders per epoch: %v", per)
		})
	}
}

// A crashed leader (no more requests, no release) is replaced once its
// lease expires.
func TestRealCrashedLeaderReplaced(t *testing.T) {
	c := newCluster(t)
	a := c.add("bot-a", "")
	_, ea, _ := c.waitLeader(10*time.Second, nil)
	for _, id := range []string{"bot-b", "bot-c"} {
		c.add(id, "")
	}
	time.Sleep(3 * retryPeriod)
	if !a.e.Allowed(ea) {
		t.Fatal("bot-a lost leadership without a crash")
	}
	t0 := time.Now()
	a.gate.dead.Store(true)
	a.cancel() // its release fails: the client is dead
	next, eb, at := c.waitLeader(leaseDuration+3*retryPeriod+time.Second, a)
	took := at.Sub(t0)
	t.Logf("crash failover bot-a -> %s (epoch %d -> %d) took %s (lease duration %s)", next.id, ea, eb, took.Round(time.Millisecond), leaseDuration)
	if took > leaseDuration+2*retryPeriod*12/10+300*time.Millisecond {
		t.Errorf("crash failover took %s; want within the lease duration plus the standby's poll interval", took)
	}
	if eb <= ea {
		t.Errorf("epoch %d after %d", eb, ea)
	}
	c.venue.check(t)
}

// A frozen leader (SIGSTOP: its renewals hang) refuses to submit before
// anyone can take over, and still refuses after it resumes.
func TestRealFrozenLeaderFenced(t *testing.T) {
	c := newCluster(t)
	a := c.add("bot-a", "")
	_, ea, _ := c.waitLeader(10*time.Second, nil)
	b := c.add("bot-b", "")
	time.Sleep(3 * retryPeriod)

	a.gate.freeze()
	frozenAt := time.Now()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	c.frozenPlacer(ctx, a, ea)

	var closedAt time.Time
	for deadline := time.Now().Add(leaseDuration); a.e.Allowed(ea); {
		if time.Now().After(deadline) {
			t.Fatalf("frozen leader's fence still open %s after freezing", leaseDuration)
		}
		time.Sleep(time.Millisecond)
	}
	closedAt = time.Now()
	_, eb, tookOver := c.waitLeader(leaseDuration+3*retryPeriod+time.Second, a)
	t.Logf("frozen leader: fence closed %s after freeze; bot-b led %s after freeze (%s after the fence closed), epoch %d -> %d",
		closedAt.Sub(frozenAt).Round(time.Millisecond), tookOver.Sub(frozenAt).Round(time.Millisecond), tookOver.Sub(closedAt).Round(time.Millisecond), ea, eb)
	if !closedAt.Before(tookOver) {
		t.Fatalf("fence closed at %s, not before the takeover at %s", closedAt, tookOver)
	}

	// Resume: its stale renewal goes through and conflicts; it must not
	// trade again under its old epoch, ever.
	a.gate.thaw()
	for deadline := time.Now().Add(2 * leaseDuration); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if a.e.Allowed(ea) {
			t.Fatal("resumed ex-leader's fence reopened for its stale epoch")
		}
	}
	if !b.e.Allowed(eb) {
		t.Error("new leader lost the lease after the old one resumed")
	}
	stop()
	for _, o := range c.venue.snapshot() {
		if o.epoch == ea && !o.at.Before(tookOver) {
			t.Errorf("order with stale epoch %d by %s at %s, after takeover", o.epoch, o.who, o.at)
		}
	}
	c.venue.check(t)
}

// The API server becoming unreachable makes the leader stop submitting
// before its lease could be taken.
func TestRealAPIServerUnreachable(t *testing.T) {
	c := newCluster(t)
	u, err := url.Parse(c.env.Config.Host)
	if err != nil {
		t.Fatal(err)
	}
	p, err := leadertest.NewProxy(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	a := c.add("bot-a", "https://"+p.Addr())
	_, ea, _ := c.waitLeader(10*time.Second, nil)
	c.add("bot-b", "")
	time.Sleep(3 * retryPeriod)

	p.Cut()
	cutAt := time.Now()
	for deadline := cutAt.Add(leaseDuration); a.e.Allowed(ea); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("partitioned leader's fence still open %s after the cut", leaseDuration)
		}
	}
	closedAt := time.Now()
	_, eb, tookOver := c.waitLeader(leaseDuration+3*retryPeriod+time.Second, a)
	t.Logf("partition: fence closed %s after the cut; takeover %s after the cut; epoch %d -> %d",
		closedAt.Sub(cutAt).Round(time.Millisecond), tookOver.Sub(cutAt).Round(time.Millisecond), ea, eb)
	if !closedAt.Before(tookOver) {
		t.Fatalf("fence closed at %s, not before the takeover at %s", closedAt, tookOver)
	}
	c.venue.check(t)
}

// Deleting the Lease (an operator, a namespace rebuilt) is no release:
// the leader's fence stays open until its next renewal finds the lease
// gone, so no standby may recreate it at once. The two fences are never
// open together, and afterwards one replica leads again.
func TestRealDeletedLeaseNoOverlap(t *testing.T) {
	c := newCluster(t)
	a := c.add("bot-a", "")
	_, ea, _ := c.waitLeader(10*time.Second, nil)
	b := c.add("bot-b", "")
	time.Sleep(3 * retryPeriod) // b is a standby in its loop
	cs, err := kubernetes.NewForConfig(c.env.Config)
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.CoordinationV1().Leases("default").Delete(context.Background(), "bitrader", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	deleted := time.Now()
	for time.Since(deleted) < leaseDuration+time.Second {
		if a.e.Allowed(ea) && b.e.Allowed(b.e.Epoch()) && b.e.Epoch() != ea {
			t.Fatalf("both fences open %s after the lease was deleted (a epoch %d, b epoch %d)", time.Since(deleted), ea, b.e.Epoch())
		}
		time.Sleep(100 * time.Microsecond)
	}
	_, next, _ := c.waitLeader(10*time.Second, nil)
	if next <= ea {
		t.Errorf("epoch %d after %d", next, ea)
	}
	c.venue.check(t)
}
