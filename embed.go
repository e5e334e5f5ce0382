package main

import (
	"embed"
	"io/fs"
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
