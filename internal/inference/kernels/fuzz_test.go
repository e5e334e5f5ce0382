package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The fuzz targets check every assembly set against the generic one on
// shapes, strides, epilogues and geometries the fuzzer picks.

func asmSets() []*Set {
	av := Available()
	return av[:len(av)-1]
}

func generic() *Set {
	av := Available()
	return av[len(av)-1]
}

// closeTo compares two results of the same product computed in different
// orders: the error of a float32 dot product grows with k and with the
// magnitudes summed.
func closeTo(got, want []float32, k int, mag []float32) int {
	for i := range got {
		tol := 1e-5*float64(k+4)*float64(mag[i]) + 1e-30
		if d := math.Abs(float64(got[i] - want[i])); !(d <= tol) {
			return i
		}
	}
	return -1
}

func FuzzGemm(f *testing.F) {
	f.Add(uint8(1), uint16(128), uint16(512), uint8(0), uint8(0), uint64(1))
	f.Add(uint8(16), uint16(576), uint16(25), uint8(5), uint8(9), uint64(2))
	f.Add(uint8(33), uint16(47), uint16(300), uint8(3), uint8(255), uint64(3))
	f.Fuzz(func(t *testing.T, m8 uint8, n16, k16 uint16, extra, mode uint8, seed uint64) {
		m, n, k := int(m8)%70+1, int(n16)%300+1, int(k16)%600+1
		lda, ldb, ldc := k+int(extra%5), n+int(extra/5%5), n+int(extra/25%5)
		r := rand.New(rand.NewPCG(seed, 7))
		a, b := randSlice(r, (m-1)*lda+k), randSlice(r, (k-1)*ldb+n)
		c0 := randSlice(r, (m-1)*ldc+n)
		ep := Epilogue{Accumulate: mode&1 != 0, Relu: mode&8 != 0}
		if mode&2 != 0 {
			ep.RowBias = randSlice(r, m)
		}
		if mode&4 != 0 {
			ep.ColBias = randSlice(r, n)
		}
		if mode&16 != 0 {
			ep.LeakyAlpha = 0.01
		}
		transA, transB := mode&32 != 0, mode&64 != 0
		sh := shape{m, n, k}
		// Magnitudes: the same product over |A|, |B|, |C|, |biases|.
		abs := func(s []float32) []float32 {
			o := make([]float32, len(s))
			for i, v := range s {
				o[i] = float32(math.Abs(float64(v)))
			}
			return o
		}
		magEp := Epilogue{Accumulate: ep.Accumulate, RowBias: abs(ep.RowBias), ColBias: abs(ep.ColBias)}
		if ep.RowBias == nil {
			magEp.RowBias = nil
		}
		if ep.ColBias == nil {
			magEp.ColBias = nil
		}
		mag := runGemm(generic(), sh, abs(a), lda, abs(b), ldb, false, false, abs(c0), ldc, magEp)
		want := runGemm(generic(), sh, a, lda, b, ldb, transA, transB, c0, ldc, ep)
		for _, s := range asmSets() {
			got := runGemm(s, sh, a, lda, b, ldb, transA, transB, c0, ldc, ep)
			if i := closeTo(got, want, k, mag); i >= 0 {
				t.Fatalf("%s m=%d n=%d k=%d %+v: C[%d] got %v, want %v", s.Name(), m, n, k, ep, i, got[i], want[i])
			}
		}
	})
}

func FuzzConv(f *testing.F) {
	f.Add(uint8(1), uint8(28), uint8(28), uint8(5), uint8(5), uint8(0), uint8(0), uint8(0), uint64(1))
	f.Add(uint8(3), uint8(9), uint8(7), uint8(3), uint8(3), uint8(0x11), uint8(0x11), uint8(0), uint64(2))
	f.Add(uint8(2), uint8(4), uint8(3), uint8(7), uint8(5), uint8(0x22), uint8(0x33), uint8(0x15), uint64(3))
	f.Fuzz(func(t *testing.T, c, h, w, kh, kw, strides, pads, dils uint8, seed uint64) {
		g := ConvGeom{
			C: int(c)%6 + 1, H: int(h)%40 + 1, W: int(w)%40 + 1, KH: int(kh)%7 + 1, KW: int(kw)%7 + 1,
			StrideH: int(strides)%4 + 1, StrideW: int(strides>>4)%4 + 1,
			PadTop: int(pads) % 4, PadLeft: int(pads>>4) % 4,
			DilH: int(dils)%3 + 1, DilW: int(dils>>4)%3 + 1,
		}
		padB, padR := int(dils>>2)%4, int(dils>>6)%4
		eh, ew := g.DilH*(g.KH-1)+1, g.DilW*(g.KW-1)+1
		if g.H+g.PadTop+padB < eh || g.W+g.PadLeft+padR < ew {
			return
		}
		g.OH = (g.H+g.PadTop+padB-eh)/g.StrideH + 1
		g.OW = (g.W+g.PadLeft+padR-ew)/g.StrideW + 1
		r := rand.New(rand.NewPCG(seed, 9))
		img := randSlice(r, g.C*g.H*g.W)
		k, n, m := g.K(), g.N(), 7
		a := randSlice(r, m*k)
		bias := randSlice(r, m)
		ref := refIm2col(img, g)
		run := func(s *Set) []float32 {
			pa := make([]float32, s.PackASize(m, k))
			s.PackA(pa, m, k, a, k)
			pb := make([]float32, s.PackBSize(k, n))
			s.PackConvB(pb, img, g)
			wantB := make([]float32, len(pb))
			s.PackB(wantB, k, n, ref, n)
			if i := firstDiff(pb, wantB); i >= 0 {
				t.Fatalf("%s %+v: packed B differs at %d: got %v, want %v", s.Name(), g, i, pb[i], wantB[i])
			}
			out := make([]float32, m*n)
			s.Gemm(m, n, k, pa, pb, out, n, Epilogue{RowBias: bias})
			return out
		}
		want := run(generic())
		mag := make([]float32, m*n)
		_, m64 := refGemm(m, n, k, a, k, ref, n, nil, n, Epilogue{RowBias: bias})
		for i, v := range m64 {
			mag[i] = float32(v)
		}
		for _, s := range asmSets() {
			got := run(s)
			if i := closeTo(got, want, k, mag); i >= 0 {
				t.Fatalf("%s %+v: C[%d] got %v, want %v", s.Name(), g, i, got[i], want[i])
			}
		}
	})
}
