package onnxcheck

import (
	"math"
	"math/bits"

	"google.golang.org/protobuf/encoding/protowire"
)

// The decoded model keeps only what the checks need: names, shapes, types,
// attribute values that are small, and element counts of the data. Bulk data
// is never copied.

type model struct {
	irVersion int64
	opsets    map[string]int64
	producer  string
	graph     *graph
}

type graph struct {
	nodes        []node
	initializers []tensor
	inputs       []valueInfo
	outputs      []valueInfo
	valueInfos   []valueInfo
}

type node struct {
	name, opType, domain string
	inputs, outputs      []string
	attrs                []attribute
}

type attribute struct {
	name   string
	typ    int64 // AttributeProto.AttributeType
	i      int64
	s      string
	ints   []int64
	floats int64
	// strings counts the entries of a STRINGS payload (field 9); nothing
	// reads them, but onnx-go decodes them all.
	strings int64
	t       *tensor
	has     map[protowire.Number]bool
}

type tensor struct {
	name     string
	dims     []int64
	dataType int64
	// counts of values found in each data field
	floatData, int32Data, stringData, int64Data, doubleData, uint64Data int64
	rawData                                                             int64
	external                                                            bool
	// raw is the raw data (a sub-slice of the file) and ints the first
	// int64_data values: shape inference reads small INT64 tensors, the
	// shapes given to Reshape.
	raw  []byte
	ints []int64
}

type valueInfo struct {
	name    string
	hasType bool
	elem    int64
	// shape is nil when the type declares no shape at all.
	shape []dim
}

type dim struct {
	value    int64
	param    string
	hasValue bool
}

// The attribute types of AttributeProto.AttributeType that the checks use.
const (
	attrFloat   = 1
	attrInt     = 2
	attrString  = 3
	attrTensor  = 4
	attrGraph   = 5
	attrFloats  = 6
	attrInts    = 7
	attrStrings = 8
)

// The tensor data types (TensorProto.DataType) the checks name.
const (
	dtFloat  = 1
	dtInt32  = 6
	dtInt64  = 7
	dtString = 8
	dtDouble = 11
	dtUint64 = 13
)

var dataTypeNames = map[int64]string{
	0: "UNDEFINED", 1: "FLOAT", 2: "UINT8", 3: "INT8", 4: "UINT16", 5: "INT16",
	6: "INT32", 7: "INT64", 8: "STRING", 9: "BOOL", 10: "FLOAT16", 11: "DOUBLE",
	12: "UINT32", 13: "UINT64", 14: "COMPLEX64", 15: "COMPLEX128", 16: "BFLOAT16",
}

func dataTypeName(t int64) string {
	if s, ok := dataTypeNames[t]; ok {
		return s
	}
	return "unknown data type " + itoa(t)
}

type decoder struct {
	lim   Limits
	depth int
	// counts bound the number of objects decoded, so that a file made of
	// millions of empty nodes cannot make the checker itself allocate much.
	nodes, attrs, values int
	// opsets and metadata count repeated ModelProto fields: onnx-go keeps
	// every copy, even of one domain, so a map of distinct ones is no bound.
	opsets, metadata int
}

// maxMetadata bounds ModelProto.metadata_props; exporters write a handful.
const maxMetadata = 1024

func (d *decoder) enter(msg string) error {
	d.depth++
	if d.depth > d.lim.MaxDepth {
		return invalidf("the model nests messages deeper than %d levels (at %s)", d.lim.MaxDepth, msg)
	}
	return nil
}

func (d *decoder) leave() { d.depth-- }

