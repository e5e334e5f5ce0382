package inference

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/owulveryck/onnx-go"
	"github.com/owulveryck/onnx-go/backend/x/gorgonnx"
	"gorgonia.org/tensor"

	"github.com/taskmind/taskmind/internal/inference/internal/onnxtest"
	"github.com/taskmind/taskmind/internal/inference/onnxcheck"
)

var tinyIn = []Tensor{{Name: "x", Shape: []int{1, 4}, Data: onnxtest.TinyInput}}

func loadedTiny(t *testing.T, opts Options) (*Engine, *model) {
	t.Helper()
	e := New(opts)
	t.Cleanup(e.Close)
	if err := e.Load(context.Background(), "tiny", "1", onnxtest.Tiny().Marshal(), Meta{}); err != nil {
		t.Fatal(err)
	}
	return e, e.lookup("tiny")
}

// takeAll empties a model's pool, as if every instance were busy, and
// returns a function that gives them back.
func takeAll(e *Engine, m *model) func() {
	var held []*instance
	for len(m.free) > 0 {
		held = append(held, <-m.free)
	}
	return func() {
		for _, inst := range held {
			e.release(m, inst)
		}
	}
}

// depthRecorder keeps the queue depths the engine reports.
type depthRecorder struct {
	mu       sync.Mutex
	depths   []int
	statuses []string
	batches  []int
}

func (r *depthRecorder) ObserveBatch(_ string, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches = append(r.batches, n)
}

func (r *depthRecorder) ObserveInference(_, status string, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.statuses = append(r.statuses, status)
}

func (r *depthRecorder) SetQueueDepth(_ string, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.depths = append(r.depths, n)
}

