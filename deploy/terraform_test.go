package deploy_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

const terraformDir = "terraform"

// tfConfig is every top-level block of deploy/terraform/*.tf, by type and labels.
type tfConfig struct {
	blocks []*hclsyntax.Block
	src    map[string][]byte
}

func loadTerraform(t *testing.T) tfConfig {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(terraformDir, "*.tf"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no .tf files in %s: %v", terraformDir, err)
	}
	parser := hclparse.NewParser()
	cfg := tfConfig{src: map[string][]byte{}}
	for _, f := range files {
		file, diags := parser.ParseHCLFile(f)
		if diags.HasErrors() {
			t.Fatalf("parse %s: %s", f, diags.Error())
		}
		cfg.src[f] = file.Bytes
		cfg.blocks = append(cfg.blocks, file.Body.(*hclsyntax.Body).Blocks...)
	}
	return cfg
}

func (c tfConfig) block(t *testing.T, typ string, labels ...string) *hclsyntax.Block {
	t.Helper()
	for _, b := range c.blocks {
		if b.Type == typ && strings.Join(b.Labels, ".") == strings.Join(labels, ".") {
			return b
		}
	}
	t.Fatalf("no %s %v in %s", typ, labels, terraformDir)
	return nil
}

func nested(t *testing.T, b *hclsyntax.Block, path ...string) []*hclsyntax.Block {
	t.Helper()
	cur := []*hclsyntax.Block{b}
	for _, typ := range path {
		var next []*hclsyntax.Block
		for _, c := range cur {
			for _, child := range c.Body.Blocks {
				if child.Type == typ {
					next = append(next, child)
				}
			}
		}
		if len(next) == 0 {
			t.Fatalf("%s %v has no nested block %v", b.Type, b.Labels, path)
		}
		cur = next
	}
	return cur
}

// exprText is the source text of an attribute's expression.
func (c tfConfig) exprText(t *testing.T, b *hclsyntax.Block, attr string) string {
	t.Helper()
	a, ok := b.Body.Attributes[attr]
	if !ok {
		t.Fatalf("%s %v has no attribute %q", b.Type, b.Labels, attr)
	}
	r := a.Expr.Range()
	return string(c.src[r.Filename][r.Start.Byte:r.End.Byte])
}

// literal evaluates an attribute that needs no variables.
func literal(t *testing.T, b *hclsyntax.Block, attr string) cty.Value {
	t.Helper()
	a, ok := b.Body.Attributes[attr]
	if !ok {
		t.Fatalf("%s %v has no attribute %q", b.Type, b.Labels, attr)
	}
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() {
		t.Fatalf("%s %v.%s is not a literal: %s", b.Type, b.Labels, attr, diags.Error())
	}
	return v
}

func TestEKSClusterIsEncryptedAndPrivate(t *testing.T) {
	cfg := loadTerraform(t)
	cluster := cfg.block(t, "resource", "aws_eks_cluster", "this")

	enc := nested(t, cluster, "encryption_config")[0]
	if got := cfg.exprText(t, enc, "resources"); got != `["secrets"]` {
		t.Errorf("encryption_config.resources = %s, want [\"secrets\"]", got)
	}
	if got := cfg.exprText(t, nested(t, enc, "provider")[0], "key_arn"); got != "aws_kms_key.eks.arn" {
		t.Errorf("secrets encryption key = %s, want aws_kms_key.eks.arn", got)
	}
	for _, key := range []string{"eks", "bot_secret"} {
		if !literal(t, cfg.block(t, "resource", "aws_kms_key", key), "enable_key_rotation").True() {
			t.Errorf("aws_kms_key.%s has no key rotation", key)
		}
	}

	vpc := nested(t, cluster, "vpc_config")[0]
	if !literal(t, vpc, "endpoint_private_access").True() {
		t.Error("the private API endpoint is off")
	}
	if got := cfg.exprText(t, vpc, "public_access_cidrs"); got != "var.public_access_cidrs" {
		t.Errorf("public_access_cidrs = %s, want the validated variable", got)
	}
	if got := cfg.exprText(t, vpc, "subnet_ids"); got != "aws_subnet.private[*].id" {
		t.Errorf("cluster subnets = %s, want the private subnets", got)
	}
	nodes := cfg.block(t, "resource", "aws_eks_node_group", "default")
	if got := cfg.exprText(t, nodes, "subnet_ids"); got != "aws_subnet.private[*].id" {
		t.Errorf("node group subnets = %s, want the private subnets", got)
	}
	if literal(t, cfg.block(t, "resource", "aws_subnet", "public"), "map_public_ip_on_launch").True() {
		t.Error("public subnets hand out public IPs")
	}
	logs := cfg.exprText(t, cluster, "enabled_cluster_log_types")
	if !strings.Contains(logs, `"audit"`) {
		t.Errorf("audit logs are off: %s", logs)
	}
}

