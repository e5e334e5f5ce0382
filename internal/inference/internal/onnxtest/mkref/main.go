// Command mkref writes the models and inputs of the ONNX Runtime reference
// set into internal/inference/testdata/reference; tools/ortref/refset.mjs
// then adds ONNX Runtime's outputs. From the repository root:
//
//	go run ./internal/inference/internal/onnxtest/mkref
//	node tools/ortref/refset.mjs
//
// It lives under internal/inference so that it can use the onnxtest model
// builder, which Go's internal rule hides from cmd/. Its output is
// deterministic: running it twice writes the same bytes, so a diff after a
// run means a model or its inputs changed and the outputs must be redone.
package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/taskmind/taskmind/internal/inference/internal/onnxtest"
	"github.com/taskmind/taskmind/internal/inference/onnxcheck"
)

// Manifest is manifest.json; the reference test reads the same layout.
type Manifest struct {
	About      string   `json:"about"`
	Regenerate []string `json:"regenerate"`
	Seed       uint64   `json:"seed"`
	Tolerance  float64  `json:"tolerance"`
	Batches    []int    `json:"batches"`
	Models     []Model  `json:"models"`
}

// Model is one model of the set. Paths are relative to the manifest.
type Model struct {
	Name      string   `json:"name"`
	File      string   `json:"file"`
	SHA256    string   `json:"sha256"`
	Opset     int64    `json:"opset"`
	Operators []string `json:"operators"`
	Covers    string   `json:"covers"`
	// Gorgonnx is why the gorgonnx backend is not compared ("" = it is).
	Gorgonnx   string `json:"gorgonnx_skip,omitempty"`
	FixedBatch bool   `json:"fixed_batch,omitempty"`
	// GraphFixesBatch is why the graph takes only batch 1 ("" = it takes
	// any).
	GraphFixesBatch string  `json:"graph_fixes_batch,omitempty"`
	Runs            []Batch `json:"runs"`
}

// Batch is one input batch of a model.
type Batch struct {
	Batch int `json:"batch"`
	// Dir holds input_<i>.bin (written here) and output_<i>.bin (written by
	// refset.mjs): raw little-endian float32, row-major.
	Dir    string   `json:"dir"`
	Inputs []Tensor `json:"inputs"`
	// InputsSHA256 hashes the input files in order; refset.mjs records the
	// hash it ran on, so the test notices outputs left from older inputs.
	InputsSHA256 string `json:"inputs_sha256"`
}

// Tensor names a tensor file and its shape.
type Tensor struct {
	Name  string `json:"name"`
	Shape []int  `json:"shape"`
	File  string `json:"file"`
}

// The batches every model runs at: 1, and 3 for the backends that take any
// batch.
var batches = []int{1, 3}

// builtinPath is the built-in model, relative to the reference directory:
// it is referenced, not copied (320 KB, and retrained in place).
const builtinPath = "../../../../models/mnist/model.onnx"

