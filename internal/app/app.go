// Package app assembles a running bot from its parts and runs them as one
// group: the first error or signal stops them all, in a known order.
package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"

	"github.com/bitrader/bitrader/internal/config"
	"github.com/bitrader/bitrader/internal/httpapi"
	"github.com/bitrader/bitrader/internal/metrics"
)

// Options are what `bitrader run` passes in.
type Options struct {
	Config config.Config
	Logger *slog.Logger
	Build  metrics.BuildInfo
	Stdout io.Writer
	// ListenAddr overrides the HTTP address (tests use 127.0.0.1:0).
	ListenAddr string
	// Ready, if set, receives the bound HTTP address once serving.
	Ready chan<- string
}

// Run runs the bot until ctx is cancelled or a component fails.
func Run(ctx context.Context, opts Options) error {
	cfg := opts.Config
	log := opts.Logger
	reg := metrics.NewRegistry(opts.Build)
	addr := opts.ListenAddr
	if addr == "" {
		addr = net.JoinHostPort(cfg.System.ListenAddress, strconv.Itoa(cfg.System.MetricsPort))
	}
	srv := httpapi.New(httpapi.Config{Addr: addr, Registry: reg, Token: cfg.Secrets.AdminToken, Logger: log})
	if err := srv.Listen(); err != nil {
		return err
	}
	log.Info("bitrader starting", "environment", cfg.Environment, "version", opts.Build.Version,
		"dryRun", cfg.Trading.DryRun, "symbols", cfg.Trading.Symbols, "http", srv.Addr())
	if opts.Ready != nil {
		opts.Ready <- srv.Addr()
	}
	if err := srv.Run(ctx); err != nil {
		return fmt.Errorf("run: %w", err)
	}
	log.Info("bitrader stopped")
	return nil
}
