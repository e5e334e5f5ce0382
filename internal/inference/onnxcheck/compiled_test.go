package onnxcheck_test

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/taskmind/taskmind/internal/inference/internal/onnxtest"
	"github.com/taskmind/taskmind/internal/inference/onnxcheck"
)

// oneNode is a model of a single node reading the graph input x (shape in)
// and writing y, whose shape is left for Check to infer.
func oneNode(opset int64, in []int64, n onnxtest.Node, inits ...onnxtest.Tensor) []byte {
	if n.Out == nil {
		n.Out = []string{"y"}
	}
	return onnxtest.Model{Opset: opset, Graph: onnxtest.Graph{
		Nodes:        []onnxtest.Node{n},
		Initializers: inits,
		Inputs:       []onnxtest.Value{onnxtest.FloatValue("x", in...)},
		Outputs:      []onnxtest.Value{{Name: "y", Elem: onnxtest.Float}},
	}}.Marshal()
}

func floats(name string, dims ...int64) onnxtest.Tensor {
	n := int64(1)
	for _, d := range dims {
		n *= d
	}
	return onnxtest.FloatTensor(name, dims, make([]float32, n))
}

func int64s(name string, v ...int64) onnxtest.Tensor {
	return onnxtest.Tensor{Name: name, Dims: []int64{int64(len(v))}, DataType: onnxtest.Int64, Int64s: v}
}

func float(name string, v float32) onnxtest.Attr {
	return onnxtest.Attr{Name: name, Type: onnxtest.AttrFloat, F: v}
}

func str(name, v string) onnxtest.Attr {
	return onnxtest.Attr{Name: name, Type: onnxtest.AttrString, S: v}
}

