package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkGemm times Gemm alone on packed operands (the backend packs
// weights once), for the shapes of a small CNN and of dense layers.
func BenchmarkGemm(b *testing.B) {
	shapes := []shape{{16, 576, 25}, {32, 64, 400}, {1, 128, 512}, {64, 128, 512}, {32, 4096, 400}, {256, 3136, 1152}}
	for _, s := range Available() {
		for _, sh := range shapes {
			m, n, k := sh.m, sh.n, sh.k
			b.Run(fmt.Sprintf("set=%s/m=%d,n=%d,k=%d", s.Name(), m, n, k), func(b *testing.B) {
				r := rand.New(rand.NewPCG(1, 1))
				pa := make([]float32, s.PackASize(m, k))
				pb := make([]float32, s.PackBSize(k, n))
				s.PackA(pa, m, k, randSlice(r, m*k), k)
				s.PackB(pb, k, n, randSlice(r, k*n), n)
				c := make([]float32, m*n)
				ep := Epilogue{RowBias: randSlice(r, m), Relu: true}
				for b.Loop() {
					s.Gemm(m, n, k, pa, pb, c, n, ep)
				}
				b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkConv is one convolution as the backend runs it: im2col packed
// straight into panels, then Gemm with the bias and ReLU fused.
func BenchmarkConv(b *testing.B) {
	for _, s := range Available() {
		for _, tc := range []struct {
			name string
			m    int
			g    ConvGeom
		}{
			{"1x28x28_16x5x5", 16, geom(1, 28, 28, 5, 5, 1, 1, 0, 0, 0, 0, 1, 1)},
			{"16x12x12_32x5x5", 32, geom(16, 12, 12, 5, 5, 1, 1, 0, 0, 0, 0, 1, 1)},
			{"64x56x56_64x3x3", 64, geom(64, 56, 56, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1)},
		} {
			b.Run(fmt.Sprintf("set=%s/%s", s.Name(), tc.name), func(b *testing.B) {
				g := tc.g
				k, n, m := g.K(), g.N(), tc.m
				r := rand.New(rand.NewPCG(1, 1))
				img := randSlice(r, g.C*g.H*g.W)
				pa := make([]float32, s.PackASize(m, k))
				s.PackA(pa, m, k, randSlice(r, m*k), k)
				pb := make([]float32, s.PackBSize(k, n))
				c := make([]float32, m*n)
				ep := Epilogue{RowBias: randSlice(r, m), Relu: true}
				for b.Loop() {
					s.PackConvB(pb, img, g)
					s.Gemm(m, n, k, pa, pb, c, n, ep)
				}
				b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
