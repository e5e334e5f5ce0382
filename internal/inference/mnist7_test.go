package inference_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/taskmind/taskmind/internal/inference"
	"github.com/taskmind/taskmind/internal/inference/internal/onnxtest"
	"github.com/taskmind/taskmind/internal/metrics"
)

// mnist7Input is mnist-7's input name; it takes raw 0-255 pixel values.
const mnist7Input = "Input3"

func newEngine(t testing.TB, opts inference.Options) *inference.Engine {
	t.Helper()
	e := inference.New(opts)
	t.Cleanup(e.Close)
	return e
}

func load(t testing.TB, e *inference.Engine, name, version string, b []byte) {
	t.Helper()
	if err := e.Load(context.Background(), name, version, b, inference.Meta{}); err != nil {
		t.Fatalf("Load(%s): %v", name, err)
	}
}

func digitInput(d onnxtest.Digit, name string, scale float32) []inference.Tensor {
	return []inference.Tensor{{Name: name, Shape: []int{1, 1, 28, 28}, Data: d.Floats(scale)}}
}

func argmax(v []float32) int {
	best := 0
	for i := range v {
		if v[i] > v[best] {
			best = i
		}
	}
	return best
}

// TestOnnxGoRunsOnThisGo guards the go4.org/unsafe/assume-no-moving-gc pin:
// older versions of that module panic at start-up on Go 1.26, which only a
// binary that runs a model notices.
func TestOnnxGoRunsOnThisGo(t *testing.T) {
	const pin = "v0.0.0-20231121144256-b99613f794b6"
	info, ok := debug.ReadBuildInfo()
	if !ok {
		t.Fatal("no build info")
	}
	for _, dep := range info.Deps {
		if dep.Path == "go4.org/unsafe/assume-no-moving-gc" && dep.Version != pin {
			t.Errorf("go4.org/unsafe/assume-no-moving-gc is %s; want %s (older versions panic on Go 1.26)", dep.Version, pin)
		}
	}
	e := newEngine(t, inference.Options{PoolSize: 1})
	load(t, e, "tiny", "1", onnxtest.Tiny().Marshal())
	out, err := e.Predict(context.Background(), "tiny", []inference.Tensor{{Name: "x", Shape: []int{1, 4}, Data: onnxtest.TinyInput}})
	if err != nil {
		t.Fatalf("Predict: %v", err)
	}
	got := out.Tensors[0]
	if got.Name != "y" || !slices.Equal(got.Shape, []int{1, 3}) || !slices.Equal(got.Data, onnxtest.TinyWant) {
		t.Errorf("got %+v, want y [1 3] %v", got, onnxtest.TinyWant)
	}
	if out.Model != "tiny" || out.Version != "1" {
		t.Errorf("got model %q version %q, want tiny 1", out.Model, out.Version)
	}
}

func TestMNIST7Info(t *testing.T) {
	e := newEngine(t, inference.Options{PoolSize: 2})
	load(t, e, "mnist7", "7", onnxtest.MNIST7(t))
	if !e.Ready("mnist7") {
		t.Fatal("Ready(mnist7) = false after Load")
	}
	if e.Ready("other") {
		t.Error("Ready(other) = true for a model never loaded")
	}
	models := e.Models()
	if len(models) != 1 {
		t.Fatalf("Models() has %d entries, want 1", len(models))
	}
	m := models[0]
	if m.Name != "mnist7" || m.Version != "7" || m.Status != inference.StatusReady || m.Backend != inference.BackendCompiled {
		t.Errorf("got %s %s %s on %s, want mnist7 7 READY on compiled", m.Name, m.Version, m.Status, m.Backend)
	}
	if len(m.Inputs) != 1 || m.Inputs[0].Name != mnist7Input || !slices.Equal(m.Inputs[0].Shape, []int{1, 1, 28, 28}) || m.Inputs[0].DType != "FLOAT" {
		t.Errorf("inputs: got %+v, want Input3 FLOAT [1 1 28 28]", m.Inputs)
	}
	if len(m.Outputs) != 1 || m.Outputs[0].Name != "Plus214_Output_0" || !slices.Equal(m.Outputs[0].Shape, []int{1, 10}) {
		t.Errorf("outputs: got %+v, want Plus214_Output_0 [1 10]", m.Outputs)
	}
}

