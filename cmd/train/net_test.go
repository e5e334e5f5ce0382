package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/taskmind/taskmind/internal/onnxfile"
)

// batchLoss returns the mean cross-entropy of the network on x, y.
func batchLoss(p *params, w *workspace, x []float32, y []uint8, n int) float64 {
	w.forward(p, x, n)
	loss, _ := w.lossGrad(y, n, 1)
	return loss / float64(n)
}

// TestGradients compares backpropagation with central finite differences
// on a tiny network, for a sample of entries of every parameter tensor.
func TestGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	a := arch{C1: 2, C2: 3, Hidden: 5}
	p := newParams(a)
	p.init(rng)
	for _, b := range [][]float32{p.B1, p.B2, p.B3, p.B4} {
		for i := range b {
			b[i] = float32(rng.NormFloat64() * 0.1)
		}
	}
	const n = 3
	x := make([]float32, n*imgPixels)
	for i := range x {
		x[i] = rng.Float32()
	}
	y := []uint8{3, 7, 0}
	w := newWorkspace(a, n)

	w.grad.zero()
	w.forward(p, x, n)
	w.lossGrad(y, n, 1.0/n)
	w.backward(p, n)

	names := []string{"W1", "B1", "W2", "B2", "W3", "B3", "W4", "B4"}
	// Two step sizes: a larger one drowns float32 rounding, a smaller one
	// stays clear of the ReLU and max-pool kinks that a random input puts
	// near some weights. A correct gradient matches at one of them.
	steps := []float32{1e-3, 3e-4}
	for ti, tensor := range p.tensors() {
		grad := w.grad.tensors()[ti]
		idx := rng.Perm(len(tensor))
		if len(idx) > 12 {
			idx = idx[:12]
		}
		for _, i := range idx {
			analytic := float64(grad[i])
			var numeric []float64
			ok := false
			for _, eps := range steps {
				orig := tensor[i]
				tensor[i] = orig + eps
				up := batchLoss(p, w, x, y, n)
				tensor[i] = orig - eps
				down := batchLoss(p, w, x, y, n)
				tensor[i] = orig
				num := (up - down) / (2 * float64(eps))
				numeric = append(numeric, num)
				if math.Abs(num-analytic) <= 1e-3+0.02*math.Max(math.Abs(num), math.Abs(analytic)) {
					ok = true
				}
			}
			if !ok {
				t.Errorf("d loss / d %s[%d]: backprop %.6g, finite differences %.6g (steps %v)", names[ti], i, analytic, numeric, steps)
			}
		}
	}
}

func TestMaxPool(t *testing.T) {
	// One channel, one 4×4 image; ties go to the first cell.
	in := []float32{
		1, 2, 5, 5,
		3, 0, 5, 1,
		-1, -2, 0, 0,
		-3, -1, 0, 0,
	}
	out := make([]float32, 4)
	arg := make([]int32, 4)
	maxPool(out, arg, in, 1, 1, 4)
	if want := []float32{3, 5, -1, 0}; !slices.Equal(out, want) {
		t.Errorf("maxPool values = %v, want %v", out, want)
	}
	if want := []int32{4, 2, 8, 10}; !slices.Equal(arg, want) {
		t.Errorf("maxPool argmax = %v, want %v", arg, want)
	}
}

func TestPixelsShift(t *testing.T) {
	img := make([]uint8, imgPixels)
	img[10*imgSide+10] = 255
	img[0] = 51
	ds := &dataset{Images: img, Labels: []uint8{1}}
	tests := []struct {
		name   string
		dx, dy int
		want   map[int]float32 // non-zero pixels
	}{
		{name: "none", want: map[int]float32{10*imgSide + 10: 1, 0: 0.2}},
		{name: "right 2", dx: 2, want: map[int]float32{10*imgSide + 12: 1, 2: 0.2}},
		{name: "up 1 left 1", dx: -1, dy: -1, want: map[int]float32{9*imgSide + 9: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := make([]float32, imgPixels)
			for i := range dst {
				dst[i] = -1 // stale data must be overwritten
			}
			ds.pixels(dst, 0, tc.dx, tc.dy)
			for i, v := range dst {
				if want := tc.want[i]; v != want {
					t.Errorf("pixel (%d,%d) = %v, want %v", i%imgSide, i/imgSide, v, want)
				}
			}
		})
	}
}

// smallConfig trains a narrow network quickly.
func smallConfig() config {
	return config{Arch: arch{C1: 6, C2: 12, Hidden: 32}, Epochs: 2, Batch: 32, Shards: 4, LR: 3e-3, Seed: 42, Shift: 1}
}

func subset(d *dataset, n int) *dataset {
	return &dataset{Images: d.Images[:n*imgPixels], Labels: d.Labels[:n]}
}

