// Package inference runs ONNX models for Taskmind with onnx-go, behind an API
// that hides it: callers load model bytes under a name and call Predict with
// named float32 tensors.
//
// onnx-go is neither safe for concurrent use nor safe on hostile input, so
// the engine
//   - vets every file with onnxcheck before onnx-go decodes it,
//   - keeps a pool of ready instances per model, each serving one request at a
//     time, with a bounded queue in front and a per-request deadline,
//   - runs every onnx-go call under recover, discarding and rebuilding an
//     instance that panicked,
//   - checks inputs against the model's declared names and shapes before
//     running, since onnx-go fixes the batch size at the first run,
//   - makes a trial run on every instance before a model is served, and runs
//     the same input twice to catch operators that corrupt their own state.
//
// onnx-go decodes every model; two onnx-go backends compute. gorgonnx,
// onnx-go's own, is the reference and runs any model the pre-parse admits.
// Package cpubackend compiles the operators of typical image classifiers
// into preallocated kernels, about four times faster on the built-in model;
// it serves a model only when it supports every operator and its trial
// outputs agree with gorgonnx's. A disagreement refuses the model.
package inference

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/taskmind/taskmind/internal/inference/cpubackend"
	"github.com/taskmind/taskmind/internal/inference/kernels"
	"github.com/taskmind/taskmind/internal/inference/onnxcheck"
)

// Errors returned by the engine; test with errors.Is. ErrBadInput and
// ErrInvalidModel are the caller's fault (BAD_USER_INPUT); ErrBusy and
// ErrTimeout mean the server is overloaded.
var (
	ErrNotFound     = errors.New("model not found")
	ErrBadInput     = errors.New("bad input")
	ErrInvalidModel = errors.New("invalid model")
	ErrBusy         = errors.New("inference queue is full")
	ErrTimeout      = errors.New("inference timed out")
	ErrFailed       = errors.New("inference failed")
	ErrClosed       = errors.New("inference engine is closed")
)

// Metrics receives the engine's measurements; *metrics.Metrics implements it.
type Metrics interface {
	// ObserveInference records one request: status is "ok", "error",
	// "timeout" or "rejected" (queue full).
	ObserveInference(model, status string, d time.Duration)
	// SetQueueDepth reports how many requests wait for an instance.
	SetQueueDepth(model string, n int)
	// ObserveBatch records how many requests one run served.
	ObserveBatch(model string, requests int)
}

// Options configure an Engine. Zero values mean the defaults.
type Options struct {
	// PoolSize is the number of instances per model, and so the number of
	// requests a model serves at once. Default runtime.GOMAXPROCS(0).
	PoolSize int
	// QueueSize is how many requests may wait for an instance of one model;
	// beyond it Predict fails at once with ErrBusy. Default 64.
	QueueSize int
	// Timeout bounds each request's wait for an instance, and each trial run
	// at load. A run, once started, completes: onnx-go cannot be interrupted,
	// and abandoning it would not give its core back. The trial run and the
	// pre-parse's work cap keep runs far shorter than this. Default 2s.
	Timeout time.Duration
	// MaxBatch bounds the batch a request may send, and the batch the
	// engine merges concurrent requests into. Default 64.
	MaxBatch int
	// Limits bound what a loaded model may declare.
	Limits onnxcheck.Limits
	// Backend forces a backend for every model: BackendGorgonnx serves
	// everything with onnx-go's own backend. The default serves each model
	// with the compiled backend when it supports the model and agrees with
	// gorgonnx on the trial input.
	Backend Backend
	// Kernels names the GEMM kernel set of the compiled backend: "" picks
	// the best the CPU has (or TASKMIND_INFERENCE_KERNELS), "avx512",
	// "avx2" or "generic" force one. Tests use it to compare the paths.
	Kernels string
	// Metrics, if set, receives request outcomes and queue depths.
	Metrics Metrics
	// Logger receives instance failures and rebuilds. Default: discard.
	Logger *slog.Logger
}

// TensorSpec describes a model input or output.
type TensorSpec = onnxcheck.TensorSpec

// Tensor is a named float32 tensor; Data holds the values in row-major order.
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
}

// Output is the result of one prediction, with the outputs in graph order.
type Output struct {
	Model, Version string
	Tensors        []Tensor
}

