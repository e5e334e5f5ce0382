package onnxcheck

import (
	"maps"
	"slices"
)

// opSpec is what onnx-go v0.5.0's gorgonnx backend needs of an operator:
// its arity and the types of the attributes it reads. gorgonnx reads
// attributes with unchecked type assertions, so a wrong type must be refused
// here, not left to panic there.
type opSpec struct {
	minIn, maxIn int
	attrs        map[string]int64
}

var (
	unary    = opSpec{minIn: 1, maxIn: 1}
	binaryOp = opSpec{minIn: 2, maxIn: 2}
)

// supported lists the operators gorgonnx registers (backend/x/gorgonnx in
// onnx-go v0.5.0), less those it gets wrong:
//   - Gemm computes into its C input in place when C already has the output's
//     size, which at batch 1 is always: the bias grows by itself on every run.
//     Export dense layers as MatMul followed by Add.
//   - "dummy", a test helper.
//
// Every node must have exactly one output: gorgonnx implements no
// multi-output form (Dropout's mask, BatchNormalization's training outputs).
var supported = map[string]opSpec{
	"Abs": unary, "Ceil": unary, "Cos": unary, "Exp": unary, "Floor": unary,
	"Log": unary, "Neg": unary, "Relu": unary, "Sigmoid": unary, "Sign": unary,
	"Sin": unary, "Softplus": unary, "Sqrt": unary, "Tanh": unary, "Identity": unary,
	"Add": binaryOp, "Sub": binaryOp, "Mul": binaryOp, "Div": binaryOp,
	"Max": {minIn: 2, maxIn: 2}, "Min": {minIn: 2, maxIn: 2},
	"MatMul": binaryOp,
	"Conv": {minIn: 2, maxIn: 3, attrs: map[string]int64{
		"auto_pad": attrString, "kernel_shape": attrInts, "pads": attrInts,
		"strides": attrInts, "dilations": attrInts, "group": attrInt,
	}},
	"MaxPool": {minIn: 1, maxIn: 1, attrs: map[string]int64{
		"auto_pad": attrString, "kernel_shape": attrInts, "pads": attrInts,
		"strides": attrInts, "dilations": attrInts, "ceil_mode": attrInt,
		"storage_order": attrInt,
	}},
	"GlobalAveragePool": unary,
	"BatchNormalization": {minIn: 5, maxIn: 5, attrs: map[string]int64{
		"epsilon": attrFloat, "momentum": attrFloat, "spatial": attrInt,
	}},
	"Dropout":   {minIn: 1, maxIn: 3, attrs: map[string]int64{"ratio": attrFloat}},
	"Flatten":   {minIn: 1, maxIn: 1, attrs: map[string]int64{"axis": attrInt}},
	"Reshape":   {minIn: 2, maxIn: 2},
	"Softmax":   {minIn: 1, maxIn: 1, attrs: map[string]int64{"axis": attrInt}},
	"Transpose": {minIn: 1, maxIn: 1, attrs: map[string]int64{"perm": attrInts}},
	"Squeeze":   {minIn: 1, maxIn: 1, attrs: map[string]int64{"axes": attrInts}},
	"Unsqueeze": {minIn: 1, maxIn: 1, attrs: map[string]int64{"axes": attrInts}},
	"Concat":    {minIn: 1, maxIn: maxNodeIO, attrs: map[string]int64{"axis": attrInt}},
	"Constant":  {minIn: 0, maxIn: 0, attrs: map[string]int64{"value": attrTensor}},
	"LeakyRelu": {minIn: 1, maxIn: 1, attrs: map[string]int64{"alpha": attrFloat}},
	"ImageScaler": {minIn: 1, maxIn: 1, attrs: map[string]int64{
		"bias": attrFloats, "scale": attrFloat,
	}},
}

// SupportedOperators lists the operators Check accepts, sorted.
func SupportedOperators() []string {
	return slices.Sorted(maps.Keys(supported))
}

// refusedReasons explains operators onnx-go registers but Check refuses.
var refusedReasons = map[string]string{
	"Gemm": "operator Gemm is not supported: onnx-go corrupts its bias across runs at batch 1; export dense layers as MatMul followed by Add",
}

