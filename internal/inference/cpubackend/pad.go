package cpubackend

import (
	"fmt"
	"slices"
)

// padOp is Pad in constant, reflect or edge mode, on a tensor of any rank.
type padOp struct {
	mode  string
	pads  []int // the starts of every axis, then the ends
	value float32
}

// newPad reads Pad's pads and constant value: attributes before opset 11,
// constant operands from then on.
func newPad(a attrs, in []operand, opset int64) (op, error) {
	if len(in) < 1 || len(in) > 3 || !in[0].present() {
		return nil, unsupported("Pad with %d operands", len(in))
	}
	mode, err := a.string("mode")
	if err != nil {
		return nil, err
	}
	switch mode {
	case "":
		mode = "constant"
	case "constant", "reflect", "edge":
	default:
		return nil, unsupported("Pad mode %q", mode)
	}
	p := &padOp{mode: mode}
	var pads []int64
	if opset < 11 {
		if len(in) > 1 {
			return nil, unsupported("Pad before opset 11 with pads as an operand")
		}
		if pads, err = a.ints("pads", nil); err != nil {
			return nil, err
		}
		if pads == nil {
			return nil, unsupported("Pad without pads")
		}
		if p.value, err = a.float("value", 0); err != nil {
			return nil, err
		}
	} else {
		if len(in) < 2 || !in[1].present() || in[1].k == nil || in[1].k.i64 == nil {
			return nil, unsupported("Pad's pads must be a constant INT64 operand")
		}
		pads = in[1].k.i64
		if len(in) == 3 && in[2].present() {
			if in[2].k == nil || len(in[2].k.f32) != 1 {
				return nil, unsupported("Pad's constant_value is not a constant float scalar")
			}
			p.value = in[2].k.f32[0]
		}
	}
	if len(pads)%2 != 0 || slices.ContainsFunc(pads, func(v int64) bool { return v < 0 || v > 1<<20 }) {
		return nil, unsupported("Pad pads %v", pads)
	}
	p.pads = toInts(pads)
	return p, nil
}

func (p *padOp) infer(in [][]int) ([]int, error) {
	x := in[0]
	rank := len(x)
	if len(p.pads) != 2*rank {
		return nil, fmt.Errorf("Pad has %d pads for rank %d", len(p.pads), rank)
	}
	out := make([]int, rank)
	for d, n := range x {
		begin, end := p.pads[d], p.pads[rank+d]
		// Reflection mirrors around the edge without repeating it, so it
		// cannot reach further than the axis is long.
		if p.mode == "reflect" && (begin >= n || end >= n) {
			return nil, fmt.Errorf("Pad reflect of %d and %d on an axis of size %d", begin, end, n)
		}
		out[d] = n + begin + end
	}
	return out, nil
}

// source maps an index along an axis of size n, shifted by the leading pad,
// to the input index it copies, or -1 for the constant.
func (p *padOp) source(i, n int) int {
	if i >= 0 && i < n {
		return i
	}
	switch p.mode {
	case "edge":
		return min(max(i, 0), n-1)
	case "reflect":
		if i < 0 {
			return -i
		}
		return 2*(n-1) - i
	}
	return -1
}

func (p *padOp) bind(in []view, out view) (func(), error) {
	x, shape := in[0].shape, out.shape
	rank := len(shape)
	src, dst, value := in[0].data, out.data, p.value
	if rank == 0 {
		return func() { copy(dst, src) }, nil
	}
	from := make([][]int, rank)
	for d := range rank {
		from[d] = make([]int, shape[d])
		for o := range from[d] {
			from[d][o] = p.source(o-p.pads[d], x[d])
		}
	}
	// Every output row (all axes but the last) starts at a fixed input
	// offset, or is all constant (-1); both are worked out once per shape.
	stride := make([]int, rank)
	acc := 1
	for d := rank - 1; d >= 0; d-- {
		stride[d] = acc
		acc *= x[d]
	}
	inner := shape[rank-1]
	rows := elements(shape[:rank-1])
	base := make([]int, rows)
	idx := make([]int, rank)
	for r := range rows {
		off := 0
		for d := 0; d < rank-1; d++ {
			s := from[d][idx[d]]
			if s < 0 {
				off = -1
				break
			}
			off += s * stride[d]
		}
		base[r] = off
		for d := rank - 2; d >= 0; d-- {
			idx[d]++
			if idx[d] < shape[d] {
				break
			}
			idx[d] = 0
		}
	}
	last := from[rank-1]
	return func() {
		for r, b := range base {
			row := dst[r*inner : (r+1)*inner]
			if b < 0 {
				for i := range row {
					row[i] = value
				}
				continue
			}
			for i, s := range last {
				if s < 0 {
					row[i] = value
				} else {
					row[i] = src[b+s]
				}
			}
		}
	}, nil
}
