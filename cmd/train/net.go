package main

import (
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas/gonum"
)

// The network is fixed to MNIST's geometry: 28×28 single-channel images, two
// 5×5 valid convolutions each followed by ReLU and 2×2 max pooling, one
// hidden fully connected layer with ReLU, and a 10-way output. Only the
// widths vary (arch), so tests can check the same code on a tiny network.
const (
	imgSide   = 28
	imgPixels = imgSide * imgSide
	kSide     = 5
	kArea     = kSide * kSide
	c1Side    = imgSide - kSide + 1 // 24
	p1Side    = c1Side / 2          // 12
	c2Side    = p1Side - kSide + 1  // 8
	p2Side    = c2Side / 2          // 4
	numClass  = 10
)

// arch holds the layer widths.
type arch struct {
	C1, C2, Hidden int
}

func (a arch) flat() int { return a.C2 * p2Side * p2Side }

// params holds every trainable tensor, in the layouts the ONNX graph uses:
// conv weights [out, in, kh, kw], fully connected weights [in, out] (MatMul's
// right operand), biases [out].
type params struct {
	arch           arch
	W1, B1, W2, B2 []float32
	W3, B3, W4, B4 []float32
}

func newParams(a arch) *params {
	return &params{
		arch: a,
		W1:   make([]float32, a.C1*kArea),
		B1:   make([]float32, a.C1),
		W2:   make([]float32, a.C2*a.C1*kArea),
		B2:   make([]float32, a.C2),
		W3:   make([]float32, a.flat()*a.Hidden),
		B3:   make([]float32, a.Hidden),
		W4:   make([]float32, a.Hidden*numClass),
		B4:   make([]float32, numClass),
	}
}

// tensors lists the parameter slices in a fixed order, so optimizers and
// gradient reductions walk them identically every time.
func (p *params) tensors() [][]float32 {
	return [][]float32{p.W1, p.B1, p.W2, p.B2, p.W3, p.B3, p.W4, p.B4}
}

func (p *params) zero() {
	for _, t := range p.tensors() {
		clear(t)
	}
}

// init draws He-normal weights (std sqrt(2/fan_in)), suited to ReLU layers;
// the output layer uses std sqrt(1/fan_in). Biases start at zero.
func (p *params) init(rng *rand.Rand) {
	a := p.arch
	fill := func(w []float32, fanIn int, gain float64) {
		std := math.Sqrt(gain / float64(fanIn))
		for i := range w {
			w[i] = float32(rng.NormFloat64() * std)
		}
	}
	fill(p.W1, kArea, 2)
	fill(p.W2, a.C1*kArea, 2)
	fill(p.W3, a.flat(), 2)
	fill(p.W4, a.Hidden, 1)
}

// workspace holds one shard's activations and gradients. Shards never share
// a workspace, which is what makes parallel training deterministic: each
// shard's arithmetic is sequential, and shard gradients are summed in shard
// order afterwards.
type workspace struct {
	arch arch
	n    int // samples in this shard (capacity)

	cols1 []float32 // [25, n*576] im2col of the input
	out1  []float32 // [C1, n*576] conv1 after ReLU
	pool1 []float32 // [C1, n, 12, 12]
	arg1  []int32   // argmax index into out1 for each pool1 cell
	cols2 []float32 // [C1*25, n*64] im2col of pool1
	out2  []float32 // [C2, n*64] conv2 after ReLU
	arg2  []int32   // argmax index into out2 for each pool2 cell
	h0    []float32 // [n, flat] pool2 flattened per sample in ONNX order
	h1    []float32 // [n, Hidden] after ReLU
	logit []float32 // [n, 10]

	dlogit []float32
	dh1    []float32
	dh0    []float32
	dout2  []float32
	dcols2 []float32
	dpool1 []float32
	dout1  []float32

	grad *params
}

