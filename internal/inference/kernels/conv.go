package kernels

// packConv writes im2col(img) into a B layout of column panels nr wide
// (nr = 0: the generic set's row-major layout, one panel as wide as B).
// Each B row is one kernel tap (c, ky, kx); its columns are the output
// pixels in order, so a row is a sequence of runs: a slice of one input
// line (stride 1), zeros where the tap falls in the padding, or a strided
// gather.
func packConv(dst []float32, img []float32, g ConvGeom, nr int) {
	k, n := g.K(), g.N()
	if nr == 0 {
		nr = n
	}
	w := colWriter{dst: dst, nr: nr, ps: nr * k}
	pad := (n+nr-1)/nr*nr - n
	plane := g.H * g.W
	r := 0
	for ch := range g.C {
		src := img[ch*plane : (ch+1)*plane]
		for ky := range g.KH {
			for kx := range g.KW {
				w.start(r)
				r++
				x0 := kx*g.DilW - g.PadLeft
				// Output columns ox in [lo, hi) read inside the line.
				lo, hi := 0, g.OW
				if x0 < 0 {
					lo = min(g.OW, (-x0+g.StrideW-1)/g.StrideW)
				}
				if last := x0 + (g.OW-1)*g.StrideW; last >= g.W {
					hi = max(lo, g.OW-(last-g.W+g.StrideW)/g.StrideW)
				}
				for oy := range g.OH {
					y := oy*g.StrideH + ky*g.DilH - g.PadTop
					if y < 0 || y >= g.H || lo == hi {
						w.zero(g.OW)
						continue
					}
					line := src[y*g.W : (y+1)*g.W]
					w.zero(lo)
					if g.StrideW == 1 {
						w.copy(line[x0+lo : x0+hi])
					} else {
						w.gather(line, x0+lo*g.StrideW, g.StrideW, hi-lo)
					}
					w.zero(g.OW - hi)
				}
				w.zero(pad)
			}
		}
	}
}

// colWriter writes one B row column by column across the panels.
type colWriter struct {
	dst []float32
	nr  int // panel width
	ps  int // panel size, nr·k
	// cur is the rest of the current panel's row; base is where the
	// current panel's row starts.
	cur  []float32
	base int
}

func (w *colWriter) start(row int) {
	w.base = row * w.nr
	w.cur = w.dst[w.base : w.base+w.nr]
}

// next moves to the same row of the next panel.
func (w *colWriter) next() {
	w.base += w.ps
	if w.base < len(w.dst) {
		w.cur = w.dst[w.base : w.base+w.nr]
	} else {
		w.cur = nil
	}
}

func (w *colWriter) copy(src []float32) {
	for len(src) > 0 {
		if len(w.cur) == 0 {
			w.next()
		}
		t := min(len(src), len(w.cur))
		copyFloats(w.cur[:t], src[:t])
		w.cur, src = w.cur[t:], src[t:]
	}
}

func (w *colWriter) zero(cnt int) {
	for cnt > 0 {
		if len(w.cur) == 0 {
			w.next()
		}
		t := min(cnt, len(w.cur))
		clear(w.cur[:t])
		w.cur, cnt = w.cur[t:], cnt-t
	}
}

func (w *colWriter) gather(line []float32, x, stride, cnt int) {
	for cnt > 0 {
		if len(w.cur) == 0 {
			w.next()
		}
		t := min(cnt, len(w.cur))
		d := w.cur[:t]
		for i := range d {
			d[i] = line[x]
			x += stride
		}
		w.cur, cnt = w.cur[t:], cnt-t
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
		*(*[8]float32)(d) = *(*[8]float32)(s)
		d, s = d[8:], s[8:]
	}
	for i, v := range s {
		d[i] = v
	}
}
