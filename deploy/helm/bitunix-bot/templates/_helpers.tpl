{{/* Chart name, truncated to the 63-character DNS label limit. */}}
{{- define "bitunix-bot.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "bitunix-bot.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "bitunix-bot.selectorLabels" -}}
app.kubernetes.io/name: {{ include "bitunix-bot.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels on every object. helm.sh/chart and managed-by are the only Helm-specific ones. */}}
{{- define "bitunix-bot.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "bitunix-bot.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: trader
app.kubernetes.io/part-of: bitrader
app.kubernetes.io/managed-by: {{ .Release.Service }}
bitrader.io/environment: {{ .Values.environment }}
{{- end }}

{{- define "bitunix-bot.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "bitunix-bot.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "bitunix-bot.secretName" -}}
{{- default (printf "%s-credentials" (include "bitunix-bot.fullname" .)) .Values.secrets.existingSecret }}
{{- end }}

{{- define "bitunix-bot.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The config file the binary reads: values.config with the HA block derived from values.ha. */}}
{{- define "bitunix-bot.configFile" -}}
{{- $ha := dict "enabled" .Values.ha.enabled "leaseName" (include "bitunix-bot.fullname" .) "leaseNamespace" .Release.Namespace "leaseDuration" .Values.ha.leaseDuration "renewDeadline" .Values.ha.renewDeadline "retryPeriod" .Values.ha.retryPeriod }}
{{- $cfg := merge (dict "ha" $ha) (deepCopy .Values.config) }}
{{- toYaml $cfg }}
{{- end }}

{{/* Seconds in a Go duration of the forms 20s, 1m, 1m30s (what shutdownTimeout uses). */}}
{{- define "bitunix-bot.durationSeconds" -}}
{{- $d := toString . }}
{{- if not (regexMatch "^([0-9]+m)?([0-9]+s)?$" $d) }}
{{- fail (printf "system.shutdownTimeout %q: use whole seconds/minutes such as 20s or 1m30s" $d) }}
{{- end }}
{{- $m := regexFind "[0-9]+m" $d | trimSuffix "m" | default "0" | atoi }}
{{- $s := regexFind "[0-9]+s" $d | trimSuffix "s" | default "0" | atoi }}
{{- add (mul $m 60) $s }}
{{- end }}

{{- define "bitunix-bot.metricsPort" -}}
{{- .Values.config.system.metricsPort | default 8080 | int }}
{{- end }}

{{/*
Guards: refuse configurations that break "one active trader per account" or a clean shutdown.
Included by the Deployment so that `helm template` and `helm install` both fail early.
*/}}
{{- define "bitunix-bot.validate" -}}
{{- if not (has .Values.environment (list "development" "staging" "production")) }}
{{- fail (printf "environment %q must be development, staging or production" .Values.environment) }}
{{- end }}
{{- if not .Values.ha.enabled }}
{{- if ne (int .Values.replicaCount) 1 }}
{{- fail (printf "replicaCount=%d but ha.enabled=false: without leader election exactly one replica may trade (one active trader per account). Enable ha.enabled or set replicaCount=1." (int .Values.replicaCount)) }}
{{- end }}
{{- if .Values.autoscaling.enabled }}
{{- fail "autoscaling.enabled=true but ha.enabled=false: an autoscaler would start a second trader. Enable ha.enabled (standbys then submit nothing) or disable autoscaling." }}
{{- end }}
{{- end }}
{{- if lt (int .Values.replicaCount) 0 }}
{{- fail "replicaCount must not be negative" }}
{{- end }}
{{- if and .Values.persistence.enabled (or (gt (int .Values.replicaCount) 1) .Values.autoscaling.enabled) }}
{{- fail "persistence.enabled with more than one replica: the bbolt journal is a single-writer file on one volume. With ha.enabled run several replicas with persistence.enabled=false (each keeps its own emptyDir journal; the leader reconciles with the exchange on takeover)." }}
{{- end }}
{{- $grace := int .Values.terminationGracePeriodSeconds }}
{{- $shutdown := include "bitunix-bot.durationSeconds" (.Values.config.system.shutdownTimeout | default "20s") | int }}
{{- if lt $grace (add $shutdown 10) }}
{{- fail (printf "terminationGracePeriodSeconds=%d must be at least system.shutdownTimeout (%ds) + 10s so a clean shutdown is never SIGKILLed" $grace $shutdown) }}
{{- end }}
{{- if and .Values.config.trading.live .Values.config.trading.dryRun }}
{{- fail "config.trading.live=true and config.trading.dryRun=true contradict each other" }}
{{- end }}
{{- if and .Values.config.trading.live (ne .Values.environment "production") }}
{{- fail (printf "config.trading.live=true is only allowed with environment=production (got %q)" .Values.environment) }}
{{- end }}
{{- if and .Values.externalSecrets.enabled (not .Values.externalSecrets.remoteSecretName) }}
{{- fail "externalSecrets.enabled requires externalSecrets.remoteSecretName (the AWS Secrets Manager secret)" }}
{{- end }}
{{- if and .Values.externalSecrets.enabled .Values.secrets.create }}
{{- fail "secrets.create and externalSecrets.enabled both create the credentials Secret; choose one" }}
{{- end }}
{{- end }}