// TestMNIST7MatchesZooOutputs compares the engine with the outputs the ONNX
// Model Zoo recorded (with ONNX Runtime) for mnist-7's test data sets.
func TestMNIST7MatchesZooOutputs(t *testing.T) {
	e := newEngine(t, inference.Options{PoolSize: 1})
	load(t, e, "mnist7", "7", onnxtest.MNIST7(t))
	for _, c := range onnxtest.MNIST7Cases(t) {
		t.Run(c.Name, func(t *testing.T) {
			out, err := e.Predict(context.Background(), "mnist7", []inference.Tensor{{Name: mnist7Input, Shape: c.InShape, Data: c.Input}})
			if err != nil {
				t.Fatalf("Predict: %v", err)
			}
			got := out.Tensors[0]
			if !slices.Equal(got.Shape, c.OutShape) {
				t.Fatalf("shape: got %v, want %v", got.Shape, c.OutShape)
			}
			for i, want := range c.Output {
				// The scores reach ~1e3; allow float32 summation-order
				// differences relative to their size.
				if d := math.Abs(float64(got.Data[i] - want)); d > 1e-4*math.Max(1, math.Abs(float64(want))) {
					t.Errorf("output[%d]: got %v, want %v (diff %g)", i, got.Data[i], want, d)
				}
			}
		})
	}
}

// TestMNIST7Accuracy runs the whole MNIST test set through the engine.
// mnist-7 takes raw pixel values 0-255 (its zoo test data are such values);
// the Model Zoo reports 98.9% for it.
func TestMNIST7Accuracy(t *testing.T) {
	digits, floor := onnxtest.MNISTTest(t), 0.985
	if testing.Short() {
		// A sanity check only: the floor holds for the whole set.
		digits, floor = digits[:500], 0.98
	}
	e := newEngine(t, inference.Options{})
	load(t, e, "mnist7", "7", onnxtest.MNIST7(t))
	correct := predictAll(t, e, "mnist7", mnist7Input, 1, digits)
	acc := float64(correct) / float64(len(digits))
	t.Logf("mnist-7 accuracy on %d test digits: %.2f%%", len(digits), 100*acc)
	if acc < floor {
		t.Errorf("accuracy on %d digits: got %.4f, want >= %.3f", len(digits), acc, floor)
	}
}

