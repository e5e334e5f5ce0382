// Package onnxfile reads and writes ONNX model files without generated
// protobuf code.
//
// It covers the subset of onnx.proto that inference needs: the model header,
// opset imports, metadata, the main graph with its nodes, attributes,
// initializers and value infos. Messages and fields it does not model (sparse
// initializers, training info, functions, non-tensor types) are skipped on
// read and never written. Encoding follows ONNX's public field numbers with
// google.golang.org/protobuf/encoding/protowire, and Marshal is deterministic:
// the same Model always gives the same bytes, which is what lets a training
// run be checked for reproducibility byte for byte.
//
// Unmarshal is written for untrusted input: every length is checked against
// the remaining bytes, allocations are bounded by the input size, and nested
// graphs (If/Loop bodies in attributes) are limited in depth.
package onnxfile

import (
	"encoding/binary"
	"fmt"
	"math"
)

// DataType is an ONNX TensorProto.DataType value.
type DataType int32

// The ONNX tensor element types (onnx.proto, TensorProto.DataType).
const (
	Undefined  DataType = 0
	Float      DataType = 1
	Uint8      DataType = 2
	Int8       DataType = 3
	Uint16     DataType = 4
	Int16      DataType = 5
	Int32      DataType = 6
	Int64      DataType = 7
	String     DataType = 8
	Bool       DataType = 9
	Float16    DataType = 10
	Double     DataType = 11
	Uint32     DataType = 12
	Uint64     DataType = 13
	Complex64  DataType = 14
	Complex128 DataType = 15
	BFloat16   DataType = 16
)

var dataTypeNames = map[DataType]string{
	Undefined: "UNDEFINED", Float: "FLOAT", Uint8: "UINT8", Int8: "INT8",
	Uint16: "UINT16", Int16: "INT16", Int32: "INT32", Int64: "INT64",
	String: "STRING", Bool: "BOOL", Float16: "FLOAT16", Double: "DOUBLE",
	Uint32: "UINT32", Uint64: "UINT64", Complex64: "COMPLEX64",
	Complex128: "COMPLEX128", BFloat16: "BFLOAT16",
}

func (d DataType) String() string {
	if s, ok := dataTypeNames[d]; ok {
		return s
	}
	return fmt.Sprintf("DataType(%d)", int32(d))
}

// Size returns the number of bytes one element takes in raw_data, or 0 for
// types without a fixed size (STRING, UNDEFINED, unknown values).
func (d DataType) Size() int {
	switch d {
	case Uint8, Int8, Bool:
		return 1
	case Uint16, Int16, Float16, BFloat16:
		return 2
	case Float, Int32, Uint32:
		return 4
	case Double, Int64, Uint64, Complex64:
		return 8
	case Complex128:
		return 16
	}
	return 0
}

// AttributeType is an ONNX AttributeProto.AttributeType value.
type AttributeType int32

// The ONNX attribute kinds (onnx.proto, AttributeProto.AttributeType).
const (
	AttrUndefined AttributeType = 0
	AttrFloat     AttributeType = 1
	AttrInt       AttributeType = 2
	AttrString    AttributeType = 3
	AttrTensor    AttributeType = 4
	AttrGraph     AttributeType = 5
	AttrFloats    AttributeType = 6
	AttrInts      AttributeType = 7
	AttrStrings   AttributeType = 8
	AttrTensors   AttributeType = 9
	AttrGraphs    AttributeType = 10
)

// Model is an ONNX ModelProto.
type Model struct {
	IRVersion       int64
	OpsetImports    []OpsetImport
	ProducerName    string
	ProducerVersion string
	Domain          string
	ModelVersion    int64
	DocString       string
	Graph           *Graph
	Metadata        []MetadataEntry
}

// OpsetImport names an operator set the model's nodes refer to. The empty
// domain is the default "ai.onnx" set.
type OpsetImport struct {
	Domain  string
	Version int64
}

// MetadataEntry is one of the model's free-form metadata_props.
type MetadataEntry struct {
	Key, Value string
}

// Graph is an ONNX GraphProto.
type Graph struct {
	Name         string
	Nodes        []Node
	Initializers []Tensor
	DocString    string
	Inputs       []ValueInfo
	Outputs      []ValueInfo
	ValueInfo    []ValueInfo
}

// Node is an ONNX NodeProto: one operator application.
type Node struct {
	Inputs     []string
	Outputs    []string
	Name       string
	OpType     string
	Domain     string
	Attributes []Attribute
	DocString  string
}

// Attribute is an ONNX AttributeProto. Type says which of the value fields
// is meaningful.
type Attribute struct {
	Name      string
	Type      AttributeType
	F         float32
	I         int64
	S         []byte
	T         *Tensor
	G         *Graph
	Floats    []float32
	Ints      []int64
	Strings   [][]byte
	Tensors   []Tensor
	Graphs    []Graph
	DocString string
}

