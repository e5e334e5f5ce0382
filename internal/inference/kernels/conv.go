package kernels

// packConv writes im2col(img) into a B layout of column panels nr wide
// (nr = 0: the generic set's row-major layout, one panel as wide as B).
// Each B row is one kernel tap (c, ky, kx); its columns are the output
// pixels in order, so the row is OH runs of OW columns, each run a slice of
// one input line (or a strided gather from it) between zeros where the tap
// falls in the padding. A run may straddle two panels, so it is written in
// pieces that each stay inside one panel's row.
//
// The loops are written out in one function on purpose: with OW = 8 (a
// 5×5 convolution on 12×12) a run is 8 values, and a method call per run
// cost more than the copying.
func packConv(dst []float32, img []float32, g ConvGeom, nr int) {
	k, n := g.K(), g.N()
	if nr == 0 {
		nr = n
	}
	ps := nr * k
	plane := g.H * g.W
	ow := g.OW
	r := 0
	for ch := range g.C {
		src := img[ch*plane : (ch+1)*plane]
		for ky := range g.KH {
			for kx := range g.KW {
				// off is where this row starts in the current panel, pw the
				// next column inside that panel.
				off, pw := r*nr, 0
				r++
				x0 := kx*g.DilW - g.PadLeft
				// Output columns ox in [lo, hi) read inside the line.
				lo, hi := 0, ow
				if x0 < 0 {
					lo = min(ow, (-x0+g.StrideW-1)/g.StrideW)
				}
				if last := x0 + (ow-1)*g.StrideW; last >= g.W {
					hi = max(lo, ow-(last-g.W+g.StrideW)/g.StrideW)
				}
				if g.StrideW == 1 && lo == 0 && hi == ow && nr%ow == 0 {
					// Runs never straddle panels: the tight loop.
					packRowAligned(dst[r*nr-nr:], src, g, ky, x0, nr, ps)
					continue
				}
				full := g.StrideW == 1 && lo == 0 && hi == ow
				for oy := range g.OH {
					y := oy*g.StrideH + ky*g.DilH - g.PadTop
					inside := y >= 0 && y < g.H && lo < hi
					if inside && full && pw+ow <= nr {
						// The common case: the run is a slice of the line
						// and fits in the current panel.
						l := y*g.W + x0
						copyFloats(dst[off+pw:off+pw+ow], src[l:l+ow])
						if pw += ow; pw == nr {
							pw = 0
							off += ps
						}
						continue
					}
					var line []float32
					if inside {
						line = src[y*g.W : (y+1)*g.W]
					}
					for a := 0; a < ow; {
						b := min(ow, a+nr-pw)
						d := dst[off+pw : off+pw+b-a]
						if !inside {
							clear(d)
						} else {
							cl, ch := min(max(lo, a), b), max(min(hi, b), a)
							if cl > a {
								clear(d[:cl-a])
							}
							if ch > cl {
								dd := d[cl-a : ch-a]
								if g.StrideW == 1 {
									copyFloats(dd, line[x0+cl:x0+ch])
								} else {
									x, sw := x0+cl*g.StrideW, g.StrideW
									for i := range dd {
										dd[i] = line[x]
										x += sw
									}
								}
							}
							if ch < b {
								clear(d[ch-a:])
							}
						}
						pw += b - a
						a = b
						if pw == nr {
							pw = 0
							off += ps
						}
					}
				}
				if pw > 0 {
					clear(dst[off+pw : off+nr])
				}
			}
		}
	}
}

// convRowsKernel is an assembly packer of one kernel row's B rows; see the
// asmgen command for its contract.
type convRowsKernel func(d, s *float32, nr, ps, cstep, plane, c, kw, dw, left, w, step, ow, oh, oyLo, oyHi int)

// convRowsValidKernel is convRowsKernel for kernel rows whose taps all read
// inside the lines.
type convRowsValidKernel func(d, s *float32, nr, ps, cstep, plane, c, kw, dw, step, ow, oh, oyLo, oyHi int)