// Meta is what callers know about a model beyond its bytes.
type Meta struct {
	Description string
	// Labels name the classes of the first output's last dimension, if the
	// model is a classifier.
	Labels []string
}

// Status is a model's state in the engine.
type Status string

// Model states.
const (
	StatusLoading Status = "LOADING"
	StatusReady   Status = "READY"
)

// ModelInfo describes a model the engine serves or is loading.
type ModelInfo struct {
	Name, Version string
	Meta          Meta
	Inputs        []TensorSpec
	// Outputs have the shapes the trial run produced.
	Outputs    []TensorSpec
	Operators  []string
	Parameters int64
	// Backend is the onnx-go backend that computes the model, and Kernels
	// the kernel set of the compiled backend ("" for gorgonnx).
	Backend Backend
	Kernels string
	// Batch reports whether the model takes any batch size in the first
	// dimension of its inputs (the compiled backend), rather than only the
	// declared one, and MaxBatch the largest it takes (1 without Batch).
	Batch    bool
	MaxBatch int
	Status   Status
}

// Engine serves models. Its methods are safe for concurrent use.
type Engine struct {
	opts    Options
	log     *slog.Logger
	metrics Metrics

	loadMu sync.Mutex // serializes Load, so the last Load of a name wins

	mu      sync.RWMutex
	models  map[string]*model
	loading map[string]ModelInfo
	closed  bool
}

// New returns an engine with no models.
func New(opts Options) *Engine {
	if opts.PoolSize <= 0 {
		opts.PoolSize = runtime.GOMAXPROCS(0)
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 64
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Second
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 64
	}
	e := &Engine{
		opts:    opts,
		log:     opts.Logger,
		metrics: opts.Metrics,
		models:  map[string]*model{},
		loading: map[string]ModelInfo{},
	}
	if e.log == nil {
		e.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if e.metrics == nil {
		e.metrics = nopMetrics{}
	}
	return e
}

type nopMetrics struct{}

func (nopMetrics) ObserveInference(string, string, time.Duration) {}
func (nopMetrics) SetQueueDepth(string, int)                      {}
func (nopMetrics) ObserveBatch(string, int)                       {}

// model is one loaded version of a model with its pool of instances.
type model struct {
	info  ModelInfo
	bytes []byte
	opset int64
	// plan is the compiled model its instances share; nil when gorgonnx
	// serves it.
	plan *cpubackend.Plan
	// cost is the pre-parse's report, which prices a batch (CostAt).
	cost *onnxcheck.Report
	// gorgonnxErr says why gorgonnx cannot run the model (an operator or
	// form it lacks or computes wrongly); nil when it can.
	gorgonnxErr error
	// free holds the idle instances; its capacity is the pool size.
	free chan *instance
	// live counts the instances that exist, idle or busy; it drops when a
	// rebuild fails, and the model stops being ready at zero.
	live atomic.Int32

	// mu guards pending, the requests waiting for an instance. Whoever
	// releases an instance serves them first, merging compatible ones into
	// one batch, so batching costs no added latency: requests merge only
	// when they would have waited anyway.
	mu      sync.Mutex
	pending []*request
	// noMerge is set once a merged batch failed on shapes (a graph that
	// fixes its batch size); requests then run one by one.
	noMerge atomic.Bool
}

// Load vets b, builds and warms a pool of instances, and then serves it as
// name, replacing any model of that name only once the new one is ready. On
// error the engine is unchanged; a refusal of the file wraps
// ErrInvalidModel and says why.
func (e *Engine) Load(ctx context.Context, name, version string, b []byte, meta Meta) error {
	if name == "" {
		return fmt.Errorf("%w: a model needs a name", ErrInvalidModel)
	}
	rep, err := onnxcheck.Check(b, e.opts.Limits)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidModel, err)
	}
	b = slices.Clone(b) // rebuilds read it later; the caller keeps theirs

	e.loadMu.Lock()
	defer e.loadMu.Unlock()
	info := ModelInfo{
		Name: name, Version: version, Meta: meta,
		Inputs: rep.Inputs, Outputs: rep.Outputs,
		Operators: rep.Operators, Parameters: rep.Parameters,
		Status: StatusLoading,
	}
	if err := e.setLoading(info); err != nil {
		return err
	}
	defer e.clearLoading(name)

	m := &model{info: info, bytes: b, opset: rep.Opset, cost: rep, gorgonnxErr: rep.GorgonnxError(), free: make(chan *instance, e.opts.PoolSize)}
	first, outputs, err := e.trial(m)
	if err != nil {
		return err
	}
	m.info.Outputs = outputs
	if err := checkLabels(meta.Labels, outputs); err != nil {
		return err
	}
	m.free <- first
	m.live.Add(1)
	for m.live.Load() < int32(e.opts.PoolSize) {
		if err := ctx.Err(); err != nil {
			return err
		}
		inst, err := e.build(m)
		if err != nil {
			return e.refuse(m, "warm-up of another instance", err)
		}
		m.free <- inst
		m.live.Add(1)
	}
	m.info.Status = StatusReady

	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrClosed
	}
	e.models[name] = m
	// The queue-depth series exists from the moment the model serves, so a
	// dashboard shows 0 rather than nothing for an idle model.
	e.metrics.SetQueueDepth(name, 0)
	return nil
}

