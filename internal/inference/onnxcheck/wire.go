package onnxcheck

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// field is one decoded protobuf field. For the bytes wire type b holds the
// payload (a sub-slice of the input, never a copy); for the scalar wire types
// v holds the value.
type field struct {
	num protowire.Number
	typ protowire.Type
	v   uint64
	b   []byte
}

// eachField walks the fields of one message. It refuses groups: ONNX never
// uses them, and their nesting is the one protobuf construct a decoder must
// follow without a length prefix to bound it.
func eachField(msg string, b []byte, fn func(f field) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return malformed(msg, 0, protowire.ParseError(n))
		}
		b = b[n:]
		f := field{num: num, typ: typ}
		switch typ {
		case protowire.VarintType:
			f.v, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var v uint32
			v, n = protowire.ConsumeFixed32(b)
			f.v = uint64(v)
		case protowire.Fixed64Type:
			f.v, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			f.b, n = protowire.ConsumeBytes(b)
		case protowire.StartGroupType, protowire.EndGroupType:
			return invalidf("the file is not a valid ONNX model: %s field %d uses protobuf groups", msg, num)
		default:
			return malformed(msg, num, fmt.Errorf("unknown wire type %d", typ))
		}
		if n < 0 {
			return malformed(msg, num, protowire.ParseError(n))
		}
		b = b[n:]
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

func malformed(msg string, num protowire.Number, err error) error {
	if num == 0 {
		return invalidf("the file is not a valid ONNX model: truncated or malformed %s (%v)", msg, err)
	}
	return invalidf("the file is not a valid ONNX model: truncated or malformed field %d of %s (%v)", num, msg, err)
}

// want checks a field's wire type, so that a value of the wrong kind is
// refused here rather than left for onnx-go's decoder to interpret.
func (f field) want(msg string, typ protowire.Type) error {
	if f.typ != typ {
		return invalidf("the file is not a valid ONNX model: field %d of %s has wire type %d, want %d", f.num, msg, f.typ, typ)
	}
	return nil
}

func (f field) int64(msg string) (int64, error) {
	if err := f.want(msg, protowire.VarintType); err != nil {
		return 0, err
	}
	return int64(f.v), nil
}

func (f field) str(msg string) (string, error) {
	if err := f.want(msg, protowire.BytesType); err != nil {
		return "", err
	}
	return string(f.b), nil
}

func (f field) message(msg string) ([]byte, error) {
	if err := f.want(msg, protowire.BytesType); err != nil {
		return nil, err
	}
	return f.b, nil
}

// int64s appends the values of a repeated int64 field, packed or not, up to
// max values in all.
func (f field) int64s(msg, what string, dst []int64, max int) ([]int64, error) {
	switch f.typ {
	case protowire.VarintType:
		dst = append(dst, int64(f.v))
	case protowire.BytesType:
		b := f.b
		for len(b) > 0 {
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return nil, malformed(msg, f.num, protowire.ParseError(n))
			}
			dst = append(dst, int64(v))
			b = b[n:]
			if len(dst) > max {
				break
			}
		}
	default:
		return nil, f.want(msg, protowire.VarintType)
	}
	if len(dst) > max {
		return nil, invalidf("%s has more than %d values", what, max)
	}
	return dst, nil
}

// countVarints counts the values of a repeated varint field without keeping
// them: initializer data only needs to be the right length here.
func (f field) countVarints(msg string) (int64, error) {
	switch f.typ {
	case protowire.VarintType:
		return 1, nil
	case protowire.BytesType:
		var n int64
		for b := f.b; len(b) > 0; n++ {
			_, k := protowire.ConsumeVarint(b)
			if k < 0 {
				return 0, malformed(msg, f.num, protowire.ParseError(k))
			}
			b = b[k:]
		}
		return n, nil
	}
	return 0, f.want(msg, protowire.VarintType)
}

// countFixed counts the values of a repeated fixed-width field (size 4 or 8
// bytes), packed or not.
func (f field) countFixed(msg string, size int) (int64, error) {
	scalar := protowire.Type(protowire.Fixed32Type)
	if size == 8 {
		scalar = protowire.Fixed64Type
	}
	switch f.typ {
	case scalar:
		return 1, nil
	case protowire.BytesType:
		if len(f.b)%size != 0 {
			return 0, malformed(msg, f.num, fmt.Errorf("packed length %d is not a multiple of %d", len(f.b), size))
		}
		return int64(len(f.b) / size), nil
	}
	return 0, f.want(msg, scalar)
}
