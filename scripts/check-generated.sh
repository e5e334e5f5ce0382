#!/usr/bin/env bash
# Fails when committed generated code (ent, gqlgen, graphql-codegen, the avo
# GEMM kernels) is stale: it regenerates everything and compares the tree
# before and after.
set -euo pipefail
cd "$(dirname "$0")/.."
paths=(ent graph frontend/src/gql internal/inference/kernels)
snapshot() { find "${paths[@]}" -type f \( -name '*.go' -o -name '*.graphqls' -o -name '*.ts' -o -name '*.s' \) -print0 | sort -z | xargs -0 sha256sum; }
before=$(snapshot)
make --no-print-directory generate >/dev/null
after=$(snapshot)
if [[ $before != "$after" ]]; then
  echo "generated code is stale; run 'make generate' and commit the result:" >&2
  diff <(echo "$before") <(echo "$after") >&2 || true
  exit 1
fi
echo "generated code is up to date"