func (e *Engine) setLoading(info ModelInfo) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrClosed
	}
	e.loading[info.Name] = info
	return nil
}

func (e *Engine) clearLoading(name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.loading, name)
}

// trial builds the model's first instance and checks it on a deterministic
// input. The compiled backend serves the model if it can compile it;
// gorgonnx serves it otherwise. Where both can run it, gorgonnx's outputs are
// the reference the compiled plan must agree with, so an operator one of them
// computes wrongly is caught at upload rather than served. Finally the
// serving instance runs the same input again and must give bit-identical
// outputs: an operator that corrupts its own weights (as onnx-go's Gemm
// does) shows up as a change.
func (e *Engine) trial(m *model) (*instance, []TensorSpec, error) {
	data := trialInput(m.info.Inputs)
	shapes := declaredShapes(m.info.Inputs)
	var (
		ref     *instance
		want    []Tensor
		refErr  error
		inst    *instance
		first   []Tensor
		planErr error
	)
	if m.gorgonnxErr != nil {
		refErr = m.gorgonnxErr // not even as a reference: it would be wrong
	} else {
		ref, refErr = newGorgonnx(m.bytes, m.info.Inputs)
	}
	if refErr == nil {
		start := time.Now()
		want, refErr = ref.run(context.Background(), shapes, data)
		if refErr == nil {
			want = own(want)
			if d := time.Since(start); d > e.opts.Timeout && e.opts.Backend == BackendGorgonnx {
				return nil, nil, fmt.Errorf("%w: a trial run took %v; the limit is %v", ErrInvalidModel, d.Round(time.Millisecond), e.opts.Timeout)
			}
		}
	}
	if e.opts.Backend != BackendGorgonnx {
		set, err := e.KernelSet()
		if err != nil {
			return nil, nil, err
		}
		// An instance keeps earlier batch sizes' buffers only within what
		// one prediction may use, and never lays out a larger one.
		budget := e.opts.Limits.WithDefaults().MaxTotalElements
		m.plan, planErr = compile(m.bytes, m.info.Inputs, m.opset, set, int(budget))
		if planErr == nil {
			inst = &instance{plan: m.plan.NewInstance()}
			first, planErr = inst.run(context.Background(), shapes, data)
			if planErr != nil {
				e.log.Warn("the compiled backend failed a trial run", "model", m.info.Name, "version", m.info.Version, "err", planErr)
			}
		}
		if planErr != nil {
			m.plan, inst = nil, nil
		}
	}
	switch {
	case inst != nil:
		first = own(first)
		if want != nil {
			if err := agree(m.info.Outputs, first, want); err != nil {
				return nil, nil, err
			}
		}
		m.info.Backend, m.info.Kernels, m.info.Batch = BackendCompiled, m.plan.Kernels(), true
		m.info.MaxBatch = e.batchLimit(m)
	case refErr == nil:
		if planErr != nil {
			e.log.Info("serving the model with gorgonnx", "model", m.info.Name, "version", m.info.Version, "reason", planErr)
		}
		inst, first = ref, want
		m.info.Backend, m.info.MaxBatch = BackendGorgonnx, 1
	case m.gorgonnxErr != nil && planErr != nil:
		return nil, nil, fmt.Errorf("%w: the compiled backend cannot run this model (%v), and onnx-go's gorgonnx cannot either: %v", ErrInvalidModel, planErr, m.gorgonnxErr)
	case m.gorgonnxErr != nil:
		return nil, nil, fmt.Errorf("%w: %v", ErrInvalidModel, m.gorgonnxErr) // forced to gorgonnx
	case planErr != nil:
		return nil, nil, e.refuse(m, "compilation", planErr)
	default:
		return nil, nil, e.refuse(m, "trial run", refErr)
	}
	second, err := inst.run(context.Background(), shapes, data)
	if err != nil {
		return nil, nil, e.refuse(m, "second trial run", err)
	}
	outputs := make([]TensorSpec, len(first))
	for i, t := range first {
		spec := m.info.Outputs[i]
		if !slices.Equal(t.Data, second[i].Data) { // NaN != NaN: a NaN output fails too
			return nil, nil, fmt.Errorf("%w: output %q differs between two runs on the same input; the model uses an operator onnx-go computes wrongly", ErrInvalidModel, spec.Name)
		}
		if !compatible(spec.Shape, t.Shape) {
			return nil, nil, fmt.Errorf("%w: output %q has shape %v after a trial run, but the model declares %v", ErrInvalidModel, spec.Name, t.Shape, spec.Shape)
		}
		spec.Shape = t.Shape
		outputs[i] = spec
	}
	return inst, outputs, nil
}

