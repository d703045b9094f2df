# bitrader container image: a static Go binary on an empty base.
#
#   docker build --build-arg VERSION=1.2.3 --build-arg COMMIT=$(git rev-parse HEAD) \
#     --build-arg DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ) -t bitrader:1.2.3 .
#
# The runtime image holds only the binary, CA certificates (TLS to the exchange and AWS), the Go
# time zone database, a passwd entry for the non-root user 65532 and the default configs in
# /etc/bitrader/config. It works with a read-only root filesystem: the only writable paths the
# bot needs are system.dataDir (/data, a volume) and /tmp (mount an emptyDir or tmpfs).
# No HEALTHCHECK: Kubernetes probes /healthz and /readyz; compose files declare their own.

ARG GO_VERSION=1.26

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
ARG COMMIT=unknown
ARG DATE=unknown
WORKDIR /src
# Explicit cache locations, so the cache mounts below work whatever HOME the base image sets.
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOCACHE=/root/.cache/go-build GOMODCACHE=/go/pkg/mod
# Dependencies first, so source edits do not invalidate the module layer.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    test -d ./cmd/bitrader || { echo "Dockerfile: ./cmd/bitrader is missing from the build context" >&2; exit 1; } && \
    GOOS=${TARGETOS} GOARCH=${TARGETARCH} go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT} -X main.date=${DATE}" \
      -o /out/rootfs/usr/local/bin/bitrader ./cmd/bitrader
RUN mkdir -p /out/rootfs/etc/ssl/certs /out/rootfs/etc/bitrader/config /out/data /out/rootfs/tmp \
      /out/rootfs/usr/local/go/lib/time && \
    cp /etc/ssl/certs/ca-certificates.crt /out/rootfs/etc/ssl/certs/ && \
    cp "$(go env GOROOT)/lib/time/zoneinfo.zip" /out/rootfs/usr/local/go/lib/time/ && \
    cp config/*.yaml /out/rootfs/etc/bitrader/config/ && \
    printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >/out/rootfs/etc/passwd && \
    printf 'root:x:0:\nnonroot:x:65532:\n' >/out/rootfs/etc/group && \
    chmod 1777 /out/rootfs/tmp

FROM scratch
ARG VERSION=dev
ARG COMMIT=unknown
ARG DATE=unknown
LABEL org.opencontainers.image.title="bitrader" \
      org.opencontainers.image.description="Automated trading bot for Bitunix perpetual futures" \
      org.opencontainers.image.source="https://github.com/bitrader/bitrader" \
      org.opencontainers.image.url="https://github.com/bitrader/bitrader" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}" \
      org.opencontainers.image.created="${DATE}"
COPY --from=build /out/rootfs/ /
# COPY makes files root-owned; the journal directory belongs to the runtime user.
COPY --from=build --chown=65532:65532 /out/data /data
ENV ENVIRONMENT=development \
    BITRADER_CONFIG_DIR=/etc/bitrader/config \
    ZONEINFO=/usr/local/go/lib/time/zoneinfo.zip
USER 65532:65532
WORKDIR /data
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/bitrader"]
CMD ["run"]
