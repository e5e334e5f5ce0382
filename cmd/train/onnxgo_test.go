package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/owulveryck/onnx-go"
	"github.com/owulveryck/onnx-go/backend/x/gorgonnx"
	"gorgonia.org/tensor"

	"github.com/taskmind/taskmind/internal/onnxfile"
)

const committedDir = "../../models/mnist"

// onnxGoModel is one onnx-go instance of a model; like onnx-go itself it is
// not safe for concurrent use.
type onnxGoModel struct {
	backend *gorgonnx.Graph
	model   *onnx.Model
}

func loadOnnxGo(t *testing.T, b []byte) *onnxGoModel {
	t.Helper()
	backend := gorgonnx.NewGraph()
	model := onnx.NewModel(backend)
	if err := safely(func() error { return model.UnmarshalBinary(b) }); err != nil {
		t.Fatalf("onnx-go UnmarshalBinary: %v", err)
	}
	return &onnxGoModel{backend: backend, model: model}
}

// run feeds one [1,1,28,28] image and returns the first output.
func (m *onnxGoModel) run(pixels []float32) ([]float32, error) {
	var out []float32
	err := safely(func() error {
		in := tensor.New(tensor.WithShape(1, 1, imgSide, imgSide), tensor.WithBacking(slices.Clone(pixels)))
		if err := m.model.SetInput(0, in); err != nil {
			return err
		}
		if err := m.backend.Run(); err != nil {
			return err
		}
		outs, err := m.model.GetOutputTensors()
		if err != nil {
			return err
		}
		if len(outs) == 0 {
			return fmt.Errorf("no output tensors")
		}
		data, ok := outs[0].Data().([]float32)
		if !ok {
			return fmt.Errorf("output is %T, want []float32", outs[0].Data())
		}
		out = slices.Clone(data)
		return nil
	})
	return out, err
}

// safely turns an onnx-go panic into an error.
func safely(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return fn()
}

func maxAbsDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var m float64
	for i := range a {
		m = max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}

func softmax(z []float32) []float32 {
	out := make([]float32, len(z))
	mx := z[argmax(z)]
	var sum float64
	for i, v := range z {
		e := math.Exp(float64(v - mx))
		out[i] = float32(e)
		sum += e
	}
	for i := range out {
		out[i] = float32(float64(out[i]) / sum)
	}
	return out
}

// goProbabilities runs the training code's own forward pass on one image.
func goProbabilities(p *params, pixels []float32) []float32 {
	w := newWorkspace(p.arch, 1)
	w.forward(p, pixels, 1)
	return softmax(w.logit[:numClass])
}

// TestExportRunsInOnnxGo checks the exported graph's semantics (layouts,
// flattening order, pooling, bias broadcasting) against the training code's
// forward pass, on random weights so it does not depend on a trained model.
func TestExportRunsInOnnxGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	p := newParams(arch{C1: 4, C2: 6, Hidden: 16})
	p.init(rng)
	for _, b := range [][]float32{p.B1, p.B2, p.B3, p.B4} {
		for i := range b {
			b[i] = float32(rng.NormFloat64() * 0.1)
		}
	}
	b := onnxfile.Marshal(buildModel(p, exportInfo{Name: "t", Version: "0"}))
	m := loadOnnxGo(t, b)
	for i := 0; i < 5; i++ {
		px := make([]float32, imgPixels)
		for j := range px {
			px[j] = rng.Float32()
		}
		got, err := m.run(px)
		if err != nil {
			t.Fatalf("image %d: onnx-go run: %v", i, err)
		}
		want := goProbabilities(p, px)
		if d := maxAbsDiff(got, want); d > 1e-5 {
			t.Errorf("image %d: onnx-go %v, Go forward %v: max abs diff %g, want ≤ 1e-5", i, got, want, d)
		}
	}

	// Reading the weights back gives the same network.
	mm, err := onnxfile.Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	back, err := paramsFromModel(mm)
	if err != nil {
		t.Fatalf("paramsFromModel: %v", err)
	}
	for i, tt := range back.tensors() {
		if !slices.Equal(tt, p.tensors()[i]) {
			t.Errorf("tensor %d differs after export and re-import", i)
		}
	}
}