// TestCheckAcceptsCompiledBackendForms checks the operators and forms only
// the compiled backend serves: each is accepted with its inferred shape and
// work, and named in GorgonnxUnsupported.
func TestCheckAcceptsCompiledBackendForms(t *testing.T) {
	k3 := onnxtest.Ints("kernel_shape", 3, 3)
	tests := []struct {
		name      string
		model     []byte
		wantShape []int
		wantWork  int64
		wantGaps  []string
	}{
		{"Gemm with C", oneNode(12, []int64{1, 4},
			onnxtest.Node{Op: "Gemm", In: []string{"x", "W", "C"}},
			floats("W", 4, 3), floats("C", 3)),
			[]int{1, 3}, 12, []string{"Gemm"}},
		{"Gemm transposed, scaled, without C", oneNode(13, []int64{5, 2},
			onnxtest.Node{Op: "Gemm", In: []string{"x", "W"}, Attrs: []onnxtest.Attr{
				onnxtest.Int("transA", 1), onnxtest.Int("transB", 1), float("alpha", 0.5), float("beta", 2),
			}},
			floats("W", 3, 5)),
			[]int{2, 3}, 30, []string{"Gemm"}},
		{"Gemm with C of shape [M,1]", oneNode(11, []int64{2, 4},
			onnxtest.Node{Op: "Gemm", In: []string{"x", "W", "C"}},
			floats("W", 4, 3), floats("C", 2, 1)),
			[]int{2, 3}, 24, []string{"Gemm"}},
		{"AveragePool", oneNode(12, []int64{1, 2, 8, 8},
			onnxtest.Node{Op: "AveragePool", In: []string{"x"}, Attrs: []onnxtest.Attr{
				k3, onnxtest.Ints("strides", 2, 2), onnxtest.Ints("pads", 1, 1, 1, 1), onnxtest.Int("count_include_pad", 1),
			}}),
			[]int{1, 2, 4, 4}, 2 * 4 * 4 * 9, []string{"AveragePool"}},
		{"AveragePool with unequal pads", oneNode(12, []int64{1, 2, 7, 7},
			onnxtest.Node{Op: "AveragePool", In: []string{"x"}, Attrs: []onnxtest.Attr{
				onnxtest.Ints("kernel_shape", 2, 2), onnxtest.Ints("strides", 2, 2), onnxtest.Ints("pads", 0, 0, 1, 1),
			}}),
			[]int{1, 2, 4, 4}, 2 * 4 * 4 * 4, []string{"AveragePool"}},
		{"AveragePool SAME_LOWER", oneNode(12, []int64{1, 1, 7, 5},
			onnxtest.Node{Op: "AveragePool", In: []string{"x"}, Attrs: []onnxtest.Attr{
				k3, onnxtest.Ints("strides", 2, 2), str("auto_pad", "SAME_LOWER"),
			}}),
			[]int{1, 1, 4, 3}, 4 * 3 * 9, []string{"AveragePool"}},
		{"Squeeze with axes from an initializer", oneNode(13, []int64{1, 4, 1},
			onnxtest.Node{Op: "Squeeze", In: []string{"x", "axes"}},
			int64s("axes", -1)),
			[]int{1, 4}, 0, []string{"Squeeze at opset 13 or later"}},
		{"Squeeze without axes at opset 13", oneNode(13, []int64{1, 4, 1},
			onnxtest.Node{Op: "Squeeze", In: []string{"x"}}),
			[]int{4}, 0, []string{"Squeeze at opset 13 or later"}},
		{"Unsqueeze with axes from an initializer", oneNode(17, []int64{1, 4},
			onnxtest.Node{Op: "Unsqueeze", In: []string{"x", "axes"}},
			int64s("axes", 0, -1)),
			[]int{1, 1, 4, 1}, 0, []string{"Unsqueeze at opset 13 or later"}},
		{"Unsqueeze with axes from a Constant", onnxtest.Model{Opset: 13, Graph: onnxtest.Graph{
			Nodes: []onnxtest.Node{
				{Op: "Constant", Out: []string{"axes"}, Attrs: []onnxtest.Attr{{Name: "value", Type: onnxtest.AttrTensor, T: &onnxtest.Tensor{Dims: []int64{1}, DataType: onnxtest.Int64, Int64s: []int64{1}}}}},
				{Op: "Unsqueeze", In: []string{"x", "axes"}, Out: []string{"y"}},
			},
			Inputs:  []onnxtest.Value{onnxtest.FloatValue("x", 1, 4)},
			Outputs: []onnxtest.Value{{Name: "y", Elem: onnxtest.Float}},
		}}.Marshal(),
			[]int{1, 1, 4}, 0, []string{"Unsqueeze at opset 13 or later"}},
		{"Squeeze with the axes attribute at opset 12", oneNode(12, []int64{1, 4, 1},
			onnxtest.Node{Op: "Squeeze", In: []string{"x"}, Attrs: []onnxtest.Attr{onnxtest.Ints("axes", 2)}}),
			[]int{1, 4}, 0, nil},
		{"Dropout with ratio and an unused mask", oneNode(12, []int64{1, 4},
			onnxtest.Node{Op: "Dropout", In: []string{"x", "ratio"}, Out: []string{"y", "mask"}},
			onnxtest.FloatTensor("ratio", nil, []float32{0.5})),
			[]int{1, 4}, 0, []string{"Dropout with a mask output", "Dropout with ratio or training_mode"}},
		{"Dropout with the ratio attribute", oneNode(10, []int64{1, 4},
			onnxtest.Node{Op: "Dropout", In: []string{"x"}, Attrs: []onnxtest.Attr{float("ratio", 0.5)}}),
			[]int{1, 4}, 0, nil},
		{"Softmax at opset 13 over a middle axis", oneNode(13, []int64{1, 3, 2},
			onnxtest.Node{Op: "Softmax", In: []string{"x"}, Attrs: []onnxtest.Attr{onnxtest.Int("axis", 1)}}),
			[]int{1, 3, 2}, 0, []string{"Softmax at opset 13 over an axis other than the last"}},
		{"Softmax at opset 13 over the last axis", oneNode(13, []int64{1, 3, 2},
			onnxtest.Node{Op: "Softmax", In: []string{"x"}, Attrs: []onnxtest.Attr{onnxtest.Int("axis", -1)}}),
			[]int{1, 3, 2}, 0, nil},
		{"Softmax at opset 13 by default on rank 3", oneNode(13, []int64{1, 3, 2},
			onnxtest.Node{Op: "Softmax", In: []string{"x"}}),
			[]int{1, 3, 2}, 0, []string{"Softmax at opset 13 over an axis other than the last"}},
		{"Softmax at opset 13 by default on rank 2", oneNode(13, []int64{1, 3},
			onnxtest.Node{Op: "Softmax", In: []string{"x"}}),
			[]int{1, 3}, 0, nil},
		{"depthwise Conv", oneNode(12, []int64{1, 2, 8, 8},
			onnxtest.Node{Op: "Conv", In: []string{"x", "w"}, Attrs: []onnxtest.Attr{k3, onnxtest.Int("group", 2)}},
			floats("w", 2, 1, 3, 3)),
			[]int{1, 2, 6, 6}, 2 * 6 * 6 * 9, []string{"Conv with group"}},
		{"Conv with unequal pads", oneNode(12, []int64{1, 2, 8, 8},
			onnxtest.Node{Op: "Conv", In: []string{"x", "w"}, Attrs: []onnxtest.Attr{k3, onnxtest.Ints("pads", 1, 1, 2, 2)}},
			floats("w", 2, 2, 3, 3)),
			[]int{1, 2, 9, 9}, 2 * 9 * 9 * 2 * 9, []string{"Conv with unequal pads"}},
		{"MaxPool SAME_LOWER", oneNode(12, []int64{1, 1, 5, 5},
			onnxtest.Node{Op: "MaxPool", In: []string{"x"}, Attrs: []onnxtest.Attr{k3, onnxtest.Ints("strides", 2, 2), str("auto_pad", "SAME_LOWER")}}),
			[]int{1, 1, 3, 3}, 3 * 3 * 9, []string{"MaxPool with auto_pad SAME_LOWER"}},
		// ceil_mode: 8 = 3 + 2·2 + 1 leaves a partial window on each axis,
		// kept. With 3x3 windows, strides 3 and pads 1, ceil adds a window
		// starting at padded row 9 of 11 (input row 8, kept) and at padded
		// column 9 of 10 (the trailing padding, dropped).
		{"MaxPool ceil_mode keeps a partial window", oneNode(12, []int64{1, 2, 8, 8},
			onnxtest.Node{Op: "MaxPool", In: []string{"x"}, Attrs: []onnxtest.Attr{k3, onnxtest.Ints("strides", 2, 2), onnxtest.Int("ceil_mode", 1)}}),
			[]int{1, 2, 4, 4}, 2 * 4 * 4 * 9, []string{"MaxPool with ceil_mode"}},
		{"MaxPool ceil_mode drops a window in the padding", oneNode(12, []int64{1, 1, 9, 8},
			onnxtest.Node{Op: "MaxPool", In: []string{"x"}, Attrs: []onnxtest.Attr{k3, onnxtest.Ints("strides", 3, 3), onnxtest.Ints("pads", 1, 1, 1, 1), onnxtest.Int("ceil_mode", 1)}}),
			[]int{1, 1, 4, 3}, 4 * 3 * 9, []string{"MaxPool with ceil_mode"}},
		{"MaxPool ceil_mode 0", oneNode(12, []int64{1, 2, 8, 8},
			onnxtest.Node{Op: "MaxPool", In: []string{"x"}, Attrs: []onnxtest.Attr{k3, onnxtest.Ints("strides", 2, 2), onnxtest.Int("ceil_mode", 0)}}),
			[]int{1, 2, 3, 3}, 2 * 3 * 3 * 9, nil},
		{"AveragePool ceil_mode with pads", oneNode(12, []int64{1, 2, 8, 7},
			onnxtest.Node{Op: "AveragePool", In: []string{"x"}, Attrs: []onnxtest.Attr{k3, onnxtest.Ints("strides", 2, 3), onnxtest.Ints("pads", 1, 0, 1, 0), onnxtest.Int("ceil_mode", 1), onnxtest.Int("count_include_pad", 1)}}),
			[]int{1, 2, 5, 3}, 2 * 5 * 3 * 9, []string{"AveragePool"}},
		{"x.view(x.size(0), -1) and Clip inputs at opset 13", onnxtest.ViewHead(13, true),
			[]int{1, 5}, 4*8*8*3*9 + 5*4, []string{"Clip", "Gather", "Gemm", "Shape", "Unsqueeze at opset 13 or later"}},
		{"x.view(x.size(0), -1) and Clip attributes at opset 9", onnxtest.ViewHead(9, true),
			[]int{1, 5}, 4*8*8*3*9 + 5*4, []string{"Clip", "Gather", "Gemm", "Shape"}},
		{"Slice of a shape into Reshape's target", onnxtest.Model{Opset: 13, Graph: onnxtest.Graph{
			Nodes: []onnxtest.Node{
				{Op: "Shape", In: []string{"x"}, Out: []string{"s"}},
				{Op: "Slice", In: []string{"s", "start", "end", "", "step"}, Out: []string{"hw"}},
				{Op: "Concat", In: []string{"rest", "hw"}, Out: []string{"target"}, Attrs: []onnxtest.Attr{onnxtest.Int("axis", 0)}},
				{Op: "Reshape", In: []string{"x", "target"}, Out: []string{"y"}},
			},
			Initializers: []onnxtest.Tensor{int64s("start", -2), int64s("end", 100), int64s("step", 1), int64s("rest", -1)},
			Inputs:       []onnxtest.Value{{Name: "x", Elem: onnxtest.Float, Dims: []int64{-1, 2, 3, 4}}},
			Outputs:      []onnxtest.Value{{Name: "y", Elem: onnxtest.Float}},
		}}.Marshal(),
			[]int{2, 3, 4}, 0, []string{"Shape", "Slice"}},
		{"Slice of a shape by a huge step", onnxtest.Model{Opset: 13, Graph: onnxtest.Graph{
			Nodes: []onnxtest.Node{
				{Op: "Shape", In: []string{"x"}, Out: []string{"s"}},
				{Op: "Slice", In: []string{"s", "start", "end", "", "step"}, Out: []string{"n"}},
				{Op: "Concat", In: []string{"n", "rest"}, Out: []string{"target"}, Attrs: []onnxtest.Attr{onnxtest.Int("axis", 0)}},
				{Op: "Reshape", In: []string{"x", "target"}, Out: []string{"y"}},
			},
			Initializers: []onnxtest.Tensor{int64s("start", 0), int64s("end", 100), int64s("step", math.MaxInt64), int64s("rest", -1)},
			Inputs:       []onnxtest.Value{{Name: "x", Elem: onnxtest.Float, Dims: []int64{-1, 2, 3, 4}}},
			Outputs:      []onnxtest.Value{{Name: "y", Elem: onnxtest.Float}},
		}}.Marshal(),
			[]int{1, 24}, 0, []string{"Shape", "Slice"}},
		{"Clip with min left empty", oneNode(13, []int64{1, 4},
			onnxtest.Node{Op: "Clip", In: []string{"x", "", "hi"}},
			onnxtest.FloatTensor("hi", nil, []float32{6})),
			[]int{1, 4}, 0, []string{"Clip"}},
		{"Pad constant with a value input", oneNode(11, []int64{1, 2, 5},
			onnxtest.Node{Op: "Pad", In: []string{"x", "pads", "v"}},
			int64s("pads", 0, 1, 2, 0, 0, 3), onnxtest.FloatTensor("v", nil, []float32{1})),
			[]int{1, 3, 10}, 0, []string{"Pad"}},
		{"Pad reflect by attributes at opset 10", oneNode(10, []int64{1, 2, 3, 4},
			onnxtest.Node{Op: "Pad", In: []string{"x"}, Attrs: []onnxtest.Attr{str("mode", "reflect"), onnxtest.Ints("pads", 0, 0, 2, 3, 0, 0, 2, 3)}}),
			[]int{1, 2, 7, 10}, 0, []string{"Pad"}},
		{"Pad edge without a value", oneNode(13, []int64{1, 2, 3, 4},
			onnxtest.Node{Op: "Pad", In: []string{"x", "pads"}, Attrs: []onnxtest.Attr{str("mode", "edge")}},
			int64s("pads", 0, 0, 5, 5, 0, 0, 5, 5)),
			[]int{1, 2, 13, 14}, 0, []string{"Pad"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := onnxcheck.Check(tc.model, onnxcheck.Limits{})
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if got := r.Outputs[0].Shape; !slices.Equal(got, tc.wantShape) {
				t.Errorf("output shape: got %v, want %v", got, tc.wantShape)
			}
			if r.MultiplyAdds != tc.wantWork {
				t.Errorf("multiply-adds: got %d, want %d", r.MultiplyAdds, tc.wantWork)
			}
			if !slices.Equal(r.GorgonnxUnsupported, tc.wantGaps) {
				t.Errorf("GorgonnxUnsupported: got %q, want %q", r.GorgonnxUnsupported, tc.wantGaps)
			}
			if err := r.GorgonnxError(); (err != nil) != (len(tc.wantGaps) > 0) {
				t.Errorf("GorgonnxError: got %v, want an error: %t", err, len(tc.wantGaps) > 0)
			}
		})
	}
}