// predictAll classifies digits with 4 concurrent callers and counts the
// correct answers.
func predictAll(t *testing.T, e *inference.Engine, model, input string, scale float32, digits []onnxtest.Digit) int {
	t.Helper()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		correct int
		errs    []error
	)
	const workers = 4
	for w := range workers {
		wg.Go(func() {
			n := 0
			for i := w; i < len(digits); i += workers {
				out, err := e.Predict(context.Background(), model, digitInput(digits[i], input, scale))
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				if argmax(out.Tensors[0].Data) == digits[i].Label {
					n++
				}
			}
			mu.Lock()
			correct += n
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("Predict: %v", errs[0])
	}
	return correct
}

func TestSameInputTwiceGivesIdenticalOutputs(t *testing.T) {
	e := newEngine(t, inference.Options{PoolSize: 1})
	load(t, e, "mnist7", "7", onnxtest.MNIST7(t))
	digits := onnxtest.MNISTTest(t)
	first, err := e.Predict(context.Background(), "mnist7", digitInput(digits[0], mnist7Input, 1))
	if err != nil {
		t.Fatal(err)
	}
	// Another input in between must leave no trace.
	if _, err := e.Predict(context.Background(), "mnist7", digitInput(digits[1], mnist7Input, 1)); err != nil {
		t.Fatal(err)
	}
	second, err := e.Predict(context.Background(), "mnist7", digitInput(digits[0], mnist7Input, 1))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(first.Tensors[0].Data, second.Tensors[0].Data) {
		t.Errorf("same input, different outputs:\nfirst  %v\nsecond %v", first.Tensors[0].Data, second.Tensors[0].Data)
	}
}

// TestConcurrentPredictionsMatchSequential runs 8 callers over a pool of 3
// (run it with -race): every result must equal the one computed alone.
func TestConcurrentPredictionsMatchSequential(t *testing.T) {
	digits := onnxtest.MNISTTest(t)[:48]
	e := newEngine(t, inference.Options{PoolSize: 3, QueueSize: 16})
	load(t, e, "mnist7", "7", onnxtest.MNIST7(t))
	want := make([][]float32, len(digits))
	for i, d := range digits {
		out, err := e.Predict(context.Background(), "mnist7", digitInput(d, mnist7Input, 1))
		if err != nil {
			t.Fatal(err)
		}
		want[i] = out.Tensors[0].Data
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8*len(digits))
	for w := range 8 {
		wg.Go(func() {
			for k := range digits {
				i := (k + 5*w) % len(digits)
				out, err := e.Predict(context.Background(), "mnist7", digitInput(digits[i], mnist7Input, 1))
				if err != nil {
					errs <- err
					return
				}
				if !slices.Equal(out.Tensors[0].Data, want[i]) {
					errs <- fmt.Errorf("digit %d: concurrent result differs from the sequential one", i)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestPredictRefusesBadInput(t *testing.T) {
	e := newEngine(t, inference.Options{PoolSize: 1})
	load(t, e, "tiny", "1", onnxtest.Tiny().Marshal())
	x := func(shape []int, data []float32) inference.Tensor {
		return inference.Tensor{Name: "x", Shape: shape, Data: data}
	}
	tests := []struct {
		name   string
		inputs []inference.Tensor
		want   string
	}{
		{"no inputs", nil, `model "tiny" takes 1 inputs ("x" [1 4]), got 0`},
		{"two inputs", []inference.Tensor{x([]int{1, 4}, onnxtest.TinyInput), x([]int{1, 4}, onnxtest.TinyInput)}, "takes 1 inputs"},
		{"wrong name", []inference.Tensor{{Name: "img", Shape: []int{1, 4}, Data: onnxtest.TinyInput}}, `model "tiny" has no input "img"`},
		{"wrong item shape", []inference.Tensor{x([]int{2, 5}, make([]float32, 10))}, `input "x" has shape [2 5]; the model takes [N 4], with any batch size first`},
		{"batch over the limit", []inference.Tensor{x([]int{65, 4}, make([]float32, 65*4))}, `input "x" has a batch of 65; the limit is 64`},
		{"missing batch dimension", []inference.Tensor{x([]int{4}, onnxtest.TinyInput)}, "has shape [4]; the model takes [N 4]"},
		{"data shorter than shape", []inference.Tensor{x([]int{1, 4}, []float32{1, 2})}, `input "x" has 2 values; shape [1 4] needs 4`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.Predict(context.Background(), "tiny", tc.inputs)
			if !errors.Is(err, inference.ErrBadInput) {
				t.Fatalf("got error %v, want ErrBadInput", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got error %q, want it to contain %q", err, tc.want)
			}
		})
	}
	// An unnamed tensor is the only input's.
	if _, err := e.Predict(context.Background(), "tiny", []inference.Tensor{{Shape: []int{1, 4}, Data: onnxtest.TinyInput}}); err != nil {
		t.Errorf("unnamed input to a one-input model: got %v, want success", err)
	}
	if _, err := e.Predict(context.Background(), "nope", nil); !errors.Is(err, inference.ErrNotFound) {
		t.Errorf("unknown model: got %v, want ErrNotFound", err)
	}
}

func TestLoadRefusesHostileModels(t *testing.T) {
	e := newEngine(t, inference.Options{PoolSize: 1})
	load(t, e, "tiny", "1", onnxtest.Tiny().Marshal())
	mnist7 := onnxtest.MNIST7(t)
	tests := []struct {
		name  string
		model []byte
		want  string
	}{
		{"truncated", mnist7[:len(mnist7)-100], "truncated or malformed"},
		{"garbage", []byte{0xff, 0xff, 0xff, 0xff, 0xff}, "not a valid ONNX model"},
		{"huge input", func() []byte {
			m := onnxtest.Tiny()
			m.Graph.Inputs[0].Dims = []int64{1, 1 << 31}
			return m.Marshal()
		}(), "input 'x' declares 2147483648 elements"},
		{"unsupported operator", func() []byte {
			m := onnxtest.Tiny()
			m.Graph.Nodes[2].Op = "LSTM"
			return m.Marshal()
		}(), "operator LSTM is not supported"},
		{"shapes that do not multiply", func() []byte {
			m := onnxtest.Tiny()
			m.Graph.Initializers[0] = onnxtest.FloatTensor("W", []int64{3, 3}, make([]float32, 9))
			return m.Marshal()
		}(), "MatMul of [1,4] and [3,3]: inner dimensions 4 and 3 differ"},
		// An outer product: a 1 KiB file whose one MatMul would allocate
		// 2^40 floats in onnx-go.
		{"outer product bomb", func() []byte {
			m := onnxtest.Tiny()
			m.Graph.Inputs[0].Dims = []int64{1 << 20, 1}
			m.Graph.Initializers = []onnxtest.Tensor{{Name: "W", Dims: []int64{1, 1 << 20}, Raw: make([]byte, 4<<20)}}
			m.Graph.Nodes = m.Graph.Nodes[:1]
			m.Graph.Nodes[0].Out[0] = "y"
			m.Graph.Outputs[0].Dims = nil
			return m.Marshal()
		}(), "computes a value of shape [1048576,1048576]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := e.Load(context.Background(), "hostile", "1", tc.model, inference.Meta{})
			if !errors.Is(err, inference.ErrInvalidModel) {
				t.Fatalf("got error %v, want ErrInvalidModel", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got error %q, want it to contain %q", err, tc.want)
			}
			if e.Ready("hostile") {
				t.Error("a refused model is ready")
			}
		})
	}
	// The engine still serves what it served.
	if _, err := e.Predict(context.Background(), "tiny", []inference.Tensor{{Name: "x", Shape: []int{1, 4}, Data: onnxtest.TinyInput}}); err != nil {
		t.Errorf("Predict(tiny) after refusals: %v", err)
	}
}

func TestLoadChecksLabels(t *testing.T) {
	e := newEngine(t, inference.Options{PoolSize: 1})
	err := e.Load(context.Background(), "tiny", "1", onnxtest.Tiny().Marshal(), inference.Meta{Labels: []string{"a", "b"}})
	if !errors.Is(err, inference.ErrInvalidModel) || !strings.Contains(err.Error(), `2 labels were given, but output "y" has shape [1 3]`) {
		t.Errorf("got %v, want ErrInvalidModel about 2 labels for shape [1 3]", err)
	}
	if err := e.Load(context.Background(), "tiny", "1", onnxtest.Tiny().Marshal(), inference.Meta{Labels: []string{"a", "b", "c"}}); err != nil {
		t.Errorf("3 labels for [1 3]: %v", err)
	}
}

// TestReplaceKeepsServing reloads a model under the same name while
// callers keep predicting: every call succeeds, with the old or the new
// version, and the new one serves once Load returns.
func TestReplaceKeepsServing(t *testing.T) {
	e := newEngine(t, inference.Options{PoolSize: 2})
	load(t, e, "m", "1", onnxtest.Tiny().Marshal())
	v2 := onnxtest.Tiny()
	v2.Graph.Initializers[1].Floats = []float32{10, 10, 10} // b
	in := []inference.Tensor{{Name: "x", Shape: []int{1, 4}, Data: onnxtest.TinyInput}}
	want := map[string][]float32{"1": onnxtest.TinyWant, "2": {5, 12, 18.5}}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			out, err := e.Predict(context.Background(), "m", in)
			if err == nil && !slices.Equal(out.Tensors[0].Data, want[out.Version]) {
				err = errors.New("version " + out.Version + " gave the wrong output")
			}
			if err != nil {
				errs <- err
				return
			}
		}
	})
	load(t, e, "m", "2", v2.Marshal())
	out, err := e.Predict(context.Background(), "m", in)
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("during reload: %v", err)
	}
	if err != nil || out.Version != "2" || !slices.Equal(out.Tensors[0].Data, want["2"]) {
		t.Errorf("after reload: got %+v, %v; want version 2 output %v", out, err, want["2"])
	}
	if err := e.Unload("m"); err != nil {
		t.Fatalf("Unload: %v", err)
	}
	if _, err := e.Predict(context.Background(), "m", in); !errors.Is(err, inference.ErrNotFound) {
		t.Errorf("after Unload: got %v, want ErrNotFound", err)
	}
	if err := e.Unload("m"); !errors.Is(err, inference.ErrNotFound) {
		t.Errorf("second Unload: got %v, want ErrNotFound", err)
	}
}

// TestMetricsHook drives the real Prometheus metrics through the hook.
func TestMetricsHook(t *testing.T) {
	m := metrics.New(metrics.BuildInfo{})
	e := newEngine(t, inference.Options{PoolSize: 1, Metrics: m})
	load(t, e, "tiny", "1", onnxtest.Tiny().Marshal())
	in := []inference.Tensor{{Name: "x", Shape: []int{1, 4}, Data: onnxtest.TinyInput}}
	for range 3 {
		if _, err := e.Predict(context.Background(), "tiny", in); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.Predict(context.Background(), "tiny", nil); err == nil {
		t.Fatal("Predict with no inputs succeeded")
	}
	_, _ = e.Predict(context.Background(), "not-loaded", in)
	got := map[string]float64{}
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "taskmind_inference_requests_total" {
			continue
		}
		for _, s := range f.GetMetric() {
			key := ""
			for _, l := range s.GetLabel() {
				key += l.GetName() + "=" + l.GetValue() + " "
			}
			got[strings.TrimSpace(key)] = s.GetCounter().GetValue()
		}
	}
	// No series for the unknown model: its label would be caller input.
	want := map[string]float64{"model=tiny status=ok": 3, "model=tiny status=error": 1}
	if !maps.Equal(got, want) {
		t.Errorf("taskmind_inference_requests_total: got %v, want %v", got, want)
	}
}

// TestGorgonnxServesWhatTheCompiledBackendLacks loads a model with an
// operator only gorgonnx implements.
func TestGorgonnxServesWhatTheCompiledBackendLacks(t *testing.T) {
	m := onnxtest.Tiny()
	m.Graph.Nodes[2].Op = "Abs"
	e := newEngine(t, inference.Options{PoolSize: 1})
	load(t, e, "abs", "1", m.Marshal())
	info, err := e.Model("abs")
	if err != nil || info.Backend != inference.BackendGorgonnx || info.Batch {
		t.Fatalf("got %+v, %v; want the model served by gorgonnx at its declared batch", info, err)
	}
	out, err := e.Predict(context.Background(), "abs", []inference.Tensor{{Name: "x", Shape: []int{1, 4}, Data: onnxtest.TinyInput}})
	if err != nil {
		t.Fatal(err)
	}
	for i, z := range []float64{-4.5, 3, 8.5} {
		if got, want := float64(out.Tensors[0].Data[i]), math.Abs(z); math.Abs(got-want) > 1e-6 {
			t.Errorf("y[%d]: got %v, want abs(%v) = %v", i, got, z, want)
		}
	}
	_, err = e.Predict(context.Background(), "abs", []inference.Tensor{{Name: "x", Shape: []int{2, 4}, Data: make([]float32, 8)}})
	if !errors.Is(err, inference.ErrBadInput) || !strings.Contains(err.Error(), "the model takes [1 4]") {
		t.Errorf("a batch of 2 on gorgonnx: got %v, want ErrBadInput naming [1 4]", err)
	}
}

// TestGorgoniaPanicIsRecovered loads a file that passes the pre-parse and
// then panics gorgonia inside its op kernels (a negative Concat axis indexes
// a slice with -1). gorgonia's own VMs run ops in a goroutine of their own,
// where this panic would kill the process; the engine's synchronous VM
// recovers it. The compiled backend computes this model correctly, so the
// same file loads there.
func TestGorgoniaPanicIsRecovered(t *testing.T) {
	m := onnxtest.Tiny()
	m.Graph.Nodes[2] = onnxtest.Node{Op: "Concat", In: []string{"z", "b"}, Out: []string{"y"}, Attrs: []onnxtest.Attr{onnxtest.Int("axis", -1)}}
	m.Graph.Outputs[0].Dims = []int64{1, 6}
	gorgo := newEngine(t, inference.Options{PoolSize: 1, Backend: inference.BackendGorgonnx})
	err := gorgo.Load(context.Background(), "concat", "1", m.Marshal(), inference.Meta{})
	if !errors.Is(err, inference.ErrInvalidModel) || !strings.Contains(err.Error(), "onnx-go crashed on this model during the trial run") {
		t.Fatalf("gorgonnx: got %v, want a recovered crash", err)
	}
	compiled := newEngine(t, inference.Options{PoolSize: 1})
	load(t, compiled, "concat", "1", m.Marshal())
	out, err := compiled.Predict(context.Background(), "concat", []inference.Tensor{{Name: "x", Shape: []int{1, 4}, Data: onnxtest.TinyInput}})
	if err != nil || len(out.Tensors[0].Data) != 6 {
		t.Fatalf("compiled: got %+v, %v", out, err)
	}
}
