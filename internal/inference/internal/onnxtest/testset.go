package onnxtest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// Case is one of the ONNX test-data sets shipped with mnist-7: an input and
// the output the Model Zoo recorded for it (computed by ONNX Runtime).
type Case struct {
	Name          string
	Input, Output []float32
	InShape       []int
	OutShape      []int
}

// MNIST7Cases reads test_data_set_0..2 of mnist-7 from onnx-go's module.
func MNIST7Cases(tb testing.TB) []Case {
	tb.Helper()
	dir, err := moduleDir("github.com/owulveryck/onnx-go")
	if err != nil {
		tb.Fatal(err)
	}
	var cases []Case
	for i := 0; i < 3; i++ {
		name := fmt.Sprintf("test_data_set_%d", i)
		base := filepath.Join(dir, "internal", "examples", "mnist", name)
		c := Case{Name: name}
		if c.InShape, c.Input, err = readTensorFile(filepath.Join(base, "input_0.pb")); err != nil {
			tb.Fatal(err)
		}
		if c.OutShape, c.Output, err = readTensorFile(filepath.Join(base, "output_0.pb")); err != nil {
			tb.Fatal(err)
		}
		cases = append(cases, c)
	}
	return cases
}

func readTensorFile(path string) ([]int, []float32, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	shape, data, err := DecodeFloatTensor(b)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return shape, data, nil
}

// DecodeFloatTensor decodes a FLOAT TensorProto stored as raw data or float
// data.
func DecodeFloatTensor(b []byte) (shape []int, data []float32, err error) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, nil, protowire.ParseError(n)
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return nil, nil, protowire.ParseError(n)
			}
			shape = append(shape, int(v))
			b = b[n:]
			continue
		case num == 1 && typ == protowire.BytesType:
			p, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return nil, nil, protowire.ParseError(n)
			}
			for len(p) > 0 {
				v, k := protowire.ConsumeVarint(p)
				if k < 0 {
					return nil, nil, protowire.ParseError(k)
				}
				shape = append(shape, int(v))
				p = p[k:]
			}
			b = b[n:]
			continue
		case (num == 9 || num == 4) && typ == protowire.BytesType:
			p, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return nil, nil, protowire.ParseError(n)
			}
			if len(p)%4 != 0 {
				return nil, nil, errors.New("float data is not a multiple of 4 bytes")
			}
			for i := 0; i < len(p); i += 4 {
				data = append(data, math.Float32frombits(binary.LittleEndian.Uint32(p[i:])))
			}
			b = b[n:]
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return nil, nil, protowire.ParseError(n)
		}
		b = b[n:]
	}
	return shape, data, nil
}
