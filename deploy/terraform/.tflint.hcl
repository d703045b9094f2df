# tflint's bundled Terraform ruleset (works offline). The AWS ruleset plugin would need a
# download; run it where there is internet: tflint --init with plugin "aws".
config {
  call_module_type = "none"
}

plugin "terraform" {
  enabled = true
  preset  = "all"
}
