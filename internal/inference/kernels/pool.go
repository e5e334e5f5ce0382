package kernels

import "fmt"

// poolKernel is an assembly 2×2 max pooling; see the asmgen command for
// its contract.
type poolKernel func(dst, src *float32, rows, ow, w int)

// MaxPool2x2 is max pooling with a 2×2 window and stride 2 and no padding
// over planes of h×w (src) into planes of oh×ow (dst), oh ≤ h/2 and
// ow ≤ w/2: dst[p][oy][ox] is the maximum of src[p][2oy..2oy+1][2ox..2ox+1].
// Of equal values it returns the first in row-major order; NaNs give no
// guaranteed result.
func (s *Set) MaxPool2x2(dst, src []float32, planes, h, w, oh, ow int) {
	if planes == 0 || oh == 0 || ow == 0 {
		return
	}
	if oh < 0 || ow < 0 || 2*oh > h || 2*ow > w {
		panic(fmt.Sprintf("kernels: MaxPool2x2: %dx%d output from %dx%d planes", oh, ow, h, w))
	}
	_ = src[planes*h*w-1]
	_ = dst[planes*oh*ow-1]
	switch {
	case s.maxPool == nil:
		genericMaxPool2x2(dst, src, planes, h, w, oh, ow)
	case h == 2*oh:
		// Consecutive planes continue the same stride of line pairs.
		s.maxPool(&dst[0], &src[0], planes*oh, ow, w)
	default:
		for p := range planes {
			s.maxPool(&dst[p*oh*ow], &src[p*h*w], oh, ow, w)
		}
	}
}

func genericMaxPool2x2(dst, src []float32, planes, h, w, oh, ow int) {
	i := 0
	for p := range planes {
		plane := src[p*h*w : (p+1)*h*w]
		for oy := range oh {
			r0 := plane[2*oy*w : 2*oy*w+2*ow]
			r1 := plane[(2*oy+1)*w : (2*oy+1)*w+2*ow]
			o := dst[i : i+ow]
			for ox := range o {
				// Comparisons rather than the max builtin, whose NaN and
				// signed-zero rules cost a third of the loop.
				a, b, c, d := r0[2*ox], r0[2*ox+1], r1[2*ox], r1[2*ox+1]
				if b > a {
					a = b
				}
				if d > c {
					c = d
				}
				if c > a {
					a = c
				}
				o[ox] = a
			}
			i += ow
		}
	}
}
