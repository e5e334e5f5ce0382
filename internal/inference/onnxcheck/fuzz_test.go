package onnxcheck_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/taskmind/taskmind/internal/inference/internal/onnxtest"
	"github.com/taskmind/taskmind/internal/inference/onnxcheck"
)

// FuzzCheck feeds arbitrary bytes to Check. The committed corpus in
// testdata/fuzz/FuzzCheck holds small valid models (some, such as
// valid-gemm and valid-averagepool, only the compiled backend serves) and
// refused mutations of them; mnist-7 is added from the module cache. Whatever the input, Check
// must return, and what it accepts must satisfy the limits.
//
//	go test -run '^$' -fuzz FuzzCheck -fuzzminimizetime 5s ./internal/inference/onnxcheck/
//
// (The default minimisation budget, 60 s per new input, shows as a minute
// of "0/sec" whenever a mutation of mnist-7 finds new coverage.)
func FuzzCheck(f *testing.F) {
	f.Add(onnxtest.MNIST7(f))
	f.Add(onnxtest.Tiny().Marshal())
	lim := onnxcheck.Limits{MaxBytes: 1 << 20}
	supported := onnxcheck.SupportedOperators()
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := onnxcheck.Check(b, lim)
		if err != nil {
			if !errors.Is(err, onnxcheck.ErrInvalid) {
				t.Fatalf("error %q does not wrap ErrInvalid", err)
			}
			return
		}
		def := onnxcheck.DefaultLimits()
		if len(r.Inputs) == 0 || len(r.Outputs) == 0 {
			t.Fatalf("accepted a model with %d inputs and %d outputs", len(r.Inputs), len(r.Outputs))
		}
		for _, in := range r.Inputs {
			n := int64(1)
			for _, d := range in.Shape {
				if d <= 0 {
					t.Fatalf("accepted input %q with shape %v", in.Name, in.Shape)
				}
				n *= int64(d)
			}
			if n > def.MaxInputElements || in.DType != "FLOAT" {
				t.Fatalf("accepted input %q %s %v", in.Name, in.DType, in.Shape)
			}
		}
		for _, op := range r.Operators {
			if !slices.Contains(supported, op) {
				t.Fatalf("accepted unsupported operator %q", op)
			}
		}
		// The engine must never fall back to gorgonnx for what it lacks.
		for _, op := range []string{"Gemm", "AveragePool"} {
			if slices.Contains(r.Operators, op) && !slices.Contains(r.GorgonnxUnsupported, op) {
				t.Fatalf("accepted %s without listing it in GorgonnxUnsupported %q", op, r.GorgonnxUnsupported)
			}
		}
		if (r.GorgonnxError() == nil) != (len(r.GorgonnxUnsupported) == 0) {
			t.Fatalf("GorgonnxError %v for GorgonnxUnsupported %q", r.GorgonnxError(), r.GorgonnxUnsupported)
		}
	})
}
