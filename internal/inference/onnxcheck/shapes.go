package onnxcheck

import (
	"encoding/binary"
	"math"
	"math/bits"
	"slices"
)

// inferShapes computes the shape of every value for the fixed input shapes,
// in dependency order, and refuses a graph whose values or work exceed the
// limits. onnx-go allocates every intermediate value and cannot be stopped
// mid-run, so a small file whose MatMul is an outer product of two long
// vectors, or whose Concat chain doubles at every step, must be refused
// here: declared shapes alone do not reveal it. It returns the estimated
// multiply-adds of one run and the graph outputs' shapes.
func inferShapes(g *graph, order []int, inputs []TensorSpec, opset int64, lim Limits, gaps map[string]bool) (int64, [][]int64, error) {
	s := &shapes{
		dims:   map[string][]int64{},
		consts: map[string][]int64{},
		fixed:  map[string]bool{},
		shaped: map[string]bool{},
		lim:    lim,
		gaps:   gaps,
	}
	for _, t := range g.initializers {
		s.dims[t.name] = slices.Clone(t.dims)
		s.fixed[t.name] = true
		if t.dataType == dtInt64 {
			if v, ok := int64Values(&t); ok {
				s.consts[t.name] = v
			}
		}
	}
	for _, in := range inputs {
		s.dims[in.Name] = toInt64s(in.Shape)
	}
	for _, i := range order {
		n := &g.nodes[i]
		out, err := s.node(n, opset)
		if err != nil {
			return 0, nil, invalidf("node %s: %v", nodeName(n, i), err)
		}
		e, ok := numElements(out)
		if !ok || e > lim.MaxTensorElements {
			return 0, nil, invalidf("node %s computes a value of shape %s (%s elements); the limit is %d", nodeName(n, i), dimsString(out), dimsProduct(out), lim.MaxTensorElements)
		}
		s.total += e
		if s.total > lim.MaxTotalElements {
			return 0, nil, invalidf("the graph's values hold more than %d elements in all", lim.MaxTotalElements)
		}
		if s.work > lim.MaxMultiplyAdds {
			return 0, nil, invalidf("one prediction needs more than %d multiply-adds; the limit is %d", lim.MaxMultiplyAdds, lim.MaxMultiplyAdds)
		}
		s.dims[n.outputs[0]] = out
	}
	outs := make([][]int64, len(g.outputs))
	for i, o := range g.outputs {
		if s.shaped[o.name] {
			return 0, nil, invalidf("output %q is an INT64 shape computed by Shape; only FLOAT outputs are supported", o.name)
		}
		outs[i] = s.dims[o.name]
	}
	return s.work, outs, nil
}

type shapes struct {
	dims   map[string][]int64
	consts map[string][]int64 // values of small INT64 tensors
	// fixed marks initializers and Constant outputs; shaped marks the
	// INT64 values computed from input shapes (Shape and what follows it),
	// whose consts hold their value at batch 1.
	fixed, shaped map[string]bool
	lim           Limits
	total         int64
	work          int64
	gaps          map[string]bool // Report.GorgonnxUnsupported, for gaps that depend on shapes
}

// int64Values decodes a small INT64 initializer or constant.
func int64Values(t *tensor) ([]int64, bool) {
	n, ok := numElements(t.dims)
	if !ok || n > maxAttrValues {
		return nil, false
	}
	if t.raw != nil {
		v := make([]int64, n)
		for i := range v {
			v[i] = int64(binary.LittleEndian.Uint64(t.raw[8*i:]))
		}
		return v, true
	}
	return t.ints, int64(len(t.ints)) == n
}

// readsShape reports whether input i of op may be a shape computed at run
// time: the compiled backend computes those values per batch only for these
// readers.
func readsShape(op string, i int) bool {
	switch op {
	case "Gather", "Slice", "Squeeze", "Unsqueeze":
		return i == 0
	case "Concat":
		return true
	case "Reshape":
		return i == 1
	}
	return false
}

