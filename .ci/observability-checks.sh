#!/usr/bin/env bash
# Observability checks with the real tools, offline: promtool (Debian package `prometheus` 2.42)
# checks the dev Prometheus config and the alert rules and runs the alert unit tests;
# docker-compose (Debian 1.29.2) validates the dev stack. The Go tests in internal/metrics run the
# same promtool checks plus `check metrics`, strict dashboard loading and the live-Prometheus
# integration test. CI should install `prometheus` and `docker-compose` in .ci/tools.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

fail() { printf '[observability] FAILED: %s\n' "$*" >&2; exit 1; }
log() { printf '[observability] %s\n' "$*"; }

if ! command -v promtool >/dev/null 2>&1; then
  log "promtool missing: apt-get install -y --no-install-recommends prometheus"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null ||
    fail "could not install the Debian package prometheus (promtool)"
fi
command -v docker-compose >/dev/null 2>&1 || fail "docker-compose not found (Debian package docker-compose; .ci/tools.sh installs it)"

log "promtool check config deploy/prometheus.yml"
promtool check config deploy/prometheus.yml || fail "deploy/prometheus.yml is not a valid Prometheus 2.42 config"

log "promtool check rules (dev and Helm copies)"
promtool check rules deploy/prometheus/alerts.yaml deploy/helm/bitunix-bot/files/alerts.yaml ||
  fail "alert rules do not parse"
cmp -s deploy/prometheus/alerts.yaml deploy/helm/bitunix-bot/files/alerts.yaml ||
  fail "deploy/helm/bitunix-bot/files/alerts.yaml differs from deploy/prometheus/alerts.yaml (copy it)"

log "promtool test rules deploy/prometheus/alerts_test.yaml"
(cd deploy/prometheus && promtool test rules alerts_test.yaml) || fail "alert unit tests failed"

log "docker-compose -f docker-compose.dev.yml config -q"
GRAFANA_ADMIN_PASSWORD=ci-placeholder docker-compose -f docker-compose.dev.yml config -q ||
  fail "docker-compose.dev.yml is invalid"
if env -u GRAFANA_ADMIN_PASSWORD docker-compose -f docker-compose.dev.yml config -q >/dev/null 2>&1; then
  fail "docker-compose.dev.yml must refuse to start Grafana without GRAFANA_ADMIN_PASSWORD"
fi

log "dashboards are generated (go run ./internal/metrics/dashgen)"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
go run ./internal/metrics/dashgen -out "$tmp" || fail "dashboard generator failed"
diff -r "$tmp" deploy/grafana/dashboards >/dev/null ||
  fail "deploy/grafana/dashboards is stale: go run ./internal/metrics/dashgen -out deploy/grafana/dashboards"

log "all observability checks passed"
