# Taskmind: the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
GO    ?= go
BIN   := bin/taskmind
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)

.PHONY: run build frontend test test-go test-frontend e2e lint-go check-generated generate deps bench bench-inference reference train clean

## run: build the SPA (npm ci only when the lock changed) and serve on 127.0.0.1:8080 with embedded SQLite
run: build
	./$(BIN) serve

## build: the single static binary, with the SPA embedded
build: frontend
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) .

frontend:
	scripts/npm-ci.sh
	cd frontend && npm run build --silent

## test: everything CI runs: installs missing tools, lint, generated-code check, Go tests on SQLite and PostgreSQL, frontend unit/lint/type checks, end-to-end in Chromium
test: deps lint-go check-generated test-go test-frontend e2e

deps:
	scripts/install-deps.sh

lint-go:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [[ -n $$unformatted ]]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	@$(GO) mod tidy -diff >/dev/null || { echo "go.mod/go.sum are not tidy: run 'go mod tidy' and commit"; exit 1; }

check-generated:
	scripts/check-generated.sh

test-go:
	scripts/test.sh

test-frontend:
	scripts/npm-ci.sh
	cd frontend && npm run typecheck --silent && npm run lint --silent && npm test --silent

e2e: build
	cd frontend && TASKMIND_BIN=$(CURDIR)/$(BIN) npm run e2e --silent

## generate: ent, then gqlgen (see embed.go), the GEMM kernels' assembly (avo, its own module), then the frontend's typed documents
generate:
	$(GO) generate .
	cd internal/inference/kernels/asmgen && $(GO) run . -out ../gemm_amd64.s -stubs ../gemm_stub_amd64.go -pkg kernels
	@if [[ -d frontend/node_modules ]]; then cd frontend && npm run codegen --silent; else echo "frontend/node_modules missing: skipped graphql-codegen (run scripts/npm-ci.sh)"; fi

## bench: load test against PostgreSQL (not part of make test)
bench:
	scripts/bench.sh

## bench-inference: engine, GraphQL and ONNX Runtime inference benchmarks (not part of make test)
bench-inference:
	scripts/bench-inference.sh

## reference: rebuild the inference test models and record ONNX Runtime's outputs for them (internal/inference/testdata/reference)
reference:
	$(GO) run ./internal/inference/internal/onnxtest/mkref
	cd tools/ortref && { [[ -d node_modules/onnxruntime-node ]] || ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error; }
	node tools/ortref/refset.mjs

## train: retrain the built-in MNIST model (deterministic; ~8 minutes on 2 cores)
train:
	$(GO) run ./cmd/train -out models/mnist

clean:
	rm -rf bin frontend/dist/app