// batchLimit is the largest batch a compiled model takes: MaxBatch, less
// where a batch would need more memory or work than the pre-parse allows
// one prediction (Limits.MaxTotalElements, Limits.MaxMultiplyAdds), so that
// a caller cannot multiply a large model's footprint by the batch size.
// Each batch is priced as sent, not as N times batch 1: buffers may grow
// faster than the batch. Batches are tried in order and the first that does
// not fit ends the search, so every batch up to the limit fits.
func (e *Engine) batchLimit(m *model) int {
	limit := 1
	for n := 2; n <= e.opts.MaxBatch && e.fits(m, n); n++ {
		limit = n
	}
	return limit
}

// fits says whether one prediction at batch n stays within the limits.
func (e *Engine) fits(m *model, n int) bool {
	lim := e.opts.Limits.WithDefaults()
	size, err := m.plan.ArenaSize(batchShapes(m.info.Inputs, n))
	if err != nil || int64(size) > lim.MaxTotalElements {
		return false
	}
	_, err = m.cost.CostAt(n)
	return err == nil
}

// batchShapes is the inputs' declared shapes at batch n.
func batchShapes(specs []TensorSpec, n int) [][]int {
	shapes := make([][]int, len(specs))
	for i, s := range specs {
		shapes[i] = slices.Clone(s.Shape)
		if len(shapes[i]) > 0 {
			shapes[i][0] = n
		}
	}
	return shapes
}

// KernelSet is the kernel set the compiled backend uses (Options.Kernels).
func (e *Engine) KernelSet() (*kernels.Set, error) {
	if e.opts.Kernels == "" {
		return kernels.Default(), nil
	}
	set, err := kernels.Lookup(e.opts.Kernels)
	if err != nil {
		return nil, fmt.Errorf("inference kernels: %w", err)
	}
	return set, nil
}

func declaredShapes(specs []TensorSpec) [][]int {
	shapes := make([][]int, len(specs))
	for i, s := range specs {
		shapes[i] = s.Shape
	}
	return shapes
}

// agree compares the compiled backend's trial outputs with gorgonnx's. The
// kernels sum in a different order, so values may differ in the last bits;
// anything more means one backend computes an operator wrongly, and the
// model is refused rather than served with answers that depend on the
// backend.
func agree(specs []TensorSpec, got, want []Tensor) error {
	for i := range want {
		if !slices.Equal(got[i].Shape, want[i].Shape) {
			return fmt.Errorf("%w: output %q has shape %v with onnx-go's gorgonnx backend but %v with the compiled backend", ErrInvalidModel, specs[i].Name, want[i].Shape, got[i].Shape)
		}
		var scale, diff float64
		for j, w := range want[i].Data {
			scale = max(scale, math.Abs(float64(w)))
			diff = max(diff, math.Abs(float64(got[i].Data[j]-w)))
		}
		if !(diff <= agreeTolerance*max(scale, 1)) {
			return fmt.Errorf("%w: output %q differs by %g between onnx-go's gorgonnx backend and the compiled backend; the model uses an operator in a form one of them computes wrongly", ErrInvalidModel, specs[i].Name, diff)
		}
	}
	return nil
}

