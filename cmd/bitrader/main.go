// Command bitrader is an automated trading bot for Bitunix perpetual
// futures, with its own exchange simulator and backtester. This package only
// wires flags to the internal packages.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/bitrader/bitrader/internal/config"
)

// Set by -ldflags "-X main.version=... -X main.commit=... -X main.date=...".
var (
	version = "dev"
	commit  = "unknown"
	date    = "unknown"
)

// Exit codes: 1 for a runtime failure, 2 for bad configuration or usage, so
// scripts and deployment pipelines can tell them apart.
const (
	exitFailure = 1
	exitConfig  = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCmd(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var probs config.Problems
	if errors.As(err, &probs) {
		fmt.Fprintln(stderr, "error:", probs.Error())
		return exitConfig
	}
	var usage usageError
	if errors.As(err, &usage) {
		fmt.Fprintln(stderr, "error:", err)
		return exitConfig
	}
	fmt.Fprintln(stderr, "error:", err)
	return exitFailure
}

// usageError marks errors in how the command was called.
type usageError struct{ error }

func (u usageError) Unwrap() error { return u.error }