func TestPublicAccessCIDRsAreRestricted(t *testing.T) {
	cfg := loadTerraform(t)
	v := cfg.block(t, "variable", "public_access_cidrs")
	if len(nested(t, v, "validation")) == 0 || !strings.Contains(cfg.exprText(t, nested(t, v, "validation")[0], "condition"), `"0.0.0.0/0"`) {
		t.Error("public_access_cidrs has no validation refusing 0.0.0.0/0")
	}
	for _, env := range []string{"staging", "production"} {
		t.Run(env, func(t *testing.T) {
			path := filepath.Join(terraformDir, "envs", env+".tfvars")
			file, diags := hclparse.NewParser().ParseHCLFile(path)
			if diags.HasErrors() {
				t.Fatalf("parse %s: %s", path, diags.Error())
			}
			attrs, diags := file.Body.JustAttributes()
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			vals := map[string]cty.Value{}
			for name, a := range attrs {
				val, d := a.Expr.Value(nil)
				if d.HasErrors() {
					t.Fatalf("%s: %s is not a literal: %s", path, name, d.Error())
				}
				vals[name] = val
			}
			if vals["environment"].AsString() != env {
				t.Errorf("environment = %s", vals["environment"].AsString())
			}
			cidrs, ok := vals["public_access_cidrs"]
			if !ok || cidrs.LengthInt() == 0 {
				t.Fatal("public_access_cidrs is not set: the variable has no default on purpose")
			}
			for it := cidrs.ElementIterator(); it.Next(); {
				_, c := it.Element()
				if s := c.AsString(); s == "0.0.0.0/0" || strings.HasSuffix(s, "/0") {
					t.Errorf("public_access_cidrs contains %s", s)
				}
			}
			if azs := vals["availability_zones"]; azs.LengthInt() < 2 {
				t.Errorf("%d availability zones; the HA standby needs at least two", azs.LengthInt())
			}
		})
	}
}

func TestIRSARoleReadsOnlyTheBotSecret(t *testing.T) {
	cfg := loadTerraform(t)
	policy := cfg.block(t, "data", "aws_iam_policy_document", "bot_secret_read")
	statements := nested(t, policy, "statement")
	for _, st := range statements {
		resources := cfg.exprText(t, st, "resources")
		actions := cfg.exprText(t, st, "actions")
		if strings.Contains(resources, "*") || strings.Contains(actions, "*") {
			t.Errorf("statement %s has wildcards: actions %s resources %s", cfg.exprText(t, st, "sid"), actions, resources)
		}
		switch {
		case strings.Contains(actions, "secretsmanager:"):
			if resources != "[aws_secretsmanager_secret.bot.arn]" {
				t.Errorf("Secrets Manager access on %s, want only [aws_secretsmanager_secret.bot.arn]", resources)
			}
		case strings.Contains(actions, "kms:"):
			if resources != "[aws_kms_key.bot_secret.arn]" {
				t.Errorf("KMS access on %s, want only the secret's key", resources)
			}
		default:
			t.Errorf("unexpected statement with actions %s", actions)
		}
	}
	if got := cfg.exprText(t, cfg.block(t, "resource", "aws_iam_role_policy", "bot_secret_read"), "role"); got != "aws_iam_role.bot.id" {
		t.Errorf("policy attached to %s", got)
	}
	assume := cfg.block(t, "data", "aws_iam_policy_document", "bot_assume")
	var sub string
	for _, c := range nested(t, assume, "statement", "condition") {
		if strings.HasSuffix(cfg.exprText(t, c, "variable"), `:sub"`) {
			sub = cfg.exprText(t, c, "values")
		}
	}
	if !strings.Contains(sub, "system:serviceaccount:${var.bot_namespace}:${var.bot_service_account}") {
		t.Errorf("IRSA trust is not limited to the bot's service account: %q", sub)
	}
	secret := cfg.block(t, "resource", "aws_secretsmanager_secret", "bot")
	if got := cfg.exprText(t, secret, "kms_key_id"); got != "aws_kms_key.bot_secret.arn" {
		t.Errorf("secret encrypted with %s, want its own KMS key", got)
	}
	for _, b := range cfg.blocks {
		if b.Type == "resource" && b.Labels[0] == "aws_secretsmanager_secret_version" {
			t.Error("the secret's value is managed by Terraform (it would sit in the state file)")
		}
	}
}

func TestTerraformHygiene(t *testing.T) {
	cfg := loadTerraform(t)
	tf := cfg.block(t, "terraform")
	providers := nested(t, tf, "required_providers")[0]
	if len(providers.Body.Attributes) == 0 {
		t.Fatal("no required providers")
	}
	for name, a := range providers.Body.Attributes {
		v, diags := a.Expr.Value(nil)
		if diags.HasErrors() || !v.Type().IsObjectType() || !v.Type().HasAttribute("version") {
			t.Errorf("provider %s is not pinned with a version constraint", name)
		}
	}
	if _, ok := tf.Body.Attributes["required_version"]; !ok {
		t.Error("no required_version")
	}
	backend := nested(t, tf, "backend")[0]
	if backend.Labels[0] != "s3" {
		t.Errorf("backend %v, want s3 remote state", backend.Labels)
	}
	for _, env := range []string{"staging", "production"} {
		if _, err := os.Stat(filepath.Join(terraformDir, "envs", env+".s3.tfbackend")); err != nil {
			t.Errorf("no backend config for %s: %v", env, err)
		}
	}
	for _, b := range cfg.blocks {
		if b.Type != "variable" && b.Type != "output" {
			continue
		}
		if _, ok := b.Body.Attributes["description"]; !ok {
			t.Errorf("%s %s has no description", b.Type, b.Labels[0])
		}
		if b.Type == "variable" {
			if _, ok := b.Body.Attributes["type"]; !ok {
				t.Errorf("variable %s has no type", b.Labels[0])
			}
		}
	}
	ns := cfg.block(t, "resource", "kubernetes_namespace_v1", "bot")
	labels := cfg.exprText(t, nested(t, ns, "metadata")[0], "labels")
	if !regexp.MustCompile(`"pod-security\.kubernetes\.io/enforce"\s*=\s*"restricted"`).MatchString(labels) {
		t.Errorf("bot namespace does not enforce restricted Pod Security: %s", labels)
	}
}
