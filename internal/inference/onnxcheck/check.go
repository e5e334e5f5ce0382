// Package onnxcheck vets an ONNX file before onnx-go is allowed to decode it.
//
// onnx-go trusts its input: malformed files can panic it, a graph input
// declaring a huge shape makes it allocate that shape up front, and several
// operators it accepts compute wrong results (Gemm corrupts its bias across
// runs at batch 1, Conv ignores its group attribute, asymmetric pads are
// misread). Check walks the protobuf wire format itself with bounded depth
// and counts, and refuses everything outside what one of the two backends
// runs correctly (onnx-go's gorgonnx, or Taskmind's compiled backend, which
// reuses only onnx-go's decoder), with a reason a person can act on; the
// report says what gorgonnx alone could not serve. It then infers the shape
// of every value for batch 1 and caps each value, their sum and the
// multiply-adds of a run, since onnx-go allocates every intermediate value
// and a run cannot be interrupted. What it accepts still gets a trial run
// under recover in the engine before it serves traffic.
package onnxcheck

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// ErrInvalid is wrapped by every refusal, so callers can tell a bad model
// from a failure of their own.
var ErrInvalid = errors.New("invalid model")

// Error is a refusal; its message is the reason, in plain words.
type Error struct{ reason string }

func (e *Error) Error() string { return e.reason }

// Is makes errors.Is(err, ErrInvalid) true for every refusal.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

func invalidf(format string, args ...any) error {
	return &Error{reason: fmt.Sprintf(format, args...)}
}

// Limits bound what a model may declare. The zero value of a field means its
// default (see DefaultLimits).
type Limits struct {
	// MaxBytes caps the file size.
	MaxBytes int64
	// MaxDepth caps protobuf message nesting.
	MaxDepth int
	// MaxNodes caps the nodes, and separately the initializers and values, of
	// the graph.
	MaxNodes int
	// MaxRank caps the number of dimensions of any tensor.
	MaxRank int
	// MaxInputElements caps the element count of each graph input.
	MaxInputElements int64
	// MaxTensorElements caps the element count of every other declared
	// tensor: initializers, constants, outputs and value infos (onnx-go
	// allocates declared shapes when it decodes the graph).
	MaxTensorElements int64
	// MaxTotalElements caps the sum of the element counts of all declared
	// tensors, and separately of all computed values.
	MaxTotalElements int64
	// MaxMultiplyAdds caps the multiply-adds of one prediction, so that a
	// small file cannot describe hours of work.
	MaxMultiplyAdds int64
}

// DefaultLimits fit models up to tens of millions of parameters and inputs
// up to a 1024×1024 RGB image, far above the digit classifiers Taskmind
// serves, while keeping what onnx-go allocates at decode time to a few
// hundred MiB at most.
func DefaultLimits() Limits {
	return Limits{
		MaxBytes:          64 << 20,
		MaxDepth:          16,
		MaxNodes:          10000,
		MaxRank:           8,
		MaxInputElements:  4 << 20,
		MaxTensorElements: 32 << 20,
		MaxTotalElements:  64 << 20,
		MaxMultiplyAdds:   1 << 30,
	}
}

// WithDefaults returns l with every zero field set to its default.
func (l Limits) WithDefaults() Limits { return l.withDefaults() }

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxNodes <= 0 {
		l.MaxNodes = d.MaxNodes
	}
	if l.MaxRank <= 0 {
		l.MaxRank = d.MaxRank
	}
	if l.MaxInputElements <= 0 {
		l.MaxInputElements = d.MaxInputElements
	}
	if l.MaxTensorElements <= 0 {
		l.MaxTensorElements = d.MaxTensorElements
	}
	if l.MaxTotalElements <= 0 {
		l.MaxTotalElements = d.MaxTotalElements
	}
	if l.MaxMultiplyAdds <= 0 {
		l.MaxMultiplyAdds = d.MaxMultiplyAdds
	}
	return l
}

// TensorSpec describes a graph input or output.
type TensorSpec struct {
	Name string
	// DType is the ONNX element type name, e.g. "FLOAT".
	DType string
	// Shape has every dimension fixed; a symbolic batch dimension is 1,
	// because onnx-go fixes the batch size at the first run.
	Shape []int
}

