// Package cpubackend is an onnx-go backend that compiles a graph once into a
// list of float32 kernels over preallocated buffers.
//
// gorgonnx, onnx-go's own backend, spends most of a small CNN's run outside
// arithmetic: im2col followed by a generic transpose, a goroutine-parallel
// gonum sgemm, generic iterators and fresh allocations on every run. This
// backend does the same work with one buffer per value, allocated at
// compile time, convolutions as im2col plus an AVX2/FMA matrix kernel that
// writes NCHW directly, and no allocation per run.
//
// It implements only the operators of typical image classifiers (Conv,
// MaxPool, Relu, MatMul, Add, Sub, Mul, Div, Reshape, Flatten, Softmax,
// Identity, Dropout) and reports ErrUnsupported for anything else, so the
// caller can fall back to gorgonnx. onnx-go still decodes the file and
// drives the backend through its Backend interface.
package cpubackend

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/owulveryck/onnx-go"
	"gonum.org/v1/gonum/graph"
	"gonum.org/v1/gonum/graph/simple"
	"gorgonia.org/tensor"
)

// ErrUnsupported reports a graph this backend cannot compile.
var ErrUnsupported = errors.New("not supported by the compiled CPU backend")

// Graph is an onnx-go backend (onnx.Backend). It is not safe for concurrent
// use: Run writes every intermediate buffer.
type Graph struct {
	*simple.WeightedDirectedGraph
	opset  int64
	groups []*Node // the output node of each ApplyOperation, in call order
	steps  []func()
	outs   []*Node
	ready  bool
}

// New returns an empty graph for a model of the given default-domain opset
// (Softmax's semantics changed at opset 13).
func New(opset int64) *Graph {
	return &Graph{WeightedDirectedGraph: simple.NewWeightedDirectedGraph(math.MaxFloat64, -1), opset: opset}
}

// Node is a value of the graph: an input, an initializer or an operator's
// output.
type Node struct {
	id   int64
	name string
	t    tensor.Tensor
	op   *onnx.Operation

	// Filled by compile.
	compiled bool
	shape    []int
	f32      []float32
	i64      []int64
}

// ID implements graph.Node.
func (n *Node) ID() int64 { return n.id }

// SetName implements onnx.Namer.
func (n *Node) SetName(s string) { n.name = s }

// GetName implements onnx.Namer.
func (n *Node) GetName() string { return n.name }

// GetTensor implements onnx.DataCarrier.
func (n *Node) GetTensor() tensor.Tensor { return n.t }

// SetTensor implements onnx.DataCarrier. Once the graph is compiled, kernels
// read an input's buffer directly, so a new tensor's values are copied into
// it and its shape must not change.
func (n *Node) SetTensor(t tensor.Tensor) error {
	if !n.compiled {
		n.t = t
		return nil
	}
	data, ok := t.Data().([]float32)
	if !ok || n.f32 == nil || !sameShape(t.Shape(), n.shape) {
		return fmt.Errorf("cpubackend: value %q is compiled as float32 %v; got %v %v", n.name, n.shape, t.Dtype(), t.Shape())
	}
	copy(n.f32, data)
	return nil
}

// NewNode implements graph.NodeAdder.
func (g *Graph) NewNode() graph.Node {
	return &Node{id: g.WeightedDirectedGraph.NewNode().ID()}
}

// ApplyOperation implements onnx.OperationCarrier.
func (g *Graph) ApplyOperation(o onnx.Operation, ns ...graph.Node) error {
	if len(ns) != 1 {
		return fmt.Errorf("%w: operator %s with %d outputs", ErrUnsupported, o.Name, len(ns))
	}
	n := ns[0].(*Node)
	n.op = &o
	g.groups = append(g.groups, n)
	return nil
}

// Compile builds the kernels for the input shapes currently set. Run calls
// it on first use; calling it early reports ErrUnsupported before a run.
func (g *Graph) Compile() error {
	if g.ready {
		return nil
	}
	pending := append([]*Node(nil), g.groups...)
	for len(pending) > 0 {
		progressed := false
		for i := 0; i < len(pending); i++ {
			n := pending[i]
			in := g.inputs(n)
			ok, err := allCompiled(in)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			step, err := g.compileOp(n, in)
			if err != nil {
				return fmt.Errorf("%s %q: %w", n.op.Name, n.name, err)
			}
			if step != nil {
				g.steps = append(g.steps, step)
			}
			n.compiled = true
			n.t = tensor.New(tensor.WithShape(n.shape...), tensor.WithBacking(n.f32))
			pending = append(pending[:i], pending[i+1:]...)
			i--
			progressed = true
		}
		if !progressed {
			return errors.New("cpubackend: the graph has a cycle")
		}
	}
	g.ready = true
	return nil
}

// Run computes every value.
func (g *Graph) Run() error {
	if err := g.Compile(); err != nil {
		return err
	}
	for _, step := range g.steps {
		step()
	}
	return nil
}

// inputs returns an operator's operands in order: onnx-go draws an edge from
// the output to each input, weighted by the input's position.
func (g *Graph) inputs(n *Node) []*Node {
	to := g.From(n.id)
	edges := make([]graph.WeightedEdge, 0, to.Len())
	for to.Next() {
		edges = append(edges, g.WeightedEdge(n.id, to.Node().ID()))
	}
	sort.Slice(edges, func(i, j int) bool { return edges[i].Weight() < edges[j].Weight() })
	in := make([]*Node, len(edges))
	for i, e := range edges {
		in[i] = e.To().(*Node)
	}
	return in
}

// allCompiled compiles the leaves among in (inputs and initializers) and
// reports whether every operand has a value.
func allCompiled(in []*Node) (bool, error) {
	for _, c := range in {
		if c.compiled {
			continue
		}
		if c.op != nil {
			return false, nil
		}
		if c.t == nil {
			return false, fmt.Errorf("cpubackend: value %q has no data", c.name)
		}
		c.shape = append([]int(nil), c.t.Shape()...)
		switch d := c.t.Data().(type) {
		case []float32:
			c.f32 = d
		case float32:
			c.f32 = []float32{d}
		case []int64:
			c.i64 = d
		case int64:
			c.i64 = []int64{d}
		default:
			return false, fmt.Errorf("%w: value %q is %v", ErrUnsupported, c.name, c.t.Dtype())
		}
		c.compiled = true
	}
	return true, nil
}

func sameShape(a tensor.Shape, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func elements(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}