func (s *shapes) node(n *node, opset int64) ([]int64, error) {
	for i, name := range n.inputs {
		if s.shaped[name] && !readsShape(n.opType, i) {
			return nil, invalidf("%s reads %q, a shape computed at run time; only Gather, Slice, Squeeze, Unsqueeze, Concat and Reshape's shape may", n.opType, name)
		}
	}
	out, err := s.nodeShape(n, opset)
	if err != nil || len(n.inputs) == 0 {
		return out, err
	}
	// INT64 values pass through these at batch 1, so that a Reshape to
	// Concat(Unsqueeze(Gather(Shape(x), 0)), [-1]) still has its shape
	// inferred.
	y := n.outputs[0]
	switch n.opType {
	case "Squeeze", "Unsqueeze":
		if v, ok := s.consts[n.inputs[0]]; ok {
			s.consts[y], s.shaped[y] = v, s.shaped[n.inputs[0]]
		}
	case "Concat":
		var v []int64
		known := true
		for _, name := range n.inputs {
			c, ok := s.consts[name]
			v, known = append(v, c...), known && ok
			s.shaped[y] = s.shaped[y] || s.shaped[name]
		}
		// Along axis 0 row-major data concatenates as is.
		for _, a := range n.attrs {
			if known && a.name == "axis" && len(out) > 0 && (a.i == 0 || a.i == -int64(len(out))) {
				s.consts[y] = v
			}
		}
	}
	return out, nil
}

// intValues returns a small INT64 tensor's values, refusing anything
// else with the reason.
func (s *shapes) intValues(op, what, name string) ([]int64, error) {
	v, ok := s.consts[name]
	if !ok {
		return nil, invalidf("%s's %s %q must be INT64: a shape from Shape, or a small initializer or constant", op, what, name)
	}
	return v, nil
}

