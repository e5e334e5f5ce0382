# Taskmind container image.
#
#   docker build --build-arg VERSION=$(git describe --tags --always) \
#                --build-arg COMMIT=$(git rev-parse HEAD) -t taskmind .
#
# Three stages: Node builds the SPA, Go embeds it in one static binary, and the
# runtime stage is distroless (CA certificates, tzdata, /etc/passwd, nothing
# else: no shell, no package manager). deploy/dockerfile_test.go holds this
# file to its rules; deploy/README.md explains how to run the image.

# ---- SPA ----------------------------------------------------------------------
# The SPA is plain JavaScript once built, so it is built once on the build
# host's platform even when the image targets another architecture.
FROM --platform=$BUILDPLATFORM node:20.20.2-bookworm-slim AS web
WORKDIR /src/frontend
# Dependencies first: this layer is reused until the lockfile changes.
COPY frontend/package.json frontend/package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

# ---- Go binary ----------------------------------------------------------------
FROM --platform=$BUILDPLATFORM golang:1.26.8-bookworm AS build
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
ARG COMMIT=unknown
WORKDIR /src
# Pure Go (modernc SQLite, lib/pq): no libc, so the binary runs on distroless
# static and cross-compiles without a C toolchain.
ENV CGO_ENABLED=0 \
    GOFLAGS=-mod=readonly
# No separate `go mod download` layer: it would fetch every module of the
# graph, test-only ones included; go build fetches what the binary needs into
# the cache mount.
COPY . .
# go:embed picks up the SPA from frontend/dist/app.
COPY --from=web /src/frontend/dist/app ./frontend/dist/app
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
      -o /out/taskmind . \
 && mkdir -p /out/data

# ---- Runtime ------------------------------------------------------------------
FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
ARG COMMIT=unknown
LABEL org.opencontainers.image.title="Taskmind" \
      org.opencontainers.image.description="Tasks and deep-learning inference in one Go binary" \
      org.opencontainers.image.source="https://github.com/taskmind/taskmind" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}"
COPY --from=build /out/taskmind /taskmind
# The SQLite default lives here when DATABASE_URL is unset. The folder must
# already belong to the runtime user: a fresh named volume copies the owner
# from the image, and the process cannot chown it later.
COPY --from=build --chown=65532:65532 /out/data /data
# The binary binds 127.0.0.1 by default; inside a container that would be
# unreachable from outside, so the image opts in to every interface.
ENV TASKMIND_LISTEN_ADDR=0.0.0.0 \
    PORT=8080 \
    TASKMIND_DATA_DIR=/data \
    TASKMIND_LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8080
# Numeric IDs (distroless's "nonroot") so that Kubernetes' runAsNonRoot can
# verify the user without reading /etc/passwd.
USER 65532:65532
# The image has no shell or curl: the binary probes its own /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["/taskmind", "healthcheck"]
ENTRYPOINT ["/taskmind"]
CMD ["serve"]
