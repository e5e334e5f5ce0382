package registry_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/taskmind/taskmind/internal/dbtest"
	"github.com/taskmind/taskmind/internal/events"
	"github.com/taskmind/taskmind/internal/inference"
	"github.com/taskmind/taskmind/internal/inference/registry"
)

// TestReadyOnlyWhenBuiltinIsWarm: /readyz depends on Ready, which must stay
// false until the built-in model has loaded and passed its trial run.
func TestReadyOnlyWhenBuiltinIsWarm(t *testing.T) {
	model, err := os.ReadFile("../../../models/mnist/model.onnx")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			db := dbtest.Open(t, b.Config)
			engine := inference.New(inference.Options{})
			defer engine.Close()
			broker := events.NewLocal()
			defer broker.Close()
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			r := registry.New(db.Client, engine, broker, log, registry.Builtin{Name: "mnist", Version: "1", Bytes: model}, 1<<20)
			if err := r.Ready(context.Background()); err == nil {
				t.Fatal("ready before Start: got nil, want an error")
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if err := r.Start(ctx); err != nil {
				t.Fatal(err)
			}
			if err := r.Ready(ctx); err != nil || !engine.Ready("mnist") {
				t.Fatalf("after Start: got %v (engine ready %v), want ready", err, engine.Ready("mnist"))
			}
			// A broken built-in model keeps the server from ever being ready.
			bad := registry.New(db.Client, inference.New(inference.Options{}), broker, log, registry.Builtin{Name: "mnist", Version: "2", Bytes: model[:100]}, 1<<20)
			if err := bad.Start(ctx); err == nil || bad.Ready(ctx) == nil {
				t.Fatal("broken built-in model: got ready, want a start-up error")
			}
		})
	}
}
