package onnxcheck

import (
	"maps"
	"slices"
	"strings"
)

// opSpec is what the backends need of an operator: its arity and the types
// of the attributes they read. gorgonnx reads attributes with unchecked type
// assertions, so a wrong type must be refused here, not left to panic there.
type opSpec struct {
	minIn, maxIn int
	attrs        map[string]int64
}

var (
	unary    = opSpec{minIn: 1, maxIn: 1}
	binaryOp = opSpec{minIn: 2, maxIn: 2}
)

// supported lists the operators onnx-go v0.5.0's gorgonnx backend registers
// (less "dummy", a test helper) and those Taskmind's compiled backend
// serves. Where gorgonnx lacks an operator or form, or computes it wrongly,
// checkNode records why in the report (gorgonnxGaps), so the engine can
// refuse the model rather than fall back to gorgonnx.
var supported = map[string]opSpec{
	"Abs": unary, "Ceil": unary, "Cos": unary, "Exp": unary, "Floor": unary,
	"Log": unary, "Neg": unary, "Relu": unary, "Sigmoid": unary, "Sign": unary,
	"Sin": unary, "Softplus": unary, "Sqrt": unary, "Tanh": unary, "Identity": unary,
	"Add": binaryOp, "Sub": binaryOp, "Mul": binaryOp, "Div": binaryOp,
	"Max": {minIn: 2, maxIn: 2}, "Min": {minIn: 2, maxIn: 2},
	"MatMul": binaryOp,
	"Gemm": {minIn: 2, maxIn: 3, attrs: map[string]int64{
		"alpha": attrFloat, "beta": attrFloat, "transA": attrInt, "transB": attrInt,
	}},
	"Conv": {minIn: 2, maxIn: 3, attrs: map[string]int64{
		"auto_pad": attrString, "kernel_shape": attrInts, "pads": attrInts,
		"strides": attrInts, "dilations": attrInts, "group": attrInt,
	}},
	"MaxPool": {minIn: 1, maxIn: 1, attrs: map[string]int64{
		"auto_pad": attrString, "kernel_shape": attrInts, "pads": attrInts,
		"strides": attrInts, "dilations": attrInts, "ceil_mode": attrInt,
		"storage_order": attrInt,
	}},
	// AveragePool has no dilations before opset 19; the compiled backend
	// would apply them, so they are type-checked and refused unless 1.
	"AveragePool": {minIn: 1, maxIn: 1, attrs: map[string]int64{
		"auto_pad": attrString, "kernel_shape": attrInts, "pads": attrInts,
		"strides": attrInts, "dilations": attrInts, "ceil_mode": attrInt,
		"count_include_pad": attrInt,
	}},
	"GlobalAveragePool": unary,
	"BatchNormalization": {minIn: 5, maxIn: 5, attrs: map[string]int64{
		"epsilon": attrFloat, "momentum": attrFloat, "spatial": attrInt,
	}},
	// From opset 12 ratio and training_mode are inputs; seed is read by no
	// backend (inference ignores it) but is typed like the others.
	"Dropout":   {minIn: 1, maxIn: 3, attrs: map[string]int64{"ratio": attrFloat, "seed": attrInt}},
	"Flatten":   {minIn: 1, maxIn: 1, attrs: map[string]int64{"axis": attrInt}},
	"Reshape":   {minIn: 2, maxIn: 2},
	"Softmax":   {minIn: 1, maxIn: 1, attrs: map[string]int64{"axis": attrInt}},
	"Transpose": {minIn: 1, maxIn: 1, attrs: map[string]int64{"perm": attrInts}},
	// Opset 13 moved axes from an attribute to a second input.
	"Squeeze":   {minIn: 1, maxIn: 2, attrs: map[string]int64{"axes": attrInts}},
	"Unsqueeze": {minIn: 1, maxIn: 2, attrs: map[string]int64{"axes": attrInts}},
	"Concat":    {minIn: 1, maxIn: maxNodeIO, attrs: map[string]int64{"axis": attrInt}},
	"Constant":  {minIn: 0, maxIn: 0, attrs: map[string]int64{"value": attrTensor}},
	"LeakyRelu": {minIn: 1, maxIn: 1, attrs: map[string]int64{"alpha": attrFloat}},
	"ImageScaler": {minIn: 1, maxIn: 1, attrs: map[string]int64{
		"bias": attrFloats, "scale": attrFloat,
	}},
	// Shape, Gather and Slice compute INT64 shape values (PyTorch's
	// x.view(x.size(0), -1)); see shapes.go for what may read them.
	"Shape":  {minIn: 1, maxIn: 1, attrs: map[string]int64{"start": attrInt, "end": attrInt}},
	"Gather": {minIn: 2, maxIn: 2, attrs: map[string]int64{"axis": attrInt}},
	"Slice":  {minIn: 1, maxIn: 5, attrs: map[string]int64{"starts": attrInts, "ends": attrInts, "axes": attrInts}},
	// Before opset 11 Clip's bounds and Pad's pads and value are
	// attributes; from 11 they are inputs.
	"Clip": {minIn: 1, maxIn: 3, attrs: map[string]int64{"min": attrFloat, "max": attrFloat}},
	"Pad":  {minIn: 1, maxIn: 3, attrs: map[string]int64{"mode": attrString, "pads": attrInts, "value": attrFloat}},
}