// Elements is the product of the shape.
func (s TensorSpec) Elements() int {
	n := 1
	for _, d := range s.Shape {
		n *= d
	}
	return n
}

// Report is what Check learned about an accepted model.
type Report struct {
	IRVersion int64
	Opset     int64
	Producer  string
	// Inputs are the graph inputs that are not initializers, in graph order.
	Inputs []TensorSpec
	// Outputs are the graph outputs in graph order, with the shapes shape
	// inference computed for batch 1.
	Outputs []TensorSpec
	// Operators lists the distinct operator types used, sorted.
	Operators []string
	// Parameters counts the elements of all initializers.
	Parameters int64
	// MultiplyAdds estimates the work of one prediction (Conv, MatMul, Gemm,
	// and one per window element for MaxPool and AveragePool).
	MultiplyAdds int64
	// GorgonnxUnsupported names, sorted, the operators and operator forms in
	// the model that onnx-go's gorgonnx backend cannot run or runs wrongly
	// (such as "Gemm", "AveragePool", "Squeeze at opset 13 or later"). When
	// it is not empty only the compiled backend may serve the model: if that
	// cannot compile it, refuse it with GorgonnxError rather than fall back.
	GorgonnxUnsupported []string

	// What CostAt needs to run shape inference again at another batch.
	graph *graph
	order []int
	lim   Limits
}

// CostAt runs shape inference again with the first dimension of every
// input set to batch, and returns the multiply-adds of that prediction. It
// fails, wrapping ErrInvalid, when an input, a single value or the work at
// that batch exceeds the limits Check was given. The sum of all values is
// not checked here: what a batch holds at once is the serving backend's to
// price (the compiled plan reuses buffers). Costs need not grow linearly
// with the batch (a product of a batch-dependent tensor with its own
// transpose grows with its square), so a batch-1 cost times the batch
// proves nothing.
func (r *Report) CostAt(batch int) (int64, error) {
	if batch < 1 {
		return 0, invalidf("a batch of %d; batches start at 1", batch)
	}
	inputs := make([]TensorSpec, len(r.Inputs))
	for i, in := range r.Inputs {
		in.Shape = slices.Clone(in.Shape)
		if len(in.Shape) > 0 {
			in.Shape[0] = batch
		}
		if n := int64(in.Elements()); n > r.lim.MaxInputElements {
			return 0, invalidf("input %q at batch %d has %d elements; the limit is %d", in.Name, batch, n, r.lim.MaxInputElements)
		}
		inputs[i] = in
	}
	lim := r.lim
	lim.MaxTotalElements = math.MaxInt64
	work, _, err := inferShapes(r.graph, r.order, inputs, r.Opset, lim, map[string]bool{})
	if err != nil {
		return 0, fmt.Errorf("at batch %d: %w", batch, err)
	}
	return work, nil
}

// GorgonnxError says why gorgonnx cannot serve the model, or is nil when it
// can. The error wraps ErrInvalid.
func (r *Report) GorgonnxError() error {
	if len(r.GorgonnxUnsupported) == 0 {
		return nil
	}
	return &Error{reason: gorgonnxRefusal(r.GorgonnxUnsupported)}
}

// The IR versions and default-domain opsets accepted. onnx-go's operators
// implement the semantics of opsets 7 to 12; later opsets changed some
// operators (handled per operator in checkNode) but not the ones a typical
// CNN uses.
const (
	minIRVersion = 3
	maxIRVersion = 10
	minOpset     = 7
	maxOpset     = 17
)

// Check vets b and returns what the engine needs to know about the model.
// Every error wraps ErrInvalid and says why in words.
func Check(b []byte, lim Limits) (*Report, error) {
	lim = lim.withDefaults()
	if int64(len(b)) > lim.MaxBytes {
		return nil, invalidf("the model is %s; the limit is %s", byteSize(int64(len(b))), byteSize(lim.MaxBytes))
	}
	if len(b) == 0 {
		return nil, invalidf("the model file is empty")
	}
	d := &decoder{lim: lim}
	m, err := d.model(b)
	if err != nil {
		return nil, err
	}
	return checkModel(m, lim)
}