func TestCheckRefusesCompiledBackendForms(t *testing.T) {
	k3 := onnxtest.Ints("kernel_shape", 3, 3)
	gemm := func(opset int64, in []int64, w, c []int64, attrs ...onnxtest.Attr) []byte {
		n := onnxtest.Node{Op: "Gemm", In: []string{"x", "W"}, Attrs: attrs}
		inits := []onnxtest.Tensor{floats("W", w...)}
		if c != nil {
			n.In = append(n.In, "C")
			inits = append(inits, floats("C", c...))
		}
		return oneNode(opset, in, n, inits...)
	}
	pool := func(attrs ...onnxtest.Attr) []byte {
		return oneNode(12, []int64{1, 2, 8, 8}, onnxtest.Node{Op: "AveragePool", In: []string{"x"}, Attrs: append([]onnxtest.Attr{k3}, attrs...)})
	}
	tests := []struct {
		name  string
		model []byte
		want  string // a substring of the error
	}{
		{"Gemm inner dimensions", gemm(12, []int64{1, 4}, []int64{3, 4}, nil),
			"Gemm of [1,4] and [3,4] (transA false, transB false): inner dimensions 4 and 3 differ"},
		{"Gemm transB mismatch", gemm(12, []int64{1, 4}, []int64{4, 3}, nil, onnxtest.Int("transB", 1)),
			"inner dimensions 4 and 3 differ"},
		{"Gemm C of the wrong shape", gemm(12, []int64{1, 4}, []int64{4, 3}, []int64{2}),
			"Gemm's C of shape [2] does not broadcast to [1,3]"},
		{"Gemm C of rank 3", gemm(12, []int64{1, 4}, []int64{4, 3}, []int64{1, 1, 3}),
			"Gemm's C of shape [1,1,3] does not broadcast to [1,3]"},
		{"Gemm of a 3-D A", gemm(12, []int64{1, 2, 4}, []int64{4, 3}, nil),
			"Gemm needs 2-D A and B, got [1,2,4] and [4,3]"},
		{"Gemm without C before opset 11", gemm(10, []int64{1, 4}, []int64{4, 3}, nil),
			"Gemm before opset 11 needs its C input"},
		{"Gemm transA of type FLOAT", gemm(12, []int64{1, 4}, []int64{4, 3}, nil, float("transA", 1)),
			`attribute "transA" has type FLOAT; want INT`},
		{"Gemm alpha of type INT", gemm(12, []int64{1, 4}, []int64{4, 3}, nil, onnxtest.Int("alpha", 2)),
			`attribute "alpha" has type INT; want FLOAT`},
		{"Gemm beta of type INTS", gemm(12, []int64{1, 4}, []int64{4, 3}, nil, onnxtest.Ints("beta", 2)),
			`attribute "beta" has type INTS; want FLOAT`},
		{"AveragePool count_include_pad of type FLOAT", pool(float("count_include_pad", 1)),
			`attribute "count_include_pad" has type FLOAT; want INT`},
		{"AveragePool kernel_shape of type INT", oneNode(12, []int64{1, 2, 8, 8}, onnxtest.Node{Op: "AveragePool", In: []string{"x"}, Attrs: []onnxtest.Attr{onnxtest.Int("kernel_shape", 3)}}),
			`attribute "kernel_shape" has type INT; want INTS`},
		{"AveragePool auto_pad of type INT", pool(onnxtest.Int("auto_pad", 1)),
			`attribute "auto_pad" has type INT; want STRING`},
		{"AveragePool ceil_mode 2", pool(onnxtest.Int("ceil_mode", 2)), "AveragePool ceil_mode 2 is neither 0 nor 1"},
		{"AveragePool ceil_mode with auto_pad VALID", pool(onnxtest.Int("ceil_mode", 1), str("auto_pad", "VALID")),
			"AveragePool with ceil_mode and auto_pad VALID is not supported"},
		{"MaxPool ceil_mode with auto_pad SAME_UPPER", oneNode(12, []int64{1, 2, 8, 8}, onnxtest.Node{Op: "MaxPool", In: []string{"x"}, Attrs: []onnxtest.Attr{k3, onnxtest.Int("ceil_mode", 1), str("auto_pad", "SAME_UPPER")}}),
			"MaxPool with ceil_mode and auto_pad SAME_UPPER is not supported"},
		{"MaxPool ceil_mode of type FLOAT", oneNode(12, []int64{1, 2, 8, 8}, onnxtest.Node{Op: "MaxPool", In: []string{"x"}, Attrs: []onnxtest.Attr{k3, float("ceil_mode", 1)}}),
			`attribute "ceil_mode" has type FLOAT; want INT`},
		{"AveragePool dilations", pool(onnxtest.Ints("dilations", 2, 2)), "AveragePool with dilations is not supported"},
		{"AveragePool of a 2-D input", oneNode(12, []int64{8, 8}, onnxtest.Node{Op: "AveragePool", In: []string{"x"}, Attrs: []onnxtest.Attr{k3}}),
			"AveragePool needs a 4-D input, got [8,8]"},
		{"AveragePool window larger than the input", oneNode(12, []int64{1, 2, 8, 8}, onnxtest.Node{Op: "AveragePool", In: []string{"x"}, Attrs: []onnxtest.Attr{onnxtest.Ints("kernel_shape", 9, 9)}}),
			"a 9x9 window does not fit a 8x8 input"},
		{"Squeeze axes of type INT", oneNode(12, []int64{1, 4}, onnxtest.Node{Op: "Squeeze", In: []string{"x"}, Attrs: []onnxtest.Attr{onnxtest.Int("axes", 0)}}),
			`attribute "axes" has type INT; want INTS`},
		{"Squeeze axes computed at run time", onnxtest.Model{Opset: 13, Graph: onnxtest.Graph{
			Nodes: []onnxtest.Node{
				{Op: "Relu", In: []string{"a"}, Out: []string{"axes"}},
				{Op: "Squeeze", In: []string{"x", "axes"}, Out: []string{"y"}},
			},
			Inputs:  []onnxtest.Value{onnxtest.FloatValue("x", 1, 4), onnxtest.FloatValue("a", 1)},
			Outputs: []onnxtest.Value{{Name: "y", Elem: onnxtest.Float}},
		}}.Marshal(), `Squeeze's axes "axes" must be a small INT64 initializer or constant`},
		{"Unsqueeze axes from a graph input", onnxtest.Model{Opset: 13, Graph: onnxtest.Graph{
			Nodes:   []onnxtest.Node{{Op: "Unsqueeze", In: []string{"x", "a"}, Out: []string{"y"}}},
			Inputs:  []onnxtest.Value{onnxtest.FloatValue("x", 1, 4), onnxtest.FloatValue("a", 1)},
			Outputs: []onnxtest.Value{{Name: "y", Elem: onnxtest.Float}},
		}}.Marshal(), `Unsqueeze's axes "a" must be a small INT64 initializer or constant`},
		{"Squeeze axes of FLOAT values", oneNode(13, []int64{1, 4}, onnxtest.Node{Op: "Squeeze", In: []string{"x", "axes"}}, floats("axes", 1)),
			`Squeeze's axes "axes" must be a small INT64 initializer or constant`},
		{"Squeeze axes attribute at opset 13", oneNode(13, []int64{1, 4}, onnxtest.Node{Op: "Squeeze", In: []string{"x"}, Attrs: []onnxtest.Attr{onnxtest.Ints("axes", 0)}}),
			"from opset 13 Squeeze takes its axes as a second input, not an attribute"},
		{"Squeeze axes input at opset 12", oneNode(12, []int64{1, 4}, onnxtest.Node{Op: "Squeeze", In: []string{"x", "axes"}}, int64s("axes", 0)),
			"before opset 13 Squeeze takes its axes as an attribute, not an input"},
		{"Unsqueeze without axes at opset 13", oneNode(13, []int64{1, 4}, onnxtest.Node{Op: "Unsqueeze", In: []string{"x"}}),
			"has no axes input"},
		{"Squeeze of a dimension that is not 1", oneNode(13, []int64{1, 4}, onnxtest.Node{Op: "Squeeze", In: []string{"x", "axes"}}, int64s("axes", 1)),
			"Squeeze of dimension 1, which is 4, not 1"},
		{"Unsqueeze axes that repeat", oneNode(13, []int64{1, 4}, onnxtest.Node{Op: "Unsqueeze", In: []string{"x", "axes"}}, int64s("axes", 0, -4)),
			"Unsqueeze axes [0 -4] repeat"},
		{"Dropout ratio of type INT", oneNode(10, []int64{1, 4}, onnxtest.Node{Op: "Dropout", In: []string{"x"}, Attrs: []onnxtest.Attr{onnxtest.Int("ratio", 0)}}),
			`attribute "ratio" has type INT; want FLOAT`},
		{"Dropout ratio input before opset 12", oneNode(11, []int64{1, 4}, onnxtest.Node{Op: "Dropout", In: []string{"x", "ratio"}}, onnxtest.FloatTensor("ratio", nil, []float32{0.5})),
			"before opset 12 Dropout takes one input"},
		{"Dropout ratio that is not a scalar", oneNode(12, []int64{1, 4}, onnxtest.Node{Op: "Dropout", In: []string{"x", "ratio"}}, floats("ratio", 2)),
			`Dropout's ratio "ratio" has shape [2]; want a scalar`},
		{"Dropout with four inputs", oneNode(12, []int64{1, 4}, onnxtest.Node{Op: "Dropout", In: []string{"x", "x", "x", "x"}}),
			"has 4 inputs; Dropout takes 1 to 3"},
		{"Dropout mask used", onnxtest.Model{Opset: 12, Graph: onnxtest.Graph{
			Nodes: []onnxtest.Node{
				{Op: "Dropout", In: []string{"x"}, Out: []string{"d", "mask"}},
				{Op: "Add", In: []string{"d", "mask"}, Out: []string{"y"}},
			},
			Inputs:  []onnxtest.Value{onnxtest.FloatValue("x", 1, 4)},
			Outputs: []onnxtest.Value{{Name: "y", Elem: onnxtest.Float}},
		}}.Marshal(), `its mask output "mask" is used`},
		{"Dropout mask as a graph output", onnxtest.Model{Opset: 12, Graph: onnxtest.Graph{
			Nodes:   []onnxtest.Node{{Op: "Dropout", In: []string{"x"}, Out: []string{"y", "mask"}}},
			Inputs:  []onnxtest.Value{onnxtest.FloatValue("x", 1, 4)},
			Outputs: []onnxtest.Value{{Name: "y", Elem: onnxtest.Float}, {Name: "mask", Elem: onnxtest.Float}},
		}}.Marshal(), `its mask output "mask" is used`},
		{"Relu with two outputs", oneNode(12, []int64{1, 4}, onnxtest.Node{Op: "Relu", In: []string{"x"}, Out: []string{"y", "z"}}),
			"has 2 outputs; only single-output Relu is supported"},
		{"Conv group that does not divide the channels", oneNode(12, []int64{1, 3, 8, 8},
			onnxtest.Node{Op: "Conv", In: []string{"x", "w"}, Attrs: []onnxtest.Attr{k3, onnxtest.Int("group", 2)}}, floats("w", 2, 1, 3, 3)),
			"Conv weights [2,1,3,3] do not match the input's 3 channels in 2 groups"},
		{"Conv output channels that do not split into groups", oneNode(12, []int64{1, 2, 8, 8},
			onnxtest.Node{Op: "Conv", In: []string{"x", "w"}, Attrs: []onnxtest.Attr{k3, onnxtest.Int("group", 2)}}, floats("w", 3, 1, 3, 3)),
			"Conv's 3 output channels do not split into 2 groups"},
		{"Conv group 0", oneNode(12, []int64{1, 2, 8, 8},
			onnxtest.Node{Op: "Conv", In: []string{"x", "w"}, Attrs: []onnxtest.Attr{k3, onnxtest.Int("group", 0)}}, floats("w", 2, 2, 3, 3)),
			"Conv group 0 is out of range"},
		{"Conv negative pads", oneNode(12, []int64{1, 2, 8, 8},
			onnxtest.Node{Op: "Conv", In: []string{"x", "w"}, Attrs: []onnxtest.Attr{k3, onnxtest.Ints("pads", 0, 0, -1, 0)}}, floats("w", 2, 2, 3, 3)),
			"padding -1 is out of range"},
		{"auto_pad SAME_MIDDLE", pool(str("auto_pad", "SAME_MIDDLE")), "auto_pad SAME_MIDDLE is not supported"},
		{"Gather of float data", oneNode(13, []int64{1, 4},
			onnxtest.Node{Op: "Gather", In: []string{"x", "i"}}, int64s("i", 0)),
			`Gather's data "x" must be INT64`},
		{"Gather with run-time indices", shapeChain(onnxtest.Node{Op: "Gather", In: []string{"s", "s"}, Out: []string{"g"}},
			onnxtest.Node{Op: "Reshape", In: []string{"x", "g"}, Out: []string{"y"}}),
			`Gather reads "s", a shape computed at run time`},
		{"Gather with indices from a graph input", oneNode(13, []int64{1, 4},
			onnxtest.Node{Op: "Gather", In: []string{"i", "x"}}, int64s("i", 0)),
			`Gather's indices "x" must be INT64`},
		{"Gather along axis 1", oneNode(13, []int64{1, 4},
			onnxtest.Node{Op: "Gather", In: []string{"i", "j"}, Attrs: []onnxtest.Attr{onnxtest.Int("axis", 1)}}, int64s("i", 0), int64s("j", 0)),
			"Gather along axis 1"},
		{"Gather index out of range", oneNode(13, []int64{1, 4},
			onnxtest.Node{Op: "Gather", In: []string{"i", "j"}}, int64s("i", 0), int64s("j", 1)),
			"Gather index 1 is out of range for 1 values"},
		{"Add of a shape", shapeChain(onnxtest.Node{Op: "Add", In: []string{"x", "s"}, Out: []string{"y"}}),
			`Add reads "s", a shape computed at run time`},
		{"a shape as the output", shapeChain(onnxtest.Node{Op: "Identity", In: []string{"x"}, Out: []string{"y"}}, onnxtest.Node{Op: "Unsqueeze", In: []string{"s", "ax"}, Out: []string{"u"}}, onnxtest.Node{Op: "Squeeze", In: []string{"u", "ax"}, Out: []string{"out"}}),
			`output "out" is an INT64 shape computed by Shape`},
		{"Shape start of type FLOAT", oneNode(15, []int64{1, 4}, onnxtest.Node{Op: "Shape", In: []string{"x"}, Attrs: []onnxtest.Attr{float("start", 1)}}),
			`attribute "start" has type FLOAT; want INT`},
		{"Slice before opset 10", oneNode(9, []int64{1, 4},
			onnxtest.Node{Op: "Slice", In: []string{"x"}, Attrs: []onnxtest.Attr{onnxtest.Ints("starts", 0), onnxtest.Ints("ends", 1)}}),
			"Slice before opset 10"},
		{"Slice of float data", oneNode(13, []int64{1, 4},
			onnxtest.Node{Op: "Slice", In: []string{"x", "a", "b"}}, int64s("a", 0), int64s("b", 1)),
			`Slice's data "x" must be INT64`},
		{"Slice along axis 1", shapeChain(onnxtest.Node{Op: "Slice", In: []string{"s", "ax", "ax", "ax"}, Out: []string{"t"}},
			onnxtest.Node{Op: "Reshape", In: []string{"x", "t"}, Out: []string{"y"}}),
			"Slice along axis 1 of a 1-D shape"},
		{"Slice without starts", shapeChain(onnxtest.Node{Op: "Slice", In: []string{"s", "", "ax"}, Out: []string{"t"}},
			onnxtest.Node{Op: "Reshape", In: []string{"x", "t"}, Out: []string{"y"}}),
			"Slice needs its starts and ends"},
		{"Clip bounds as attributes at opset 11", oneNode(11, []int64{1, 4},
			onnxtest.Node{Op: "Clip", In: []string{"x"}, Attrs: []onnxtest.Attr{float("min", 0)}}),
			"from opset 11 Clip takes its bounds as inputs, not attributes"},
		{"Clip bounds as inputs at opset 10", oneNode(10, []int64{1, 4},
			onnxtest.Node{Op: "Clip", In: []string{"x", "lo"}}, onnxtest.FloatTensor("lo", nil, []float32{0})),
			"before opset 11 Clip takes its bounds as attributes, not inputs"},
		{"Clip min of type INT", oneNode(10, []int64{1, 4},
			onnxtest.Node{Op: "Clip", In: []string{"x"}, Attrs: []onnxtest.Attr{onnxtest.Int("min", 0)}}),
			`attribute "min" has type INT; want FLOAT`},
		{"Clip bound computed at run time", onnxtest.Model{Opset: 13, Graph: onnxtest.Graph{
			Nodes:   []onnxtest.Node{{Op: "Clip", In: []string{"x", "a"}, Out: []string{"y"}}},
			Inputs:  []onnxtest.Value{onnxtest.FloatValue("x", 1, 4), onnxtest.FloatValue("a")},
			Outputs: []onnxtest.Value{{Name: "y", Elem: onnxtest.Float}},
		}}.Marshal(), `Clip's bound "a" must be an initializer or constant`},
		{"Clip bound of two values", oneNode(13, []int64{1, 4},
			onnxtest.Node{Op: "Clip", In: []string{"x", "lo"}}, floats("lo", 2)),
			`Clip's bound "lo" has shape [2]; want a scalar`},
		{"Pad mode wrap", oneNode(13, []int64{1, 4},
			onnxtest.Node{Op: "Pad", In: []string{"x", "p"}, Attrs: []onnxtest.Attr{str("mode", "wrap")}}, int64s("p", 0, 1, 0, 1)),
			`Pad mode "wrap" is not supported; use constant, reflect or edge`},
		{"Pad mode of type INT", oneNode(13, []int64{1, 4},
			onnxtest.Node{Op: "Pad", In: []string{"x", "p"}, Attrs: []onnxtest.Attr{onnxtest.Int("mode", 0)}}, int64s("p", 0, 1, 0, 1)),
			`attribute "mode" has type INT; want STRING`},
		{"Pad negative pads", oneNode(13, []int64{1, 4},
			onnxtest.Node{Op: "Pad", In: []string{"x", "p"}}, int64s("p", 0, -1, 0, 1)),
			"Pad with negative pads [0 -1 0 1] (cropping) is not supported"},
		{"Pad reflect as far as the axis", oneNode(13, []int64{1, 4},
			onnxtest.Node{Op: "Pad", In: []string{"x", "p"}, Attrs: []onnxtest.Attr{str("mode", "reflect")}}, int64s("p", 0, 4, 0, 0)),
			"reflect pads must be smaller than the axis"},
		{"Pad pads for another rank", oneNode(13, []int64{1, 4},
			onnxtest.Node{Op: "Pad", In: []string{"x", "p"}}, int64s("p", 1, 1)),
			"Pad has 2 pads for a rank-2 input; want 4"},
		{"Pad without pads at opset 11", oneNode(11, []int64{1, 4},
			onnxtest.Node{Op: "Pad", In: []string{"x"}}),
			"has no pads input"},
		{"Pad pads attribute at opset 11", oneNode(11, []int64{1, 4},
			onnxtest.Node{Op: "Pad", In: []string{"x", "p"}, Attrs: []onnxtest.Attr{onnxtest.Ints("pads", 0, 1, 0, 1)}}, int64s("p", 0, 1, 0, 1)),
			"from opset 11 Pad takes its pads and value as inputs, not attributes"},
		{"Pad pads from a shape", shapeChain(onnxtest.Node{Op: "Concat", In: []string{"s", "s"}, Out: []string{"p"}, Attrs: []onnxtest.Attr{onnxtest.Int("axis", 0)}},
			onnxtest.Node{Op: "Pad", In: []string{"x", "p"}, Out: []string{"y"}}),
			`Pad reads "p", a shape computed at run time`},
		{"Pad value from a graph input", onnxtest.Model{Opset: 13, Graph: onnxtest.Graph{
			Nodes:        []onnxtest.Node{{Op: "Pad", In: []string{"x", "p", "a"}, Out: []string{"y"}}},
			Initializers: []onnxtest.Tensor{int64s("p", 0, 1, 0, 1)},
			Inputs:       []onnxtest.Value{onnxtest.FloatValue("x", 1, 4), onnxtest.FloatValue("a")},
			Outputs:      []onnxtest.Value{{Name: "y", Elem: onnxtest.Float}},
		}}.Marshal(), `Pad's constant value "a" must be an initializer or constant`},
		{"an empty input name on an operator without optional gaps", oneNode(13, []int64{1, 4},
			onnxtest.Node{Op: "Gemm", In: []string{"x", "W", ""}}, floats("W", 4, 3)),
			"has an unnamed input"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := onnxcheck.Check(tc.model, onnxcheck.Limits{})
			if err == nil {
				t.Fatalf("Check accepted the model (%+v); want an error containing %q", r, tc.want)
			}
			if !errors.Is(err, onnxcheck.ErrInvalid) {
				t.Errorf("error %q does not wrap ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got error %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

// shapeChain is a model whose graph input x [N,4] feeds Shape into s,
// followed by nodes, with initializer ax = [1]; its output is y, or out
// where a node writes it.
func shapeChain(nodes ...onnxtest.Node) []byte {
	out := "y"
	for _, n := range nodes {
		if n.Out[0] == "out" {
			out = "out"
		}
	}
	return onnxtest.Model{Opset: 13, Graph: onnxtest.Graph{
		Nodes:        append([]onnxtest.Node{{Op: "Shape", In: []string{"x"}, Out: []string{"s"}}}, nodes...),
		Initializers: []onnxtest.Tensor{int64s("ax", 1)},
		Inputs:       []onnxtest.Value{{Name: "x", Elem: onnxtest.Float, Dims: []int64{-1, 4}}},
		Outputs:      []onnxtest.Value{{Name: out, Elem: onnxtest.Float}},
	}}.Marshal()
}

func TestReportGorgonnxError(t *testing.T) {
	m := onnxtest.Model{Opset: 13, Graph: onnxtest.Graph{
		Nodes: []onnxtest.Node{
			{Op: "AveragePool", In: []string{"x"}, Out: []string{"p"}, Attrs: []onnxtest.Attr{onnxtest.Ints("kernel_shape", 2, 2), onnxtest.Ints("strides", 2, 2)}},
			{Op: "Flatten", In: []string{"p"}, Out: []string{"f"}},
			{Op: "Gemm", In: []string{"f", "W", "C"}, Out: []string{"y"}, Attrs: []onnxtest.Attr{onnxtest.Int("transB", 1)}},
		},
		Initializers: []onnxtest.Tensor{floats("W", 10, 16), floats("C", 10)},
		Inputs:       []onnxtest.Value{onnxtest.FloatValue("x", -1, 1, 8, 8)},
		Outputs:      []onnxtest.Value{onnxtest.FloatValue("y", -1, 10)},
	}}
	r, err := onnxcheck.Check(m.Marshal(), onnxcheck.Limits{})
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	if want := []string{"AveragePool", "Gemm"}; !slices.Equal(r.GorgonnxUnsupported, want) {
		t.Errorf("GorgonnxUnsupported: got %q, want %q", r.GorgonnxUnsupported, want)
	}
	if want := []int{1, 10}; !slices.Equal(r.Outputs[0].Shape, want) {
		t.Errorf("output shape: got %v, want %v", r.Outputs[0].Shape, want)
	}
	err = r.GorgonnxError()
	if !errors.Is(err, onnxcheck.ErrInvalid) {
		t.Fatalf("GorgonnxError: got %v, want an error wrapping ErrInvalid", err)
	}
	for _, want := range []string{
		"onnx-go cannot run this model (AveragePool, Gemm)",
		"onnx-go has no AveragePool",
		"onnx-go corrupts Gemm's bias across runs at batch 1; export dense layers as MatMul followed by Add",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("GorgonnxError: got %q, want it to contain %q", err, want)
		}
	}

	tiny, err := onnxcheck.Check(onnxtest.Tiny().Marshal(), onnxcheck.Limits{})
	if err != nil {
		t.Fatalf("Check(tiny): %v", err)
	}
	if tiny.GorgonnxUnsupported != nil || tiny.GorgonnxError() != nil {
		t.Errorf("tiny: got GorgonnxUnsupported %q and error %v, want neither", tiny.GorgonnxUnsupported, tiny.GorgonnxError())
	}
}
