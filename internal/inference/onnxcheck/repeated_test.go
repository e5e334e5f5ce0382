package onnxcheck_test

import (
	"errors"
	"runtime"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/taskmind/taskmind/internal/inference/internal/onnxtest"
	"github.com/taskmind/taskmind/internal/inference/onnxcheck"
)

// repeatField appends n copies of one length-delimited field to a model:
// protobuf accepts repeated fields anywhere, and a decoder that does not
// count them allocates one object per copy.
func repeatField(model []byte, num protowire.Number, msg []byte, n int) []byte {
	one := protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), msg)
	out := make([]byte, 0, len(model)+n*len(one))
	out = append(out, model...)
	for range n {
		out = append(out, one...)
	}
	return out
}

// TestCheckBoundsRepeatedFields builds files whose size stays within the
// upload limit but whose repeated fields would make onnx-go allocate
// hundreds of MiB on every decode. Check must refuse each one, and while
// doing so allocate far less than onnx-go would.
func TestCheckBoundsRepeatedFields(t *testing.T) {
	const fourM = 4 << 20
	relu := func(attrs ...onnxtest.Attr) []byte {
		return mutate(func(m *onnxtest.Model) { m.Graph.Nodes[2].Attrs = attrs })
	}
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
	opset := protowire.AppendVarint(protowire.AppendTag(nil, 2, protowire.VarintType), 12)
	meta := protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), "k")
	tests := []struct {
		name  string
		model []byte
		want  string
	}{
		// 4M empty strings: 8 MB of file, ~650 MiB in onnx-go's decoder.
		{"STRINGS payload on a STRING attribute", conv(
			onnxtest.Ints("kernel_shape", 3, 3),
			onnxtest.Attr{Name: "auto_pad", Type: onnxtest.AttrString, S: "NOTSET", Strings: make([]string, fourM)},
		), `attribute "auto_pad" has more than 64 values`},
		{"STRINGS attribute on an operator without attributes", relu(
			onnxtest.Attr{Name: "names", Type: onnxtest.AttrStrings, Strings: make([]string, fourM)},
		), `attribute "names" has more than 64 values`},
		{"unknown attribute", relu(onnxtest.Int("bogus", 1)), `node "relu" (Relu) has an unknown attribute "bogus"`},
		{"repeated opset imports", repeatField(onnxtest.Tiny().Marshal(), 8, opset, fourM/4), "operator sets"},
		{"repeated metadata", repeatField(onnxtest.Tiny().Marshal(), 14, meta, fourM/4), "metadata"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			r, err := onnxcheck.Check(tc.model, onnxcheck.Limits{})
			runtime.ReadMemStats(&after)
			if err == nil {
				t.Fatalf("Check accepted the model (%+v); want an error containing %q", r, tc.want)
			}
			if !errors.Is(err, onnxcheck.ErrInvalid) {
				t.Errorf("error %q does not wrap ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got error %q, want it to contain %q", err, tc.want)
			}
			// TotalAlloc only grows, so it bounds the peak heap Check used.
			if got, limit := after.TotalAlloc-before.TotalAlloc, uint64(8<<20); got > limit {
				t.Errorf("Check allocated %d MiB; want at most %d MiB", got>>20, limit>>20)
			}
		})
	}
}

// TestCostAtPricesTheBatch checks that the work of a batch is inferred at
// that batch: an outer product of a batch-dependent column with itself
// costs (N·w)², not N·w².
func TestCostAtPricesTheBatch(t *testing.T) {
	const w = 8
	m := onnxtest.Model{Graph: onnxtest.Graph{
		Nodes: []onnxtest.Node{
			{Name: "col", Op: "Reshape", In: []string{"x", "shape"}, Out: []string{"c"}},
			{Name: "row", Op: "Transpose", In: []string{"c"}, Out: []string{"r"}, Attrs: []onnxtest.Attr{onnxtest.Ints("perm", 1, 0)}},
			{Name: "outer", Op: "MatMul", In: []string{"c", "r"}, Out: []string{"y"}},
		},
		Initializers: []onnxtest.Tensor{{Name: "shape", Dims: []int64{2}, DataType: onnxtest.Int64, Int64s: []int64{-1, 1}}},
		Inputs:       []onnxtest.Value{{Name: "x", Elem: onnxtest.Float, Dims: []int64{-1, w}}},
		Outputs:      []onnxtest.Value{{Name: "y", Elem: onnxtest.Float, NoShape: true}},
	}}.Marshal()
	r, err := onnxcheck.Check(m, onnxcheck.Limits{MaxMultiplyAdds: 1000})
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	for _, n := range []int{1, 3} {
		got, err := r.CostAt(n)
		if want := int64(n * w * n * w); err != nil || got != want {
			t.Errorf("CostAt(%d) = %d, %v; want %d", n, got, err, want)
		}
	}
	// (4·8)² = 1024 is over the limit of 1000.
	if _, err := r.CostAt(4); !errors.Is(err, onnxcheck.ErrInvalid) || !strings.Contains(err.Error(), "at batch 4") {
		t.Errorf("CostAt(4): got %v, want ErrInvalid at batch 4", err)
	}
}
