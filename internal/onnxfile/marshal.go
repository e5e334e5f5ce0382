package onnxfile

import (
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers from onnx.proto (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto).
const (
	modelIRVersion       = 1
	modelProducerName    = 2
	modelProducerVersion = 3
	modelDomain          = 4
	modelModelVersion    = 5
	modelDocString       = 6
	modelGraph           = 7
	modelOpsetImport     = 8
	modelMetadataProps   = 14

	opsetDomain  = 1
	opsetVersion = 2

	entryKey   = 1
	entryValue = 2

	graphNode        = 1
	graphName        = 2
	graphInitializer = 5
	graphDocString   = 10
	graphInput       = 11
	graphOutput      = 12
	graphValueInfo   = 13

	nodeInput     = 1
	nodeOutput    = 2
	nodeName      = 3
	nodeOpType    = 4
	nodeAttribute = 5
	nodeDocString = 6
	nodeDomain    = 7

	attrName      = 1
	attrF         = 2
	attrI         = 3
	attrS         = 4
	attrT         = 5
	attrG         = 6
	attrFloats    = 7
	attrInts      = 8
	attrStrings   = 9
	attrTensors   = 10
	attrGraphs    = 11
	attrDocString = 13
	attrType      = 20

	tensorDims         = 1
	tensorDataType     = 2
	tensorSegment      = 3
	tensorFloatData    = 4
	tensorInt32Data    = 5
	tensorStringData   = 6
	tensorInt64Data    = 7
	tensorName         = 8
	tensorRawData      = 9
	tensorDoubleData   = 10
	tensorUint64Data   = 11
	tensorDocString    = 12
	tensorExternalData = 13
	tensorDataLocation = 14

	valueInfoName      = 1
	valueInfoType      = 2
	valueInfoDocString = 3

	typeTensor = 1

	tensorTypeElemType = 1
	tensorTypeShape    = 2

	shapeDim = 1

	dimValue = 1
	dimParam = 2

	dataLocationExternal = 1
)

// Marshal encodes m in the ONNX protobuf wire format. Fields are written in
// field-number order and zero values are omitted, so equal models give equal
// bytes.
func Marshal(m *Model) []byte {
	var b []byte
	if m.IRVersion != 0 {
		b = appendVarint(b, modelIRVersion, uint64(m.IRVersion))
	}
	b = appendString(b, modelProducerName, m.ProducerName)
	b = appendString(b, modelProducerVersion, m.ProducerVersion)
	b = appendString(b, modelDomain, m.Domain)
	if m.ModelVersion != 0 {
		b = appendVarint(b, modelModelVersion, uint64(m.ModelVersion))
	}
	b = appendString(b, modelDocString, m.DocString)
	if m.Graph != nil {
		b = appendMessage(b, modelGraph, marshalGraph(m.Graph))
	}
	for _, o := range m.OpsetImports {
		var ob []byte
		ob = appendString(ob, opsetDomain, o.Domain)
		ob = appendVarint(ob, opsetVersion, uint64(o.Version))
		b = appendMessage(b, modelOpsetImport, ob)
	}
	for _, e := range m.Metadata {
		var eb []byte
		eb = appendString(eb, entryKey, e.Key)
		eb = appendString(eb, entryValue, e.Value)
		b = appendMessage(b, modelMetadataProps, eb)
	}
	return b
}

// MarshalTensor encodes a single TensorProto, the format of the .pb files
// in ONNX test data sets.
func MarshalTensor(t *Tensor) []byte {
	return marshalTensor(t)
}

func marshalGraph(g *Graph) []byte {
	var b []byte
	for i := range g.Nodes {
		b = appendMessage(b, graphNode, marshalNode(&g.Nodes[i]))
	}
	b = appendString(b, graphName, g.Name)
	for i := range g.Initializers {
		b = appendMessage(b, graphInitializer, marshalTensor(&g.Initializers[i]))
	}
	b = appendString(b, graphDocString, g.DocString)
	for i := range g.Inputs {
		b = appendMessage(b, graphInput, marshalValueInfo(&g.Inputs[i]))
	}
	for i := range g.Outputs {
		b = appendMessage(b, graphOutput, marshalValueInfo(&g.Outputs[i]))
	}
	for i := range g.ValueInfo {
		b = appendMessage(b, graphValueInfo, marshalValueInfo(&g.ValueInfo[i]))
	}
	return b
}

func marshalNode(n *Node) []byte {
	var b []byte
	for _, s := range n.Inputs {
		b = appendStringAlways(b, nodeInput, s)
	}
	for _, s := range n.Outputs {
		b = appendStringAlways(b, nodeOutput, s)
	}
	b = appendString(b, nodeName, n.Name)
	b = appendString(b, nodeOpType, n.OpType)
	for i := range n.Attributes {
		b = appendMessage(b, nodeAttribute, marshalAttribute(&n.Attributes[i]))
	}
	b = appendString(b, nodeDocString, n.DocString)
	b = appendString(b, nodeDomain, n.Domain)
	return b
}

func marshalAttribute(a *Attribute) []byte {
	var b []byte
	b = appendString(b, attrName, a.Name)
	// The scalar value fields are written when they are the attribute's
	// type, even when zero: a Conv with group=0 must still say so.
	switch a.Type {
	case AttrFloat:
		b = protowire.AppendTag(b, attrF, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, math.Float32bits(a.F))
	case AttrInt:
		b = appendVarint(b, attrI, uint64(a.I))
	case AttrString:
		b = protowire.AppendTag(b, attrS, protowire.BytesType)
		b = protowire.AppendBytes(b, a.S)
	}
	if a.T != nil {
		b = appendMessage(b, attrT, marshalTensor(a.T))
	}
	if a.G != nil {
		b = appendMessage(b, attrG, marshalGraph(a.G))
	}
	for _, f := range a.Floats {
		b = protowire.AppendTag(b, attrFloats, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, math.Float32bits(f))
	}
	for _, v := range a.Ints {
		b = appendVarint(b, attrInts, uint64(v))
	}
	for _, s := range a.Strings {
		b = protowire.AppendTag(b, attrStrings, protowire.BytesType)
		b = protowire.AppendBytes(b, s)
	}
	for i := range a.Tensors {
		b = appendMessage(b, attrTensors, marshalTensor(&a.Tensors[i]))
	}
	for i := range a.Graphs {
		b = appendMessage(b, attrGraphs, marshalGraph(&a.Graphs[i]))
	}
	b = appendString(b, attrDocString, a.DocString)
	if a.Type != AttrUndefined {
		b = appendVarint(b, attrType, uint64(a.Type))
	}
	return b
}

func marshalTensor(t *Tensor) []byte {
	var b []byte
	// dims is a proto2 repeated field without [packed=true]: one tag per value.
	for _, d := range t.Dims {
		b = appendVarint(b, tensorDims, uint64(d))
	}
	if t.DataType != Undefined {
		b = appendVarint(b, tensorDataType, uint64(t.DataType))
	}
	if len(t.FloatData) > 0 {
		p := make([]byte, 0, 4*len(t.FloatData))
		for _, f := range t.FloatData {
			p = protowire.AppendFixed32(p, math.Float32bits(f))
		}
		b = appendMessage(b, tensorFloatData, p)
	}
	if len(t.Int32Data) > 0 {
		var p []byte
		for _, v := range t.Int32Data {
			p = protowire.AppendVarint(p, uint64(int64(v)))
		}
		b = appendMessage(b, tensorInt32Data, p)
	}
	for _, s := range t.StringData {
		b = protowire.AppendTag(b, tensorStringData, protowire.BytesType)
		b = protowire.AppendBytes(b, s)
	}
	if len(t.Int64Data) > 0 {
		var p []byte
		for _, v := range t.Int64Data {
			p = protowire.AppendVarint(p, uint64(v))
		}
		b = appendMessage(b, tensorInt64Data, p)
	}
	b = appendString(b, tensorName, t.Name)
	if t.RawData != nil {
		b = protowire.AppendTag(b, tensorRawData, protowire.BytesType)
		b = protowire.AppendBytes(b, t.RawData)
	}
	if len(t.DoubleData) > 0 {
		p := make([]byte, 0, 8*len(t.DoubleData))
		for _, f := range t.DoubleData {
			p = protowire.AppendFixed64(p, math.Float64bits(f))
		}
		b = appendMessage(b, tensorDoubleData, p)
	}
	if len(t.Uint64Data) > 0 {
		var p []byte
		for _, v := range t.Uint64Data {
			p = protowire.AppendVarint(p, v)
		}
		b = appendMessage(b, tensorUint64Data, p)
	}
	b = appendString(b, tensorDocString, t.DocString)
	if t.External {
		b = appendVarint(b, tensorDataLocation, dataLocationExternal)
	}
	return b
}

func marshalValueInfo(v *ValueInfo) []byte {
	var b []byte
	b = appendString(b, valueInfoName, v.Name)
	if v.Type != nil {
		var tt []byte
		if v.Type.ElemType != Undefined {
			tt = appendVarint(tt, tensorTypeElemType, uint64(v.Type.ElemType))
		}
		if v.Type.Shape != nil {
			var sb []byte
			for _, d := range v.Type.Shape {
				var db []byte
				if d.HasValue {
					db = appendVarint(db, dimValue, uint64(d.Value))
				} else {
					db = appendString(db, dimParam, d.Param)
				}
				sb = appendMessage(sb, shapeDim, db)
			}
			tt = appendMessage(tt, tensorTypeShape, sb)
		}
		var tb []byte
		tb = appendMessage(tb, typeTensor, tt)
		b = appendMessage(b, valueInfoType, tb)
	}
	b = appendString(b, valueInfoDocString, v.DocString)
	return b
}

func appendVarint(b []byte, num protowire.Number, v uint64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

// appendString writes a non-empty string field; empty strings are the
// proto default and are left out.
func appendString(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	return appendStringAlways(b, num, s)
}

// appendStringAlways writes a string field even when empty, as repeated
// string fields must: an empty node input means "optional input omitted"
// and its position matters.
func appendStringAlways(b []byte, num protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendMessage(b []byte, num protowire.Number, msg []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, msg)
}
