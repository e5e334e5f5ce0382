package cpubackend

import (
	"fmt"
	"math"
	"slices"
)

// compileOp sets n's shape and buffer from its operands and returns the
// kernel that fills the buffer (nil when n aliases an operand).
func (g *Graph) compileOp(n *Node, in []*Node) (func(), error) {
	for i, c := range in {
		if c.f32 == nil && !(n.op.Name == "Reshape" && i == 1) {
			return nil, fmt.Errorf("%w: operand %d is not float32", ErrUnsupported, i)
		}
	}
	arity := func(min, max int) error {
		if len(in) < min || len(in) > max {
			return fmt.Errorf("%w: %d operands", ErrUnsupported, len(in))
		}
		return nil
	}
	switch n.op.Name {
	case "Identity", "Dropout":
		if err := arity(1, 1); err != nil {
			return nil, err
		}
		n.shape, n.f32 = in[0].shape, in[0].f32
		return nil, nil
	case "Relu":
		if err := arity(1, 1); err != nil {
			return nil, err
		}
		return relu(n, in[0]), nil
	case "Add", "Sub", "Mul", "Div":
		if err := arity(2, 2); err != nil {
			return nil, err
		}
		return binary(n, n.op.Name, in[0], in[1])
	case "MatMul":
		if err := arity(2, 2); err != nil {
			return nil, err
		}
		return matmul(n, in[0], in[1])
	case "Conv":
		if err := arity(2, 3); err != nil {
			return nil, err
		}
		return conv(n, in)
	case "MaxPool":
		if err := arity(1, 1); err != nil {
			return nil, err
		}
		return maxPool(n, in[0])
	case "Reshape":
		if err := arity(2, 2); err != nil {
			return nil, err
		}
		return nil, reshape(n, in[0], in[1])
	case "Flatten":
		if err := arity(1, 1); err != nil {
			return nil, err
		}
		return nil, flatten(n, in[0])
	case "Softmax":
		if err := arity(1, 1); err != nil {
			return nil, err
		}
		return softmax(n, in[0], g.opset)
	}
	return nil, fmt.Errorf("%w: operator %s", ErrUnsupported, n.op.Name)
}

func intAttr(n *Node, name string, def int64) (int64, error) {
	v, ok := n.op.Attributes[name]
	if !ok {
		return def, nil
	}
	i, ok := v.(int64)
	if !ok {
		return 0, fmt.Errorf("%w: attribute %s is %T", ErrUnsupported, name, v)
	}
	return i, nil
}

func intsAttr(n *Node, name string, def []int64) ([]int64, error) {
	v, ok := n.op.Attributes[name]
	if !ok {
		return def, nil
	}
	i, ok := v.([]int64)
	if !ok {
		return nil, fmt.Errorf("%w: attribute %s is %T", ErrUnsupported, name, v)
	}
	return i, nil
}

func stringAttr(n *Node, name string) (string, error) {
	v, ok := n.op.Attributes[name]
	if !ok {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%w: attribute %s is %T", ErrUnsupported, name, v)
	}
	return s, nil
}

func relu(n, x *Node) func() {
	n.shape = x.shape
	n.f32 = make([]float32, len(x.f32))
	out, in := n.f32, x.f32
	return func() {
		for i, v := range in {
			out[i] = max(v, 0)
		}
	}
}

