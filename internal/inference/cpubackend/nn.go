package cpubackend

import (
	"fmt"
	"math"
	"slices"

	"github.com/taskmind/taskmind/internal/inference/kernels"
)

// activation is an element-wise function fused after a matrix product.
type activation struct {
	relu  bool
	leaky float32 // LeakyRelu's alpha when nonzero
}

func (a activation) none() bool { return !a.relu && a.leaky == 0 }

// absorbActivation takes over a following Relu or LeakyRelu.
func (a *activation) absorb(next op) bool {
	u, ok := next.(*unaryOp)
	if !ok || !a.none() {
		return false
	}
	switch u.fn {
	case "Relu":
		a.relu = true
	case "LeakyRelu":
		if u.alpha == 0 {
			a.relu = true
		} else {
			a.leaky = u.alpha
		}
	default:
		return false
	}
	return true
}

func (a activation) epilogue(ep kernels.Epilogue) kernels.Epilogue {
	ep.Relu = a.relu
	ep.LeakyAlpha = a.leaky
	return ep
}

// window is the geometry of a 2-D convolution or pooling over one plane.
type window struct {
	kh, kw, sh, sw, dh, dw int
	top, left              int // leading padding
	bottom, right          int // trailing padding; ceil_mode windows may reach past it
	h, w, oh, ow           int
}

// windowAttrs are a window's attributes, read once at compile time.
type windowAttrs struct {
	kernel, strides, dilations, pads []int64
	autoPad                          string
	// ceil is pooling's ceil_mode: a partial last window counts too.
	ceil bool
}

func readWindow(a attrs, kernel []int64) (windowAttrs, error) {
	var wa windowAttrs
	var err error
	if wa.kernel, err = a.ints("kernel_shape", kernel); err != nil {
		return wa, err
	}
	if wa.strides, err = a.ints("strides", []int64{1, 1}); err != nil {
		return wa, err
	}
	if wa.dilations, err = a.ints("dilations", []int64{1, 1}); err != nil {
		return wa, err
	}
	if wa.pads, err = a.ints("pads", []int64{0, 0, 0, 0}); err != nil {
		return wa, err
	}
	if wa.autoPad, err = a.string("auto_pad"); err != nil {
		return wa, err
	}
	if len(wa.kernel) != 2 || len(wa.strides) != 2 || len(wa.dilations) != 2 || len(wa.pads) != 4 {
		return wa, unsupported("a window that is not 2-D (kernel %v, strides %v, dilations %v, pads %v)", wa.kernel, wa.strides, wa.dilations, wa.pads)
	}
	for _, v := range slices.Concat(wa.kernel, wa.strides, wa.dilations) {
		if v <= 0 {
			return wa, fmt.Errorf("non-positive window parameter")
		}
	}
	for _, p := range wa.pads {
		if p < 0 {
			return wa, fmt.Errorf("negative padding")
		}
	}
	switch wa.autoPad {
	case "", "NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER":
	default:
		return wa, unsupported("auto_pad %s", wa.autoPad)
	}
	return wa, nil
}

func (wa windowAttrs) over(h, w int) (window, error) {
	wd := window{
		kh: int(wa.kernel[0]), kw: int(wa.kernel[1]), sh: int(wa.strides[0]), sw: int(wa.strides[1]),
		dh: int(wa.dilations[0]), dw: int(wa.dilations[1]), h: h, w: w,
	}
	ekh, ekw := (wd.kh-1)*wd.dh+1, (wd.kw-1)*wd.dw+1
	switch wa.autoPad {
	case "", "NOTSET":
		wd.top, wd.left, wd.bottom, wd.right = int(wa.pads[0]), int(wa.pads[1]), int(wa.pads[2]), int(wa.pads[3])
	case "VALID":
	case "SAME_UPPER", "SAME_LOWER":
		same := func(in, s, ek int) (int, int) {
			out := (in + s - 1) / s
			total := max((out-1)*s+ek-in, 0)
			if wa.autoPad == "SAME_UPPER" {
				return total / 2, total - total/2
			}
			return total - total/2, total / 2
		}
		wd.top, wd.bottom = same(h, wd.sh, ekh)
		wd.left, wd.right = same(w, wd.sw, ekw)
	}
	if h+wd.top+wd.bottom < ekh || w+wd.left+wd.right < ekw {
		return wd, fmt.Errorf("window larger than the padded input %dx%d", h, w)
	}
	wd.oh = outSize(h, wd.top, wd.bottom, ekh, wd.sh, wa.ceil)
	wd.ow = outSize(w, wd.left, wd.right, ekw, wd.sw, wa.ceil)
	return wd, nil
}

