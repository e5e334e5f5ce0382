package kernels

// The packed layouts are row-major copies (A: m×k, B: k×n, both dense).
// The assembly kernels stream B's rows with unit stride and broadcast A's
// values, which is what a dense row-major B gives them; packing makes the
// operands dense and lets a convolution's im2col write B directly.

// PackASize is the length of a packed m×k left operand.
func (s *Set) PackASize(m, k int) int { return m * k }

// PackA packs A (a[i*lda+p]).
func (s *Set) PackA(dst []float32, m, k int, a []float32, lda int) {
	if lda == k {
		copy(dst[:m*k], a[:m*k])
		return
	}
	for i := range m {
		copy(dst[i*k:(i+1)*k], a[i*lda:i*lda+k])
	}
}

// PackAT packs A from its transpose: A[i][p] = at[p*ldat+i].
func (s *Set) PackAT(dst []float32, m, k int, at []float32, ldat int) {
	for p := range k {
		row := at[p*ldat : p*ldat+m]
		for i, v := range row {
			dst[i*k+p] = v
		}
	}
}

// PackBSize is the length of a packed k×n right operand.
func (s *Set) PackBSize(k, n int) int { return k * n }

// PackB packs B (b[p*ldb+j]).
func (s *Set) PackB(dst []float32, k, n int, b []float32, ldb int) {
	if ldb == n {
		copy(dst[:k*n], b[:k*n])
		return
	}
	for p := range k {
		copy(dst[p*n:(p+1)*n], b[p*ldb:p*ldb+n])
	}
}

// PackBT packs B from its transpose: B[p][j] = bt[j*ldbt+p] (a PyTorch
// Linear weight, [out, in]).
func (s *Set) PackBT(dst []float32, k, n int, bt []float32, ldbt int) {
	for j := range n {
		col := bt[j*ldbt : j*ldbt+k]
		for p, v := range col {
			dst[p*n+j] = v
		}
	}
}

// ConvGeom is the geometry of one image and one group of a 2-D convolution.
type ConvGeom struct {
	C, H, W          int // channels of this group, input height and width
	KH, KW           int
	StrideH, StrideW int
	PadTop, PadLeft  int // bottom and right padding are implied by OH, OW
	DilH, DilW       int
	OH, OW           int
}

// PackConvB packs B = im2col(img) for one image and group: k = C·KH·KW rows
// (row (c·KH+ky)·KW+kx, the ONNX weight layout [M, C, KH, KW]) and
// n = OH·OW columns; taps outside the image are 0. img holds C planes of
// H·W.
func (s *Set) PackConvB(dst []float32, img []float32, g ConvGeom) {
	p := g.OH * g.OW
	r := 0
	for ch := range g.C {
		plane := img[ch*g.H*g.W : (ch+1)*g.H*g.W]
		for ky := range g.KH {
			for kx := range g.KW {
				row := dst[r*p : (r+1)*p]
				r++
				i := 0
				for oy := range g.OH {
					y := oy*g.StrideH + ky*g.DilH - g.PadTop
					if y < 0 || y >= g.H {
						clear(row[i : i+g.OW])
						i += g.OW
						continue
					}
					line := plane[y*g.W : (y+1)*g.W]
					x := kx*g.DilW - g.PadLeft
					if g.StrideW == 1 && x >= 0 && x+g.OW <= g.W {
						// The common case: a contiguous run of the line.
						copy(row[i:i+g.OW], line[x:x+g.OW])
						i += g.OW
						continue
					}
					for ox := 0; ox < g.OW; ox, x, i = ox+1, x+g.StrideW, i+1 {
						if x >= 0 && x < g.W {
							row[i] = line[x]
						} else {
							row[i] = 0
						}
					}
				}
			}
		}
	}
}

// Epilogue is what Gemm does to each result beyond the product.
type Epilogue struct {
	Accumulate bool      // C += A·B instead of C = A·B
	RowBias    []float32 // len m: C[i][j] += RowBias[i] (a convolution's bias)
	ColBias    []float32 // len n: C[i][j] += ColBias[j] (a dense layer's bias)
	Relu       bool      // then C = max(C, 0)
	LeakyAlpha float32   // if nonzero and Relu is false: C = C < 0 ? alpha·C : C
}

// Gemm computes C = A·B (+ the epilogue) for A and B packed by this set and
// C row-major m×n with row stride ldc.
func (s *Set) Gemm(m, n, k int, pa, pb []float32, c []float32, ldc int, ep Epilogue) {
	if m == 0 || n == 0 {
		return
	}
	// Bounds are checked once here, so the kernels may index freely.
	_ = c[(m-1)*ldc+n-1]
	if k > 0 {
		_ = pa[m*k-1]
		_ = pb[k*n-1]
	}
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		if !ep.Accumulate {
			clear(row)
		}
		if ep.RowBias != nil {
			b := ep.RowBias[i]
			for j := range row {
				row[j] += b
			}
		}
		if ep.ColBias != nil {
			for j, b := range ep.ColBias[:n] {
				row[j] += b
			}
		}
	}
	if k > 0 {
		s.gemm(m, n, k, pa, k, pb, n, c, ldc)
	}
	if ep.Relu || ep.LeakyAlpha != 0 {
		for i := range m {
			row := c[i*ldc : i*ldc+n]
			if ep.Relu {
				for j, v := range row {
					row[j] = max(v, 0)
				}
				continue
			}
			for j, v := range row {
				if v < 0 {
					row[j] = v * ep.LeakyAlpha
				}
			}
		}
	}
}

// gemm computes C += A·B over row-major operands: the 16-column blocks in
// the set's kernel where it has one, the rest in plain loops.
func (s *Set) gemm(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	n16 := 0
	if s.block16 != nil {
		n16 = n &^ 15
		for j := 0; j < n16; j += 16 {
			s.block16(m, k, a, lda, b[j:], ldb, c[j:], ldc)
		}
	}
	if n16 == n {
		return
	}
	for i := range m {
		ci := c[i*ldc+n16 : i*ldc+n]
		ai := a[i*lda : i*lda+k]
		for p, av := range ai {
			if av == 0 {
				continue
			}
			bp := b[p*ldb+n16 : p*ldb+n]
			for j, bv := range bp {
				ci[j] += av * bv
			}
		}
	}
}