// reference is models/mnist/reference.json, written by tools/ortref.
type reference struct {
	ModelSHA256 string  `json:"model_sha256"`
	Input       string  `json:"input"`
	Output      string  `json:"output"`
	Tolerance   float64 `json:"tolerance"`
	Samples     []struct {
		Index  int       `json:"index"`
		Label  int       `json:"label"`
		Pixels []uint8   `json:"pixels"`
		Output []float32 `json:"output"`
	} `json:"samples"`
}

func readCommitted(t *testing.T) (onnxBytes []byte, info modelInfo, ref reference) {
	t.Helper()
	onnxBytes, err := os.ReadFile(filepath.Join(committedDir, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	for name, dst := range map[string]any{"model.json": &info, "reference.json": &ref} {
		b, err := os.ReadFile(filepath.Join(committedDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	return onnxBytes, info, ref
}

func TestCommittedModelMetadata(t *testing.T) {
	b, info, ref := readCommitted(t)
	sum := sha256.Sum256(b)
	got := hex.EncodeToString(sum[:])
	if info.SHA256 != got {
		t.Errorf("model.json sha256 = %s, want %s (sha256 of model.onnx)", info.SHA256, got)
	}
	if ref.ModelSHA256 != got {
		t.Errorf("reference.json model_sha256 = %s, want %s: rerun tools/ortref after retraining", ref.ModelSHA256, got)
	}
	if info.SizeBytes != len(b) {
		t.Errorf("model.json size_bytes = %d, want %d", info.SizeBytes, len(b))
	}
	if info.Name != "mnist" || info.TestAccuracy < 0.99 || len(info.Labels) != 10 {
		t.Errorf("model.json: name %q, test accuracy %v, %d labels; want mnist, ≥ 0.99, 10", info.Name, info.TestAccuracy, len(info.Labels))
	}

	// The declared interface in model.json is the graph's.
	m, err := onnxfile.Unmarshal(b)
	if err != nil {
		t.Fatalf("onnxfile.Unmarshal(model.onnx): %v", err)
	}
	check := func(kind string, spec []tensorSpec, vi []onnxfile.ValueInfo) {
		t.Helper()
		if len(spec) != 1 || len(vi) != 1 {
			t.Fatalf("%s: model.json has %d, graph has %d; want 1 each", kind, len(spec), len(vi))
		}
		shape, ok := vi[0].Type.FixedShape()
		if vi[0].Name != spec[0].Name || !ok || !slices.Equal(shape, spec[0].Shape) || vi[0].Type.ElemType != onnxfile.Float {
			t.Errorf("%s: graph declares %s %v %v, model.json says %s %v float32", kind, vi[0].Name, vi[0].Type.ElemType, shape, spec[0].Name, spec[0].Shape)
		}
	}
	check("input", info.Inputs, m.Graph.Inputs)
	check("output", info.Outputs, m.Graph.Outputs)
	if ref.Input != info.Inputs[0].Name || ref.Output != info.Outputs[0].Name {
		t.Errorf("reference.json I/O %s -> %s, want %s -> %s", ref.Input, ref.Output, info.Inputs[0].Name, info.Outputs[0].Name)
	}
}

// TestCommittedModelMatchesONNXRuntime runs the committed model in onnx-go
// and in the training code's forward pass, and compares both with ONNX
// Runtime's outputs in reference.json.
func TestCommittedModelMatchesONNXRuntime(t *testing.T) {
	b, _, ref := readCommitted(t)
	if len(ref.Samples) < 16 {
		t.Fatalf("reference.json has %d samples, want at least 16", len(ref.Samples))
	}
	const tol = 1e-4
	m := loadOnnxGo(t, b)
	mm, err := onnxfile.Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	p, err := paramsFromModel(mm)
	if err != nil {
		t.Fatal(err)
	}
	var worstGo, worstOnnxGo float64
	for _, s := range ref.Samples {
		if len(s.Pixels) != imgPixels || len(s.Output) != numClass {
			t.Fatalf("sample %d: %d pixels and %d outputs, want %d and %d", s.Index, len(s.Pixels), len(s.Output), imgPixels, numClass)
		}
		px := make([]float32, imgPixels)
		for i, v := range s.Pixels {
			px[i] = float32(v) / 255
		}
		got, err := m.run(px)
		if err != nil {
			t.Fatalf("sample %d: onnx-go: %v", s.Index, err)
		}
		d := maxAbsDiff(got, s.Output)
		worstOnnxGo = max(worstOnnxGo, d)
		if d > tol {
			t.Errorf("sample %d: onnx-go %v, ONNX Runtime %v: max abs diff %g, want ≤ %g", s.Index, got, s.Output, d, tol)
		}
		own := goProbabilities(p, px)
		d = maxAbsDiff(own, s.Output)
		worstGo = max(worstGo, d)
		if d > tol {
			t.Errorf("sample %d: Go forward %v, ONNX Runtime %v: max abs diff %g, want ≤ %g", s.Index, own, s.Output, d, tol)
		}
	}
	t.Logf("max abs diff vs ONNX Runtime over %d samples: onnx-go %.3g, Go forward %.3g", len(ref.Samples), worstOnnxGo, worstGo)
}

// TestCommittedModelAccuracyOnnxGo scores the committed model through onnx-go
// on the full MNIST test set.
func TestCommittedModelAccuracyOnnxGo(t *testing.T) {
	if testing.Short() {
		t.Skip("full test set through onnx-go: skipped with -short")
	}
	b, info, _ := readCommitted(t)
	_, testSet := mnistForTest(t)
	const workers = 2 // onnx-go models are not safe for concurrent use: one per worker
	correct := make([]int, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		m := loadOnnxGo(t, b)
		wg.Add(1)
		go func() {
			defer wg.Done()
			px := make([]float32, imgPixels)
			for i := w; i < testSet.Len(); i += workers {
				testSet.pixels(px, i, 0, 0)
				out, err := m.run(px)
				if err != nil {
					errs[w] = fmt.Errorf("image %d: %w", i, err)
					return
				}
				if argmax(out) == int(testSet.Labels[i]) {
					correct[w]++
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	acc := float64(correct[0]+correct[1]) / float64(testSet.Len())
	t.Logf("onnx-go accuracy on %d test images: %.4f (model.json: %.4f)", testSet.Len(), acc, info.TestAccuracy)
	if acc < 0.99 {
		t.Errorf("onnx-go accuracy = %.4f, want ≥ 0.99", acc)
	}
	if math.Abs(acc-info.TestAccuracy) > 0.0005 {
		t.Errorf("onnx-go accuracy = %.4f, model.json test_accuracy = %.4f: want them within 0.0005", acc, info.TestAccuracy)
	}
}

// zooMNIST returns the ONNX Model Zoo's mnist-7 model, embedded as a Go
// string literal in the onnx-go module's sources, and the directory holding
// its test data sets.
func zooMNIST(t *testing.T) ([]byte, string) {
	t.Helper()
	dir, err := moduleDir("github.com/owulveryck/onnx-go")
	if err != nil {
		t.Fatal(err)
	}
	dir = filepath.Join(dir, "internal", "examples", "mnist")
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, "mnist_binary.go"), nil, 0)
	if err != nil {
		t.Fatalf("parse mnist_binary.go: %v", err)
	}
	var model []byte
	ast.Inspect(f, func(n ast.Node) bool {
		if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING && model == nil {
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatalf("unquote model literal: %v", err)
			}
			model = []byte(s)
		}
		return model == nil
	})
	if len(model) == 0 {
		t.Fatal("no model literal in mnist_binary.go")
	}
	return model, dir
}

// TestZooMNIST7OnnxGo runs the Model Zoo's mnist-7 in onnx-go on its own
// ONNX test data sets, and on MNIST test images preprocessed the way that
// model expects (raw 0–255 pixel values, not scaled).
func TestZooMNIST7OnnxGo(t *testing.T) {
	raw, dir := zooMNIST(t)
	m := loadOnnxGo(t, raw)
	for _, set := range []string{"test_data_set_0", "test_data_set_1", "test_data_set_2"} {
		t.Run(set, func(t *testing.T) {
			read := func(name string) []float32 {
				b, err := os.ReadFile(filepath.Join(dir, set, name))
				if err != nil {
					t.Fatal(err)
				}
				tn, err := onnxfile.UnmarshalTensor(b)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				v, err := tn.Floats()
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				return v
			}
			in, want := read("input_0.pb"), read("output_0.pb")
			got, err := m.run(in)
			if err != nil {
				t.Fatalf("onnx-go: %v", err)
			}
			// The logits run into the thousands: compare relative to the
			// largest one.
			var scale float64
			for _, v := range want {
				scale = max(scale, math.Abs(float64(v)))
			}
			if d := maxAbsDiff(got, want); d > 2e-6*scale {
				t.Errorf("onnx-go %v, want %v: max abs diff %g, want ≤ %g", got, want, d, 2e-6*scale)
			}
		})
	}

	if testing.Short() {
		return
	}
	_, testSet := mnistForTest(t)
	const n = 1000
	correct := 0
	px := make([]float32, imgPixels)
	for i := 0; i < n; i++ {
		for j, v := range testSet.Images[i*imgPixels : (i+1)*imgPixels] {
			px[j] = float32(v)
		}
		out, err := m.run(px)
		if err != nil {
			t.Fatalf("image %d: %v", i, err)
		}
		if argmax(out) == int(testSet.Labels[i]) {
			correct++
		}
	}
	acc := float64(correct) / n
	t.Logf("mnist-7 through onnx-go, raw 0-255 pixels: accuracy %.3f on the first %d test images", acc, n)
	if acc < 0.97 {
		t.Errorf("mnist-7 accuracy = %.3f on raw pixels, want ≥ 0.97", acc)
	}
}

var mnistOnce struct {
	sync.Once
	train, test *dataset
	err         error
}

// mnistForTest loads MNIST once per test binary.
func mnistForTest(t *testing.T) (trainSet, testSet *dataset) {
	t.Helper()
	mnistOnce.Do(func() {
		dir, err := findMNIST()
		if err != nil {
			mnistOnce.err = err
			return
		}
		mnistOnce.train, mnistOnce.test, mnistOnce.err = loadMNIST(dir)
	})
	if mnistOnce.err != nil {
		t.Fatal(mnistOnce.err)
	}
	return mnistOnce.train, mnistOnce.test
}

// BenchmarkCommittedModelOnnxGo measures one batch-1 inference of the
// committed model through onnx-go, the cost the server pays per prediction.
func BenchmarkCommittedModelOnnxGo(b *testing.B) {
	mb, err := os.ReadFile(filepath.Join(committedDir, "model.onnx"))
	if err != nil {
		b.Fatal(err)
	}
	backend := gorgonnx.NewGraph()
	model := onnx.NewModel(backend)
	if err := safely(func() error { return model.UnmarshalBinary(mb) }); err != nil {
		b.Fatal(err)
	}
	m := &onnxGoModel{backend: backend, model: model}
	px := make([]float32, imgPixels)
	for i := range px {
		px[i] = float32(i%255) / 255
	}
	for b.Loop() {
		if _, err := m.run(px); err != nil {
			b.Fatal(err)
		}
	}
}