// agreeTolerance is relative to the largest output magnitude.
const agreeTolerance = 1e-4

// build makes another instance of a model that has passed its trial. A
// compiled instance shares the plan and lays out its buffers now; a gorgonnx
// one decodes the file and runs once, so that onnx-go builds its graph and
// VM now rather than on a user's request.
func (e *Engine) build(m *model) (*instance, error) {
	var inst *instance
	if m.plan != nil {
		inst = &instance{plan: m.plan.NewInstance()}
	} else {
		var err error
		if inst, err = newGorgonnx(m.bytes, m.info.Inputs); err != nil {
			return nil, err
		}
	}
	if _, err := inst.run(context.Background(), declaredShapes(m.info.Inputs), trialInput(m.info.Inputs)); err != nil {
		return nil, err
	}
	return inst, nil
}

// refuse logs an onnx-go failure on a model that passed the pre-parse (the
// pre-parse should be taught about it) and reports it to the caller without
// the stack.
func (e *Engine) refuse(m *model, stage string, err error) error {
	e.log.Warn("model refused by onnx-go", "model", m.info.Name, "version", m.info.Version, "stage", stage, "err", err)
	if errors.Is(err, errPanic) {
		return fmt.Errorf("%w: onnx-go crashed on this model during the %s", ErrInvalidModel, stage)
	}
	return fmt.Errorf("%w: onnx-go cannot run this model (%s: %v)", ErrInvalidModel, stage, err)
}

// trialInput is a deterministic input with values spread over (0, 1),
// different for each input, so that no trial divides zero by zero or
// subtracts an input from itself.
func trialInput(specs []TensorSpec) [][]float32 {
	data := make([][]float32, len(specs))
	for i, s := range specs {
		d := make([]float32, s.Elements())
		for j := range d {
			d[j] = (float32((j*7919+i*4099)%1000) + 0.5) / 1000
		}
		data[i] = d
	}
	return data
}

// compatible reports whether an actual shape matches a declared one, where a
// declared 0 is a symbolic dimension.
func compatible(declared, actual []int) bool {
	if len(declared) == 0 {
		return true // no shape declared
	}
	if len(declared) != len(actual) {
		return false
	}
	for i, d := range declared {
		if d != 0 && d != actual[i] {
			return false
		}
	}
	return true
}

func checkLabels(labels []string, outputs []TensorSpec) error {
	if len(labels) == 0 {
		return nil
	}
	shape := outputs[0].Shape
	if len(shape) == 0 || shape[len(shape)-1] != len(labels) {
		return fmt.Errorf("%w: %d labels were given, but output %q has shape %v", ErrInvalidModel, len(labels), outputs[0].Name, shape)
	}
	return nil
}

