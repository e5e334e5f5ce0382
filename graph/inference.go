package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/taskmind/taskmind/ent"
	"github.com/taskmind/taskmind/graph/model"
	"github.com/taskmind/taskmind/internal/apperr"
	"github.com/taskmind/taskmind/internal/inference"
	"github.com/taskmind/taskmind/internal/inference/registry"
)

// maxTensorValues bounds one predict request's input (1M floats); the
// engine checks the exact shape against the model afterwards.
const maxTensorValues = 1 << 20

func (r *Resolver) predict(ctx context.Context, name string, inputs []*model.TensorInput) (*model.PredictResult, error) {
	ts := make([]inference.Tensor, len(inputs))
	total := 0
	for i, in := range inputs {
		total += len(in.Data)
		if total > maxTensorValues {
			return nil, apperr.Invalid("inputs", "inputs hold more than %d values", maxTensorValues)
		}
		data := make([]float32, len(in.Data))
		for j, x := range in.Data {
			data[j] = float32(x)
		}
		ts[i] = inference.Tensor{Name: deref(in.Name), Shape: in.Shape, Data: data}
	}
	res, err := r.Registry.Predict(ctx, name, ts, "graphql")
	if err != nil {
		return nil, err
	}
	out := &model.PredictResult{Model: res.Model, ModelVersion: res.Version, LatencyMs: float64(res.Latency.Microseconds()) / 1000}
	for _, t := range res.Tensors {
		data := make([]float64, len(t.Data))
		for i, x := range t.Data {
			data[i] = float64(x)
		}
		out.Outputs = append(out.Outputs, &model.TensorOutput{Name: t.Name, Shape: t.Shape, Data: data})
	}
	return out, nil
}

func (r *Resolver) classifyDigit(ctx context.Context, pixels []float64, image *graphql.Upload, name *string) (*model.DigitPrediction, error) {
	switch {
	case image != nil && pixels != nil:
		return nil, apperr.Invalid("image", "send pixels or an image, not both")
	case image != nil:
		p, err := registryDecode(image)
		if err != nil {
			return nil, err
		}
		pixels = p
	case pixels == nil:
		return nil, apperr.Invalid("pixels", "send pixels (784 values) or an image")
	}
	d, err := r.Registry.ClassifyDigit(ctx, deref(name), pixels)
	if err != nil {
		return nil, err
	}
	return &model.DigitPrediction{Digit: d.Digit, Probabilities: d.Probabilities, Model: d.Model, ModelVersion: d.Version}, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// maxDigitImageBytes caps a classifyDigit image file: a digit needs a few
// kilobytes. Its decoded size is DecodeDigit's to bound, from the header.
const maxDigitImageBytes = 2 << 20

func registryDecode(u *graphql.Upload) ([]float64, error) {
	if u.Size > maxDigitImageBytes {
		return nil, apperr.Invalid("image", "image is larger than the limit of %d bytes", maxDigitImageBytes)
	}
	return registry.DecodeDigit(u.File)
}

// modelEngine describes how this replica's engine serves m.
func (r *Resolver) modelEngine(m *ent.MLModel) *model.ModelEngine {
	info, err := r.Registry.Engine().Model(m.Name)
	if err != nil || info.Version != m.Version {
		return nil
	}
	e := &model.ModelEngine{Backend: string(info.Backend), AnyBatch: info.Batch, MaxBatch: info.MaxBatch, Operators: info.Operators}
	if info.Kernels != "" {
		e.Kernels = &info.Kernels
	}
	return e
}
