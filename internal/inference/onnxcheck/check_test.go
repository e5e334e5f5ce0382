package onnxcheck_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/taskmind/taskmind/internal/inference/internal/onnxtest"
	"github.com/taskmind/taskmind/internal/inference/onnxcheck"
)

func TestCheckAcceptsMNIST7(t *testing.T) {
	r, err := onnxcheck.Check(onnxtest.MNIST7(t), onnxcheck.Limits{})
	if err != nil {
		t.Fatalf("Check(mnist-7): %v", err)
	}
	wantIn := []onnxcheck.TensorSpec{{Name: "Input3", DType: "FLOAT", Shape: []int{1, 1, 28, 28}}}
	if !specsEqual(r.Inputs, wantIn) {
		t.Errorf("inputs: got %+v, want %+v", r.Inputs, wantIn)
	}
	wantOut := []onnxcheck.TensorSpec{{Name: "Plus214_Output_0", DType: "FLOAT", Shape: []int{1, 10}}}
	if !specsEqual(r.Outputs, wantOut) {
		t.Errorf("outputs: got %+v, want %+v", r.Outputs, wantOut)
	}
	wantOps := []string{"Add", "Conv", "MatMul", "MaxPool", "Relu", "Reshape"}
	if !slices.Equal(r.Operators, wantOps) {
		t.Errorf("operators: got %v, want %v", r.Operators, wantOps)
	}
	if r.Opset != 7 || r.IRVersion != 3 {
		t.Errorf("versions: got IR %d opset %d, want IR 3 opset 7", r.IRVersion, r.Opset)
	}
	if r.Parameters != 5998 {
		t.Errorf("parameters: got %d, want 5998", r.Parameters)
	}
	// conv1 28·28·8·25 + pool1 8·14·14·2·2 + conv2 14·14·16·8·25 +
	// pool2 16·4·4·3·3 + dense 256·10
	if want := int64(28*28*8*25 + 8*14*14*4 + 14*14*16*8*25 + 16*4*4*9 + 256*10); r.MultiplyAdds != want {
		t.Errorf("multiply-adds: got %d, want %d", r.MultiplyAdds, want)
	}
}

func TestCheckAcceptsTinyWithSymbolicBatch(t *testing.T) {
	m := onnxtest.Tiny()
	r, err := onnxcheck.Check(m.Marshal(), onnxcheck.Limits{})
	if err != nil {
		t.Fatalf("Check(tiny): %v", err)
	}
	want := []onnxcheck.TensorSpec{{Name: "x", DType: "FLOAT", Shape: []int{1, 4}}}
	if !specsEqual(r.Inputs, want) {
		t.Errorf("inputs: got %+v, want %+v (symbolic batch fixed to 1)", r.Inputs, want)
	}
}

// mutate returns Tiny changed by fn, encoded.
func mutate(fn func(m *onnxtest.Model)) []byte {
	m := onnxtest.Tiny()
	fn(&m)
	return m.Marshal()
}