func newWorkspace(a arch, n int) *workspace {
	return &workspace{
		arch:   a,
		n:      n,
		cols1:  make([]float32, kArea*n*c1Side*c1Side),
		out1:   make([]float32, a.C1*n*c1Side*c1Side),
		pool1:  make([]float32, a.C1*n*p1Side*p1Side),
		arg1:   make([]int32, a.C1*n*p1Side*p1Side),
		cols2:  make([]float32, a.C1*kArea*n*c2Side*c2Side),
		out2:   make([]float32, a.C2*n*c2Side*c2Side),
		arg2:   make([]int32, a.C2*n*p2Side*p2Side),
		h0:     make([]float32, n*a.flat()),
		h1:     make([]float32, n*a.Hidden),
		logit:  make([]float32, n*numClass),
		dlogit: make([]float32, n*numClass),
		dh1:    make([]float32, n*a.Hidden),
		dh0:    make([]float32, n*a.flat()),
		dout2:  make([]float32, a.C2*n*c2Side*c2Side),
		dcols2: make([]float32, a.C1*kArea*n*c2Side*c2Side),
		dpool1: make([]float32, a.C1*n*p1Side*p1Side),
		dout1:  make([]float32, a.C1*n*c1Side*c1Side),
		grad:   newParams(a),
	}
}

// blas is gonum's pure-Go BLAS; its float32 axpy and dot kernels are
// SIMD assembly on amd64 with a fixed summation order.
var blas gonum.Implementation

// forward runs the network on n ≤ w.n images (each imgPixels floats in
// x) and leaves the logits in w.logit[:n*10].
func (w *workspace) forward(p *params, x []float32, n int) {
	a := w.arch
	// conv1: im2col then out1[o,:] = Σ_k W1[o,k]·cols1[k,:].
	cols := n * c1Side * c1Side
	for ky := 0; ky < kSide; ky++ {
		for kx := 0; kx < kSide; kx++ {
			row := w.cols1[(ky*kSide+kx)*cols : (ky*kSide+kx+1)*cols]
			for s := 0; s < n; s++ {
				img := x[s*imgPixels : (s+1)*imgPixels]
				dst := row[s*c1Side*c1Side:]
				for oy := 0; oy < c1Side; oy++ {
					copy(dst[oy*c1Side:(oy+1)*c1Side], img[(oy+ky)*imgSide+kx:])
				}
			}
		}
	}
	convForward(w.out1[:a.C1*cols], p.W1, p.B1, w.cols1[:kArea*cols], a.C1, kArea, cols)
	maxPool(w.pool1, w.arg1, w.out1, a.C1, n, c1Side)

	// conv2 on pool1 laid out [C1, n, 12, 12].
	cols = n * c2Side * c2Side
	for c := 0; c < a.C1; c++ {
		for ky := 0; ky < kSide; ky++ {
			for kx := 0; kx < kSide; kx++ {
				row := w.cols2[((c*kSide+ky)*kSide+kx)*cols:][:cols]
				for s := 0; s < n; s++ {
					src := w.pool1[(c*n+s)*p1Side*p1Side:]
					dst := row[s*c2Side*c2Side:]
					for oy := 0; oy < c2Side; oy++ {
						copy(dst[oy*c2Side:(oy+1)*c2Side], src[(oy+ky)*p1Side+kx:])
					}
				}
			}
		}
	}
	convForward(w.out2[:a.C2*cols], p.W2, p.B2, w.cols2[:a.C1*kArea*cols], a.C2, a.C1*kArea, cols)
	pool2 := w.dh0 // scratch: pooled values in [C2, n, 4, 4] before flattening
	maxPool(pool2, w.arg2, w.out2, a.C2, n, c2Side)
	// Flatten as ONNX Flatten(axis=1) does on [1, C2, 4, 4]: c*16 + y*4 + x.
	f := a.flat()
	for c := 0; c < a.C2; c++ {
		for s := 0; s < n; s++ {
			copy(w.h0[s*f+c*p2Side*p2Side:][:p2Side*p2Side], pool2[(c*n+s)*p2Side*p2Side:])
		}
	}

	dense(w.h1, w.h0, p.W3, p.B3, n, f, a.Hidden, true)
	dense(w.logit, w.h1, p.W4, p.B4, n, a.Hidden, numClass, false)
}

