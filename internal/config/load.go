package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Source says which layer set a value.
type Source struct {
	Layer string // default, env-file, user-file, env, flag
	Where string // file:line, variable name or flag
}

func (s Source) String() string {
	if s.Where == "" {
		return s.Layer
	}
	return s.Where
}

// Options are the inputs that are not themselves configuration values.
type Options struct {
	// Environment is from --env; empty means ENVIRONMENT, then development.
	Environment string
	// ConfigDir holds <env>.yaml; empty means BITRADER_CONFIG_DIR, then
	// ./config, then the copy built into the binary.
	ConfigDir string
	// UserFile is --config; empty means config.yaml if it exists.
	UserFile string
	// Set are --set key=value flags, in order.
	Set []string
	// Flags are typed flags already mapped to keys (e.g. --dry-run ->
	// trading.dryRun), applied after Set.
	Flags map[string]string
	// Env is the environment, as os.Environ(); nil means os.Environ().
	Env []string
	// Builtin reads an environment file compiled into the binary.
	Builtin fs.FS
}

// Loaded is a validated-or-not configuration with the source of every key.
type Loaded struct {
	Config  Config
	Sources map[string]Source
}

// Problem is one thing wrong with the configuration.
type Problem struct {
	Key     string
	Source  Source
	Message string
}

func (p Problem) Error() string {
	if p.Key == "" {
		return p.Message
	}
	return fmt.Sprintf("%s (from %s): %s", p.Key, p.Source, p.Message)
}

// Problems is a list of configuration problems, reported together so a user
// fixes them in one pass.
type Problems []Problem

func (ps Problems) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d configuration problem(s):", len(ps))
	for _, p := range ps {
		b.WriteString("\n  - ")
		b.WriteString(p.Error())
	}
	return b.String()
}

// field describes one settable key of Config.
type field struct {
	path  string
	index []int
	typ   reflect.Type
}

// schema lists every leaf key of Config with its reflect path.
func schema() map[string]field {
	out := map[string]field{}
	var walk func(t reflect.Type, prefix string, index []int)
	walk = func(t reflect.Type, prefix string, index []int) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := f.Tag.Get("yaml")
			name, opts, _ := strings.Cut(tag, ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			idx := append(append([]int{}, index...), i)
			if opts == "inline" {
				walk(f.Type, prefix, idx)
				continue
			}
			if name == "" {
				name = strings.ToLower(f.Name[:1]) + f.Name[1:]
			}
			p := name
			if prefix != "" {
				p = prefix + "." + name
			}
			if derivedKeys[p] {
				continue
			}
			if isLeaf(f.Type) {
				out[p] = field{path: p, index: idx, typ: f.Type}
				continue
			}
			walk(f.Type, p, idx)
		}
	}
	walk(reflect.TypeOf(Config{}), "", nil)
	return out
}

func isLeaf(t reflect.Type) bool {
	if t.Kind() != reflect.Struct {
		return true
	}
	// Structs that decode from one scalar (none today besides these).
	return t.Implements(textUnmarshalerType) || reflect.PointerTo(t).Implements(textUnmarshalerType)
}

var textUnmarshalerType = reflect.TypeOf((*interface{ UnmarshalText([]byte) error })(nil)).Elem()

// envKey is the BITRADER_<PATH> form of a key.
func envKey(path string) string {
	return "BITRADER_" + strings.ToUpper(strings.ReplaceAll(path, ".", "_"))
}

// assignment is one value set by one layer.
type assignment struct {
	key    string
	node   *yaml.Node
	source Source
}

// Environment variables that are not configuration keys but are ours.
var nonKeyEnv = map[string]bool{
	"BITRADER_API_KEY": true, "BITRADER_SECRET_KEY": true, "BITRADER_ADMIN_TOKEN": true,
	"BITRADER_API_KEY_FILE": true, "BITRADER_SECRET_KEY_FILE": true, "BITRADER_ADMIN_TOKEN_FILE": true,
	"BITRADER_CONFIG_DIR": true, "BITRADER_TOOLS": true,
}

// Short aliases the deployment documents use.
var envAliases = map[string]string{
	"DRY_RUN":   "trading.dryRun",
	"LOG_LEVEL": "system.logLevel",
}