func checkModel(m *model, lim Limits) (*Report, error) {
	if m.irVersion == 0 {
		return nil, invalidf("the file is not an ONNX model: it has no IR version")
	}
	if m.irVersion < minIRVersion || m.irVersion > maxIRVersion {
		return nil, invalidf("ONNX IR version %d is not supported; supported versions are %d to %d", m.irVersion, minIRVersion, maxIRVersion)
	}
	opset, ok := m.opsets[""]
	if !ok {
		return nil, invalidf("the model does not import the default ONNX operator set")
	}
	if opset < minOpset || opset > maxOpset {
		return nil, invalidf("opset %d is not supported; export with an opset from %d to %d", opset, minOpset, maxOpset)
	}
	g := m.graph
	if g == nil {
		return nil, invalidf("the model has no graph")
	}
	if len(g.nodes) == 0 {
		return nil, invalidf("the graph has no nodes")
	}
	r := &Report{IRVersion: m.irVersion, Opset: opset, Producer: m.producer}

	// Names defined before any node runs: initializers and graph inputs.
	defined := map[string]bool{}
	var total int64
	for i := range g.initializers {
		t := &g.initializers[i]
		if t.name == "" {
			return nil, invalidf("initializer #%d has no name", i)
		}
		if defined[t.name] {
			return nil, invalidf("initializer %q is defined twice", t.name)
		}
		defined[t.name] = true
		n, err := checkTensor("initializer "+quote(t.name), t, lim)
		if err != nil {
			return nil, err
		}
		r.Parameters += n
		total += n
	}

	for _, in := range g.inputs {
		if in.name == "" {
			return nil, invalidf("a graph input has no name")
		}
		if defined[in.name] {
			// IR 3 lists initializers among the inputs too; they are not
			// inputs a caller feeds.
			if slices.ContainsFunc(g.initializers, func(t tensor) bool { return t.name == in.name }) {
				continue
			}
			return nil, invalidf("graph input %q is declared twice", in.name)
		}
		defined[in.name] = true
		spec, err := inputSpec(in, lim)
		if err != nil {
			return nil, err
		}
		total += int64(spec.Elements())
		r.Inputs = append(r.Inputs, spec)
	}
	if len(r.Inputs) == 0 {
		return nil, invalidf("the graph has no inputs")
	}

	// onnx-go allocates every declared output and value info shape when it
	// decodes the graph, so they are capped like initializers.
	for _, v := range g.valueInfos {
		n, err := declaredElements("value "+quote(v.name), v, lim)
		if err != nil {
			return nil, err
		}
		total += n
	}
	if len(g.outputs) == 0 {
		return nil, invalidf("the graph has no outputs")
	}
	for _, out := range g.outputs {
		if out.name == "" {
			return nil, invalidf("a graph output has no name")
		}
		what := "output " + quote(out.name)
		if !out.hasType {
			return nil, invalidf("%s has no type", what)
		}
		if out.elem != dtFloat {
			return nil, invalidf("%s has data type %s; only FLOAT outputs are supported", what, dataTypeName(out.elem))
		}
		n, err := declaredElements(what, out, lim)
		if err != nil {
			return nil, err
		}
		total += n
		spec := TensorSpec{Name: out.name, DType: "FLOAT"}
		for _, dm := range out.shape {
			spec.Shape = append(spec.Shape, int(max(dm.value, 0)))
		}
		r.Outputs = append(r.Outputs, spec)
	}

	ops, gaps := map[string]bool{}, map[string]bool{}
	for i := range g.nodes {
		n := &g.nodes[i]
		nt, err := checkNode(n, i, opset, lim, gaps)
		if err != nil {
			return nil, err
		}
		total += nt
		ops[n.opType] = true
	}
	if total > lim.MaxTotalElements {
		return nil, invalidf("the model declares %d tensor elements in all; the limit is %d", total, lim.MaxTotalElements)
	}
	order, err := checkDataflow(g, defined)
	if err != nil {
		return nil, err
	}
	if err := checkMasks(g); err != nil {
		return nil, err
	}
	work, outShapes, err := inferShapes(g, order, r.Inputs, opset, lim, gaps)
	if err != nil {
		return nil, err
	}
	r.MultiplyAdds = work
	r.graph, r.order, r.lim = g, order, lim
	for i := range r.Outputs {
		inferred := outShapes[i]
		for j, d := range r.Outputs[i].Shape {
			if len(r.Outputs[i].Shape) != len(inferred) || (d != 0 && int64(d) != inferred[j]) {
				return nil, invalidf("output %q is declared with shape %s but computes %s", r.Outputs[i].Name, dimsString(toInt64s(r.Outputs[i].Shape)), dimsString(inferred))
			}
		}
		r.Outputs[i].Shape = toInts(inferred)
	}
	for op := range ops {
		r.Operators = append(r.Operators, op)
	}
	slices.Sort(r.Operators)
	r.GorgonnxUnsupported = slices.Sorted(maps.Keys(gaps))
	return r, nil
}

