#!/usr/bin/env bash
# make bench: the load benchmark of issue #2 against a throwaway PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/pg.sh start)"
trap 'scripts/pg.sh stop' EXIT
[[ -x bin/taskmind ]] || CGO_ENABLED=0 go build -trimpath -o bin/taskmind .
go build -o bin/bench ./cmd/bench
TASKMIND_TEST_DATABASE_URL=$TASKMIND_TEST_DATABASE_URL bin/bench -bin bin/taskmind "$@"