func (s *shapes) nodeShape(n *node, opset int64) ([]int64, error) {
	in := make([][]int64, len(n.inputs))
	for i, name := range n.inputs {
		in[i] = s.dims[name]
	}
	attrs := map[string]*attribute{}
	for j := range n.attrs {
		attrs[n.attrs[j].name] = &n.attrs[j]
	}
	intAttr := func(name string, def int64) int64 {
		if a := attrs[name]; a != nil {
			return a.i
		}
		return def
	}
	switch n.opType {
	case "Add", "Sub", "Mul", "Div", "Max", "Min":
		return broadcast(in[0], in[1])
	case "MatMul":
		return s.matmul(in[0], in[1])
	case "Gemm":
		return s.gemm(in, intAttr("transA", 0) != 0, intAttr("transB", 0) != 0)
	case "Conv":
		return s.conv(in, attrs)
	case "MaxPool", "AveragePool":
		if len(in[0]) != 4 {
			return nil, invalidf("%s needs a 4-D input, got %s", n.opType, dimsString(in[0]))
		}
		k := attrs["kernel_shape"].ints // checkWindow made sure it has 2 values
		oh, ow, err := windowOut(in[0][2], in[0][3], k[0], k[1], attrs)
		if err != nil {
			return nil, err
		}
		// A pooling window is cheap per element but may be 1024×1024.
		s.addWork(in[0][0], in[0][1], oh, ow, k[0], k[1])
		return []int64{in[0][0], in[0][1], oh, ow}, nil
	case "Dropout":
		for i, p := range in[1:] {
			if e, _ := numElements(p); e != 1 {
				return nil, invalidf("Dropout's %s %q has shape %s; want a scalar", [...]string{"ratio", "training_mode"}[i], n.inputs[i+1], dimsString(p))
			}
		}
		return in[0], nil
	case "GlobalAveragePool":
		if len(in[0]) < 3 {
			return nil, invalidf("GlobalAveragePool needs at least a 3-D input, got %s", dimsString(in[0]))
		}
		out := slices.Clone(in[0])
		for i := 2; i < len(out); i++ {
			out[i] = 1
		}
		return out, nil
	case "BatchNormalization":
		if len(in[0]) < 2 {
			return nil, invalidf("BatchNormalization needs at least a 2-D input")
		}
		for _, p := range in[1:] {
			if len(p) != 1 || p[0] != in[0][1] {
				return nil, invalidf("BatchNormalization parameters of shape %s do not match %d channels", dimsString(p), in[0][1])
			}
		}
		return in[0], nil
	case "Flatten":
		axis, err := normAxis(intAttr("axis", 1), len(in[0]), true)
		if err != nil {
			return nil, err
		}
		a, _ := numElements(in[0][:axis])
		b, _ := numElements(in[0][axis:])
		return []int64{a, b}, nil
	case "Reshape":
		return s.reshape(in[0], n.inputs[1])
	case "Transpose":
		perm := []int64{}
		if a := attrs["perm"]; a != nil {
			perm = a.ints
		} else {
			for i := len(in[0]) - 1; i >= 0; i-- {
				perm = append(perm, int64(i))
			}
		}
		if len(perm) != len(in[0]) {
			return nil, invalidf("Transpose perm %v does not fit a rank-%d input", perm, len(in[0]))
		}
		out := make([]int64, len(perm))
		for i, p := range perm {
			out[i] = in[0][p]
		}
		return out, nil
	case "Squeeze":
		given, err := s.axes(n, attrs)
		if err != nil {
			return nil, err
		}
		if given == nil {
			// Opset 13 without axes: every dimension of size 1.
			var out []int64
			for _, d := range in[0] {
				if d != 1 {
					out = append(out, d)
				}
			}
			return out, nil
		}
		out := slices.Clone(in[0])
		axes := slices.Clone(given)
		for i, a := range axes {
			ax, err := normAxis(a, len(in[0]), false)
			if err != nil {
				return nil, err
			}
			if in[0][ax] != 1 {
				return nil, invalidf("Squeeze of dimension %d, which is %d, not 1", ax, in[0][ax])
			}
			axes[i] = int64(ax)
		}
		slices.Sort(axes)
		for i := len(axes) - 1; i >= 0; i-- {
			if i > 0 && axes[i] == axes[i-1] {
				return nil, invalidf("Squeeze axes %v repeat", given)
			}
			out = slices.Delete(out, int(axes[i]), int(axes[i])+1)
		}
		return out, nil
	case "Unsqueeze":
		axes, err := s.axes(n, attrs)
		if err != nil {
			return nil, err
		}
		rank := len(in[0]) + len(axes)
		if rank > s.lim.MaxRank {
			return nil, invalidf("Unsqueeze makes %d dimensions; the limit is %d", rank, s.lim.MaxRank)
		}
		out := make([]int64, rank)
		set := make([]bool, rank)
		for _, a := range axes {
			ax, err := normAxis(a, rank, false)
			if err != nil {
				return nil, err
			}
			if set[ax] {
				return nil, invalidf("Unsqueeze axes %v repeat", axes)
			}
			set[ax], out[ax] = true, 1
		}
		j := 0
		for i := range out {
			if !set[i] {
				out[i] = in[0][j]
				j++
			}
		}
		return out, nil
	case "Concat":
		a := attrs["axis"]
		if a == nil {
			return nil, invalidf("Concat needs an axis attribute")
		}
		axis, err := normAxis(a.i, len(in[0]), false)
		if err != nil {
			return nil, err
		}
		out := slices.Clone(in[0])
		for _, x := range in[1:] {
			if len(x) != len(out) {
				return nil, invalidf("Concat of ranks %d and %d", len(out), len(x))
			}
			for d := range x {
				if d == axis {
					out[d] += x[d]
				} else if x[d] != out[d] {
					return nil, invalidf("Concat of shapes %s and %s along axis %d", dimsString(in[0]), dimsString(x), axis)
				}
			}
		}
		return out, nil
	case "Shape":
		x := in[0]
		clamp := func(i int64) int64 {
			if i < 0 {
				i += int64(len(x))
			}
			return min(max(i, 0), int64(len(x)))
		}
		start, end := clamp(intAttr("start", 0)), clamp(intAttr("end", int64(len(x))))
		v := []int64{}
		if start < end {
			v = slices.Clone(x[start:end])
		}
		s.consts[n.outputs[0]], s.shaped[n.outputs[0]] = v, true
		return []int64{int64(len(v))}, nil
	case "Gather":
		data, err := s.intValues("Gather", "data", n.inputs[0])
		if err != nil {
			return nil, err
		}
		idx, err := s.intValues("Gather", "indices", n.inputs[1])
		if err != nil {
			return nil, err
		}
		if len(in[0]) != 1 || len(in[1]) > 1 {
			return nil, invalidf("Gather of %s by indices %s; only a 1-D shape by a scalar or vector is supported", dimsString(in[0]), dimsString(in[1]))
		}
		if axis := intAttr("axis", 0); axis != 0 && axis != -1 {
			return nil, invalidf("Gather along axis %d of a 1-D shape", axis)
		}
		v := make([]int64, len(idx))
		for i, j := range idx {
			if j < 0 {
				j += int64(len(data))
			}
			if j < 0 || j >= int64(len(data)) {
				return nil, invalidf("Gather index %d is out of range for %d values", idx[i], len(data))
			}
			v[i] = data[j]
		}
		s.consts[n.outputs[0]], s.shaped[n.outputs[0]] = v, s.shaped[n.inputs[0]]
		return slices.Clone(in[1]), nil
	case "Slice":
		return s.slice(n, in)
	case "Clip":
		if _, isInt := s.consts[n.inputs[0]]; isInt {
			return nil, invalidf("Clip of INT64 values is not supported")
		}
		for _, name := range n.inputs[1:] {
			if err := s.constScalar("Clip's bound", name); err != nil {
				return nil, err
			}
		}
		return in[0], nil
	case "Pad":
		return s.pad(n, in, attrs)
	case "Constant":
		s.fixed[n.outputs[0]] = true
		t := attrs["value"].t
		if t.dataType == dtInt64 {
			if v, ok := int64Values(t); ok {
				s.consts[n.outputs[0]] = v
			}
		}
		return slices.Clone(t.dims), nil
	case "Softmax":
		if def := int64(1); opset >= 13 {
			def = -1
			axis, err := normAxis(intAttr("axis", def), len(in[0]), false)
			if err != nil {
				return nil, err
			}
			// Over the last axis the opset-13 definition and the older one
			// (which gorgonnx implements, default axis 1 included) agree.
			if _, given := attrs["axis"]; axis != len(in[0])-1 || (!given && len(in[0]) != 2) {
				s.gaps["Softmax at opset 13 over an axis other than the last"] = true
			}
		}
		return in[0], nil
	}
	// The remaining supported operators keep their first input's shape.
	return in[0], nil
}