// binary compiles an element-wise operator with ONNX's multidirectional
// (numpy) broadcasting.
func binary(n *Node, op string, a, b *Node) (func(), error) {
	rank := max(len(a.shape), len(b.shape))
	pad := func(s []int) []int {
		return append(slices.Repeat([]int{1}, rank-len(s)), s...)
	}
	as, bs := pad(a.shape), pad(b.shape)
	out := make([]int, rank)
	for i := range rank {
		switch {
		case as[i] == bs[i] || bs[i] == 1:
			out[i] = as[i]
		case as[i] == 1:
			out[i] = bs[i]
		default:
			return nil, fmt.Errorf("cannot broadcast %v with %v", a.shape, b.shape)
		}
	}
	n.shape = out
	n.f32 = make([]float32, elements(out))
	dst, x, y := n.f32, a.f32, b.f32
	apply := func(dst, x []float32, sx int, y []float32, sy int) {
		ix, iy := 0, 0
		switch op {
		case "Add":
			for i := range dst {
				dst[i] = x[ix] + y[iy]
				ix, iy = ix+sx, iy+sy
			}
		case "Sub":
			for i := range dst {
				dst[i] = x[ix] - y[iy]
				ix, iy = ix+sx, iy+sy
			}
		case "Mul":
			for i := range dst {
				dst[i] = x[ix] * y[iy]
				ix, iy = ix+sx, iy+sy
			}
		case "Div":
			for i := range dst {
				dst[i] = x[ix] / y[iy]
				ix, iy = ix+sx, iy+sy
			}
		}
	}
	if slices.Equal(as, bs) {
		return func() { apply(dst, x, 1, y, 1) }, nil
	}
	// Strides of each operand over the output's index space; 0 where the
	// operand is broadcast.
	strides := func(s []int) []int {
		st := make([]int, rank)
		acc := 1
		for i := rank - 1; i >= 0; i-- {
			if s[i] != 1 {
				st[i] = acc
			}
			acc *= s[i]
		}
		return st
	}
	sa, sb := strides(as), strides(bs)
	inner := 1
	if rank > 0 {
		inner = out[rank-1]
	}
	rows := len(dst) / max(inner, 1)
	ia0, ib0 := make([]int, rows), make([]int, rows)
	idx := make([]int, rank)
	for r := range rows {
		// Odometer over all dimensions but the last.
		oa, ob := 0, 0
		for d := 0; d < rank-1; d++ {
			oa += idx[d] * sa[d]
			ob += idx[d] * sb[d]
		}
		ia0[r], ib0[r] = oa, ob
		for d := rank - 2; d >= 0; d-- {
			idx[d]++
			if idx[d] < out[d] {
				break
			}
			idx[d] = 0
		}
	}
	lastA, lastB := 0, 0
	if rank > 0 {
		lastA, lastB = sa[rank-1], sb[rank-1]
	}
	return func() {
		for r := range rows {
			apply(dst[r*inner:(r+1)*inner], x[ia0[r]:], lastA, y[ib0[r]:], lastB)
		}
	}, nil
}

func matmul(n, a, b *Node) (func(), error) {
	if len(a.shape) != 2 || len(b.shape) != 2 || a.shape[1] != b.shape[0] {
		return nil, fmt.Errorf("%w: MatMul of %v and %v", ErrUnsupported, a.shape, b.shape)
	}
	m, k, nn := a.shape[0], a.shape[1], b.shape[1]
	n.shape = []int{m, nn}
	n.f32 = make([]float32, m*nn)
	out, x, w := n.f32, a.f32, b.f32
	return func() {
		clear(out)
		gemm(m, nn, k, x, k, w, nn, out, nn)
	}, nil
}

// window holds the geometry of a 2-D convolution or pooling.
type window struct {
	kh, kw, sh, sw, dh, dw int
	top, left              int // leading padding; trailing padding is implied by oh, ow
	h, w, oh, ow           int
}

func windowOf(n *Node, h, w int, kernel []int64) (window, error) {
	var wd window
	if len(kernel) != 2 {
		return wd, fmt.Errorf("%w: kernel_shape %v", ErrUnsupported, kernel)
	}
	strides, err := intsAttr(n, "strides", []int64{1, 1})
	if err != nil {
		return wd, err
	}
	dil, err := intsAttr(n, "dilations", []int64{1, 1})
	if err != nil {
		return wd, err
	}
	pads, err := intsAttr(n, "pads", []int64{0, 0, 0, 0})
	if err != nil {
		return wd, err
	}
	autoPad, err := stringAttr(n, "auto_pad")
	if err != nil {
		return wd, err
	}
	if len(strides) != 2 || len(dil) != 2 || len(pads) != 4 {
		return wd, fmt.Errorf("%w: strides %v dilations %v pads %v", ErrUnsupported, strides, dil, pads)
	}
	wd = window{
		kh: int(kernel[0]), kw: int(kernel[1]), sh: int(strides[0]), sw: int(strides[1]),
		dh: int(dil[0]), dw: int(dil[1]), h: h, w: w,
	}
	if wd.sh <= 0 || wd.sw <= 0 || wd.dh <= 0 || wd.dw <= 0 || wd.kh <= 0 || wd.kw <= 0 {
		return wd, fmt.Errorf("%w: non-positive window parameter", ErrUnsupported)
	}
	ekh, ekw := (wd.kh-1)*wd.dh+1, (wd.kw-1)*wd.dw+1
	var bottom, right int
	switch autoPad {
	case "", "NOTSET":
		wd.top, wd.left, bottom, right = int(pads[0]), int(pads[1]), int(pads[2]), int(pads[3])
	case "VALID":
	case "SAME_UPPER", "SAME_LOWER":
		same := func(in, s, ek int) (int, int) {
			out := (in + s - 1) / s
			total := max((out-1)*s+ek-in, 0)
			if autoPad == "SAME_UPPER" {
				return total / 2, total - total/2
			}
			return total - total/2, total / 2
		}
		wd.top, bottom = same(h, wd.sh, ekh)
		wd.left, right = same(w, wd.sw, ekw)
	default:
		return wd, fmt.Errorf("%w: auto_pad %s", ErrUnsupported, autoPad)
	}
	wd.oh = (h+wd.top+bottom-ekh)/wd.sh + 1
	wd.ow = (w+wd.left+right-ekw)/wd.sw + 1
	if wd.oh <= 0 || wd.ow <= 0 {
		return wd, fmt.Errorf("window larger than the padded input %dx%d", h, w)
	}
	return wd, nil
}

