package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func newDataCmd(g *globalFlags) *cobra.Command {
	_ = g
	return &cobra.Command{
		Use:   "data",
		Short: "Download and manage market data",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("data: not implemented yet")
		},
	}
}
