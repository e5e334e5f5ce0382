package cpubackend_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/owulveryck/onnx-go"
	"github.com/owulveryck/onnx-go/backend/x/gorgonnx"
	"gorgonia.org/tensor"

	"github.com/taskmind/taskmind/internal/inference/cpubackend"
	"github.com/taskmind/taskmind/internal/inference/internal/onnxtest"
	"github.com/taskmind/taskmind/internal/inference/kernels"
)

// runGorgonnx decodes model onto onnx-go's own backend, feeds x to input
// "x" and returns output 0.
func runGorgonnx(t *testing.T, model []byte, x []float32, shape []int) ([]float32, []int) {
	t.Helper()
	be := gorgonnx.NewGraph()
	m := onnx.NewModel(be)
	if err := m.UnmarshalBinary(model); err != nil {
		t.Fatalf("decode: %v", err)
	}
	n, _ := m.GetNodeByName("x")
	if err := n.(onnx.DataCarrier).SetTensor(tensor.New(tensor.WithShape(shape...), tensor.WithBacking(slices.Clone(x)))); err != nil {
		t.Fatal(err)
	}
	if err := be.Run(); err != nil {
		t.Fatalf("run: %v", err)
	}
	out, err := m.GetOutputTensors()
	if err != nil {
		t.Fatal(err)
	}
	return slices.Clone(out[0].Data().([]float32)), slices.Clone([]int(out[0].Shape()))
}

// compile decodes model and compiles it with input "x" (or input "input"
// where the model has it).
func compile(t testing.TB, model []byte, opset int64, set *kernels.Set) (*cpubackend.Plan, error) {
	t.Helper()
	g := cpubackend.New()
	m := onnx.NewModel(g)
	if err := m.UnmarshalBinary(model); err != nil {
		t.Fatalf("decode: %v", err)
	}
	input := "x"
	if _, ok := m.GetNodeByName("input"); ok {
		input = "input"
	}
	return g.Compile([]string{input}, m.Output, cpubackend.Options{Opset: opset, Kernels: set})
}

// runPlan compiles model and runs it on x.
func runPlan(t *testing.T, model []byte, opset int64, set *kernels.Set, x []float32, shape []int) ([]float32, []int) {
	t.Helper()
	p, err := compile(t, model, opset, set)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	out, err := p.NewInstance().Run(context.Background(), [][]int{shape}, [][]float32{x})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return slices.Clone(out[0].Data), slices.Clone(out[0].Shape)
}

func randoms(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = rng.Float32()*2 - 1
	}
	return v
}

// single builds a one-operator model y = op(x, initializers...).
func single(opset int64, op string, xShape, yShape []int64, attrs []onnxtest.Attr, inits ...onnxtest.Tensor) []byte {
	in := []string{"x"}
	for _, t := range inits {
		in = append(in, t.Name)
	}
	return onnxtest.Model{Opset: opset, Graph: onnxtest.Graph{
		Nodes:        []onnxtest.Node{{Op: op, In: in, Out: []string{"y"}, Attrs: attrs}},
		Initializers: inits,
		Inputs:       []onnxtest.Value{onnxtest.FloatValue("x", xShape...)},
		Outputs:      []onnxtest.Value{onnxtest.FloatValue("y", yShape...)},
	}}.Marshal()
}

