//go:build !amd64

package cpubackend

const haveFMA = false

func gemm4x16(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int) {
	panic("unreachable")
}

func gemm1x16(k int, a *float32, b *float32, ldb int, c *float32) {
	panic("unreachable")
}
