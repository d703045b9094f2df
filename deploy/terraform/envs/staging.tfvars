environment         = "staging"
region              = "eu-west-1"
cluster_name        = "bitrader"
kubernetes_version  = "1.34"
vpc_cidr            = "10.40.0.0/16"
availability_zones  = ["eu-west-1a", "eu-west-1b"]
bot_namespace       = "bitrader-staging"
bot_service_account = "bitunix-bot"

endpoint_public_access = true
# Office VPN egress and the CI runners' NAT (documentation ranges: replace with yours).
public_access_cidrs = ["203.0.113.0/28", "198.51.100.10/32"]

node_instance_types = ["t3.small"]
node_min_size       = 1
node_desired_size   = 1
node_max_size       = 2

secret_recovery_window_days = 7
cluster_log_retention_days  = 30
