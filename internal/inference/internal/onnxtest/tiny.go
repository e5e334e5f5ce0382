package onnxtest

// Tiny is a small valid model for tests to mutate: y = Relu(x·W + b) with
// x [N,4] (symbolic batch), W [4,3], b [1,3] and y [1,3]. For x = [1,2,3,4]
// it computes y = [0, 3, 8.5]; see TinyWant.
func Tiny() Model {
	return Model{Graph: Graph{
		Nodes: []Node{
			{Name: "mm", Op: "MatMul", In: []string{"x", "W"}, Out: []string{"xw"}},
			{Name: "add", Op: "Add", In: []string{"xw", "b"}, Out: []string{"z"}},
			{Name: "relu", Op: "Relu", In: []string{"z"}, Out: []string{"y"}},
		},
		Initializers: []Tensor{
			FloatTensor("W", []int64{4, 3}, []float32{
				1, 0, 0.5,
				-1, 0, 0.5,
				0, 0, 1,
				-1, 0.5, 1,
			}),
			FloatTensor("b", []int64{1, 3}, []float32{0.5, 1, 0}),
		},
		Inputs:  []Value{{Name: "x", Elem: Float, Dims: []int64{-1, 4}}},
		Outputs: []Value{FloatValue("y", 1, 3)},
	}}
}

// TinyInput and TinyWant are an input of Tiny and its exact output:
// x·W = [1-2-4, 0+0+0+2, 0.5+1+3+4] = [-5, 2, 8.5], plus b = [-4.5, 3, 8.5],
// through Relu = [0, 3, 8.5].
var (
	TinyInput = []float32{1, 2, 3, 4}
	TinyWant  = []float32{0, 3, 8.5}
)