// axes are Squeeze's or Unsqueeze's axes: the attribute before opset 13
// (checkNode made sure it is there), the second input from then on, nil
// when that is left out.
func (s *shapes) axes(n *node, attrs map[string]*attribute) ([]int64, error) {
	if a := attrs["axes"]; a != nil {
		return a.ints, nil
	}
	if len(n.inputs) < 2 {
		return nil, nil
	}
	v, ok := s.consts[n.inputs[1]]
	if !ok {
		return nil, invalidf("%s's axes %q must be a small INT64 initializer or constant", n.opType, n.inputs[1])
	}
	return v, nil
}

// constScalar refuses a value that is not a one-element initializer or
// constant; "" (an optional input left out) passes.
func (s *shapes) constScalar(what, name string) error {
	if name == "" {
		return nil
	}
	if !s.fixed[name] {
		return invalidf("%s %q must be an initializer or constant", what, name)
	}
	if e, _ := numElements(s.dims[name]); e != 1 {
		return invalidf("%s %q has shape %s; want a scalar", what, name, dimsString(s.dims[name]))
	}
	return nil
}

// slice is Slice (opset 10 on) of a 1-D INT64 shape along its one axis,
// with constant starts, ends, axes and steps.
func (s *shapes) slice(n *node, in [][]int64) ([]int64, error) {
	data, err := s.intValues("Slice", "data", n.inputs[0])
	if err != nil {
		return nil, err
	}
	if len(in[0]) != 1 {
		return nil, invalidf("Slice of %s; only a 1-D shape is supported", dimsString(in[0]))
	}
	args := make([][]int64, 4) // starts, ends, axes, steps
	for i := range args {
		if i+1 >= len(n.inputs) || n.inputs[i+1] == "" {
			continue
		}
		what := [...]string{"starts", "ends", "axes", "steps"}[i]
		if args[i], err = s.intValues("Slice", what, n.inputs[i+1]); err != nil {
			return nil, err
		}
		if len(args[i]) != 1 {
			return nil, invalidf("Slice's %s %v; a 1-D shape takes one value", what, args[i])
		}
	}
	if args[0] == nil || args[1] == nil {
		return nil, invalidf("Slice needs its starts and ends")
	}
	if args[2] != nil && args[2][0] != 0 && args[2][0] != -1 {
		return nil, invalidf("Slice along axis %d of a 1-D shape", args[2][0])
	}
	step := int64(1)
	if args[3] != nil {
		step = args[3][0]
	}
	if step == 0 {
		return nil, invalidf("Slice with step 0")
	}
	size := int64(len(data))
	start, end := args[0][0], args[1][0]
	if start < 0 {
		start += size
	}
	if end < 0 {
		end += size
	}
	v := []int64{}
	if step > 0 {
		start, end = min(max(start, 0), size), min(max(end, 0), size)
		// Capping the step keeps i += step from overflowing for a huge step.
		for i := start; i < end; i += min(step, end-i) {
			v = append(v, data[i])
		}
	} else {
		start, end = min(max(start, 0), size-1), min(max(end, -1), size-1)
		for i := start; i > end; i += step {
			v = append(v, data[i])
		}
	}
	s.consts[n.outputs[0]], s.shaped[n.outputs[0]] = v, s.shaped[n.inputs[0]]
	return []int64{int64(len(v))}, nil
}