func TestCheckRefuses(t *testing.T) {
	mnist7 := onnxtest.MNIST7(t)
	tiny := onnxtest.Tiny().Marshal()
	conv := func(attrs ...onnxtest.Attr) []byte {
		return mutate(func(m *onnxtest.Model) {
			m.Graph = onnxtest.Graph{
				Nodes: []onnxtest.Node{{Op: "Conv", In: []string{"x", "w"}, Out: []string{"y"}, Attrs: attrs}},
				Initializers: []onnxtest.Tensor{
					onnxtest.FloatTensor("w", []int64{2, 2, 3, 3}, make([]float32, 36)),
				},
				Inputs:  []onnxtest.Value{onnxtest.FloatValue("x", 1, 2, 8, 8)},
				Outputs: []onnxtest.Value{onnxtest.FloatValue("y", 1, 2, 6, 6)},
			}
		})
	}
	k3 := onnxtest.Ints("kernel_shape", 3, 3)
	tests := []struct {
		name  string
		model []byte
		lim   onnxcheck.Limits
		want  string // a substring of the error
	}{
		{"empty", nil, onnxcheck.Limits{}, "empty"},
		{"oversized", mnist7, onnxcheck.Limits{MaxBytes: 1000}, "the model is 26454 bytes; the limit is 1000 bytes"},
		{"garbage", []byte("this is not a protobuf at all, it is text"), onnxcheck.Limits{}, "not a valid ONNX model"},
		{"truncated in a field", mnist7[:len(mnist7)/2], onnxcheck.Limits{}, "truncated or malformed"},
		{"truncated by one byte", mnist7[:len(mnist7)-1], onnxcheck.Limits{}, "truncated or malformed"},
		{"truncated header", mnist7[:3], onnxcheck.Limits{}, "truncated or malformed"},
		{"protobuf group", append(slices.Clone(tiny), protowire.AppendTag(nil, 30, protowire.StartGroupType)...), onnxcheck.Limits{}, "groups"},
		{"two graphs", append(slices.Clone(tiny), tiny[bytesIndexGraph(tiny):]...), onnxcheck.Limits{}, "more than one graph"},
		{"too deep", tiny, onnxcheck.Limits{MaxDepth: 3}, "nests messages deeper than 3"},
		{"no IR version", mutate(func(m *onnxtest.Model) { m.IRVersion = -1 }), onnxcheck.Limits{}, "IR version"},
		{"old opset", mutate(func(m *onnxtest.Model) { m.Opset = 3 }), onnxcheck.Limits{}, "opset 3 is not supported"},
		{"future opset", mutate(func(m *onnxtest.Model) { m.Opset = 99 }), onnxcheck.Limits{}, "opset 99 is not supported"},
		{"no nodes", mutate(func(m *onnxtest.Model) { m.Graph.Nodes = nil }), onnxcheck.Limits{}, "no nodes"},
		{"no outputs", mutate(func(m *onnxtest.Model) { m.Graph.Outputs = nil }), onnxcheck.Limits{}, "no outputs"},
		{"no inputs", mutate(func(m *onnxtest.Model) { m.Graph.Inputs = nil }), onnxcheck.Limits{}, "the graph has no inputs"},
		{"unsupported op", mutate(func(m *onnxtest.Model) { m.Graph.Nodes[2].Op = "LSTM" }), onnxcheck.Limits{}, "operator LSTM is not supported"},
		{"node without operator", mutate(func(m *onnxtest.Model) { m.Graph.Nodes[2].Op = "" }), onnxcheck.Limits{}, "no operator type"},
		{"other domain", mutate(func(m *onnxtest.Model) { m.Graph.Nodes[2].Domain = "ai.onnx.ml" }), onnxcheck.Limits{}, `operator Relu from domain "ai.onnx.ml" is not supported`},
		{"Conv group mismatching the weights", conv(k3, onnxtest.Int("group", 2)), onnxcheck.Limits{}, "Conv weights [2,2,3,3] do not match the input's 2 channels in 2 groups"},
		{"Conv pads mismatching the output", conv(k3, onnxtest.Ints("pads", 1, 1, 2, 2)), onnxcheck.Limits{}, `output "y" is declared with shape [1,2,6,6] but computes [1,2,9,9]`},
		{"Conv without kernel_shape", conv(), onnxcheck.Limits{}, "needs a 2-D kernel_shape"},
		{"Conv 3-D kernel", conv(onnxtest.Ints("kernel_shape", 3, 3, 3)), onnxcheck.Limits{}, "needs a 2-D kernel_shape"},
		{"attribute of the wrong type", conv(onnxtest.Int("kernel_shape", 3)), onnxcheck.Limits{}, `attribute "kernel_shape" has type INT; want INTS`},
		{"Conv zero stride", conv(k3, onnxtest.Ints("strides", 0, 1)), onnxcheck.Limits{}, "strides value 0 is out of range"},
		{"Squeeze at opset 13", mutate(func(m *onnxtest.Model) {
			m.Opset = 13
			m.Graph.Nodes[2] = onnxtest.Node{Op: "Squeeze", In: []string{"z"}, Out: []string{"y"}, Attrs: []onnxtest.Attr{onnxtest.Ints("axes", 0)}}
		}), onnxcheck.Limits{}, "from opset 13 Squeeze takes its axes as a second input, not an attribute"},
		{"huge input shape", mutate(func(m *onnxtest.Model) {
			m.Graph.Inputs[0].Dims = []int64{1, 4, 100000, 10000}
		}), onnxcheck.Limits{}, "input 'x' declares 4000000000 elements; the limit is 4194304"},
		{"overflowing input shape", mutate(func(m *onnxtest.Model) {
			m.Graph.Inputs[0].Dims = []int64{1, 1 << 40, 1 << 40}
		}), onnxcheck.Limits{}, "input 'x' declares more than 9223372036854775807 elements"},
		{"negative input dimension", mutate(func(m *onnxtest.Model) {
			m.Graph.Inputs[0].Dims = []int64{1, 0}
		}), onnxcheck.Limits{}, "input 'x' has dimension 0; dimensions must be positive"},
		{"symbolic inner dimension", mutate(func(m *onnxtest.Model) {
			m.Graph.Inputs[0].Dims = []int64{1, -1}
		}), onnxcheck.Limits{}, "input 'x' dimension 1 is symbolic"},
		{"input without shape", mutate(func(m *onnxtest.Model) { m.Graph.Inputs[0].NoShape = true }), onnxcheck.Limits{}, "declares no shape"},
		{"int64 input", mutate(func(m *onnxtest.Model) { m.Graph.Inputs[0].Elem = onnxtest.Int64 }), onnxcheck.Limits{}, "input 'x' has data type INT64; only FLOAT inputs are supported"},
		{"double output", mutate(func(m *onnxtest.Model) { m.Graph.Outputs[0].Elem = onnxtest.Double }), onnxcheck.Limits{}, "output 'y' has data type DOUBLE"},
		{"huge output shape", mutate(func(m *onnxtest.Model) {
			m.Graph.Outputs[0].Dims = []int64{1 << 20, 1 << 20}
		}), onnxcheck.Limits{}, "output 'y' declares 1099511627776 elements"},
		{"huge value info shape", mutate(func(m *onnxtest.Model) {
			m.Graph.ValueInfo = []onnxtest.Value{onnxtest.FloatValue("z", 1<<16, 1<<16)}
		}), onnxcheck.Limits{}, "value 'z' declares 4294967296 elements"},
		{"initializer larger than its data", mutate(func(m *onnxtest.Model) {
			m.Graph.Initializers[0].Dims = []int64{4, 30000}
		}), onnxcheck.Limits{}, "initializer 'W' declares shape [4,30000] (120000 elements) but holds 12 values"},
		{"initializer with huge dims", mutate(func(m *onnxtest.Model) {
			m.Graph.Initializers[0].Dims = []int64{1 << 30, 1 << 30}
		}), onnxcheck.Limits{}, "initializer 'W' declares 1152921504606846976 elements"},
		{"raw data of the wrong length", mutate(func(m *onnxtest.Model) {
			m.Graph.Initializers[1] = onnxtest.Tensor{Name: "b", Dims: []int64{1, 3}, DataType: onnxtest.Float, Raw: make([]byte, 8)}
		}), onnxcheck.Limits{}, "initializer 'b' declares shape [1,3] (3 elements) but holds 2 values of raw data"},
		{"double initializer", mutate(func(m *onnxtest.Model) {
			m.Graph.Initializers[1] = onnxtest.Tensor{Name: "b", Dims: []int64{1, 3}, DataType: onnxtest.Double, Raw: make([]byte, 24)}
		}), onnxcheck.Limits{}, "initializer 'b' has data type DOUBLE; only FLOAT and INT64"},
		{"unnamed initializer", mutate(func(m *onnxtest.Model) { m.Graph.Initializers[1].Name = "" }), onnxcheck.Limits{}, "initializer #1 has no name"},
		{"dangling node input", mutate(func(m *onnxtest.Model) { m.Graph.Nodes[1].In[1] = "nope" }), onnxcheck.Limits{}, `node "add" (Add) reads "nope"`},
		{"cycle", mutate(func(m *onnxtest.Model) { m.Graph.Nodes[0].In[0] = "z" }), onnxcheck.Limits{}, "cycle"},
		{"output not produced", mutate(func(m *onnxtest.Model) { m.Graph.Outputs[0].Name = "q" }), onnxcheck.Limits{}, `output "q" is not produced`},
		{"value produced twice", mutate(func(m *onnxtest.Model) { m.Graph.Nodes[1].Out[0] = "xw" }), onnxcheck.Limits{}, `value "xw" is produced by more than one node`},
		{"too many nodes", mnist7, onnxcheck.Limits{MaxNodes: 5}, "more than 5 nodes"},
		{"outer product", mutate(func(m *onnxtest.Model) {
			m.Graph.Inputs[0].Dims = []int64{1 << 20, 1}
			m.Graph.Initializers = []onnxtest.Tensor{{Name: "W", Dims: []int64{1, 1 << 20}, Raw: make([]byte, 4<<20)}}
			m.Graph.Nodes = []onnxtest.Node{{Op: "MatMul", In: []string{"x", "W"}, Out: []string{"y"}}}
			m.Graph.Outputs[0].Dims = nil
		}), onnxcheck.Limits{}, `node #0 (MatMul) computes a value of shape [1048576,1048576] (1099511627776 elements); the limit is 33554432`},
		{"doubling Concat chain", mutate(func(m *onnxtest.Model) {
			m.Graph.Inputs[0].Dims = []int64{1, 1 << 14}
			prev := "x"
			m.Graph.Nodes = nil
			for i := range 12 {
				out := "c" + string(rune('a'+i))
				m.Graph.Nodes = append(m.Graph.Nodes, onnxtest.Node{Op: "Concat", In: []string{prev, prev}, Out: []string{out}, Attrs: []onnxtest.Attr{onnxtest.Int("axis", 1)}})
				prev = out
			}
			m.Graph.Outputs = []onnxtest.Value{{Name: prev, Elem: onnxtest.Float}}
		}), onnxcheck.Limits{MaxTotalElements: 1 << 20}, "the graph's values hold more than 1048576 elements in all"},
		{"too much work", mnist7, onnxcheck.Limits{MaxMultiplyAdds: 100000}, "one prediction needs more than 100000 multiply-adds"},
		{"output declared with the wrong shape", mutate(func(m *onnxtest.Model) { m.Graph.Outputs[0].Dims = []int64{3, 1} }), onnxcheck.Limits{}, `output "y" is declared with shape [3,1] but computes [1,3]`},
		{"Reshape to a computed shape", mutate(func(m *onnxtest.Model) {
			m.Graph.Nodes[2] = onnxtest.Node{Op: "Reshape", In: []string{"z", "x"}, Out: []string{"y"}}
		}), onnxcheck.Limits{}, `Reshape's shape "x" must be a small INT64 initializer or constant`},
		{"Conv weights for other channels", mutate(func(m *onnxtest.Model) {
			m.Graph = onnxtest.Graph{
				Nodes:        []onnxtest.Node{{Op: "Conv", In: []string{"x", "w"}, Out: []string{"y"}, Attrs: []onnxtest.Attr{onnxtest.Ints("kernel_shape", 3, 3)}}},
				Initializers: []onnxtest.Tensor{onnxtest.FloatTensor("w", []int64{2, 3, 3, 3}, make([]float32, 54))},
				Inputs:       []onnxtest.Value{onnxtest.FloatValue("x", 1, 2, 8, 8)},
				Outputs:      []onnxtest.Value{onnxtest.FloatValue("y", 1, 2, 6, 6)},
			}
		}), onnxcheck.Limits{}, "Conv weights [2,3,3,3] do not match the input's 2 channels"},
		{"Conv unfolding a huge input", mutate(func(m *onnxtest.Model) {
			m.Graph = onnxtest.Graph{
				Nodes:        []onnxtest.Node{{Op: "Conv", In: []string{"x", "w"}, Out: []string{"y"}, Attrs: []onnxtest.Attr{onnxtest.Ints("kernel_shape", 64, 64), onnxtest.Ints("pads", 32, 32, 32, 32)}}},
				Initializers: []onnxtest.Tensor{{Name: "w", Dims: []int64{1, 4, 64, 64}, Raw: make([]byte, 4*4*64*64)}},
				Inputs:       []onnxtest.Value{onnxtest.FloatValue("x", 1, 4, 512, 512)},
				Outputs:      []onnxtest.Value{{Name: "y", Elem: onnxtest.Float}},
			}
		}), onnxcheck.Limits{}, "Conv would unfold its input into 4311760896 elements; the limit is 33554432"},
		{"wrong arity", mutate(func(m *onnxtest.Model) { m.Graph.Nodes[2].In = []string{"z", "z"} }), onnxcheck.Limits{}, `node "relu" (Relu) has 2 inputs; Relu takes 1`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := onnxcheck.Check(tc.model, tc.lim)
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

// TestCheckRefusesEveryTruncation cuts mnist-7 at every length: no prefix
// is a complete model, and none may panic the checker.
func TestCheckRefusesEveryTruncation(t *testing.T) {
	b := onnxtest.MNIST7(t)
	for n := 0; n < len(b); n++ {
		if _, err := onnxcheck.Check(b[:n], onnxcheck.Limits{}); err == nil {
			t.Fatalf("Check accepted mnist-7 truncated to %d of %d bytes", n, len(b))
		}
	}
}

// bytesIndexGraph finds where the graph field starts in a model written by
// onnxtest (ir_version, producer_name, then graph).
func bytesIndexGraph(b []byte) int {
	i := 0
	for i < len(b) {
		num, typ, n := protowire.ConsumeTag(b[i:])
		if num == 7 {
			return i
		}
		m := protowire.ConsumeFieldValue(num, typ, b[i+n:])
		i += n + m
	}
	panic("no graph field")
}

func specsEqual(a, b []onnxcheck.TensorSpec) bool {
	return slices.EqualFunc(a, b, func(x, y onnxcheck.TensorSpec) bool {
		return x.Name == y.Name && x.DType == y.DType && slices.Equal(x.Shape, y.Shape)
	})
}
