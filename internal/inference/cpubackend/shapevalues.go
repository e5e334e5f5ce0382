package cpubackend

import (
	"fmt"
	"slices"
)

// Shape values are the small INT64 tensors that PyTorch exports for
// x.view(x.size(0), -1) with a dynamic batch: Shape, then Gather, Unsqueeze,
// Concat (and Slice, Squeeze) on its result, feeding a Reshape. They depend
// only on the input shapes, so a plan computes them when it lays out a
// shape signature (shapesFor), never per run; a Reshape reads its target
// there. Any other operator reading one is refused at compile time.

// shapeValueOp computes a shape value from its operands' shapes and, for
// INT64 operands (constants or shape values), their data.
type shapeValueOp interface {
	op
	eval(shapes [][]int, vals [][]int64) ([]int, []int64, error)
}

// atLayout gives shape value operators the op methods they never use: they
// hold no buffer and run no step.
type atLayout struct{}

func (atLayout) infer([][]int) ([]int, error) {
	return nil, fmt.Errorf("a shape value is computed at layout")
}

func (atLayout) bind([]view, view) (func(), error) {
	return nil, fmt.Errorf("a shape value is computed at layout")
}

// addShapeValue compiles on if it computes a shape value: Shape, or
// Gather, Slice, Squeeze, Unsqueeze or Concat of INT64 data. Where every
// operand is a constant, the value is a constant too.
func (c *compiler) addShapeValue(on *opNode, ins []operand) (bool, error) {
	isInt := func(o operand) bool { return o.shaped || (o.k != nil && o.k.i64 != nil) }
	constInts := func(i int, what string) ([]int64, error) {
		if i >= len(ins) || !ins[i].present() {
			return nil, nil
		}
		if ins[i].k == nil || ins[i].k.i64 == nil {
			return nil, unsupported("%s's %s must be a constant INT64 tensor", on.op.Name, what)
		}
		return ins[i].k.i64, nil
	}
	a := attrs(on.op.Attributes)
	var o shapeValueOp
	switch on.op.Name {
	case "Shape":
		if len(ins) != 1 {
			return true, unsupported("Shape with %d operands", len(ins))
		}
		start, err := a.int("start", 0)
		if err != nil {
			return true, err
		}
		end, err := a.int("end", 1<<31)
		if err != nil {
			return true, err
		}
		o = &shapeOp{start: int(start), end: int(end)}
	case "Gather":
		if len(ins) != 2 || !isInt(ins[0]) {
			return true, unsupported("Gather of float data; only Gather of INT64 shapes is supported")
		}
		idx, err := constInts(1, "indices")
		if err != nil {
			return true, err
		}
		if idx == nil || len(ins[1].k.shape) > 1 {
			return true, unsupported("Gather's indices must be a constant INT64 scalar or vector")
		}
		axis, err := a.int("axis", 0)
		if err != nil {
			return true, err
		}
		if axis != 0 && axis != -1 {
			return true, unsupported("Gather of a shape along axis %d", axis)
		}
		o = &gatherOp{indices: slices.Clone(idx), shape: slices.Clone(ins[1].k.shape)}
	case "Slice":
		if len(ins) < 3 || !isInt(ins[0]) {
			return true, unsupported("Slice of float data; only Slice of INT64 shapes with starts and ends as operands (opset 10 on) is supported")
		}
		s := &sliceOp{}
		var err error
		for i, dst := range []*[]int64{&s.starts, &s.ends, &s.axes, &s.steps} {
			if *dst, err = constInts(i+1, [...]string{"starts", "ends", "axes", "steps"}[i]); err != nil {
				return true, err
			}
		}
		if len(s.starts) != 1 || len(s.ends) != 1 || (s.axes != nil && (len(s.axes) != 1 || (s.axes[0] != 0 && s.axes[0] != -1))) || (s.steps != nil && (len(s.steps) != 1 || s.steps[0] == 0)) {
			return true, unsupported("Slice of a shape other than along its one axis")
		}
		o = s
	case "Squeeze", "Unsqueeze":
		if len(ins) == 0 || !isInt(ins[0]) {
			return false, nil
		}
		r, err := newOp(on.op, ins, c.opts.Opset)
		if err != nil {
			return true, err
		}
		o = &reshapeInts{r: r.(*reshapeOp)}
	case "Concat":
		if !slices.ContainsFunc(ins, isInt) {
			return false, nil
		}
		if slices.ContainsFunc(ins, func(o operand) bool { return !isInt(o) }) {
			return true, unsupported("Concat of INT64 and float values")
		}
		axis, err := a.int("axis", 0)
		if err != nil {
			return true, err
		}
		if axis != 0 && axis != -1 {
			return true, unsupported("Concat of shapes along axis %d", axis)
		}
		o = concatInts{}
	default:
		return false, nil
	}
	out := c.valueOf(on.outs[0])
	s := step{name: on.op.Name, op: o, out: out}
	allConst := true
	for _, in := range ins {
		s.in = append(s.in, in.id)
		allConst = allConst && in.present() && in.k != nil
	}
	if !allConst {
		c.p.values[out].shaped = true
		c.p.steps = append(c.p.steps, s)
		return true, nil
	}
	shapes := make([][]int, len(ins))
	vals := make([][]int64, len(ins))
	for i, in := range ins {
		shapes[i], vals[i] = in.k.shape, in.k.i64
	}
	shape, v, err := o.eval(shapes, vals)
	if err != nil {
		return true, err
	}
	c.p.values[out].k = &constant{shape: shape, i64: v}
	return true, nil
}

