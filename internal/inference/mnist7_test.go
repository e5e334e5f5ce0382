package inference_test

import (
	"context"
	"testing"
	"time"

	"github.com/taskmind/taskmind/internal/inference"
	"github.com/taskmind/taskmind/internal/inference/internal/onnxtest"
)

func TestSmoke(t *testing.T) {
	e := inference.New(inference.Options{PoolSize: 2})
	defer e.Close()
	if err := e.Load(context.Background(), "mnist7", "1", onnxtest.MNIST7(t), inference.Meta{}); err != nil {
		t.Fatal(err)
	}
	digits := onnxtest.MNISTTest(t)
	for i := 0; i < 10; i++ {
		out, err := e.Predict(context.Background(), "mnist7", []inference.Tensor{{Name: "Input3", Shape: []int{1, 1, 28, 28}, Data: digits[i].Floats(1)}})
		if err != nil {
			t.Fatal(err)
		}
		t.Log(digits[i].Label, argmax(out.Tensors[0].Data), out.Tensors[0].Shape)
	}
	start := time.Now()
	for i := 0; i < 1000; i++ {
		e.Predict(context.Background(), "mnist7", []inference.Tensor{{Name: "Input3", Shape: []int{1, 1, 28, 28}, Data: digits[i].Floats(1)}})
	}
	t.Log(time.Since(start) / 1000)
}

func argmax(v []float32) int {
	best := 0
	for i := range v {
		if v[i] > v[best] {
			best = i
		}
	}
	return best
}
