package cpubackend

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func naiveGemm(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	for i := range m {
		for j := range n {
			var s float64
			for p := range k {
				s += float64(a[i*lda+p]) * float64(b[p*ldb+j])
			}
			c[i*ldc+j] += float32(s)
		}
	}
}

func TestGemmMatchesNaive(t *testing.T) {
	t.Run("assembly", testGemm)
	if haveFMA {
		// The portable loops serve CPUs without AVX2 and FMA.
		t.Run("portable", func(t *testing.T) {
			setFMA(false)
			defer setFMA(true)
			testGemm(t)
		})
	}
}

func testGemm(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	fill := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = rng.Float32()*2 - 1
		}
		return v
	}
	for _, s := range []struct{ m, n, k int }{
		{1, 1, 1}, {1, 16, 1}, {4, 16, 3}, {5, 17, 7}, {3, 10, 128}, {64, 64, 800},
		{32, 576, 25}, {1, 128, 1024}, {1, 10, 128}, {7, 33, 2}, {4, 48, 0}, {9, 31, 65},
	} {
		t.Run(fmt.Sprintf("%dx%dx%d", s.m, s.n, s.k), func(t *testing.T) {
			lda, ldb, ldc := s.k+1, s.n+3, s.n+2 // strides wider than rows
			a, b := fill(s.m*lda), fill(max(s.k, 1)*ldb)
			c := fill(s.m * ldc)
			want := append([]float32(nil), c...)
			if s.k > 0 {
				naiveGemm(s.m, s.n, s.k, a, lda, b, ldb, want, ldc)
			}
			gemm(s.m, s.n, s.k, a, lda, b, ldb, c, ldc)
			for i := range c {
				if d := math.Abs(float64(c[i] - want[i])); d > 1e-4*(1+math.Abs(float64(want[i]))) {
					t.Fatalf("c[%d]: got %v, want %v", i, c[i], want[i])
				}
			}
		})
	}
}

func BenchmarkGemmConv2(b *testing.B) {
	m, n, k := 64, 64, 800
	a, bb, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
	for b.Loop() {
		gemm(m, n, k, a, k, bb, n, c, n)
	}
	b.ReportMetric(float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
}
