#!/usr/bin/env bash
# Installs and builds the real deployment tools that .ci/deploy-checks.sh uses, offline:
# apt packages (etcd, dockerd, docker-compose, shellcheck, busybox-static) and pinned Go tools (helm, kubeconform,
# kwok, actionlint, tflint, and kube-apiserver/controller-manager/scheduler/kubectl built from the
# pinned wrapper module deploy/tools/k8s). Everything lands in a VERSIONED cache outside the repo:
#
#   ${BITRADER_TOOLS:-/var/cache/bitrader-tools/v1}/bin      binaries
#   ${BITRADER_TOOLS:-/var/cache/bitrader-tools/v1}/share    kwok stages, generated k8s schemas
#   ${BITRADER_TOOLS:-/var/cache/bitrader-tools/v1}/stamps   one stamp per tool+version
#
# A tool whose stamp exists is skipped, so a warm re-run takes seconds to minutes.
# Bump the cache folder's version (v1 -> v2) or a pin below to force a rebuild.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${BITRADER_TOOLS:-/var/cache/bitrader-tools/v1}"
BIN="$TOOLS/bin"
SHARE="$TOOLS/share"
STAMPS="$TOOLS/stamps"
mkdir -p "$BIN" "$SHARE" "$STAMPS"

HELM_VERSION=v3.22.0
KUBECONFORM_VERSION=v0.8.0
KWOK_VERSION=v0.8.0
ACTIONLINT_VERSION=v1.7.12
TFLINT_VERSION=v0.64.0
K8S_VERSION=v1.37.2

log() { printf '[tools] %s\n' "$*" >&2; }
die() { printf '[tools] ERROR: %s\n' "$*" >&2; exit 1; }
start_all=$(date +%s)

# ---------------------------------------------------------------------------------------------
# apt: etcd (for a real API server), dockerd + docker-compose, shellcheck (used by actionlint).
apt_pkgs=()
command -v etcd >/dev/null 2>&1 || apt_pkgs+=(etcd-server)
command -v dockerd >/dev/null 2>&1 || apt_pkgs+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || apt_pkgs+=(docker-compose)
command -v shellcheck >/dev/null 2>&1 || apt_pkgs+=(shellcheck)
# busybox-static + ca-certificates make the offline builder base image (docker import).
[[ -x /bin/busybox ]] || apt_pkgs+=(busybox-static)
[[ -e /etc/ssl/certs/ca-certificates.crt ]] || apt_pkgs+=(ca-certificates)
command -v openssl >/dev/null 2>&1 || apt_pkgs+=(openssl)
command -v curl >/dev/null 2>&1 || apt_pkgs+=(curl)
if ((${#apt_pkgs[@]})); then
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found; need: ${apt_pkgs[*]}"
  log "apt-get install ${apt_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || die "apt-get update failed"
  # docker.io would start its own daemon through systemd/policy-rc.d if it could; we start
  # our own dockerd in deploy-checks.sh, so forbid service starts during the install.
  policy=/usr/sbin/policy-rc.d
  had_policy=0; [[ -e $policy ]] && had_policy=1
  ((had_policy)) || { printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; }
  apt-get install -y -qq --no-install-recommends "${apt_pkgs[@]}" >/dev/null ||
    { ((had_policy)) || rm -f "$policy"; die "apt-get install ${apt_pkgs[*]} failed"; }
  ((had_policy)) || rm -f "$policy"
else
  log "apt packages present (etcd, dockerd, docker-compose, shellcheck, busybox-static)"
fi

# ---------------------------------------------------------------------------------------------
# Go tools, each `go install`ed at its pin into $BIN.
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"
export CGO_ENABLED=0

go_tool() { # name module@version
  local name=$1 pkg=$2 stamp="$STAMPS/$1-${2##*@}"
  if [[ -e $stamp && -x $BIN/$name ]]; then log "$name ${pkg##*@} cached"; return; fi
  local t0; t0=$(date +%s)
  log "go install $pkg"
  GOBIN="$BIN" nice -n 10 go install "$pkg" || die "go install $pkg failed"
  touch "$stamp"
  log "$name built in $(($(date +%s) - t0))s"
}

go_tool helm "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
go_tool kubeconform "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION"
go_tool actionlint "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
go_tool tflint "github.com/terraform-linters/tflint@$TFLINT_VERSION"
go_tool kwok "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"

# kwok's "fast" stages make fake pods Ready at once.
# Plus the node heartbeat stage, so nodes never look dead to the node lifecycle controller.
if [[ ! -e $STAMPS/kwok-stages-v2-$KWOK_VERSION ]]; then
  kwok_dir=$(cd /tmp && go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [[ -d $kwok_dir/kustomize/stage ]] || die "kwok stages not found in module dir '$kwok_dir'"
  rm -rf "$SHARE/kwok-stages" && mkdir -p "$SHARE/kwok-stages"
  for f in "$kwok_dir"/kustomize/stage/node/fast/*.yaml "$kwok_dir"/kustomize/stage/node/heartbeat/*.yaml \
    "$kwok_dir"/kustomize/stage/pod/fast/*.yaml; do
    case $f in */kustomization.yaml) continue ;; esac
    cp "$f" "$SHARE/kwok-stages/$(basename "$f")"
  done
  touch "$STAMPS/kwok-stages-v2-$KWOK_VERSION"
  log "kwok stages copied into $SHARE/kwok-stages"
fi

# ---------------------------------------------------------------------------------------------
# Kubernetes control plane from the pinned wrapper module (go.mod/go.sum committed).
K8S_MOD="$ROOT/deploy/tools/k8s"
k8s_key=$(cat "$K8S_MOD/go.mod" "$K8S_MOD/go.sum" | sha256sum | cut -c1-16)
for cmd in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
  stamp="$STAMPS/$cmd-$K8S_VERSION-$k8s_key"
  if [[ -e $stamp && -x $BIN/$cmd ]]; then log "$cmd $K8S_VERSION cached"; continue; fi
  t0=$(date +%s)
  log "building $cmd $K8S_VERSION from source (minutes, GBs)"
  (cd "$K8S_MOD" && nice -n 10 go build -trimpath -ldflags '-s -w' -o "$BIN/$cmd" "k8s.io/kubernetes/cmd/$cmd") ||
    die "building $cmd failed"
  touch "$stamp"
  log "$cmd built in $(($(date +%s) - t0))s"
done

# kubeconform schemas generated from the swagger shipped in the k8s.io/kubernetes module.
schemas="$SHARE/schemas/$K8S_VERSION-standalone-strict"
gen_key=$(sha256sum "$K8S_MOD/cmd/schemagen/main.go" | cut -c1-16)
if [[ ! -e $STAMPS/schemas-$K8S_VERSION-$gen_key ]]; then
  swagger_dir=$(cd "$K8S_MOD" && go mod download -json "k8s.io/kubernetes@$K8S_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  rm -rf "$schemas" && mkdir -p "$schemas"
  (cd "$K8S_MOD" && go run ./cmd/schemagen -swagger "$swagger_dir/api/openapi-spec/swagger.json" -out "$schemas") ||
    die "schema generation failed"
  touch "$STAMPS/schemas-$K8S_VERSION-$gen_key"
fi

# ---------------------------------------------------------------------------------------------
if command -v terraform >/dev/null 2>&1; then
  log "terraform: $(terraform version 2>/dev/null | head -1)"
else
  log "terraform not installed: deploy-checks.sh will skip 'terraform fmt' (tflint and HCL tests still run)"
fi
log "all tools ready in $BIN ($(($(date +%s) - start_all))s)"