func (d *decoder) model(b []byte) (*model, error) {
	const msg = "ModelProto"
	m := &model{opsets: map[string]int64{}}
	err := eachField(msg, b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			m.irVersion, err = f.int64(msg)
		case 2:
			m.producer, err = f.str(msg)
		case 7:
			if m.graph != nil {
				// protobuf merges repeated singular messages; refusing keeps
				// what we check and what onnx-go decodes the same.
				return invalidf("the model has more than one graph")
			}
			var g []byte
			if g, err = f.message(msg); err == nil {
				m.graph, err = d.graph(g)
			}
		case 8:
			var b []byte
			if b, err = f.message(msg); err == nil {
				err = d.opset(b, m.opsets)
			}
		case 14:
			d.metadata++
			if d.metadata > maxMetadata {
				return invalidf("the model has more than %d metadata entries", maxMetadata)
			}
		case 20:
			return invalidf("training information (ModelProto.training_info) is not supported")
		case 25:
			return invalidf("model-local functions (ModelProto.functions) are not supported")
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// maxOpsets bounds ModelProto.opset_import.
const maxOpsets = 16

func (d *decoder) opset(b []byte, opsets map[string]int64) error {
	const msg = "OperatorSetIdProto"
	d.opsets++
	if d.opsets > maxOpsets {
		return invalidf("the model imports more than %d operator sets", maxOpsets)
	}
	if err := d.enter(msg); err != nil {
		return err
	}
	defer d.leave()
	var domain string
	var version int64
	err := eachField(msg, b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			domain, err = f.str(msg)
		case 2:
			version, err = f.int64(msg)
		}
		return err
	})
	if err != nil {
		return err
	}
	if domain == "ai.onnx" {
		domain = ""
	}
	opsets[domain] = version
	return nil
}