func main() {
	dir := flag.String("dir", "internal/inference/testdata/reference", "the reference directory")
	flag.Parse()
	if err := run(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "mkref:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	models, err := all(dir)
	if err != nil {
		return err
	}
	man := Manifest{
		About: "ONNX Runtime reference set: every model the project ships or tests, and one small model per operator form " +
			"the compiled backend serves, each at batch 1 and 3. Inputs and outputs are raw little-endian float32 (row-major). " +
			"The engine's outputs must equal ONNX Runtime's within |got-want| <= tolerance*max(1,|want|) (internal/inference/reference_test.go).",
		Regenerate: []string{"go run ./internal/inference/internal/onnxtest/mkref", "node tools/ortref/refset.mjs"},
		Seed:       onnxtest.RefSeed,
		Tolerance:  1e-4,
		Batches:    batches,
	}
	// Start from a clean tree so removed models leave no files behind. Only
	// model directories (those with a batch1 folder) go, in case -dir names
	// the wrong place.
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(dir, e.Name(), "batch1")); e.IsDir() && err == nil {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	for _, m := range models {
		entry, err := write(dir, m)
		if err != nil {
			return fmt.Errorf("%s: %w", m.Name, err)
		}
		man.Models = append(man.Models, entry)
	}
	b, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Printf("mkref: wrote %d models to %s; now run: node tools/ortref/refset.mjs\n", len(models), dir)
	return nil
}

// all lists the models of the set: what the project ships and tests, then
// the operator models.
func all(dir string) ([]onnxtest.RefModel, error) {
	builtin, err := os.ReadFile(filepath.Join(dir, builtinPath))
	if err != nil {
		return nil, fmt.Errorf("the built-in model: %w", err)
	}
	mnist7, err := onnxtest.MNIST7Bytes()
	if err != nil {
		return nil, err
	}
	tiny := onnxtest.Tiny()
	ms := []onnxtest.RefModel{
		{
			Name: "builtin", Covers: "the built-in model (models/mnist/model.onnx): Conv, Relu, MaxPool, Flatten, MatMul, Add, Softmax",
			Bytes: builtin, FixedBatch: true,
			Inputs: []onnxtest.RefInput{{Name: "input", Dims: []int64{1, 1, 28, 28}, Lo: 0, Hi: 1}},
		},
		{
			Name: "mnist7", Covers: "the ONNX Model Zoo's mnist-7 (opset 7): Conv with auto_pad SAME_UPPER, Add, Relu, MaxPool, Reshape to a constant [1,256], MatMul",
			Bytes: mnist7, FixedBatch: true, GraphFixesBatch: "its Reshape targets the constant shape [1,256]",
			Inputs: []onnxtest.RefInput{{Name: "Input3", Dims: []int64{1, 1, 28, 28}, Lo: 0, Hi: 255}},
		},
		{
			Name: "cnn_8_16_32", Covers: "onnxtest.CNN(8, 16, 32, 1): the built-in architecture at 8/16 channels with random weights",
			Bytes: onnxtest.CNN(8, 16, 32, 1), FixedBatch: true,
			Inputs: []onnxtest.RefInput{{Name: "input", Dims: []int64{1, 1, 28, 28}, Lo: 0, Hi: 1}},
		},
		{
			Name: "tiny", Covers: "onnxtest.Tiny: MatMul, Add of a [1,3] bias, Relu, with a symbolic batch",
			Bytes:  tiny.Marshal(),
			Inputs: []onnxtest.RefInput{{Name: "x", Dims: []int64{1, 4}, Lo: -2, Hi: 2}},
		},
	}
	return append(ms, onnxtest.RefModels()...), nil
}

func write(dir string, m onnxtest.RefModel) (Model, error) {
	rep, err := onnxcheck.Check(m.Bytes, onnxcheck.Limits{})
	if err != nil {
		return Model{}, fmt.Errorf("the engine's pre-parse refuses it: %w", err)
	}
	// The gorgonnx skips must match what the pre-parse knows gorgonnx
	// cannot do, so neither list drifts from the other unnoticed.
	if len(rep.GorgonnxUnsupported) > 0 && m.Gorgonnx == "" {
		return Model{}, fmt.Errorf("onnxcheck says gorgonnx cannot run %v; give the model a Gorgonnx reason", rep.GorgonnxUnsupported)
	}
	if len(rep.GorgonnxUnsupported) > 0 {
		m.Gorgonnx = strings.Join(rep.GorgonnxUnsupported, ", ") + ": " + m.Gorgonnx
	}
	if len(rep.Inputs) != len(m.Inputs) {
		return Model{}, fmt.Errorf("the model has %d inputs; %d are described", len(rep.Inputs), len(m.Inputs))
	}
	for i, in := range m.Inputs {
		want := make([]int, len(in.Dims))
		for j, d := range in.Dims {
			want[j] = int(d)
		}
		if got := rep.Inputs[i]; got.Name != in.Name || !slices.Equal(got.Shape, want) {
			return Model{}, fmt.Errorf("input %d is %q %v; described as %q %v", i, got.Name, got.Shape, in.Name, want)
		}
	}
	entry := Model{
		Name: m.Name, Opset: rep.Opset, Operators: rep.Operators,
		Covers: m.Covers, Gorgonnx: m.Gorgonnx, FixedBatch: m.FixedBatch, GraphFixesBatch: m.GraphFixesBatch,
	}
	sum := sha256.Sum256(m.Bytes)
	entry.SHA256 = hex.EncodeToString(sum[:])
	if m.Name == "builtin" {
		entry.File = builtinPath
	} else {
		entry.File = m.Name + "/model.onnx"
		if err := os.MkdirAll(filepath.Join(dir, m.Name), 0o755); err != nil {
			return Model{}, err
		}
		if err := os.WriteFile(filepath.Join(dir, entry.File), m.Bytes, 0o644); err != nil {
			return Model{}, err
		}
	}
	for _, n := range batches {
		rng := onnxtest.RefRand(m.Name, fmt.Sprintf("inputs/batch%d", n))
		run := Batch{Batch: n, Dir: fmt.Sprintf("%s/batch%d", m.Name, n)}
		if err := os.MkdirAll(filepath.Join(dir, run.Dir), 0o755); err != nil {
			return Model{}, err
		}
		h := sha256.New()
		for i, in := range m.Inputs {
			shape := make([]int, len(in.Dims))
			size := 1
			for j, d := range in.Dims {
				shape[j] = int(d)
				if j == 0 {
					shape[j] = n
				}
				size *= shape[j]
			}
			b := make([]byte, 4*size)
			for k := 0; k < size; k++ {
				v := in.Lo + (in.Hi-in.Lo)*rng.Float32()
				binary.LittleEndian.PutUint32(b[4*k:], math.Float32bits(v))
			}
			t := Tensor{Name: in.Name, Shape: shape, File: fmt.Sprintf("%s/input_%d.bin", run.Dir, i)}
			if err := os.WriteFile(filepath.Join(dir, t.File), b, 0o644); err != nil {
				return Model{}, err
			}
			h.Write(b)
			run.Inputs = append(run.Inputs, t)
		}
		run.InputsSHA256 = hex.EncodeToString(h.Sum(nil))
		entry.Runs = append(entry.Runs, run)
	}
	return entry, nil
}
