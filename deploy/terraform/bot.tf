# ---------------------------------------------------------------------------------------------
# The bot's credentials and the only identity that may read them.
#
# Terraform creates the secret, never its value (which would land in the state file). Put the
# value once, out of band:
#   aws secretsmanager put-secret-value --secret-id "$(terraform output -raw bot_secret_name)" \
#     --secret-string '{"api_key":"...","secret_key":"...","admin_token":"..."}'

resource "aws_secretsmanager_secret" "bot" {
  name                    = local.bot_secret_name
  description             = "bitrader ${var.environment}: Bitunix API key, secret key and admin token"
  kms_key_id              = aws_kms_key.bot_secret.arn
  recovery_window_in_days = var.secret_recovery_window_days
}

data "aws_iam_policy_document" "bot_assume" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [aws_iam_openid_connect_provider.eks.arn]
    }

    # Only the bot's service account in the bot's namespace, and only for STS.
    condition {
      test     = "StringEquals"
      variable = "${local.oidc_issuer_host}:sub"
      values   = ["system:serviceaccount:${var.bot_namespace}:${var.bot_service_account}"]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.oidc_issuer_host}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "bot" {
  name               = "${local.name}-bot"
  description        = "IRSA role of the bitrader pod: read its own API secret, nothing else"
  assume_role_policy = data.aws_iam_policy_document.bot_assume.json
}

data "aws_iam_policy_document" "bot_secret_read" {
  statement {
    sid       = "ReadOwnSecret"
    effect    = "Allow"
    actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    resources = [aws_secretsmanager_secret.bot.arn]
  }

  statement {
    sid       = "DecryptOwnSecret"
    effect    = "Allow"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.bot_secret.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${var.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "bot_secret_read" {
  name   = "read-bot-secret"
  role   = aws_iam_role.bot.id
  policy = data.aws_iam_policy_document.bot_secret_read.json
}

# ---------------------------------------------------------------------------------------------
# The bot's namespace, with Pod Security Admission at `restricted` (the chart's pod complies).

resource "kubernetes_namespace_v1" "bot" {
  metadata {
    name = var.bot_namespace
    labels = {
      "app.kubernetes.io/part-of"                  = "bitrader"
      "bitrader.io/environment"                    = var.environment
      "pod-security.kubernetes.io/enforce"         = "restricted"
      "pod-security.kubernetes.io/enforce-version" = "latest"
      "pod-security.kubernetes.io/audit"           = "restricted"
      "pod-security.kubernetes.io/warn"            = "restricted"
    }
  }

  depends_on = [aws_eks_node_group.default]
}
