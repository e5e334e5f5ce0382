package onnxtest

// ViewHead is a small classifier head as PyTorch exports it with a dynamic
// batch: x [N,3,8,8] → Conv 3x3 → Clip(0, 6) (ReLU6) → GlobalAveragePool →
// x.view(x.size(0), -1) → Gemm to 5 classes. With view set, the flattening
// is Shape → Gather(0) → Unsqueeze → Concat with [-1] → Reshape; without,
// it is Flatten, so both compute the same. Before opset 11 Clip takes its
// bounds as attributes; from 13 Unsqueeze takes its axes as an input.
func ViewHead(opset int64, view bool) []byte {
	rng := RefRand("viewhead", "weights")
	weights := func(name string, dims ...int64) Tensor {
		n := int64(1)
		for _, d := range dims {
			n *= d
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = rng.Float32()*2 - 1
		}
		return FloatTensor(name, dims, v)
	}
	g := Graph{
		Initializers: []Tensor{weights("W", 4, 3, 3, 3), weights("B", 4), weights("D", 5, 4), weights("C", 5)},
		Inputs:       []Value{{Name: "x", Elem: Float, Dims: []int64{-1, 3, 8, 8}}},
		Outputs:      []Value{{Name: "y", Elem: Float, NoShape: true}},
	}
	node := func(op string, in []string, out string, attrs ...Attr) {
		g.Nodes = append(g.Nodes, Node{Name: out, Op: op, In: in, Out: []string{out}, Attrs: attrs})
	}
	node("Conv", []string{"x", "W", "B"}, "conv", Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1))
	if opset < 11 {
		node("Clip", []string{"conv"}, "clip", F("min", 0), F("max", 6))
	} else {
		g.Initializers = append(g.Initializers, FloatTensor("lo", nil, []float32{0}), FloatTensor("hi", nil, []float32{6}))
		node("Clip", []string{"conv", "lo", "hi"}, "clip")
	}
	node("GlobalAveragePool", []string{"clip"}, "pool")
	if view {
		g.Initializers = append(g.Initializers,
			Tensor{Name: "zero", DataType: Int64, Int64s: []int64{0}},
			Tensor{Name: "rest", Dims: []int64{1}, DataType: Int64, Int64s: []int64{-1}})
		node("Shape", []string{"pool"}, "shape")
		node("Gather", []string{"shape", "zero"}, "batch", Int("axis", 0))
		if opset < 13 {
			node("Unsqueeze", []string{"batch"}, "batch1", Ints("axes", 0))
		} else {
			g.Initializers = append(g.Initializers, Tensor{Name: "axis0", Dims: []int64{1}, DataType: Int64, Int64s: []int64{0}})
			node("Unsqueeze", []string{"batch", "axis0"}, "batch1")
		}
		node("Concat", []string{"batch1", "rest"}, "target", Int("axis", 0))
		node("Reshape", []string{"pool", "target"}, "flat")
	} else {
		node("Flatten", []string{"pool"}, "flat", Int("axis", 1))
	}
	node("Gemm", []string{"flat", "D", "C"}, "y", Int("transB", 1))
	return Model{IRVersion: 7, Opset: opset, Graph: g}.Marshal()
}
