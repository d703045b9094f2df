environment         = "production"
region              = "eu-west-1"
cluster_name        = "bitrader"
kubernetes_version  = "1.34"
vpc_cidr            = "10.50.0.0/16"
availability_zones  = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
bot_namespace       = "bitrader"
bot_service_account = "bitunix-bot"

endpoint_public_access = true
# Only the VPN and the deploy runners may reach the public API endpoint (replace with yours).
public_access_cidrs = ["203.0.113.0/28", "198.51.100.10/32"]

# Two nodes at least: leader and standby on different nodes (required pod anti-affinity).
node_instance_types = ["t3.medium"]
node_min_size       = 2
node_desired_size   = 2
node_max_size       = 3

secret_recovery_window_days = 30
cluster_log_retention_days  = 365
