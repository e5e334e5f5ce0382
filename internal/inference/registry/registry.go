// Package registry keeps Taskmind's models: the built-in model that ships
// in the binary and the ONNX models admins upload, stored in the database so
// that every replica serves the same ones. It loads them into the inference
// engine at start-up and whenever another replica changes them, and it
// records every prediction.
package registry

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"regexp"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/taskmind/taskmind/ent"
	"github.com/taskmind/taskmind/ent/mlmodel"
	"github.com/taskmind/taskmind/ent/modelblob"
	"github.com/taskmind/taskmind/ent/schema/tensor"
	"github.com/taskmind/taskmind/internal/apperr"
	"github.com/taskmind/taskmind/internal/auth"
	"github.com/taskmind/taskmind/internal/events"
	"github.com/taskmind/taskmind/internal/inference"
)

// Builtin is the model compiled into the binary.
type Builtin struct {
	Name, Version, Description string
	Labels                     []string
	Bytes                      []byte
}

// Registry stores models and serves them through the engine.
type Registry struct {
	client   *ent.Client
	engine   *inference.Engine
	events   events.Broker
	log      *slog.Logger
	builtin  Builtin
	maxBytes int64
	warm     atomic.Bool
	recorder *recorder
}

// New returns a registry; Start loads the models.
func New(client *ent.Client, engine *inference.Engine, broker events.Broker, log *slog.Logger, builtin Builtin, maxBytes int64) *Registry {
	return &Registry{client: client, engine: engine, events: broker, log: log, builtin: builtin, maxBytes: maxBytes, recorder: newRecorder(client)}
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// Start records the built-in model, warms it (readiness waits for this),
// then loads the uploaded models in the background and follows changes
// made by other replicas until ctx ends.
func (r *Registry) Start(ctx context.Context) error {
	sys := auth.SystemContext(ctx)
	b := r.builtin
	if err := r.engine.Load(sys, b.Name, b.Version, b.Bytes, inference.Meta{Description: b.Description, Labels: b.Labels}); err != nil {
		return fmt.Errorf("loading the built-in model: %w", err)
	}
	info, err := r.engine.Model(b.Name)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(b.Bytes)
	err = r.client.MLModel.Create().
		SetName(b.Name).SetVersion(b.Version).SetDescription(b.Description).
		SetInputs(specs(info.Inputs)).SetOutputs(specs(info.Outputs)).SetLabels(b.Labels).
		SetOperators(info.Operators).SetParameters(info.Parameters).
		SetSha256(hex.EncodeToString(sum[:])).SetSizeBytes(int64(len(b.Bytes))).SetBuiltin(true).
		OnConflictColumns(mlmodel.FieldName).UpdateNewValues().
		Exec(sys)
	if err != nil {
		return fmt.Errorf("recording the built-in model: %w", err)
	}
	r.warm.Store(true)

	changes := r.events.Subscribe(ctx)
	go func() {
		stored, err := r.client.MLModel.Query().Where(mlmodel.Builtin(false)).All(sys)
		if err != nil {
			r.log.Error("listing stored models failed", "err", err)
		}
		for _, m := range stored {
			r.sync(sys, m.Name)
		}
		for e := range changes {
			if e.Kind == events.ModelChanged {
				r.sync(sys, e.Model)
			}
		}
	}()
	return nil
}

// Ready reports whether the built-in model is warm.
func (r *Registry) Ready(context.Context) error {
	if !r.warm.Load() {
		return errors.New("built-in model not loaded yet")
	}
	return nil
}

// sync makes the engine match the database for one model.
func (r *Registry) sync(ctx context.Context, name string) {
	m, err := r.client.MLModel.Query().Where(mlmodel.Name(name)).Only(ctx)
	if ent.IsNotFound(err) {
		_ = r.engine.Unload(name)
		return
	}
	if err != nil {
		r.log.Error("reading model failed", "model", name, "err", err)
		return
	}
	if m.Builtin {
		return
	}
	if info, err := r.engine.Model(name); err == nil && info.Version == m.Version {
		return
	}
	blob, err := r.client.ModelBlob.Query().Where(modelblob.ModelID(m.ID)).Only(ctx)
	if err != nil {
		r.log.Error("reading model bytes failed", "model", name, "err", err)
		return
	}
	if err := r.engine.Load(ctx, m.Name, m.Version, blob.Data, inference.Meta{Description: m.Description, Labels: m.Labels}); err != nil {
		r.log.Error("loading stored model failed", "model", name, "err", err)
	}
}

// List returns every model, the built-in one first.
func (r *Registry) List(ctx context.Context) ([]*ent.MLModel, error) {
	return r.client.MLModel.Query().Order(ent.Desc(mlmodel.FieldBuiltin), ent.Asc(mlmodel.FieldName)).All(ctx)
}

// Get returns one model by name, or nil.
func (r *Registry) Get(ctx context.Context, name string) (*ent.MLModel, error) {
	m, err := r.client.MLModel.Query().Where(mlmodel.Name(name)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return m, err
}

// Status is whether the engine is serving the model on this replica.
func (r *Registry) Status(name string) string {
	if r.engine.Ready(name) {
		return "READY"
	}
	return "LOADING"
}

// Upload vets, loads and stores a model. Nothing is stored unless the
// engine accepted the file and ran it; a refusal says why.
func (r *Registry) Upload(ctx context.Context, name, description string, labels []string, file io.Reader, uploader int) (*ent.MLModel, error) {
	if !nameRE.MatchString(name) {
		return nil, apperr.Invalid("name", "model names are 1-64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	if name == r.builtin.Name {
		return nil, apperr.New(apperr.Conflict, "%q is the built-in model's name", name)
	}
	if len(description) > 2000 {
		return nil, apperr.Invalid("description", "description is longer than 2000 characters")
	}
	data, err := io.ReadAll(io.LimitReader(file, r.maxBytes+1))
	if err != nil {
		return nil, apperr.Invalid("file", "could not read the upload")
	}
	if int64(len(data)) > r.maxBytes {
		return nil, apperr.Invalid("file", "the model is larger than the limit of %d bytes", r.maxBytes)
	}
	existing, err := r.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	version := "1"
	if existing != nil {
		n, _ := strconv.Atoi(existing.Version)
		version = strconv.Itoa(n + 1)
	}
	if err := r.engine.Load(ctx, name, version, data, inference.Meta{Description: description, Labels: labels}); err != nil {
		if errors.Is(err, inference.ErrInvalidModel) {
			return nil, apperr.Invalid("file", "%s", err.Error())
		}
		return nil, err
	}
	info, err := r.engine.Model(name)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	m, err := r.store(ctx, existing, name, version, description, labels, info, hex.EncodeToString(sum[:]), data, uploader)
	if err != nil {
		// Keep the engine as the database says: serve the old version,
		// or nothing.
		if existing != nil {
			r.sync(auth.SystemContext(ctx), name)
		} else {
			_ = r.engine.Unload(name)
		}
		return nil, apperr.FromEnt(err, "model")
	}
	r.announce(ctx, name)
	return m, nil
}

func (r *Registry) store(ctx context.Context, existing *ent.MLModel, name, version, description string, labels []string, info inference.ModelInfo, sum string, data []byte, uploader int) (*ent.MLModel, error) {
	tx, err := r.client.Tx(ctx)
	if err != nil {
		return nil, err
	}
	var m *ent.MLModel
	if existing == nil {
		c := tx.MLModel.Create().SetName(name)
		if uploader != 0 {
			c.SetUploadedByID(uploader)
		}
		m, err = c.SetVersion(version).SetDescription(description).SetInputs(specs(info.Inputs)).SetOutputs(specs(info.Outputs)).
			SetLabels(labels).SetOperators(info.Operators).SetParameters(info.Parameters).
			SetSha256(sum).SetSizeBytes(int64(len(data))).Save(ctx)
		if err == nil {
			err = tx.ModelBlob.Create().SetModelID(m.ID).SetData(data).Exec(ctx)
		}
	} else {
		u := tx.MLModel.UpdateOne(existing)
		if uploader != 0 {
			u.SetUploadedByID(uploader)
		}
		m, err = u.SetVersion(version).SetDescription(description).SetInputs(specs(info.Inputs)).SetOutputs(specs(info.Outputs)).
			SetLabels(labels).SetOperators(info.Operators).SetParameters(info.Parameters).
			SetSha256(sum).SetSizeBytes(int64(len(data))).Save(ctx)
		if err == nil {
			_, err = tx.ModelBlob.Update().Where(modelblob.ModelID(m.ID)).SetData(data).Save(ctx)
		}
	}
	if err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	return m, tx.Commit()
}

// Delete removes an uploaded model everywhere.
func (r *Registry) Delete(ctx context.Context, name string) (int, error) {
	m, err := r.Get(ctx, name)
	if err != nil {
		return 0, err
	}
	if m == nil {
		return 0, apperr.New(apperr.NotFound, "model %q not found", name)
	}
	if m.Builtin {
		return 0, apperr.New(apperr.Conflict, "the built-in model cannot be deleted")
	}
	if err := r.client.MLModel.DeleteOne(m).Exec(ctx); err != nil {
		return 0, apperr.FromEnt(err, "model")
	}
	_ = r.engine.Unload(name)
	r.announce(ctx, name)
	return m.ID, nil
}

func (r *Registry) announce(ctx context.Context, name string) {
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := r.events.Publish(pctx, events.Event{Kind: events.ModelChanged, Model: name}); err != nil {
		r.log.Warn("announcing model change failed; other replicas pick it up at restart", "model", name, "err", err)
	}
}

// Result is a prediction with what the registry recorded about it.
type Result struct {
	inference.Output
	Latency time.Duration
	// Top is the index of the largest value of the first output.
	Top      int
	TopScore float32
}

// Predict runs a model and records the prediction for the caller.
func (r *Registry) Predict(ctx context.Context, name string, inputs []inference.Tensor, source string) (Result, error) {
	start := time.Now()
	out, err := r.engine.Predict(ctx, name, inputs)
	if err != nil {
		return Result{}, engineError(err)
	}
	res := Result{Output: out, Latency: time.Since(start)}
	if len(out.Tensors) > 0 {
		res.Top, res.TopScore = argmax(out.Tensors[0].Data)
	}
	label := ""
	if info, err := r.engine.Model(name); err == nil && res.Top < len(info.Meta.Labels) {
		label = info.Meta.Labels[res.Top]
	}
	rec := r.client.Prediction.Create().
		SetModel(out.Model).SetModelVersion(out.Version).SetInputSha256(inputHash(inputs)).
		SetTopIndex(res.Top).SetTopLabel(label).SetTopScore(float64(res.TopScore)).
		SetLatencyMs(float64(res.Latency.Microseconds()) / 1000).SetSource(source).SetCreatedAt(start)
	if v := auth.FromContext(ctx); v.SignedIn() {
		rec.SetUserID(v.UserID)
	}
	// The server records on the caller's behalf (the caller cannot write
	// prediction rows themselves), batched with concurrent requests.
	if err := r.recorder.record(ctx, rec); err != nil {
		return Result{}, fmt.Errorf("recording prediction: %w", err)
	}
	return res, nil
}

// engineError maps the engine's errors to client errors.
func engineError(err error) error {
	switch {
	case errors.Is(err, inference.ErrNotFound):
		return apperr.New(apperr.NotFound, "%s", err.Error())
	case errors.Is(err, inference.ErrBadInput):
		return apperr.Invalid("inputs", "%s", err.Error())
	case errors.Is(err, inference.ErrBusy):
		return apperr.New(apperr.TooManyRequests, "the model is busy; try again shortly")
	case errors.Is(err, inference.ErrTimeout):
		return apperr.New(apperr.TooManyRequests, "the prediction timed out; try again shortly")
	}
	return err
}

func argmax(xs []float32) (int, float32) {
	best, score := 0, float32(math.Inf(-1))
	for i, x := range xs {
		if x > score {
			best, score = i, x
		}
	}
	return best, score
}

// inputHash identifies an input without storing it.
func inputHash(inputs []inference.Tensor) string {
	h := sha256.New()
	var b [4]byte
	for _, t := range inputs {
		io.WriteString(h, t.Name)
		for _, d := range t.Shape {
			binary.LittleEndian.PutUint32(b[:], uint32(d))
			h.Write(b[:])
		}
		for _, x := range t.Data {
			binary.LittleEndian.PutUint32(b[:], math.Float32bits(x))
			h.Write(b[:])
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func specs(in []inference.TensorSpec) []tensor.Spec {
	out := make([]tensor.Spec, len(in))
	for i, s := range in {
		out[i] = tensor.Spec{Name: s.Name, DType: s.DType, Shape: s.Shape}
	}
	return out
}

// BuiltinName is the name of the built-in model.
func (r *Registry) BuiltinName() string { return r.builtin.Name }

// Engine exposes the engine (for v2 metadata).
func (r *Registry) Engine() *inference.Engine { return r.engine }

func systemCtx() context.Context { return auth.SystemContext(context.Background()) }
