//go:build !amd64

package kernels

// cpuSets: this architecture has no assembly kernels; the generic set
// serves.
func cpuSets() []*Set { return nil }
