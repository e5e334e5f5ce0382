package cpubackend_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/owulveryck/onnx-go"

	"github.com/taskmind/taskmind/internal/inference/cpubackend"
	"github.com/taskmind/taskmind/internal/inference/internal/onnxtest"
	"github.com/taskmind/taskmind/internal/inference/kernels"
)

// cnn is a small classifier shaped like the built-in model, with input "x".
func cnn(t testing.TB) []byte {
	t.Helper()
	return onnxtest.CNN(4, 8, 16, 7)
}

func close32(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		if d := math.Abs(float64(got[i] - want[i])); !(d <= 1e-4*(1+math.Abs(float64(want[i])))) {
			t.Fatalf("%s: [%d] = %v, want %v", what, i, got[i], want[i])
		}
	}
}

// TestAnyBatchSize runs one plan at several batch sizes, in an order that
// revisits shapes, and checks every image against a batch-1 run.
func TestAnyBatchSize(t *testing.T) {
	model := cnn(t)
	p, err := compile(t, model, 13, nil)
	if err != nil {
		t.Fatal(err)
	}
	inst := p.NewInstance()
	rng := rand.New(rand.NewPCG(1, 2))
	single := func(img []float32) []float32 {
		out, err := p.NewInstance().Run(context.Background(), [][]int{{1, 1, 28, 28}}, [][]float32{img})
		if err != nil {
			t.Fatal(err)
		}
		return slices.Clone(out[0].Data)
	}
	for _, n := range []int{1, 3, 64, 2, 3, 7, 1, 5, 9} {
		x := randoms(rng, n*784)
		out, err := inst.Run(context.Background(), [][]int{{n, 1, 28, 28}}, [][]float32{x})
		if err != nil {
			t.Fatalf("batch %d: %v", n, err)
		}
		if !slices.Equal(out[0].Shape, []int{n, 10}) {
			t.Fatalf("batch %d: output shape %v", n, out[0].Shape)
		}
		got := slices.Clone(out[0].Data)
		for i := range n {
			close32(t, "image", got[i*10:(i+1)*10], single(x[i*784:(i+1)*784]))
		}
	}
}

