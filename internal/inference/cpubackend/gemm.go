package cpubackend

// gemm computes C += A·B for row-major A [m×k], B [k×n] and C [m×n] with
// the given row strides (in elements). The inner 16-column blocks run in
// the assembly kernels where the CPU has them; edges and other CPUs run
// plain loops.
func gemm(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m == 0 || n == 0 || k == 0 {
		return
	}
	// Bounds are checked once here, so the kernels may index freely.
	_ = a[(m-1)*lda+k-1]
	_ = b[(k-1)*ldb+n-1]
	_ = c[(m-1)*ldc+n-1]
	n16 := 0
	if haveFMA {
		n16 = n &^ 15
		for j := 0; j < n16; j += 16 {
			i := 0
			for ; i+4 <= m; i += 4 {
				gemm4x16(k, &a[i*lda], lda, &b[j], ldb, &c[i*ldc+j], ldc)
			}
			for ; i < m; i++ {
				gemm1x16(k, &a[i*lda], &b[j], ldb, &c[i*ldc+j])
			}
		}
	}
	if n16 == n {
		return
	}
	for i := range m {
		ci := c[i*ldc : i*ldc+n]
		ai := a[i*lda : i*lda+k]
		for p, av := range ai {
			if av == 0 {
				continue
			}
			bp := b[p*ldb : p*ldb+n]
			for j := n16; j < n; j++ {
				ci[j] += av * bp[j]
			}
		}
	}
}
