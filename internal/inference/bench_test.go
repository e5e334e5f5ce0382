package inference_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/taskmind/taskmind/internal/inference"
	"github.com/taskmind/taskmind/internal/inference/internal/onnxtest"
)

// BenchmarkPredict measures single predictions (batch 1) through the
// engine: the built-in model, mnist-7 and a wider CNN, on each backend, with 1 and 8
// concurrent callers and the default pool (GOMAXPROCS instances). Besides
// ns/op it reports the latency percentiles of the individual calls
// (queueing included) and the throughput.
//
//	go test -run '^$' -bench Predict -benchtime 3s ./internal/inference/
func BenchmarkPredict(b *testing.B) {
	digit := onnxtest.MNISTTest(b)[0]
	models := []struct {
		name  string
		bytes []byte
		input []inference.Tensor
	}{
		{"builtin", builtinModel(b), digitInput(digit, "input", 1.0/255)},
		{"mnist7", onnxtest.MNIST7(b), digitInput(digit, mnist7Input, 1)},
		// The built-in architecture at 32/64 channels (its first version),
		// random weights: 3.9M multiply-adds against the 16/32 model's 1.1M.
		{"cnn-32-64", onnxtest.CNN(32, 64, 128, 1), digitInput(digit, "input", 1.0/255)},
	}
	for _, m := range models {
		for _, backend := range []inference.Backend{inference.BackendCompiled, inference.BackendGorgonnx} {
			e := inference.New(inference.Options{Backend: backendOption(backend)})
			if err := e.Load(context.Background(), m.name, "1", m.bytes, inference.Meta{}); err != nil {
				b.Fatal(err)
			}
			for _, conc := range []int{1, 8} {
				b.Run(fmt.Sprintf("model=%s/backend=%s/conc=%d", m.name, backend, conc), func(b *testing.B) {
					benchPredict(b, e, m.name, m.input, conc)
				})
			}
			e.Close()
		}
	}
}

func benchPredict(b *testing.B, e *inference.Engine, model string, in []inference.Tensor, conc int) {
	var (
		mu  sync.Mutex
		all []time.Duration
	)
	b.ResetTimer()
	if conc == 1 {
		all = make([]time.Duration, 0, b.N)
		for b.Loop() {
			start := time.Now()
			if _, err := e.Predict(context.Background(), model, in); err != nil {
				b.Fatal(err)
			}
			all = append(all, time.Since(start))
		}
	} else {
		// RunParallel starts parallelism × GOMAXPROCS goroutines.
		b.SetParallelism((conc + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
		b.RunParallel(func(pb *testing.PB) {
			lat := make([]time.Duration, 0, 1024)
			for pb.Next() {
				start := time.Now()
				if _, err := e.Predict(context.Background(), model, in); err != nil {
					b.Error(err)
					return
				}
				lat = append(lat, time.Since(start))
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		})
	}
	b.StopTimer()
	if len(all) == 0 {
		return
	}
	slices.Sort(all)
	pct := func(p float64) float64 {
		return float64(all[min(len(all)-1, int(p*float64(len(all))))].Microseconds())
	}
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pred/s")
}