// packConvRows is packConv for a horizontal stride of 1, one assembly call
// per kernel row (all channels and taps), which finds the horizontal
// padding of each tap itself; only the vertical padding, the same for the
// whole kernel row, is worked out here.
func packConvRows(pk *panelKernels, dst, img []float32, g ConvGeom) {
	nr := pk.nr
	ps := nr * g.K()
	valid := g.PadLeft == 0 && (g.KW-1)*g.DilW+g.OW <= g.W
	for ky := range g.KH {
		y0, oyLo, oyHi := g.rowsInside(ky)
		s := &img[0]
		if oyLo < oyHi {
			s = &img[(y0+oyLo*g.StrideH)*g.W]
		}
		d := &dst[ky*g.KW*nr]
		if valid {
			pk.convRowsValid(d, s, nr, ps, g.KH*g.KW*nr, g.H*g.W, g.C, g.KW, g.DilW, g.StrideH*g.W, g.OW, g.OH, oyLo, oyHi)
			continue
		}
		pk.convRows(d, s, nr, ps, g.KH*g.KW*nr, g.H*g.W, g.C, g.KW, g.DilW, g.PadLeft, g.W,
			g.StrideH*g.W, g.OW, g.OH, oyLo, oyHi)
	}
}

// rowsInside returns, for kernel row ky, the input row y0 that output row 0
// reads, and the output rows [lo, hi) whose reads fall inside the image (the
// others read only padding).
func (g ConvGeom) rowsInside(ky int) (y0, lo, hi int) {
	lo, hi = 0, g.OH
	y0 = ky*g.DilH - g.PadTop
	if y0 < 0 {
		lo = min(g.OH, (-y0+g.StrideH-1)/g.StrideH)
	}
	if last := y0 + (g.OH-1)*g.StrideH; last >= g.H {
		hi = max(lo, g.OH-(last-g.H+g.StrideH)/g.StrideH)
	}
	return y0, lo, hi
}

// packRowAligned writes one B row whose runs are whole slices of input
// lines (stride 1, no horizontal padding) and fit the panels exactly
// (nr a multiple of OW); d starts at the row in the first panel.
func packRowAligned(d []float32, src []float32, g ConvGeom, ky, x0, nr, ps int) {
	ow := g.OW
	y0, oyLo, oyHi := g.rowsInside(ky)
	off, pw := 0, 0
	si := (y0+oyLo*g.StrideH)*g.W + x0
	step := g.StrideH * g.W
	for oy := 0; oy < g.OH; oy++ {
		if oy < oyLo || oy >= oyHi {
			clear(d[off+pw : off+pw+ow])
		} else {
			if ow == 8 && oyHi-oy >= nr/8 && pw == 0 {
				// A whole panel row from nr/8 input lines at once.
				for q := 0; q < nr; q += 8 {
					copy8(d[off+q:], src[si:])
					si += step
				}
				off += ps
				oy += nr/8 - 1
				continue
			} else {
				copyFloats(d[off+pw:off+pw+ow], src[si:si+ow])
			}
			si += step
		}
		if pw += ow; pw == nr {
			pw = 0
			off += ps
		}
	}
	if pw > 0 {
		clear(d[off+pw : off+nr])
	}
}

// copyFloats is copy for the short runs of a convolution's rows (often 8
// to 28 values), where the call into memmove costs more than the copy.
func copyFloats(d, s []float32) {
	if len(s) >= 64 {
		copy(d, s)
		return
	}
	d = d[:len(s)]
	for len(s) >= 8 {
		copy8(d, s)
		d, s = d[8:], s[8:]
	}
	for i, v := range s {
		d[i] = v
	}
}

// copy8 copies s[:8] to d[:8] as two 16-byte moves: a [4]float32
// assignment compiles to one MOVUPS pair, while an [8]float32 one goes
// through a stack temporary or memmove.
func copy8(d, s []float32) {
	*(*[4]float32)(d) = *(*[4]float32)(s)
	*(*[4]float32)(d[4:]) = *(*[4]float32)(s[4:])
}
