package onnxtest

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
)

// RefModel is one model of the ONNX Runtime reference set in
// internal/inference/testdata/reference: the mkref program writes it with
// random inputs, tools/ortref/refset.mjs records ONNX Runtime's outputs, and
// the engine's reference test compares every backend with them.
type RefModel struct {
	Name string
	// Covers says which operators and attribute forms the model exercises.
	Covers string
	Opset  int64
	Bytes  []byte
	Inputs []RefInput
	// Gorgonnx, when not empty, is why the reference test does not compare
	// onnx-go's gorgonnx backend on this model: it lacks an operator or
	// computes one wrongly (see onnxcheck's gorgonnxGaps).
	Gorgonnx string
	// FixedBatch marks a graph whose declared batch is 1 and whose graph
	// does not say otherwise (a Reshape to a constant shape, outputs
	// declared [1,…]); ONNX Runtime refuses batch 3 there, so refset.mjs
	// runs such a batch row by row and stacks the outputs, which is what a
	// backend that takes any batch must compute.
	FixedBatch bool
	// GraphFixesBatch, when not empty, says why the graph itself takes only
	// batch 1 (a Reshape to a literal [1,…]): a backend must refuse a
	// larger batch rather than compute it, as ONNX Runtime does.
	GraphFixesBatch string
}

// RefInput is one graph input; Dims[0] is the batch dimension. Values are
// drawn uniformly from [Lo, Hi).
type RefInput struct {
	Name   string
	Dims   []int64
	Lo, Hi float32
}

// RefSeed seeds every random weight and input of the reference set. Each
// model draws from its own stream (the seed and a hash of its name), so
// adding or changing one model leaves the others' bytes alone.
const RefSeed = 20261125

// RefRand returns the random stream of the named model and purpose.
func RefRand(model, purpose string) *rand.Rand {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%s", model, purpose)
	return rand.New(rand.NewPCG(RefSeed, h.Sum64()))
}

// refBuilder assembles one small model. Weights come from the model's own
// stream; value names are generated, since nobody reads them.
type refBuilder struct {
	name  string
	rng   *rand.Rand
	g     Graph
	next  int
	opset int64
}

func newRef(name string, opset int64) *refBuilder {
	return &refBuilder{name: name, rng: RefRand(name, "weights"), opset: opset}
}

// input declares a graph input with a symbolic batch ("N").
func (b *refBuilder) input(name string, dims ...int64) string {
	b.g.Inputs = append(b.g.Inputs, Value{Name: name, Elem: Float, Dims: append([]int64{-1}, dims...)})
	return name
}

// uniform adds a FLOAT initializer with values in [lo, hi).
func (b *refBuilder) uniform(lo, hi float32, dims ...int64) string {
	n := int64(1)
	for _, d := range dims {
		n *= d
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = lo + (hi-lo)*b.rng.Float32()
	}
	return b.floats(dims, v)
}

// weights adds a FLOAT initializer with values in [-scale, scale).
func (b *refBuilder) weights(scale float32, dims ...int64) string {
	return b.uniform(-scale, scale, dims...)
}

func (b *refBuilder) floats(dims []int64, v []float32) string {
	name := b.fresh("w")
	b.g.Initializers = append(b.g.Initializers, FloatTensor(name, dims, v))
	return name
}

// ints adds a 1-D INT64 initializer (shapes, axes).
func (b *refBuilder) ints(v ...int64) string {
	name := b.fresh("i")
	b.g.Initializers = append(b.g.Initializers, Tensor{Name: name, Dims: []int64{int64(len(v))}, DataType: Int64, Int64s: v})
	return name
}

func (b *refBuilder) fresh(prefix string) string {
	b.next++
	return fmt.Sprintf("%s%d", prefix, b.next)
}

// node adds an operator with one output and returns the output's name.
func (b *refBuilder) node(op string, in []string, attrs ...Attr) string {
	out := b.fresh("t")
	b.g.Nodes = append(b.g.Nodes, Node{Name: out + "_" + op, Op: op, In: in, Out: []string{out}, Attrs: attrs})
	return out
}

// output renames value v to a graph output. Output shapes are left
// undeclared: every backend infers them, and a declared [N,…] would only
// restate what the reference records.
func (b *refBuilder) output(v, name string) {
	for i := range b.g.Nodes {
		for j, o := range b.g.Nodes[i].Out {
			if o == v {
				b.g.Nodes[i].Out[j] = name
			}
		}
		for j, in := range b.g.Nodes[i].In {
			if in == v {
				b.g.Nodes[i].In[j] = name
			}
		}
	}
	b.g.Outputs = append(b.g.Outputs, Value{Name: name, Elem: Float, NoShape: true})
}

