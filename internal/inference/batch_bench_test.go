package inference_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/taskmind/taskmind/internal/inference"
)

// BenchmarkEngineBatch measures the built-in model through the engine with
// one instance and one caller, as ONNX Runtime is measured with one thread
// (tools/ortref/bench.mjs): batch 1 for latency (p50-µs) and batch 64 for
// throughput (images/s). allocs/op counts Predict's own (the request and
// the copied outputs); the plan's run allocates nothing (cpubackend's
// BenchmarkBuiltin). scripts/bench-inference.sh reads these lines.
//
//	go test -run '^$' -bench EngineBatch -cpu 1 ./internal/inference/
func BenchmarkEngineBatch(b *testing.B) {
	e := inference.New(inference.Options{PoolSize: 1})
	defer e.Close()
	if err := e.Load(context.Background(), "builtin", "1", builtinModel(b), inference.Meta{}); err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{1, 64} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			x := make([]float32, n*784)
			for i := range x {
				x[i] = float32(i%255) / 255
			}
			in := []inference.Tensor{{Name: "input", Shape: []int{n, 1, 28, 28}, Data: x}}
			ctx := context.Background()
			lat := make([]time.Duration, 0, 1024)
			b.ReportAllocs()
			for b.Loop() {
				start := time.Now()
				if _, err := e.Predict(ctx, "builtin", in); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "images/s")
		})
	}
}