// outSize is the number of windows of extent ek and stride s along an axis
// of n elements padded by lead and trail. With ceil a last window that
// runs past the padding counts, unless it would start in the trailing
// padding and so see no input: ONNX Runtime and PyTorch drop that one.
func outSize(n, lead, trail, ek, s int, ceil bool) int {
	span := n + lead + trail - ek
	if !ceil {
		return span/s + 1
	}
	out := (span+s-1)/s + 1
	if (out-1)*s >= n+lead {
		out--
	}
	return out
}

// convOp is a 2-D convolution lowered to GEMM: out[m, p] = W[m, k]·B[k, p]
// per image and group, B packed straight from the image (implicit im2col).
type convOp struct {
	m, cg, group int
	wa           windowAttrs
	w            []float32 // [M, Cg, KH, KW], owned: batch-norm folding rewrites it
	bias         []float32 // [M]; zeros when the model has none
	act          activation

	set    *kernels.Set
	packed [][]float32 // per group, packed by set
}

func newConv(a attrs, in []operand) (op, error) {
	w := in[1].k
	if w == nil || w.f32 == nil || len(w.shape) != 4 {
		return nil, unsupported("Conv with weights computed at run time or not 2-D")
	}
	group, err := a.int("group", 1)
	if err != nil {
		return nil, err
	}
	m := w.shape[0]
	if group <= 0 || m%int(group) != 0 {
		return nil, fmt.Errorf("group %d does not divide %d output channels", group, m)
	}
	wa, err := readWindow(a, []int64{int64(w.shape[2]), int64(w.shape[3])})
	if err != nil {
		return nil, err
	}
	if int(wa.kernel[0]) != w.shape[2] || int(wa.kernel[1]) != w.shape[3] {
		return nil, fmt.Errorf("kernel_shape %v does not match weights %v", wa.kernel, w.shape)
	}
	c := &convOp{m: m, cg: w.shape[1], group: int(group), wa: wa, w: slices.Clone(w.f32), bias: make([]float32, m)}
	if len(in) == 3 && in[2].present() {
		b := in[2].k
		if b == nil || b.f32 == nil {
			return nil, unsupported("Conv bias computed at run time")
		}
		if len(b.f32) != m {
			return nil, fmt.Errorf("bias has %d values for %d channels", len(b.f32), m)
		}
		copy(c.bias, b.f32)
	}
	return c, nil
}

func (c *convOp) infer(in [][]int) ([]int, error) {
	x := in[0]
	if len(x) != 4 || x[1] != c.cg*c.group {
		return nil, fmt.Errorf("Conv of %v with %d groups of %d channels", x, c.group, c.cg)
	}
	wd, err := c.wa.over(x[2], x[3])
	if err != nil {
		return nil, err
	}
	return []int{x[0], c.m, wd.oh, wd.ow}, nil
}

func (c *convOp) finalize(set *kernels.Set) {
	c.set = set
	mg, k := c.m/c.group, c.cg*int(c.wa.kernel[0]*c.wa.kernel[1])
	c.packed = make([][]float32, c.group)
	for g := range c.group {
		c.packed[g] = make([]float32, set.PackASize(mg, k))
		set.PackA(c.packed[g], mg, k, c.w[g*mg*k:], k)
	}
}

