package leader_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/leader"
)

// stateNode is a replica whose "engine" state is a byte string: what it
// publishes (Snapshot) and what it inherited at the start of each term,
// before its first "order".
type stateNode struct {
	*node
	mu        sync.Mutex
	state     string
	inherited chan string // per term, before the term's first order
	// ordersAtInherit is how many orders this node had placed when it
	// applied the inherited state, per term.
	ordersAtInherit chan int
}

func (s *stateNode) set(v string) { s.mu.Lock(); s.state = v; s.mu.Unlock() }
func (s *stateNode) snapshot() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return []byte(s.state)
}

func (c *cluster) addStateful(id, state string) *stateNode {
	s := &stateNode{state: state, inherited: make(chan string, 4), ordersAtInherit: make(chan int, 4)}
	// As the engine's BeginTerm does: adopt, then trade.
	s.node = c.start(id, "", s.snapshot, func(e *leader.Elector, _ uint64) error {
		return e.Inherit(func(b []byte) error {
			if len(b) > 0 { // merge: the inherited state wins in this model
				s.set(string(b))
			}
			n := 0
			for _, o := range c.venue.snapshot() {
				if o.who == id {
					n++
				}
			}
			s.ordersAtInherit <- n
			s.inherited <- string(b)
			return nil
		})
	})
	return s
}

func (c *cluster) leaseAnnotation(t *testing.T) string {
	t.Helper()
	leases, err := leader.NewLeases(c.env.Config, "default")
	if err != nil {
		t.Fatal(err)
	}
	l, err := leases.Get(context.Background(), "bitrader")
	if err != nil {
		t.Fatalf("get lease: %v", err)
	}
	return l.Annotations[leader.SharedStateAnnotation]
}

func recvString(t *testing.T, ch chan string, d time.Duration, what string) string {
	t.Helper()
	select {
	case s := <-ch:
		return s
	case <-time.After(d):
		t.Fatalf("timed out after %s waiting for %s", d, what)
		return ""
	}
}

// The leader's state reaches the next leader through the Lease, before
// the next leader's first order: after a crash (the state of the last
// renewal) and after a graceful stop (the state as it was at the release).
func TestRealSharedStateReachesNextLeader(t *testing.T) {
	killed := `{"risk":{"kill":{"tripped":true,"detail":"operator"}}}`
	for _, crash := range []bool{true, false} {
		t.Run(map[bool]string{true: "crash", false: "graceful"}[crash], func(t *testing.T) {
			c := newCluster(t)
			a := c.addStateful("bot-a", `{"risk":{}}`)
			if got := recvString(t, a.inherited, 10*time.Second, "bot-a's term"); got != "" {
				t.Fatalf("bot-a inherited %q from a new lease", got)
			}
			<-a.ordersAtInherit
			b := c.addStateful("bot-b", `{"risk":{"standby":true}}`)
			// bot-a trips its kill switch; the next renewal publishes it.
			a.set(killed)
			deadline := time.Now().Add(5 * time.Second)
			for c.leaseAnnotation(t) != killed {
				if time.Now().After(deadline) {
					t.Fatalf("lease never carried bot-a's state; has %q", c.leaseAnnotation(t))
				}
				time.Sleep(retryPeriod / 4)
			}
			want := killed
			if crash {
				a.gate.dead.Store(true) // no more renewals, no release
			} else {
				// Changed after the last renewal: only the release carries it.
				want = `{"risk":{"kill":{"tripped":true,"detail":"operator, again"}}}`
				a.set(want)
			}
			a.cancel()
			got := recvString(t, b.inherited, leaseDuration+5*time.Second, "bot-b's term")
			if got != want {
				t.Fatalf("bot-b inherited %q, want %q", got, want)
			}
			select {
			case <-b.terms:
			case <-time.After(5 * time.Second):
				t.Fatal("bot-b did not start trading after inheriting")
			}
			if n := <-b.ordersAtInherit; n != 0 {
				t.Errorf("bot-b had placed %d orders before it inherited the state", n)
			}
			// bot-b now publishes its own (merged) state.
			deadline = time.Now().Add(5 * time.Second)
			for c.leaseAnnotation(t) != want {
				if time.Now().After(deadline) {
					t.Fatalf("lease carries %q after bot-b adopted, want %q", c.leaseAnnotation(t), want)
				}
				time.Sleep(retryPeriod / 4)
			}
			b.set(`{"risk":{"by":"bot-b"}}`)
			deadline = time.Now().Add(5 * time.Second)
			for c.leaseAnnotation(t) != `{"risk":{"by":"bot-b"}}` {
				if time.Now().After(deadline) {
					t.Fatalf("bot-b's renewals do not publish its state; lease has %q", c.leaseAnnotation(t))
				}
				time.Sleep(retryPeriod / 4)
			}
			c.venue.check(t)
		})
	}
}
