package onnxfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// sampleModel exercises every field Marshal writes.
func sampleModel() *Model {
	sub := &Graph{
		Name:    "body",
		Nodes:   []Node{{Inputs: []string{"a"}, Outputs: []string{"b"}, OpType: "Identity"}},
		Inputs:  []ValueInfo{{Name: "a", Type: &TensorType{ElemType: Float, Shape: []Dim{}}}},
		Outputs: []ValueInfo{{Name: "b"}},
	}
	w := FloatTensor("w", []int64{2, 3}, []float32{1, -2, 3.5, 0, 1e-8, -0.25})
	return &Model{
		IRVersion:       7,
		OpsetImports:    []OpsetImport{{Domain: "", Version: 13}, {Domain: "com.example", Version: 1}},
		ProducerName:    "test",
		ProducerVersion: "0.1",
		Domain:          "io.example",
		ModelVersion:    3,
		DocString:       "a model",
		Metadata:        []MetadataEntry{{Key: "labels", Value: "0,1"}, {Key: "empty", Value: ""}},
		Graph: &Graph{
			Name:      "main",
			DocString: "the graph",
			Nodes: []Node{
				{
					Inputs: []string{"x", "", "w"}, Outputs: []string{"y"}, Name: "n1", OpType: "Custom",
					Domain: "com.example", DocString: "node doc",
					Attributes: []Attribute{
						{Name: "f", Type: AttrFloat, F: 0.5},
						{Name: "zero", Type: AttrInt, I: 0},
						{Name: "neg", Type: AttrInt, I: -7},
						{Name: "s", Type: AttrString, S: []byte("SAME_UPPER")},
						{Name: "t", Type: AttrTensor, T: &Tensor{Name: "c", DataType: Int64, Dims: []int64{2}, Int64Data: []int64{-1, 5}}},
						{Name: "g", Type: AttrGraph, G: sub},
						{Name: "fs", Type: AttrFloats, Floats: []float32{1, 2}},
						{Name: "is", Type: AttrInts, Ints: []int64{0, -1, 1 << 40}},
						{Name: "ss", Type: AttrStrings, Strings: [][]byte{[]byte("a"), []byte("bc")}},
						{Name: "ts", Type: AttrTensors, Tensors: []Tensor{{Name: "d", DataType: Float, Dims: []int64{1}, FloatData: []float32{3}}}},
						{Name: "gs", Type: AttrGraphs, Graphs: []Graph{*sub}, DocString: "attr doc"},
					},
				},
			},
			Initializers: []Tensor{
				w,
				{Name: "i32", DataType: Int32, Dims: []int64{3}, Int32Data: []int32{-3, 0, 7}},
				{Name: "f64", DataType: Double, Dims: []int64{2}, DoubleData: []float64{1.5, -2}},
				{Name: "u64", DataType: Uint64, Dims: []int64{1}, Uint64Data: []uint64{1 << 63}},
				{Name: "str", DataType: String, Dims: []int64{2}, StringData: [][]byte{[]byte("x"), []byte("")}, DocString: "strings"},
				{Name: "ext", DataType: Float, Dims: []int64{4}, External: true},
			},
			Inputs: []ValueInfo{
				{Name: "x", DocString: "input", Type: &TensorType{ElemType: Float, Shape: []Dim{{Param: "batch"}, {Value: 3, HasValue: true}, {}}}},
			},
			Outputs:   []ValueInfo{TensorValueInfo("y", Float, 1, 10)},
			ValueInfo: []ValueInfo{{Name: "unknown_shape", Type: &TensorType{ElemType: Int64}}},
		},
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	want := sampleModel()
	b := Marshal(want)
	got, err := Unmarshal(b)
	if err != nil {
		t.Fatalf("Unmarshal(Marshal(m)): %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		gj, _ := json.MarshalIndent(got, "", " ")
		wj, _ := json.MarshalIndent(want, "", " ")
		t.Fatalf("round trip differs:\ngot  %s\nwant %s", gj, wj)
	}
	if b2 := Marshal(got); !bytes.Equal(b2, b) {
		t.Errorf("Marshal is not stable: second encoding has %d bytes, first %d", len(b2), len(b))
	}
}

func TestTensorFloats(t *testing.T) {
	want := []float32{1, -2, 3.5, 0, 1e-8, -0.25}
	tests := []struct {
		name    string
		tensor  Tensor
		want    []float32
		wantErr bool
	}{
		{name: "raw data", tensor: FloatTensor("w", []int64{2, 3}, want), want: want},
		{name: "float_data", tensor: Tensor{Name: "w", DataType: Float, Dims: []int64{6}, FloatData: want}, want: want},
		{name: "scalar", tensor: FloatTensor("s", nil, []float32{2}), want: []float32{2}},
		{name: "raw too short", tensor: Tensor{Name: "w", DataType: Float, Dims: []int64{2}, RawData: []byte{0, 0, 0}}, wantErr: true},
		{name: "float_data too long", tensor: Tensor{Name: "w", DataType: Float, Dims: []int64{1}, FloatData: want}, wantErr: true},
		{name: "wrong type", tensor: Int64Tensor("i", []int64{1}, []int64{1}), wantErr: true},
		{name: "negative dim", tensor: Tensor{Name: "w", DataType: Float, Dims: []int64{-1}}, wantErr: true},
		{name: "overflowing dims", tensor: Tensor{Name: "w", DataType: Float, Dims: []int64{1 << 40, 1 << 40}}, wantErr: true},
		{name: "external", tensor: Tensor{Name: "w", DataType: Float, Dims: []int64{1}, External: true}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.tensor.Floats()
			if tc.wantErr {
				if err == nil {
					t.Fatalf("Floats() = %v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Floats(): %v", err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Floats() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestFixedShape(t *testing.T) {
	tests := []struct {
		name   string
		tt     *TensorType
		want   []int64
		wantOK bool
	}{
		{name: "fixed", tt: TensorValueInfo("x", Float, 1, 1, 28, 28).Type, want: []int64{1, 1, 28, 28}, wantOK: true},
		{name: "scalar", tt: &TensorType{ElemType: Float, Shape: []Dim{}}, want: []int64{}, wantOK: true},
		{name: "symbolic", tt: &TensorType{ElemType: Float, Shape: []Dim{{Param: "N"}, {Value: 3, HasValue: true}}}},
		{name: "unknown rank", tt: &TensorType{ElemType: Float}},
		{name: "nil", tt: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.tt.FixedShape()
			if ok != tc.wantOK || !slices.Equal(got, tc.want) {
				t.Errorf("FixedShape() = %v, %v; want %v, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

// nestedGraphs returns a model whose main graph holds depth levels of
// subgraphs through "body" attributes: depth+1 graphs in all.
func nestedGraphs(depth int) []byte {
	g := []byte{}
	for i := 0; i < depth; i++ {
		var attr []byte
		attr = appendString(attr, attrName, "body")
		attr = appendMessage(attr, attrG, g)
		var node []byte
		node = appendString(node, nodeOpType, "If")
		node = appendMessage(node, nodeAttribute, attr)
		g = appendMessage(nil, graphNode, node)
	}
	return appendMessage(nil, modelGraph, g)
}

func TestUnmarshalMalformed(t *testing.T) {
	good := Marshal(sampleModel())
	tests := []struct {
		name string
		in   []byte
	}{
		{name: "truncated tag", in: []byte{0x80}},
		{name: "truncated length", in: good[:3]},
		{name: "length past end", in: protowire.AppendVarint(protowire.AppendTag(nil, modelGraph, protowire.BytesType), 1000)},
		{name: "ir_version as bytes", in: appendMessage(nil, modelIRVersion, []byte{1})},
		{name: "graph as varint", in: appendVarint(nil, modelGraph, 1)},
		{name: "node name as fixed32", in: appendMessage(nil, modelGraph,
			appendMessage(nil, graphNode, protowire.AppendFixed32(protowire.AppendTag(nil, nodeName, protowire.Fixed32Type), 1)))},
		{name: "packed floats not a multiple of 4", in: appendMessage(nil, modelGraph,
			appendMessage(nil, graphInitializer, appendMessage(nil, tensorFloatData, []byte{1, 2, 3})))},
		{name: "bad packed varint", in: appendMessage(nil, modelGraph,
			appendMessage(nil, graphInitializer, appendMessage(nil, tensorDims, []byte{0x80})))},
		{name: "field number zero", in: []byte{0x02, 0x00}},
		{name: "graphs nested too deep", in: nestedGraphs(MaxGraphDepth)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Unmarshal(tc.in)
			if err == nil {
				t.Fatalf("Unmarshal() = %+v, want an error", m)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("Unmarshal() error = %v, want it to wrap ErrMalformed", err)
			}
		})
	}
	// Every strict prefix of a valid model either fails cleanly or parses
	// (a prefix can end on a field boundary); it never panics.
	for i := range good {
		_, _ = Unmarshal(good[:i])
	}
	if _, err := Unmarshal(nestedGraphs(MaxGraphDepth - 1)); err != nil {
		t.Errorf("Unmarshal(%d graphs deep): %v, want success at the limit", MaxGraphDepth, err)
	}
}

func TestUnmarshalSkipsUnknownFields(t *testing.T) {
	b := Marshal(&Model{IRVersion: 7, Graph: &Graph{Name: "g"}})
	b = appendVarint(b, 99, 5)                   // unknown varint field
	b = appendMessage(b, 20, []byte("training")) // training_info: not modelled
	b = protowire.AppendTag(b, 98, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, 1)
	m, err := Unmarshal(b)
	if err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	if m.IRVersion != 7 || m.Graph == nil || m.Graph.Name != "g" {
		t.Errorf("Unmarshal = %+v, want ir_version 7 and graph g", m)
	}
}

func TestUnmarshalUnpackedAndPacked(t *testing.T) {
	// dims written packed, float_data written unpacked: both are legal
	// protobuf encodings of repeated fields and must decode the same.
	var tb []byte
	var packed []byte
	for _, d := range []int64{2, 1} {
		packed = protowire.AppendVarint(packed, uint64(d))
	}
	tb = appendMessage(tb, tensorDims, packed)
	tb = appendVarint(tb, tensorDataType, uint64(Float))
	for _, f := range []float32{1.5, -3} {
		tb = protowire.AppendTag(tb, tensorFloatData, protowire.Fixed32Type)
		tb = protowire.AppendFixed32(tb, math.Float32bits(f))
	}
	got, err := UnmarshalTensor(tb)
	if err != nil {
		t.Fatalf("UnmarshalTensor: %v", err)
	}
	if !slices.Equal(got.Dims, []int64{2, 1}) || !slices.Equal(got.FloatData, []float32{1.5, -3}) {
		t.Errorf("got dims %v data %v, want [2 1] [1.5 -3]", got.Dims, got.FloatData)
	}
}

// zooMNIST returns the ONNX Model Zoo's mnist-7 model (a CNTK export) and the
// directory of its test data sets, taken from the onnx-go module's sources
// in the module cache, where the model is embedded as a Go string literal.
func zooMNIST(t *testing.T) ([]byte, string) {
	t.Helper()
	out, err := exec.Command("go", "mod", "download", "-json", "github.com/owulveryck/onnx-go").Output()
	if err != nil {
		t.Fatalf("go mod download github.com/owulveryck/onnx-go: %v", err)
	}
	var info struct{ Dir string }
	if err := json.Unmarshal(out, &info); err != nil || info.Dir == "" {
		t.Fatalf("go mod download github.com/owulveryck/onnx-go: no module directory (%v)", err)
	}
	dir := filepath.Join(info.Dir, "internal", "examples", "mnist")
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, "mnist_binary.go"), nil, 0)
	if err != nil {
		t.Fatalf("parse mnist_binary.go: %v", err)
	}
	var model []byte
	ast.Inspect(f, func(n ast.Node) bool {
		if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING && model == nil {
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatalf("unquote model literal: %v", err)
			}
			model = []byte(s)
		}
		return model == nil
	})
	if len(model) == 0 {
		t.Fatal("no model literal in mnist_binary.go")
	}
	return model, dir
}

func TestZooMNIST7(t *testing.T) {
	raw, dir := zooMNIST(t)
	m, err := Unmarshal(raw)
	if err != nil {
		t.Fatalf("Unmarshal(mnist-7): %v", err)
	}
	if m.IRVersion != 3 || len(m.OpsetImports) != 1 || m.OpsetImports[0].Version != 7 || m.ProducerName != "CNTK" {
		t.Errorf("header: ir %d, opsets %+v, producer %q; want ir 3, opset 7, CNTK", m.IRVersion, m.OpsetImports, m.ProducerName)
	}
	// mnist-7 lists its initializers among the graph inputs (IR 3 style);
	// the real input is the one without an initializer.
	inits := map[string]bool{}
	for _, tn := range m.Graph.Initializers {
		inits[tn.Name] = true
		if _, err := tn.Floats(); tn.DataType == Float && err != nil {
			t.Errorf("initializer %s: %v", tn.Name, err)
		}
	}
	var inputs []ValueInfo
	for _, in := range m.Graph.Inputs {
		if !inits[in.Name] {
			inputs = append(inputs, in)
		}
	}
	checkIO := func(kind string, got []ValueInfo, name string, shape []int64) {
		t.Helper()
		if len(got) != 1 {
			t.Fatalf("%s: got %d values, want 1", kind, len(got))
		}
		s, ok := got[0].Type.FixedShape()
		if got[0].Name != name || got[0].Type.ElemType != Float || !ok || !slices.Equal(s, shape) {
			t.Errorf("%s: got %s %v %v, want %s FLOAT %v", kind, got[0].Name, got[0].Type.ElemType, s, name, shape)
		}
	}
	checkIO("input", inputs, "Input3", []int64{1, 1, 28, 28})
	checkIO("output", m.Graph.Outputs, "Plus214_Output_0", []int64{1, 10})
	wantOps := []string{"Reshape", "Conv", "Add", "Relu", "MaxPool", "MatMul"}
	gotOps := slices.Clone(m.Graph.OpTypes())
	slices.Sort(gotOps)
	slices.Sort(wantOps)
	if !slices.Equal(gotOps, wantOps) {
		t.Errorf("op types = %v, want %v", gotOps, wantOps)
	}

	// Re-encoding gives a model that decodes to the same structure.
	again, err := Unmarshal(Marshal(m))
	if err != nil {
		t.Fatalf("Unmarshal(Marshal(mnist-7)): %v", err)
	}
	if !reflect.DeepEqual(again, m) {
		t.Error("mnist-7 does not survive Marshal/Unmarshal unchanged")
	}

	// The test data set's tensors decode too.
	in, err := os.ReadFile(filepath.Join(dir, "test_data_set_0", "input_0.pb"))
	if err != nil {
		t.Fatal(err)
	}
	tensor, err := UnmarshalTensor(in)
	if err != nil {
		t.Fatalf("UnmarshalTensor(input_0.pb): %v", err)
	}
	if px, err := tensor.Floats(); err != nil || len(px) != 784 {
		t.Errorf("input_0.pb: %d floats, err %v; want 784", len(px), err)
	}
}

func FuzzUnmarshal(f *testing.F) {
	f.Add(Marshal(sampleModel()))
	f.Add(nestedGraphs(3))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Unmarshal(b)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes to bytes that decode again and are a
		// fixed point of Unmarshal+Marshal. (The first Marshal may drop
		// what the types do not model, such as a value field that does not
		// match the attribute's declared type.)
		b1 := Marshal(m)
		again, err := Unmarshal(b1)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if b2 := Marshal(again); !bytes.Equal(b2, b1) {
			t.Fatalf("Marshal(Unmarshal(Marshal(m))) differs from Marshal(m)")
		}
	})
}
