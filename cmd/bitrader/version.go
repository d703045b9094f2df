package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/bitrader/bitrader/internal/metrics"
)

func buildInfo() metrics.BuildInfo {
	return metrics.BuildInfo{Version: version, Commit: commit, Date: date}
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print version, commit and build date",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "bitrader %s (commit %s, built %s, %s %s/%s)\n",
				version, commit, date, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return err
		},
	}
}