// pad is Pad's output shape; checkNode has vetted the mode and where the
// pads come from.
func (s *shapes) pad(n *node, in [][]int64, attrs map[string]*attribute) ([]int64, error) {
	if _, isInt := s.consts[n.inputs[0]]; isInt {
		return nil, invalidf("Pad of INT64 values is not supported")
	}
	var pads []int64
	if a := attrs["pads"]; a != nil {
		pads = a.ints
	} else {
		v, ok := s.consts[n.inputs[1]]
		if !ok || s.shaped[n.inputs[1]] {
			return nil, invalidf("Pad's pads %q must be a small INT64 initializer or constant", n.inputs[1])
		}
		pads = v
	}
	if len(n.inputs) == 3 {
		if err := s.constScalar("Pad's constant value", n.inputs[2]); err != nil {
			return nil, err
		}
	}
	x := in[0]
	if len(pads) != 2*len(x) {
		return nil, invalidf("Pad has %d pads for a rank-%d input; want %d", len(pads), len(x), 2*len(x))
	}
	reflect := attrs["mode"] != nil && attrs["mode"].s == "reflect"
	out := slices.Clone(x)
	for d := range x {
		begin, end := pads[d], pads[len(x)+d]
		if begin < 0 || end < 0 {
			return nil, invalidf("Pad with negative pads %v (cropping) is not supported", pads)
		}
		if begin > 1<<20 || end > 1<<20 {
			return nil, invalidf("Pad's padding %d is out of range", max(begin, end))
		}
		if reflect && (begin >= x[d] || end >= x[d]) {
			return nil, invalidf("Pad reflect by %d and %d on an axis of size %d; reflect pads must be smaller than the axis", begin, end, x[d])
		}
		out[d] += begin + end
	}
	return out, nil
}

func (s *shapes) addWork(factors ...int64) {
	w := int64(1)
	for _, f := range factors {
		hi, lo := bits.Mul64(uint64(w), uint64(f))
		if hi != 0 || lo > math.MaxInt64 {
			s.work = math.MaxInt64
			return
		}
		w = int64(lo)
	}
	if s.work > math.MaxInt64-w {
		s.work = math.MaxInt64
		return
	}
	s.work += w
}

// broadcast applies ONNX's multidirectional broadcasting.
func broadcast(a, b []int64) ([]int64, error) {
	rank := max(len(a), len(b))
	out := make([]int64, rank)
	for i := range rank {
		x, y := int64(1), int64(1)
		if j := i - (rank - len(a)); j >= 0 {
			x = a[j]
		}
		if j := i - (rank - len(b)); j >= 0 {
			y = b[j]
		}
		switch {
		case x == y || y == 1:
			out[i] = x
		case x == 1:
			out[i] = y
		default:
			return nil, invalidf("shapes %s and %s do not broadcast", dimsString(a), dimsString(b))
		}
	}
	return out, nil
}

