package kernels

import "golang.org/x/sys/cpu"

// cpuSets returns the assembly sets this CPU runs, best first. x/sys/cpu
// reports AVX-512 and AVX only when the OS also saves their registers.
func cpuSets() []*Set {
	var sets []*Set
	// BMI2 builds the AVX-512 kernels' lane masks; every AVX-512 CPU has it.
	if cpu.X86.HasAVX512F && cpu.X86.HasBMI2 {
		sets = append(sets, &Set{name: "avx512", panel: &panelKernels{
			mr: 14, nr: 32, kc: 256, mc: 196, nc: 4096,
			kern: []microKernel{
				gemmAVX512x1, gemmAVX512x2, gemmAVX512x3, gemmAVX512x4, gemmAVX512x5,
				gemmAVX512x6, gemmAVX512x7, gemmAVX512x8, gemmAVX512x9, gemmAVX512x10,
				gemmAVX512x11, gemmAVX512x12, gemmAVX512x13, gemmAVX512x14,
			},
			convRows: convRowsAVX512, convRowsValid: convRowsValidAVX512,
		}, maxPool: maxPool2x2AVX512})
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		sets = append(sets, &Set{name: "avx2", panel: &panelKernels{
			mr: 6, nr: 16, kc: 256, mc: 192, nc: 4096,
			kern: []microKernel{
				gemmAVX2x1, gemmAVX2x2, gemmAVX2x3, gemmAVX2x4, gemmAVX2x5, gemmAVX2x6,
			},
			convRows: convRowsAVX2, convRowsValid: convRowsValidAVX2,
		}, maxPool: maxPool2x2AVX2})
	}
	return sets
}
