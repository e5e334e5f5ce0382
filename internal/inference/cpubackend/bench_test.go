package cpubackend_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/taskmind/taskmind/internal/inference/kernels"
)

// BenchmarkBuiltin runs the built-in model's plan on one core at batch 1
// and 64 with each kernel set; compare with tools/ortref/bench.mjs.
func BenchmarkBuiltin(b *testing.B) {
	model, err := os.ReadFile("../../../models/mnist/model.onnx")
	if err != nil {
		b.Fatal(err)
	}
	for _, set := range kernels.Available() {
		p, err := compile(b, model, 13, set)
		if err != nil {
			b.Fatal(err)
		}
		for _, n := range []int{1, 64} {
			b.Run(fmt.Sprintf("set=%s/batch=%d", set.Name(), n), func(b *testing.B) {
				inst := p.NewInstance()
				shapes := [][]int{{n, 1, 28, 28}}
				x := make([]float32, n*784)
				for i := range x {
					x[i] = float32(i%255) / 255
				}
				data := [][]float32{x}
				ctx := context.Background()
				// The first run of a shape lays out the instance's buffers;
				// what is measured is the steady state.
				if _, err := inst.Run(ctx, shapes, data); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					if _, err := inst.Run(ctx, shapes, data); err != nil {
						b.Fatal(err)
					}
				}
				perImage := b.Elapsed().Seconds() / float64(b.N) / float64(n)
				b.ReportMetric(perImage*1e6, "µs/image")
				b.ReportMetric(1/perImage, "images/s")
			})
		}
	}
}