func (c *convOp) bind(in []view, out view) (func(), error) {
	x := in[0].shape
	wd, err := c.wa.over(x[2], x[3])
	if err != nil {
		return nil, err
	}
	set := c.set
	mg, k, p := c.m/c.group, c.cg*wd.kh*wd.kw, wd.oh*wd.ow
	geom := kernels.ConvGeom{
		C: c.cg, H: wd.h, W: wd.w, KH: wd.kh, KW: wd.kw, StrideH: wd.sh, StrideW: wd.sw,
		PadTop: wd.top, PadLeft: wd.left, DilH: wd.dh, DilW: wd.dw, OH: wd.oh, OW: wd.ow,
	}
	scratch := make([]float32, set.PackBSize(k, p))
	eps := make([]kernels.Epilogue, c.group)
	for g := range eps {
		eps[g] = c.act.epilogue(kernels.Epilogue{RowBias: c.bias[g*mg : (g+1)*mg]})
	}
	src, dst := in[0].data, out.data
	batch, plane := x[0], c.cg*wd.h*wd.w
	return func() {
		for b := range batch {
			for g := range c.group {
				img := src[(b*c.group+g)*plane : (b*c.group+g+1)*plane]
				set.PackConvB(scratch, img, geom)
				o := (b*c.m + g*mg) * p
				set.Gemm(mg, p, k, c.packed[g], scratch, dst[o:o+mg*p], p, eps[g])
			}
		}
	}, nil
}

func (c *convOp) absorb(next op, extra []*constant) bool {
	switch n := next.(type) {
	case *batchNormOp:
		if !c.act.none() {
			return false
		}
		per := len(c.w) / c.m
		for o := range c.m {
			s := n.scale[o]
			for i := range per {
				c.w[o*per+i] *= s
			}
			c.bias[o] = c.bias[o]*s + n.shift[o]
		}
		return len(n.scale) == c.m
	case *binaryOp:
		if n.fn != "Add" || !c.act.none() || len(extra) != 1 || extra[0] == nil || extra[0].f32 == nil {
			return false
		}
		k := extra[0]
		switch {
		case len(k.f32) == 1 && len(k.shape) <= 4:
			for o := range c.bias {
				c.bias[o] += k.f32[0]
			}
		case len(k.f32) == c.m && perChannel(k.shape, c.m):
			for o := range c.bias {
				c.bias[o] += k.f32[o]
			}
		default:
			return false
		}
		return true
	}
	return c.act.absorb(next)
}

// perChannel reports whether shape, broadcast against [N, M, H, W], varies
// only along the channel axis.
func perChannel(shape []int, m int) bool {
	return slices.Equal(shape, []int{m, 1, 1}) || slices.Equal(shape, []int{1, m, 1, 1})
}

// matMulOp multiplies by a constant [K, N] matrix (a dense layer, packed
// once), or, in general, two run-time operands with numpy-style batch
// broadcasting.
type matMulOp struct {
	w      *constant // the constant right operand, or nil
	k, n   int
	colB   []float32 // bias fused from a following Add; nil if none
	act    activation
	set    *kernels.Set
	packed []float32
}

func newMatMul(in []operand) (op, error) {
	if b := in[1].k; b != nil {
		if b.f32 == nil {
			return nil, unsupported("MatMul of a non-float constant")
		}
		if len(b.shape) == 2 {
			return &matMulOp{w: b, k: b.shape[0], n: b.shape[1]}, nil
		}
	}
	return &matMulOp{}, nil
}

func (o *matMulOp) finalize(set *kernels.Set) {
	o.set = set
	if o.w != nil {
		o.packed = make([]float32, set.PackBSize(o.k, o.n))
		set.PackB(o.packed, o.k, o.n, o.w.f32, o.n)
	}
}

// matShapes promotes 1-D operands as numpy does and returns the batch
// shape, M, K, N and the output shape.
func matShapes(a, b []int) (batchA, batchB, batch []int, m, k, n int, out []int, err error) {
	if len(a) == 0 || len(b) == 0 {
		return nil, nil, nil, 0, 0, 0, nil, fmt.Errorf("MatMul of a scalar")
	}
	pa, pb := a, b
	if len(a) == 1 {
		pa = []int{1, a[0]}
	}
	if len(b) == 1 {
		pb = []int{b[0], 1}
	}
	m, k = pa[len(pa)-2], pa[len(pa)-1]
	if pb[len(pb)-2] != k {
		return nil, nil, nil, 0, 0, 0, nil, fmt.Errorf("MatMul of %v and %v", a, b)
	}
	n = pb[len(pb)-1]
	batchA, batchB = pa[:len(pa)-2], pb[:len(pb)-2]
	batch, err = broadcast(batchA, batchB)
	if err != nil {
		return nil, nil, nil, 0, 0, 0, nil, err
	}
	out = slices.Clone(batch)
	if len(a) > 1 {
		out = append(out, m)
	}
	if len(b) > 1 {
		out = append(out, n)
	}
	return batchA, batchB, batch, m, k, n, out, nil
}

