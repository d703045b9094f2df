// Package config embeds the per-environment configuration files, so the
// binary runs from any directory; a file in --config-dir (or ./config) takes
// precedence over the built-in copy.
package config

import "embed"

// Files holds development.yaml, staging.yaml and production.yaml.
//
//go:embed *.yaml
var Files embed.FS
