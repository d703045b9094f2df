variable "environment" {
  description = "Deployment environment: staging or production (development runs locally, without AWS)."
  type        = string

  validation {
    condition     = contains(["staging", "production"], var.environment)
    error_message = "The environment must be staging or production."
  }
}

variable "region" {
  description = "AWS region for every resource, e.g. eu-west-1."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "The region must look like an AWS region, e.g. eu-west-1."
  }
}

variable "cluster_name" {
  description = "Name of the EKS cluster."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9-]{0,99}$", var.cluster_name))
    error_message = "The cluster name must start with a letter and contain only letters, digits and hyphens (max 100)."
  }
}

variable "kubernetes_version" {
  description = "EKS Kubernetes minor version."
  type        = string
  default     = "1.34"

  validation {
    condition     = can(regex("^1\\.[0-9]{2}$", var.kubernetes_version))
    error_message = "The Kubernetes version must be a minor version such as 1.34."
  }
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC; private and public subnets are carved from it."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && tonumber(split("/", var.vpc_cidr)[1]) <= 20
    error_message = "The VPC CIDR must be a valid IPv4 block of /20 or larger."
  }
}

variable "availability_zones" {
  description = "Availability zones to spread subnets and nodes over (at least two, for the HA standby)."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) >= 2 && length(var.availability_zones) <= 4
    error_message = "Give between two and four availability zones."
  }
}

variable "endpoint_public_access" {
  description = "Expose the EKS API endpoint publicly (restricted to public_access_cidrs). The private endpoint is always on."
  type        = bool
  default     = true
}

variable "public_access_cidrs" {
  description = "CIDR blocks allowed to reach the public EKS API endpoint (office VPN, CI runners). Never 0.0.0.0/0."
  type        = list(string)

  validation {
    condition     = length(var.public_access_cidrs) > 0 && alltrue([for c in var.public_access_cidrs : can(cidrhost(c, 0)) && c != "0.0.0.0/0" && !endswith(c, "/0")])
    error_message = "The public access CIDRs must be valid, non-empty, and must not include 0.0.0.0/0 or any /0."
  }
}

variable "node_instance_types" {
  description = "Instance types of the managed node group."
  type        = list(string)
  default     = ["t3.medium"]

  validation {
    condition     = length(var.node_instance_types) > 0
    error_message = "Give at least one instance type."
  }
}

variable "node_min_size" {
  description = "Minimum number of nodes."
  type        = number
  default     = 2

  validation {
    condition     = var.node_min_size >= 1 && floor(var.node_min_size) == var.node_min_size
    error_message = "The minimum node count must be a whole number of at least 1."
  }
}

variable "node_desired_size" {
  description = "Desired number of nodes (two or more lets leader and standby run on different nodes)."
  type        = number
  default     = 2

  validation {
    condition     = var.node_desired_size >= 1 && floor(var.node_desired_size) == var.node_desired_size
    error_message = "The desired node count must be a whole number of at least 1."
  }
}

variable "node_max_size" {
  description = "Maximum number of nodes."
  type        = number
  default     = 3

  validation {
    condition     = var.node_max_size >= 1 && var.node_max_size <= 20
    error_message = "The maximum node count must be between 1 and 20."
  }
}

variable "node_disk_size_gib" {
  description = "Root volume size of each node in GiB."
  type        = number
  default     = 30

  validation {
    condition     = var.node_disk_size_gib >= 20
    error_message = "Nodes need at least 20 GiB of disk."
  }
}

variable "bot_namespace" {
  description = "Kubernetes namespace of the bot (created here with Pod Security Admission labels)."
  type        = string
  default     = "bitrader"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.bot_namespace))
    error_message = "The namespace must be a DNS-1123 label."
  }
}

variable "bot_service_account" {
  description = "Name of the bot's Kubernetes service account (the Helm release's fullname, bitunix-bot by default); the only identity that may assume the IRSA role."
  type        = string
  default     = "bitunix-bot"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$", var.bot_service_account))
    error_message = "The service account name must be a DNS-1123 subdomain."
  }
}

variable "secret_recovery_window_days" {
  description = "Days a deleted Secrets Manager secret can still be recovered (7 to 30)."
  type        = number
  default     = 30

  validation {
    condition     = var.secret_recovery_window_days >= 7 && var.secret_recovery_window_days <= 30
    error_message = "The recovery window must be between 7 and 30 days."
  }
}

variable "cluster_log_retention_days" {
  description = "Retention of the EKS control-plane logs in CloudWatch."
  type        = number
  default     = 90

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827, 3653], var.cluster_log_retention_days)
    error_message = "The retention must be one of the values CloudWatch Logs accepts."
  }
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}