// checkTensor vets an initializer or constant: a supported type, a sane
// shape, and exactly as much data as the shape declares. It returns the
// element count.
func checkTensor(what string, t *tensor, lim Limits) (int64, error) {
	if t.external {
		return 0, invalidf("%s keeps its data in an external file; embed all data in the model", what)
	}
	if t.dataType != dtFloat && t.dataType != dtInt64 {
		return 0, invalidf("%s has data type %s; only FLOAT and INT64 are supported", what, dataTypeName(t.dataType))
	}
	for _, d := range t.dims {
		if d <= 0 {
			return 0, invalidf("%s has dimension %d; dimensions must be positive", what, d)
		}
	}
	n, ok := numElements(t.dims)
	if !ok || n > lim.MaxTensorElements {
		return 0, invalidf("%s declares %s elements; the limit is %d", what, dimsProduct(t.dims), lim.MaxTensorElements)
	}
	var have int64
	var where string
	elemSize := int64(4)
	if t.dataType == dtInt64 {
		elemSize = 8
	}
	switch {
	case t.int32Data > 0 || t.stringData > 0 || t.doubleData > 0 || t.uint64Data > 0:
		return 0, invalidf("%s has data type %s but stores its values in a field for another type", what, dataTypeName(t.dataType))
	case t.rawData > 0:
		if t.floatData > 0 || t.int64Data > 0 {
			return 0, invalidf("%s stores its values twice (raw and typed)", what)
		}
		if t.rawData%elemSize != 0 {
			return 0, invalidf("%s has %d bytes of raw data, not a whole number of %s values", what, t.rawData, dataTypeName(t.dataType))
		}
		have, where = t.rawData/elemSize, "raw data"
	case t.dataType == dtFloat:
		if t.int64Data > 0 {
			return 0, invalidf("%s has data type FLOAT but stores its values as INT64", what)
		}
		have, where = t.floatData, "float data"
	default:
		if t.floatData > 0 {
			return 0, invalidf("%s has data type INT64 but stores its values as FLOAT", what)
		}
		have, where = t.int64Data, "int64 data"
	}
	if have != n {
		return 0, invalidf("%s declares shape %s (%d elements) but holds %d values of %s", what, dimsString(t.dims), n, have, where)
	}
	return n, nil
}

// inputSpec vets a graph input fed by callers and fixes its shape.
func inputSpec(v valueInfo, lim Limits) (TensorSpec, error) {
	what := "input " + quote(v.name)
	if !v.hasType {
		return TensorSpec{}, invalidf("%s has no type", what)
	}
	if v.elem != dtFloat {
		return TensorSpec{}, invalidf("%s has data type %s; only FLOAT inputs are supported", what, dataTypeName(v.elem))
	}
	if v.shape == nil {
		return TensorSpec{}, invalidf("%s declares no shape; a fixed shape is required", what)
	}
	spec := TensorSpec{Name: v.name, DType: "FLOAT", Shape: make([]int, len(v.shape))}
	dims := make([]int64, len(v.shape))
	for i, dm := range v.shape {
		switch {
		case dm.hasValue && dm.value > 0:
			dims[i] = dm.value
		case i == 0 && (!dm.hasValue || dm.value == 0):
			// A symbolic (or unset) batch dimension: onnx-go fixes the batch
			// size at its first run, and the engine runs batch 1.
			dims[i] = 1
		case !dm.hasValue:
			return TensorSpec{}, invalidf("%s dimension %d is symbolic (%q); only the first (batch) dimension may be", what, i, dm.param)
		default:
			return TensorSpec{}, invalidf("%s has dimension %d; dimensions must be positive", what, dm.value)
		}
	}
	n, ok := numElements(dims)
	if !ok || n > lim.MaxInputElements {
		return TensorSpec{}, invalidf("%s declares %s elements; the limit is %d", what, dimsProduct(dims), lim.MaxInputElements)
	}
	for i, d := range dims {
		spec.Shape[i] = int(d)
	}
	return spec, nil
}

