package kernels

// The generic set's packed operands are dense row-major copies (A m×k,
// B k×n) and its product is plain loops: it is the reference the assembly
// sets are tested against, so it stays obvious rather than clever.

func genericPackA(dst []float32, m, k int, a []float32, lda int) {
	for i := range m {
		copy(dst[i*k:(i+1)*k], a[i*lda:i*lda+k])
	}
}

func genericPackAT(dst []float32, m, k int, at []float32, ldat int) {
	for p := range k {
		for i, v := range at[p*ldat : p*ldat+m] {
			dst[i*k+p] = v
		}
	}
}

func genericPackB(dst []float32, k, n int, b []float32, ldb int) {
	for p := range k {
		copy(dst[p*n:(p+1)*n], b[p*ldb:p*ldb+n])
	}
}

func genericPackBT(dst []float32, k, n int, bt []float32, ldbt int) {
	for j := range n {
		for p, v := range bt[j*ldbt : j*ldbt+k] {
			dst[p*n+j] = v
		}
	}
}

// genericGemm is C = A·B then the epilogue, over row-major A (m×k) and B
// (k×n). It also serves every set when k is 0.
func genericGemm(m, n, k int, a, b []float32, c []float32, ldc int, ep Epilogue) {
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		if !ep.Accumulate {
			clear(row)
		}
		if k > 0 {
			// Summing the product into a zeroed row first keeps the order
			// of additions the same as the assembly kernels' (product,
			// then old C, then biases), so results agree closely.
			ai := a[i*k : (i+1)*k]
			var acc [64]float32
			for j0 := 0; j0 < n; j0 += len(acc) {
				w := min(len(acc), n-j0)
				t := acc[:w]
				clear(t)
				for p, av := range ai {
					bp := b[p*n+j0 : p*n+j0+w]
					for j, bv := range bp {
						t[j] += av * bv
					}
				}
				for j, v := range t {
					row[j0+j] += v
				}
			}
		}
		if ep.RowBias != nil {
			bias := ep.RowBias[i]
			for j := range row {
				row[j] += bias
			}
		}
		if ep.ColBias != nil {
			for j, bias := range ep.ColBias[:n] {
				row[j] += bias
			}
		}
		switch {
		case ep.Relu:
			for j, v := range row {
				row[j] = max(v, 0)
			}
		case ep.LeakyAlpha != 0:
			for j, v := range row {
				if v < 0 {
					row[j] = v * ep.LeakyAlpha
				}
			}
		}
	}
}