// Unload stops serving name. Requests already holding an instance finish.
func (e *Engine) Unload(name string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.models[name]; !ok {
		return fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	delete(e.models, name)
	return nil
}

// Ready reports whether name is loaded and has instances to serve it.
func (e *Engine) Ready(name string) bool {
	m := e.lookup(name)
	return m != nil && m.live.Load() > 0
}

// Models lists the served models, and those loading for the first time,
// sorted by name.
func (e *Engine) Models() []ModelInfo {
	e.mu.RLock()
	defer e.mu.RUnlock()
	list := make([]ModelInfo, 0, len(e.models)+len(e.loading))
	for _, m := range e.models {
		list = append(list, m.info.clone())
	}
	for name, info := range e.loading {
		if _, served := e.models[name]; !served {
			list = append(list, info.clone())
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	return list
}

// Model describes one served model.
func (e *Engine) Model(name string) (ModelInfo, error) {
	m := e.lookup(name)
	if m == nil {
		return ModelInfo{}, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	return m.info.clone(), nil
}

// clone copies the slices, so callers cannot change the engine's copy.
func (i ModelInfo) clone() ModelInfo {
	specs := func(s []TensorSpec) []TensorSpec {
		out := slices.Clone(s)
		for j := range out {
			out[j].Shape = slices.Clone(out[j].Shape)
		}
		return out
	}
	i.Inputs, i.Outputs = specs(i.Inputs), specs(i.Outputs)
	i.Operators = slices.Clone(i.Operators)
	i.Meta.Labels = slices.Clone(i.Meta.Labels)
	return i
}

// Close stops serving every model. Requests in flight finish.
func (e *Engine) Close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	clear(e.models)
}

func (e *Engine) lookup(name string) *model {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.models[name]
}

// Predict runs model on inputs, which must match its declared inputs by
// name and shape (an unnamed tensor is taken for a model's only input).
func (e *Engine) Predict(ctx context.Context, name string, inputs []Tensor) (Output, error) {
	start := time.Now()
	m := e.lookup(name)
	if m == nil {
		e.mu.RLock()
		closed := e.closed
		e.mu.RUnlock()
		if closed {
			return Output{}, ErrClosed
		}
		// No metric: the label would be whatever the caller typed.
		return Output{}, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	out, err := e.predict(ctx, m, inputs)
	e.metrics.ObserveInference(name, statusOf(err), time.Since(start))
	return out, err
}

func statusOf(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ErrBusy):
		return "rejected"
	case errors.Is(err, ErrTimeout):
		return "timeout"
	default:
		return "error"
	}
}

// request is one Predict call waiting for, or being served by, an
// instance.
type request struct {
	shapes [][]int
	data   [][]float32
	rows   int // the batch: the first dimension of every input
	out    []Tensor
	err    error
	done   chan struct{}
	taken  bool // by a server; guarded by model.mu
}

func (e *Engine) predict(ctx context.Context, m *model, inputs []Tensor) (Output, error) {
	r, err := m.arrange(inputs, m.info.MaxBatch)
	if err != nil {
		return Output{}, err
	}
	if err := ctx.Err(); err != nil {
		return Output{}, err
	}
	var inst *instance
	select {
	case inst = <-m.free:
	default:
	}
	if inst == nil {
		if inst, err = e.wait(ctx, m, r); err != nil {
			return Output{}, err
		}
	}
	if inst != nil {
		// This request holds an instance: run it, then serve whoever queued
		// meanwhile.
		out, err := inst.run(ctx, r.shapes, r.data)
		e.metrics.ObserveBatch(m.info.Name, 1)
		if err == nil {
			r.out = own(out)
		} else {
			inst, r.err = e.failed(m, inst, err)
		}
		if inst != nil {
			e.release(m, inst)
		}
	}
	if r.err != nil {
		return Output{}, r.err
	}
	for i := range r.out {
		r.out[i].Name = m.info.Outputs[i].Name
	}
	return Output{Model: m.info.Name, Version: m.info.Version, Tensors: r.out}, nil
}

// wait queues r until an instance serves it (then r.out or r.err is set
// and wait returns nil, nil), or returns an instance that became free while
// queueing, for the caller to run r on.
func (e *Engine) wait(ctx context.Context, m *model, r *request) (*instance, error) {
	m.mu.Lock()
	select {
	case inst := <-m.free:
		m.mu.Unlock()
		return inst, nil
	default:
	}
	if len(m.pending) >= e.opts.QueueSize {
		n := len(m.pending)
		m.mu.Unlock()
		return nil, fmt.Errorf("%w: %d requests already wait for model %q", ErrBusy, n, m.info.Name)
	}
	r.done = make(chan struct{})
	m.pending = append(m.pending, r)
	e.metrics.SetQueueDepth(m.info.Name, len(m.pending))
	m.mu.Unlock()

	timer := time.NewTimer(e.opts.Timeout)
	defer timer.Stop()
	var err error
	select {
	case <-r.done:
		return nil, nil
	case <-timer.C:
		err = fmt.Errorf("%w: no instance of model %q became free in time", ErrTimeout, m.info.Name)
	case <-ctx.Done():
		err = ctx.Err()
	}
	m.mu.Lock()
	if !r.taken {
		m.pending = slices.DeleteFunc(m.pending, func(p *request) bool { return p == r })
		e.metrics.SetQueueDepth(m.info.Name, len(m.pending))
		m.mu.Unlock()
		return nil, err
	}
	m.mu.Unlock()
	// A server has it already and will finish in a moment; wait, so the
	// caller's input is not read after Predict returns.
	<-r.done
	return nil, nil
}

// release serves queued requests with inst, or returns it to the pool.
func (e *Engine) release(m *model, inst *instance) {
	m.mu.Lock()
	if len(m.pending) == 0 {
		m.free <- inst // never blocks: the channel holds the whole pool
		m.mu.Unlock()
		return
	}
	batch := e.takeBatch(m)
	m.mu.Unlock()
	go e.serve(m, inst, batch)
}

// takeBatch removes the requests to serve next: the oldest, and, on a
// model that takes any batch size, the queued requests of the same shapes
// up to MaxBatch rows. m.mu is held.
func (e *Engine) takeBatch(m *model) []*request {
	head := m.pending[0]
	batch := []*request{head}
	head.taken = true
	rows := head.rows
	rest := m.pending[:0]
	for _, r := range m.pending[1:] {
		if m.plan != nil && !m.noMerge.Load() && rows+r.rows <= m.info.MaxBatch && sameItemShapes(head.shapes, r.shapes) {
			r.taken = true
			batch = append(batch, r)
			rows += r.rows
			continue
		}
		rest = append(rest, r)
	}
	clear(m.pending[len(rest):])
	m.pending = rest
	e.metrics.SetQueueDepth(m.info.Name, len(m.pending))
	return batch
}

// serve runs a batch of queued requests on inst, then releases it.
func (e *Engine) serve(m *model, inst *instance, batch []*request) {
	defer func() {
		for _, r := range batch {
			close(r.done)
		}
	}()
	if len(batch) > 1 {
		if err := e.runMerged(m, inst, batch); err == nil {
			e.release(m, inst)
			return
		} else if errors.Is(err, cpubackend.ErrShape) {
			m.noMerge.Store(true)
			e.log.Info("the model's graph fixes its batch size; requests will run one by one", "model", m.info.Name, "version", m.info.Version)
		} else {
			_, err = e.failed(m, inst, err)
			for _, r := range batch {
				r.err = err
			}
			return
		}
	}
	for i, r := range batch {
		out, err := inst.run(context.Background(), r.shapes, r.data)
		e.metrics.ObserveBatch(m.info.Name, 1)
		if err == nil {
			r.out = own(out)
			continue
		}
		if inst, r.err = e.failed(m, inst, err); inst == nil {
			// The instance is gone; the requests after this one get the
			// same answer rather than wait for its replacement.
			for _, rest := range batch[i+1:] {
				rest.err = r.err
			}
			return
		}
	}
	e.release(m, inst)
}

// runMerged stacks the requests' inputs along the first dimension, runs them
// as one batch and hands each request its rows of every output.
func (e *Engine) runMerged(m *model, inst *instance, batch []*request) error {
	rows := 0
	for _, r := range batch {
		rows += r.rows
	}
	shapes := make([][]int, len(batch[0].shapes))
	data := make([][]float32, len(shapes))
	for i, s := range batch[0].shapes {
		shapes[i] = append([]int{rows}, s[1:]...)
		data[i] = make([]float32, 0, rows*TensorSpec{Shape: s[1:]}.Elements())
		for _, r := range batch {
			data[i] = append(data[i], r.data[i]...)
		}
	}
	out, err := inst.run(context.Background(), shapes, data)
	if err != nil {
		return err
	}
	e.metrics.ObserveBatch(m.info.Name, len(batch))
	for _, t := range out {
		if len(t.Shape) == 0 || t.Shape[0] != rows {
			return fmt.Errorf("%w: output of shape %v for a batch of %d", cpubackend.ErrShape, t.Shape, rows)
		}
	}
	at := 0
	for _, r := range batch {
		r.out = make([]Tensor, len(out))
		for i, t := range out {
			per := len(t.Data) / rows
			r.out[i] = Tensor{
				Shape: append([]int{r.rows}, t.Shape[1:]...),
				Data:  slices.Clone(t.Data[at*per : (at+r.rows)*per]),
			}
		}
		at += r.rows
	}
	return nil
}

func sameItemShapes(a, b [][]int) bool {
	for i := range a {
		if !slices.Equal(a[i][1:], b[i][1:]) {
			return false
		}
	}
	return true
}

// failed turns a run error into the request's error. An input the graph
// cannot take is the caller's, and a cancelled run stops between steps with
// nothing half-done: the instance comes back to be used again. Anything else
// discards the instance, which may hold half-updated state (nil is
// returned for it), and rebuilds one so the pool keeps its size.
func (e *Engine) failed(m *model, inst *instance, err error) (*instance, error) {
	if errors.Is(err, cpubackend.ErrShape) {
		return inst, fmt.Errorf("%w: model %q cannot take inputs of these shapes", ErrBadInput, m.info.Name)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return inst, err
	}
	e.log.Error("inference failed; rebuilding the instance", "model", m.info.Name, "version", m.info.Version, "err", err)
	go e.replace(m)
	return nil, fmt.Errorf("%w: model %q could not compute this input", ErrFailed, m.info.Name)
}

// replace builds an instance in place of one that failed.
func (e *Engine) replace(m *model) {
	inst, err := e.build(m)
	if err != nil {
		left := m.live.Add(-1)
		e.log.Error("rebuilding a model instance failed", "model", m.info.Name, "version", m.info.Version, "instances_left", left, "err", err)
		return
	}
	e.release(m, inst)
}

// arrange checks inputs against the model's declared inputs and returns
// them as a request, in declaration order. A model served by the compiled
// backend takes any batch (first dimension) up to maxBatch, the same for
// every input; otherwise shapes must match exactly.
func (m *model) arrange(inputs []Tensor, maxBatch int) (*request, error) {
	specs := m.info.Inputs
	if len(inputs) != len(specs) {
		return nil, fmt.Errorf("%w: model %q takes %d inputs (%s), got %d", ErrBadInput, m.info.Name, len(specs), inputNames(specs), len(inputs))
	}
	r := &request{shapes: make([][]int, len(specs)), data: make([][]float32, len(specs)), rows: -1}
	for _, in := range inputs {
		i := slices.IndexFunc(specs, func(s TensorSpec) bool { return s.Name == in.Name })
		if in.Name == "" && len(specs) == 1 {
			i = 0
		}
		if i < 0 {
			return nil, fmt.Errorf("%w: model %q has no input %q; its inputs are %s", ErrBadInput, m.info.Name, in.Name, inputNames(specs))
		}
		if r.data[i] != nil {
			return nil, fmt.Errorf("%w: input %q is given twice", ErrBadInput, specs[i].Name)
		}
		want := specs[i].Shape
		batched := m.info.Batch && len(want) > 0 && want[0] == 1 && len(in.Shape) == len(want) &&
			slices.Equal(in.Shape[1:], want[1:]) && in.Shape[0] >= 1
		switch {
		case batched && in.Shape[0] > maxBatch:
			return nil, fmt.Errorf("%w: input %q has a batch of %d; the limit is %d", ErrBadInput, specs[i].Name, in.Shape[0], maxBatch)
		case batched:
		case !slices.Equal(in.Shape, want):
			if m.info.Batch && len(want) > 0 && want[0] == 1 {
				return nil, fmt.Errorf("%w: input %q has shape %v; the model takes %v, with any batch size first", ErrBadInput, specs[i].Name, in.Shape, "[N"+strings.TrimPrefix(fmt.Sprint(want), "[1"))
			}
			return nil, fmt.Errorf("%w: input %q has shape %v; the model takes %v", ErrBadInput, specs[i].Name, in.Shape, want)
		}
		rows := 1
		if len(in.Shape) > 0 {
			rows = in.Shape[0]
		}
		if r.rows >= 0 && rows != r.rows && batched {
			return nil, fmt.Errorf("%w: inputs have different batch sizes (%d and %d)", ErrBadInput, r.rows, rows)
		}
		r.rows = rows
		if n := (TensorSpec{Shape: in.Shape}).Elements(); len(in.Data) != n {
			return nil, fmt.Errorf("%w: input %q has %d values; shape %v needs %d", ErrBadInput, specs[i].Name, len(in.Data), in.Shape, n)
		}
		r.shapes[i], r.data[i] = in.Shape, in.Data
	}
	if r.rows < 1 {
		r.rows = 1
	}
	return r, nil
}

func inputNames(specs []TensorSpec) string {
	s := ""
	for i, spec := range specs {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%q %v", spec.Name, spec.Shape)
	}
	return s
}
