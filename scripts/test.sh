#!/usr/bin/env bash
# Runs every Go test against SQLite and a throwaway PostgreSQL started here
# (never as root), then stops it whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/pg.sh start)"
trap 'scripts/pg.sh stop' EXIT
export TASKMIND_TEST_DATABASE_URL
go test -count=1 "$@" ./...