func (b *refBuilder) model() []byte {
	return Model{IRVersion: 7, Opset: b.opset, Graph: b.g}.Marshal()
}

// F is a shorthand for a FLOAT attribute.
func F(name string, v float32) Attr { return Attr{Name: name, Type: AttrFloat, F: v} }

// S is a shorthand for a STRING attribute.
func S(name, v string) Attr { return Attr{Name: name, Type: AttrString, S: v} }

// Reasons gorgonnx is not compared, as onnxcheck states them.
const (
	gorgoGemm      = "onnx-go corrupts Gemm's bias across runs at batch 1"
	gorgoAvgPool   = "onnx-go has no AveragePool"
	gorgoGroup     = "onnx-go ignores Conv's group and computes a full convolution"
	gorgoPads      = "onnx-go misreads unequal pads ([top, left, bottom, right] as [top, bottom, left, right])"
	gorgoSqueeze13 = "onnx-go reads Squeeze/Unsqueeze axes as an attribute, as in opset 12"
	gorgoDropout12 = "onnx-go's Dropout takes exactly one input and has one output"
	gorgoSameLower = "onnx-go computes only SAME_UPPER padding"
	gorgoShape     = "onnx-go has no Shape, Gather or Slice"
	gorgoClip      = "onnx-go has no Clip"
	gorgoPad       = "onnx-go has no Pad"
	gorgoCeil      = "onnx-go refuses MaxPool's ceil_mode"

	// Forms the pre-parse admits for gorgonnx that gorgonnx refuses at the
	// trial run (so the engine refuses the model or serves it compiled)...
	gorgoOddSame    = "onnx-go refuses SAME_UPPER padding whose total is odd (\"Asymetric padding\")"
	gorgoMatMul3D   = "onnx-go has no MatMul above 2-D"
	gorgoBroadcast  = "onnx-go's Div cannot broadcast [1,C,1,1] against NCHW"
	gorgoReshape0   = "onnx-go does not implement Reshape's 0 (copy the input dimension)"
	gorgoPermless   = "onnx-go has no Transpose without perm"
	gorgoNegConcat  = "onnx-go misreads Concat's negative axis"
	gorgoConstant   = "onnx-go fails the trial run of Constant feeding Mul and Reshape"
	gorgoNegSqueeze = "onnx-go panics on this Squeeze/Unsqueeze pair (two axes, one negative)"
	// ...and one it computes wrongly, unknown to the pre-parse, so the
	// engine's trial comparison refuses the compiled plan too.
	gorgoSoftmax13 = "onnx-go computes Softmax with the opset-11 semantics (input coerced to 2-D at axis) at opset 13 too"
)