// convForward computes out[o, :] = ReLU(b[o] + Σ_k W[o,k]·cols[k,:]) for a
// [m, k] weight matrix and [k, cols] column matrix.
func convForward(out, W, b, colm []float32, m, k, cols int) {
	for o := 0; o < m; o++ {
		dst := out[o*cols : (o+1)*cols]
		for i := range dst {
			dst[i] = b[o]
		}
		for j := 0; j < k; j++ {
			if wv := W[o*k+j]; wv != 0 {
				blas.Saxpy(cols, wv, colm[j*cols:(j+1)*cols], 1, dst, 1)
			}
		}
		for i, v := range dst {
			if v < 0 {
				dst[i] = 0
			}
		}
	}
}

// maxPool does 2×2 stride-2 pooling of in [C, n, side, side] (the row of
// channel c holds the n samples back to back) into out [C, n, side/2,
// side/2], recording for each output cell the flat index of the input cell
// that won. Ties go to the first cell in row-major order, as in ONNX
// Runtime.
func maxPool(out []float32, arg []int32, in []float32, channels, n, side int) {
	half := side / 2
	for c := 0; c < channels; c++ {
		for s := 0; s < n; s++ {
			base := (c*n + s) * side * side
			obase := (c*n + s) * half * half
			for oy := 0; oy < half; oy++ {
				for ox := 0; ox < half; ox++ {
					i := base + 2*oy*side + 2*ox
					best, bi := in[i], i
					if v := in[i+1]; v > best {
						best, bi = v, i+1
					}
					if v := in[i+side]; v > best {
						best, bi = v, i+side
					}
					if v := in[i+side+1]; v > best {
						best, bi = v, i+side+1
					}
					out[obase+oy*half+ox] = best
					arg[obase+oy*half+ox] = int32(bi)
				}
			}
		}
	}
}

// dense computes y[s,:] = b + Σ_i x[s,i]·W[i,:] for n rows, with optional
// ReLU.
func dense(y, x, W, b []float32, n, in, out int, relu bool) {
	for s := 0; s < n; s++ {
		dst := y[s*out : (s+1)*out]
		copy(dst, b)
		for i, xv := range x[s*in : (s+1)*in] {
			if xv != 0 {
				blas.Saxpy(out, xv, W[i*out:(i+1)*out], 1, dst, 1)
			}
		}
		if relu {
			for j, v := range dst {
				if v < 0 {
					dst[j] = 0
				}
			}
		}
	}
}

// lossGrad turns the logits of n samples into softmax cross-entropy: it
// returns the summed loss and the number of correct predictions, and writes
// dLoss/dlogit scaled by scale (1/batch size) into w.dlogit.
func (w *workspace) lossGrad(labels []uint8, n int, scale float32) (loss float64, correct int) {
	for s := 0; s < n; s++ {
		z := w.logit[s*numClass : (s+1)*numClass]
		g := w.dlogit[s*numClass : (s+1)*numClass]
		maxv, arg := z[0], 0
		for j, v := range z {
			if v > maxv {
				maxv, arg = v, j
			}
		}
		if arg == int(labels[s]) {
			correct++
		}
		var sum float64
		var e [numClass]float64
		for j, v := range z {
			e[j] = math.Exp(float64(v - maxv))
			sum += e[j]
		}
		loss += math.Log(sum) - float64(z[labels[s]]-maxv)
		for j := range g {
			p := e[j] / sum
			if j == int(labels[s]) {
				p--
			}
			g[j] = float32(p) * scale
		}
	}
	return loss, correct
}

