package inference

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/taskmind/taskmind/internal/inference/internal/onnxtest"
)

// FuzzLoad feeds arbitrary files through the whole load path: pre-parse,
// onnx-go's decoder, both backends and the trial runs. Whatever the file,
// Load must return (an error or a served model) and the process must live;
// a served model must then answer a prediction or fail cleanly.
//
//	go test -run '^$' -fuzz FuzzLoad -fuzzminimizetime 5s ./internal/inference/
func FuzzLoad(f *testing.F) {
	f.Add(onnxtest.Tiny().Marshal())
	f.Add(onnxtest.CNN(2, 2, 4, 1))
	concat := onnxtest.Tiny()
	concat.Graph.Nodes[2] = onnxtest.Node{Op: "Concat", In: []string{"z", "b"}, Out: []string{"y"}, Attrs: []onnxtest.Attr{onnxtest.Int("axis", 1)}}
	concat.Graph.Outputs[0].Dims = []int64{1, 6}
	f.Add(concat.Marshal())
	// Operator forms only the compiled backend serves, from the reference set.
	for _, name := range []string{"gemm_transb_alpha_beta", "conv_depthwise", "avgpool_include_pad", "squeeze13_input", "conv_bn_relu_head", "matmul_3d",
		"view_head", "view_slice_clip11", "pad_reflect", "pad_edge_attrs"} {
		b, err := os.ReadFile(filepath.Join("testdata", "reference", name, "model.onnx"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e := New(Options{PoolSize: 1, Timeout: time.Second})
		defer e.Close()
		err := e.Load(context.Background(), "m", "1", b, Meta{})
		if err != nil {
			if !errors.Is(err, ErrInvalidModel) {
				t.Fatalf("Load: %v does not wrap ErrInvalidModel", err)
			}
			return
		}
		info, err := e.Model("m")
		if err != nil {
			t.Fatal(err)
		}
		in := make([]Tensor, len(info.Inputs))
		for i, spec := range info.Inputs {
			in[i] = Tensor{Name: spec.Name, Shape: spec.Shape, Data: trialInput([]TensorSpec{spec})[0]}
		}
		if _, err := e.Predict(context.Background(), "m", in); err != nil && !errors.Is(err, ErrFailed) {
			t.Fatalf("Predict on an accepted model: %v", err)
		}
	})
}
