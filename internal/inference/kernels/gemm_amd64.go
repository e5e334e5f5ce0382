package kernels

import "golang.org/x/sys/cpu"

// cpuSets returns the assembly sets this CPU runs, best first: AVX2 for the
// loads and FMA for the multiply-adds.
func cpuSets() []*Set {
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		return []*Set{{name: "avx2", block16: avx2Block16}}
	}
	return nil
}

// avx2Block16 runs the 4×16 kernel down the rows and the 1×16 one on the
// remainder.
func avx2Block16(rows, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	i := 0
	for ; i+4 <= rows; i += 4 {
		gemm4x16(k, &a[i*lda], lda, &b[0], ldb, &c[i*ldc], ldc)
	}
	for ; i < rows; i++ {
		gemm1x16(k, &a[i*lda], &b[0], ldb, &c[i*ldc])
	}
}

//go:noescape
func gemm4x16(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int)

//go:noescape
func gemm1x16(k int, a *float32, b *float32, ldb int, c *float32)
