// Package kernels holds the matrix kernels of Taskmind's compiled inference
// backend: single-precision GEMM over operands packed into panels, and the
// packing routines, including a convolution's im2col written straight into
// packed panels (implicit GEMM).
//
// A Set is one implementation. The assembly sets are chosen at run time from
// what the CPU offers; the generic set is plain Go, runs everywhere and is
// the reference the others are tested against. Packed layouts belong to a
// set, so a plan packs its weights with the set it will run on and keeps it.
package kernels

import (
	"fmt"
	"os"
	"strings"
)

// Set is one kernel implementation. It is immutable and safe for concurrent
// use; its methods allocate nothing.
type Set struct {
	name string
	// panel is nil for the generic set, whose packed operands are plain
	// row-major copies.
	panel *panelKernels
	// maxPool is nil where MaxPool2x2 runs in Go.
	maxPool poolKernel
}

// Name is "avx512", "avx2" or "generic".
func (s *Set) Name() string { return s.name }

// String implements fmt.Stringer.
func (s *Set) String() string { return s.name }

// all lists the sets this build has, best first; init fills it per CPU.
var all []*Set

// Available returns the sets this CPU supports, best first, generic last.
func Available() []*Set { return append([]*Set(nil), all...) }

// Lookup returns the named set, or an error if it is unknown or this CPU
// lacks it.
func Lookup(name string) (*Set, error) {
	for _, s := range all {
		if s.name == name {
			return s, nil
		}
	}
	switch name {
	case "avx512", "avx2", "generic":
		return nil, fmt.Errorf("kernel set %q is not supported on this CPU (have %s)", name, names())
	}
	return nil, fmt.Errorf("unknown kernel set %q (want one of avx512, avx2, generic, auto)", name)
}

func names() string {
	var n []string
	for _, s := range all {
		n = append(n, s.name)
	}
	return strings.Join(n, ", ")
}

// EnvVar forces a set, for tests and for comparing paths in production.
const EnvVar = "TASKMIND_INFERENCE_KERNELS"

var (
	defaultSet *Set
	envErr     error
)

func init() {
	all = append(cpuSets(), &Set{name: "generic"})
	defaultSet, envErr = setFromEnv(os.Getenv(EnvVar))
}

// setFromEnv resolves a TASKMIND_INFERENCE_KERNELS value: the named set, or
// the best one with an error when the name is unknown or unsupported here.
func setFromEnv(v string) (*Set, error) {
	if v == "" || v == "auto" {
		return all[0], nil
	}
	s, err := Lookup(v)
	if err != nil {
		return all[0], fmt.Errorf("%s: %w", EnvVar, err)
	}
	return s, nil
}

// Default is the set named by TASKMIND_INFERENCE_KERNELS when it is set and
// valid, else the best this CPU supports.
func Default() *Set { return defaultSet }

// EnvError reports a TASKMIND_INFERENCE_KERNELS value that is unknown or
// unsupported here (Default is then the best set); the server refuses to
// start on it.
func EnvError() error { return envErr }
