#!/usr/bin/env bash
# Runs every deployment check with real tools, offline. Needs .ci/tools.sh to have run first
# (same BITRADER_TOOLS). Each step prints a header; the first failure stops the script with a
# message that says which check failed. For local iteration, sections (chart gotest terraform
# actionlint compose cluster docker) can be chosen with DEPLOY_CHECKS_ONLY="chart docker" or
# skipped with DEPLOY_CHECKS_SKIP="docker cluster"; CI sets neither and runs everything.
#
#   bash .ci/tools.sh && bash .ci/deploy-checks.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${BITRADER_TOOLS:-/var/cache/bitrader-tools/v1}"
BIN="$TOOLS/bin"
K8S_VERSION=v1.37.2
SCHEMAS="$TOOLS/share/schemas/$K8S_VERSION-standalone-strict"
CHART="$ROOT/deploy/helm/bitunix-bot"
ENVS=(development staging production)
SKIP=" ${DEPLOY_CHECKS_SKIP:-} "
ONLY=" ${DEPLOY_CHECKS_ONLY:-} "
export PATH="$BIN:$PATH"
t_start=$(date +%s)

section() { printf '\n=== [deploy-checks] %s (at %ds)\n' "$*" "$(($(date +%s) - t_start))" >&2; }
log() { printf '[deploy-checks] %s\n' "$*" >&2; }
fail() { printf '\n[deploy-checks] FAILED: %s\n' "$*" >&2; exit 1; }
enabled() {
  if [[ $SKIP == *" $1 "* ]] || [[ $ONLY != "  " && $ONLY != *" $1 "* ]]; then
    log "SKIPPING section '$1' (DEPLOY_CHECKS_ONLY/DEPLOY_CHECKS_SKIP)"
    return 1
  fi
}
need() { # tools that must be in $BIN
  local tool
  for tool in "$@"; do
    [[ -x $BIN/$tool ]] || fail "$BIN/$tool is missing: run 'bash .ci/tools.sh' first (BITRADER_TOOLS=$TOOLS)"
  done
}