// TestOperatorsAgreeWithGorgonnx runs each operator form on both backends;
// gorgonnx is the reference (its results for these forms match ONNX
// Runtime on the MNIST models).
func TestOperatorsAgreeWithGorgonnx(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ints, int1 := onnxtest.Ints, onnxtest.Int
	w := func(name string, dims ...int64) onnxtest.Tensor {
		n := int64(1)
		for _, d := range dims {
			n *= d
		}
		return onnxtest.FloatTensor(name, dims, randoms(rng, int(n)))
	}
	tests := []struct {
		name  string
		model []byte
		x     []int
	}{
		{"Conv 3x3 pad 1 with bias", single(12, "Conv", []int64{1, 3, 7, 9}, []int64{1, 5, 7, 9},
			[]onnxtest.Attr{ints("kernel_shape", 3, 3), ints("pads", 1, 1, 1, 1)}, w("w", 5, 3, 3, 3), w("b", 5)), []int{1, 3, 7, 9}},
		{"Conv 3x3 stride 2", single(12, "Conv", []int64{1, 2, 9, 8}, []int64{1, 4, 4, 3},
			[]onnxtest.Attr{ints("kernel_shape", 3, 3), ints("strides", 2, 2)}, w("w", 4, 2, 3, 3)), []int{1, 2, 9, 8}},
		{"Conv 1x1", single(12, "Conv", []int64{1, 6, 5, 5}, []int64{1, 3, 5, 5},
			[]onnxtest.Attr{ints("kernel_shape", 1, 1)}, w("w", 3, 6, 1, 1), w("b", 3)), []int{1, 6, 5, 5}},
		{"Conv 5x5 SAME_UPPER", single(12, "Conv", []int64{1, 1, 28, 28}, []int64{1, 8, 28, 28},
			[]onnxtest.Attr{ints("kernel_shape", 5, 5), {Name: "auto_pad", Type: onnxtest.AttrString, S: "SAME_UPPER"}}, w("w", 8, 1, 5, 5)), []int{1, 1, 28, 28}},
		{"Conv 32 to 64 channels", single(13, "Conv", []int64{1, 32, 12, 12}, []int64{1, 64, 8, 8},
			[]onnxtest.Attr{ints("kernel_shape", 5, 5), ints("pads", 0, 0, 0, 0), int1("group", 1)}, w("w", 64, 32, 5, 5), w("b", 64)), []int{1, 32, 12, 12}},
		{"MaxPool 2x2 stride 2", single(12, "MaxPool", []int64{1, 3, 8, 6}, []int64{1, 3, 4, 3},
			[]onnxtest.Attr{ints("kernel_shape", 2, 2), ints("strides", 2, 2)}), []int{1, 3, 8, 6}},
		{"MaxPool 2x2 stride 2 on odd sizes", single(12, "MaxPool", []int64{1, 2, 7, 5}, []int64{1, 2, 3, 2},
			[]onnxtest.Attr{ints("kernel_shape", 2, 2), ints("strides", 2, 2)}), []int{1, 2, 7, 5}},
		{"Conv 3x3 stride 1 pad 2", single(12, "Conv", []int64{1, 2, 6, 6}, []int64{1, 3, 8, 8},
			[]onnxtest.Attr{ints("kernel_shape", 3, 3), ints("pads", 2, 2, 2, 2)}, w("w", 3, 2, 3, 3)), []int{1, 2, 6, 6}},
		{"MaxPool 3x3 stride 3", single(12, "MaxPool", []int64{1, 2, 9, 9}, []int64{1, 2, 3, 3},
			[]onnxtest.Attr{ints("kernel_shape", 3, 3), ints("strides", 3, 3), ints("pads", 0, 0, 0, 0)}), []int{1, 2, 9, 9}},
		{"Relu", single(12, "Relu", []int64{1, 40}, []int64{1, 40}, nil), []int{1, 40}},
		{"Add channel bias", single(12, "Add", []int64{1, 4, 3, 3}, []int64{1, 4, 3, 3}, nil, w("b", 4, 1, 1)), []int{1, 4, 3, 3}},
		{"Add same shape", single(12, "Add", []int64{1, 10}, []int64{1, 10}, nil, w("b", 1, 10)), []int{1, 10}},
		{"Mul same shape", single(12, "Mul", []int64{2, 3}, []int64{2, 3}, nil, w("b", 2, 3)), []int{2, 3}},
		{"Sub", single(12, "Sub", []int64{1, 5}, []int64{1, 5}, nil, w("b", 1, 5)), []int{1, 5}},
		{"MatMul 1x20 by 20x37", single(12, "MatMul", []int64{1, 20}, []int64{1, 37}, nil, w("w", 20, 37)), []int{1, 20}},
		{"MatMul 3x33 by 33x48", single(12, "MatMul", []int64{3, 33}, []int64{3, 48}, nil, w("w", 33, 48)), []int{3, 33}},
		{"MatMul 1x1024 by 1024x128", single(13, "MatMul", []int64{1, 1024}, []int64{1, 128}, nil, w("w", 1024, 128)), []int{1, 1024}},
		{"Softmax opset 12", single(12, "Softmax", []int64{1, 10}, []int64{1, 10}, []onnxtest.Attr{int1("axis", 1)}), []int{1, 10}},
		{"Softmax opset 13", single(13, "Softmax", []int64{1, 10}, []int64{1, 10}, nil), []int{1, 10}},
		{"Flatten", single(12, "Flatten", []int64{1, 2, 3, 4}, []int64{1, 24}, []onnxtest.Attr{int1("axis", 1)}), []int{1, 2, 3, 4}},
		{"Reshape with 0 and -1", single(12, "Reshape", []int64{1, 2, 3, 4}, []int64{1, 6, 4}, nil,
			onnxtest.Tensor{Name: "s", Dims: []int64{3}, Int64s: []int64{0, -1, 4}}), []int{1, 2, 3, 4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := 1
			for _, d := range tc.x {
				n *= d
			}
			x := randoms(rng, n)
			want, wantShape := runGorgonnx(t, tc.model, x, tc.x)
			for _, set := range kernels.Available() {
				got, gotShape := runPlan(t, tc.model, 13, set, x, tc.x)
				if !slices.Equal(gotShape, wantShape) {
					t.Fatalf("%s: shape: got %v, want %v (gorgonnx)", set.Name(), gotShape, wantShape)
				}
				for i := range want {
					if d := math.Abs(float64(got[i] - want[i])); d > 1e-4*(1+math.Abs(float64(want[i]))) { // float32 sums in another order
						t.Fatalf("%s: y[%d]: got %v, want %v (gorgonnx)", set.Name(), i, got[i], want[i])
					}
				}
			}
		})
	}
}