// TestConcurrentInstances shares one plan between goroutines, each with its
// instance; run with -race.
func TestConcurrentInstances(t *testing.T) {
	p, err := compile(t, cnn(t), 13, nil)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	x := randoms(rng, 4*784)
	ref, err := p.NewInstance().Run(context.Background(), [][]int{{4, 1, 28, 28}}, [][]float32{x})
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(ref[0].Data)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			inst := p.NewInstance()
			for range 20 {
				out, err := inst.Run(context.Background(), [][]int{{4, 1, 28, 28}}, [][]float32{x})
				if err != nil {
					errs <- err
					return
				}
				if !slices.Equal(out[0].Data, want) {
					errs <- errors.New("a concurrent run gave another answer")
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestNoAllocationsPerRun(t *testing.T) {
	for _, set := range kernels.Available() {
		p, err := compile(t, cnn(t), 13, set)
		if err != nil {
			t.Fatal(err)
		}
		inst := p.NewInstance()
		ctx := context.Background()
		for _, n := range []int{1, 64} {
			shapes := [][]int{{n, 1, 28, 28}}
			data := [][]float32{make([]float32, n*784)}
			if _, err := inst.Run(ctx, shapes, data); err != nil {
				t.Fatal(err)
			}
			allocs := testing.AllocsPerRun(20, func() {
				if _, err := inst.Run(ctx, shapes, data); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("%s batch %d: %v allocations per run, want 0", set.Name(), n, allocs)
			}
		}
	}
}

func TestCancelledBetweenSteps(t *testing.T) {
	p, err := compile(t, cnn(t), 13, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = p.NewInstance().Run(ctx, [][]int{{1, 1, 28, 28}}, [][]float32{make([]float32, 784)})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

// TestFusion checks that the plan folds the dense layers' Add and the
// activations into the matrix products.
func TestFusion(t *testing.T) {
	p, err := compile(t, cnn(t), 13, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(p.Operators(), " ")
	for _, want := range []string{"Conv+Relu", "MatMul+Add+Relu", "MatMul+Add"} {
		if !strings.Contains(got, want) {
			t.Errorf("steps %q lack %q", got, want)
		}
	}
	if strings.Contains(got, " Relu") || strings.HasPrefix(got, "Relu") {
		t.Errorf("steps %q keep a separate Relu", got)
	}
}

func TestBadShapeIsAnError(t *testing.T) {
	p, err := compile(t, cnn(t), 13, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.NewInstance().Run(context.Background(), [][]int{{1, 3, 28, 28}}, [][]float32{make([]float32, 3*784)})
	if err == nil {
		t.Fatal("a 3-channel input ran on a 1-channel model")
	}
}

// TestGemmKeepsItsBias runs a Gemm with a bias several times: onnx-go's
// own Gemm adds C into itself on every run; the plan's must not drift.
func TestGemmKeepsItsBias(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	model := single(13, "Gemm", []int64{1, 6}, []int64{1, 4},
		[]onnxtest.Attr{onnxtest.Int("transB", 1), {Name: "alpha", Type: onnxtest.AttrFloat, F: 0.5}},
		onnxtest.FloatTensor("w", []int64{4, 6}, randoms(rng, 24)), onnxtest.FloatTensor("c", []int64{4}, randoms(rng, 4)))
	x := randoms(rng, 6)
	for _, set := range kernels.Available() {
		p, err := compile(t, model, 13, set)
		if err != nil {
			t.Fatal(err)
		}
		inst := p.NewInstance()
		var first []float32
		for run := range 3 {
			out, err := inst.Run(context.Background(), [][]int{{1, 6}}, [][]float32{x})
			if err != nil {
				t.Fatal(err)
			}
			if run == 0 {
				first = slices.Clone(out[0].Data)
				continue
			}
			if !slices.Equal(out[0].Data, first) {
				t.Fatalf("%s: run %d gave %v, the first %v", set.Name(), run, out[0].Data, first)
			}
		}
	}
}

// TestLayoutsWithinBudget varies the batch on one instance: it keeps the
// layouts of earlier shapes only within the plan's arena budget, and still
// answers every shape.
func TestLayoutsWithinBudget(t *testing.T) {
	g := cpubackend.New()
	m := onnx.NewModel(g)
	if err := m.UnmarshalBinary(cnn(t)); err != nil {
		t.Fatal(err)
	}
	probe, err := g.Compile([]string{"input"}, m.Output, cpubackend.Options{Opset: 13})
	if err != nil {
		t.Fatal(err)
	}
	per, err := probe.ArenaSize([][]int{{1, 1, 28, 28}})
	if err != nil {
		t.Fatal(err)
	}
	g = cpubackend.New()
	m = onnx.NewModel(g)
	if err := m.UnmarshalBinary(cnn(t)); err != nil {
		t.Fatal(err)
	}
	// Room for about 10 images of earlier layouts.
	p, err := g.Compile([]string{"input"}, m.Output, cpubackend.Options{Opset: 13, ArenaBudget: 10 * per})
	if err != nil {
		t.Fatal(err)
	}
	inst := p.NewInstance()
	for _, n := range []int{8, 1, 2, 8, 3, 1} {
		if _, err := inst.Run(context.Background(), [][]int{{n, 1, 28, 28}}, [][]float32{make([]float32, n*784)}); err != nil {
			t.Fatalf("batch %d: %v", n, err)
		}
		if kept := inst.ArenaFloats(); kept > max(10*per, n*per+per) {
			t.Errorf("after batch %d the instance keeps %d floats; budget %d", n, kept, 10*per)
		}
	}
	// A batch whose layout alone is over the budget is refused before its
	// arena is allocated, and the instance keeps what it had.
	before := inst.ArenaFloats()
	if _, err := inst.Run(context.Background(), [][]int{{11, 1, 28, 28}}, [][]float32{make([]float32, 11*784)}); !errors.Is(err, cpubackend.ErrShape) || !strings.Contains(err.Error(), "the limit is") {
		t.Errorf("batch 11 over a budget of 10 images: got %v, want ErrShape naming the limit", err)
	}
	if kept := inst.ArenaFloats(); kept != before || kept > 10*per {
		t.Errorf("after the refused batch the instance keeps %d floats (before %d); budget %d", kept, before, 10*per)
	}
}

// TestViewChainAnyBatch runs the Shape → Gather → Unsqueeze → Concat →
// Reshape chain of x.view(x.size(0), -1) at batch 1 and 5 on one instance:
// the target shape is computed per batch, so each batch must give what the
// same head with Flatten gives.
func TestViewChainAnyBatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, opset := range []int64{9, 11, 13} {
		for _, set := range kernels.Available() {
			view, err := compile(t, onnxtest.ViewHead(opset, true), opset, set)
			if err != nil {
				t.Fatalf("opset %d: %v", opset, err)
			}
			flat, err := compile(t, onnxtest.ViewHead(opset, false), opset, set)
			if err != nil {
				t.Fatalf("opset %d: %v", opset, err)
			}
			inst, ref := view.NewInstance(), flat.NewInstance()
			for _, n := range []int{1, 5, 1} {
				x := randoms(rng, n*3*8*8)
				shapes := [][]int{{n, 3, 8, 8}}
				got, err := inst.Run(context.Background(), shapes, [][]float32{x})
				if err != nil {
					t.Fatalf("opset %d, %s, batch %d: %v", opset, set.Name(), n, err)
				}
				want, err := ref.Run(context.Background(), shapes, [][]float32{x})
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got[0].Shape, []int{n, 5}) {
					t.Fatalf("opset %d, %s, batch %d: got shape %v, want [%d 5]", opset, set.Name(), n, got[0].Shape, n)
				}
				if !slices.Equal(got[0].Data, want[0].Data) {
					t.Fatalf("opset %d, %s, batch %d: got %v, want %v (Flatten)", opset, set.Name(), n, got[0].Data, want[0].Data)
				}
			}
			if ops := strings.Join(view.Operators(), " "); !strings.Contains(ops, "Conv Clip") {
				t.Errorf("steps %q: want Clip after Conv, unfused", ops)
			}
		}
	}
}

// TestShapeValueForms reshapes x [N,2,3,4] to targets built from its
// shape in the other ways exporters write them, at batch 1 and 5.
func TestShapeValueForms(t *testing.T) {
	i64 := func(name string, v ...int64) onnxtest.Tensor {
		return onnxtest.Tensor{Name: name, Dims: []int64{int64(len(v))}, DataType: onnxtest.Int64, Int64s: v}
	}
	model := func(opset int64, nodes ...onnxtest.Node) []byte {
		nodes = append([]onnxtest.Node{{Op: "Shape", In: []string{"x"}, Out: []string{"s"}}}, nodes...)
		nodes = append(nodes, onnxtest.Node{Op: "Reshape", In: []string{"x", "target"}, Out: []string{"y"}})
		return onnxtest.Model{Opset: opset, Graph: onnxtest.Graph{
			Nodes: nodes,
			Initializers: []onnxtest.Tensor{i64("rest", -1), i64("zero", 0), i64("minus2", -2), i64("big", 100),
				i64("huge", math.MaxInt64), i64("one", 1), i64("two", 2), i64("last2", 2, 3)},
			Inputs:  []onnxtest.Value{{Name: "x", Elem: onnxtest.Float, Dims: []int64{-1, 2, 3, 4}}},
			Outputs: []onnxtest.Value{{Name: "y", Elem: onnxtest.Float, NoShape: true}},
		}}.Marshal()
	}
	axis0 := []onnxtest.Attr{onnxtest.Int("axis", 0)}
	tests := []struct {
		name  string
		model []byte
		want  func(n int) []int
	}{
		{"Slice of the last two dimensions", model(13,
			onnxtest.Node{Op: "Slice", In: []string{"s", "minus2", "big"}, Out: []string{"hw"}},
			onnxtest.Node{Op: "Concat", In: []string{"rest", "hw"}, Out: []string{"target"}, Attrs: axis0}),
			func(n int) []int { return []int{2 * n, 3, 4} }},
		{"Slice by a huge step", model(13,
			onnxtest.Node{Op: "Slice", In: []string{"s", "zero", "big", "", "huge"}, Out: []string{"b"}},
			onnxtest.Node{Op: "Concat", In: []string{"b", "rest"}, Out: []string{"target"}, Attrs: axis0}),
			func(n int) []int { return []int{n, 24} }},
		{"Slice backwards", model(13,
			onnxtest.Node{Op: "Slice", In: []string{"s", "big", "one", "zero", "rest"}, Out: []string{"wh"}},
			onnxtest.Node{Op: "Concat", In: []string{"rest", "wh"}, Out: []string{"target"}, Attrs: axis0}),
			func(n int) []int { return []int{2 * n, 4, 3} }},
		{"Gather of a vector and Squeeze of Unsqueeze", model(13,
			onnxtest.Node{Op: "Gather", In: []string{"s", "last2"}, Out: []string{"hw"}},
			onnxtest.Node{Op: "Unsqueeze", In: []string{"hw", "zero"}, Out: []string{"u"}},
			onnxtest.Node{Op: "Squeeze", In: []string{"u", "zero"}, Out: []string{"v"}},
			onnxtest.Node{Op: "Concat", In: []string{"rest", "v"}, Out: []string{"target"}, Attrs: axis0}),
			func(n int) []int { return []int{2 * n, 3, 4} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := compile(t, tc.model, 13, nil)
			if err != nil {
				t.Fatal(err)
			}
			inst := p.NewInstance()
			for _, n := range []int{1, 5} {
				x := randoms(rand.New(rand.NewPCG(1, uint64(n))), n*24)
				out, err := inst.Run(context.Background(), [][]int{{n, 2, 3, 4}}, [][]float32{x})
				if err != nil {
					t.Fatalf("batch %d: %v", n, err)
				}
				if want := tc.want(n); !slices.Equal(out[0].Shape, want) || !slices.Equal(out[0].Data, x) {
					t.Fatalf("batch %d: got shape %v, want %v (data kept: %t)", n, out[0].Shape, want, slices.Equal(out[0].Data, x))
				}
			}
		})
	}
}
