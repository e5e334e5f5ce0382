package inference_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/taskmind/taskmind/internal/inference"
	"github.com/taskmind/taskmind/internal/inference/internal/onnxtest"
	"github.com/taskmind/taskmind/internal/inference/kernels"
)

// refDir is the ONNX Runtime reference set; its README says how to
// regenerate it.
var refDir = filepath.Join("testdata", "reference")

// refManifest is the part of manifest.json (written by onnxtest/mkref) the
// tests read.
type refManifest struct {
	Tolerance float64 `json:"tolerance"`
	Models    []struct {
		Name       string   `json:"name"`
		File       string   `json:"file"`
		SHA256     string   `json:"sha256"`
		Operators  []string `json:"operators"`
		Gorgonnx   string   `json:"gorgonnx_skip"`
		FixedBatch bool     `json:"fixed_batch"`
		// GraphFixesBatch says why the graph takes only batch 1.
		GraphFixesBatch string `json:"graph_fixes_batch"`
		Runs            []struct {
			Batch        int         `json:"batch"`
			Inputs       []refTensor `json:"inputs"`
			InputsSHA256 string      `json:"inputs_sha256"`
		} `json:"runs"`
	} `json:"models"`
}

// refOutputs is reference.json, written by tools/ortref/refset.mjs.
type refOutputs struct {
	Runtime string `json:"runtime"`
	Models  []struct {
		Name   string `json:"name"`
		SHA256 string `json:"sha256"`
		Runs   []struct {
			Batch        int         `json:"batch"`
			InputsSHA256 string      `json:"inputs_sha256"`
			Outputs      []refTensor `json:"outputs"`
		} `json:"runs"`
	} `json:"models"`
}

type refTensor struct {
	Name  string `json:"name"`
	Shape []int  `json:"shape"`
	File  string `json:"file"`
}

func readRefJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(refDir, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// readFloats reads a raw little-endian float32 file of the set.
func readFloats(t *testing.T, file string) []float32 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(refDir, file))
	if err != nil {
		t.Fatal(err)
	}
	if len(b)%4 != 0 {
		t.Fatalf("%s has %d bytes, not a multiple of 4", file, len(b))
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// refConfig is one way of serving a model: a backend and, for the compiled
// backend, a kernel set.
type refConfig struct {
	backend inference.Backend
	kernels string
}

func (c refConfig) String() string {
	if c.kernels == "" {
		return string(c.backend)
	}
	return string(c.backend) + "-" + c.kernels
}

// TestReference checks the acceptance rule for the engine's numerics: for
// every model the project ships or tests, and one small model per operator
// form the compiled backend serves, each output element equals ONNX
// Runtime's within |got-want| <= tolerance·max(1, |want|) (tolerance 1e-4:
// relative for large values, absolute below 1), at batch 1 and batch 3, on
// the compiled backend with every kernel set and on gorgonnx where it
// computes the model at all.
func TestReference(t *testing.T) {
	var man refManifest
	var ort refOutputs
	readRefJSON(t, "manifest.json", &man)
	readRefJSON(t, "reference.json", &ort)
	if man.Tolerance <= 0 || man.Tolerance > 1e-4 {
		t.Fatalf("manifest tolerance is %g; want (0, 1e-4]", man.Tolerance)
	}
	configs := []refConfig{{inference.BackendGorgonnx, ""}}
	for _, name := range []string{"generic", "avx2", "avx512"} {
		configs = append(configs, refConfig{inference.BackendCompiled, name})
	}
	have := map[string]bool{}
	for _, s := range kernels.Available() {
		have[s.Name()] = true
	}
	if len(ort.Models) != len(man.Models) {
		t.Fatalf("reference.json has %d models, manifest.json %d: rerun node tools/ortref/refset.mjs", len(ort.Models), len(man.Models))
	}
	for i, m := range man.Models {
		t.Run(m.Name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(refDir, m.File))
			if err != nil {
				t.Fatal(err)
			}
			if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != m.SHA256 {
				t.Fatalf("%s has sha256 %x; the reference set was made for %s: regenerate it (see %s/README.md)", m.File, sum, m.SHA256, refDir)
			}
			want := ort.Models[i]
			if want.Name != m.Name || want.SHA256 != m.SHA256 || len(want.Runs) != len(m.Runs) {
				t.Fatalf("reference.json does not match manifest.json for %s: rerun node tools/ortref/refset.mjs", m.Name)
			}
			for _, cfg := range configs {
				t.Run(cfg.String(), func(t *testing.T) {
					if cfg.backend == inference.BackendGorgonnx && m.Gorgonnx != "" {
						t.Skipf("gorgonnx not compared: %s", m.Gorgonnx)
					}
					if cfg.kernels != "" && !have[cfg.kernels] {
						t.Skipf("kernel set %s is not available here (kernels.Available: %v)", cfg.kernels, kernels.Available())
					}
					e := newEngine(t, inference.Options{PoolSize: 1, Backend: cfg.backend, Kernels: cfg.kernels})
					if err := e.Load(context.Background(), m.Name, "1", b, inference.Meta{}); err != nil {
						t.Fatalf("Load: %v", err)
					}
					info, err := e.Model(m.Name)
					if err != nil {
						t.Fatal(err)
					}
					if info.Backend != cfg.backend || info.Kernels != cfg.kernels {
						t.Fatalf("served by backend %q with kernels %q; want %q with %q", info.Backend, info.Kernels, cfg.backend, cfg.kernels)
					}
					for j, run := range m.Runs {
						t.Run(fmt.Sprintf("batch=%d", run.Batch), func(t *testing.T) {
							if cfg.backend == inference.BackendGorgonnx && run.Batch != 1 {
								t.Skip("gorgonnx serves only the declared batch: onnx-go fixes it at the first run")
							}
							if why := m.GraphFixesBatch; why != "" && run.Batch != 1 {
								// ONNX Runtime refuses such a batch too (refset.mjs
								// ran its rows one by one); the engine must say so
								// rather than compute something.
								_, err := e.Predict(context.Background(), m.Name, []inference.Tensor{{Name: run.Inputs[0].Name, Shape: run.Inputs[0].Shape, Data: readFloats(t, run.Inputs[0].File)}})
								if !errors.Is(err, inference.ErrBadInput) {
									t.Fatalf("a batch of %d through a graph that fixes batch 1 (%s): got %v, want ErrBadInput", run.Batch, why, err)
								}
								return
							}
							wantRun := want.Runs[j]
							if wantRun.Batch != run.Batch || wantRun.InputsSHA256 != run.InputsSHA256 {
								t.Fatalf("reference.json was computed from other inputs: rerun node tools/ortref/refset.mjs")
							}
							var inputs []inference.Tensor
							for _, in := range run.Inputs {
								inputs = append(inputs, inference.Tensor{Name: in.Name, Shape: in.Shape, Data: readFloats(t, in.File)})
							}
							out, err := e.Predict(context.Background(), m.Name, inputs)
							if err != nil {
								t.Fatalf("Predict: %v", err)
							}
							compareReference(t, out.Tensors, wantRun.Outputs, man.Tolerance)
						})
					}
				})
			}
		})
	}
}

