package onnxfile

import (
	"errors"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// MaxGraphDepth is how deeply graphs may nest through graph-valued
// attributes (If/Loop/Scan bodies). Real models use two or three levels; the
// limit keeps a crafted file from exhausting the stack.
const MaxGraphDepth = 16

// ErrMalformed is wrapped by every error Unmarshal returns for bytes that are
// not a well-formed ONNX protobuf message.
var ErrMalformed = errors.New("malformed ONNX protobuf")

// Unmarshal decodes an ONNX ModelProto. Unknown fields are skipped, as
// protobuf requires; fields of the wrong wire type are errors.
func Unmarshal(b []byte) (*Model, error) {
	m := &Model{}
	err := eachField(b, func(f field) error {
		var err error
		switch f.num {
		case modelIRVersion:
			m.IRVersion, err = f.int64()
		case modelProducerName:
			m.ProducerName, err = f.string()
		case modelProducerVersion:
			m.ProducerVersion, err = f.string()
		case modelDomain:
			m.Domain, err = f.string()
		case modelModelVersion:
			m.ModelVersion, err = f.int64()
		case modelDocString:
			m.DocString, err = f.string()
		case modelGraph:
			var msg []byte
			if msg, err = f.message(); err == nil {
				m.Graph, err = unmarshalGraph(msg, 1)
			}
		case modelOpsetImport:
			var msg []byte
			if msg, err = f.message(); err == nil {
				var o OpsetImport
				o, err = unmarshalOpset(msg)
				m.OpsetImports = append(m.OpsetImports, o)
			}
		case modelMetadataProps:
			var msg []byte
			if msg, err = f.message(); err == nil {
				var e MetadataEntry
				e, err = unmarshalEntry(msg)
				m.Metadata = append(m.Metadata, e)
			}
		}
		return wrapField("ModelProto", f.num, err)
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// UnmarshalTensor decodes a single TensorProto, such as the input_0.pb and
// output_0.pb files of ONNX test data sets.
func UnmarshalTensor(b []byte) (*Tensor, error) {
	t, err := unmarshalTensor(b)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

func unmarshalOpset(b []byte) (OpsetImport, error) {
	var o OpsetImport
	err := eachField(b, func(f field) error {
		var err error
		switch f.num {
		case opsetDomain:
			o.Domain, err = f.string()
		case opsetVersion:
			o.Version, err = f.int64()
		}
		return wrapField("OperatorSetIdProto", f.num, err)
	})
	return o, err
}

func unmarshalEntry(b []byte) (MetadataEntry, error) {
	var e MetadataEntry
	err := eachField(b, func(f field) error {
		var err error
		switch f.num {
		case entryKey:
			e.Key, err = f.string()
		case entryValue:
			e.Value, err = f.string()
		}
		return wrapField("StringStringEntryProto", f.num, err)
	})
	return e, err
}

func unmarshalGraph(b []byte, depth int) (*Graph, error) {
	if depth > MaxGraphDepth {
		return nil, fmt.Errorf("%w: graphs nested deeper than %d", ErrMalformed, MaxGraphDepth)
	}
	g := &Graph{}
	err := eachField(b, func(f field) error {
		var err error
		var msg []byte
		switch f.num {
		case graphNode:
			if msg, err = f.message(); err == nil {
				var n Node
				n, err = unmarshalNode(msg, depth)
				g.Nodes = append(g.Nodes, n)
			}
		case graphName:
			g.Name, err = f.string()
		case graphInitializer:
			if msg, err = f.message(); err == nil {
				var t Tensor
				t, err = unmarshalTensor(msg)
				g.Initializers = append(g.Initializers, t)
			}
		case graphDocString:
			g.DocString, err = f.string()
		case graphInput, graphOutput, graphValueInfo:
			if msg, err = f.message(); err == nil {
				var v ValueInfo
				v, err = unmarshalValueInfo(msg)
				switch f.num {
				case graphInput:
					g.Inputs = append(g.Inputs, v)
				case graphOutput:
					g.Outputs = append(g.Outputs, v)
				default:
					g.ValueInfo = append(g.ValueInfo, v)
				}
			}
		}
		return wrapField("GraphProto", f.num, err)
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

func unmarshalNode(b []byte, depth int) (Node, error) {
	var n Node
	err := eachField(b, func(f field) error {
		var err error
		var s string
		switch f.num {
		case nodeInput:
			if s, err = f.string(); err == nil {
				n.Inputs = append(n.Inputs, s)
			}
		case nodeOutput:
			if s, err = f.string(); err == nil {
				n.Outputs = append(n.Outputs, s)
			}
		case nodeName:
			n.Name, err = f.string()
		case nodeOpType:
			n.OpType, err = f.string()
		case nodeAttribute:
			var msg []byte
			if msg, err = f.message(); err == nil {
				var a Attribute
				a, err = unmarshalAttribute(msg, depth)
				n.Attributes = append(n.Attributes, a)
			}
		case nodeDocString:
			n.DocString, err = f.string()
		case nodeDomain:
			n.Domain, err = f.string()
		}
		return wrapField("NodeProto", f.num, err)
	})
	return n, err
}

func unmarshalAttribute(b []byte, depth int) (Attribute, error) {
	var a Attribute
	err := eachField(b, func(f field) error {
		var err error
		var msg []byte
		switch f.num {
		case attrName:
			a.Name, err = f.string()
		case attrF:
			a.F, err = f.float32()
		case attrI:
			a.I, err = f.int64()
		case attrS:
			a.S, err = f.bytes()
		case attrT:
			if msg, err = f.message(); err == nil {
				var t Tensor
				t, err = unmarshalTensor(msg)
				a.T = &t
			}
		case attrG:
			if msg, err = f.message(); err == nil {
				a.G, err = unmarshalGraph(msg, depth+1)
			}
		case attrFloats:
			a.Floats, err = f.appendFloat32s(a.Floats)
		case attrInts:
			a.Ints, err = f.appendInt64s(a.Ints)
		case attrStrings:
			var s []byte
			if s, err = f.bytes(); err == nil {
				a.Strings = append(a.Strings, s)
			}
		case attrTensors:
			if msg, err = f.message(); err == nil {
				var t Tensor
				t, err = unmarshalTensor(msg)
				a.Tensors = append(a.Tensors, t)
			}
		case attrGraphs:
			if msg, err = f.message(); err == nil {
				var g *Graph
				if g, err = unmarshalGraph(msg, depth+1); err == nil {
					a.Graphs = append(a.Graphs, *g)
				}
			}
		case attrDocString:
			a.DocString, err = f.string()
		case attrType:
			var v int64
			v, err = f.int64()
			a.Type = AttributeType(v)
		}
		return wrapField("AttributeProto", f.num, err)
	})
	return a, err
}

func unmarshalTensor(b []byte) (Tensor, error) {
	var t Tensor
	err := eachField(b, func(f field) error {
		var err error
		switch f.num {
		case tensorDims:
			t.Dims, err = f.appendInt64s(t.Dims)
		case tensorDataType:
			var v int64
			v, err = f.int64()
			t.DataType = DataType(v)
		case tensorSegment:
			t.Segmented = true
		case tensorFloatData:
			t.FloatData, err = f.appendFloat32s(t.FloatData)
		case tensorInt32Data:
			t.Int32Data, err = f.appendInt32s(t.Int32Data)
		case tensorStringData:
			var s []byte
			if s, err = f.bytes(); err == nil {
				t.StringData = append(t.StringData, s)
			}
		case tensorInt64Data:
			t.Int64Data, err = f.appendInt64s(t.Int64Data)
		case tensorName:
			t.Name, err = f.string()
		case tensorRawData:
			t.RawData, err = f.bytes()
		case tensorDoubleData:
			t.DoubleData, err = f.appendFloat64s(t.DoubleData)
		case tensorUint64Data:
			t.Uint64Data, err = f.appendUint64s(t.Uint64Data)
		case tensorDocString:
			t.DocString, err = f.string()
		case tensorExternalData:
			t.External = true
		case tensorDataLocation:
			var v int64
			if v, err = f.int64(); err == nil && v == dataLocationExternal {
				t.External = true
			}
		}
		return wrapField("TensorProto", f.num, err)
	})
	return t, err
}

func unmarshalValueInfo(b []byte) (ValueInfo, error) {
	var v ValueInfo
	err := eachField(b, func(f field) error {
		var err error
		switch f.num {
		case valueInfoName:
			v.Name, err = f.string()
		case valueInfoType:
			var msg []byte
			if msg, err = f.message(); err == nil {
				err = unmarshalType(msg, &v)
			}
		case valueInfoDocString:
			v.DocString, err = f.string()
		}
		return wrapField("ValueInfoProto", f.num, err)
	})
	return v, err
}

// unmarshalType reads a TypeProto. Only the tensor_type member of its oneof
// is decoded; any other member marks the value as a non-tensor type without
// being descended into.
func unmarshalType(b []byte, v *ValueInfo) error {
	return eachField(b, func(f field) error {
		var err error
		switch f.num {
		case typeTensor:
			var msg []byte
			if msg, err = f.message(); err == nil {
				var tt TensorType
				tt, err = unmarshalTensorType(msg)
				v.Type = &tt
			}
		case 2, 3, 4, 5, 8, 9: // sequence, map, opaque, sparse tensor, optional, ...
			v.NonTensorType = true
			v.Type = nil
		}
		return wrapField("TypeProto", f.num, err)
	})
}

func unmarshalTensorType(b []byte) (TensorType, error) {
	var tt TensorType
	err := eachField(b, func(f field) error {
		var err error
		switch f.num {
		case tensorTypeElemType:
			var v int64
			v, err = f.int64()
			tt.ElemType = DataType(v)
		case tensorTypeShape:
			var msg []byte
			if msg, err = f.message(); err == nil {
				tt.Shape, err = unmarshalShape(msg)
			}
		}
		return wrapField("TypeProto.Tensor", f.num, err)
	})
	return tt, err
}

func unmarshalShape(b []byte) ([]Dim, error) {
	dims := []Dim{} // non-nil: a present shape of rank 0 is a scalar, not "unknown"
	err := eachField(b, func(f field) error {
		if f.num != shapeDim {
			return nil
		}
		msg, err := f.message()
		if err != nil {
			return wrapField("TensorShapeProto", f.num, err)
		}
		var d Dim
		err = eachField(msg, func(f field) error {
			var err error
			switch f.num {
			case dimValue:
				d.Value, err = f.int64()
				d.HasValue = err == nil
			case dimParam:
				d.Param, err = f.string()
			}
			return wrapField("TensorShapeProto.Dimension", f.num, err)
		})
		dims = append(dims, d)
		return err
	})
	return dims, err
}

// field is one decoded protobuf field.
type field struct {
	num protowire.Number
	typ protowire.Type
	v   uint64 // varint, fixed32 and fixed64 values
	buf []byte // bytes values
}

// eachField calls fn for every field of the message b, stopping at the first
// error.
func eachField(b []byte, fn func(field) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("%w: %v", ErrMalformed, protowire.ParseError(n))
		}
		b = b[n:]
		f := field{num: num, typ: typ}
		switch typ {
		case protowire.VarintType:
			f.v, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var v uint32
			v, n = protowire.ConsumeFixed32(b)
			f.v = uint64(v)
		case protowire.Fixed64Type:
			f.v, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			f.buf, n = protowire.ConsumeBytes(b)
		default:
			// Groups are deprecated and unused by ONNX; skip them with
			// protowire's own bounded recursion.
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return fmt.Errorf("%w: field %d: %v", ErrMalformed, num, protowire.ParseError(n))
		}
		b = b[n:]
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

var errWireType = errors.New("wrong wire type")

func wrapField(msg string, num protowire.Number, err error) error {
	if err == nil || errors.Is(err, ErrMalformed) {
		return err
	}
	return fmt.Errorf("%w: %s field %d: %v", ErrMalformed, msg, num, err)
}

func (f field) int64() (int64, error) {
	if f.typ != protowire.VarintType {
		return 0, errWireType
	}
	return int64(f.v), nil
}

func (f field) float32() (float32, error) {
	if f.typ != protowire.Fixed32Type {
		return 0, errWireType
	}
	return math.Float32frombits(uint32(f.v)), nil
}

func (f field) string() (string, error) {
	if f.typ != protowire.BytesType {
		return "", errWireType
	}
	return string(f.buf), nil
}

// bytes returns a copy, so a decoded model never aliases the caller's buffer.
func (f field) bytes() ([]byte, error) {
	if f.typ != protowire.BytesType {
		return nil, errWireType
	}
	return append([]byte{}, f.buf...), nil
}

func (f field) message() ([]byte, error) {
	if f.typ != protowire.BytesType {
		return nil, errWireType
	}
	return f.buf, nil
}

// The repeated scalar readers accept both encodings protobuf allows: one
// field per value, or one length-delimited packed run.

func (f field) appendInt64s(dst []int64) ([]int64, error) {
	switch f.typ {
	case protowire.VarintType:
		return append(dst, int64(f.v)), nil
	case protowire.BytesType:
		for b := f.buf; len(b) > 0; {
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return dst, protowire.ParseError(n)
			}
			dst = append(dst, int64(v))
			b = b[n:]
		}
		return dst, nil
	}
	return dst, errWireType
}

func (f field) appendUint64s(dst []uint64) ([]uint64, error) {
	switch f.typ {
	case protowire.VarintType:
		return append(dst, f.v), nil
	case protowire.BytesType:
		for b := f.buf; len(b) > 0; {
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return dst, protowire.ParseError(n)
			}
			dst = append(dst, v)
			b = b[n:]
		}
		return dst, nil
	}
	return dst, errWireType
}

func (f field) appendInt32s(dst []int32) ([]int32, error) {
	vals, err := f.appendInt64s(nil)
	for _, v := range vals {
		dst = append(dst, int32(v))
	}
	return dst, err
}

func (f field) appendFloat32s(dst []float32) ([]float32, error) {
	switch f.typ {
	case protowire.Fixed32Type:
		return append(dst, math.Float32frombits(uint32(f.v))), nil
	case protowire.BytesType:
		if len(f.buf)%4 != 0 {
			return dst, errors.New("packed float run is not a multiple of 4 bytes")
		}
		for b := f.buf; len(b) > 0; b = b[4:] {
			v, _ := protowire.ConsumeFixed32(b)
			dst = append(dst, math.Float32frombits(v))
		}
		return dst, nil
	}
	return dst, errWireType
}

func (f field) appendFloat64s(dst []float64) ([]float64, error) {
	switch f.typ {
	case protowire.Fixed64Type:
		return append(dst, math.Float64frombits(f.v)), nil
	case protowire.BytesType:
		if len(f.buf)%8 != 0 {
			return dst, errors.New("packed double run is not a multiple of 8 bytes")
		}
		for b := f.buf; len(b) > 0; b = b[8:] {
			v, _ := protowire.ConsumeFixed64(b)
			dst = append(dst, math.Float64frombits(v))
		}
		return dst, nil
	}
	return dst, errWireType
}
