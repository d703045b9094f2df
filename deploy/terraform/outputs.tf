output "cluster_name" {
  description = "Name of the EKS cluster."
  value       = aws_eks_cluster.this.name
}

output "cluster_endpoint" {
  description = "API server endpoint of the EKS cluster."
  value       = aws_eks_cluster.this.endpoint
}

output "cluster_certificate_authority_data" {
  description = "Base64 CA certificate of the cluster API."
  value       = aws_eks_cluster.this.certificate_authority[0].data
}

output "kubeconfig_command" {
  description = "Command that writes a kubeconfig entry for the cluster."
  value       = "aws eks update-kubeconfig --region ${var.region} --name ${aws_eks_cluster.this.name}"
}

output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "private_subnet_ids" {
  description = "IDs of the private subnets that hold the nodes."
  value       = aws_subnet.private[*].id
}

output "oidc_provider_arn" {
  description = "ARN of the cluster's IAM OIDC provider (IRSA)."
  value       = aws_iam_openid_connect_provider.eks.arn
}

output "eks_secrets_kms_key_arn" {
  description = "KMS key that encrypts Kubernetes Secrets."
  value       = aws_kms_key.eks.arn
}

output "bot_secret_arn" {
  description = "ARN of the Secrets Manager secret with the bot's credentials."
  value       = aws_secretsmanager_secret.bot.arn
}

output "bot_secret_name" {
  description = "Name of the bot's secret: the chart's externalSecrets.remoteSecretName."
  value       = aws_secretsmanager_secret.bot.name
}

output "bot_irsa_role_arn" {
  description = "IAM role for the bot's service account: the chart's serviceAccount.irsaRoleArn."
  value       = aws_iam_role.bot.arn
}

output "bot_namespace" {
  description = "Kubernetes namespace of the bot."
  value       = kubernetes_namespace_v1.bot.metadata[0].name
}

output "account_id" {
  description = "AWS account the resources live in."
  value       = data.aws_caller_identity.current.account_id
}