func (d *decoder) graph(b []byte) (*graph, error) {
	const msg = "GraphProto"
	if err := d.enter(msg); err != nil {
		return nil, err
	}
	defer d.leave()
	g := &graph{}
	err := eachField(msg, b, func(f field) error {
		switch f.num {
		case 1:
			d.nodes++
			if d.nodes > d.lim.MaxNodes {
				return invalidf("the graph has more than %d nodes", d.lim.MaxNodes)
			}
			sub, err := f.message(msg)
			if err != nil {
				return err
			}
			n, err := d.node(sub)
			if err != nil {
				return err
			}
			g.nodes = append(g.nodes, n)
		case 5:
			d.values++
			if d.values > d.lim.MaxNodes {
				return invalidf("the graph has more than %d initializers and values", d.lim.MaxNodes)
			}
			sub, err := f.message(msg)
			if err != nil {
				return err
			}
			t, err := d.tensor(sub)
			if err != nil {
				return err
			}
			g.initializers = append(g.initializers, *t)
		case 11, 12, 13:
			d.values++
			if d.values > d.lim.MaxNodes {
				return invalidf("the graph has more than %d initializers and values", d.lim.MaxNodes)
			}
			sub, err := f.message(msg)
			if err != nil {
				return err
			}
			v, err := d.valueInfo(sub)
			if err != nil {
				return err
			}
			switch f.num {
			case 11:
				g.inputs = append(g.inputs, v)
			case 12:
				g.outputs = append(g.outputs, v)
			default:
				g.valueInfos = append(g.valueInfos, v)
			}
		case 14:
			return invalidf("quantization annotations are not supported")
		case 15:
			return invalidf("sparse initializers are not supported")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

func (d *decoder) node(b []byte) (node, error) {
	const msg = "NodeProto"
	if err := d.enter(msg); err != nil {
		return node{}, err
	}
	defer d.leave()
	var n node
	err := eachField(msg, b, func(f field) error {
		var err error
		var s string
		switch f.num {
		case 1, 2:
			if s, err = f.str(msg); err != nil {
				return err
			}
			if f.num == 1 {
				n.inputs = append(n.inputs, s)
			} else {
				n.outputs = append(n.outputs, s)
			}
			if len(n.inputs)+len(n.outputs) > maxNodeIO {
				return invalidf("a node has more than %d inputs and outputs", maxNodeIO)
			}
		case 3:
			n.name, err = f.str(msg)
		case 4:
			n.opType, err = f.str(msg)
		case 7:
			n.domain, err = f.str(msg)
		case 5:
			d.attrs++
			if d.attrs > 16*d.lim.MaxNodes {
				return invalidf("the graph has more than %d attributes", 16*d.lim.MaxNodes)
			}
			var sub []byte
			if sub, err = f.message(msg); err != nil {
				return err
			}
			var a attribute
			if a, err = d.attribute(sub); err != nil {
				return err
			}
			n.attrs = append(n.attrs, a)
		}
		return err
	})
	return n, err
}

// maxNodeIO bounds a node's inputs plus outputs; Concat is the only supported
// operator with a variable input count and real models stay far below this.
const maxNodeIO = 1024

// maxAttrValues bounds the values of an ints attribute (pads, strides, perm,
// axes, shapes): all are tiny in the operators onnx-go supports.
const maxAttrValues = 64

func (d *decoder) attribute(b []byte) (attribute, error) {
	const msg = "AttributeProto"
	if err := d.enter(msg); err != nil {
		return attribute{}, err
	}
	defer d.leave()
	a := attribute{has: map[protowire.Number]bool{}}
	err := eachField(msg, b, func(f field) error {
		var err error
		a.has[f.num] = true
		switch f.num {
		case 1:
			a.name, err = f.str(msg)
		case 20:
			a.typ, err = f.int64(msg)
		case 2:
			err = f.want(msg, protowire.Fixed32Type)
		case 3:
			a.i, err = f.int64(msg)
		case 4:
			a.s, err = f.str(msg)
		case 5:
			if a.t != nil {
				return invalidf("attribute %q holds more than one tensor", a.name)
			}
			var sub []byte
			if sub, err = f.message(msg); err == nil {
				a.t, err = d.tensor(sub)
			}
		case 6, 11:
			return invalidf("graph-valued attributes (control flow such as If and Loop) are not supported")
		case 7:
			var n int64
			n, err = f.countFixed(msg, 4)
			a.floats += n
			if a.floats > maxAttrValues {
				return invalidf("attribute %q has more than %d values", a.name, maxAttrValues)
			}
		case 8:
			a.ints, err = f.int64s(msg, "attribute "+quote(a.name), a.ints, maxAttrValues)
		case 9:
			// Each entry costs onnx-go an allocation of its own, so a file
			// of empty strings multiplies its size many times over.
			a.strings++
			if a.strings > maxAttrValues {
				return invalidf("attribute %q has more than %d values", a.name, maxAttrValues)
			}
			err = f.want(msg, protowire.BytesType)
		case 10:
			return invalidf("tensor-list attributes are not supported")
		case 14, 15:
			return invalidf("type-valued attributes are not supported")
		case 22, 23:
			return invalidf("sparse-tensor attributes are not supported")
		}
		return err
	})
	return a, err
}

func (d *decoder) tensor(b []byte) (*tensor, error) {
	const msg = "TensorProto"
	if err := d.enter(msg); err != nil {
		return nil, err
	}
	defer d.leave()
	t := &tensor{}
	err := eachField(msg, b, func(f field) error {
		var err error
		var n int64
		switch f.num {
		case 1:
			t.dims, err = f.int64s(msg, "a tensor's shape", t.dims, d.lim.MaxRank)
		case 2:
			t.dataType, err = f.int64(msg)
		case 3:
			return invalidf("segmented tensors are not supported")
		case 4:
			n, err = f.countFixed(msg, 4)
			t.floatData += n
		case 5:
			n, err = f.countVarints(msg)
			t.int32Data += n
		case 6:
			err = f.want(msg, protowire.BytesType)
			t.stringData++
		case 7:
			n, err = f.countVarints(msg)
			t.int64Data += n
			if err == nil && t.int64Data <= maxAttrValues {
				t.ints, err = f.int64s(msg, "an int64 tensor", t.ints, maxAttrValues)
			}
		case 8:
			t.name, err = f.str(msg)
		case 9:
			err = f.want(msg, protowire.BytesType)
			t.rawData = int64(len(f.b))
			t.raw = f.b
		case 10:
			n, err = f.countFixed(msg, 8)
			t.doubleData += n
		case 11:
			n, err = f.countVarints(msg)
			t.uint64Data += n
		case 13:
			t.external = true
		case 14:
			var loc int64
			if loc, err = f.int64(msg); err == nil && loc != 0 {
				t.external = true
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

func (d *decoder) valueInfo(b []byte) (valueInfo, error) {
	const msg = "ValueInfoProto"
	if err := d.enter(msg); err != nil {
		return valueInfo{}, err
	}
	defer d.leave()
	var v valueInfo
	err := eachField(msg, b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			v.name, err = f.str(msg)
		case 2:
			if v.hasType {
				return invalidf("value %q declares more than one type", v.name)
			}
			v.hasType = true
			var sub []byte
			if sub, err = f.message(msg); err == nil {
				err = d.typeProto(sub, &v)
			}
		}
		return err
	})
	return v, err
}

func (d *decoder) typeProto(b []byte, v *valueInfo) error {
	const msg = "TypeProto"
	if err := d.enter(msg); err != nil {
		return err
	}
	defer d.leave()
	seen := false
	return eachField(msg, b, func(f field) error {
		switch f.num {
		case 1:
			if seen {
				return invalidf("value %q declares more than one tensor type", v.name)
			}
			seen = true
			sub, err := f.message(msg)
			if err != nil {
				return err
			}
			return d.tensorType(sub, v)
		case 4, 5, 8, 9:
			return invalidf("value %q is not a dense tensor (sequences, maps, optionals and sparse tensors are not supported)", v.name)
		}
		return nil
	})
}

func (d *decoder) tensorType(b []byte, v *valueInfo) error {
	const msg = "TypeProto.Tensor"
	if err := d.enter(msg); err != nil {
		return err
	}
	defer d.leave()
	seenShape := false
	return eachField(msg, b, func(f field) error {
		switch f.num {
		case 1:
			var err error
			v.elem, err = f.int64(msg)
			return err
		case 2:
			if seenShape {
				return invalidf("value %q declares more than one shape", v.name)
			}
			seenShape = true
			sub, err := f.message(msg)
			if err != nil {
				return err
			}
			return d.shape(sub, v)
		}
		return nil
	})
}

func (d *decoder) shape(b []byte, v *valueInfo) error {
	const msg = "TensorShapeProto"
	if err := d.enter(msg); err != nil {
		return err
	}
	defer d.leave()
	v.shape = []dim{}
	return eachField(msg, b, func(f field) error {
		if f.num != 1 {
			return nil
		}
		if len(v.shape) >= d.lim.MaxRank {
			return invalidf("value %q has more than %d dimensions", v.name, d.lim.MaxRank)
		}
		sub, err := f.message(msg)
		if err != nil {
			return err
		}
		if err := d.enter("TensorShapeProto.Dimension"); err != nil {
			return err
		}
		defer d.leave()
		var dm dim
		err = eachField("TensorShapeProto.Dimension", sub, func(f field) error {
			var err error
			switch f.num {
			case 1:
				dm.value, err = f.int64("TensorShapeProto.Dimension")
				dm.hasValue = true
			case 2:
				dm.param, err = f.str("TensorShapeProto.Dimension")
			}
			return err
		})
		v.shape = append(v.shape, dm)
		return err
	})
}

// numElements multiplies dims, reporting false on a negative dimension or an
// overflow of int64.
func numElements(dims []int64) (int64, bool) {
	n := int64(1)
	for _, d := range dims {
		if d < 0 {
			return 0, false
		}
		hi, lo := bits.Mul64(uint64(n), uint64(d))
		if hi != 0 || lo > math.MaxInt64 {
			return 0, false
		}
		n = int64(lo)
	}
	return n, true
}