func TestQueueFullIsBusy(t *testing.T) {
	rec := &depthRecorder{}
	e, m := loadedTiny(t, Options{PoolSize: 1, QueueSize: 2, Timeout: 5 * time.Second, Metrics: rec})
	giveBack := takeAll(e, m)

	// Two callers wait in the queue...
	var wg sync.WaitGroup
	results := make(chan error, 2)
	for range 2 {
		wg.Go(func() {
			_, err := e.Predict(context.Background(), "tiny", tinyIn)
			results <- err
		})
	}
	waitFor(t, func() bool { return m.queued() == 2 })
	// ...so a third is turned away at once.
	start := time.Now()
	_, err := e.Predict(context.Background(), "tiny", tinyIn)
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("third caller: got %v, want ErrBusy", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("ErrBusy took %v; want an immediate answer", d)
	}
	giveBack()
	wg.Wait()
	close(results)
	for err := range results {
		if err != nil {
			t.Errorf("queued caller: %v", err)
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if !slices.Contains(rec.depths, 2) || rec.depths[len(rec.depths)-1] != 0 {
		t.Errorf("queue depths reported: %v; want a 2 and a final 0", rec.depths)
	}
	if !slices.Contains(rec.statuses, "rejected") {
		t.Errorf("statuses reported: %v; want a rejected", rec.statuses)
	}
}

func TestDeadlineWhileQueued(t *testing.T) {
	e, m := loadedTiny(t, Options{PoolSize: 1, Timeout: 50 * time.Millisecond})
	defer takeAll(e, m)()

	start := time.Now()
	_, err := e.Predict(context.Background(), "tiny", tinyIn)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("got %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d < 50*time.Millisecond || d > 2*time.Second {
		t.Errorf("timed out after %v; want about 50ms", d)
	}

	// The caller's own deadline counts too, and cancellation is not a timeout.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Predict(ctx, "tiny", tinyIn); !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) {
		t.Errorf("cancelled caller: got %v, want context.Canceled", err)
	}
	if n := m.queued(); n != 0 {
		t.Errorf("%d callers still counted as waiting", n)
	}
}

// TestPanicInRunIsRecovered breaks an instance so that onnx-go panics in
// Run: the caller gets ErrFailed, the process lives, and the pool is
// rebuilt to full size.
func TestPanicInRunIsRecovered(t *testing.T) {
	e, m := loadedTiny(t, Options{PoolSize: 1, Timeout: 5 * time.Second, Backend: BackendGorgonnx})
	inst := <-m.free
	inst.gorgo.backend = &gorgonnx.Graph{} // an empty graph: Run dereferences nil
	m.free <- inst

	_, err := e.Predict(context.Background(), "tiny", tinyIn)
	if !errors.Is(err, ErrFailed) {
		t.Fatalf("got %v, want ErrFailed", err)
	}
	if strings.Contains(err.Error(), "goroutine") {
		t.Errorf("the error shows a stack trace to the caller: %q", err)
	}
	// The rebuilt instance answers correctly.
	out, err := e.Predict(context.Background(), "tiny", tinyIn)
	if err != nil || !slices.Equal(out.Tensors[0].Data, onnxtest.TinyWant) {
		t.Fatalf("after the rebuild: got %+v, %v; want %v", out, err, onnxtest.TinyWant)
	}
	if got := m.live.Load(); got != 1 {
		t.Errorf("live instances: got %d, want 1", got)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

// The tests below check the claims about onnx-go that the pre-parse acts
// on, by running onnx-go directly on models Check refuses.

// runRaw decodes b with onnx-go, bypassing Check, and runs it n times on
// input x, returning each run's first output.
func runRaw(t *testing.T, b []byte, x []float32, shape []int, n int) [][]float32 {
	t.Helper()
	backend := gorgonnx.NewGraph()
	m := onnx.NewModel(backend)
	if err := m.UnmarshalBinary(b); err != nil {
		t.Fatalf("onnx-go decode: %v", err)
	}
	var outs [][]float32
	for range n {
		if err := m.SetInput(0, tensor.New(tensor.WithShape(shape...), tensor.WithBacking(slices.Clone(x)))); err != nil {
			t.Fatal(err)
		}
		if err := backend.Run(); err != nil {
			t.Fatalf("onnx-go run: %v", err)
		}
		o, err := m.GetOutputTensors()
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, slices.Clone(o[0].Data().([]float32)))
	}
	return outs
}

func TestOnnxGoGemmCorruptsBiasAtBatch1(t *testing.T) {
	m := onnxtest.Tiny()
	m.Graph.Inputs[0].Dims = []int64{1, 4}
	m.Graph.Initializers[1] = onnxtest.FloatTensor("b", []int64{3}, []float32{0.5, 1, 0})
	m.Graph.Nodes = []onnxtest.Node{{Op: "Gemm", In: []string{"x", "W", "b"}, Out: []string{"y"}}}
	outs := runRaw(t, m.Marshal(), onnxtest.TinyInput, []int{1, 4}, 3)
	want := []float32{-4.5, 3, 8.5} // x·W + b
	if !slices.Equal(outs[0], want) {
		t.Errorf("first run: got %v, want %v", outs[0], want)
	}
	if slices.Equal(outs[1], outs[0]) && slices.Equal(outs[2], outs[0]) {
		t.Errorf("Gemm gave %v three times; onnx-go appears fixed, so Check may accept Gemm again", outs[0])
	} else {
		t.Logf("Gemm over three runs: %v (the bias accumulates)", outs)
	}
}

// TestOnnxGoIgnoresConvGroup: gorgonnx never reads group, so it treats the
// [C_out, C_in/group, k, k] weights of a grouped Conv as an ungrouped
// kernel, which cannot match the input's C_in channels.
func TestOnnxGoIgnoresConvGroup(t *testing.T) {
	// Two channels, group 2, 1×1 kernels: channel c is scaled by w[c].
	m := onnxtest.Model{Graph: onnxtest.Graph{
		Nodes: []onnxtest.Node{{Op: "Conv", In: []string{"x", "w"}, Out: []string{"y"}, Attrs: []onnxtest.Attr{
			onnxtest.Ints("kernel_shape", 1, 1), onnxtest.Int("group", 2),
		}}},
		Initializers: []onnxtest.Tensor{onnxtest.FloatTensor("w", []int64{2, 1, 1, 1}, []float32{2, 3})},
		Inputs:       []onnxtest.Value{onnxtest.FloatValue("x", 1, 2, 1, 1)},
		Outputs:      []onnxtest.Value{onnxtest.FloatValue("y", 1, 2, 1, 1)},
	}}
	want := []float32{2 * 5, 3 * 7}
	backend := gorgonnx.NewGraph()
	om := onnx.NewModel(backend)
	if err := om.UnmarshalBinary(m.Marshal()); err != nil {
		t.Fatal(err)
	}
	err := func() (err error) {
		defer guard(&err)
		if err := om.SetInput(0, tensor.New(tensor.WithShape(1, 2, 1, 1), tensor.WithBacking([]float32{5, 7}))); err != nil {
			return err
		}
		if err := backend.Run(); err != nil {
			return err
		}
		out, _ := om.GetOutputTensors()
		t.Logf("grouped Conv: got %v, want %v", out[0].Data(), want)
		return nil
	}()
	if err == nil {
		t.Fatal("grouped Conv ran without error; see the log for whether its result was right")
	}
	t.Logf("grouped Conv fails in onnx-go: %v", firstLine(err.Error()))
}

// TestOnnxGoAllocatesDeclaredInputShape shows why input shapes are capped
// before decoding: onnx-go allocates a graph input's declared shape when it
// decodes the file, before any run.
func TestOnnxGoAllocatesDeclaredInputShape(t *testing.T) {
	m := onnxtest.Tiny()
	m.Graph.Inputs[0].Dims = []int64{1, 4, 2048, 2048} // 16 Mi floats, 64 MiB
	b := m.Marshal()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	om := onnx.NewModel(gorgonnx.NewGraph())
	_ = om.UnmarshalBinary(b)
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(om)
	if grew := after.TotalAlloc - before.TotalAlloc; grew < 64<<20 {
		t.Errorf("decoding allocated %d MiB; want at least 64 (the declared input)", grew>>20)
	} else {
		t.Logf("decoding a %d-byte file allocated %d MiB", len(b), grew>>20)
	}
}

// TestOnnxGoPanicsOnMalformedGraph shows a file that decodes but panics
// onnx-go at its first run (the pre-parse refuses it: MaxPool pads must
// have 4 values), and checks that guard turns the panic into an error.
func TestOnnxGoPanicsOnMalformedGraph(t *testing.T) {
	m := onnxtest.Tiny()
	// gorgonnx copies pads into a 4-element array without checking.
	m.Graph.Nodes[2] = onnxtest.Node{Op: "MaxPool", In: []string{"z"}, Out: []string{"y"}, Attrs: []onnxtest.Attr{
		onnxtest.Ints("kernel_shape", 1, 1), onnxtest.Ints("pads", 0, 0, 0, 0, 0, 0),
	}}
	err := func() (err error) {
		defer guard(&err)
		inst, err := newGorgonnx(m.Marshal(), []TensorSpec{{Name: "x", DType: "FLOAT", Shape: []int{1, 4}}})
		if err != nil {
			return err
		}
		_, err = inst.run(context.Background(), [][]int{{1, 4}}, [][]float32{onnxtest.TinyInput})
		return err
	}()
	if !errors.Is(err, errPanic) {
		t.Errorf("got %v, want a recovered panic", err)
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// queued counts the requests waiting for an instance.
func (m *model) queued() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.pending)
}

// TestQueuedRequestsRunAsOneBatch holds the only instance while requests of
// different batch sizes queue, then releases it: they run as one merged
// batch, and each caller gets exactly its own rows.
func TestQueuedRequestsRunAsOneBatch(t *testing.T) {
	rec := &depthRecorder{}
	e, m := loadedTiny(t, Options{PoolSize: 1, Timeout: 5 * time.Second, Metrics: rec})
	if !m.info.Batch {
		t.Fatal("tiny is not served with batching")
	}
	// The reference: each input alone.
	inputs := make([][]float32, 5)
	want := make([][]float32, 5)
	for i := range inputs {
		rows := i%2 + 1
		inputs[i] = make([]float32, rows*4)
		for j := range inputs[i] {
			inputs[i][j] = float32(i*10+j) / 7
		}
		out, err := e.Predict(context.Background(), "tiny", []Tensor{{Name: "x", Shape: []int{rows, 4}, Data: inputs[i]}})
		if err != nil {
			t.Fatal(err)
		}
		want[i] = out.Tensors[0].Data
	}
	rec.mu.Lock()
	rec.batches = nil
	rec.mu.Unlock()

	giveBack := takeAll(e, m)
	got := make([][]float32, 5)
	var wg sync.WaitGroup
	for i := range inputs {
		wg.Go(func() {
			rows := len(inputs[i]) / 4
			out, err := e.Predict(context.Background(), "tiny", []Tensor{{Name: "x", Shape: []int{rows, 4}, Data: inputs[i]}})
			if err != nil {
				t.Error(err)
				return
			}
			if !slices.Equal(out.Tensors[0].Shape, []int{rows, 3}) {
				t.Errorf("request %d: output shape %v", i, out.Tensors[0].Shape)
			}
			got[i] = out.Tensors[0].Data
		})
	}
	waitFor(t, func() bool { return m.queued() == 5 })
	giveBack()
	wg.Wait()
	for i := range want {
		// The kernels may sum a row in another order inside a bigger batch.
		if len(got[i]) != len(want[i]) {
			t.Fatalf("request %d: got %v, want %v", i, got[i], want[i])
		}
		for j := range want[i] {
			if d := math.Abs(float64(got[i][j] - want[i][j])); d > 1e-5*(1+math.Abs(float64(want[i][j]))) {
				t.Errorf("request %d: got %v, want %v", i, got[i], want[i])
				break
			}
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if !slices.Equal(rec.batches, []int{5}) {
		t.Errorf("runs served %v requests; want one run of all 5", rec.batches)
	}
}

// TestFixedBatchGraphRunsOneByOne queues requests for a model whose Reshape
// fixes the batch at 1: its batch limit is 1 (batch 2 cannot be laid out),
// so a batch of 2 is refused up front, and every other request is still
// answered, one run each.
func TestFixedBatchGraphRunsOneByOne(t *testing.T) {
	m := onnxtest.Tiny()
	m.Graph.Initializers = append(m.Graph.Initializers, onnxtest.Tensor{Name: "shape", Dims: []int64{2}, Int64s: []int64{1, 3}})
	m.Graph.Nodes = append(m.Graph.Nodes, onnxtest.Node{Op: "Reshape", In: []string{"y", "shape"}, Out: []string{"r"}})
	m.Graph.Outputs[0].Name = "r"
	e := New(Options{PoolSize: 1, Timeout: 5 * time.Second})
	t.Cleanup(e.Close)
	if err := e.Load(context.Background(), "fixed", "1", m.Marshal(), Meta{}); err != nil {
		t.Fatal(err)
	}
	model := e.lookup("fixed")
	in := []Tensor{{Name: "x", Shape: []int{1, 4}, Data: onnxtest.TinyInput}}
	ref, err := e.Predict(context.Background(), "fixed", in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Predict(context.Background(), "fixed", []Tensor{{Name: "x", Shape: []int{2, 4}, Data: make([]float32, 8)}}); !errors.Is(err, ErrBadInput) {
		t.Errorf("a batch of 2 through a Reshape to [1,3]: got %v, want ErrBadInput", err)
	}
	if model.info.MaxBatch != 1 {
		t.Errorf("MaxBatch = %d; want 1 for a graph that fixes its batch", model.info.MaxBatch)
	}
	giveBack := takeAll(e, model)
	var wg sync.WaitGroup
	// Sent in this order: good, bad (a batch of 2), good, good. The bad
	// one fails alone without queueing; those after it get their answers.
	queued := 0
	for i := range 4 {
		wg.Go(func() {
			if i == 1 {
				_, err := e.Predict(context.Background(), "fixed", []Tensor{{Name: "x", Shape: []int{2, 4}, Data: make([]float32, 8)}})
				if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "the limit is 1") {
					t.Errorf("batch of 2 among queued requests: got %v, want ErrBadInput naming the limit 1", err)
				}
				return
			}
			out, err := e.Predict(context.Background(), "fixed", in)
			if err != nil || !slices.Equal(out.Tensors[0].Data, ref.Tensors[0].Data) {
				t.Errorf("request %d: got %v, %v; want %v", i, out, err, ref.Tensors[0].Data)
			}
		})
		if i != 1 {
			queued++
			waitFor(t, func() bool { return model.queued() == queued })
		}
	}
	giveBack()
	wg.Wait()
}

// TestBatchBoundedByLimits gives the engine a small memory limit: the
// model's batch limit shrinks so that no batch needs more than one
// prediction may, and a batch over it is refused before it runs.
func TestBatchBoundedByLimits(t *testing.T) {
	e, m := loadedTiny(t, Options{PoolSize: 1, Limits: onnxcheck.Limits{MaxTotalElements: 200}})
	per, err := m.plan.ArenaSize([][]int{{1, 4}})
	if err != nil {
		t.Fatal(err)
	}
	want := 200 / per
	if m.info.MaxBatch != want || want < 2 || want >= 64 {
		t.Fatalf("MaxBatch = %d; want 200/%d = %d, between 2 and 63", m.info.MaxBatch, per, want)
	}
	ok := make([]float32, want*4)
	if _, err := e.Predict(context.Background(), "tiny", []Tensor{{Name: "x", Shape: []int{want, 4}, Data: ok}}); err != nil {
		t.Errorf("a batch of %d: %v", want, err)
	}
	over := make([]float32, (want+1)*4)
	_, err = e.Predict(context.Background(), "tiny", []Tensor{{Name: "x", Shape: []int{want + 1, 4}, Data: over}})
	if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), fmt.Sprintf("the limit is %d", want)) {
		t.Errorf("a batch of %d: got %v, want ErrBadInput naming the limit %d", want+1, err, want)
	}
}

// countdownCtx is a context that reports cancellation after its Err has
// been asked n times: it cancels a run between two of its steps.
type countdownCtx struct {
	context.Context
	n atomic.Int32
}

func (c *countdownCtx) Err() error {
	if c.n.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

// TestCancelledMidRun cancels a prediction between the plan's steps: the
// caller gets context.Canceled at once, and the instance, which stopped
// cleanly, serves the next request correctly.
func TestCancelledMidRun(t *testing.T) {
	e := New(Options{PoolSize: 1, Timeout: 5 * time.Second})
	t.Cleanup(e.Close)
	if err := e.Load(context.Background(), "cnn", "1", onnxtest.CNN(4, 8, 16, 3), Meta{}); err != nil {
		t.Fatal(err)
	}
	in := []Tensor{{Name: "input", Shape: []int{8, 1, 28, 28}, Data: make([]float32, 8*784)}}
	for i := range in[0].Data {
		in[0].Data[i] = float32(i%97) / 97
	}
	want, err := e.Predict(context.Background(), "cnn", in)
	if err != nil {
		t.Fatal(err)
	}
	ctx := &countdownCtx{Context: context.Background()}
	ctx.n.Store(3) // the engine's own check, then two steps
	if _, err := e.Predict(ctx, "cnn", in); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	got, err := e.Predict(context.Background(), "cnn", in)
	if err != nil || !slices.Equal(got.Tensors[0].Data, want.Tensors[0].Data) {
		t.Fatalf("after the cancelled run: got %v, %v", got.Tensors, err)
	}
	if n := e.lookup("cnn").live.Load(); n != 1 {
		t.Errorf("%d live instances, want the same 1", n)
	}
}