// Tensor is an ONNX TensorProto holding its data inline. Exactly one of the
// data fields is normally set; writers in this project use RawData
// (little-endian) for compactness.
type Tensor struct {
	Dims       []int64
	DataType   DataType
	Name       string
	DocString  string
	RawData    []byte
	FloatData  []float32
	Int32Data  []int32
	Int64Data  []int64
	DoubleData []float64
	Uint64Data []uint64
	StringData [][]byte
	// External is true when the tensor's data lives in a file outside the
	// model (data_location = EXTERNAL, or external_data entries present).
	// Such tensors cannot be loaded from the model bytes alone.
	External bool
	// Segmented is true when the tensor is one segment of a larger tensor.
	Segmented bool
}

// ValueInfo is an ONNX ValueInfoProto: a named graph input, output or
// intermediate value with its declared type.
type ValueInfo struct {
	Name      string
	DocString string
	// Type is the declared tensor type; nil when the value has no type or
	// a non-tensor type (see NonTensorType).
	Type *TensorType
	// NonTensorType is true when the value is declared as a sequence, map,
	// optional or other non-tensor type, which this package does not model.
	NonTensorType bool
}

// TensorType is an ONNX TypeProto.Tensor.
type TensorType struct {
	ElemType DataType
	// Shape is nil when the shape is unknown (not even the rank is given).
	Shape []Dim
}

// Dim is one dimension of a declared shape: a fixed Value, a symbolic Param
// (such as "batch"), or neither when it is unknown.
type Dim struct {
	Value    int64
	Param    string
	HasValue bool
}

// FloatTensor returns a FLOAT tensor with data stored as little-endian
// raw_data.
func FloatTensor(name string, dims []int64, data []float32) Tensor {
	raw := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	return Tensor{Name: name, Dims: append([]int64(nil), dims...), DataType: Float, RawData: raw}
}

// Int64Tensor returns an INT64 tensor with data stored as little-endian
// raw_data.
func Int64Tensor(name string, dims []int64, data []int64) Tensor {
	raw := make([]byte, 8*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(v))
	}
	return Tensor{Name: name, Dims: append([]int64(nil), dims...), DataType: Int64, RawData: raw}
}

// NumElements returns the product of the tensor's dimensions, and false if
// a dimension is negative or the product overflows int64.
func (t *Tensor) NumElements() (int64, bool) {
	return numElements(t.Dims)
}

func numElements(dims []int64) (int64, bool) {
	n := int64(1)
	for _, d := range dims {
		if d < 0 {
			return 0, false
		}
		if d != 0 && n > math.MaxInt64/d {
			return 0, false
		}
		n *= d
	}
	return n, true
}

// Floats returns the data of a FLOAT tensor, from raw_data or float_data,
// after checking that its length matches the dimensions.
func (t *Tensor) Floats() ([]float32, error) {
	if t.DataType != Float {
		return nil, fmt.Errorf("tensor %q has type %v, want FLOAT", t.Name, t.DataType)
	}
	if t.External || t.Segmented {
		return nil, fmt.Errorf("tensor %q: external or segmented data is not supported", t.Name)
	}
	n, ok := t.NumElements()
	if !ok {
		return nil, fmt.Errorf("tensor %q: invalid dims %v", t.Name, t.Dims)
	}
	if t.RawData != nil {
		if int64(len(t.RawData)) != 4*n {
			return nil, fmt.Errorf("tensor %q: raw_data has %d bytes, dims %v need %d", t.Name, len(t.RawData), t.Dims, 4*n)
		}
		out := make([]float32, n)
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.RawData[4*i:]))
		}
		return out, nil
	}
	if int64(len(t.FloatData)) != n {
		return nil, fmt.Errorf("tensor %q: float_data has %d values, dims %v need %d", t.Name, len(t.FloatData), t.Dims, n)
	}
	return append([]float32(nil), t.FloatData...), nil
}

// Attr returns the node's attribute with the given name.
func (n *Node) Attr(name string) (*Attribute, bool) {
	for i := range n.Attributes {
		if n.Attributes[i].Name == name {
			return &n.Attributes[i], true
		}
	}
	return nil, false
}

// FixedShape returns the declared fixed dimensions, and false if the shape is
// unknown or any dimension is symbolic or unknown.
func (tt *TensorType) FixedShape() ([]int64, bool) {
	if tt == nil || tt.Shape == nil {
		return nil, false
	}
	out := make([]int64, len(tt.Shape))
	for i, d := range tt.Shape {
		if !d.HasValue {
			return nil, false
		}
		out[i] = d.Value
	}
	return out, true
}

// TensorValueInfo returns a ValueInfo for a tensor of fixed shape.
func TensorValueInfo(name string, elem DataType, dims ...int64) ValueInfo {
	shape := make([]Dim, len(dims))
	for i, d := range dims {
		shape[i] = Dim{Value: d, HasValue: true}
	}
	return ValueInfo{Name: name, Type: &TensorType{ElemType: elem, Shape: shape}}
}

// OpTypes returns the distinct operator types used by the graph's nodes, in
// order of first use. Nested graphs in attributes are not visited.
func (g *Graph) OpTypes() []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range g.Nodes {
		if !seen[n.OpType] {
			seen[n.OpType] = true
			out = append(out, n.OpType)
		}
	}
	return out
}