func (o *matMulOp) infer(in [][]int) ([]int, error) {
	_, _, _, _, _, _, out, err := matShapes(in[0], in[1])
	return out, err
}

func (o *matMulOp) bind(in []view, out view) (func(), error) {
	set := o.set
	if o.w != nil && len(in[0].shape) >= 1 && in[0].shape[len(in[0].shape)-1] == o.k {
		// A dense layer: every leading index of A is a row.
		rows := elements(in[0].shape) / o.k
		pa := make([]float32, set.PackASize(rows, o.k))
		ep := o.act.epilogue(kernels.Epilogue{ColBias: o.colB})
		x, dst, k, n := in[0].data, out.data, o.k, o.n
		return func() {
			set.PackA(pa, rows, k, x, k)
			set.Gemm(rows, n, k, pa, o.packed, dst, n, ep)
		}, nil
	}
	batchA, batchB, batch, m, k, n, _, err := matShapes(in[0].shape, in[1].shape)
	if err != nil {
		return nil, err
	}
	// Each operand's matrices, in batch order, with broadcast batch
	// dimensions repeating one.
	sa, sb := stridesIn(batchA, len(batch)), stridesIn(batchB, len(batch))
	for d := range batch {
		sa[d] *= m * k
		sb[d] *= k * n
	}
	offA, offB := offsets(batch, sa), offsets(batch, sb)
	count := len(offA)
	pa := make([]float32, set.PackASize(m, k))
	pb := make([]float32, set.PackBSize(k, n))
	ep := o.act.epilogue(kernels.Epilogue{ColBias: o.colB})
	a, b, dst := in[0].data, in[1].data, out.data
	return func() {
		for i := range count {
			set.PackA(pa, m, k, a[offA[i]:], k)
			set.PackB(pb, k, n, b[offB[i]:], n)
			set.Gemm(m, n, k, pa, pb, dst[i*m*n:(i+1)*m*n], n, ep)
		}
	}, nil
}

func (o *matMulOp) absorb(next op, extra []*constant) bool {
	return o.w != nil && absorbDense(&o.colB, &o.act, o.n, next, extra)
}

// absorbDense takes over, for an [M, N] product, a following Add of a
// per-column constant (into the bias colB) or an activation.
func absorbDense(colB *[]float32, act *activation, n int, next op, extra []*constant) bool {
	b, ok := next.(*binaryOp)
	if !ok {
		return act.absorb(next)
	}
	if b.fn != "Add" || !act.none() || len(extra) != 1 {
		return false
	}
	bias := rowVector(extra[0], n)
	if bias == nil {
		return false
	}
	if *colB == nil {
		*colB = make([]float32, n)
	}
	for j := range *colB {
		(*colB)[j] += bias[j]
	}
	return true
}

// rowVector returns k as n per-column values when it broadcasts along the
// rows of an [M, N] result: a scalar, [N] or [1, N].
func rowVector(k *constant, n int) []float32 {
	if k == nil || k.f32 == nil {
		return nil
	}
	if len(k.f32) == 1 && len(k.shape) <= 2 {
		v := make([]float32, n)
		for i := range v {
			v[i] = k.f32[0]
		}
		return v
	}
	if len(k.f32) == n && (slices.Equal(k.shape, []int{n}) || slices.Equal(k.shape, []int{1, n})) {
		return k.f32
	}
	return nil
}

// gemmOp is ONNX Gemm: alpha·A'·B' + beta·C.
type gemmOp struct {
	transA, transB bool
	alpha, beta    float32
	b              *constant // constant B, packed at finalize
	c              *constant // constant C, if any
	hasC           bool
	colB           []float32 // C folded into a per-column bias
	act            activation
	set            *kernels.Set
	packed         []float32
	k, n           int
}