// shapeOp is Shape, with opset 15's start and end.
type shapeOp struct {
	atLayout
	start, end int
}

func (s *shapeOp) eval(shapes [][]int, _ [][]int64) ([]int, []int64, error) {
	x := shapes[0]
	clamp := func(i int) int {
		if i < 0 {
			i += len(x)
		}
		return min(max(i, 0), len(x))
	}
	start, end := clamp(s.start), clamp(s.end)
	var v []int64
	for i := start; i < end; i++ {
		v = append(v, int64(x[i]))
	}
	return []int{len(v)}, v, nil
}

// gatherOp is Gather along axis 0 of a 1-D INT64 tensor with constant
// indices.
type gatherOp struct {
	atLayout
	indices []int64
	shape   []int // of the indices: nil for a scalar
}

func (g *gatherOp) eval(shapes [][]int, vals [][]int64) ([]int, []int64, error) {
	data := vals[0]
	if len(shapes[0]) != 1 {
		return nil, nil, fmt.Errorf("Gather of a rank-%d INT64 tensor", len(shapes[0]))
	}
	v := make([]int64, len(g.indices))
	for i, j := range g.indices {
		if j < 0 {
			j += int64(len(data))
		}
		if j < 0 || j >= int64(len(data)) {
			return nil, nil, fmt.Errorf("Gather index %d out of range for %d values", g.indices[i], len(data))
		}
		v[i] = data[j]
	}
	return g.shape, v, nil
}

// sliceOp is Slice along the one axis of a 1-D INT64 tensor.
type sliceOp struct {
	atLayout
	starts, ends, axes, steps []int64
}

func (s *sliceOp) eval(shapes [][]int, vals [][]int64) ([]int, []int64, error) {
	data := vals[0]
	if len(shapes[0]) != 1 {
		return nil, nil, fmt.Errorf("Slice of a rank-%d INT64 tensor", len(shapes[0]))
	}
	n := int64(len(data))
	start, end, step := s.starts[0], s.ends[0], int64(1)
	if s.steps != nil {
		step = s.steps[0]
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	var v []int64
	if step > 0 {
		start, end = min(max(start, 0), n), min(max(end, 0), n)
		// Capping the step keeps i += step from overflowing for a huge step.
		for i := start; i < end; i += min(step, end-i) {
			v = append(v, data[i])
		}
	} else {
		start, end = min(max(start, 0), n-1), min(max(end, -1), n-1)
		for i := start; i > end; i += step {
			v = append(v, data[i])
		}
	}
	return []int{len(v)}, v, nil
}

// reshapeInts is Squeeze or Unsqueeze of a shape value: the data stays.
type reshapeInts struct {
	atLayout
	r *reshapeOp
}

func (r *reshapeInts) eval(shapes [][]int, vals [][]int64) ([]int, []int64, error) {
	shape, err := r.r.infer(shapes[:1])
	return shape, vals[0], err
}

// concatInts is Concat of 1-D INT64 tensors.
type concatInts struct{ atLayout }

func (concatInts) eval(shapes [][]int, vals [][]int64) ([]int, []int64, error) {
	var v []int64
	for i, s := range shapes {
		if len(s) != 1 {
			return nil, nil, fmt.Errorf("Concat of a rank-%d INT64 tensor", len(s))
		}
		v = append(v, vals[i]...)
	}
	return []int{len(v)}, v, nil
}
