package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// config is everything that determines the trained weights. Two runs with
// equal configs and equal data produce bit-identical parameters on the same
// architecture, whatever the number of workers.
type config struct {
	Arch   arch
	Epochs int
	Batch  int
	// Shards splits each batch into fixed slices whose gradients are
	// computed independently and summed in shard order. It is part of the
	// result (it fixes the summation order); Workers is not.
	Shards int
	LR     float64 // Adam's peak learning rate, decayed by a cosine to zero
	Seed   uint64
	Shift  int // augmentation: random translation of up to ±Shift pixels
}

// runOptions holds the settings that change speed and logging but never
// the trained weights.
type runOptions struct {
	Workers int
	Log     func(format string, args ...any)
}

// dataset holds images as raw bytes (0 background … 255 ink, row-major
// 28×28) and their labels.
type dataset struct {
	Images []uint8
	Labels []uint8
}

func (d *dataset) Len() int { return len(d.Labels) }

// pixels converts image i, translated by (dx, dy) with zero fill, into
// floats in [0, 1]: the preprocessing the ONNX model documents.
func (d *dataset) pixels(dst []float32, i, dx, dy int) {
	img := d.Images[i*imgPixels : (i+1)*imgPixels]
	if dx == 0 && dy == 0 {
		for j, v := range img {
			dst[j] = float32(v) / 255
		}
		return
	}
	clear(dst[:imgPixels])
	for y := 0; y < imgSide; y++ {
		sy := y - dy
		if sy < 0 || sy >= imgSide {
			continue
		}
		for x := 0; x < imgSide; x++ {
			sx := x - dx
			if sx >= 0 && sx < imgSide {
				dst[y*imgSide+x] = float32(img[sy*imgSide+sx]) / 255
			}
		}
	}
}

// epochStats reports one epoch's progress.
type epochStats struct {
	Epoch     int
	TrainLoss float64
	TrainAcc  float64
	TestAcc   float64
	Elapsed   time.Duration
}

// train fits a network to train, evaluating on test after every epoch.
func train(ctx context.Context, cfg config, trainSet, testSet *dataset, opt runOptions) (*params, []epochStats, error) {
	if cfg.Batch <= 0 || cfg.Shards <= 0 || cfg.Batch%cfg.Shards != 0 {
		return nil, nil, fmt.Errorf("batch size %d must be a positive multiple of shards %d", cfg.Batch, cfg.Shards)
	}
	if trainSet.Len() < cfg.Batch {
		return nil, nil, fmt.Errorf("training set has %d samples, fewer than one batch of %d", trainSet.Len(), cfg.Batch)
	}
	if opt.Workers <= 0 {
		opt.Workers = 1
	}
	start := time.Now()
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x6d6e697374)) // second word: "mnist"
	p := newParams(cfg.Arch)
	p.init(rng)
	adam := newAdam(p)

	per := cfg.Batch / cfg.Shards
	ws := make([]*workspace, cfg.Shards)
	for i := range ws {
		ws[i] = newWorkspace(cfg.Arch, per)
	}
	x := make([]float32, cfg.Batch*imgPixels)
	y := make([]uint8, cfg.Batch)
	total := newParams(cfg.Arch)
	losses := make([]float64, cfg.Shards)
	corrects := make([]int, cfg.Shards)

	order := make([]int, trainSet.Len())
	for i := range order {
		order[i] = i
	}
	steps := trainSet.Len() / cfg.Batch
	totalSteps := steps * cfg.Epochs
	var stats []epochStats
	for epoch := 1; epoch <= cfg.Epochs; epoch++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		var lossSum float64
		var correct int
		for step := 0; step < steps; step++ {
			if err := ctx.Err(); err != nil {
				return nil, stats, err
			}
			// All randomness is drawn here, in one goroutine, in a fixed order.
			for b := 0; b < cfg.Batch; b++ {
				idx := order[step*cfg.Batch+b]
				dx, dy := 0, 0
				if cfg.Shift > 0 {
					dx = rng.IntN(2*cfg.Shift+1) - cfg.Shift
					dy = rng.IntN(2*cfg.Shift+1) - cfg.Shift
				}
				trainSet.pixels(x[b*imgPixels:], idx, dx, dy)
				y[b] = trainSet.Labels[idx]
			}
			scale := float32(1) / float32(cfg.Batch)
			parallel(cfg.Shards, opt.Workers, func(s int) {
				w := ws[s]
				w.grad.zero()
				w.forward(p, x[s*per*imgPixels:], per)
				losses[s], corrects[s] = w.lossGrad(y[s*per:], per, scale)
				w.backward(p, per)
			})
			// Fixed-order reduction: shard 0, then 1, then 2, ...
			tt := total.tensors()
			for t := range tt {
				copy(tt[t], ws[0].grad.tensors()[t])
				for s := 1; s < cfg.Shards; s++ {
					g := ws[s].grad.tensors()[t]
					for i := range tt[t] {
						tt[t][i] += g[i]
					}
				}
			}
			for s := 0; s < cfg.Shards; s++ {
				lossSum += losses[s]
				correct += corrects[s]
			}
			t := (epoch-1)*steps + step
			lr := cfg.LR * 0.5 * (1 + math.Cos(math.Pi*float64(t)/float64(totalSteps)))
			adam.step(p, total, lr)
		}
		n := float64(steps * cfg.Batch)
		st := epochStats{
			Epoch:     epoch,
			TrainLoss: lossSum / n,
			TrainAcc:  float64(correct) / n,
			Elapsed:   time.Since(start),
		}
		if testSet != nil && testSet.Len() > 0 {
			st.TestAcc = float64(evaluate(p, testSet, cfg.Arch, opt.Workers)) / float64(testSet.Len())
		}
		stats = append(stats, st)
		if opt.Log != nil {
			opt.Log("epoch %d/%d: train loss %.4f, train acc %.4f, test acc %.4f, %s",
				epoch, cfg.Epochs, st.TrainLoss, st.TrainAcc, st.TestAcc, st.Elapsed.Round(time.Second))
		}
	}
	return p, stats, nil
}