func newGemm(a attrs, in []operand) (op, error) {
	g := &gemmOp{}
	ta, err := a.int("transA", 0)
	if err != nil {
		return nil, err
	}
	tb, err := a.int("transB", 0)
	if err != nil {
		return nil, err
	}
	g.transA, g.transB = ta != 0, tb != 0
	if g.alpha, err = a.float("alpha", 1); err != nil {
		return nil, err
	}
	if g.beta, err = a.float("beta", 1); err != nil {
		return nil, err
	}
	if b := in[1].k; b != nil {
		if b.f32 == nil || len(b.shape) != 2 {
			return nil, fmt.Errorf("Gemm B of shape %v", b.shape)
		}
		g.b = b
		g.k, g.n = b.shape[0], b.shape[1]
		if g.transB {
			g.k, g.n = g.n, g.k
		}
	}
	if len(in) == 3 && in[2].present() {
		g.hasC = true
		g.c = in[2].k
		if g.c != nil && g.c.f32 == nil {
			return nil, unsupported("Gemm C of a non-float type")
		}
		if g.b != nil && g.c != nil {
			if v := rowVector(g.c, g.n); v != nil {
				g.colB = make([]float32, g.n)
				for j := range v {
					g.colB[j] = g.beta * v[j]
				}
			}
		}
	}
	return g, nil
}

func (g *gemmOp) finalize(set *kernels.Set) {
	g.set = set
	if g.b != nil {
		w := g.b.f32
		if g.alpha != 1 {
			w = slices.Clone(w)
			for i := range w {
				w[i] *= g.alpha
			}
		}
		g.packed = make([]float32, set.PackBSize(g.k, g.n))
		if g.transB {
			set.PackBT(g.packed, g.k, g.n, w, g.k)
		} else {
			set.PackB(g.packed, g.k, g.n, w, g.n)
		}
	}
}

func (g *gemmOp) dims(a, b []int) (m, k, n int, err error) {
	if len(a) != 2 || len(b) != 2 {
		return 0, 0, 0, fmt.Errorf("Gemm of %v and %v", a, b)
	}
	m, k = a[0], a[1]
	if g.transA {
		m, k = k, m
	}
	kb, n := b[0], b[1]
	if g.transB {
		kb, n = n, kb
	}
	if k != kb {
		return 0, 0, 0, fmt.Errorf("Gemm of %v and %v", a, b)
	}
	return m, k, n, nil
}

func (g *gemmOp) infer(in [][]int) ([]int, error) {
	m, _, n, err := g.dims(in[0], in[1])
	if err != nil {
		return nil, err
	}
	if g.hasC {
		if _, err := broadcast([]int{m, n}, in[2]); err != nil {
			return nil, fmt.Errorf("Gemm C of shape %v for a %dx%d result", in[2], m, n)
		}
		if s, _ := broadcast([]int{m, n}, in[2]); !slices.Equal(s, []int{m, n}) {
			return nil, fmt.Errorf("Gemm C of shape %v for a %dx%d result", in[2], m, n)
		}
	}
	return []int{m, n}, nil
}

func (g *gemmOp) bind(in []view, out view) (func(), error) {
	set := g.set
	m, k, n, err := g.dims(in[0].shape, in[1].shape)
	if err != nil {
		return nil, err
	}
	x, dst := in[0].data, out.data
	pa := make([]float32, set.PackASize(m, k))
	packA := func() {
		if g.transA {
			set.PackAT(pa, m, k, x, m)
		} else {
			set.PackA(pa, m, k, x, k)
		}
	}
	if g.b != nil && (g.colB != nil || !g.hasC) {
		ep := g.act.epilogue(kernels.Epilogue{ColBias: g.colB})
		return func() {
			packA()
			set.Gemm(m, n, k, pa, g.packed, dst, n, ep)
		}, nil
	}
	// The general form: pack B now if it varies, then add beta·C with
	// broadcasting, then the activation.
	pb := g.packed
	var b []float32
	if g.b == nil {
		pb = make([]float32, set.PackBSize(k, n))
		b = in[1].data
	}
	var cIdx []int
	var c []float32
	if g.hasC {
		c = in[2].data
		sc := stridesIn(in[2].shape, 2)
		cIdx = make([]int, m*n)
		for i := range m {
			for j := range n {
				cIdx[i*n+j] = i*sc[0] + j*sc[1]
			}
		}
	}
	alpha, beta, act := g.alpha, g.beta, g.act
	transB := g.transB
	return func() {
		packA()
		post := float32(1)
		if b != nil {
			if transB {
				set.PackBT(pb, k, n, b, k)
			} else {
				set.PackB(pb, k, n, b, n)
			}
			post = alpha // a constant B carries alpha already
		}
		set.Gemm(m, n, k, pa, pb, dst, n, kernels.Epilogue{})
		for i := range dst {
			v := post * dst[i]
			if cIdx != nil {
				v += beta * c[cIdx[i]]
			}
			dst[i] = act.apply(v)
		}
	}, nil
}

