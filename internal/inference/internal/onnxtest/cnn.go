package onnxtest

import "math/rand/v2"

// CNN builds a digit classifier with the built-in model's architecture
// (Conv 5×5 ×c1 → Relu → MaxPool 2 → Conv 5×5 ×c2 → Relu → MaxPool 2 →
// Flatten → MatMul+Add hidden → Relu → MatMul+Add 10 → Softmax) and random
// weights, for benchmarks and tests that need its cost before the trained
// file exists. Input "input" [1,1,28,28], output "probabilities" [1,10].
func CNN(c1, c2, hidden int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, seed))
	w := func(n int, scale float32) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = (rng.Float32()*2 - 1) * scale
		}
		return v
	}
	flat := c2 * 4 * 4
	conv := []Attr{Ints("kernel_shape", 5, 5), Ints("pads", 0, 0, 0, 0), Ints("strides", 1, 1), Int("group", 1)}
	pool := []Attr{Ints("kernel_shape", 2, 2), Ints("strides", 2, 2)}
	m := Model{IRVersion: 7, Opset: 13, Graph: Graph{
		Nodes: []Node{
			{Op: "Conv", In: []string{"input", "w1", "b1"}, Out: []string{"c1"}, Attrs: conv},
			{Op: "Relu", In: []string{"c1"}, Out: []string{"r1"}},
			{Op: "MaxPool", In: []string{"r1"}, Out: []string{"p1"}, Attrs: pool},
			{Op: "Conv", In: []string{"p1", "w2", "b2"}, Out: []string{"c2"}, Attrs: conv},
			{Op: "Relu", In: []string{"c2"}, Out: []string{"r2"}},
			{Op: "MaxPool", In: []string{"r2"}, Out: []string{"p2"}, Attrs: pool},
			{Op: "Flatten", In: []string{"p2"}, Out: []string{"f"}, Attrs: []Attr{Int("axis", 1)}},
			{Op: "MatMul", In: []string{"f", "w3"}, Out: []string{"m3"}},
			{Op: "Add", In: []string{"m3", "b3"}, Out: []string{"a3"}},
			{Op: "Relu", In: []string{"a3"}, Out: []string{"r3"}},
			{Op: "MatMul", In: []string{"r3", "w4"}, Out: []string{"m4"}},
			{Op: "Add", In: []string{"m4", "b4"}, Out: []string{"logits"}},
			{Op: "Softmax", In: []string{"logits"}, Out: []string{"probabilities"}, Attrs: []Attr{Int("axis", 1)}},
		},
		Initializers: []Tensor{
			FloatTensor("w1", []int64{int64(c1), 1, 5, 5}, w(c1*25, 0.2)),
			FloatTensor("b1", []int64{int64(c1)}, w(c1, 0.1)),
			FloatTensor("w2", []int64{int64(c2), int64(c1), 5, 5}, w(c2*c1*25, 0.05)),
			FloatTensor("b2", []int64{int64(c2)}, w(c2, 0.1)),
			FloatTensor("w3", []int64{int64(flat), int64(hidden)}, w(flat*hidden, 0.05)),
			FloatTensor("b3", []int64{1, int64(hidden)}, w(hidden, 0.1)),
			FloatTensor("w4", []int64{int64(hidden), 10}, w(hidden*10, 0.1)),
			FloatTensor("b4", []int64{1, 10}, w(10, 0.1)),
		},
		Inputs:  []Value{FloatValue("input", 1, 1, 28, 28)},
		Outputs: []Value{FloatValue("probabilities", 1, 10)},
	}}
	return m.Marshal()
}
