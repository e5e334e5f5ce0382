package cpubackend

import (
	"fmt"
	"math"
	"slices"

	"github.com/owulveryck/onnx-go"
	"gorgonia.org/tensor"
)

// newOp compiles one operator from its attributes and operands (constants
// carry their data, so weights can be packed and shapes read now).
func newOp(o onnx.Operation, in []operand, opset int64) (op, error) {
	a := attrs(o.Attributes)
	arity := func(lo, hi int) error {
		if len(in) < lo || len(in) > hi {
			return unsupported("%d operands", len(in))
		}
		for i := range lo {
			if !in[i].present() {
				return unsupported("operand %d is missing", i)
			}
		}
		return nil
	}
	var err error
	switch o.Name {
	case "Identity":
		err = arity(1, 1)
		return &reshapeOp{kind: keepShape}, err
	case "Dropout":
		// Inference: the output is the input, whatever the ratio.
		err = arity(1, 3)
		return &reshapeOp{kind: keepShape}, err
	case "Flatten":
		if err := arity(1, 1); err != nil {
			return nil, err
		}
		axis, err := a.int("axis", 1)
		return &reshapeOp{kind: flattenShape, axis: int(axis)}, err
	case "Reshape":
		if err := arity(2, 2); err != nil {
			return nil, err
		}
		allowZero, err := a.int("allowzero", 0)
		if in[1].shaped {
			return &reshapeOp{kind: explicitShape, fromShapes: true, allowZero: allowZero != 0}, err
		}
		if in[1].k == nil || in[1].k.i64 == nil {
			return nil, unsupported("Reshape to a shape computed at run time")
		}
		return &reshapeOp{kind: explicitShape, dims: slices.Clone(in[1].k.i64), allowZero: allowZero != 0}, err
	case "Squeeze", "Unsqueeze":
		if err := arity(1, 2); err != nil {
			return nil, err
		}
		axes, err := a.ints("axes", nil)
		if err != nil {
			return nil, err
		}
		if len(in) == 2 && in[1].present() {
			if in[1].k == nil || in[1].k.i64 == nil {
				return nil, unsupported("%s axes computed at run time", o.Name)
			}
			axes = in[1].k.i64
		}
		kind := squeezeShape
		if o.Name == "Unsqueeze" {
			kind = unsqueezeShape
			if axes == nil {
				return nil, unsupported("Unsqueeze without axes")
			}
		}
		return &reshapeOp{kind: kind, dims: slices.Clone(axes)}, nil
	case "Clip":
		return newClip(a, in, opset)
	case "Pad":
		return newPad(a, in, opset)
	case "Relu", "Sigmoid", "Tanh":
		err = arity(1, 1)
		return &unaryOp{fn: o.Name}, err
	case "LeakyRelu":
		if err := arity(1, 1); err != nil {
			return nil, err
		}
		alpha, err := a.float("alpha", 0.01)
		return &unaryOp{fn: o.Name, alpha: alpha}, err
	case "Add", "Sub", "Mul", "Div":
		err = arity(2, 2)
		return &binaryOp{fn: o.Name}, err
	case "Softmax":
		if err := arity(1, 1); err != nil {
			return nil, err
		}
		def := int64(1)
		if opset >= 13 {
			def = -1
		}
		axis, err := a.int("axis", def)
		return &softmaxOp{axis: int(axis), legacy: opset < 13}, err
	case "Transpose":
		if err := arity(1, 1); err != nil {
			return nil, err
		}
		perm, err := a.ints("perm", nil)
		return &transposeOp{perm: toInts(perm)}, err
	case "Concat":
		if len(in) < 1 {
			return nil, unsupported("Concat without operands")
		}
		if err := arity(len(in), len(in)); err != nil {
			return nil, err
		}
		axis, err := a.int("axis", 0)
		if _, ok := o.Attributes["axis"]; !ok {
			return nil, unsupported("Concat without axis")
		}
		return &concatOp{axis: int(axis)}, err
	case "BatchNormalization":
		if err := arity(5, 5); err != nil {
			return nil, err
		}
		return newBatchNorm(a, in)
	case "Conv":
		if err := arity(2, 3); err != nil {
			return nil, err
		}
		return newConv(a, in)
	case "MatMul":
		if err := arity(2, 2); err != nil {
			return nil, err
		}
		return newMatMul(in)
	case "Gemm":
		if err := arity(2, 3); err != nil {
			return nil, err
		}
		return newGemm(a, in)
	case "MaxPool", "AveragePool":
		if err := arity(1, 1); err != nil {
			return nil, err
		}
		return newPool(o.Name, a)
	case "GlobalAveragePool", "GlobalMaxPool":
		err = arity(1, 1)
		return &globalPoolOp{max: o.Name == "GlobalMaxPool"}, err
	}
	return nil, unsupported("operator %s", o.Name)
}

