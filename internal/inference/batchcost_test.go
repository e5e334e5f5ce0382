package inference

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/taskmind/taskmind/internal/inference/internal/onnxtest"
	"github.com/taskmind/taskmind/internal/inference/onnxcheck"
)

// quadratic is a model whose buffers grow with the square of the batch: x
// [N,w] is flattened to a column of N·w and multiplied by its own
// transpose, giving an [N·w, N·w] output. At batch 1 it is small; scaling
// its batch-1 cost linearly underestimates batch N by a factor of N.
func quadratic(w int64) []byte {
	return onnxtest.Model{Graph: onnxtest.Graph{
		Nodes: []onnxtest.Node{
			{Name: "col", Op: "Reshape", In: []string{"x", "shape"}, Out: []string{"c"}},
			{Name: "row", Op: "Transpose", In: []string{"c"}, Out: []string{"r"}, Attrs: []onnxtest.Attr{onnxtest.Ints("perm", 1, 0)}},
			{Name: "outer", Op: "MatMul", In: []string{"c", "r"}, Out: []string{"y"}},
		},
		Initializers: []onnxtest.Tensor{{Name: "shape", Dims: []int64{2}, DataType: onnxtest.Int64, Int64s: []int64{-1, 1}}},
		Inputs:       []onnxtest.Value{{Name: "x", Elem: onnxtest.Float, Dims: []int64{-1, w}}},
		Outputs:      []onnxtest.Value{{Name: "y", Elem: onnxtest.Float, NoShape: true}},
	}}.Marshal()
}

func TestBatchLimitCountsTheBatchARequestSends(t *testing.T) {
	const width = 256
	lim := onnxcheck.Limits{MaxTotalElements: 1 << 20}
	e := New(Options{PoolSize: 1, Limits: lim})
	t.Cleanup(e.Close)
	if err := e.Load(context.Background(), "quad", "1", quadratic(width), Meta{}); err != nil {
		t.Fatalf("Load: %v", err)
	}
	m := e.lookup("quad")
	if m.plan == nil {
		t.Fatalf("the model is served by %s; the test needs the compiled backend", m.info.Backend)
	}
	batch := func(n int) []Tensor {
		return []Tensor{{Name: "x", Shape: []int{n, width}, Data: make([]float32, n*width)}}
	}
	limit := int(lim.MaxTotalElements)

	// maxBatch keeps one prediction within the limit, and is the largest
	// batch that does.
	maxBatch := m.info.MaxBatch
	t.Logf("maxBatch %d", maxBatch)
	if size, err := m.plan.ArenaSize([][]int{{maxBatch, width}}); err != nil || size > limit {
		t.Fatalf("maxBatch %d needs an arena of %d floats (err %v); the limit is %d", maxBatch, size, err, limit)
	}
	if size, err := m.plan.ArenaSize([][]int{{maxBatch + 1, width}}); err == nil && size <= limit && maxBatch < e.opts.MaxBatch {
		t.Errorf("maxBatch %d is not the largest: batch %d needs %d floats, within %d", maxBatch, maxBatch+1, size, limit)
	}

	// A batch over it is refused as bad input, with the reason.
	_, err := e.Predict(context.Background(), "quad", batch(maxBatch+1))
	if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "the limit is") {
		t.Fatalf("Predict(batch %d): got %v, want ErrBadInput with the limit", maxBatch+1, err)
	}

	// The largest allowed batch runs within the limit's memory.
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := e.Predict(context.Background(), "quad", batch(maxBatch)); err != nil {
		t.Fatalf("Predict(batch %d): %v", maxBatch, err)
	}
	runtime.ReadMemStats(&after)
	// The arena (4 bytes a float) and one copy of the output for the caller.
	if got, bound := after.TotalAlloc-before.TotalAlloc, uint64(2*4*limit+(1<<20)); got > bound {
		t.Errorf("a prediction at batch %d allocated %d MiB; want at most %d MiB", maxBatch, got>>20, bound>>20)
	}

	// Other batch sizes afterwards never leave the instance holding more
	// than one prediction's limit.
	for n := maxBatch - 1; n >= 1; n-- {
		if _, err := e.Predict(context.Background(), "quad", batch(n)); err != nil {
			t.Fatalf("Predict(batch %d): %v", n, err)
		}
	}
	inst := <-m.free
	kept := inst.plan.ArenaFloats()
	m.free <- inst
	if kept > limit {
		t.Errorf("the instance keeps %d floats of arenas; the limit is %d", kept, limit)
	}
}