// Load builds the configuration from all layers and validates it. It
// returns the loaded configuration even when validation fails, so callers
// can still show it; err is then a Problems.
func Load(opts Options) (*Loaded, error) {
	env := envMap(opts.Env)
	sch := schema()
	var probs Problems

	environment, envSrc := opts.Environment, Source{Layer: "flag", Where: "--env"}
	if environment == "" {
		environment, envSrc = env["ENVIRONMENT"], Source{Layer: "env", Where: "ENVIRONMENT"}
	}
	if environment == "" {
		environment, envSrc = Development, Source{Layer: "default"}
	}
	switch environment {
	case Development, Staging, Production:
	default:
		return nil, Problems{{Key: "environment", Source: envSrc,
			Message: fmt.Sprintf("unknown environment %q; allowed: development, staging, production", environment)}}
	}

	cfg := Defaults()
	cfg.Environment = environment
	sources := map[string]Source{"environment": envSrc}
	for k := range sch {
		sources[k] = Source{Layer: "default"}
	}

	var layers [][]assignment
	envFile, err := readEnvFile(opts, env, environment)
	if err != nil {
		return nil, err
	}
	if envFile != nil {
		as, ps := fileAssignments(envFile.name, envFile.data, "env-file", sch)
		layers, probs = append(layers, as), append(probs, ps...)
	}
	userFile := opts.UserFile
	explicitUser := userFile != ""
	if !explicitUser {
		userFile = "config.yaml"
	}
	if data, err := os.ReadFile(userFile); err == nil {
		as, ps := fileAssignments(userFile, data, "user-file", sch)
		layers, probs = append(layers, as), append(probs, ps...)
	} else if explicitUser || !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading config file: %w", err)
	}
	as, ps := envAssignments(env, sch)
	layers, probs = append(layers, as), append(probs, ps...)
	as, ps = flagAssignments(opts, sch)
	layers, probs = append(layers, as), append(probs, ps...)

	root := reflect.ValueOf(&cfg).Elem()
	for _, layer := range layers {
		for _, a := range layer {
			f := sch[a.key]
			dst := root.FieldByIndex(f.index)
			fresh := reflect.New(f.typ)
			if err := a.node.Decode(fresh.Interface()); err != nil {
				probs = append(probs, Problem{Key: a.key, Source: a.source, Message: typeMessage(f.typ, err)})
				continue
			}
			dst.Set(fresh.Elem())
			sources[a.key] = a.source
		}
	}

	before := cfg.API
	cfg.applyDerived()
	if before.WSURL != cfg.API.WSURL {
		sources["api.wsURL"] = Source{Layer: "derived", Where: "derived from api.baseURL"}
	}
	if before.PrivateWSURL != cfg.API.PrivateWSURL {
		sources["api.privateWSURL"] = Source{Layer: "derived", Where: "derived from api.wsURL"}
	}
	secrets, ps := loadSecrets(env)
	cfg.Secrets = secrets
	probs = append(probs, ps...)

	l := &Loaded{Config: cfg, Sources: sources}
	probs = append(probs, l.validate()...)
	if len(probs) > 0 {
		return l, probs
	}
	return l, nil
}

func envMap(environ []string) map[string]string {
	if environ == nil {
		environ = os.Environ()
	}
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if ok {
			m[k] = v
		}
	}
	return m
}

type namedFile struct {
	name string
	data []byte
}

func readEnvFile(opts Options, env map[string]string, environment string) (*namedFile, error) {
	dir := opts.ConfigDir
	if dir == "" {
		dir = env["BITRADER_CONFIG_DIR"]
	}
	explicit := dir != ""
	if dir == "" {
		dir = "config"
	}
	name := filepath.Join(dir, environment+".yaml")
	data, err := os.ReadFile(name)
	switch {
	case err == nil:
		return &namedFile{name, data}, nil
	case explicit || !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("reading environment config: %w", err)
	case opts.Builtin != nil:
		data, err := fs.ReadFile(opts.Builtin, environment+".yaml")
		if err != nil {
			return nil, fmt.Errorf("reading built-in %s config: %w", environment, err)
		}
		return &namedFile{"(built-in) config/" + environment + ".yaml", data}, nil
	}
	return nil, nil
}

// fileAssignments flattens a YAML document into leaf assignments, refusing
// unknown keys with their line numbers.
func fileAssignments(name string, data []byte, layer string, sch map[string]field) ([]assignment, Problems) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) || len(bytes.TrimSpace(data)) == 0 {
			return nil, nil
		}
		return nil, Problems{{Message: fmt.Sprintf("%s: invalid YAML: %v", name, err)}}
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	var out []assignment
	var probs Problems
	var walk func(n *yaml.Node, prefix string)
	walk = func(n *yaml.Node, prefix string) {
		if n.Kind != yaml.MappingNode {
			probs = append(probs, Problem{Key: strings.TrimSuffix(prefix, "."),
				Source:  Source{Layer: layer, Where: fmt.Sprintf("%s:%d", name, n.Line)},
				Message: "expected a mapping of keys"})
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			path := prefix + k.Value
			src := Source{Layer: layer, Where: fmt.Sprintf("%s:%d", name, k.Line)}
			if _, ok := sch[path]; ok {
				out = append(out, assignment{key: path, node: v, source: src})
				continue
			}
			if hasPrefix(sch, path+".") {
				if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
					continue // an empty section
				}
				walk(v, path+".")
				continue
			}
			probs = append(probs, Problem{Key: path, Source: src, Message: "unknown key" + suggest(sch, path)})
		}
	}
	walk(doc.Content[0], "")
	return out, probs
}