// attrs reads onnx-go's decoded attributes with their types checked: a
// wrong type is the file's fault, not a reason to panic.
type attrs map[string]any

func (a attrs) int(name string, def int64) (int64, error) {
	v, ok := a[name]
	if !ok {
		return def, nil
	}
	i, ok := v.(int64)
	if !ok {
		return 0, unsupported("attribute %s is %T", name, v)
	}
	return i, nil
}

func (a attrs) float(name string, def float32) (float32, error) {
	v, ok := a[name]
	if !ok {
		return def, nil
	}
	f, ok := v.(float32)
	if !ok {
		return 0, unsupported("attribute %s is %T", name, v)
	}
	return f, nil
}

func (a attrs) ints(name string, def []int64) ([]int64, error) {
	v, ok := a[name]
	if !ok {
		return def, nil
	}
	i, ok := v.([]int64)
	if !ok {
		return nil, unsupported("attribute %s is %T", name, v)
	}
	return i, nil
}

func (a attrs) string(name string) (string, error) {
	v, ok := a[name]
	if !ok {
		return "", nil
	}
	switch s := v.(type) {
	case string:
		return s, nil
	case []byte:
		return string(s), nil
	}
	return "", unsupported("attribute %s is %T", name, v)
}

// constantAttr reads a Constant node's value.
func constantAttr(a map[string]any) (*constant, error) {
	if t, ok := a["value"].(tensor.Tensor); ok {
		return constantOf(t)
	}
	if f, ok := a["value_float"].(float32); ok {
		return &constant{f32: []float32{f}}, nil
	}
	if fs, ok := a["value_floats"].([]float32); ok {
		return &constant{shape: []int{len(fs)}, f32: slices.Clone(fs)}, nil
	}
	if i, ok := a["value_int"].(int64); ok {
		return &constant{i64: []int64{i}}, nil
	}
	if is, ok := a["value_ints"].([]int64); ok {
		return &constant{shape: []int{len(is)}, i64: slices.Clone(is)}, nil
	}
	return nil, unsupported("Constant without a supported value")
}

func toInts(v []int64) []int {
	if v == nil {
		return nil
	}
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}

// normAxis maps a possibly negative axis onto [0, rank) (or [0, rank] when
// inclusive, for Flatten and Unsqueeze).
func normAxis(axis, rank int, inclusive bool) (int, error) {
	limit := rank
	if inclusive {
		limit++
	}
	if axis < 0 {
		axis += rank
	}
	if axis < 0 || axis >= limit {
		return 0, fmt.Errorf("axis %d out of range for rank %d", axis, rank)
	}
	return axis, nil
}

// Shape-only operators.

type reshapeKind int

const (
	keepShape reshapeKind = iota
	flattenShape
	explicitShape
	squeezeShape
	unsqueezeShape
)

type reshapeOp struct {
	kind      reshapeKind
	axis      int
	dims      []int64
	allowZero bool
	// fromShapes: Reshape's target is a shape value (see shapeValueOp),
	// known only once the input shapes are, so dims is read per layout.
	fromShapes bool
}

// inferInts is infer for a Reshape whose target is a shape value: vals[1]
// holds it.
func (r *reshapeOp) inferInts(in [][]int, vals [][]int64) ([]int, error) {
	if !r.fromShapes {
		return r.infer(in)
	}
	return r.reshape(in[0], vals[1])
}

func (*reshapeOp) alias() {}

func (*reshapeOp) bind([]view, view) (func(), error) { return func() {}, nil }

