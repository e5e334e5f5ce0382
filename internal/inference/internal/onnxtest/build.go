// Package onnxtest builds ONNX files for tests of the inference engine and
// its pre-parse, and finds the real models and data the tests run: the ONNX
// Model Zoo's mnist-7, which onnx-go's module embeds in its sources, and the
// MNIST test set from the GoMNIST module. Both are read from the Go module
// cache at test time rather than committed.
package onnxtest

import (
	"encoding/binary"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// ONNX enum values used by the builders.
const (
	Float  = 1
	Int64  = 7
	Double = 11

	AttrFloat   = 1
	AttrInt     = 2
	AttrString  = 3
	AttrTensor  = 4
	AttrFloats  = 6
	AttrInts    = 7
	AttrStrings = 8
)

// Model is an ONNX model to encode. Zero IRVersion and Opset mean 7 and 12.
type Model struct {
	IRVersion int64
	Opset     int64
	Graph     Graph
}

// Graph is an ONNX graph.
type Graph struct {
	Nodes        []Node
	Initializers []Tensor
	Inputs       []Value
	Outputs      []Value
	ValueInfo    []Value
}

// Node is one operator application.
type Node struct {
	Name, Op, Domain string
	In, Out          []string
	Attrs            []Attr
}

// Attr is a node attribute; Type selects which value is written.
type Attr struct {
	Name string
	Type int64
	I    int64
	F    float32
	S    string
	Ints []int64
	T    *Tensor
	// Strings are written as repeated field 9 whatever Type says, so a
	// test can hang a STRINGS payload on an attribute of any declared kind.
	Strings []string
}

// Tensor is an initializer or constant. Floats and Int64s are written as
// typed fields, Raw as raw_data; DataType defaults from whichever is set.
type Tensor struct {
	Name     string
	Dims     []int64
	DataType int64
	Floats   []float32
	Int64s   []int64
	Raw      []byte
}

// Value is a graph input, output or value info. A negative dimension is
// written as the symbolic dimension "N"; NoShape omits the shape entirely.
type Value struct {
	Name    string
	Elem    int64
	Dims    []int64
	NoShape bool
}

// Ints is a shorthand for an INTS attribute.
func Ints(name string, v ...int64) Attr { return Attr{Name: name, Type: AttrInts, Ints: v} }

// Int is a shorthand for an INT attribute.
func Int(name string, v int64) Attr { return Attr{Name: name, Type: AttrInt, I: v} }

// FloatTensor is a shorthand for a FLOAT initializer.
func FloatTensor(name string, dims []int64, v []float32) Tensor {
	return Tensor{Name: name, Dims: dims, DataType: Float, Floats: v}
}

// FloatValue is a shorthand for a FLOAT value with fixed dimensions.
func FloatValue(name string, dims ...int64) Value { return Value{Name: name, Elem: Float, Dims: dims} }

// Marshal encodes m.
func (m Model) Marshal() []byte {
	ir, opset := m.IRVersion, m.Opset
	if ir == 0 {
		ir = 7
	}
	if opset == 0 {
		opset = 12
	}
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(ir))
	b = appendString(b, 2, "taskmind-onnxtest")
	b = appendMessage(b, 7, m.Graph.marshal())
	var op []byte
	op = appendString(op, 1, "")
	op = protowire.AppendTag(op, 2, protowire.VarintType)
	op = protowire.AppendVarint(op, uint64(opset))
	return appendMessage(b, 8, op)
}

func (g *Graph) marshal() []byte {
	var b []byte
	for _, n := range g.Nodes {
		b = appendMessage(b, 1, n.marshal())
	}
	b = appendString(b, 2, "g")
	for _, t := range g.Initializers {
		b = appendMessage(b, 5, t.Marshal())
	}
	for _, v := range g.Inputs {
		b = appendMessage(b, 11, v.marshal())
	}
	for _, v := range g.Outputs {
		b = appendMessage(b, 12, v.marshal())
	}
	for _, v := range g.ValueInfo {
		b = appendMessage(b, 13, v.marshal())
	}
	return b
}

func (n *Node) marshal() []byte {
	var b []byte
	for _, s := range n.In {
		b = appendString(b, 1, s)
	}
	for _, s := range n.Out {
		b = appendString(b, 2, s)
	}
	if n.Name != "" {
		b = appendString(b, 3, n.Name)
	}
	b = appendString(b, 4, n.Op)
	if n.Domain != "" {
		b = appendString(b, 7, n.Domain)
	}
	for _, a := range n.Attrs {
		b = appendMessage(b, 5, a.marshal())
	}
	return b
}

func (a *Attr) marshal() []byte {
	var b []byte
	b = appendString(b, 1, a.Name)
	switch a.Type {
	case AttrFloat:
		b = protowire.AppendTag(b, 2, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, math.Float32bits(a.F))
	case AttrInt:
		b = protowire.AppendTag(b, 3, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(a.I))
	case AttrString:
		b = appendString(b, 4, a.S)
	case AttrTensor:
		b = appendMessage(b, 5, a.T.Marshal())
	case AttrInts:
		var p []byte
		for _, v := range a.Ints {
			p = protowire.AppendVarint(p, uint64(v))
		}
		b = appendMessage(b, 8, p)
	}
	for _, v := range a.Strings {
		b = appendString(b, 9, v)
	}
	b = protowire.AppendTag(b, 20, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(a.Type))
}

// Marshal encodes t as a TensorProto.
func (t *Tensor) Marshal() []byte {
	var b []byte
	if len(t.Dims) > 0 {
		var p []byte
		for _, d := range t.Dims {
			p = protowire.AppendVarint(p, uint64(d))
		}
		b = appendMessage(b, 1, p)
	}
	dt := t.DataType
	if dt == 0 {
		dt = Float
		if t.Int64s != nil {
			dt = Int64
		}
	}
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(dt))
	if len(t.Floats) > 0 {
		p := make([]byte, 4*len(t.Floats))
		for i, f := range t.Floats {
			binary.LittleEndian.PutUint32(p[4*i:], math.Float32bits(f))
		}
		b = appendMessage(b, 4, p)
	}
	if len(t.Int64s) > 0 {
		var p []byte
		for _, v := range t.Int64s {
			p = protowire.AppendVarint(p, uint64(v))
		}
		b = appendMessage(b, 7, p)
	}
	if t.Name != "" {
		b = appendString(b, 8, t.Name)
	}
	if t.Raw != nil {
		b = appendMessage(b, 9, t.Raw)
	}
	return b
}

func (v *Value) marshal() []byte {
	var tt []byte
	tt = protowire.AppendTag(tt, 1, protowire.VarintType)
	tt = protowire.AppendVarint(tt, uint64(v.Elem))
	if !v.NoShape {
		var shape []byte
		for _, d := range v.Dims {
			var dim []byte
			if d < 0 {
				dim = appendString(dim, 2, "N")
			} else {
				dim = protowire.AppendTag(dim, 1, protowire.VarintType)
				dim = protowire.AppendVarint(dim, uint64(d))
			}
			shape = appendMessage(shape, 1, dim)
		}
		tt = appendMessage(tt, 2, shape)
	}
	var b []byte
	b = appendString(b, 1, v.Name)
	return appendMessage(b, 2, appendMessage(nil, 1, tt))
}

func appendString(b []byte, num protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendMessage(b []byte, num protowire.Number, msg []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, msg)
}