// compareReference reports every output that differs from ONNX Runtime's:
// its name, shape, or elements beyond tol·max(1, |want|).
func compareReference(t *testing.T, got []inference.Tensor, want []refTensor, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d outputs, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Name != w.Name || !slices.Equal(g.Shape, w.Shape) {
			t.Errorf("output %d: got %q %v, want %q %v", i, g.Name, g.Shape, w.Name, w.Shape)
			continue
		}
		values := readFloats(t, w.File)
		if len(g.Data) != len(values) {
			t.Errorf("output %q: got %d values, want %d", w.Name, len(g.Data), len(values))
			continue
		}
		bad, worst, at := 0, 0.0, -1
		for k, v := range values {
			diff := math.Abs(float64(g.Data[k]) - float64(v))
			bound := tol * max(1, math.Abs(float64(v)))
			if !(diff <= bound) { // NaN fails too
				bad++
				if r := diff / bound; at < 0 || r > worst || math.IsNaN(r) {
					worst, at = r, k
				}
			}
		}
		if bad > 0 {
			t.Errorf("output %q: %d of %d values differ from ONNX Runtime's beyond %g·max(1,|want|); worst at %d: got %g, want %g (%.3g× the tolerance)",
				w.Name, bad, len(values), tol, at, g.Data[at], values[at], worst)
		}
	}
}

// TestReferenceCoversOperators keeps the reference set complete: every
// operator the compiled backend must serve appears in a model of it.
func TestReferenceCoversOperators(t *testing.T) {
	var man refManifest
	readRefJSON(t, "manifest.json", &man)
	seen := map[string]bool{}
	for _, m := range man.Models {
		for _, op := range m.Operators {
			seen[op] = true
		}
	}
	for _, op := range []string{
		"Conv", "MatMul", "Gemm", "Add", "Sub", "Mul", "Div",
		"Relu", "LeakyRelu", "Sigmoid", "Tanh", "Softmax",
		"MaxPool", "AveragePool", "GlobalAveragePool", "BatchNormalization",
		"Flatten", "Reshape", "Transpose", "Concat", "Identity", "Dropout",
		"Constant", "Squeeze", "Unsqueeze",
		"Shape", "Gather", "Slice", "Clip", "Pad",
	} {
		if !seen[op] {
			t.Errorf("no model of the reference set uses %s", op)
		}
	}
}

// TestReferenceUpToDate catches an edit of the reference models (onnxtest's
// RefModels, CNN, Tiny) that was not followed by regenerating the set.
func TestReferenceUpToDate(t *testing.T) {
	var man refManifest
	readRefJSON(t, "manifest.json", &man)
	sums := map[string]string{}
	for _, m := range man.Models {
		sums[m.Name] = m.SHA256
	}
	tiny := onnxtest.Tiny()
	models := map[string][]byte{
		"builtin":     builtinModel(t),
		"mnist7":      onnxtest.MNIST7(t),
		"cnn_8_16_32": onnxtest.CNN(8, 16, 32, 1),
		"tiny":        tiny.Marshal(),
	}
	for _, m := range onnxtest.RefModels() {
		models[m.Name] = m.Bytes
	}
	if len(models) != len(sums) {
		t.Errorf("the builders make %d models; manifest.json has %d", len(models), len(sums))
	}
	for name, b := range models {
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != sums[name] {
			t.Errorf("model %s has sha256 %s; manifest.json says %q: regenerate the set (see %s/README.md)", name, got, sums[name], refDir)
		}
	}
}