// emptyOptional lists the operators whose optional inputs may be named ""
// to skip one (Clip(x, "", max)): the compiled backend reads such a gap as
// absent; gorgonnx runs none of them.
var emptyOptional = map[string]bool{"Clip": true, "Pad": true, "Slice": true}

// SupportedOperators lists the operators Check accepts, sorted.
func SupportedOperators() []string {
	return slices.Sorted(maps.Keys(supported))
}

// gorgonnxGaps explains, per entry of Report.GorgonnxUnsupported, why
// gorgonnx cannot serve a model that uses it: the reason the engine gives
// when the compiled backend cannot compile such a model either.
var gorgonnxGaps = map[string]string{
	"Gemm":                                                 "onnx-go corrupts Gemm's bias across runs at batch 1; export dense layers as MatMul followed by Add",
	"AveragePool":                                          "onnx-go has no AveragePool",
	"Squeeze at opset 13 or later":                         "onnx-go reads Squeeze's axes as an attribute, as in opset 12; export with opset 12 or use Reshape",
	"Unsqueeze at opset 13 or later":                       "onnx-go reads Unsqueeze's axes as an attribute, as in opset 12; export with opset 12 or use Reshape",
	"Dropout with ratio or training_mode":                  "onnx-go's Dropout takes exactly one input",
	"Dropout with a mask output":                           "onnx-go implements no operator with more than one output",
	"Conv with group":                                      "onnx-go ignores Conv's group and computes a full convolution",
	"Conv with unequal pads":                               "onnx-go reads ONNX's [top, left, bottom, right] pads as if they were [top, bottom, left, right] and pads every side alike",
	"MaxPool with unequal pads":                            "onnx-go reads ONNX's [top, left, bottom, right] pads as if they were [top, bottom, left, right] and pads every side alike",
	"Conv with auto_pad SAME_LOWER":                        "onnx-go computes only SAME_UPPER padding",
	"MaxPool with auto_pad SAME_LOWER":                     "onnx-go computes only SAME_UPPER padding",
	"MaxPool with ceil_mode":                               "onnx-go refuses MaxPool's ceil_mode",
	"Softmax at opset 13 over an axis other than the last": "onnx-go normalises over every axis from the given one on, as before opset 13",
	"Shape":  "onnx-go has no Shape; export with a fixed batch or flatten with Flatten",
	"Gather": "onnx-go has no Gather",
	"Slice":  "onnx-go has no Slice",
	"Clip":   "onnx-go has no Clip",
	"Pad":    "onnx-go has no Pad",
}

