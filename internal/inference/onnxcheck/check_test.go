package onnxcheck_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

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
	t.Logf("%+v", r)
}

func specsEqual(a, b []onnxcheck.TensorSpec) bool {
	return slices.EqualFunc(a, b, func(x, y onnxcheck.TensorSpec) bool {
		return x.Name == y.Name && x.DType == y.DType && slices.Equal(x.Shape, y.Shape)
	})
}

var _ = errors.Is
var _ = strings.Contains