// TestBatchLimitCountsWorkAtTheBatch bounds the multiply-adds instead of the
// memory: the outer product's work is (N·w)², so a limit of four batch-1
// predictions' work admits batch 2, not 4.
func TestBatchLimitCountsWorkAtTheBatch(t *testing.T) {
	const width = 64
	one := int64(width * width) // multiply-adds of the [w,1]·[1,w] product
	e := New(Options{PoolSize: 1, Limits: onnxcheck.Limits{MaxMultiplyAdds: 4 * one}})
	t.Cleanup(e.Close)
	if err := e.Load(context.Background(), "quad", "1", quadratic(width), Meta{}); err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got := e.lookup("quad").info.MaxBatch; got != 2 {
		t.Errorf("MaxBatch = %d; want 2 ((2·%d)² = 4·%d multiply-adds)", got, width, one)
	}
	_, err := e.Predict(context.Background(), "quad", []Tensor{{Name: "x", Shape: []int{3, width}, Data: make([]float32, 3*width)}})
	if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "the limit is 2") {
		t.Errorf("Predict(batch 3): got %v, want ErrBadInput naming the limit 2", err)
	}
}

// TestLoadRefusesStringsBombBeforeDecoding loads a model whose Relu carries
// a STRINGS attribute of 4M empty entries (8 MB of file; onnx-go's decoder
// spends ~650 MiB on it). The pre-parse refuses it, so onnx-go never runs:
// the whole load allocates a small fraction of what one decode would.
func TestLoadRefusesStringsBombBeforeDecoding(t *testing.T) {
	m := onnxtest.Tiny()
	m.Graph.Nodes[2].Attrs = []onnxtest.Attr{{Name: "names", Type: onnxtest.AttrStrings, Strings: make([]string, 4<<20)}}
	b := m.Marshal()
	e := New(Options{PoolSize: 1})
	t.Cleanup(e.Close)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err := e.Load(context.Background(), "bomb", "1", b, Meta{})
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrInvalidModel) || !strings.Contains(err.Error(), `attribute "names" has more than 64 values`) {
		t.Fatalf("Load: got %v, want ErrInvalidModel naming the attribute", err)
	}
	if got, bound := after.TotalAlloc-before.TotalAlloc, uint64(16<<20); got > bound {
		t.Errorf("the refused load allocated %d MiB; want at most %d MiB", got>>20, bound>>20)
	}
}

// TestBatchLimitAtDefaultLimits is the reported case at the shipped limits:
// with x [N,1024] the outer product holds (1024·N)² floats, 4 GiB at the
// batch 64 that batch-1 pricing gave it. Only the limit is checked here;
// running the largest batch is TestBatchLimitCountsTheBatchARequestSends's.
func TestBatchLimitAtDefaultLimits(t *testing.T) {
	e := New(Options{PoolSize: 1})
	t.Cleanup(e.Close)
	if err := e.Load(context.Background(), "quad", "1", quadratic(1024), Meta{}); err != nil {
		t.Fatalf("Load: %v", err)
	}
	m := e.lookup("quad")
	limit := int(onnxcheck.DefaultLimits().MaxTotalElements)
	size, err := m.plan.ArenaSize([][]int{{m.info.MaxBatch, 1024}})
	if err != nil || size > limit {
		t.Errorf("maxBatch %d needs %d floats (err %v); the limit is %d", m.info.MaxBatch, size, err, limit)
	}
	// The one-value cap binds first: (1024·5)² is within 32 Mi elements, (1024·6)² is not.
	if m.info.MaxBatch != 5 {
		t.Errorf("maxBatch = %d; want 5", m.info.MaxBatch)
	}
}