func (a activation) apply(v float32) float32 {
	switch {
	case a.relu:
		return max(v, 0)
	case a.leaky != 0 && v < 0:
		return a.leaky * v
	}
	return v
}

func (g *gemmOp) absorb(next op, extra []*constant) bool {
	if g.b == nil || (g.hasC && g.colB == nil) {
		return false // the general form applies C and the activation itself
	}
	return absorbDense(&g.colB, &g.act, g.n, next, extra)
}

// batchNormOp is inference-mode batch normalisation, a per-channel affine
// map; Compile folds it into a preceding Conv where it can.
type batchNormOp struct{ scale, shift []float32 }

func newBatchNorm(a attrs, in []operand) (op, error) {
	eps, err := a.float("epsilon", 1e-5)
	if err != nil {
		return nil, err
	}
	if mode, err := a.int("training_mode", 0); err != nil || mode != 0 {
		return nil, unsupported("BatchNormalization in training mode")
	}
	var p [4][]float32
	for i := range p {
		k := in[i+1].k
		if k == nil || k.f32 == nil {
			return nil, unsupported("BatchNormalization with parameters computed at run time")
		}
		p[i] = k.f32
	}
	c := len(p[0])
	for _, v := range p {
		if len(v) != c {
			return nil, fmt.Errorf("BatchNormalization parameters of different lengths")
		}
	}
	bn := &batchNormOp{scale: make([]float32, c), shift: make([]float32, c)}
	for i := range c {
		s := p[0][i] / float32(math.Sqrt(float64(p[3][i])+float64(eps)))
		bn.scale[i] = s
		bn.shift[i] = p[1][i] - p[2][i]*s
	}
	return bn, nil
}

func (bn *batchNormOp) infer(in [][]int) ([]int, error) {
	x := in[0]
	if len(x) < 2 || x[1] != len(bn.scale) {
		return nil, fmt.Errorf("BatchNormalization of %v with %d channels", x, len(bn.scale))
	}
	return x, nil
}

func (bn *batchNormOp) bind(in []view, out view) (func(), error) {
	x := in[0].shape
	batch, c, plane := x[0], x[1], elements(x[2:])
	src, dst := in[0].data, out.data
	return func() {
		i := 0
		for range batch {
			for ch := range c {
				s, t := bn.scale[ch], bn.shift[ch]
				for j := i; j < i+plane; j++ {
					dst[j] = src[j]*s + t
				}
				i += plane
			}
		}
	}, nil
}

// poolOp is MaxPool or AveragePool over 2-D planes.
type poolOp struct {
	max        bool
	wa         windowAttrs
	includePad bool
	set        *kernels.Set // for the 2×2 max-pooling kernel
}

func newPool(name string, a attrs) (op, error) {
	kernel, err := a.ints("kernel_shape", nil)
	if err != nil {
		return nil, err
	}
	if kernel == nil {
		return nil, fmt.Errorf("%s without kernel_shape", name)
	}
	c, err := a.int("ceil_mode", 0)
	if err != nil {
		return nil, err
	}
	if c != 0 && c != 1 {
		return nil, fmt.Errorf("%s ceil_mode %d is neither 0 nor 1", name, c)
	}
	wa, err := readWindow(a, kernel)
	if err != nil {
		return nil, err
	}
	if wa.ceil = c == 1; wa.ceil && wa.autoPad != "" && wa.autoPad != "NOTSET" {
		// ONNX's formula for VALID ignores ceil_mode while ONNX Runtime
		// applies it; PyTorch exports explicit pads, so refuse the pair.
		return nil, unsupported("%s with ceil_mode and auto_pad %s", name, wa.autoPad)
	}
	inc, err := a.int("count_include_pad", 0)
	if err != nil {
		return nil, err
	}
	return &poolOp{max: name == "MaxPool", wa: wa, includePad: inc != 0}, nil
}