func hasPrefix(sch map[string]field, prefix string) bool {
	for k := range sch {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

// suggest names the known key that differs only in case, the usual typo.
func suggest(sch map[string]field, path string) string {
	for k := range sch {
		if strings.EqualFold(k, path) {
			return fmt.Sprintf("; did you mean %q?", k)
		}
	}
	return ""
}

func envAssignments(env map[string]string, sch map[string]field) ([]assignment, Problems) {
	byEnv := make(map[string]string, len(sch))
	for k := range sch {
		byEnv[envKey(k)] = k
	}
	var out []assignment
	var probs Problems
	// Aliases first, so the explicit BITRADER_ form wins when both are set.
	for _, name := range sortedKeys(envAliases) {
		if v, ok := env[name]; ok {
			out = append(out, scalarAssignment(envAliases[name], v, Source{Layer: "env", Where: name}, sch))
		}
	}
	names := make([]string, 0)
	for name := range env {
		if strings.HasPrefix(name, "BITRADER_") {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		key, ok := byEnv[name]
		if !ok {
			if !nonKeyEnv[name] {
				probs = append(probs, Problem{Key: name, Source: Source{Layer: "env", Where: name},
					Message: "unknown environment variable; every key is BITRADER_<SECTION>_<KEY>, e.g. BITRADER_TRADING_MAXDAILYLOSS"})
			}
			continue
		}
		out = append(out, scalarAssignment(key, env[name], Source{Layer: "env", Where: name}, sch))
	}
	return out, probs
}

func flagAssignments(opts Options, sch map[string]field) ([]assignment, Problems) {
	var out []assignment
	var probs Problems
	for _, kv := range opts.Set {
		k, v, ok := strings.Cut(kv, "=")
		src := Source{Layer: "flag", Where: "--set " + k}
		if !ok {
			probs = append(probs, Problem{Key: kv, Source: src, Message: "want --set key=value"})
			continue
		}
		if _, known := sch[k]; !known {
			probs = append(probs, Problem{Key: k, Source: src, Message: "unknown key" + suggest(sch, k)})
			continue
		}
		out = append(out, scalarAssignment(k, v, src, sch))
	}
	for _, k := range sortedKeys(opts.Flags) {
		out = append(out, scalarAssignment(k, opts.Flags[k], Source{Layer: "flag", Where: flagName(k)}, sch))
	}
	return out, probs
}

func flagName(key string) string {
	switch key {
	case "trading.dryRun":
		return "--dry-run"
	case "trading.live":
		return "--live"
	case "system.logLevel":
		return "--log-level"
	}
	return "--" + key
}

// scalarAssignment turns a string from the environment or a flag into a
// YAML node, so every layer decodes through the same typed path. Lists are
// comma-separated.
func scalarAssignment(key, value string, src Source, sch map[string]field) assignment {
	n := &yaml.Node{Kind: yaml.ScalarNode, Value: value}
	if f, ok := sch[key]; ok && f.typ.Kind() == reflect.Slice {
		n = &yaml.Node{Kind: yaml.SequenceNode}
		for _, part := range strings.Split(value, ",") {
			if part = strings.TrimSpace(part); part != "" {
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: part})
			}
		}
	}
	return assignment{key: key, node: n, source: src}
}

func typeMessage(t reflect.Type, err error) string {
	want := t.String()
	switch t.String() {
	case "fixed.Value":
		want = "a decimal number, e.g. 0.02"
	case "time.Duration":
		want = "a duration, e.g. 30s or 5m"
	case "int", "int64":
		want = "a whole number"
	case "bool":
		want = "true or false"
	case "[]string":
		want = "a list of strings (comma-separated in env and flags)"
	case "string":
		want = "a string"
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return fmt.Sprintf("wrong type: want %s (%s)", want, msg)
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// Values returns every key's effective value as YAML text, for
// `config show --sources`; the walk is the same schema Load uses.
func (l *Loaded) Values() map[string]string {
	root := reflect.ValueOf(l.Config)
	out := map[string]string{}
	for key, f := range schema() {
		b, err := yaml.Marshal(root.FieldByIndex(f.index).Interface())
		if err != nil {
			b = []byte(err.Error())
		}
		out[key] = strings.TrimSpace(string(b))
	}
	return out
}
