// Package cpubackend is Taskmind's onnx-go backend: onnx-go decodes a model
// into a Graph, and Compile turns the graph into an immutable Plan that runs
// at ONNX Runtime speed on one core.
//
// gorgonnx, onnx-go's own backend, spends most of a small CNN's run outside
// arithmetic (im2col, generic transposes, generic iterators, ~500 fresh
// objects per run), fixes the batch size at the first run and cannot share a
// model between goroutines. A Plan instead
//   - folds constants, fuses Conv+BatchNormalization, bias additions and
//     activations into the matrix kernels, and packs every weight once, in
//     the layout of the kernel set (package kernels) chosen at compile time;
//   - is immutable and shared: each Instance owns the buffers of one request
//     at a time (an arena per input shape seen), so a pool of instances over
//     one Plan serves concurrent requests with no allocation per run;
//   - accepts any batch size: shapes are worked out per input shape when an
//     instance first sees it.
//
// Compile reports ErrUnsupported for an operator or form it lacks; the
// caller then serves the model with gorgonnx.
package cpubackend

import (
	"errors"
	"fmt"
	"math"

	"github.com/owulveryck/onnx-go"
	"gonum.org/v1/gonum/graph"
	"gonum.org/v1/gonum/graph/simple"
	"gorgonia.org/tensor"
)

// ErrUnsupported reports a graph this backend cannot compile.
var ErrUnsupported = errors.New("not supported by the compiled CPU backend")

// ErrShape reports input shapes the model's graph cannot take, such as a
// batch size other than the one a Reshape fixes.
var ErrShape = errors.New("the model cannot take inputs of these shapes")

func unsupported(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnsupported, fmt.Sprintf(format, args...))
}

// Graph receives a decoded model from onnx-go (it implements onnx.Backend).
// It only records what the decoder gives it; Compile does the work.
type Graph struct {
	*simple.WeightedDirectedGraph
	ops []*opNode // in the decoder's (file, so topological) order
}

// opNode is one ONNX node as the decoder applied it.
type opNode struct {
	op   onnx.Operation
	outs []*Node
}

// New returns an empty graph for onnx.NewModel.
func New() *Graph {
	return &Graph{WeightedDirectedGraph: simple.NewWeightedDirectedGraph(math.MaxFloat64, -1)}
}

// Node is a value of the graph: a graph input, an initializer or an
// operator's output.
type Node struct {
	id       int64
	name     string
	t        tensor.Tensor
	producer *opNode
}

// ID implements graph.Node.
func (n *Node) ID() int64 { return n.id }

// SetName implements onnx.Namer.
func (n *Node) SetName(s string) { n.name = s }

// GetName implements onnx.Namer.
func (n *Node) GetName() string { return n.name }

// GetTensor implements onnx.DataCarrier.
func (n *Node) GetTensor() tensor.Tensor { return n.t }

// SetTensor implements onnx.DataCarrier; the decoder sets initializers with
// it.
func (n *Node) SetTensor(t tensor.Tensor) error {
	n.t = t
	return nil
}

// NewNode implements graph.NodeAdder.
func (g *Graph) NewNode() graph.Node {
	return &Node{id: g.WeightedDirectedGraph.NewNode().ID()}
}

// ApplyOperation implements onnx.OperationCarrier.
func (g *Graph) ApplyOperation(o onnx.Operation, ns ...graph.Node) error {
	if len(ns) == 0 {
		return unsupported("operator %s without outputs", o.Name)
	}
	on := &opNode{op: o}
	for _, n := range ns {
		node, ok := n.(*Node)
		if !ok {
			return fmt.Errorf("cpubackend: foreign node %T", n)
		}
		node.producer = on
		on.outs = append(on.outs, node)
	}
	g.ops = append(g.ops, on)
	return nil
}

// operands returns an operator's inputs in order. onnx-go draws an edge from
// each output to each input weighted by the input's position; gonum's simple
// graph keeps one edge per pair, so an operator that uses one value twice
// (Mul(x, x)) leaves a gap, filled here when a single operand explains it.
// An optional input left empty ("") is returned as nil.
func (g *Graph) operands(on *opNode) ([]*Node, error) {
	out := on.outs[0]
	to := g.From(out.id)
	var in []*Node
	for to.Next() {
		e := g.WeightedEdge(out.id, to.Node().ID())
		w := e.Weight()
		i := int(w)
		if float64(i) != w || i < 0 || i > 1<<16 {
			return nil, fmt.Errorf("cpubackend: bad edge weight %v", w)
		}
		for len(in) <= i {
			in = append(in, nil)
		}
		in[i] = e.To().(*Node)
	}
	var only *Node
	gaps := false
	for _, n := range in {
		switch {
		case n == nil:
			gaps = true
		case only == nil:
			only = n
		case only != n:
			only = nil
			if gaps {
				return nil, unsupported("operator %s repeats an operand", on.op.Name)
			}
		}
	}
	if gaps && only != nil && len(in) > 1 {
		for i := range in {
			in[i] = only
		}
	}
	for i, n := range in {
		if n != nil && n.name == "" && n.t == nil && n.producer == nil {
			in[i] = nil // an empty optional input
		}
	}
	return in, nil
}