// declaredElements caps a declared output or value-info shape; symbolic
// dimensions count as 1, as onnx-go drops them.
func declaredElements(what string, v valueInfo, lim Limits) (int64, error) {
	dims := make([]int64, 0, len(v.shape))
	for _, dm := range v.shape {
		if !dm.hasValue {
			continue
		}
		if dm.value < 0 {
			return 0, invalidf("%s has dimension %d; dimensions must not be negative", what, dm.value)
		}
		dims = append(dims, dm.value)
	}
	n, ok := numElements(dims)
	if !ok || n > lim.MaxTensorElements {
		return 0, invalidf("%s declares %s elements; the limit is %d", what, dimsProduct(dims), lim.MaxTensorElements)
	}
	return n, nil
}

// checkDataflow makes sure every node input is produced somewhere, no value is
// produced twice, the graph is acyclic and every output is produced: onnx-go
// reports a cycle only as "infinite loop" and invents empty tensors for
// dangling names.
func checkDataflow(g *graph, defined map[string]bool) ([]int, error) {
	producer := map[string]int{}
	for i, n := range g.nodes {
		for _, out := range n.outputs {
			if out == "" {
				return nil, invalidf("node %s has an unnamed output", nodeName(&g.nodes[i], i))
			}
			if defined[out] {
				return nil, invalidf("node %s writes %q, which is an input or initializer", nodeName(&g.nodes[i], i), out)
			}
			if _, dup := producer[out]; dup {
				return nil, invalidf("value %q is produced by more than one node", out)
			}
			producer[out] = i
		}
	}
	// Kahn's algorithm over node indices.
	pending := make([]int, len(g.nodes))
	consumers := map[int][]int{}
	for i, n := range g.nodes {
		for j, in := range n.inputs {
			switch p, ok := producer[in]; {
			case in == "" && emptyOptional[n.opType] && j >= supported[n.opType].minIn:
			case in == "":
				return nil, invalidf("node %s has an unnamed input (optional inputs must be left out, not named \"\")", nodeName(&g.nodes[i], i))
			case ok:
				pending[i]++
				consumers[p] = append(consumers[p], i)
			case !defined[in]:
				return nil, invalidf("node %s reads %q, which no node, input or initializer defines", nodeName(&g.nodes[i], i), in)
			}
		}
	}
	var ready []int
	for i, p := range pending {
		if p == 0 {
			ready = append(ready, i)
		}
	}
	order := make([]int, 0, len(g.nodes))
	for len(ready) > 0 {
		i := ready[len(ready)-1]
		ready = ready[:len(ready)-1]
		order = append(order, i)
		for _, c := range consumers[i] {
			pending[c]--
			if pending[c] == 0 {
				ready = append(ready, c)
			}
		}
	}
	if len(order) != len(g.nodes) {
		return nil, invalidf("the graph has a cycle")
	}
	for _, out := range g.outputs {
		if _, ok := producer[out.name]; !ok {
			return nil, invalidf("output %q is not produced by any node", out.name)
		}
	}
	return order, nil
}

func nodeName(n *node, i int) string {
	if n.name != "" {
		return fmt.Sprintf("%q (%s)", n.name, n.opType)
	}
	return fmt.Sprintf("#%d (%s)", i, n.opType)
}

func quote(s string) string { return "'" + s + "'" }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func dimsString(dims []int64) string {
	parts := make([]string, len(dims))
	for i, d := range dims {
		parts[i] = itoa(d)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// dimsProduct prints the element count of dims exactly, even past int64.
func dimsProduct(dims []int64) string {
	if n, ok := numElements(dims); ok {
		return itoa(n)
	}
	return "more than 9223372036854775807"
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	default:
		return fmt.Sprintf("%d bytes", n)
	}
}
