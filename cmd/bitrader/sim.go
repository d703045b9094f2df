package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func newSimCmd(g *globalFlags) *cobra.Command {
	_ = g
	return &cobra.Command{
		Use:   "sim",
		Short: "Run the Bitunix-compatible exchange simulator",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("sim: not implemented yet")
		},
	}
}