func (p *poolOp) finalize(set *kernels.Set) { p.set = set }

func (p *poolOp) infer(in [][]int) ([]int, error) {
	x := in[0]
	if len(x) != 4 {
		return nil, unsupported("pooling of rank %d", len(x))
	}
	wd, err := p.wa.over(x[2], x[3])
	if err != nil {
		return nil, err
	}
	return []int{x[0], x[1], wd.oh, wd.ow}, nil
}

func (p *poolOp) bind(in []view, out view) (func(), error) {
	x := in[0].shape
	wd, err := p.wa.over(x[2], x[3])
	if err != nil {
		return nil, err
	}
	planes := x[0] * x[1]
	src, dst := in[0].data, out.data
	if p.max && wd.kh == 2 && wd.kw == 2 && wd.sh == 2 && wd.sw == 2 && wd.dh == 1 && wd.dw == 1 &&
		wd.top == 0 && wd.left == 0 && 2*wd.oh <= wd.h && 2*wd.ow <= wd.w {
		// The classifiers' 2×2 pooling: every window lies inside the plane.
		set := p.set
		return func() { set.MaxPool2x2(dst, src, planes, wd.h, wd.w, wd.oh, wd.ow) }, nil
	}
	isMax, includePad := p.max, p.includePad
	// count_include_pad divides by the window's positions inside the padded
	// input: the whole window, except where ceil_mode lets the last one run
	// past the trailing padding. That count depends on the row and column
	// alone, so it is worked out once per axis.
	rows := paddedCount(wd.oh, wd.kh, wd.sh, wd.dh, wd.top, wd.h+wd.bottom)
	cols := paddedCount(wd.ow, wd.kw, wd.sw, wd.dw, wd.left, wd.w+wd.right)
	return func() {
		i := 0
		for pl := range planes {
			plane := src[pl*wd.h*wd.w : (pl+1)*wd.h*wd.w]
			for oy := range wd.oh {
				for ox := range wd.ow {
					m := float32(math.Inf(-1))
					var sum float32
					count := 0
					for ky := range wd.kh {
						y := oy*wd.sh + ky*wd.dh - wd.top
						for kx := range wd.kw {
							xx := ox*wd.sw + kx*wd.dw - wd.left
							if y < 0 || y >= wd.h || xx < 0 || xx >= wd.w {
								continue
							}
							v := plane[y*wd.w+xx]
							m = max(m, v)
							sum += v
							count++
						}
					}
					switch {
					case isMax:
						dst[i] = m
					case includePad:
						dst[i] = sum / float32(rows[oy]*cols[ox])
					case count > 0:
						dst[i] = sum / float32(count)
					default:
						dst[i] = 0
					}
					i++
				}
			}
		}
	}, nil
}

// paddedCount returns, for each of out windows along an axis, how many of
// its k taps (stride s, dilation d, lead padding lead) fall before end, the
// far edge of the padded input.
func paddedCount(out, k, s, d, lead, end int) []int {
	n := make([]int, out)
	for o := range n {
		for t := range k {
			if o*s+t*d-lead < end {
				n[o]++
			}
		}
	}
	return n
}

// globalPoolOp averages (or takes the maximum of) each plane.
type globalPoolOp struct{ max bool }

func (g *globalPoolOp) infer(in [][]int) ([]int, error) {
	x := in[0]
	if len(x) < 3 {
		return nil, fmt.Errorf("global pooling of %v", x)
	}
	out := slices.Clone(x)
	for i := 2; i < len(out); i++ {
		out[i] = 1
	}
	return out, nil
}

func (g *globalPoolOp) bind(in []view, out view) (func(), error) {
	x := in[0].shape
	planes, size := x[0]*x[1], elements(x[2:])
	src, dst := in[0].data, out.data
	isMax := g.max
	return func() {
		for p := range planes {
			plane := src[p*size : (p+1)*size]
			if isMax {
				m := float32(math.Inf(-1))
				for _, v := range plane {
					m = max(m, v)
				}
				dst[p] = m
				continue
			}
			var sum float32
			for _, v := range plane {
				sum += v
			}
			dst[p] = sum / float32(size)
		}
	}, nil
}