// TestSoftmaxOpset13Axis checks the opset-13 definition, which gorgonnx
// does not implement: normalise along axis 1 of a [1,3,2] tensor.
func TestSoftmaxOpset13Axis(t *testing.T) {
	model := single(13, "Softmax", []int64{1, 3, 2}, []int64{1, 3, 2}, []onnxtest.Attr{onnxtest.Int("axis", 1)})
	x := []float32{0, 1, 1, 2, 2, 3} // [c][k]: columns (0,1,2) and (1,2,3)
	got, _ := runPlan(t, model, 13, nil, x, []int{1, 3, 2})
	e0, e1, e2 := math.Exp(0), math.Exp(1), math.Exp(2)
	s := e0 + e1 + e2
	want := []float64{e0 / s, e0 / s, e1 / s, e1 / s, e2 / s, e2 / s}
	for i := range want {
		if math.Abs(float64(got[i])-want[i]) > 1e-6 {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

func TestUnsupportedOperator(t *testing.T) {
	model := single(12, "Abs", []int64{1, 4}, []int64{1, 4}, nil)
	if _, err := compile(t, model, 12, nil); !errors.Is(err, cpubackend.ErrUnsupported) {
		t.Errorf("Compile(Abs): got %v, want ErrUnsupported", err)
	}
}

func TestClip(t *testing.T) {
	x := []float32{-7, -1, 0, 0.5, 3, 6, 9}
	lo := onnxtest.FloatTensor("lo", nil, []float32{-1})
	hi := onnxtest.FloatTensor("hi", nil, []float32{6})
	f := onnxtest.F
	clip := func(opset int64, in []string, attrs []onnxtest.Attr, inits ...onnxtest.Tensor) []byte {
		return onnxtest.Model{Opset: opset, Graph: onnxtest.Graph{
			Nodes:        []onnxtest.Node{{Op: "Clip", In: in, Out: []string{"y"}, Attrs: attrs}},
			Initializers: inits,
			Inputs:       []onnxtest.Value{onnxtest.FloatValue("x", 1, 7)},
			Outputs:      []onnxtest.Value{onnxtest.FloatValue("y", 1, 7)},
		}}.Marshal()
	}
	tests := []struct {
		name  string
		opset int64
		model []byte
		want  []float32
	}{
		{"opset 6 attributes", 6, clip(6, []string{"x"}, []onnxtest.Attr{f("min", 0), f("max", 6)}), []float32{0, 0, 0, 0.5, 3, 6, 6}},
		{"opset 6 max only", 6, clip(6, []string{"x"}, []onnxtest.Attr{f("max", 0.5)}), []float32{-7, -1, 0, 0.5, 0.5, 0.5, 0.5}},
		{"opset 11 min and max", 11, clip(11, []string{"x", "lo", "hi"}, nil, lo, hi), []float32{-1, -1, 0, 0.5, 3, 6, 6}},
		{"opset 13 max only, min left empty", 13, clip(13, []string{"x", "", "hi"}, nil, hi), []float32{-7, -1, 0, 0.5, 3, 6, 6}},
		{"opset 13 min only", 13, clip(13, []string{"x", "lo"}, nil, lo), []float32{-1, -1, 0, 0.5, 3, 6, 9}},
		{"opset 13 no bounds", 13, clip(13, []string{"x"}, nil), x},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := runPlan(t, tc.model, tc.opset, nil, x, []int{1, 7})
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPad(t *testing.T) {
	x := []float32{1, 2, 3, 4, 5, 6} // [2,3]
	pad := func(opset int64, mode string, pads []int64, value *float32) []byte {
		n := onnxtest.Node{Op: "Pad", In: []string{"x"}, Out: []string{"y"}}
		var inits []onnxtest.Tensor
		if mode != "" {
			n.Attrs = append(n.Attrs, onnxtest.Attr{Name: "mode", Type: onnxtest.AttrString, S: mode})
		}
		if opset < 11 {
			n.Attrs = append(n.Attrs, onnxtest.Ints("pads", pads...))
			if value != nil {
				n.Attrs = append(n.Attrs, onnxtest.Attr{Name: "value", Type: onnxtest.AttrFloat, F: *value})
			}
		} else {
			n.In = append(n.In, "pads")
			inits = append(inits, onnxtest.Tensor{Name: "pads", Dims: []int64{int64(len(pads))}, DataType: onnxtest.Int64, Int64s: pads})
			if value != nil {
				n.In = append(n.In, "v")
				inits = append(inits, onnxtest.FloatTensor("v", nil, []float32{*value}))
			}
		}
		return onnxtest.Model{Opset: opset, Graph: onnxtest.Graph{
			Nodes:        []onnxtest.Node{n},
			Initializers: inits,
			Inputs:       []onnxtest.Value{onnxtest.FloatValue("x", 2, 3)},
			Outputs:      []onnxtest.Value{{Name: "y", Elem: onnxtest.Float, NoShape: true}},
		}}.Marshal()
	}
	nine := float32(9)
	tests := []struct {
		name      string
		opset     int64
		model     []byte
		wantShape []int
		want      []float32
	}{
		{"constant opset 11, value 9", 11, pad(11, "constant", []int64{1, 0, 0, 1}, &nine), []int{3, 4},
			[]float32{9, 9, 9, 9, 1, 2, 3, 9, 4, 5, 6, 9}},
		{"constant opset 2 attributes, default mode and value", 10, pad(10, "", []int64{0, 1, 1, 0}, nil), []int{3, 4},
			[]float32{0, 1, 2, 3, 0, 4, 5, 6, 0, 0, 0, 0}},
		{"reflect", 13, pad(13, "reflect", []int64{1, 2, 0, 2}, nil), []int{3, 7},
			[]float32{6, 5, 4, 5, 6, 5, 4, 3, 2, 1, 2, 3, 2, 1, 6, 5, 4, 5, 6, 5, 4}},
		{"edge", 13, pad(13, "edge", []int64{0, 1, 1, 1}, nil), []int{3, 5},
			[]float32{1, 1, 2, 3, 3, 4, 4, 5, 6, 6, 4, 4, 5, 6, 6}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, shape := runPlan(t, tc.model, tc.opset, nil, x, []int{2, 3})
			if !slices.Equal(shape, tc.wantShape) || !slices.Equal(got, tc.want) {
				t.Fatalf("got %v %v, want %v %v", shape, got, tc.wantShape, tc.want)
			}
		})
	}
	if _, err := compile(t, pad(13, "wrap", []int64{0, 1, 0, 1}, nil), 13, nil); !errors.Is(err, cpubackend.ErrUnsupported) {
		t.Errorf("Pad mode wrap: got %v, want ErrUnsupported", err)
	}
}

// TestPoolCeilMode checks ceil_mode's window count and count_include_pad's
// divisor by hand; the reference set checks the same against ONNX Runtime.
func TestPoolCeilMode(t *testing.T) {
	ints, int1 := onnxtest.Ints, onnxtest.Int
	pool := func(op string, side int64, attrs ...onnxtest.Attr) []byte {
		return onnxtest.Model{Opset: 13, Graph: onnxtest.Graph{
			Nodes:   []onnxtest.Node{{Op: op, In: []string{"x"}, Out: []string{"y"}, Attrs: attrs}},
			Inputs:  []onnxtest.Value{onnxtest.FloatValue("x", 1, 1, side, side)},
			Outputs: []onnxtest.Value{{Name: "y", Elem: onnxtest.Float, NoShape: true}},
		}}.Marshal()
	}
	nine := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9} // [3,3]
	ones := slices.Repeat([]float32{1}, 16)      // [4,4]
	// 3x3 windows, strides 2, pads 1 over 4 ones: the windows start at -1, 1
	// and 3, the last running one past the padding. Per axis they hold 2, 3
	// and 1 input elements and 3, 3 and 2 padded positions.
	in, padded := []float32{2, 3, 1}, []float32{3, 3, 2}
	var includeOnes []float32
	for i := range 3 {
		for j := range 3 {
			includeOnes = append(includeOnes, in[i]*in[j]/(padded[i]*padded[j]))
		}
	}
	tests := []struct {
		name      string
		model     []byte
		x         []float32
		wantShape []int
		want      []float32
	}{
		{"MaxPool keeps the partial windows", pool("MaxPool", 3, ints("kernel_shape", 2, 2), ints("strides", 2, 2), int1("ceil_mode", 1)),
			nine, []int{1, 1, 2, 2}, []float32{5, 6, 8, 9}},
		{"AveragePool count_include_pad ignores positions past the input", pool("AveragePool", 3, ints("kernel_shape", 2, 2), ints("strides", 2, 2), int1("ceil_mode", 1), int1("count_include_pad", 1)),
			nine, []int{1, 1, 2, 2}, []float32{3, 4.5, 7.5, 9}},
		{"AveragePool drops a window that would start in the padding", pool("AveragePool", 3, ints("kernel_shape", 2, 2), ints("strides", 2, 2), ints("pads", 1, 1, 1, 1), int1("ceil_mode", 1), int1("count_include_pad", 1)),
			nine, []int{1, 1, 2, 2}, []float32{0.25, 1.25, 2.75, 7}},
		{"AveragePool count_include_pad counts the padding, not past it", pool("AveragePool", 4, ints("kernel_shape", 3, 3), ints("strides", 2, 2), ints("pads", 1, 1, 1, 1), int1("ceil_mode", 1), int1("count_include_pad", 1)),
			ones, []int{1, 1, 3, 3}, includeOnes},
		{"AveragePool without count_include_pad averages the input only", pool("AveragePool", 4, ints("kernel_shape", 3, 3), ints("strides", 2, 2), ints("pads", 1, 1, 1, 1), int1("ceil_mode", 1)),
			ones, []int{1, 1, 3, 3}, slices.Repeat([]float32{1}, 9)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			side := int(math.Sqrt(float64(len(tc.x)))) // every x is square
			for _, set := range kernels.Available() {
				got, shape := runPlan(t, tc.model, 13, set, tc.x, []int{1, 1, side, side})
				if !slices.Equal(shape, tc.wantShape) || !slices.Equal(got, tc.want) {
					t.Fatalf("%s: got %v %v, want %v %v", set.Name(), shape, got, tc.wantShape, tc.want)
				}
			}
		})
	}
	valid := pool("MaxPool", 3, ints("kernel_shape", 2, 2), int1("ceil_mode", 1), onnxtest.S("auto_pad", "VALID"))
	if _, err := compile(t, valid, 13, nil); !errors.Is(err, cpubackend.ErrUnsupported) {
		t.Errorf("ceil_mode with auto_pad VALID: got %v, want ErrUnsupported", err)
	}
	if _, err := compile(t, pool("MaxPool", 3, ints("kernel_shape", 2, 2), int1("ceil_mode", 2)), 13, nil); err == nil {
		t.Errorf("ceil_mode 2: compiled, want an error")
	}
}

// TestShapeValuesOnlyFeedShapes checks that a shape value is refused
// wherever it would be read as data, and Gather where it reads floats.
func TestShapeValuesOnlyFeedShapes(t *testing.T) {
	model := func(nodes ...onnxtest.Node) []byte {
		return onnxtest.Model{Opset: 13, Graph: onnxtest.Graph{
			Nodes: nodes,
			Initializers: []onnxtest.Tensor{
				{Name: "i", Dims: []int64{1}, DataType: onnxtest.Int64, Int64s: []int64{0}},
				onnxtest.FloatTensor("f", []int64{1}, []float32{1}),
			},
			Inputs:  []onnxtest.Value{{Name: "x", Elem: onnxtest.Float, Dims: []int64{-1, 4}}},
			Outputs: []onnxtest.Value{{Name: "y", Elem: onnxtest.Float, NoShape: true}},
		}}.Marshal()
	}
	tests := []struct {
		name  string
		model []byte
	}{
		{"Add of a shape", model(
			onnxtest.Node{Op: "Shape", In: []string{"x"}, Out: []string{"s"}},
			onnxtest.Node{Op: "Add", In: []string{"x", "s"}, Out: []string{"y"}})},
		{"Gather of floats", model(
			onnxtest.Node{Op: "Gather", In: []string{"x", "i"}, Out: []string{"y"}, Attrs: []onnxtest.Attr{onnxtest.Int("axis", 1)}})},
		{"Gather with computed indices", model(
			onnxtest.Node{Op: "Shape", In: []string{"x"}, Out: []string{"s"}},
			onnxtest.Node{Op: "Gather", In: []string{"s", "s"}, Out: []string{"g"}},
			onnxtest.Node{Op: "Reshape", In: []string{"x", "g"}, Out: []string{"y"}})},
		{"Concat of a shape and floats", model(
			onnxtest.Node{Op: "Shape", In: []string{"x"}, Out: []string{"s"}},
			onnxtest.Node{Op: "Concat", In: []string{"s", "f"}, Out: []string{"y"}, Attrs: []onnxtest.Attr{onnxtest.Int("axis", 0)}})},
		{"a shape as the output", model(
			onnxtest.Node{Op: "Shape", In: []string{"x"}, Out: []string{"y"}})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := compile(t, tc.model, 13, nil); !errors.Is(err, cpubackend.ErrUnsupported) {
				t.Errorf("got %v, want ErrUnsupported", err)
			}
		})
	}
}