// gorgonnxRefusal joins the reasons for gaps into one sentence.
func gorgonnxRefusal(gaps []string) string {
	reasons := make([]string, len(gaps))
	for i, g := range gaps {
		reasons[i] = gorgonnxGaps[g]
	}
	return "onnx-go cannot run this model (" + strings.Join(gaps, ", ") + "): " + strings.Join(reasons, "; ")
}

// checkNode vets one node, adds to gaps what of it gorgonnx cannot run, and
// returns the element count of any tensor it carries (Constant's value).
func checkNode(n *node, i int, opset int64, lim Limits, gaps map[string]bool) (int64, error) {
	if n.domain != "" && n.domain != "ai.onnx" {
		return 0, invalidf("operator %s from domain %q is not supported", n.opType, n.domain)
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
	// Dropout's mask is the only second output a backend serves, and only
	// unused (checkMasks); every other node has exactly one output.
	if len(n.outputs) != 1 && (n.opType != "Dropout" || len(n.outputs) != 2) {
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
			// An attribute the checks do not know is one whose effect on
			// shapes and cost they cannot vouch for.
			return 0, invalidf("node %s has an unknown attribute %q", name, a.name)
		}
		if a.typ != want {
			return 0, invalidf("node %s attribute %q has type %s; want %s", name, a.name, attrTypeName(a.typ), attrTypeName(want))
		}
	}
	var elements int64
	switch n.opType {
	case "Gemm":
		// C became optional in opset 11.
		if opset < 11 && len(n.inputs) < 3 {
			return 0, invalidf("node %s: Gemm before opset 11 needs its C input", name)
		}
		gaps["Gemm"] = true
	case "Conv", "MaxPool", "AveragePool":
		if n.opType == "AveragePool" {
			gaps["AveragePool"] = true
		}
		if err := checkWindow(n, name, attrs, gaps); err != nil {
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
		if opset >= 13 {
			if attrs["axes"] != nil {
				return 0, invalidf("node %s: from opset 13 %s takes its axes as a second input, not an attribute", name, n.opType)
			}
			if n.opType == "Unsqueeze" && len(n.inputs) < 2 {
				return 0, invalidf("node %s has no axes input", name)
			}
			gaps[n.opType+" at opset 13 or later"] = true
			break
		}
		if len(n.inputs) > 1 {
			return 0, invalidf("node %s: before opset 13 %s takes its axes as an attribute, not an input", name, n.opType)
		}
		// gorgonnx asserts the attribute's type without checking it is
		// there.
		if attrs["axes"] == nil {
			return 0, invalidf("node %s has no axes attribute", name)
		}
	case "Transpose":
		if a := attrs["perm"]; a != nil {
			if err := checkPerm(name, a.ints); err != nil {
				return 0, err
			}
		}
	case "Shape", "Gather":
		gaps[n.opType] = true
	case "Slice":
		if opset < 10 {
			return 0, invalidf("node %s: Slice before opset 10 (starts and ends as attributes) is not supported; export with opset 10 or later", name)
		}
		if len(n.inputs) < 3 {
			return 0, invalidf("node %s: Slice needs its starts and ends inputs", name)
		}
		gaps["Slice"] = true
	case "Clip":
		if opset < 11 && len(n.inputs) > 1 {
			return 0, invalidf("node %s: before opset 11 Clip takes its bounds as attributes, not inputs", name)
		}
		if opset >= 11 && (attrs["min"] != nil || attrs["max"] != nil) {
			return 0, invalidf("node %s: from opset 11 Clip takes its bounds as inputs, not attributes", name)
		}
		gaps["Clip"] = true
	case "Pad":
		if a := attrs["mode"]; a != nil && a.s != "constant" && a.s != "reflect" && a.s != "edge" {
			return 0, invalidf("node %s: Pad mode %q is not supported; use constant, reflect or edge", name, a.s)
		}
		if opset < 11 {
			if len(n.inputs) > 1 {
				return 0, invalidf("node %s: before opset 11 Pad takes its pads as an attribute, not an input", name)
			}
			if attrs["pads"] == nil {
				return 0, invalidf("node %s has no pads attribute", name)
			}
		} else {
			if attrs["pads"] != nil || attrs["value"] != nil {
				return 0, invalidf("node %s: from opset 11 Pad takes its pads and value as inputs, not attributes", name)
			}
			if len(n.inputs) < 2 || n.inputs[1] == "" {
				return 0, invalidf("node %s has no pads input", name)
			}
		}
		gaps["Pad"] = true
	case "Dropout":
		// Opset 12 moved ratio from an attribute to an input and added
		// training_mode; both backends run inference, so the output is the
		// input whatever they hold.
		if len(n.inputs) > 1 {
			if opset < 12 {
				return 0, invalidf("node %s: before opset 12 Dropout takes one input", name)
			}
			gaps["Dropout with ratio or training_mode"] = true
		}
		if len(n.outputs) > 1 {
			gaps["Dropout with a mask output"] = true
		}
	}
	return elements, nil
}

// checkMasks refuses a graph that reads a Dropout mask: the backends run
// inference only and do not compute one.
func checkMasks(g *graph) error {
	read := map[string]bool{}
	for _, n := range g.nodes {
		for _, in := range n.inputs {
			read[in] = true
		}
	}
	for _, out := range g.outputs {
		read[out.name] = true
	}
	for i := range g.nodes {
		n := &g.nodes[i]
		if len(n.outputs) > 1 && read[n.outputs[1]] {
			return invalidf("node %s: its mask output %q is used; only inference Dropout, whose mask is unused, is supported", nodeName(n, i), n.outputs[1])
		}
	}
	return nil
}

// checkWindow vets Conv, MaxPool and AveragePool attributes: 2-D windows
// only, in a sane range, and no pooling dilations (no backend implements
// them). What the compiled backend serves but gorgonnx gets wrong or
// refuses (grouped convolution, padding that differs by side, SAME_LOWER,
// ceil_mode) is recorded in gaps.
func checkWindow(n *node, name string, attrs map[string]*attribute, gaps map[string]bool) error {
	if g := attrs["group"]; g != nil && g.i != 1 {
		if g.i < 1 {
			return invalidf("node %s: Conv group %d is out of range", name, g.i)
		}
		gaps["Conv with group"] = true
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
			if v < 0 || v > 1024 {
				return invalidf("node %s: padding %d is out of range", name, v)
			}
			if v != p.ints[0] && n.opType != "AveragePool" {
				gaps[n.opType+" with unequal pads"] = true
			}
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
	if n.opType != "Conv" {
		if d := attrs["dilations"]; d != nil && (d.ints[0] != 1 || d.ints[1] != 1) {
			return invalidf("node %s: %s with dilations is not supported", name, n.opType)
		}
		if c := attrs["ceil_mode"]; c != nil && c.i != 0 {
			if c.i != 1 {
				return invalidf("node %s: %s ceil_mode %d is neither 0 nor 1", name, n.opType, c.i)
			}
			// ONNX's output size for VALID ignores ceil_mode while ONNX
			// Runtime applies it; PyTorch exports explicit pads.
			if a := attrs["auto_pad"]; a != nil && a.s != "" && a.s != "NOTSET" {
				return invalidf("node %s: %s with ceil_mode and auto_pad %s is not supported; use explicit pads", name, n.opType, a.s)
			}
			if n.opType == "MaxPool" {
				gaps["MaxPool with ceil_mode"] = true
			}
		}
	}
	if a := attrs["auto_pad"]; a != nil {
		switch a.s {
		case "", "NOTSET", "VALID", "SAME_UPPER":
			// onnx-go computes SAME_UPPER padding itself and refuses the
			// odd totals it cannot split.
		case "SAME_LOWER":
			if n.opType != "AveragePool" {
				gaps[n.opType+" with auto_pad SAME_LOWER"] = true
			}
		default:
			return invalidf("node %s: auto_pad %s is not supported; use explicit pads, VALID, SAME_UPPER or SAME_LOWER", name, a.s)
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
