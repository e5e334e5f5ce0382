package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// refMaxPool2x2 is the naive loop over each window.
func refMaxPool2x2(src []float32, planes, h, w, oh, ow int) []float32 {
	out := make([]float32, planes*oh*ow)
	for p := range planes {
		for oy := range oh {
			for ox := range ow {
				m := src[p*h*w+2*oy*w+2*ox]
				for _, d := range [][2]int{{0, 1}, {1, 0}, {1, 1}} {
					m = max(m, src[p*h*w+(2*oy+d[0])*w+2*ox+d[1]])
				}
				out[(p*oh+oy)*ow+ox] = m
			}
		}
	}
	return out
}

func TestMaxPool2x2(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	type tc struct{ planes, h, w, oh, ow int }
	var cases []tc
	for _, hw := range [][2]int{{24, 24}, {8, 8}, {2, 2}, {3, 5}, {7, 9}, {5, 34}, {9, 33}, {6, 64}, {4, 70}, {11, 17}} {
		h, w := hw[0], hw[1]
		cases = append(cases, tc{3, h, w, h / 2, w / 2}, tc{1, h, w, h / 2, w / 2}, tc{2, h, w, max(1, h/2-1), max(1, w/2-1)})
	}
	cases = append(cases, tc{0, 4, 4, 2, 2}, tc{16, 24, 24, 12, 12}, tc{32, 8, 8, 4, 4})
	for _, s := range Available() {
		for _, c := range cases {
			t.Run(fmt.Sprintf("set=%s,%+v", s.Name(), c), func(t *testing.T) {
				src := randSlice(r, c.planes*c.h*c.w)
				want := refMaxPool2x2(src, c.planes, c.h, c.w, c.oh, c.ow)
				// One guard value past the output must survive.
				got := make([]float32, len(want)+1)
				got[len(want)] = 42
				s.MaxPool2x2(got, src, c.planes, c.h, c.w, c.oh, c.ow)
				if i := firstDiff(got[:len(want)], want); i >= 0 {
					t.Fatalf("dst[%d]: got %v, want %v", i, got[i], want[i])
				}
				if got[len(want)] != 42 {
					t.Errorf("wrote past the output: got %v, want 42", got[len(want)])
				}
			})
		}
	}
}

func TestMaxPool2x2NoAllocs(t *testing.T) {
	src := make([]float32, 16*24*24)
	dst := make([]float32, 16*12*12)
	for _, s := range Available() {
		if got := testing.AllocsPerRun(10, func() { s.MaxPool2x2(dst, src, 16, 24, 24, 12, 12) }); got != 0 {
			t.Errorf("%s: got %v allocations, want 0", s.Name(), got)
		}
	}
}

func BenchmarkMaxPool2x2(b *testing.B) {
	for _, s := range Available() {
		for _, c := range []struct{ planes, h, w int }{{16, 24, 24}, {32, 8, 8}} {
			b.Run(fmt.Sprintf("set=%s/%dx%dx%d", s.Name(), c.planes, c.h, c.w), func(b *testing.B) {
				src := randSlice(rand.New(rand.NewPCG(1, 1)), c.planes*c.h*c.w)
				dst := make([]float32, c.planes*c.h/2*c.w/2)
				for b.Loop() {
					s.MaxPool2x2(dst, src, c.planes, c.h, c.w, c.h/2, c.w/2)
				}
			})
		}
	}
}
