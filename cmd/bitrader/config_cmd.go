package main

import (
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/bitrader/bitrader/internal/config"
)

func newConfigCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Validate or show the effective configuration",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "validate",
		Short: "Check the configuration; exit 2 listing every problem if it is not valid",
		Long: `Loads every configuration layer for the selected environment and checks every
rule. Deployment pipelines run "bitrader config validate --env production" before a
rollout. Exit code 0 means valid, 2 means invalid (each problem is printed with
its key, where it was set, and what is allowed).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := g.load(cmd)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "ok: %s configuration is valid\n", l.Config.Environment)
			return err
		},
	})
	var sources bool
	show := &cobra.Command{
		Use:   "show",
		Short: "Print the effective configuration as YAML (secrets redacted)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := g.load(cmd)
			var probs config.Problems
			if err != nil && !errors.As(err, &probs) {
				return err
			}
			if l == nil {
				return err
			}
			out := cmd.OutOrStdout()
			if sources {
				printSources(out, l)
			} else {
				doc := struct {
					Environment   string `yaml:"environment"`
					config.Config `yaml:",inline"`
					Secrets       map[string]string `yaml:"secrets"`
				}{l.Config.Environment, l.Config, secretSummary(l.Config.Secrets)}
				enc := yaml.NewEncoder(out)
				enc.SetIndent(2)
				if err := enc.Encode(doc); err != nil {
					return fmt.Errorf("encoding configuration: %w", err)
				}
				_ = enc.Close()
			}
			if len(probs) > 0 {
				return probs
			}
			return nil
		},
	}
	show.Flags().BoolVar(&sources, "sources", false, "print one line per key with its value and where it was set")
	cmd.AddCommand(show)
	return cmd
}

func secretSummary(s config.Secrets) map[string]string {
	state := func(v config.Secret) string {
		if v.IsSet() {
			return v.String()
		}
		return "(not set)"
	}
	return map[string]string{"apiKey": state(s.APIKey), "secretKey": state(s.SecretKey), "adminToken": state(s.AdminToken)}
}

// printSources prints "key = value  # source" for every key, sorted.
func printSources(w io.Writer, l *config.Loaded) {
	values := l.Values()
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "%s = %s  # %s\n", k, values[k], l.Sources[k])
	}
}