WORK="$(mktemp -d /tmp/bitrader-deploy-checks.XXXXXX)"
PIDS=() # started daemons, stopped in reverse order
cleanup() {
  local rc=$?
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    local pid=${PIDS[i]}
    kill -TERM "$pid" 2>/dev/null || continue
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if ((rc != 0)); then
    for f in "$WORK"/*.log; do
      [[ -e $f ]] || continue
      printf '\n--- last lines of %s\n' "$(basename "$f")" >&2
      tail -n 25 "$f" >&2 || true
    done
  fi
  rm -rf "$WORK" 2>/dev/null || true
  exit "$rc"
}
trap cleanup EXIT

free_port() { # prints a free TCP port on 127.0.0.1
  local p
  for _ in $(seq 1 100); do
    p=$((20000 + RANDOM % 20000))
    (: </dev/tcp/127.0.0.1/"$p") 2>/dev/null || { echo "$p"; return; }
  done
  fail "no free loopback port found"
}

wait_for() { # description timeout_s command...
  local what=$1 timeout=$2; shift 2
  local deadline=$(($(date +%s) + timeout))
  until "$@" >/dev/null 2>&1; do
    (($(date +%s) < deadline)) || fail "timed out after ${timeout}s waiting for $what"
    sleep 0.5
  done
}

# =============================================================================================
# The chart renders are needed by the chart, cluster and docker sections.
need helm
for env in "${ENVS[@]}"; do
  values="$CHART/values-$env.yaml"
  [[ -f $values ]] || fail "missing $values"
  helm template bitunix-bot "$CHART" -n "bitrader-$env" -f "$values" --set namespace.create=true \
    >"$WORK/render-$env.yaml" || fail "helm template with values-$env.yaml"
done

if enabled chart; then
section "helm lint --strict, helm template, kubeconform -strict (schemas of Kubernetes $K8S_VERSION)"
need kubeconform
[[ -d $SCHEMAS ]] || fail "generated schemas missing in $SCHEMAS: run 'bash .ci/tools.sh' first"
CRD_KINDS=ExternalSecret,SecretStore,ServiceMonitor,PrometheusRule
kubeconform_strict() {
  kubeconform -strict -summary -kubernetes-version "${K8S_VERSION#v}" \
    -schema-location "$SCHEMAS/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
    -skip "$CRD_KINDS" "$@"
}
for env in "${ENVS[@]}"; do
  values="$CHART/values-$env.yaml"
  [[ -f $values ]] || fail "missing $values"
  helm lint --strict "$CHART" -f "$values" >"$WORK/lint-$env.txt" 2>&1 ||
    { cat "$WORK/lint-$env.txt" >&2; fail "helm lint --strict with values-$env.yaml"; }
  kubeconform_strict "$WORK/render-$env.yaml" || fail "kubeconform -strict on the $env render"
  log "$env: lint, template ($(grep -c '^kind:' "$WORK/render-$env.yaml") objects) and kubeconform OK"
done
# Every template with every toggle on (HA, autoscaling, ESO, monitors, persistence off).
helm template bitunix-bot "$CHART" -n bitrader-all -f "$CHART/values-production.yaml" \
  --set namespace.create=true,autoscaling.enabled=true,replicaCount=3,secrets.existingSecret= \
  >"$WORK/render-all.yaml" || fail "helm template with every toggle on"
kubeconform_strict "$WORK/render-all.yaml" || fail "kubeconform -strict on the all-toggles render"
# The one-active-trader guard must refuse a second trader without leader election.
if helm template bitunix-bot "$CHART" -f "$CHART/values-staging.yaml" --set replicaCount=2 >/dev/null 2>&1; then
  fail "chart rendered replicaCount=2 without ha.enabled (one active trader guard is broken)"
fi
log "one-active-trader guard refuses replicaCount=2 without HA"
kubeconform_strict "$ROOT"/deploy/k8s/staging/*.yaml || fail "kubeconform -strict on deploy/k8s/staging"
fi

# =============================================================================================
if enabled gotest; then
section "Go tests of chart invariants, raw manifests and Terraform HCL (deploy/...)"
(cd "$ROOT" && go test -count=1 ./deploy/...) || fail "go test ./deploy/..."
fi

# =============================================================================================
if enabled terraform; then
section "terraform fmt, tflint"
need tflint
TF="$ROOT/deploy/terraform"
if command -v terraform >/dev/null 2>&1; then
  terraform fmt -check -recursive -diff "$TF" || fail "terraform fmt -check: run 'terraform fmt -recursive deploy/terraform'"
  log "terraform fmt OK ($(terraform version 2>/dev/null | head -1))"
else
  log "terraform is not installed: SKIPPING 'terraform fmt -check' (tflint and HCL tests still run)"
fi
for tfvars in "$TF"/envs/*.tfvars; do
  tflint --chdir="$TF" --var-file="envs/$(basename "$tfvars")" --format=compact ||
    fail "tflint with $(basename "$tfvars")"
done
log "tflint OK"
fi

# =============================================================================================
if enabled actionlint; then
section "actionlint"
need actionlint
shopt -s nullglob
workflows=("$ROOT"/.github/workflows/*.yml "$ROOT"/.github/workflows/*.yaml)
shopt -u nullglob
((${#workflows[@]})) || fail "no workflow in .github/workflows"
(cd "$ROOT" && actionlint -shellcheck "$(command -v shellcheck || true)" "${workflows[@]}") || fail "actionlint"
log "actionlint OK: ${workflows[*]#"$ROOT"/}"
fi

# =============================================================================================
if enabled compose; then
section "docker-compose config"
if [[ -f $ROOT/docker-compose.dev.yml ]]; then
  command -v docker-compose >/dev/null 2>&1 || fail "docker-compose not installed (run .ci/tools.sh)"
  # Variables the file marks mandatory (${VAR:?msg}) get placeholders: this checks the file's
  # structure, not the operator's .env.
  placeholders=()
  while read -r var; do
    [[ -n $var && -z ${!var:-} ]] && placeholders+=("$var=ci-placeholder")
  done < <(grep -oE '\$\{[A-Za-z_][A-Za-z0-9_]*:\?' "$ROOT/docker-compose.dev.yml" | sed -E 's/^\$\{//; s/:\?$//' | sort -u)
  (cd "$ROOT" && env "${placeholders[@]}" docker-compose -f docker-compose.dev.yml config -q) ||
    fail "docker-compose -f docker-compose.dev.yml config -q"
  log "docker-compose.dev.yml OK"
else
  log "docker-compose.dev.yml does not exist yet: nothing to check"
fi
fi

# =============================================================================================
if enabled cluster; then
  section "real kube-apiserver + etcd + kwok on loopback"
  need kube-apiserver kube-controller-manager kube-scheduler kubectl kwok
  command -v etcd >/dev/null 2>&1 || fail "etcd not installed (run .ci/tools.sh)"
  C="$WORK/cluster"
  # Debian's etcd 3.4 lacks progress notifications, so the API server refuses streaming watch
  # lists; clients built with newer client-go (kwok) would retry with backoff and lag by many
  # seconds. Make them use plain list+watch.
  export KUBE_FEATURE_WatchListClient=false
  mkdir -p "$C/etcd" "$C/certs"
  etcd_port=$(free_port); etcd_peer=$(free_port); api_port=$(free_port)
  etcd --name ci --data-dir "$C/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$etcd_peer" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
    --initial-cluster "ci=http://127.0.0.1:$etcd_peer" >"$WORK/etcd.log" 2>&1 &
  PIDS+=($!)
  wait_for "etcd" 30 curl -sf "http://127.0.0.1:$etcd_port/health"

  openssl genrsa -out "$C/sa.key" 2048 2>/dev/null
  openssl rsa -in "$C/sa.key" -pubout -out "$C/sa.pub" 2>/dev/null
  echo 'ci-token,ci,ci,system:masters' >"$C/tokens.csv"
  kube-apiserver --etcd-servers "http://127.0.0.1:$etcd_port" \
    --secure-port "$api_port" --bind-address 127.0.0.1 --advertise-address 127.0.0.1 \
    --endpoint-reconciler-type none --cert-dir "$C/certs" \
    --service-account-issuer https://kubernetes.default.svc --service-account-key-file "$C/sa.pub" \
    --service-account-signing-key-file "$C/sa.key" --token-auth-file "$C/tokens.csv" \
    --authorization-mode RBAC --service-cluster-ip-range 10.96.0.0/24 \
    --enable-admission-plugins NamespaceLifecycle,LimitRanger,ServiceAccount,PodSecurity,DefaultStorageClass,ResourceQuota \
    >"$WORK/kube-apiserver.log" 2>&1 &
  PIDS+=($!)
  export KUBECONFIG="$C/kubeconfig"
  cat >"$KUBECONFIG" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: ci
    cluster: {server: "https://127.0.0.1:$api_port", insecure-skip-tls-verify: true}
users:
  - name: ci
    user: {token: ci-token}
contexts:
  - name: ci
    context: {cluster: ci, user: ci}
current-context: ci
EOF
  wait_for "kube-apiserver /readyz" 60 kubectl get --raw /readyz
  log "kube-apiserver $(kubectl version -o json | sed -n 's/.*"gitVersion": "\(v[^"]*\)".*/\1/p' | tail -1) ready on 127.0.0.1:$api_port"

  kube-controller-manager --kubeconfig "$KUBECONFIG" --authentication-kubeconfig "$KUBECONFIG" \
    --authorization-kubeconfig "$KUBECONFIG" --leader-elect=false --bind-address 127.0.0.1 --secure-port 0 \
    --service-account-private-key-file "$C/sa.key" --use-service-account-credentials=false \
    --root-ca-file "$C/certs/apiserver.crt" \
    >"$WORK/kube-controller-manager.log" 2>&1 &
  PIDS+=($!)
  kube-scheduler --kubeconfig "$KUBECONFIG" --authentication-kubeconfig "$KUBECONFIG" \
    --authorization-kubeconfig "$KUBECONFIG" --leader-elect=false --bind-address 127.0.0.1 --secure-port 0 \
    >"$WORK/kube-scheduler.log" 2>&1 &
  PIDS+=($!)
  for f in "$TOOLS"/share/kwok-stages/*.yaml; do echo "---"; cat "$f"; done >"$C/kwok-stages.yaml"
  kwok --kubeconfig "$KUBECONFIG" --config "$C/kwok-stages.yaml" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --node-ip=10.0.0.1 --cidr=10.0.0.1/24 \
    >"$WORK/kwok.log" 2>&1 &
  PIDS+=($!)

  # Four fake nodes in two zones: production's required anti-affinity needs a free node for each
  # surge pod while old pods are still terminating.
  for i in 1 2 3 4; do
    kubectl apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations: {kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: "0"}
  labels:
    kubernetes.io/hostname: kwok-node-$i
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    type: kwok
    topology.kubernetes.io/zone: zone-$((i % 2))
spec: {}
EOF
  done
  wait_for "kwok nodes Ready" 60 kubectl wait --for=condition=Ready node --all --timeout=1s
  # CRDs of the operators the chart integrates with (ESO, Prometheus Operator): open schemas,
  # enough for the API server to accept and store the objects.
  kubectl apply -f "$ROOT/deploy/tools/testdata/operator-crds.yaml" >/dev/null || fail "installing stub operator CRDs"
  kubectl wait --for=condition=Established crd --all --timeout=60s >/dev/null || fail "CRDs not established"
  wait_for "default service account" 60 kubectl -n default get serviceaccount default
  log "control plane, kwok nodes and CRDs ready"

  # A PersistentVolume for staging's journal claim (no provisioner here).
  kubectl apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: PersistentVolume
metadata: {name: ci-journal}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Delete
  storageClassName: ci-local
  hostPath: {path: /tmp/ci-journal}
EOF

  section "kubectl apply --dry-run=server (chart renders and raw staging manifests)"
  for env in "${ENVS[@]}"; do
    ns="bitrader-$env"
    # The namespace must exist for server-side dry runs of the namespaced objects.
    kubectl create namespace "$ns" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
    kubectl label namespace "$ns" --overwrite pod-security.kubernetes.io/enforce=restricted \
      pod-security.kubernetes.io/warn=restricted pod-security.kubernetes.io/audit=restricted >/dev/null
    kubectl apply --dry-run=server -f "$WORK/render-$env.yaml" >"$WORK/dryrun-$env.txt" 2>&1 ||
      { cat "$WORK/dryrun-$env.txt" >&2; fail "kubectl apply --dry-run=server of the $env render"; }
    if grep -qi 'warning' "$WORK/dryrun-$env.txt"; then
      cat "$WORK/dryrun-$env.txt" >&2; fail "the API server warned about the $env render (Pod Security or deprecations)"
    fi
    log "$env: server-side dry run OK ($(wc -l <"$WORK/dryrun-$env.txt") objects)"
  done
  kubectl apply --dry-run=server -f "$ROOT/deploy/k8s/staging/" >"$WORK/dryrun-raw.txt" 2>&1 ||
    { cat "$WORK/dryrun-raw.txt" >&2; fail "kubectl apply --dry-run=server -f deploy/k8s/staging/"; }
  log "raw staging manifests: server-side dry run OK"

  section "helm upgrade --install --wait per environment, upgrade, and a failed --atomic upgrade"
  pod_rs() { kubectl -n "$1" get pods -l app.kubernetes.io/instance=bitunix-bot -o jsonpath='{.items[*].metadata.labels.pod-template-hash}'; }
  for env in "${ENVS[@]}"; do
    ns="bitrader-$env"
    # kwok honours terminationGracePeriodSeconds before it deletes a pod; a short (still valid:
    # >= shutdownTimeout + 10s) grace period keeps each rolling step fast.
    extra=(--set config.system.shutdownTimeout=1s --set terminationGracePeriodSeconds=11)
    [[ $env == staging ]] && extra+=(--set persistence.storageClassName=ci-local)
    helm upgrade --install bitunix-bot "$CHART" -n "$ns" -f "$CHART/values-$env.yaml" "${extra[@]}" \
      --set image.tag=ci --wait --timeout 180s >"$WORK/helm-$env.txt" 2>&1 ||
      { cat "$WORK/helm-$env.txt" >&2; kubectl -n "$ns" get all,pvc -o wide >&2 || true; fail "helm install ($env)"; }
    kubectl -n "$ns" rollout status deploy/bitunix-bot --timeout=60s >/dev/null || fail "rollout ($env)"
    want=$(sed -n 's/^replicaCount: *\([0-9]*\)/\1/p' "$CHART/values-$env.yaml"); want=${want:-1}
    ready=$(kubectl -n "$ns" get deploy bitunix-bot -o jsonpath='{.status.readyReplicas}')
    [[ $ready == "$want" ]] || fail "$env: $ready ready replicas, want $want"
    before=$(pod_rs "$ns")
    # A config change must roll the pods (checksum/config annotation).
    helm upgrade bitunix-bot "$CHART" -n "$ns" -f "$CHART/values-$env.yaml" "${extra[@]}" \
      --set image.tag=ci --set config.system.logLevel=warn --wait --timeout 180s >"$WORK/helm-$env.txt" 2>&1 ||
      { cat "$WORK/helm-$env.txt" >&2; fail "helm upgrade ($env)"; }
    after=$(pod_rs "$ns")
    [[ -n $after && $after != "$before" ]] || fail "$env: a config change did not roll the pods ($before -> $after)"
    # A rollout that cannot become ready (no node matches) must roll back by itself. Exercised
    # on development's values: --atomic's rollback is Helm's, the same for every values file,
    # and one exercise keeps this section within minutes on a 2-core CI machine.
    if [[ $env != development ]]; then
      log "$env: install and config-change upgrade (pods rolled) OK"
      continue
    fi
    if helm upgrade bitunix-bot "$CHART" -n "$ns" -f "$CHART/values-$env.yaml" "${extra[@]}" \
      --set image.tag=ci-broken --set config.system.logLevel=warn --set-string nodeSelector.bitrader/no-such-node=true \
      --atomic --wait --timeout 60s >"$WORK/helm-$env-atomic.txt" 2>&1; then
      fail "$env: the broken upgrade succeeded; --atomic was not exercised"
    fi
    grep -q 'rolled back\|rollback' "$WORK/helm-$env-atomic.txt" ||
      { cat "$WORK/helm-$env-atomic.txt" >&2; fail "$env: failed upgrade did not roll back"; }
    status=$(helm status bitunix-bot -n "$ns" -o json | sed -n 's/.*"status":"\([a-z-]*\)".*/\1/p' | head -1)
    [[ $status == deployed ]] || fail "$env: release status '$status' after rollback, want deployed"
    image=$(kubectl -n "$ns" get deploy bitunix-bot -o jsonpath='{.spec.template.spec.containers[0].image}')
    [[ $image == *:ci ]] || fail "$env: image after rollback is $image, want the previous :ci"
    kubectl -n "$ns" rollout status deploy/bitunix-bot --timeout=60s >/dev/null || fail "$env: not ready after rollback"
    log "$env: install, config-change upgrade (pods rolled) and failed --atomic upgrade (rolled back to revision $(helm history bitunix-bot -n "$ns" -o json | grep -o '"revision":[0-9]*' | tail -1 | cut -d: -f2)) OK"
  done
fi

# =============================================================================================
if enabled docker; then
  section "docker build and run (local dockerd, vfs, no registry)"
  if [[ ! -d $ROOT/cmd/bitrader ]]; then
    fail "./cmd/bitrader does not exist yet: the image cannot be built (the application entry point is missing)"
  fi
  DOCKER=/usr/bin/docker
  [[ -x $DOCKER ]] || DOCKER=$(command -v docker) || fail "docker client not installed (run .ci/tools.sh)"
  command -v dockerd >/dev/null 2>&1 || fail "dockerd not installed (run .ci/tools.sh)"
  D="$TOOLS/docker" # images persist between runs; the daemon's runtime state does not
  mkdir -p "$D/data" "$WORK/docker-exec"
  sock="$WORK/docker.sock"
  dockerd --data-root "$D/data" --exec-root "$WORK/docker-exec" --pidfile "$WORK/docker.pid" \
    --host "unix://$sock" --storage-driver vfs --iptables=false --ip6tables=false --bridge none \
    >"$WORK/dockerd.log" 2>&1 &
  PIDS+=($!)
  export DOCKER_HOST="unix://$sock"
  wait_for "dockerd" 60 "$DOCKER" version
  # Pulls fail offline: make golang:1.26 locally from the host's Go toolchain, busybox and CA
  # certificates, so that the ordinary multi-stage Dockerfile builds unchanged.
  go_minor=$(go env GOVERSION | sed -E 's/^go([0-9]+\.[0-9]+).*/\1/')
  if ! "$DOCKER" image inspect "golang:$go_minor" >/dev/null 2>&1; then
    log "docker import golang:$go_minor from $(go env GOROOT)"
    base="$WORK/base"
    mkdir -p "$base/bin" "$base/usr/local" "$base/etc/ssl/certs" "$base/tmp" "$base/go" "$base/root"
    cp /bin/busybox "$base/bin/busybox"
    for a in sh mkdir cp printf chmod chown cat test echo ls env rm; do ln -sf busybox "$base/bin/$a"; done
    cp /etc/ssl/certs/ca-certificates.crt "$base/etc/ssl/certs/"
    cp -a "$(go env GOROOT)" "$base/usr/local/go"
    chmod 1777 "$base/tmp"
    tar -C "$base" -c . | "$DOCKER" import \
      --change 'ENV PATH=/go/bin:/usr/local/go/bin:/bin' --change 'ENV GOPATH=/go' \
      --change 'ENV HOME=/root' --change 'ENV GOTOOLCHAIN=local' --change "ENV GOPROXY=$(go env GOPROXY)" --change 'WORKDIR /go' \
      - "golang:$go_minor" >/dev/null || fail "docker import of the builder base image"
    rm -rf "$base"
  fi
  log "dockerd up (at $(($(date +%s) - t_start))s)"
  version="ci-$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo dev)"
  DOCKER_BUILDKIT=1 "$DOCKER" build --network host --build-arg "GO_VERSION=$go_minor" \
    --build-arg "VERSION=$version" --build-arg "COMMIT=$(cd "$ROOT" && git rev-parse HEAD 2>/dev/null || echo unknown)" \
    --build-arg "DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)" -t bitrader:ci "$ROOT" >"$WORK/docker-build.txt" 2>&1 ||
    { tail -40 "$WORK/docker-build.txt" >&2; fail "docker build (a Go compile error above means ./cmd/bitrader does not build)"; }
  log "docker build OK (at $(($(date +%s) - t_start))s)"
  user=$("$DOCKER" image inspect bitrader:ci -f '{{.Config.User}}')
  [[ $user == 65532:65532 ]] || fail "image user is '$user', want 65532:65532"
  [[ $("$DOCKER" image inspect bitrader:ci -f '{{.Config.Healthcheck}}') == "<nil>" ]] || fail "image has a HEALTHCHECK"
  [[ $("$DOCKER" image inspect bitrader:ci -f '{{index .Config.Labels "org.opencontainers.image.version"}}') == "$version" ]] ||
    fail "image label org.opencontainers.image.version is not $version"
  run() { "$DOCKER" run --rm --network none --read-only --tmpfs /tmp --cap-drop ALL --security-opt no-new-privileges "$@"; }
  out=$(run bitrader:ci version 2>&1) || { echo "$out" >&2; fail "docker run bitrader:ci version"; }
  [[ $out == *"$version"* ]] || { echo "$out" >&2; fail "'bitrader version' does not print $version"; }
  log "docker run version: $(echo "$out" | head -1)"
  for env in "${ENVS[@]}"; do
    # The config shipped in the image, then the chart's rendered ConfigMap for the same env.
    # The image's production.yaml deliberately lacks the real-money opt-in; a deployment gives
    # it (the chart's values, or BITRADER_TRADING_LIVE), so the check gives it the same way.
    live=(); [[ $env == production ]] && live=(-e BITRADER_TRADING_LIVE=true)
    out=$(run -e "ENVIRONMENT=$env" -e API_KEY=ci-dummy-key -e SECRET_KEY=ci-dummy-secret "${live[@]}" \
      bitrader:ci config validate 2>&1) || { echo "$out" >&2; fail "config validate ($env, image's config)"; }
    cfg="$WORK/cfg-$env"; mkdir -p "$cfg"
    awk -v f="  $env.yaml: |" '$0==f{on=1; next} on && /^[^ ]/{on=0} on && /^  [^ ]/{on=0} on{sub(/^    /,""); print}' \
      "$WORK/render-$env.yaml" >"$cfg/$env.yaml"
    [[ -s $cfg/$env.yaml ]] || fail "could not extract $env.yaml from the chart's ConfigMap"
    chmod -R a+rX "$cfg"
    out=$(run -v "$cfg:/etc/bitrader/config:ro" -e "ENVIRONMENT=$env" -e API_KEY=ci-dummy-key \
      -e SECRET_KEY=ci-dummy-secret bitrader:ci config validate 2>&1) ||
      { echo "$out" >&2; fail "config validate ($env, the chart's ConfigMap)"; }
    log "$env: config validate OK (image config and chart ConfigMap)"
  done
  # The daemon's data root is cached between runs: drop superseded images and old build cache.
  "$DOCKER" image prune -f >/dev/null 2>&1 || true
  "$DOCKER" builder prune -f --keep-storage 12GB >/dev/null 2>&1 || true
fi

section "all deployment checks passed in $(($(date +%s) - t_start))s"
