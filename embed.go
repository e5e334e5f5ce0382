package main

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"

	"github.com/taskmind/taskmind/internal/inference/registry"
)

// Code generation runs in this order: ent first (it also writes
// graph/ent.graphqls), then gqlgen, which reads that file.
//go:generate go run -mod=mod ./ent/entc.go
//go:generate go tool gqlgen generate

// frontendFS holds the built SPA. frontend/dist/app is produced by the
// frontend build and is absent on a fresh clone; the committed
// frontend/dist/README.md keeps the embed valid so go build works without Node.
//
//go:embed all:frontend/dist
var frontendFS embed.FS

// frontendDist returns the SPA build folder, or nil when it was not built.
func frontendDist() fs.FS {
	sub, err := fs.Sub(frontendFS, "frontend/dist/app")
	if err != nil {
		return nil
	}
	if _, err := fs.Stat(sub, "index.html"); err != nil {
		return nil
	}
	return sub
}

// The built-in model, trained by cmd/train (see models/mnist/README.md).
//
//go:embed models/mnist/model.onnx
var builtinModel []byte

//go:embed models/mnist/model.json
var builtinModelJSON []byte

// builtin describes the embedded model from its committed metadata.
func builtin() (registry.Builtin, error) {
	var meta struct {
		Name, Version, Description string
		Labels                     []string
	}
	if err := json.Unmarshal(builtinModelJSON, &meta); err != nil {
		return registry.Builtin{}, fmt.Errorf("models/mnist/model.json: %w", err)
	}
	return registry.Builtin{Name: meta.Name, Version: meta.Version, Description: meta.Description, Labels: meta.Labels, Bytes: builtinModel}, nil
}