// parallel runs fn(0..n-1) on at most workers goroutines and waits.
func parallel(n, workers int, fn func(i int)) {
	if workers <= 1 || n == 1 {
		for i := 0; i < n; i++ {
			fn(i)
		}
		return
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, workers)
	for i := 0; i < n; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			fn(i)
		}()
	}
	wg.Wait()
}

// evalChunk is how many test images one workspace scores at a time.
const evalChunk = 100

// evaluate returns how many samples of ds the network classifies correctly.
func evaluate(p *params, ds *dataset, a arch, workers int) int {
	chunks := (ds.Len() + evalChunk - 1) / evalChunk
	if workers < 1 {
		workers = 1
	}
	correct := make([]int, chunks)
	wss := make(chan *workspace, workers)
	for i := 0; i < workers; i++ {
		wss <- newWorkspace(a, evalChunk)
	}
	parallel(chunks, workers, func(c int) {
		w := <-wss
		defer func() { wss <- w }()
		lo := c * evalChunk
		n := min(evalChunk, ds.Len()-lo)
		x := make([]float32, n*imgPixels)
		for i := 0; i < n; i++ {
			ds.pixels(x[i*imgPixels:], lo+i, 0, 0)
		}
		w.forward(p, x, n)
		for i := 0; i < n; i++ {
			if argmax(w.logit[i*numClass:(i+1)*numClass]) == int(ds.Labels[lo+i]) {
				correct[c]++
			}
		}
	})
	sum := 0
	for _, c := range correct {
		sum += c
	}
	return sum
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// adam is the Adam optimizer (Kingma & Ba) with the usual β1 = 0.9,
// β2 = 0.999, ε = 1e-8.
type adam struct {
	m, v *params
	t    int
}

func newAdam(p *params) *adam {
	return &adam{m: newParams(p.arch), v: newParams(p.arch)}
}

func (o *adam) step(p, grad *params, lr float64) {
	const b1, b2, eps = 0.9, 0.999, 1e-8
	o.t++
	c1 := 1 - math.Pow(b1, float64(o.t))
	c2 := 1 - math.Pow(b2, float64(o.t))
	stepSize := float32(lr * math.Sqrt(c2) / c1)
	epsHat := float32(eps * math.Sqrt(c2))
	pt, gt, mt, vt := p.tensors(), grad.tensors(), o.m.tensors(), o.v.tensors()
	for t := range pt {
		w, g, m, v := pt[t], gt[t], mt[t], vt[t]
		for i := range w {
			m[i] = b1*m[i] + (1-b1)*g[i]
			v[i] = b2*v[i] + (1-b2)*g[i]*g[i]
			w[i] -= stepSize * m[i] / (float32(math.Sqrt(float64(v[i]))) + epsHat)
		}
	}
}