// backward accumulates into w.grad the gradients of the loss whose
// dLoss/dlogit is in w.dlogit, using the activations of the last forward.
// w.grad must be zeroed by the caller.
func (w *workspace) backward(p *params, n int) {
	a := w.arch
	g := w.grad
	f := a.flat()

	// Output layer.
	for s := 0; s < n; s++ {
		d := w.dlogit[s*numClass : (s+1)*numClass]
		for j, v := range d {
			g.B4[j] += v
		}
		h := w.h1[s*a.Hidden : (s+1)*a.Hidden]
		dh := w.dh1[s*a.Hidden : (s+1)*a.Hidden]
		for i, hv := range h {
			if hv == 0 { // ReLU was inactive: no gradient flows back
				dh[i] = 0
				continue
			}
			blas.Saxpy(numClass, hv, d, 1, g.W4[i*numClass:(i+1)*numClass], 1)
			dh[i] = blas.Sdot(numClass, d, 1, p.W4[i*numClass:(i+1)*numClass], 1)
		}
	}

	// Hidden layer.
	for s := 0; s < n; s++ {
		dh := w.dh1[s*a.Hidden : (s+1)*a.Hidden]
		for j, v := range dh {
			g.B3[j] += v
		}
		x := w.h0[s*f : (s+1)*f]
		dx := w.dh0[s*f : (s+1)*f]
		for i, xv := range x {
			if xv == 0 { // pooled ReLU output was zero: its gradient is masked below
				dx[i] = 0
				continue
			}
			blas.Saxpy(a.Hidden, xv, dh, 1, g.W3[i*a.Hidden:(i+1)*a.Hidden], 1)
			dx[i] = blas.Sdot(a.Hidden, dh, 1, p.W3[i*a.Hidden:(i+1)*a.Hidden], 1)
		}
	}

	// Unflatten, unpool and apply conv2's ReLU mask (pooled zeros got no
	// gradient above, and a positive pooled value means its argmax cell was
	// active).
	cols := n * c2Side * c2Side
	dout2 := w.dout2[:a.C2*cols]
	clear(dout2)
	for c := 0; c < a.C2; c++ {
		for s := 0; s < n; s++ {
			for q := 0; q < p2Side*p2Side; q++ {
				dout2[w.arg2[(c*n+s)*p2Side*p2Side+q]] += w.dh0[s*f+c*p2Side*p2Side+q]
			}
		}
	}

	// conv2 weights, bias and input columns.
	k2 := a.C1 * kArea
	cols2 := w.cols2[:k2*cols]
	for o := 0; o < a.C2; o++ {
		d := dout2[o*cols : (o+1)*cols]
		var sum float32
		for _, v := range d {
			sum += v
		}
		g.B2[o] += sum
		gw := g.W2[o*k2 : (o+1)*k2]
		for j := range gw {
			gw[j] += blas.Sdot(cols, d, 1, cols2[j*cols:(j+1)*cols], 1)
		}
	}
	dcols2 := w.dcols2[:k2*cols]
	for j := 0; j < k2; j++ {
		dst := dcols2[j*cols : (j+1)*cols]
		clear(dst)
		for o := 0; o < a.C2; o++ {
			if wv := p.W2[o*k2+j]; wv != 0 {
				blas.Saxpy(cols, wv, dout2[o*cols:(o+1)*cols], 1, dst, 1)
			}
		}
	}
	// col2im into dpool1 [C1, n, 12, 12].
	dpool1 := w.dpool1[:a.C1*n*p1Side*p1Side]
	clear(dpool1)
	for c := 0; c < a.C1; c++ {
		for ky := 0; ky < kSide; ky++ {
			for kx := 0; kx < kSide; kx++ {
				row := dcols2[((c*kSide+ky)*kSide+kx)*cols:][:cols]
				for s := 0; s < n; s++ {
					dst := dpool1[(c*n+s)*p1Side*p1Side:]
					src := row[s*c2Side*c2Side:]
					for oy := 0; oy < c2Side; oy++ {
						d := dst[(oy+ky)*p1Side+kx:][:c2Side]
						for ox, v := range src[oy*c2Side : (oy+1)*c2Side] {
							d[ox] += v
						}
					}
				}
			}
		}
	}

	// Unpool into conv1's output with its ReLU mask.
	cols = n * c1Side * c1Side
	dout1 := w.dout1[:a.C1*cols]
	clear(dout1)
	for i, v := range dpool1 {
		if j := w.arg1[i]; w.out1[j] > 0 {
			dout1[j] += v
		}
	}
	for o := 0; o < a.C1; o++ {
		d := dout1[o*cols : (o+1)*cols]
		var sum float32
		for _, v := range d {
			sum += v
		}
		g.B1[o] += sum
		for j := 0; j < kArea; j++ {
			g.W1[o*kArea+j] += blas.Sdot(cols, d, 1, w.cols1[j*cols:(j+1)*cols], 1)
		}
	}
}