// TestTrainingDeterministic trains twice with different worker counts and
// checks that the exported models are byte-identical, and that another seed
// gives another model.
func TestTrainingDeterministic(t *testing.T) {
	trainSet, _ := mnistForTest(t)
	data := subset(trainSet, 512)
	export := func(cfg config, workers int) []byte {
		p, _, err := train(context.Background(), cfg, data, nil, runOptions{Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		return onnxfile.Marshal(buildModel(p, exportInfo{Name: "mnist", Version: "test", Seed: cfg.Seed, Epochs: cfg.Epochs}))
	}
	cfg := smallConfig()
	a := export(cfg, 1)
	b := export(cfg, 3)
	if !bytes.Equal(a, b) {
		t.Errorf("models trained with 1 and 3 workers differ (%d vs %d bytes)", len(a), len(b))
	}
	cfg.Seed++
	if c := export(cfg, 2); bytes.Equal(a, c) {
		t.Error("models trained with different seeds are identical")
	}
}

// TestTrainingLearns is a smoke test of the whole loop on a few thousand
// images: the test accuracy must rise far above chance.
func TestTrainingLearns(t *testing.T) {
	trainSet, testSet := mnistForTest(t)
	cfg := smallConfig()
	p, stats, err := train(context.Background(), cfg, subset(trainSet, 3000), subset(testSet, 1000), runOptions{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	last := stats[len(stats)-1]
	if last.TestAcc < 0.85 || last.TrainLoss >= stats[0].TrainLoss {
		t.Errorf("after %d epochs on 3000 images: test accuracy %.3f, train loss %.3f (epoch 1: %.3f); want accuracy ≥ 0.85 and a falling loss",
			cfg.Epochs, last.TestAcc, last.TrainLoss, stats[0].TrainLoss)
	}
	if got := evaluate(p, subset(testSet, 1000), cfg.Arch, 1); float64(got)/1000 != last.TestAcc {
		t.Errorf("evaluate with 1 worker = %d/1000, training reported %.3f", got, last.TestAcc)
	}
}

func TestTrainRejectsBadConfig(t *testing.T) {
	data := &dataset{Images: make([]uint8, 10*imgPixels), Labels: make([]uint8, 10)}
	tests := []struct {
		name string
		cfg  config
	}{
		{name: "batch not a multiple of shards", cfg: config{Arch: arch{1, 1, 1}, Epochs: 1, Batch: 6, Shards: 4, LR: 1e-3}},
		{name: "fewer samples than a batch", cfg: config{Arch: arch{1, 1, 1}, Epochs: 1, Batch: 16, Shards: 4, LR: 1e-3}},
		{name: "zero shards", cfg: config{Arch: arch{1, 1, 1}, Epochs: 1, Batch: 8, Shards: 0, LR: 1e-3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := train(context.Background(), tc.cfg, data, nil, runOptions{}); err == nil {
				t.Error("train() succeeded, want an error")
			}
		})
	}
}

// TestRunWritesArtifacts runs the command end to end on a small subset and
// checks what it writes.
func TestRunWritesArtifacts(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run: skipped with -short")
	}
	mnistForTest(t) // fail early with a clear message if the data is missing
	out := t.TempDir()
	var log bytes.Buffer
	args := []string{"-out", out, "-limit", "640", "-epochs", "1", "-conv1", "4", "-conv2", "8", "-hidden", "16"}
	if err := run(context.Background(), args, &log); err != nil {
		t.Fatalf("run: %v\n%s", err, log.String())
	}
	b, err := os.ReadFile(filepath.Join(out, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := onnxfile.Unmarshal(b)
	if err != nil {
		t.Fatalf("written model.onnx: %v", err)
	}
	if got := m.Graph.OpTypes(); !slices.Equal(got, []string{"Conv", "Relu", "MaxPool", "Flatten", "MatMul", "Add", "Softmax"}) {
		t.Errorf("op types = %v", got)
	}
	if _, err := os.Stat(filepath.Join(out, "model.json")); err != nil {
		t.Errorf("model.json: %v", err)
	}
	if err := run(context.Background(), []string{"-epochs", "0"}, &log); err == nil {
		t.Error("run with -epochs 0 succeeded, want an error")
	}
}

func TestCommandLine(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{args: nil, want: "go run ./cmd/train"},
		{args: []string{"-out", "models/mnist"}, want: "go run ./cmd/train -out models/mnist"},
		{args: []string{"-out", "my dir"}, want: fmt.Sprintf("go run ./cmd/train -out %q", "my dir")},
	}
	for _, tc := range tests {
		if got := commandLine(tc.args); got != tc.want {
			t.Errorf("commandLine(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
}
