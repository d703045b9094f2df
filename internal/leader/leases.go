package leader

import (
	"context"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
)

// Leases is the part of the Kubernetes API the Elector uses: one
// namespace's coordination.k8s.io/v1 Leases.
type Leases interface {
	Get(ctx context.Context, name string) (*coordinationv1.Lease, error)
	Create(ctx context.Context, lease *coordinationv1.Lease) (*coordinationv1.Lease, error)
	// Update is conditional on lease.ResourceVersion: the API server
	// answers Conflict if the lease was written since.
	Update(ctx context.Context, lease *coordinationv1.Lease) (*coordinationv1.Lease, error)
	// Watch streams the changes of the named lease.
	Watch(ctx context.Context, name string) (watch.Interface, error)
}

// restLeases is Leases over client-go's REST client with a scheme that
// knows only the Lease. client-go's typed clientset would do the same
// work but registers every built-in API group at start-up, which cost
// the bot about 8-10 MiB of resident memory, HA on or not (BENCHMARKS.md,
// Resident memory: 33.3 MiB before, 23.3 after); client-go's rest
// package still does the authentication, TLS and token rotation.
type restLeases struct {
	client    *rest.RESTClient
	namespace string
}

// watchTimeout makes the API server end a watch, which watchRelease then
// restarts: no watch outlives a silently dropped connection for long.
const watchTimeout = 5 * time.Minute

// NewLeases returns Leases in namespace through the API server rc points at.
func NewLeases(rc *rest.Config, namespace string) (Leases, error) {
	scheme := runtime.NewScheme()
	if err := coordinationv1.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("leader: lease scheme: %w", err)
	}
	// Status replies (errors) and watch events are unversioned meta types.
	metav1.AddToGroupVersion(scheme, schema.GroupVersion{Version: "v1"})
	cfg := rest.CopyConfig(rc)
	cfg.APIPath = "/apis"
	cfg.GroupVersion = &coordinationv1.SchemeGroupVersion
	cfg.NegotiatedSerializer = serializer.NewCodecFactory(scheme).WithoutConversion()
	cfg.ContentType = runtime.ContentTypeJSON
	if err := rest.SetKubernetesDefaults(cfg); err != nil { // the user agent
		return nil, fmt.Errorf("leader: lease client: %w", err)
	}
	client, err := rest.RESTClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("leader: kubernetes client: %w", err)
	}
	return &restLeases{client: client, namespace: namespace}, nil
}

func (c *restLeases) Get(ctx context.Context, name string) (*coordinationv1.Lease, error) {
	out := &coordinationv1.Lease{}
	err := c.client.Get().Namespace(c.namespace).Resource("leases").Name(name).Do(ctx).Into(out)
	return out, err
}

func (c *restLeases) Create(ctx context.Context, lease *coordinationv1.Lease) (*coordinationv1.Lease, error) {
	out := &coordinationv1.Lease{}
	err := c.client.Post().Namespace(c.namespace).Resource("leases").Body(lease).Do(ctx).Into(out)
	return out, err
}

func (c *restLeases) Update(ctx context.Context, lease *coordinationv1.Lease) (*coordinationv1.Lease, error) {
	out := &coordinationv1.Lease{}
	err := c.client.Put().Namespace(c.namespace).Resource("leases").Name(lease.Name).Body(lease).Do(ctx).Into(out)
	return out, err
}

func (c *restLeases) Watch(ctx context.Context, name string) (watch.Interface, error) {
	return c.client.Get().Namespace(c.namespace).Resource("leases").
		Param("watch", "true").
		Param("fieldSelector", fields.OneTermEqualSelector("metadata.name", name).String()).
		Param("timeoutSeconds", fmt.Sprint(int(watchTimeout/time.Second))).
		Watch(ctx)
}
