package kernels

// Packed layouts of the assembly sets.
//
// A (m×k) is cut into row panels of at most mr rows, balanced so that no
// panel is much thinner than the others (m = 16 with mr = 14 gives 8+8, not
// 14+2: a thin panel leaves the FMA units waiting on latency). A panel of r
// rows starting at row i0 sits at i0·k and stores, for each p, its r values
// A[i0..i0+r][p] together: the kernel broadcasts them one by one.
//
// B (k×n) is cut into column panels of exactly nr columns, the last one
// padded with zeros, so the kernel always runs full width and only masks
// its reads and writes of C. Panel j sits at j·nr·k and stores, for each p,
// B[p][j·nr..j·nr+nr] together: the kernel loads them as whole vectors.
//
// Both layouts keep every k-range of a panel contiguous, so Gemm can block
// k (kc) without a special packing.

// microKernel computes one tile; see the asmgen command for its contract.
type microKernel func(k int, a, b, c *float32, ldc int, flags uint, rowb, colb *float32, alpha float32, nrem int)

const (
	flagAccumulate = 1
	flagRelu       = 2
	flagLeaky      = 4
)

// panelKernels is an assembly set's tiling and micro-kernels.
type panelKernels struct {
	mr, nr int
	// kern[r-1] computes r rows.
	kern []microKernel
	// kc is the k block: an nr-wide slice of B of kc rows stays in L1
	// while every row panel of A passes over it.
	kc int
	// mc bounds the rows of A (times kc) that stay in L2 while the column
	// panels of B pass over them.
	mc int
	// nc bounds the columns of B (times kc) that stay in the last-level
	// cache while every row block of A passes over them.
	nc int
	// convRows packs a convolution's B rows for one kernel row when the
	// horizontal stride is 1; nil leaves every case to packConv.
	convRows convRowsKernel
	// convRowsValid is convRows for rows without horizontal padding.
	convRowsValid convRowsValidKernel
}

// panels returns how many row panels an m-row A has and how many rows its
// first panels have; the first extra of them have one row more.
func (pk *panelKernels) panels(m int) (np, base, extra int) {
	np = (m + pk.mr - 1) / pk.mr
	return np, m / np, m % np
}

func (pk *panelKernels) packA(dst []float32, m, k int, a []float32, si, sp int) {
	// A[i][p] = a[i*si + p*sp]: PackA has si = lda, sp = 1; PackAT has
	// si = 1, sp = ldat.
	np, base, extra := pk.panels(m)
	i0 := 0
	for ip := range np {
		r := base
		if ip < extra {
			r++
		}
		d := dst[i0*k : (i0+r)*k]
		if sp == 1 {
			for rr := range r {
				src := a[(i0+rr)*si : (i0+rr)*si+k]
				for p, v := range src {
					d[p*r+rr] = v
				}
			}
		} else {
			for p := range k {
				copy(d[p*r:p*r+r], a[p*sp+i0:p*sp+i0+r])
			}
		}
		i0 += r
	}
}

func (pk *panelKernels) packBSize(k, n int) int {
	return (n + pk.nr - 1) / pk.nr * pk.nr * k
}

func (pk *panelKernels) packB(dst []float32, k, n int, b []float32, ldb int) {
	nr := pk.nr
	for j0 := 0; j0 < n; j0 += nr {
		w := min(nr, n-j0)
		d := dst[j0*k : (j0+nr)*k]
		for p := range k {
			row := d[p*nr : p*nr+nr]
			copy(row, b[p*ldb+j0:p*ldb+j0+w])
			clear(row[w:])
		}
	}
}

func (pk *panelKernels) packBT(dst []float32, k, n int, bt []float32, ldbt int) {
	nr := pk.nr
	for j0 := 0; j0 < n; j0 += nr {
		w := min(nr, n-j0)
		d := dst[j0*k : (j0+nr)*k]
		if w < nr {
			clear(d)
		}
		for jj := range w {
			col := bt[(j0+jj)*ldbt : (j0+jj)*ldbt+k]
			for p, v := range col {
				d[p*nr+jj] = v
			}
		}
	}
}

// gemm drives the micro-kernels: the loop nest of GotoBLAS (column blocks
// of nc, k blocks of kc, row blocks of about mc, column panels, row panels),
// with the epilogue folded into the last k block's kernels.
func (pk *panelKernels) gemm(m, n, k int, pa, pb []float32, c []float32, ldc int, ep Epilogue) {
	nr := pk.nr
	np, base, extra := pk.panels(m)
	var act uint
	switch {
	case ep.Relu:
		act = flagRelu
	case ep.LeakyAlpha != 0:
		act = flagLeaky
	}
	// Panels per row block: whole panels, at least one.
	pmc := max(1, pk.mc/pk.mr)
	for j0 := 0; j0 < n; j0 += pk.nc {
		j1 := min(n, j0+pk.nc)
		for p0 := 0; p0 < k; p0 += pk.kc {
			kb := min(pk.kc, k-p0)
			last := p0+kb == k
			var flags uint
			if p0 > 0 || ep.Accumulate {
				flags |= flagAccumulate
			}
			if last {
				flags |= act
			}
			for ip0 := 0; ip0 < np; ip0 += pmc {
				ip1 := min(np, ip0+pmc)
				for jc := j0; jc < j1; jc += nr {
					nrem := min(nr, n-jc)
					bp := &pb[jc*k+p0*nr]
					var colb *float32
					if last && ep.ColBias != nil {
						colb = &ep.ColBias[jc]
					}
					for ip := ip0; ip < ip1; ip++ {
						r, i0 := base, ip*base+min(ip, extra)
						if ip < extra {
							r++
						}
						var rowb *float32
						if last && ep.RowBias != nil {
							rowb = &ep.RowBias[i0]
						}
						pk.kern[r-1](kb, &pa[i0*k+p0*r], bp, &c[i0*ldc+jc], ldc, flags, rowb, colb, ep.LeakyAlpha, nrem)
					}
				}
			}
		}
	}
}