func conv(n *Node, in []*Node) (func(), error) {
	x, w := in[0], in[1]
	if len(x.shape) != 4 || len(w.shape) != 4 || w.shape[1] != x.shape[1] {
		return nil, fmt.Errorf("%w: Conv of %v with weights %v", ErrUnsupported, x.shape, w.shape)
	}
	if group, err := intAttr(n, "group", 1); err != nil || group != 1 {
		return nil, fmt.Errorf("%w: Conv group %d", ErrUnsupported, group)
	}
	kernel, err := intsAttr(n, "kernel_shape", []int64{int64(w.shape[2]), int64(w.shape[3])})
	if err != nil {
		return nil, err
	}
	if kernel[0] != int64(w.shape[2]) || kernel[1] != int64(w.shape[3]) {
		return nil, fmt.Errorf("kernel_shape %v does not match weights %v", kernel, w.shape)
	}
	batch, c, m := x.shape[0], x.shape[1], w.shape[0]
	wd, err := windowOf(n, x.shape[2], x.shape[3], kernel)
	if err != nil {
		return nil, err
	}
	var bias []float32
	if len(in) == 3 {
		if len(in[2].f32) != m {
			return nil, fmt.Errorf("bias has %d values for %d channels", len(in[2].f32), m)
		}
		bias = in[2].f32
	}
	n.shape = []int{batch, m, wd.oh, wd.ow}
	n.f32 = make([]float32, elements(n.shape))
	k := c * wd.kh * wd.kw
	p := wd.oh * wd.ow
	direct := wd.kh == 1 && wd.kw == 1 && wd.sh == 1 && wd.sw == 1 && wd.top == 0 && wd.left == 0 && p == wd.h*wd.w
	var cols []float32
	if !direct {
		cols = make([]float32, k*p)
	}
	out, src, weights := n.f32, x.f32, w.f32
	inSize, outSize := c*wd.h*wd.w, m*p
	return func() {
		for b := range batch {
			img := src[b*inSize : (b+1)*inSize]
			dst := out[b*outSize : (b+1)*outSize]
			colm := img
			if !direct {
				im2col(cols, img, c, wd)
				colm = cols
			}
			for o := range m {
				row := dst[o*p : (o+1)*p]
				if bias != nil {
					for i := range row {
						row[i] = bias[o]
					}
				} else {
					clear(row)
				}
			}
			gemm(m, p, k, weights, k, colm, p, dst, p)
		}
	}, nil
}

// im2col lays out the receptive fields of img [c, h, w] as the columns of
// cols [c·kh·kw, oh·ow], zeros standing in for padding.
func im2col(cols, img []float32, c int, wd window) {
	p := wd.oh * wd.ow
	r := 0
	for ch := range c {
		plane := img[ch*wd.h*wd.w : (ch+1)*wd.h*wd.w]
		for ky := range wd.kh {
			for kx := range wd.kw {
				row := cols[r*p : (r+1)*p]
				r++
				i := 0
				for oy := range wd.oh {
					y := oy*wd.sh + ky*wd.dh - wd.top
					if y < 0 || y >= wd.h {
						clear(row[i : i+wd.ow])
						i += wd.ow
						continue
					}
					line := plane[y*wd.w : (y+1)*wd.w]
					x := kx*wd.dw - wd.left
					if wd.sw == 1 && x >= 0 && x+wd.ow <= wd.w {
						// The common case: a contiguous run of the line.
						copy(row[i:i+wd.ow], line[x:x+wd.ow])
						i += wd.ow
						continue
					}
					for ox := 0; ox < wd.ow; ox, x, i = ox+1, x+wd.sw, i+1 {
						if x >= 0 && x < wd.w {
							row[i] = line[x]
						} else {
							row[i] = 0
						}
					}
				}
			}
		}
	}
}

