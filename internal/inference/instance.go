package inference

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"

	"github.com/owulveryck/onnx-go"
	"github.com/owulveryck/onnx-go/backend/x/gorgonnx"
	"gorgonia.org/tensor"

	"github.com/taskmind/taskmind/internal/inference/cpubackend"
	"github.com/taskmind/taskmind/internal/inference/kernels"
)

// Backend names the onnx-go backend that computes a model.
type Backend string

// The backends. BackendCompiled is Taskmind's (package cpubackend): it
// serves every model it can compile. BackendGorgonnx, onnx-go's own, serves
// the rest, at its fixed batch size and a fraction of the speed.
const (
	BackendCompiled Backend = "compiled"
	BackendGorgonnx Backend = "gorgonnx"
)

// instance is one ready copy of a model, serving one request at a time; the
// pool hands it out exclusively. Exactly one of plan and gorgo is set.
type instance struct {
	plan *cpubackend.Instance

	gorgo *gorgonnxInstance
}

// gorgonnxInstance is an onnx-go model on gorgonnx. gorgonia keeps run
// state in the graph, so each instance decodes the file anew.
type gorgonnxInstance struct {
	backend *gorgonnx.Graph
	// inputs are the tensors bound to the graph inputs, in spec order. Each
	// run copies the request into them: gorgonia reads the bound value by
	// reference, so this saves an allocation and a Let per input.
	inputs []*tensor.Dense
	// outputs are the graph's output carriers, in graph order.
	outputs []onnx.DataCarrier
}

// errPanic marks a recovered onnx-go panic.
var errPanic = errors.New("onnx-go panicked")

// guard turns a panic in onnx-go, gorgonia or a kernel into an error. The
// stack is kept in the message for the log; it never reaches API clients,
// who get the engine's sentinel errors.
func guard(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: %v\n%s", errPanic, r, debug.Stack())
	}
}

// compile decodes b with onnx-go into Taskmind's backend and compiles it
// into a plan. b must have passed onnxcheck.Check; inputs and opset are
// what it reported.
func compile(b []byte, inputs []TensorSpec, opset int64, set *kernels.Set, arenaBudget int) (p *cpubackend.Plan, err error) {
	defer guard(&err)
	g := cpubackend.New()
	m := onnx.NewModel(g)
	if err := m.UnmarshalBinary(b); err != nil {
		return nil, fmt.Errorf("decoding: %w", err)
	}
	names := make([]string, len(inputs))
	for i, s := range inputs {
		names[i] = s.Name
	}
	return g.Compile(names, m.Output, cpubackend.Options{Opset: opset, Kernels: set, ArenaBudget: arenaBudget})
}

// newGorgonnx decodes b into a fresh onnx-go model on gorgonnx, with its
// inputs bound at their declared shapes.
func newGorgonnx(b []byte, inputs []TensorSpec) (inst *instance, err error) {
	defer guard(&err)
	g := gorgonnx.NewGraph()
	m := onnx.NewModel(g)
	if err := m.UnmarshalBinary(b); err != nil {
		return nil, fmt.Errorf("decoding: %w", err)
	}
	gi := &gorgonnxInstance{backend: g}
	for _, spec := range inputs {
		// Bind by name: onnx-go's SetInput(i) assumes input i is node i,
		// which is false when initializers are listed among the inputs.
		n, ok := m.GetNodeByName(spec.Name)
		if !ok {
			return nil, fmt.Errorf("input %q not found in the decoded graph", spec.Name)
		}
		dc, ok := n.(onnx.DataCarrier)
		if !ok {
			return nil, fmt.Errorf("input %q cannot carry data", spec.Name)
		}
		t := tensor.New(tensor.WithShape(spec.Shape...), tensor.Of(tensor.Float32))
		if err := dc.SetTensor(t); err != nil {
			return nil, fmt.Errorf("binding input %q: %w", spec.Name, err)
		}
		gi.inputs = append(gi.inputs, t)
	}
	for _, id := range m.Output {
		dc, ok := g.Node(id).(onnx.DataCarrier)
		if !ok {
			return nil, errors.New("an output cannot carry data")
		}
		gi.outputs = append(gi.outputs, dc)
	}
	// Build the gorgonia graph for the bound inputs, and run it on a machine
	// that keeps panics in this goroutine.
	eg, err := g.GetExprGraph()
	if err != nil {
		return nil, err
	}
	vm, err := newSyncVM(eg)
	if err != nil {
		return nil, err
	}
	g.SetVM(vm)
	return &instance{gorgo: gi}, nil
}

// run computes the outputs for inputs of the given shapes (already checked
// against the model). The returned tensors alias the instance's buffers:
// they are valid until its next run, and callers copy what they keep.
func (in *instance) run(ctx context.Context, shapes [][]int, data [][]float32) (out []Tensor, err error) {
	defer guard(&err)
	if in.plan != nil {
		outs, err := in.plan.Run(ctx, shapes, data)
		if err != nil {
			return nil, err
		}
		out = make([]Tensor, len(outs))
		for i, o := range outs {
			out[i] = Tensor{Shape: o.Shape, Data: o.Data}
		}
		return out, nil
	}
	g := in.gorgo
	for i, d := range data {
		copy(g.inputs[i].Data().([]float32), d)
	}
	if err := g.backend.Run(); err != nil {
		return nil, err
	}
	out = make([]Tensor, len(g.outputs))
	for i, dc := range g.outputs {
		t := dc.GetTensor()
		if t == nil {
			return nil, fmt.Errorf("output #%d has no value", i)
		}
		vals, ok := t.Data().([]float32)
		if !ok {
			return nil, fmt.Errorf("output #%d is %v, not float32", i, t.Dtype())
		}
		shape := t.Shape()
		if len(vals) != shape.TotalSize() {
			return nil, fmt.Errorf("output #%d holds %d values for shape %v", i, len(vals), shape)
		}
		out[i] = Tensor{Shape: slices.Clone([]int(shape)), Data: vals}
	}
	return out, nil
}

// own copies tensors out of an instance's buffers.
func own(ts []Tensor) []Tensor {
	out := make([]Tensor, len(ts))
	for i, t := range ts {
		out[i] = Tensor{Name: t.Name, Shape: slices.Clone(t.Shape), Data: slices.Clone(t.Data)}
	}
	return out
}