func (r *reshapeOp) infer(in [][]int) ([]int, error) {
	x := in[0]
	switch r.kind {
	case keepShape:
		return x, nil
	case flattenShape:
		axis := r.axis
		if axis < 0 {
			axis += len(x)
		}
		if axis < 0 || axis > len(x) {
			return nil, fmt.Errorf("Flatten axis %d for rank %d", r.axis, len(x))
		}
		return []int{elements(x[:axis]), elements(x[axis:])}, nil
	case explicitShape:
		if r.fromShapes {
			return nil, fmt.Errorf("Reshape to a shape value without its value")
		}
		return r.reshape(x, r.dims)
	case squeezeShape:
		drop := make([]bool, len(x))
		if r.dims == nil {
			for i, d := range x {
				drop[i] = d == 1
			}
		}
		for _, a := range r.dims {
			i, err := normAxis(int(a), len(x), false)
			if err != nil {
				return nil, err
			}
			if x[i] != 1 {
				return nil, fmt.Errorf("Squeeze axis %d has size %d", a, x[i])
			}
			drop[i] = true
		}
		var out []int
		for i, d := range x {
			if !drop[i] {
				out = append(out, d)
			}
		}
		return out, nil
	case unsqueezeShape:
		rank := len(x) + len(r.dims)
		ones := make([]bool, rank)
		for _, a := range r.dims {
			i := int(a)
			if i < 0 {
				i += rank
			}
			if i < 0 || i >= rank || ones[i] {
				return nil, fmt.Errorf("bad Unsqueeze axes %v for rank %d", r.dims, len(x))
			}
			ones[i] = true
		}
		out := make([]int, 0, rank)
		j := 0
		for i := range rank {
			if ones[i] {
				out = append(out, 1)
			} else {
				out = append(out, x[j])
				j++
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown reshape")
}

// reshape applies Reshape's target (0 copies the input dimension unless
// allowzero, -1 takes what is left).
func (r *reshapeOp) reshape(x []int, target []int64) ([]int, error) {
	dims := make([]int, len(target))
	infer, known := -1, 1
	for i, d := range target {
		switch {
		case d == 0 && !r.allowZero:
			if i >= len(x) {
				return nil, fmt.Errorf("Reshape dimension %d copies a missing input dimension", i)
			}
			dims[i] = x[i]
		case d == -1 && infer < 0:
			infer = i
			continue
		case d >= 0:
			dims[i] = int(d)
		default:
			return nil, fmt.Errorf("bad Reshape shape %v", target)
		}
		known *= dims[i]
	}
	total := elements(x)
	if infer >= 0 {
		if known == 0 || total%known != 0 {
			return nil, fmt.Errorf("cannot reshape %v to %v", x, target)
		}
		dims[infer] = total / known
	}
	if elements(dims) != total {
		return nil, fmt.Errorf("cannot reshape %v to %v", x, target)
	}
	return dims, nil
}

// Element-wise operators.

type unaryOp struct {
	fn     string
	alpha  float32
	lo, hi float32 // Clip's bounds
}

func (u *unaryOp) infer(in [][]int) ([]int, error) { return in[0], nil }

func (u *unaryOp) bind(in []view, out view) (func(), error) {
	src, dst := in[0].data, out.data
	switch u.fn {
	case "Relu":
		return func() {
			for i, v := range src {
				dst[i] = max(v, 0)
			}
		}, nil
	case "LeakyRelu":
		alpha := u.alpha
		return func() {
			for i, v := range src {
				if v < 0 {
					v *= alpha
				}
				dst[i] = v
			}
		}, nil
	case "Clip":
		lo, hi := u.lo, u.hi
		return func() {
			for i, v := range src {
				dst[i] = min(max(v, lo), hi)
			}
		}, nil
	case "Sigmoid":
		return func() {
			for i, v := range src {
				dst[i] = sigmoid(v)
			}
		}, nil
	case "Tanh":
		return func() {
			for i, v := range src {
				dst[i] = float32(math.Tanh(float64(v)))
			}
		}, nil
	}
	return nil, unsupported("unary %s", u.fn)
}

// newClip reads Clip's bounds: attributes before opset 11, optional
// constant scalar operands from then on. A bound left out is infinite.
func newClip(a attrs, in []operand, opset int64) (op, error) {
	if len(in) < 1 || len(in) > 3 || !in[0].present() {
		return nil, unsupported("Clip with %d operands", len(in))
	}
	u := &unaryOp{fn: "Clip", lo: float32(math.Inf(-1)), hi: float32(math.Inf(1))}
	if opset < 11 {
		if len(in) > 1 {
			return nil, unsupported("Clip before opset 11 with bounds as operands")
		}
		var err error
		if u.lo, err = a.float("min", u.lo); err != nil {
			return nil, err
		}
		u.hi, err = a.float("max", u.hi)
		return u, err
	}
	for i, bound := range []*float32{&u.lo, &u.hi} {
		o := operand{id: -1}
		if i+1 < len(in) {
			o = in[i+1]
		}
		if !o.present() {
			continue
		}
		if o.k == nil || len(o.k.f32) != 1 {
			return nil, unsupported("Clip bound %d is not a constant float scalar", i+1)
		}
		*bound = o.k.f32[0]
	}
	return u, nil
}

func sigmoid(v float32) float32 {
	if v >= 0 {
		return float32(1 / (1 + math.Exp(-float64(v))))
	}
	e := math.Exp(float64(v))
	return float32(e / (1 + e))
}

// binaryOp is Add, Sub, Mul or Div with ONNX's multidirectional (numpy)
// broadcasting.
type binaryOp struct{ fn string }

func broadcast(a, b []int) ([]int, error) {
	rank := max(len(a), len(b))
	out := make([]int, rank)
	for i := range rank {
		da, db := 1, 1
		if j := i - (rank - len(a)); j >= 0 {
			da = a[j]
		}
		if j := i - (rank - len(b)); j >= 0 {
			db = b[j]
		}
		switch {
		case da == db || db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			return nil, fmt.Errorf("cannot broadcast %v with %v", a, b)
		}
	}
	return out, nil
}

func (o *binaryOp) infer(in [][]int) ([]int, error) { return broadcast(in[0], in[1]) }

// stridesIn returns an operand's strides over the output's index space,
// zero along broadcast dimensions.
func stridesIn(shape []int, rank int) []int {
	st := make([]int, rank)
	acc := 1
	for i := rank - 1; i >= 0; i-- {
		j := i - (rank - len(shape))
		if j < 0 {
			continue
		}
		if shape[j] != 1 {
			st[i] = acc
		}
		acc *= shape[j]
	}
	return st
}

func (o *binaryOp) bind(in []view, out view) (func(), error) {
	dst, x, y := out.data, in[0].data, in[1].data
	apply := binaryKernel(o.fn)
	if apply == nil {
		return nil, unsupported("binary %s", o.fn)
	}
	if len(x) == len(dst) && len(y) == len(dst) {
		return func() { apply(dst, x, 1, y, 1) }, nil
	}
	rank := len(out.shape)
	sa, sb := stridesIn(in[0].shape, rank), stridesIn(in[1].shape, rank)
	// Operands of equal length took the path above, so rank ≥ 1 here.
	inner := out.shape[rank-1]
	ia0 := offsets(out.shape[:rank-1], sa[:rank-1])
	ib0 := offsets(out.shape[:rank-1], sb[:rank-1])
	lastA, lastB := sa[rank-1], sb[rank-1]
	return func() {
		for r := range ia0 {
			apply(dst[r*inner:(r+1)*inner], x[ia0[r]:], lastA, y[ib0[r]:], lastB)
		}
	}, nil
}

// offsets returns, for every index of shape in row-major order, the sum of
// index[d]·strides[d]: where that element, or that row when shape holds an
// operand's leading dimensions, starts in the operand.
func offsets(shape, strides []int) []int {
	out := make([]int, elements(shape))
	idx := make([]int, len(shape))
	for i := range out {
		for d, x := range idx {
			out[i] += x * strides[d]
		}
		for d := len(shape) - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < shape[d] {
				break
			}
			idx[d] = 0
		}
	}
	return out
}

// binaryKernel returns dst[i] = x[i·sx] op y[i·sy].
func binaryKernel(fn string) func(dst, x []float32, sx int, y []float32, sy int) {
	switch fn {
	case "Add":
		return func(dst, x []float32, sx int, y []float32, sy int) {
			ix, iy := 0, 0
			for i := range dst {
				dst[i] = x[ix] + y[iy]
				ix, iy = ix+sx, iy+sy
			}
		}
	case "Sub":
		return func(dst, x []float32, sx int, y []float32, sy int) {
			ix, iy := 0, 0
			for i := range dst {
				dst[i] = x[ix] - y[iy]
				ix, iy = ix+sx, iy+sy
			}
		}
	case "Mul":
		return func(dst, x []float32, sx int, y []float32, sy int) {
			ix, iy := 0, 0
			for i := range dst {
				dst[i] = x[ix] * y[iy]
				ix, iy = ix+sx, iy+sy
			}
		}
	case "Div":
		return func(dst, x []float32, sx int, y []float32, sy int) {
			ix, iy := 0, 0
			for i := range dst {
				dst[i] = x[ix] / y[iy]
				ix, iy = ix+sx, iy+sy
			}
		}
	}
	return nil
}

// softmaxOp follows the operator's definition at the model's opset: before
// 13 the input is coerced to 2-D at axis (default 1); from 13 on it
// normalises along the single axis (default -1).
type softmaxOp struct {
	axis   int
	legacy bool
}

func (s *softmaxOp) infer(in [][]int) ([]int, error) {
	if _, err := normAxis(s.axis, max(len(in[0]), 1), false); err != nil {
		return nil, err
	}
	return in[0], nil
}

func (s *softmaxOp) bind(in []view, out view) (func(), error) {
	shape := in[0].shape
	axis, err := normAxis(s.axis, max(len(shape), 1), false)
	if err != nil {
		return nil, err
	}
	if len(shape) == 0 {
		shape = []int{1}
	}
	outer := elements(shape[:axis])
	length, inner := elements(shape[axis:]), 1
	if !s.legacy {
		length, inner = shape[axis], elements(shape[axis+1:])
	}
	src, dst := in[0].data, out.data
	return func() {
		for o := range outer {
			for in := range inner {
				base := o*length*inner + in
				m := float32(math.Inf(-1))
				for i := range length {
					m = max(m, src[base+i*inner])
				}
				var sum float32
				for i := range length {
					e := float32(math.Exp(float64(src[base+i*inner] - m)))
					dst[base+i*inner] = e
					sum += e
				}
				for i := range length {
					dst[base+i*inner] /= sum
				}
			}
		}
	}, nil
}

type transposeOp struct{ perm []int }

func (t *transposeOp) permFor(rank int) ([]int, error) {
	if t.perm == nil {
		p := make([]int, rank)
		for i := range p {
			p[i] = rank - 1 - i
		}
		return p, nil
	}
	if len(t.perm) != rank {
		return nil, fmt.Errorf("Transpose perm %v for rank %d", t.perm, rank)
	}
	seen := make([]bool, rank)
	for _, p := range t.perm {
		if p < 0 || p >= rank || seen[p] {
			return nil, fmt.Errorf("bad Transpose perm %v", t.perm)
		}
		seen[p] = true
	}
	return t.perm, nil
}

func (t *transposeOp) infer(in [][]int) ([]int, error) {
	perm, err := t.permFor(len(in[0]))
	if err != nil {
		return nil, err
	}
	out := make([]int, len(perm))
	for i, p := range perm {
		out[i] = in[0][p]
	}
	return out, nil
}

func (t *transposeOp) bind(in []view, out view) (func(), error) {
	x := in[0].shape
	perm, err := t.permFor(len(x))
	if err != nil {
		return nil, err
	}
	rank := len(x)
	if rank == 0 {
		src, dst := in[0].data, out.data
		return func() { copy(dst, src) }, nil
	}
	// Source strides in output order; the innermost output dimension runs
	// in the loop, the rest through an odometer.
	srcStride := make([]int, rank)
	acc := 1
	for i := rank - 1; i >= 0; i-- {
		srcStride[i] = acc
		acc *= x[i]
	}
	st := make([]int, rank)
	for i, p := range perm {
		st[i] = srcStride[p]
	}
	shape := out.shape
	inner, innerStride := shape[rank-1], st[rank-1]
	base := offsets(shape[:rank-1], st[:rank-1])
	src, dst := in[0].data, out.data
	return func() {
		for r, b := range base {
			row := dst[r*inner : (r+1)*inner]
			for i := range row {
				row[i] = src[b+i*innerStride]
			}
		}
	}, nil
}

type concatOp struct{ axis int }

func (c *concatOp) infer(in [][]int) ([]int, error) {
	first := in[0]
	axis, err := normAxis(c.axis, len(first), false)
	if err != nil {
		return nil, err
	}
	out := slices.Clone(first)
	for _, s := range in[1:] {
		if len(s) != len(first) {
			return nil, fmt.Errorf("Concat of ranks %d and %d", len(first), len(s))
		}
		for d := range s {
			if d != axis && s[d] != first[d] {
				return nil, fmt.Errorf("Concat of %v and %v on axis %d", first, s, axis)
			}
		}
		out[axis] += s[axis]
	}
	return out, nil
}

func (c *concatOp) bind(in []view, out view) (func(), error) {
	axis, err := normAxis(c.axis, len(out.shape), false)
	if err != nil {
		return nil, err
	}
	outer := elements(out.shape[:axis])
	chunks := make([]int, len(in)) // elements per outer index, per operand
	srcs := make([][]float32, len(in))
	total := 0
	for i, v := range in {
		chunks[i] = elements(v.shape[axis:])
		srcs[i] = v.data
		total += chunks[i]
	}
	dst := out.data
	return func() {
		o := 0
		for r := range outer {
			for i, src := range srcs {
				n := chunks[i]
				copy(dst[o:o+n], src[r*n:(r+1)*n])
				o += n
			}
		}
	}, nil
}
