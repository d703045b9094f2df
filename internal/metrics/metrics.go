// Package metrics owns bitrader's Prometheus registry. Nothing registers
// into the global default registry: each process (and each test) builds its
// own, so metrics never leak between components or tests.
package metrics

import (
	"runtime"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Namespace prefixes every bitrader metric.
const Namespace = "bitrader"

// BuildInfo identifies the running binary.
type BuildInfo struct {
	Version, Commit, Date string
}

// NewRegistry returns a registry with the Go and process collectors and the
// bitrader_build_info gauge.
func NewRegistry(bi BuildInfo) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	info := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: Namespace,
		Name:      "build_info",
		Help:      "Build information of the running bitrader binary; always 1.",
	}, []string{"version", "commit", "date", "goversion"})
	info.WithLabelValues(bi.Version, bi.Commit, bi.Date, runtime.Version()).Set(1)
	reg.MustRegister(info)
	return reg
}
