#!/usr/bin/env bash
# Runs every Go test against SQLite and a throwaway PostgreSQL started here
# (never as root), then stops it whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/pg.sh start)"
trap 'scripts/pg.sh stop' EXIT
export TASKMIND_TEST_DATABASE_URL
go test -count=1 "$@" ./...
# The engine's concurrency (instance pools, the queue, recovery) under the
# race detector; -short skips the 10k-image accuracy runs done above.
go test -count=1 -race -short ./internal/inference/... ./internal/events/...
