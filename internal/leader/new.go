package leader

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/bitrader/bitrader/internal/config"
)

// Options are the process-level inputs of New.
type Options struct {
	Observer Observer
	Logger   *slog.Logger
	Clock    Clock
	// Getenv and Hostname default to os.Getenv and os.Hostname.
	Getenv   func(string) string
	Hostname func() (string, error)
	// Snapshot is the state to replicate to the next leader through the
	// Lease (Config.Snapshot); unused without HA.
	Snapshot func() []byte
}

// inClusterNamespaceFile is where Kubernetes mounts the pod's namespace.
const inClusterNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// New returns the Leader for cfg: Static when ha.enabled is false,
// otherwise an Elector on the configured Lease. The Kubernetes client
// comes from $KUBECONFIG if set, else from the in-cluster service
// account. Defaults: namespace from POD_NAMESPACE, the in-cluster
// namespace file, then the kubeconfig context; identity from POD_NAME,
// then the hostname.
func New(cfg config.HAConfig, opts Options) (Leader, error) {
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.Hostname == nil {
		opts.Hostname = os.Hostname
	}
	identity := cfg.Identity
	if identity == "" {
		identity = opts.Getenv("POD_NAME")
	}
	if identity == "" {
		h, err := opts.Hostname()
		if err != nil && cfg.Enabled {
			return nil, fmt.Errorf("ha.identity: empty, POD_NAME unset and hostname unavailable: %w", err)
		}
		identity = h
	}
	if !cfg.Enabled {
		clock := opts.Clock
		if clock == nil {
			clock = realClock{}
		}
		return NewStaticEpoch(identity, firstEpoch(clock.Now()), opts.Observer), nil
	}
	rc, kubeNS, err := restConfig(opts.Getenv, rest.InClusterConfig)
	if err != nil {
		return nil, err
	}
	ns := cfg.LeaseNamespace
	if ns == "" {
		ns = opts.Getenv("POD_NAMESPACE")
	}
	if ns == "" {
		ns = kubeNS
	}
	if ns == "" {
		return nil, errors.New("ha.leaseNamespace: empty and neither POD_NAMESPACE nor a kubeconfig namespace is set")
	}
	rc.UserAgent = "bitrader/" + identity
	leases, err := NewLeases(rc, ns)
	if err != nil {
		return nil, fmt.Errorf("ha: %w", err)
	}
	return NewElector(Config{
		LeaseName: cfg.LeaseName, Namespace: ns, Identity: identity,
		LeaseDuration: cfg.LeaseDuration, RenewDeadline: cfg.RenewDeadline, RetryPeriod: cfg.RetryPeriod,
		Clock: opts.Clock, Observer: opts.Observer, Logger: opts.Logger, Snapshot: opts.Snapshot,
	}, leases)
}

// restConfig finds the API server: an explicit $KUBECONFIG first (as
// kubectl and controller-runtime do), then the pod's service account. It
// also returns the namespace that source implies ("" if none). inCluster
// is rest.InClusterConfig (tests replace it: it reads the real
// environment and the service account's files).
func restConfig(getenv func(string) string, inCluster func() (*rest.Config, error)) (*rest.Config, string, error) {
	if path := getenv("KUBECONFIG"); path != "" {
		loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
			&clientcmd.ClientConfigLoadingRules{Precedence: filepath.SplitList(path)}, &clientcmd.ConfigOverrides{})
		rc, err := loader.ClientConfig()
		if err != nil {
			return nil, "", fmt.Errorf("ha: kubeconfig %s: %w", path, err)
		}
		ns, _, err := loader.Namespace()
		if err != nil {
			return nil, "", fmt.Errorf("ha: kubeconfig %s namespace: %w", path, err)
		}
		return rc, ns, nil
	}
	if getenv("KUBERNETES_SERVICE_HOST") == "" {
		return nil, "", errors.New("ha.enabled: not running in a Kubernetes pod and KUBECONFIG is not set")
	}
	rc, err := inCluster()
	if err != nil {
		return nil, "", fmt.Errorf("ha: in-cluster Kubernetes config: %w", err)
	}
	ns := ""
	if b, err := os.ReadFile(inClusterNamespaceFile); err == nil {
		ns = strings.TrimSpace(string(b))
	}
	return rc, ns, nil
}