func maxPool(n, x *Node) (func(), error) {
	if len(x.shape) != 4 {
		return nil, fmt.Errorf("%w: MaxPool of %v", ErrUnsupported, x.shape)
	}
	kernel, err := intsAttr(n, "kernel_shape", nil)
	if err != nil {
		return nil, err
	}
	if c, err := intAttr(n, "ceil_mode", 0); err != nil || c != 0 {
		return nil, fmt.Errorf("%w: MaxPool ceil_mode", ErrUnsupported)
	}
	wd, err := windowOf(n, x.shape[2], x.shape[3], kernel)
	if err != nil {
		return nil, err
	}
	planes := x.shape[0] * x.shape[1]
	n.shape = []int{x.shape[0], x.shape[1], wd.oh, wd.ow}
	n.f32 = make([]float32, elements(n.shape))
	out, src := n.f32, x.f32
	if wd.kh == 2 && wd.kw == 2 && wd.sh == 2 && wd.sw == 2 && wd.dh == 1 && wd.dw == 1 &&
		wd.top == 0 && wd.left == 0 && 2*wd.oh <= wd.h && 2*wd.ow <= wd.w {
		// The classifier's 2×2 pooling: every window lies inside the plane.
		return func() {
			i := 0
			for pl := range planes {
				plane := src[pl*wd.h*wd.w : (pl+1)*wd.h*wd.w]
				for oy := range wd.oh {
					r0 := plane[2*oy*wd.w : 2*oy*wd.w+2*wd.ow]
					r1 := plane[(2*oy+1)*wd.w : (2*oy+1)*wd.w+2*wd.ow]
					o := out[i : i+wd.ow]
					for ox := range o {
						o[ox] = max(r0[2*ox], r0[2*ox+1], r1[2*ox], r1[2*ox+1])
					}
					i += wd.ow
				}
			}
		}, nil
	}
	return func() {
		i := 0
		for pl := range planes {
			plane := src[pl*wd.h*wd.w : (pl+1)*wd.h*wd.w]
			for oy := range wd.oh {
				for ox := range wd.ow {
					m := float32(math.Inf(-1))
					for ky := range wd.kh {
						y := oy*wd.sh + ky*wd.dh - wd.top
						if y < 0 || y >= wd.h {
							continue
						}
						line := plane[y*wd.w : (y+1)*wd.w]
						for kx := range wd.kw {
							xx := ox*wd.sw + kx*wd.dw - wd.left
							if xx >= 0 && xx < wd.w && line[xx] > m {
								m = line[xx]
							}
						}
					}
					out[i] = m
					i++
				}
			}
		}
	}, nil
}

// reshape and flatten alias their operand's buffer: no kernel writes into
// its operands, so sharing is safe.
func reshape(n, x, shape *Node) error {
	if shape.i64 == nil {
		return fmt.Errorf("%w: Reshape with a non-int64 shape", ErrUnsupported)
	}
	dims := make([]int, len(shape.i64))
	infer := -1
	known := 1
	for i, d := range shape.i64 {
		switch {
		case d == 0 && i < len(x.shape):
			dims[i] = x.shape[i]
		case d == -1 && infer < 0:
			infer = i
			continue
		case d > 0:
			dims[i] = int(d)
		default:
			return fmt.Errorf("bad Reshape shape %v", shape.i64)
		}
		known *= dims[i]
	}
	total := len(x.f32)
	if infer >= 0 {
		if known == 0 || total%known != 0 {
			return fmt.Errorf("cannot reshape %v to %v", x.shape, shape.i64)
		}
		dims[infer] = total / known
	}
	if elements(dims) != total {
		return fmt.Errorf("cannot reshape %v to %v", x.shape, shape.i64)
	}
	n.shape, n.f32 = dims, x.f32
	return nil
}

func flatten(n, x *Node) error {
	axis, err := intAttr(n, "axis", 1)
	if err != nil {
		return err
	}
	r := int64(len(x.shape))
	if axis < 0 {
		axis += r
	}
	if axis < 0 || axis > r {
		return fmt.Errorf("Flatten axis %d for rank %d", axis, r)
	}
	n.shape = []int{elements(x.shape[:axis]), elements(x.shape[axis:])}
	n.f32 = x.f32
	return nil
}

// softmax follows the operator's definition at the model's opset: before 13
// the input is coerced to 2-D at axis (default 1); from 13 on it normalises
// along the single axis (default -1).
func softmax(n, x *Node, opset int64) (func(), error) {
	def := int64(1)
	if opset >= 13 {
		def = -1
	}
	axis, err := intAttr(n, "axis", def)
	if err != nil {
		return nil, err
	}
	r := int64(len(x.shape))
	if axis < 0 {
		axis += r
	}
	if axis < 0 || axis >= max(r, 1) {
		return nil, fmt.Errorf("Softmax axis %d for rank %d", axis, r)
	}
	outer := elements(x.shape[:axis])
	length, inner := elements(x.shape[axis:]), 1
	if opset >= 13 {
		length, inner = x.shape[axis], elements(x.shape[axis+1:])
	}
	n.shape = x.shape
	n.f32 = make([]float32, len(x.f32))
	out, src := n.f32, x.f32
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
					out[base+i*inner] = e
					sum += e
				}
				for i := range length {
					out[base+i*inner] /= sum
				}
			}
		}
	}, nil
}
