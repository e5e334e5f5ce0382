package inference

import (
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/owulveryck/onnx-go"
	"github.com/owulveryck/onnx-go/backend/x/gorgonnx"
	"gorgonia.org/tensor"

	"github.com/taskmind/taskmind/internal/inference/cpubackend"
)

// Backend names an onnx-go backend that computes a model.
type Backend string

// The backends. BackendCompiled is Taskmind's (package cpubackend); it
// serves every model it supports once its trial outputs agree with
// BackendGorgonnx, onnx-go's own, which serves the rest.
const (
	BackendCompiled Backend = "compiled"
	BackendGorgonnx Backend = "gorgonnx"
)

// runner is what the engine needs of an onnx-go backend beyond decoding.
type runner interface{ Run() error }

// instance is one ready copy of a model: an onnx-go model and its backend
// graph. Backends keep run state in the graph, so an instance serves one
// request at a time; the pool hands it out exclusively.
type instance struct {
	backend runner
	model   *onnx.Model
	// inputs are the tensors bound to the graph inputs, in spec order. Each
	// run copies the request into them rather than binding new tensors:
	// gorgonia reads the bound value by reference, so this saves an
	// allocation and a Let per input.
	inputs []*tensor.Dense
	// outputs are the graph's output carriers, in graph order.
	outputs []onnx.DataCarrier
}

// errPanic marks a recovered onnx-go panic.
var errPanic = errors.New("onnx-go panicked")

// guard turns a panic in onnx-go or gorgonia into an error. The stack is
// kept in the message for the log; it never reaches API clients, who get
// the engine's sentinel errors.
func guard(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: %v\n%s", errPanic, r, debug.Stack())
	}
}

// newInstance decodes b into a fresh onnx-go model on the given backend. b
// must have passed onnxcheck.Check; inputs and opset are what it reported.
func newInstance(b []byte, inputs []TensorSpec, kind Backend, opset int64) (inst *instance, err error) {
	defer guard(&err)
	var backend interface {
		onnx.Backend
		runner
	}
	var compiled *cpubackend.Graph
	var gorgo *gorgonnx.Graph
	switch kind {
	case BackendCompiled:
		compiled = cpubackend.New(opset)
		backend = compiled
	default:
		gorgo = gorgonnx.NewGraph()
		backend = gorgo
	}
	m := onnx.NewModel(backend)
	if err := m.UnmarshalBinary(b); err != nil {
		return nil, fmt.Errorf("decoding: %w", err)
	}
	inst = &instance{backend: backend, model: m}
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
		inst.inputs = append(inst.inputs, t)
	}
	for _, id := range m.Output {
		dc, ok := backend.Node(id).(onnx.DataCarrier)
		if !ok {
			return nil, errors.New("an output cannot carry data")
		}
		inst.outputs = append(inst.outputs, dc)
	}
	if compiled != nil {
		// Compile now, so an unsupported graph is known before any run.
		if err := compiled.Compile(); err != nil {
			return nil, err
		}
	}
	if gorgo != nil {
		// Build the gorgonia graph for the bound inputs, and run it on a
		// machine that keeps panics in this goroutine.
		eg, err := gorgo.GetExprGraph()
		if err != nil {
			return nil, err
		}
		vm, err := newSyncVM(eg)
		if err != nil {
			return nil, err
		}
		gorgo.SetVM(vm)
	}
	return inst, nil
}

// run computes the outputs for data, one slice per input in spec order with
// lengths already checked. The returned tensors own their memory: gorgonia
// reuses its buffers on the next run.
func (in *instance) run(data [][]float32) (out []Tensor, err error) {
	defer guard(&err)
	for i, d := range data {
		copy(in.inputs[i].Data().([]float32), d)
	}
	if err := in.backend.Run(); err != nil {
		return nil, err
	}
	out = make([]Tensor, len(in.outputs))
	for i, dc := range in.outputs {
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
		out[i] = Tensor{Shape: append([]int(nil), t.Shape()...), Data: append([]float32(nil), vals...)}
	}
	return out, nil
}
