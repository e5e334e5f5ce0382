package inference_test

import (
	"context"
	"testing"

	"github.com/taskmind/taskmind/internal/inference"
	"github.com/taskmind/taskmind/internal/inference/internal/onnxtest"
)

func BenchmarkPredictScratch(b *testing.B) {
	e := inference.New(inference.Options{PoolSize: 1})
	defer e.Close()
	if err := e.Load(context.Background(), "m", "1", onnxtest.MNIST7(b), inference.Meta{}); err != nil {
		b.Fatal(err)
	}
	in := []inference.Tensor{{Name: "Input3", Shape: []int{1, 1, 28, 28}, Data: onnxtest.MNISTTest(b)[0].Floats(1)}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.Predict(context.Background(), "m", in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPredictCNN(b *testing.B) {
	e := inference.New(inference.Options{PoolSize: 1})
	defer e.Close()
	if err := e.Load(context.Background(), "m", "1", onnxtest.CNN(32, 64, 128, 1), inference.Meta{}); err != nil {
		b.Fatal(err)
	}
	in := []inference.Tensor{{Name: "input", Shape: []int{1, 1, 28, 28}, Data: onnxtest.MNISTTest(b)[0].Floats(1. / 255)}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.Predict(context.Background(), "m", in); err != nil {
			b.Fatal(err)
		}
	}
}
