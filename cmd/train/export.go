package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/taskmind/taskmind/internal/onnxfile"
)

// The exported graph's interface. onnx-go fixes the batch size at the first
// run, so the graph declares batch 1.
const (
	inputName    = "input"
	outputName   = "probabilities"
	opsetVersion = 13
	irVersion    = 7
)

// exportInfo is the metadata stored inside the ONNX file. It must not hold
// anything that varies between identical runs (timings, paths), or the
// file would not be reproducible byte for byte.
type exportInfo struct {
	Name, Version, Description string
	Seed                       uint64
	Epochs                     int
}

// buildModel turns trained parameters into an ONNX graph that onnx-go v0.5.0
// runs correctly: Conv without group, MaxPool, Relu, Flatten, MatMul + Add
// for the dense layers (onnx-go's Gemm corrupts its bias across runs at
// batch 1), and Softmax.
func buildModel(p *params, info exportInfo) *onnxfile.Model {
	a := p.arch
	ints := func(name string, v ...int64) onnxfile.Attribute {
		return onnxfile.Attribute{Name: name, Type: onnxfile.AttrInts, Ints: v}
	}
	intAttr := func(name string, v int64) onnxfile.Attribute {
		return onnxfile.Attribute{Name: name, Type: onnxfile.AttrInt, I: v}
	}
	convAttrs := []onnxfile.Attribute{
		ints("dilations", 1, 1),
		intAttr("group", 1),
		ints("kernel_shape", kSide, kSide),
		ints("pads", 0, 0, 0, 0),
		ints("strides", 1, 1),
	}
	poolAttrs := []onnxfile.Attribute{
		ints("kernel_shape", 2, 2),
		ints("pads", 0, 0, 0, 0),
		ints("strides", 2, 2),
	}
	node := func(op, name string, in []string, attrs ...onnxfile.Attribute) onnxfile.Node {
		return onnxfile.Node{OpType: op, Name: name, Inputs: in, Outputs: []string{name}, Attributes: attrs}
	}
	nodes := []onnxfile.Node{
		node("Conv", "conv1", []string{inputName, "conv1.weight", "conv1.bias"}, convAttrs...),
		node("Relu", "relu1", []string{"conv1"}),
		node("MaxPool", "pool1", []string{"relu1"}, poolAttrs...),
		node("Conv", "conv2", []string{"pool1", "conv2.weight", "conv2.bias"}, convAttrs...),
		node("Relu", "relu2", []string{"conv2"}),
		node("MaxPool", "pool2", []string{"relu2"}, poolAttrs...),
		node("Flatten", "flatten", []string{"pool2"}, intAttr("axis", 1)),
		node("MatMul", "fc1.matmul", []string{"flatten", "fc1.weight"}),
		node("Add", "fc1", []string{"fc1.matmul", "fc1.bias"}),
		node("Relu", "relu3", []string{"fc1"}),
		node("MatMul", "fc2.matmul", []string{"relu3", "fc2.weight"}),
		node("Add", "logits", []string{"fc2.matmul", "fc2.bias"}),
		node("Softmax", outputName, []string{"logits"}, intAttr("axis", 1)),
	}
	// Dense biases are [1, n] rather than [n]: onnx-go's Add guesses the
	// broadcast axis of a 1-D operand by matching sizes, which a [1, n]
	// operand of the same rank never needs.
	inits := []onnxfile.Tensor{
		onnxfile.FloatTensor("conv1.weight", []int64{int64(a.C1), 1, kSide, kSide}, p.W1),
		onnxfile.FloatTensor("conv1.bias", []int64{int64(a.C1)}, p.B1),
		onnxfile.FloatTensor("conv2.weight", []int64{int64(a.C2), int64(a.C1), kSide, kSide}, p.W2),
		onnxfile.FloatTensor("conv2.bias", []int64{int64(a.C2)}, p.B2),
		onnxfile.FloatTensor("fc1.weight", []int64{int64(a.flat()), int64(a.Hidden)}, p.W3),
		onnxfile.FloatTensor("fc1.bias", []int64{1, int64(a.Hidden)}, p.B3),
		onnxfile.FloatTensor("fc2.weight", []int64{int64(a.Hidden), numClass}, p.W4),
		onnxfile.FloatTensor("fc2.bias", []int64{1, numClass}, p.B4),
	}
	labels := make([]string, numClass)
	for i := range labels {
		labels[i] = strconv.Itoa(i)
	}
	return &onnxfile.Model{
		IRVersion:       irVersion,
		OpsetImports:    []onnxfile.OpsetImport{{Domain: "", Version: opsetVersion}},
		ProducerName:    "taskmind-train",
		ProducerVersion: info.Version,
		Domain:          "io.taskmind",
		ModelVersion:    1,
		DocString:       info.Description,
		Graph: &onnxfile.Graph{
			Name:         info.Name,
			Nodes:        nodes,
			Initializers: inits,
			Inputs:       []onnxfile.ValueInfo{onnxfile.TensorValueInfo(inputName, onnxfile.Float, 1, 1, imgSide, imgSide)},
			Outputs:      []onnxfile.ValueInfo{onnxfile.TensorValueInfo(outputName, onnxfile.Float, 1, numClass)},
		},
		Metadata: []onnxfile.MetadataEntry{
			{Key: "name", Value: info.Name},
			{Key: "version", Value: info.Version},
			{Key: "labels", Value: strings.Join(labels, ",")},
			{Key: "preprocessing", Value: preprocessing},
			{Key: "seed", Value: strconv.FormatUint(info.Seed, 10)},
			{Key: "epochs", Value: strconv.Itoa(info.Epochs)},
		},
	}
}

// preprocessing documents what the input tensor must hold.
const preprocessing = "28x28 grayscale, row-major, float32 pixel/255 in [0,1], 0 = background (black), 1 = ink (white), as in MNIST; shape [1,1,28,28]"

// paramsFromModel reads the weights back out of a model written by
// buildModel, so tests can compare the training code's own forward pass with
// what ONNX runtimes compute from the file.
func paramsFromModel(m *onnxfile.Model) (*params, error) {
	if m.Graph == nil {
		return nil, fmt.Errorf("model has no graph")
	}
	byName := map[string][]float32{}
	dims := map[string][]int64{}
	for i := range m.Graph.Initializers {
		t := &m.Graph.Initializers[i]
		v, err := t.Floats()
		if err != nil {
			return nil, err
		}
		byName[t.Name] = v
		dims[t.Name] = t.Dims
	}
	w1, w2, w3 := dims["conv1.weight"], dims["conv2.weight"], dims["fc1.weight"]
	if len(w1) != 4 || len(w2) != 4 || len(w3) != 2 {
		return nil, fmt.Errorf("model lacks the conv1/conv2/fc1 weights of a Taskmind MNIST network")
	}
	p := newParams(arch{C1: int(w1[0]), C2: int(w2[0]), Hidden: int(w3[1])})
	names := []string{"conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"}
	for i, dst := range p.tensors() {
		src, ok := byName[names[i]]
		if !ok || len(src) != len(dst) {
			return nil, fmt.Errorf("initializer %s: got %d values, want %d", names[i], len(src), len(dst))
		}
		copy(dst, src)
	}
	return p, nil
}
