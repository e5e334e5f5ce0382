#!/usr/bin/env bash
# Inference benchmarks (issue #4): the engine (go test -bench), classifyDigit
# through GraphQL against the real binary, and the same model in ONNX Runtime
# for comparison (tools/ortref, installed on first use).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== engine (batch 1) =="
go test -run '^$' -bench 'Predict/model=builtin' -benchtime 3s ./internal/inference/ | tee /tmp/taskmind-engine-bench.txt | grep -E 'Benchmark|ok'
engine_p50=$(awk '/model=builtin\/backend=compiled\/conc=1/ { for (i = 1; i <= NF; i++) if ($i == "p50-µs") print $(i-1) }' /tmp/taskmind-engine-bench.txt)
echo "== GraphQL (recorded predictions, embedded SQLite) =="
[[ -x bin/taskmind ]] || CGO_ENABLED=0 go build -trimpath -o bin/taskmind .
go build -o bin/bench ./cmd/bench
bin/bench inference -bin bin/taskmind "$@"
echo "== ONNX Runtime (same model) =="
(cd tools/ortref && [[ -d node_modules/onnxruntime-node ]] || ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error)
node tools/ortref/bench.mjs -engine-p50-us "${engine_p50:-}"