// matmul follows numpy's matmul: 1-D operands are promoted, leading
// dimensions broadcast.
func (s *shapes) matmul(a, b []int64) ([]int64, error) {
	if len(a) == 0 || len(b) == 0 {
		return nil, invalidf("MatMul of a scalar")
	}
	pa, pb := a, b
	if len(a) == 1 {
		pa = []int64{1, a[0]}
	}
	if len(b) == 1 {
		pb = []int64{b[0], 1}
	}
	m, k := pa[len(pa)-2], pa[len(pa)-1]
	k2, n := pb[len(pb)-2], pb[len(pb)-1]
	if k != k2 {
		return nil, invalidf("MatMul of %s and %s: inner dimensions %d and %d differ", dimsString(a), dimsString(b), k, k2)
	}
	batch, err := broadcast(pa[:len(pa)-2], pb[:len(pb)-2])
	if err != nil {
		return nil, err
	}
	nb, _ := numElements(batch)
	s.addWork(nb, m, n, k)
	out := append(batch, m, n)
	if len(a) == 1 {
		out = slices.Delete(out, len(out)-2, len(out)-1)
	}
	if len(b) == 1 {
		out = out[:len(out)-1]
	}
	return out, nil
}

// gemm is Y = alpha·A'·B' + beta·C with A' and B' optionally transposed and
// C broadcast one way to [M, N].
func (s *shapes) gemm(in [][]int64, transA, transB bool) ([]int64, error) {
	a, b := in[0], in[1]
	if len(a) != 2 || len(b) != 2 {
		return nil, invalidf("Gemm needs 2-D A and B, got %s and %s", dimsString(a), dimsString(b))
	}
	m, k := a[0], a[1]
	if transA {
		m, k = k, m
	}
	k2, n := b[0], b[1]
	if transB {
		k2, n = n, k2
	}
	if k != k2 {
		return nil, invalidf("Gemm of %s and %s (transA %t, transB %t): inner dimensions %d and %d differ", dimsString(a), dimsString(b), transA, transB, k, k2)
	}
	out := []int64{m, n}
	if len(in) == 3 {
		c := in[2]
		if bc, err := broadcast(c, out); err != nil || len(c) > 2 || !slices.Equal(bc, out) {
			return nil, invalidf("Gemm's C of shape %s does not broadcast to [%d,%d]", dimsString(c), m, n)
		}
	}
	s.addWork(m, n, k)
	return out, nil
}

func (s *shapes) conv(in [][]int64, attrs map[string]*attribute) ([]int64, error) {
	x, w := in[0], in[1]
	if len(x) != 4 || len(w) != 4 {
		return nil, invalidf("Conv needs a 4-D input and 4-D weights, got %s and %s", dimsString(x), dimsString(w))
	}
	group := int64(1)
	if a := attrs["group"]; a != nil {
		group = a.i // checkWindow made sure it is positive
	}
	if x[1]%group != 0 || x[1]/group != w[1] {
		if group == 1 {
			return nil, invalidf("Conv weights %s do not match the input's %d channels", dimsString(w), x[1])
		}
		return nil, invalidf("Conv weights %s do not match the input's %d channels in %d groups", dimsString(w), x[1], group)
	}
	if w[0]%group != 0 {
		return nil, invalidf("Conv's %d output channels do not split into %d groups", w[0], group)
	}
	k := attrs["kernel_shape"].ints
	if k[0] != w[2] || k[1] != w[3] {
		return nil, invalidf("Conv kernel_shape %v does not match weights %s", k, dimsString(w))
	}
	if len(in) == 3 && (len(in[2]) != 1 || in[2][0] != w[0]) {
		return nil, invalidf("Conv bias %s does not match %d output channels", dimsString(in[2]), w[0])
	}
	oh, ow, err := windowOut(x[2], x[3], k[0], k[1], attrs)
	if err != nil {
		return nil, err
	}
	// Both backends unfold the input into a [C·kh·kw, oh·ow] matrix (im2col)
	// before multiplying: that buffer is as real an allocation as the output.
	if cols, ok := numElements([]int64{w[1], k[0], k[1], oh, ow}); !ok || cols > s.lim.MaxTensorElements {
		return nil, invalidf("Conv would unfold its input into %s elements; the limit is %d", dimsProduct([]int64{w[1], k[0], k[1], oh, ow}), s.lim.MaxTensorElements)
	}
	s.addWork(x[0], w[0], oh, ow, w[1], k[0], k[1])
	return []int64{x[0], w[0], oh, ow}, nil
}

