package cpubackend

import "golang.org/x/sys/cpu"

// haveFMA selects the assembly kernels: AVX2 for the loads and FMA for the
// multiply-adds. Without them the portable loops run.
var haveFMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func gemm4x16(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int)

//go:noescape
func gemm1x16(k int, a *float32, b *float32, ldb int, c *float32)
