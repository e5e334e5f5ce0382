//go:build !amd64

package cpubackend

func setFMA(bool) {}
