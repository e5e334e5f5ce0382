package kernels

import "fmt"

// ConvGeom is the geometry of one image and one group of a 2-D convolution.
type ConvGeom struct {
	C, H, W          int // channels of this group, input height and width; img[c*H*W + y*W + x]
	KH, KW           int
	StrideH, StrideW int
	PadTop, PadLeft  int // bottom and right padding are implied by OH, OW
	DilH, DilW       int
	OH, OW           int
}

// K is the row count of the convolution's B operand, C·KH·KW.
func (g ConvGeom) K() int { return g.C * g.KH * g.KW }

// N is the column count of the convolution's B operand, OH·OW.
func (g ConvGeom) N() int { return g.OH * g.OW }

// Epilogue is what Gemm does to each result beyond the product.
type Epilogue struct {
	Accumulate bool      // C += A·B instead of C = A·B
	RowBias    []float32 // len m: C[i][j] += RowBias[i] (a convolution's bias)
	ColBias    []float32 // len n: C[i][j] += ColBias[j] (a dense layer's bias)
	Relu       bool      // then C = max(C, 0)
	LeakyAlpha float32   // if nonzero and Relu is false: C = C < 0 ? alpha·C : C
}

// PackASize is the length of a packed m×k left operand.
func (s *Set) PackASize(m, k int) int { return m * k }

// PackA packs A (A[i][p] = a[i*lda+p]) into dst, which holds PackASize(m, k).
func (s *Set) PackA(dst []float32, m, k int, a []float32, lda int) {
	if m == 0 || k == 0 {
		return
	}
	_ = dst[m*k-1]
	_ = a[(m-1)*lda+k-1]
	if s.panel == nil {
		genericPackA(dst, m, k, a, lda)
		return
	}
	s.panel.packA(dst, m, k, a, lda, 1)
}

// PackAT packs A from its transpose (A[i][p] = at[p*ldat+i]).
func (s *Set) PackAT(dst []float32, m, k int, at []float32, ldat int) {
	if m == 0 || k == 0 {
		return
	}
	_ = dst[m*k-1]
	_ = at[(k-1)*ldat+m-1]
	if s.panel == nil {
		genericPackAT(dst, m, k, at, ldat)
		return
	}
	s.panel.packA(dst, m, k, at, 1, ldat)
}

// PackBSize is the length of a packed k×n right operand.
func (s *Set) PackBSize(k, n int) int {
	if s.panel == nil {
		return k * n
	}
	return s.panel.packBSize(k, n)
}

// PackB packs B (B[p][j] = b[p*ldb+j]) into dst, which holds PackBSize(k, n).
func (s *Set) PackB(dst []float32, k, n int, b []float32, ldb int) {
	if k == 0 || n == 0 {
		return
	}
	_ = dst[s.PackBSize(k, n)-1]
	_ = b[(k-1)*ldb+n-1]
	if s.panel == nil {
		genericPackB(dst, k, n, b, ldb)
		return
	}
	s.panel.packB(dst, k, n, b, ldb)
}

// PackBT packs B from its transpose (B[p][j] = bt[j*ldbt+p], a PyTorch
// Linear weight [out, in]).
func (s *Set) PackBT(dst []float32, k, n int, bt []float32, ldbt int) {
	if k == 0 || n == 0 {
		return
	}
	_ = dst[s.PackBSize(k, n)-1]
	_ = bt[(n-1)*ldbt+k-1]
	if s.panel == nil {
		genericPackBT(dst, k, n, bt, ldbt)
		return
	}
	s.panel.packBT(dst, k, n, bt, ldbt)
}

// PackConvB packs B = im2col(img) for one image and one group straight into
// dst (PackBSize(g.K(), g.N())), without an im2col matrix in between. B has
// k = C·KH·KW rows (row (c·KH+ky)·KW+kx, the ONNX weight layout
// [M, C, KH, KW]) and n = OH·OW columns; taps outside the image are 0.
func (s *Set) PackConvB(dst []float32, img []float32, g ConvGeom) {
	k, n := g.K(), g.N()
	if k == 0 || n == 0 {
		return
	}
	if g.StrideH < 1 || g.StrideW < 1 || g.DilH < 1 || g.DilW < 1 {
		panic(fmt.Sprintf("kernels: PackConvB: strides and dilations must be ≥ 1, got %+v", g))
	}
	_ = dst[s.PackBSize(k, n)-1]
	_ = img[g.C*g.H*g.W-1]
	if s.panel == nil {
		packConv(dst, img, g, 0)
		return
	}
	if s.panel.convRows != nil && g.StrideW == 1 {
		packConvRows(s.panel, dst, img, g)
		return
	}
	packConv(dst, img, g, s.panel.nr)
}

// Gemm computes C = A·B (then the epilogue) for A and B packed by this set
// (A m×k, B k×n) and C row-major m×n with row stride ldc.
func (s *Set) Gemm(m, n, k int, pa, pb []float32, c []float32, ldc int, ep Epilogue) {
	if m == 0 || n == 0 {
		return
	}
	if ldc < n {
		panic(fmt.Sprintf("kernels: Gemm: ldc %d < n %d", ldc, n))
	}
	// Bounds are checked once here, so the kernels may index freely.
	_ = c[(m-1)*ldc+n-1]
	if ep.RowBias != nil {
		_ = ep.RowBias[m-1]
	}
	if ep.ColBias != nil {
		_ = ep.ColBias[n-1]
	}
	if k > 0 {
		_ = pa[s.PackASize(m, k)-1]
		_ = pb[s.PackBSize(k, n)-1]
	}
	if s.panel == nil || k == 0 {
		genericGemm(m, n, k, pa, pb, c, ldc, ep)
		return
	}
	s.panel.gemm(m, n, k, pa, pb, c, ldc, ep)
}