// RefModels returns the operator models of the reference set: each small
// (well under 100 KB), with a symbolic batch, covering one operator or
// attribute form the compiled backend must compute like ONNX Runtime.
// The built-in model, mnist-7, CNN and Tiny are added by the mkref program.
func RefModels() []RefModel {
	var ms []RefModel
	add := func(b *refBuilder, covers, gorgonnx string, inputs ...RefInput) {
		ms = append(ms, RefModel{Name: b.name, Covers: covers, Opset: b.opset, Bytes: b.model(), Inputs: inputs, Gorgonnx: gorgonnx})
	}
	in := func(name string, lo, hi float32, dims ...int64) RefInput {
		return RefInput{Name: name, Dims: append([]int64{1}, dims...), Lo: lo, Hi: hi}
	}

	// Convolutions.
	{
		b := newRef("conv_bias_pads", 13)
		x := b.input("x", 3, 9, 9)
		y := b.node("Conv", []string{x, b.weights(0.3, 4, 3, 3, 3), b.weights(0.2, 4)},
			Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1))
		b.output(y, "y")
		add(b, "Conv 3x3 with bias, symmetric pads 1, stride 1", "", in("x", -1, 1, 3, 9, 9))
	}
	{
		b := newRef("conv_nobias_strides", 13)
		x := b.input("x", 2, 10, 11)
		y := b.node("Conv", []string{x, b.weights(0.3, 5, 2, 3, 3)},
			Ints("kernel_shape", 3, 3), Ints("strides", 2, 3))
		b.output(y, "y")
		add(b, "Conv without bias, no pads, strides [2,3]", "", in("x", -1, 1, 2, 10, 11))
	}
	{
		b := newRef("conv_pads_asym", 13)
		x := b.input("x", 3, 8, 7)
		y := b.node("Conv", []string{x, b.weights(0.3, 4, 3, 3, 2), b.weights(0.2, 4)},
			Ints("kernel_shape", 3, 2), Ints("pads", 1, 0, 2, 1), Ints("strides", 2, 1))
		b.output(y, "y")
		add(b, "Conv 3x2 kernel, asymmetric pads [1,0,2,1], strides [2,1], bias", gorgoPads, in("x", -1, 1, 3, 8, 7))
	}
	{
		b := newRef("conv_dilations", 13)
		x := b.input("x", 2, 11, 11)
		y := b.node("Conv", []string{x, b.weights(0.3, 3, 2, 3, 3), b.weights(0.2, 3)},
			Ints("kernel_shape", 3, 3), Ints("dilations", 2, 3), Ints("pads", 2, 2, 2, 2))
		b.output(y, "y")
		add(b, "Conv with dilations [2,3] and pads 2, bias", "", in("x", -1, 1, 2, 11, 11))
	}
	{
		b := newRef("conv_group", 13)
		x := b.input("x", 4, 7, 7)
		y := b.node("Conv", []string{x, b.weights(0.3, 6, 2, 3, 3), b.weights(0.2, 6)},
			Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1), Int("group", 2))
		b.output(y, "y")
		add(b, "Conv group=2 (4→6 channels), pads 1, bias", gorgoGroup, in("x", -1, 1, 4, 7, 7))
	}
	{
		b := newRef("conv_depthwise", 13)
		x := b.input("x", 4, 9, 9)
		y := b.node("Conv", []string{x, b.weights(0.4, 4, 1, 3, 3)},
			Ints("kernel_shape", 3, 3), Ints("pads", 0, 1, 1, 0), Ints("strides", 2, 2), Int("group", 4))
		b.output(y, "y")
		add(b, "depthwise Conv (group=C=4), no bias, asymmetric pads [0,1,1,0], strides 2", gorgoGroup+"; "+gorgoPads, in("x", -1, 1, 4, 9, 9))
	}
	{
		b := newRef("conv_depthwise_multiplier", 13)
		x := b.input("x", 3, 6, 6)
		y := b.node("Conv", []string{x, b.weights(0.4, 6, 1, 3, 3), b.weights(0.2, 6)},
			Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1), Int("group", 3))
		b.output(y, "y")
		add(b, "depthwise Conv with channel multiplier 2 (group=3, 3→6), bias", gorgoGroup, in("x", -1, 1, 3, 6, 6))
	}
	{
		b := newRef("conv_autopad_same_upper", 13)
		x := b.input("x", 2, 7, 8)
		y := b.node("Conv", []string{x, b.weights(0.3, 3, 2, 3, 3), b.weights(0.2, 3)},
			Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), S("auto_pad", "SAME_UPPER"))
		b.output(y, "y")
		add(b, "Conv auto_pad SAME_UPPER, strides 2 (odd total padding)", gorgoOddSame, in("x", -1, 1, 2, 7, 8))
	}
	{
		b := newRef("conv_autopad_same_lower", 13)
		x := b.input("x", 2, 7, 8)
		y := b.node("Conv", []string{x, b.weights(0.3, 3, 2, 2, 2)},
			Ints("kernel_shape", 2, 2), S("auto_pad", "SAME_LOWER"))
		b.output(y, "y")
		add(b, "Conv auto_pad SAME_LOWER, 2x2 kernel, no bias", gorgoSameLower, in("x", -1, 1, 2, 7, 8))
	}
	{
		b := newRef("conv_bn_relu_head", 13)
		x := b.input("x", 3, 8, 8)
		c := b.node("Conv", []string{x, b.weights(0.3, 8, 3, 3, 3)}, Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1))
		bn := b.node("BatchNormalization", []string{c, b.uniform(0.5, 1.5, 8), b.weights(0.3, 8), b.weights(0.3, 8), b.uniform(0.5, 2, 8)}, F("epsilon", 1e-3))
		r := b.node("Relu", []string{bn})
		p := b.node("GlobalAveragePool", []string{r})
		f := b.node("Flatten", []string{p})
		g := b.node("Gemm", []string{f, b.weights(0.5, 5, 8), b.weights(0.2, 5)}, Int("transB", 1))
		y := b.node("Softmax", []string{g}, Int("axis", 1))
		b.output(y, "y")
		add(b, "Conv (no bias) → BatchNormalization → Relu → GlobalAveragePool → Flatten → Gemm transB → Softmax: a classifier head and the Conv+BN fold", gorgoGemm, in("x", -1, 1, 3, 8, 8))
	}

	// Dense layers.
	{
		b := newRef("matmul_2d", 13)
		x := b.input("x", 12)
		y := b.node("MatMul", []string{x, b.weights(0.4, 12, 7)})
		b.output(y, "y")
		add(b, "MatMul [N,12]·[12,7]", "", in("x", -1, 1, 12))
	}
	{
		b := newRef("matmul_3d", 13)
		x := b.input("x", 4, 6)
		a := b.node("MatMul", []string{x, b.weights(0.4, 6, 5)})
		t := b.node("Transpose", []string{x}, Ints("perm", 0, 2, 1))
		y := b.node("MatMul", []string{t, a})
		b.output(y, "y")
		add(b, "batched MatMul: [N,4,6]·[6,5], then [N,6,4]·[N,4,5] (both operands batched, one a Transpose)", gorgoMatMul3D, in("x", -1, 1, 4, 6))
	}
	{
		b := newRef("gemm_bias_n", 13)
		x := b.input("x", 10)
		y := b.node("Gemm", []string{x, b.weights(0.4, 10, 6), b.weights(0.3, 6)})
		b.output(y, "y")
		add(b, "Gemm defaults (alpha=beta=1, no transposes), bias [n]", gorgoGemm, in("x", -1, 1, 10))
	}
	{
		b := newRef("gemm_transb_alpha_beta", 13)
		x := b.input("x", 10)
		y := b.node("Gemm", []string{x, b.weights(0.4, 6, 10), b.weights(0.3, 1, 6)},
			Int("transB", 1), F("alpha", 0.7), F("beta", 1.5))
		b.output(y, "y")
		add(b, "Gemm transB=1, alpha 0.7, beta 1.5, bias [1,n]", gorgoGemm, in("x", -1, 1, 10))
	}
	{
		b := newRef("gemm_transa_scalar", 13)
		x := b.input("x", 8)
		t := b.node("Transpose", []string{x}, Ints("perm", 1, 0))
		c := b.floats(nil, []float32{0.25})
		y := b.node("Gemm", []string{t, b.weights(0.4, 5, 8), c},
			Int("transA", 1), Int("transB", 1), F("alpha", 1.25), F("beta", -2))
		b.output(y, "y")
		add(b, "Gemm transA=1 and transB=1 (A a Transpose of the input), alpha 1.25, beta -2, scalar bias", gorgoGemm, in("x", -1, 1, 8))
	}
	{
		b := newRef("gemm_no_bias", 13)
		x := b.input("x", 9)
		y := b.node("Gemm", []string{x, b.weights(0.4, 9, 4)}, F("alpha", 2))
		b.output(y, "y")
		add(b, "Gemm without C (optional from opset 11), alpha 2", gorgoGemm, in("x", -1, 1, 9))
	}

	// Element-wise arithmetic with broadcasting.
	{
		b := newRef("add_scalar", 13)
		x := b.input("x", 3, 4, 4)
		y := b.node("Add", []string{x, b.floats(nil, []float32{0.75})})
		b.output(y, "y")
		add(b, "Add of a scalar (rank-0 initializer)", "", in("x", -1, 1, 3, 4, 4))
	}
	{
		b := newRef("sub_channel", 13)
		x := b.input("x", 3, 4, 5)
		y := b.node("Sub", []string{b.weights(1, 3, 1, 1), x})
		b.output(y, "y")
		add(b, "Sub of NCHW from a [C,1,1] constant (broadcast on the left operand)", "", in("x", -1, 1, 3, 4, 5))
	}
	{
		b := newRef("mul_rank", 13)
		x := b.input("x", 3, 4, 5)
		y := b.node("Mul", []string{x, b.weights(2, 5)})
		b.output(y, "y")
		add(b, "Mul of NCHW by a [W] vector (rank mismatch)", "", in("x", -1, 1, 3, 4, 5))
	}
	{
		b := newRef("div_channel", 13)
		x := b.input("x", 3, 4, 5)
		d := b.node("Div", []string{x, b.uniform(0.5, 2, 1, 3, 1, 1)})
		y := b.node("Div", []string{b.uniform(0.5, 2, 3, 1, 1), d})
		b.output(y, "y")
		add(b, "Div by a [1,C,1,1] constant, then a [C,1,1] constant divided by the result", gorgoBroadcast, in("x", 0.5, 1.5, 3, 4, 5))
	}
	{
		b := newRef("binary_inputs", 13)
		x := b.input("x", 3, 4)
		z := b.input("z", 3, 4)
		s := b.node("Add", []string{x, z})
		d := b.node("Sub", []string{x, z})
		m := b.node("Mul", []string{s, d})
		y := b.node("Div", []string{m, z})
		b.output(y, "y")
		add(b, "Add, Sub, Mul, Div of two graph inputs of the same shape", "", in("x", -1, 1, 3, 4), in("z", 0.5, 1.5, 3, 4))
	}

	// Activations.
	for _, a := range []struct {
		name, op string
		attrs    []Attr
	}{
		{"relu", "Relu", nil},
		{"leakyrelu", "LeakyRelu", []Attr{F("alpha", 0.2)}},
		{"leakyrelu_default", "LeakyRelu", nil},
		{"sigmoid", "Sigmoid", nil},
		{"tanh", "Tanh", nil},
	} {
		b := newRef(a.name, 13)
		x := b.input("x", 2, 3, 4)
		y := b.node(a.op, []string{x}, a.attrs...)
		b.output(y, "y")
		covers := a.op
		if a.attrs != nil {
			covers += " alpha 0.2"
		} else if a.op == "LeakyRelu" {
			covers += " with the default alpha 0.01"
		}
		add(b, covers, "", in("x", -4, 4, 2, 3, 4))
	}

	// Softmax: before opset 13 the input is coerced to 2-D at axis (default
	// 1); from 13 it is normalised along axis alone (default -1).
	for _, s := range []struct {
		name   string
		opset  int64
		axis   *int64
		covers string
	}{
		{"softmax11_axis1_4d", 11, ptr(1), "Softmax opset 11, axis 1 on NCHW: over C·H·W together"},
		{"softmax11_default_3d", 11, nil, "Softmax opset 11, default axis (1) on [N,4,5]: over 20 values"},
		{"softmax11_axis2_4d", 11, ptr(2), "Softmax opset 11, axis 2 on NCHW: over H·W per channel"},
		{"softmax13_axis1_4d", 13, ptr(1), "Softmax opset 13, axis 1 on NCHW: over C alone"},
		{"softmax13_default_3d", 13, nil, "Softmax opset 13, default axis (-1) on [N,4,5]"},
	} {
		b := newRef(s.name, s.opset)
		dims := []int64{3, 2, 2}
		if s.axis == nil {
			dims = []int64{4, 5}
		}
		x := b.input("x", dims...)
		var attrs []Attr
		if s.axis != nil {
			attrs = append(attrs, Int("axis", *s.axis))
		}
		y := b.node("Softmax", []string{x}, attrs...)
		b.output(y, "y")
		skip := ""
		if s.opset >= 13 {
			skip = gorgoSoftmax13
		}
		add(b, s.covers, skip, in("x", -3, 3, dims...))
	}

	// Pooling.
	{
		b := newRef("maxpool_pads_strides", 13)
		x := b.input("x", 3, 9, 9)
		y := b.node("MaxPool", []string{x}, Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1))
		b.output(y, "y")
		add(b, "MaxPool 3x3, strides 2, pads 1", "", in("x", -1, 1, 3, 9, 9))
	}
	{
		b := newRef("maxpool_pads_asym", 13)
		x := b.input("x", 2, 6, 7)
		y := b.node("MaxPool", []string{x}, Ints("kernel_shape", 2, 3), Ints("strides", 1, 2), Ints("pads", 0, 1, 1, 0))
		b.output(y, "y")
		add(b, "MaxPool 2x3, strides [1,2], asymmetric pads [0,1,1,0] (negative inputs, so a padded zero would show)", gorgoPads, in("x", -2, -0.1, 2, 6, 7))
	}
	{
		b := newRef("avgpool_plain", 13)
		x := b.input("x", 3, 8, 8)
		y := b.node("AveragePool", []string{x}, Ints("kernel_shape", 2, 2), Ints("strides", 2, 2))
		b.output(y, "y")
		add(b, "AveragePool 2x2, strides 2, no pads", gorgoAvgPool, in("x", -1, 1, 3, 8, 8))
	}
	{
		b := newRef("avgpool_exclude_pad", 13)
		x := b.input("x", 2, 7, 7)
		y := b.node("AveragePool", []string{x}, Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1))
		b.output(y, "y")
		add(b, "AveragePool 3x3, strides 2, pads 1, count_include_pad=0 (default)", gorgoAvgPool, in("x", -1, 1, 2, 7, 7))
	}
	{
		b := newRef("avgpool_include_pad", 13)
		x := b.input("x", 2, 7, 6)
		y := b.node("AveragePool", []string{x}, Ints("kernel_shape", 3, 2), Ints("strides", 2, 1), Ints("pads", 1, 0, 0, 1), Int("count_include_pad", 1))
		b.output(y, "y")
		add(b, "AveragePool 3x2, strides [2,1], asymmetric pads [1,0,0,1], count_include_pad=1", gorgoAvgPool, in("x", -1, 1, 2, 7, 6))
	}
	// ceil_mode (PyTorch's ceil_mode=True): a partial last window counts,
	// unless it would start in the trailing padding.
	{
		b := newRef("maxpool_ceil", 13)
		x := b.input("x", 3, 8, 9)
		y := b.node("MaxPool", []string{x}, Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Int("ceil_mode", 1))
		b.output(y, "y")
		add(b, "MaxPool 3x3, strides 2, ceil_mode=1, no pads: ceil adds a partial window down the 8 rows, none across the 9 columns (negative inputs, so a zero past the edge would show)", gorgoCeil, in("x", -2, -0.1, 3, 8, 9))
	}
	{
		b := newRef("maxpool_ceil_pads", 13)
		x := b.input("x", 2, 9, 8)
		y := b.node("MaxPool", []string{x}, Ints("kernel_shape", 3, 3), Ints("strides", 3, 3), Ints("pads", 1, 1, 1, 1), Int("ceil_mode", 1))
		b.output(y, "y")
		add(b, "MaxPool 3x3, strides 3, pads 1, ceil_mode=1: the extra window down the 9 rows starts on the last row and is kept; across the 8 columns it would start in the padding and is dropped", gorgoCeil, in("x", -2, -0.1, 2, 9, 8))
	}
	{
		b := newRef("avgpool_ceil_exclude_pad", 13)
		x := b.input("x", 2, 8, 7)
		y := b.node("AveragePool", []string{x}, Ints("kernel_shape", 3, 2), Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1), Int("ceil_mode", 1))
		b.output(y, "y")
		add(b, "AveragePool 3x2, strides 2, pads 1, ceil_mode=1, count_include_pad=0: a partial window kept down the 8 rows, one dropped across the 7 columns", gorgoAvgPool, in("x", -1, 1, 2, 8, 7))
	}
	{
		b := newRef("avgpool_ceil_include_pad", 13)
		x := b.input("x", 2, 9, 9)
		y := b.node("AveragePool", []string{x}, Ints("kernel_shape", 3, 3), Ints("strides", 3, 2), Ints("pads", 1, 1, 1, 0), Int("ceil_mode", 1), Int("count_include_pad", 1))
		b.output(y, "y")
		add(b, "AveragePool 3x3, strides [3,2], asymmetric pads [1,1,1,0], ceil_mode=1, count_include_pad=1: the last window on each axis runs past the padding, which the divisor counts and the positions beyond it do not", gorgoAvgPool, in("x", -1, 1, 2, 9, 9))
	}
	{
		b := newRef("avgpool_ceil_include_nopad", 13)
		x := b.input("x", 2, 7, 5)
		y := b.node("AveragePool", []string{x}, Ints("kernel_shape", 2, 2), Ints("strides", 2, 2), Int("ceil_mode", 1), Int("count_include_pad", 1))
		b.output(y, "y")
		add(b, "AveragePool 2x2, strides 2, no pads, ceil_mode=1, count_include_pad=1: the partial last windows divide by their in-image size, not 4", gorgoAvgPool, in("x", -1, 1, 2, 7, 5))
	}
	{
		b := newRef("avgpool_ceil_drop", 13)
		x := b.input("x", 2, 7, 7)
		y := b.node("AveragePool", []string{x}, Ints("kernel_shape", 2, 2), Ints("strides", 2, 3), Ints("pads", 1, 1, 1, 1), Int("ceil_mode", 1), Int("count_include_pad", 1))
		b.output(y, "y")
		add(b, "AveragePool 2x2, strides [2,3], pads 1, ceil_mode=1, count_include_pad=1: on both axes the extra window would start in the trailing padding and is dropped", gorgoAvgPool, in("x", -1, 1, 2, 7, 7))
	}
	{
		b := newRef("globalavgpool", 13)
		x := b.input("x", 4, 5, 6)
		y := b.node("GlobalAveragePool", []string{x})
		b.output(y, "y")
		add(b, "GlobalAveragePool on [N,4,5,6]", "", in("x", -1, 1, 4, 5, 6))
	}
	{
		b := newRef("batchnorm", 13)
		x := b.input("x", 3, 4, 4)
		y := b.node("BatchNormalization", []string{x, b.uniform(0.5, 1.5, 3), b.weights(0.5, 3), b.weights(0.5, 3), b.uniform(0.25, 2, 3)}, F("epsilon", 0.01))
		b.output(y, "y")
		add(b, "standalone BatchNormalization (epsilon 0.01) on NCHW", "", in("x", -2, 2, 3, 4, 4))
	}

	// Shape operators.
	{
		b := newRef("flatten_axis2", 13)
		x := b.input("x", 2, 3, 4)
		y := b.node("Flatten", []string{x}, Int("axis", 2))
		b.output(y, "y")
		add(b, "Flatten axis 2 on [N,2,3,4] → [2N,12]", "", in("x", -1, 1, 2, 3, 4))
	}
	{
		b := newRef("reshape_zero_neg1", 13)
		x := b.input("x", 3, 4, 2)
		r1 := b.node("Reshape", []string{x, b.ints(0, -1)})
		r2 := b.node("Reshape", []string{r1, b.ints(0, 4, -1)})
		r3 := b.node("Reshape", []string{r2, b.ints(0, 0, 3, 2)})
		y := b.node("Relu", []string{r3})
		b.output(y, "y")
		add(b, "Reshape with 0 (copy the batch and a middle dimension) and -1: [N,3,4,2] → [N,24] → [N,4,6] → [N,4,3,2], then Relu", gorgoReshape0, in("x", -1, 1, 3, 4, 2))
	}
	{
		b := newRef("transpose_perm", 13)
		x := b.input("x", 2, 3, 4)
		y := b.node("Transpose", []string{x}, Ints("perm", 0, 3, 1, 2))
		b.output(y, "y")
		add(b, "Transpose perm [0,3,1,2] (NCHW → NWCH)", "", in("x", -1, 1, 2, 3, 4))
	}
	{
		b := newRef("transpose_default", 13)
		x := b.input("x", 3, 4)
		y := b.node("Transpose", []string{x})
		b.output(y, "y")
		add(b, "Transpose without perm (reverses the axes, batch last)", gorgoPermless, in("x", -1, 1, 3, 4))
	}
	{
		b := newRef("concat_channels", 13)
		x := b.input("x", 2, 3, 3)
		s := b.node("Sigmoid", []string{x})
		t := b.node("Tanh", []string{x})
		y := b.node("Concat", []string{x, s, t}, Int("axis", 1))
		b.output(y, "y")
		add(b, "Concat axis 1 of three values (input, Sigmoid, Tanh)", "", in("x", -2, 2, 2, 3, 3))
	}
	{
		b := newRef("concat_negative_axis", 13)
		x := b.input("x", 2, 3)
		z := b.input("z", 2, 5)
		y := b.node("Concat", []string{x, z}, Int("axis", -1))
		b.output(y, "y")
		add(b, "Concat axis -1 of two graph inputs of different widths", gorgoNegConcat, in("x", -1, 1, 2, 3), in("z", -1, 1, 2, 5))
	}
	{
		b := newRef("identity_dropout7", 7)
		x := b.input("x", 3, 4)
		i := b.node("Identity", []string{x})
		d := b.node("Dropout", []string{i}, F("ratio", 0.5))
		y := b.node("Relu", []string{d})
		b.output(y, "y")
		add(b, "Identity, Dropout opset 7 (ratio attribute; inference passes through), Relu", "", in("x", -1, 1, 3, 4))
	}
	{
		b := newRef("dropout13_mask", 13)
		x := b.input("x", 3, 4)
		ratio := b.floats(nil, []float32{0.3})
		d := b.fresh("t")
		b.g.Nodes = append(b.g.Nodes, Node{Name: "dropout", Op: "Dropout", In: []string{x, ratio}, Out: []string{d, "mask"}})
		y := b.node("Sigmoid", []string{d})
		b.output(y, "y")
		add(b, "Dropout opset 13 with a ratio input and an unused mask output", gorgoDropout12, in("x", -1, 1, 3, 4))
	}
	{
		b := newRef("constant", 13)
		x := b.input("x", 3, 2, 2)
		scale := FloatTensor("", []int64{3, 1, 1}, []float32{0.5, -1.5, 2})
		shape := Tensor{Dims: []int64{2}, DataType: Int64, Int64s: []int64{0, -1}}
		c := b.node("Constant", nil, Attr{Name: "value", Type: AttrTensor, T: &scale})
		s := b.node("Constant", nil, Attr{Name: "value", Type: AttrTensor, T: &shape})
		m := b.node("Mul", []string{x, c})
		y := b.node("Reshape", []string{m, s})
		b.output(y, "y")
		add(b, "Constant nodes: a [C,1,1] FLOAT multiplier and an INT64 shape for Reshape", gorgoConstant, in("x", -1, 1, 3, 2, 2))
	}
	{
		b := newRef("squeeze11_attr", 11)
		x := b.input("x", 1, 5)
		s := b.node("Squeeze", []string{x}, Ints("axes", 1))
		u := b.node("Unsqueeze", []string{s}, Ints("axes", 1, -1))
		y := b.node("Tanh", []string{u})
		b.output(y, "y")
		add(b, "Squeeze and Unsqueeze opset 11 (axes attribute, a negative axis): [N,1,5] → [N,5] → [N,1,5,1]", gorgoNegSqueeze, in("x", -1, 1, 1, 5))
	}
	{
		b := newRef("squeeze13_input", 13)
		x := b.input("x", 1, 5)
		s := b.node("Squeeze", []string{x, b.ints(1)})
		u := b.node("Unsqueeze", []string{s, b.ints(-1, 1)})
		y := b.node("Tanh", []string{u})
		b.output(y, "y")
		add(b, "Squeeze and Unsqueeze opset 13 (axes input, unsorted with a negative axis): [N,1,5] → [N,5] → [N,1,5,1]", gorgoSqueeze13, in("x", -1, 1, 1, 5))
	}

	// PyTorch's exports of ReLU6, x.view(x.size(0), -1) with a dynamic
	// batch, and F.pad.
	{
		b := newRef("view_head", 13)
		x := b.input("x", 3, 8, 8)
		c := b.node("Conv", []string{x, b.weights(0.5, 6, 3, 3, 3), b.weights(1, 6)}, Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1))
		r := b.node("Clip", []string{c, b.floats(nil, []float32{0}), b.floats(nil, []float32{6})})
		p := b.node("GlobalAveragePool", []string{r})
		s := b.node("Shape", []string{p})
		zero := b.fresh("i")
		b.g.Initializers = append(b.g.Initializers, Tensor{Name: zero, DataType: Int64, Int64s: []int64{0}})
		n := b.node("Gather", []string{s, zero}, Int("axis", 0))
		u := b.node("Unsqueeze", []string{n, b.ints(0)})
		t := b.node("Concat", []string{u, b.ints(-1)}, Int("axis", 0))
		f := b.node("Reshape", []string{p, t})
		y := b.node("Gemm", []string{f, b.weights(0.5, 5, 6), b.weights(0.2, 5)}, Int("transB", 1))
		b.output(y, "y")
		add(b, "a PyTorch head: Conv → Clip(0, 6) as inputs (ReLU6) → GlobalAveragePool → x.view(x.size(0), -1) as Shape → Gather(scalar 0) → Unsqueeze → Concat with [-1] → Reshape → Gemm", gorgoShape+"; "+gorgoClip+"; "+gorgoGemm+"; "+gorgoSqueeze13, in("x", -2, 2, 3, 8, 8))
	}
	{
		b := newRef("view_slice_clip11", 11)
		x := b.input("x", 2, 3, 4)
		r := b.node("Clip", []string{x, "", b.floats(nil, []float32{0.5})})
		s := b.node("Shape", []string{r})
		n := b.node("Slice", []string{s, b.ints(0), b.ints(1)})
		w := b.node("Slice", []string{s, b.ints(-1), b.ints(1 << 40), b.ints(0), b.ints(1)})
		t := b.node("Concat", []string{n, b.ints(-1), w}, Int("axis", 0))
		y := b.node("Reshape", []string{r, t})
		b.output(y, "y")
		add(b, "Clip opset 11 with min left empty (\"\") and a max input; Reshape to Concat(Slice(Shape, 0:1), [-1], Slice(Shape, -1:, axes [0], steps [1])): [N,2,3,4] → [N,6,4]", gorgoShape+"; "+gorgoClip, in("x", -1, 1, 2, 3, 4))
	}
	{
		b := newRef("clip6_attrs", 9)
		x := b.input("x", 3, 4)
		y := b.node("Clip", []string{x}, F("min", -0.5), F("max", 0.25))
		b.output(y, "y")
		add(b, "Clip opset 9 with min and max attributes", gorgoClip, in("x", -1, 1, 3, 4))
	}
	{
		b := newRef("pad_constant", 13)
		x := b.input("x", 2, 3, 4)
		y := b.node("Pad", []string{x, b.ints(0, 1, 2, 0, 0, 0, 1, 3), b.floats(nil, []float32{-0.5})})
		b.output(y, "y")
		add(b, "Pad constant mode (pads and constant_value inputs), asymmetric on C, H and W of NCHW", gorgoPad, in("x", -1, 1, 2, 3, 4))
	}
	{
		b := newRef("pad_reflect", 13)
		x := b.input("x", 2, 4, 5)
		y := b.node("Pad", []string{x, b.ints(0, 0, 3, 1, 0, 0, 1, 4)}, S("mode", "reflect"))
		b.output(y, "y")
		add(b, "Pad reflect mode on H and W (pads up to the axis size less one)", gorgoPad, in("x", -1, 1, 2, 4, 5))
	}
	{
		b := newRef("pad_edge_attrs", 10)
		x := b.input("x", 3, 4)
		p := b.node("Pad", []string{x}, S("mode", "edge"), Ints("pads", 0, 2, 1, 0, 1, 3))
		y := b.node("Pad", []string{p}, Ints("pads", 0, 1, 0, 0, 0, 2), F("value", 1.5))
		b.output(y, "y")
		add(b, "Pad opset 10 (pads, mode and value attributes): edge mode, then constant 1.5 with the default mode", gorgoPad, in("x", -1, 1, 3, 4))
	}
	return ms
}

func ptr(v int64) *int64 { return &v }