// checkNode vets one node and returns the element count of any tensor it
// carries (Constant's value).
func checkNode(n *node, i int, opset int64, lim Limits) (int64, error) {
	if n.domain != "" && n.domain != "ai.onnx" {
		return 0, invalidf("operator %s from domain %q is not supported", n.opType, n.domain)
	}
	if reason, ok := refusedReasons[n.opType]; ok {
		return 0, invalidf("%s", reason)
	}
	spec, ok := supported[n.opType]
	if !ok {
		if n.opType == "" {
			return 0, invalidf("node #%d has no operator type", i)
		}
		return 0, invalidf("operator %s is not supported", n.opType)
	}
	name := nodeName(n, i)
	if len(n.inputs) < spec.minIn || len(n.inputs) > spec.maxIn {
		return 0, invalidf("node %s has %d inputs; %s takes %s", name, len(n.inputs), n.opType, arity(spec))
	}
	wantOut := 1
	if len(n.outputs) != wantOut {
		return 0, invalidf("node %s has %d outputs; only single-output %s is supported", name, len(n.outputs), n.opType)
	}
	attrs := map[string]*attribute{}
	for j := range n.attrs {
		a := &n.attrs[j]
		if a.name == "" {
			return 0, invalidf("node %s has an attribute without a name", name)
		}
		if _, dup := attrs[a.name]; dup {
			return 0, invalidf("node %s sets attribute %q twice", name, a.name)
		}
		attrs[a.name] = a
		want, known := spec.attrs[a.name]
		if !known {
			continue
		}
		if a.typ != want {
			return 0, invalidf("node %s attribute %q has type %s; want %s", name, a.name, attrTypeName(a.typ), attrTypeName(want))
		}
	}
	var elements int64
	switch n.opType {
	case "Conv", "MaxPool":
		if err := checkWindow(n, name, attrs); err != nil {
			return 0, err
		}
	case "Constant":
		a := attrs["value"]
		if a == nil || a.t == nil {
			return 0, invalidf("node %s has no tensor value", name)
		}
		var err error
		if elements, err = checkTensor("constant "+name, a.t, lim); err != nil {
			return 0, err
		}
	case "Squeeze", "Unsqueeze":
		// Opset 13 moved axes from an attribute to an input; gorgonnx reads
		// only the attribute (and asserts its type without checking).
		if opset >= 13 {
			return 0, invalidf("operator %s at opset %d is not supported (onnx-go reads axes as an attribute, as in opset 12); export with opset 12 or use Reshape", n.opType, opset)
		}
		if a := attrs["axes"]; a == nil {
			return 0, invalidf("node %s has no axes attribute", name)
		}
	case "Transpose":
		if a := attrs["perm"]; a != nil {
			if err := checkPerm(name, a.ints); err != nil {
				return 0, err
			}
		}
	case "Dropout":
		if opset >= 12 && len(n.inputs) > 1 {
			return 0, invalidf("node %s: Dropout with ratio or training-mode inputs is not supported", name)
		}
	}
	return elements, nil
}

// checkWindow vets Conv and MaxPool attributes against what gorgonnx
// implements: 2-D kernels, symmetric padding (it reads ONNX's
// [top, left, bottom, right] pads as if they were [top, bottom, ...]), and
// no grouped convolution (it ignores group and computes a full convolution).
func checkWindow(n *node, name string, attrs map[string]*attribute) error {
	if g := attrs["group"]; g != nil && g.i != 1 {
		return invalidf("node %s: Conv with group %d is not supported (onnx-go ignores group and computes a full convolution)", name, g.i)
	}
	ks := attrs["kernel_shape"]
	if ks == nil || len(ks.ints) != 2 {
		return invalidf("node %s: %s needs a 2-D kernel_shape attribute; only 2-D windows are supported", name, n.opType)
	}
	for _, k := range ks.ints {
		if k <= 0 || k > 1024 {
			return invalidf("node %s: kernel size %d is out of range", name, k)
		}
	}
	if p := attrs["pads"]; p != nil {
		if len(p.ints) != 4 {
			return invalidf("node %s: pads has %d values; want 4", name, len(p.ints))
		}
		for _, v := range p.ints {
			if v != p.ints[0] {
				return invalidf("node %s: pads %v are not all equal; onnx-go supports only the same padding on every side", name, p.ints)
			}
		}
		if p.ints[0] < 0 || p.ints[0] > 1024 {
			return invalidf("node %s: padding %d is out of range", name, p.ints[0])
		}
	}
	for _, key := range []string{"strides", "dilations"} {
		a := attrs[key]
		if a == nil {
			continue
		}
		if len(a.ints) != 2 {
			return invalidf("node %s: %s has %d values; want 2", name, key, len(a.ints))
		}
		for _, v := range a.ints {
			if v <= 0 || v > 1024 {
				return invalidf("node %s: %s value %d is out of range", name, key, v)
			}
		}
	}
	if n.opType == "MaxPool" {
		if d := attrs["dilations"]; d != nil && (d.ints[0] != 1 || d.ints[1] != 1) {
			return invalidf("node %s: MaxPool with dilations is not supported", name)
		}
		if c := attrs["ceil_mode"]; c != nil && c.i != 0 {
			return invalidf("node %s: MaxPool with ceil_mode is not supported", name)
		}
	}
	if a := attrs["auto_pad"]; a != nil {
		switch a.s {
		case "", "NOTSET", "VALID", "SAME_UPPER":
			// onnx-go computes SAME_UPPER padding itself and refuses the
			// odd totals it cannot split.
		default:
			return invalidf("node %s: auto_pad %s is not supported; use explicit symmetric pads or SAME_UPPER", name, a.s)
		}
	}
	return nil
}

func checkPerm(name string, perm []int64) error {
	seen := make([]bool, len(perm))
	for _, p := range perm {
		if p < 0 || p >= int64(len(perm)) || seen[p] {
			return invalidf("node %s: perm %v is not a permutation", name, perm)
		}
		seen[p] = true
	}
	return nil
}

func arity(s opSpec) string {
	switch {
	case s.minIn == s.maxIn:
		return itoa(int64(s.minIn))
	case s.maxIn == maxNodeIO:
		return "at least " + itoa(int64(s.minIn))
	default:
		return itoa(int64(s.minIn)) + " to " + itoa(int64(s.maxIn))
	}
}

var attrTypeNames = []string{"UNDEFINED", "FLOAT", "INT", "STRING", "TENSOR", "GRAPH", "FLOATS", "INTS", "STRINGS"}

func attrTypeName(t int64) string {
	if t >= 0 && int(t) < len(attrTypeNames) {
		return attrTypeNames[t]
	}
	return "type " + itoa(t)
}
