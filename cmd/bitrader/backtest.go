package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func newBacktestCmd(g *globalFlags) *cobra.Command {
	_ = g
	return &cobra.Command{
		Use:   "backtest",
		Short: "Backtest a strategy on historical data",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("backtest: not implemented yet")
		},
	}
}
