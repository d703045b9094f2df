package config

import (
	"fmt"
	"os"
	"strings"
)

// secretSpec names where one secret may come from, in order of preference.
type secretSpec struct {
	key   string // for problems
	names []string
	dst   func(*Secrets, Secret)
}

var secretSpecs = []secretSpec{
	{"apiKey", []string{"BITRADER_API_KEY", "API_KEY"}, func(s *Secrets, v Secret) { s.APIKey = v }},
	{"secretKey", []string{"BITRADER_SECRET_KEY", "SECRET_KEY"}, func(s *Secrets, v Secret) { s.SecretKey = v }},
	{"adminToken", []string{"BITRADER_ADMIN_TOKEN", "ADMIN_TOKEN"}, func(s *Secrets, v Secret) { s.AdminToken = v }},
}

// loadSecrets reads credentials from NAME or NAME_FILE (a mounted
// Kubernetes secret). Problems never quote a secret's value or a file's
// contents.
func loadSecrets(env map[string]string) (Secrets, Problems) {
	var out Secrets
	var probs Problems
	for _, spec := range secretSpecs {
		var found []string
		var value string
		for _, name := range spec.names {
			if v, ok := env[name]; ok && v != "" {
				found = append(found, name)
				value = v
			}
			if path, ok := env[name+"_FILE"]; ok && path != "" {
				found = append(found, name+"_FILE")
				data, err := os.ReadFile(path)
				if err != nil {
					probs = append(probs, Problem{Key: "secrets." + spec.key, Source: Source{Layer: "env", Where: name + "_FILE"},
						Message: fmt.Sprintf("cannot read secret file %s: %v", path, errWithoutContent(err))})
					continue
				}
				value = strings.TrimRight(string(data), "\r\n")
			}
		}
		if len(found) > 1 {
			probs = append(probs, Problem{Key: "secrets." + spec.key, Source: Source{Layer: "env", Where: strings.Join(found, ", ")},
				Message: "set in more than one place; set exactly one"})
			continue
		}
		spec.dst(&out, NewSecret(value))
	}
	return out, probs
}

// errWithoutContent keeps only the OS error kind (e.g. permission denied).
func errWithoutContent(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// ReadsEnv reports whether Load reads the environment variable name: a
// BITRADER_ variable, ENVIRONMENT, a short alias (DRY_RUN, LOG_LEVEL), a
// credential or its _FILE form. Tests scrub these from their environment
// (loopback.ScrubEnv), so a new alias cannot slip past the scrub.
func ReadsEnv(name string) bool {
	if name == "ENVIRONMENT" || strings.HasPrefix(name, "BITRADER_") {
		return true
	}
	if _, ok := envAliases[name]; ok {
		return true
	}
	for _, spec := range secretSpecs {
		for _, n := range spec.names {
			if name == n || name == n+"_FILE" {
				return true
			}
		}
	}
	return false
}
