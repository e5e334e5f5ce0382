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
	"sync"
	"sync/atomic"
	"time"

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
	// Backend is the onnx-go backend that computes the model.
	Backend Backend
	Status  Status
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

// model is one loaded version of a model with its pool of instances.
type model struct {
	info  ModelInfo
	bytes []byte
	opset int64
	// free holds the idle instances; its capacity is the pool size.
	free chan *instance
	// live counts the instances that exist, idle or busy; it drops when a
	// rebuild fails, and the model stops being ready at zero.
	live    atomic.Int32
	waiting atomic.Int32
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

	m := &model{info: info, bytes: b, opset: rep.Opset, free: make(chan *instance, e.opts.PoolSize)}
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

// trial builds the first instance and checks the model on a deterministic
// input. onnx-go's gorgonnx backend runs it first, as the reference: it must
// succeed within the request timeout and produce every output. Then the
// compiled backend, if it supports the graph, must agree with gorgonnx;
// it serves the model if so. Finally the serving instance runs the same
// input again and must give bit-identical outputs: an operator that
// corrupts its own weights (as onnx-go's Gemm does) shows up as a change.
func (e *Engine) trial(m *model) (*instance, []TensorSpec, error) {
	data := trialInput(m.info.Inputs)
	ref, err := newInstance(m.bytes, m.info.Inputs, BackendGorgonnx, m.opset)
	if err != nil {
		return nil, nil, e.refuse(m, "decoding", err)
	}
	start := time.Now()
	want, err := ref.run(data)
	if err != nil {
		return nil, nil, e.refuse(m, "trial run", err)
	}
	if d := time.Since(start); d > e.opts.Timeout {
		return nil, nil, fmt.Errorf("%w: a trial run took %v; the limit is %v", ErrInvalidModel, d.Round(time.Millisecond), e.opts.Timeout)
	}
	inst, first := ref, want
	m.info.Backend = BackendGorgonnx
	if e.opts.Backend != BackendGorgonnx {
		if fast, got, err := e.tryCompiled(m, data); err != nil {
			e.log.Info("serving the model with gorgonnx", "model", m.info.Name, "version", m.info.Version, "reason", err)
		} else {
			if err := agree(m.info.Outputs, got, want); err != nil {
				return nil, nil, err
			}
			inst, first = fast, got
			m.info.Backend = BackendCompiled
		}
	}
	second, err := inst.run(data)
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

// tryCompiled builds and runs the model on the compiled backend. An error
// means the backend does not support it (or failed on it), and gorgonnx
// serves the model instead.
func (e *Engine) tryCompiled(m *model, data [][]float32) (*instance, []Tensor, error) {
	inst, err := newInstance(m.bytes, m.info.Inputs, BackendCompiled, m.opset)
	if err != nil {
		return nil, nil, err
	}
	got, err := inst.run(data)
	if err != nil {
		e.log.Warn("the compiled backend failed a trial run", "model", m.info.Name, "version", m.info.Version, "err", err)
		return nil, nil, err
	}
	return inst, got, nil
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

// build makes another instance of a model that has passed its trial, warmed
// with one run so that onnx-go builds its graph and VM now rather than on a
// user's request.
func (e *Engine) build(m *model) (*instance, error) {
	inst, err := newInstance(m.bytes, m.info.Inputs, m.info.Backend, m.opset)
	if err != nil {
		return nil, err
	}
	if _, err := inst.run(trialInput(m.info.Inputs)); err != nil {
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

// trialInput is a deterministic input with values spread over [0, 1).
func trialInput(specs []TensorSpec) [][]float32 {
	data := make([][]float32, len(specs))
	for i, s := range specs {
		d := make([]float32, s.Elements())
		for j := range d {
			d[j] = float32((j*7919)%1000) / 1000
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

func (e *Engine) predict(ctx context.Context, m *model, inputs []Tensor) (Output, error) {
	data, err := m.arrange(inputs)
	if err != nil {
		return Output{}, err
	}
	if err := ctx.Err(); err != nil {
		return Output{}, err
	}
	inst, err := e.acquire(ctx, m)
	if err != nil {
		return Output{}, err
	}
	tensors, err := inst.run(data)
	if err != nil {
		e.log.Error("inference failed; rebuilding the instance", "model", m.info.Name, "version", m.info.Version, "err", err)
		go e.replace(m)
		return Output{}, fmt.Errorf("%w: model %q could not compute this input", ErrFailed, m.info.Name)
	}
	m.free <- inst
	for i := range tensors {
		tensors[i].Name = m.info.Outputs[i].Name
	}
	return Output{Model: m.info.Name, Version: m.info.Version, Tensors: tensors}, nil
}

// acquire takes an idle instance, waiting in the bounded queue if none is.
func (e *Engine) acquire(ctx context.Context, m *model) (*instance, error) {
	select {
	case inst := <-m.free:
		return inst, nil
	default:
	}
	n := m.waiting.Add(1)
	defer func() { e.metrics.SetQueueDepth(m.info.Name, int(m.waiting.Add(-1))) }()
	if n > int32(e.opts.QueueSize) {
		return nil, fmt.Errorf("%w: %d requests already wait for model %q", ErrBusy, n-1, m.info.Name)
	}
	e.metrics.SetQueueDepth(m.info.Name, int(n))
	ctx, cancel := context.WithTimeout(ctx, e.opts.Timeout)
	defer cancel()
	select {
	case inst := <-m.free:
		return inst, nil
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("%w: no instance of model %q became free in time", ErrTimeout, m.info.Name)
		}
		return nil, ctx.Err()
	}
}

// replace rebuilds an instance that failed, which may hold half-updated
// state, so the pool keeps its size.
func (e *Engine) replace(m *model) {
	inst, err := e.build(m)
	if err != nil {
		left := m.live.Add(-1)
		e.log.Error("rebuilding a model instance failed", "model", m.info.Name, "version", m.info.Version, "instances_left", left, "err", err)
		return
	}
	m.free <- inst
}

// arrange checks inputs against the model's declared inputs and returns
// their data in declaration order.
func (m *model) arrange(inputs []Tensor) ([][]float32, error) {
	specs := m.info.Inputs
	if len(inputs) != len(specs) {
		return nil, fmt.Errorf("%w: model %q takes %d inputs (%s), got %d", ErrBadInput, m.info.Name, len(specs), inputNames(specs), len(inputs))
	}
	data := make([][]float32, len(specs))
	for _, in := range inputs {
		i := slices.IndexFunc(specs, func(s TensorSpec) bool { return s.Name == in.Name })
		if in.Name == "" && len(specs) == 1 {
			i = 0
		}
		if i < 0 {
			return nil, fmt.Errorf("%w: model %q has no input %q; its inputs are %s", ErrBadInput, m.info.Name, in.Name, inputNames(specs))
		}
		if data[i] != nil {
			return nil, fmt.Errorf("%w: input %q is given twice", ErrBadInput, specs[i].Name)
		}
		if !slices.Equal(in.Shape, specs[i].Shape) {
			return nil, fmt.Errorf("%w: input %q has shape %v; the model takes %v", ErrBadInput, specs[i].Name, in.Shape, specs[i].Shape)
		}
		if len(in.Data) != specs[i].Elements() {
			return nil, fmt.Errorf("%w: input %q has %d values; shape %v needs %d", ErrBadInput, specs[i].Name, len(in.Data), in.Shape, specs[i].Elements())
		}
		data[i] = in.Data
	}
	return data, nil
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