// windowOut is the output size of a 2-D convolution or pooling window;
// checkWindow has vetted the attributes.
func windowOut(h, w, kh, kw int64, attrs map[string]*attribute) (int64, int64, error) {
	stride := []int64{1, 1}
	if a := attrs["strides"]; a != nil {
		stride = a.ints
	}
	dil := []int64{1, 1}
	if a := attrs["dilations"]; a != nil {
		dil = a.ints
	}
	pads := []int64{0, 0, 0, 0} // top, left, bottom, right
	if a := attrs["pads"]; a != nil {
		pads = a.ints
	}
	ekh, ekw := (kh-1)*dil[0]+1, (kw-1)*dil[1]+1
	if a := attrs["auto_pad"]; a != nil {
		switch a.s {
		case "SAME_UPPER", "SAME_LOWER":
			return (h + stride[0] - 1) / stride[0], (w + stride[1] - 1) / stride[1], nil
		case "VALID":
			pads = []int64{0, 0, 0, 0}
		}
	}
	ph, pw := h+pads[0]+pads[2], w+pads[1]+pads[3]
	if ph < ekh || pw < ekw {
		return 0, 0, invalidf("a %dx%d window does not fit a %dx%d input", ekh, ekw, h, w)
	}
	if c := attrs["ceil_mode"]; c != nil && c.i == 1 {
		return ceilOut(h, pads[0], ph-ekh, stride[0]), ceilOut(w, pads[1], pw-ekw, stride[1]), nil
	}
	return (ph-ekh)/stride[0] + 1, (pw-ekw)/stride[1] + 1, nil
}

// ceilOut is ceil_mode's output size along an axis of n elements, lead
// padding and span = padded size - window extent: a partial last window
// counts unless it would start in the trailing padding, where ONNX Runtime
// and PyTorch drop it.
func ceilOut(n, lead, span, stride int64) int64 {
	out := (span+stride-1)/stride + 1
	if (out-1)*stride >= n+lead {
		out--
	}
	return out
}

func (s *shapes) reshape(x []int64, shapeName string) ([]int64, error) {
	target, ok := s.consts[shapeName]
	if !ok {
		return nil, invalidf("Reshape's shape %q must be a small INT64 initializer or constant", shapeName)
	}
	total, _ := numElements(x)
	out := make([]int64, len(target))
	infer := -1
	known := int64(1)
	for i, d := range target {
		switch {
		case d == 0 && i < len(x):
			out[i] = x[i]
		case d == -1 && infer < 0:
			infer = i
			continue
		case d > 0:
			out[i] = d
		default:
			return nil, invalidf("Reshape to %v is not valid", target)
		}
		var ok bool
		if known, ok = numElements([]int64{known, out[i]}); !ok {
			return nil, invalidf("Reshape to %v overflows", target)
		}
	}
	if infer >= 0 {
		if known == 0 || total%known != 0 {
			return nil, invalidf("cannot reshape %s to %v", dimsString(x), target)
		}
		out[infer] = total / known
	}
	if n, ok := numElements(out); !ok || n != total {
		return nil, invalidf("cannot reshape %s (%d elements) to %v", dimsString(x), total, target)
	}
	return out, nil
}

// normAxis resolves a negative axis; inclusive allows axis == rank
// (Flatten's).
func normAxis(a int64, rank int, inclusive bool) (int, error) {
	r := int64(rank)
	if a < 0 {
		a += r
	}
	if a < 0 || a > r || (a == r && !inclusive) {
		return 0, invalidf("axis %d is out of range for a rank-%d value", a, rank)
	}
	return int(a), nil
}

func toInt64s(v []int) []int64 {
	out := make([]int64, len(v))
	for i, d := range v {
		out[i] = int64(d)
	}
	return out
}

func toInts(v []int64) []int {
	out := make([]int, len(v))
	for i, d := range v {
		out[i] = int(d)
	}
	return out
}
