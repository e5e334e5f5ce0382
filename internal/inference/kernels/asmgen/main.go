// Command asmgen writes the assembly of package kernels (gemm_amd64.s: the
// GEMM micro-kernels, the convolution packers and the 2×2 max pooling, see
// pack.go for the last two) and their Go declarations, with avo. It lives in its own
// module so that avo stays out of the main module's dependencies; run it
// through `make generate`:
//
//	go run . -out ../gemm_amd64.s -stubs ../gemm_stub_amd64.go -pkg kernels
//
// Every micro-kernel computes one MR×NR tile of C from a packed A panel
// (k steps of r values) and a packed B panel (k steps of NR values, zero
// padded), then applies the epilogue on the tile while it is still in
// registers: that is what makes short-k products (a 5×5 convolution over
// one channel has k = 25) fast, because a second pass over C would cost
// as much as the multiply itself.
//
// The kernels share one signature:
//
//	func(k int, a, b, c *float32, ldc int, flags uint, rowb, colb *float32, alpha float32, nrem int)
//
// flags: 1 adds the old C, 2 applies ReLU, 4 applies leaky ReLU with alpha.
// rowb and colb are nil or the bias for this tile's first row / column.
// nrem (1..NR) is how many columns of the tile exist in C; the rest are
// computed but neither read nor written.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

const signature = "func(k int, a, b, c *float32, ldc int, flags uint, rowb, colb *float32, alpha float32, nrem int)"

const (
	flagAccumulate = 1
	flagRelu       = 2
	flagLeaky      = 4
)

// Register roles shared by both instruction sets.
var (
	rK     = RCX
	rA     = RSI
	rB     = RDI
	rC     = RDX
	rLdc   = R8
	rFlags = R9
	rRowb  = R10
	rColb  = R11
	rRow   = R12
	rTmp   = RAX
	rTmp2  = RBX
)

// groups is how many interleaved accumulator sets an r-row kernel keeps
// along k: FMA latency times throughput needs about eight independent
// accumulators, and a one-row tile only has two.
func groups(r int) int {
	g := (8 + 2*r - 1) / (2 * r)
	if g < 1 {
		g = 1
	}
	return g
}

func main() {
	ConstraintExpr("amd64")
	for r := 1; r <= 14; r++ {
		avx512(r)
	}
	maskTable()
	for r := 1; r <= 6; r++ {
		avx2(r)
	}
	convPackers()
	convValidPackers()
	poolKernels()
	Generate()
}

// loadArgs loads the pointer and size arguments into their registers.
func loadArgs() {
	Load(Param("k"), rK)
	Load(Param("a"), rA)
	Load(Param("b"), rB)
	Load(Param("c"), rC)
	Load(Param("ldc"), rLdc)
	SHLQ(U8(2), rLdc)
	Load(Param("flags"), rFlags)
	Load(Param("rowb"), rRowb)
	Load(Param("colb"), rColb)
}

// kloop emits the k loop: unroll steps per iteration, step i feeding
// accumulator group i%g, then single steps into group 0. step(i, g) emits
// one k step reading A at displacement i·r·4 and B at i·nr·4.
func kloop(name string, r, nr, unroll int, step func(i, g int)) {
	g := groups(r)
	CMPQ(rK, U32(unroll))
	JLT(LabelRef(name + "_tail"))
	Label(name + "_loop")
	for i := 0; i < unroll; i++ {
		step(i, i%g)
	}
	ADDQ(U32(unroll*r*4), rA)
	ADDQ(U32(unroll*nr*4), rB)
	SUBQ(U32(unroll), rK)
	CMPQ(rK, U32(unroll))
	JGE(LabelRef(name + "_loop"))
	Label(name + "_tail")
	TESTQ(rK, rK)
	JEQ(LabelRef(name + "_done"))
	Label(name + "_tailloop")
	step(0, 0)
	ADDQ(U32(r*4), rA)
	ADDQ(U32(nr*4), rB)
	DECQ(rK)
	JNE(LabelRef(name + "_tailloop"))
	Label(name + "_done")
}

// rows emits body(row) for every row of the tile with rRow pointing at
// that row of C.
func rows(r int, body func(row int)) {
	MOVQ(rC, rRow)
	for i := 0; i < r; i++ {
		body(i)
		if i < r-1 {
			ADDQ(rLdc, rRow)
		}
	}
}

func avx512(r int) {
	const nr = 32
	name := fmt.Sprintf("gemmAVX512x%d", r)
	TEXT(name, NOSPLIT, signature)
	Doc(fmt.Sprintf("%s computes a %d×32 tile with AVX-512.", name, r))
	g := groups(r)
	// acc[grp][row][half]
	acc := make([][][2]VecPhysical, g)
	n := 0
	for i := range acc {
		acc[i] = make([][2]VecPhysical, r)
		for j := 0; j < r; j++ {
			acc[i][j] = [2]VecPhysical{zmm(n), zmm(n + 1)}
			n += 2
		}
	}
	b0, b1 := zmm(30), zmm(31)
	t0, t1 := zmm(28), zmm(29) // free once r ≤ 14 and g == 1 (r ≥ 4)
	if n > 28 {
		panic("too many accumulators")
	}
	loadArgs()
	for i := 0; i < n; i++ {
		VPXORD(zmm(i), zmm(i), zmm(i))
	}
	kloop(name, r, nr, 4, func(i, grp int) {
		VMOVUPS(Mem{Base: rB, Disp: i * nr * 4}, b0)
		VMOVUPS(Mem{Base: rB, Disp: i*nr*4 + 64}, b1)
		for j := 0; j < r; j++ {
			m := Mem{Base: rA, Disp: (i*r + j) * 4}
			VFMADD231PS_BCST(m, b0, acc[grp][j][0])
			VFMADD231PS_BCST(m, b1, acc[grp][j][1])
		}
	})
	for grp := 1; grp < g; grp++ {
		for j := 0; j < r; j++ {
			VADDPS(acc[grp][j][0], acc[0][j][0], acc[0][j][0])
			VADDPS(acc[grp][j][1], acc[0][j][1], acc[0][j][1])
		}
	}
	if g > 1 {
		// The extra groups' registers are free now; keep the temporaries
		// clear of the accumulators of group 0.
		t0, t1 = zmm(2*r), zmm(2*r+1)
	}

	// Column masks: K1 for columns 0..15, K2 for 16..31.
	Load(Param("nrem"), RCX)
	MOVQ(U32(1), rTmp)
	SHLQ(CL, rTmp)
	DECQ(rTmp)
	KMOVW(EAX, K1)
	SHRQ(U8(16), rTmp)
	KMOVW(EAX, K2)

	TESTQ(U32(flagAccumulate), rFlags)
	JEQ(LabelRef(name + "_noacc"))
	rows(r, func(j int) {
		VADDPS_Z(Mem{Base: rRow}, acc[0][j][0], K1, acc[0][j][0])
		VADDPS_Z(Mem{Base: rRow, Disp: 64}, acc[0][j][1], K2, acc[0][j][1])
	})
	Label(name + "_noacc")

	TESTQ(rRowb, rRowb)
	JEQ(LabelRef(name + "_norowb"))
	for j := 0; j < r; j++ {
		VBROADCASTSS(Mem{Base: rRowb, Disp: 4 * j}, t0)
		VADDPS(t0, acc[0][j][0], acc[0][j][0])
		VADDPS(t0, acc[0][j][1], acc[0][j][1])
	}
	Label(name + "_norowb")

	TESTQ(rColb, rColb)
	JEQ(LabelRef(name + "_nocolb"))
	VMOVUPS_Z(Mem{Base: rColb}, K1, t0)
	VMOVUPS_Z(Mem{Base: rColb, Disp: 64}, K2, t1)
	for j := 0; j < r; j++ {
		VADDPS(t0, acc[0][j][0], acc[0][j][0])
		VADDPS(t1, acc[0][j][1], acc[0][j][1])
	}
	Label(name + "_nocolb")

	TESTQ(U32(flagRelu), rFlags)
	JEQ(LabelRef(name + "_norelu"))
	VPXORD(t0, t0, t0)
	for j := 0; j < r; j++ {
		VMAXPS(t0, acc[0][j][0], acc[0][j][0])
		VMAXPS(t0, acc[0][j][1], acc[0][j][1])
	}
	Label(name + "_norelu")

	TESTQ(U32(flagLeaky), rFlags)
	JEQ(LabelRef(name + "_noleaky"))
	VPXORD(t0, t0, t0)
	VBROADCASTSS(paramAddr("alpha"), t1)
	for j := 0; j < r; j++ {
		for h := 0; h < 2; h++ {
			VCMPPS(U8(1), t0, acc[0][j][h], K3) // acc < 0
			VMULPS(t1, acc[0][j][h], K3, acc[0][j][h])
		}
	}
	Label(name + "_noleaky")

	rows(r, func(j int) {
		VMOVUPS(acc[0][j][0], K1, Mem{Base: rRow})
		VMOVUPS(acc[0][j][1], K2, Mem{Base: rRow, Disp: 64})
	})
	VZEROUPPER()
	RET()
}

var masks Mem

// maskTable is sixteen all-ones lanes then sixteen zero lanes: the AVX2
// column mask for nrem columns is the 16 lanes starting at 16-nrem.
func maskTable() {
	masks = GLOBL("avx2masks", RODATA|NOPTR)
	for i := 0; i < 32; i++ {
		v := U32(0)
		if i < 16 {
			v = U32(0xffffffff)
		}
		DATA(4*i, v)
	}
}

func avx2(r int) {
	const nr = 16
	name := fmt.Sprintf("gemmAVX2x%d", r)
	TEXT(name, NOSPLIT, signature)
	Doc(fmt.Sprintf("%s computes a %d×16 tile with AVX2 and FMA.", name, r))
	g := groups(r)
	acc := make([][][2]VecPhysical, g)
	n := 0
	for i := range acc {
		acc[i] = make([][2]VecPhysical, r)
		for j := 0; j < r; j++ {
			acc[i][j] = [2]VecPhysical{ymm(n), ymm(n + 1)}
			n += 2
		}
	}
	if n > 12 {
		panic("too many accumulators")
	}
	b0, b1, bc0, bc1 := Y12, Y13, Y14, Y15
	loadArgs()
	for i := 0; i < n; i++ {
		VXORPS(ymm(i), ymm(i), ymm(i))
	}
	kloop(name, r, nr, 4, func(i, grp int) {
		VMOVUPS(Mem{Base: rB, Disp: i * nr * 4}, b0)
		VMOVUPS(Mem{Base: rB, Disp: i*nr*4 + 32}, b1)
		for j := 0; j < r; j++ {
			bc := bc0
			if j%2 == 1 {
				bc = bc1
			}
			VBROADCASTSS(Mem{Base: rA, Disp: (i*r + j) * 4}, bc)
			VFMADD231PS(b0, bc, acc[grp][j][0])
			VFMADD231PS(b1, bc, acc[grp][j][1])
		}
	})
	for grp := 1; grp < g; grp++ {
		for j := 0; j < r; j++ {
			VADDPS(acc[grp][j][0], acc[0][j][0], acc[0][j][0])
			VADDPS(acc[grp][j][1], acc[0][j][1], acc[0][j][1])
		}
	}

	Load(Param("nrem"), RCX)
	CMPQ(RCX, U32(nr))
	JNE(LabelRef(name + "_masked"))
	avx2Epilogue(name+"_full", r, acc[0], false)
	Label(name + "_masked")
	avx2Epilogue(name+"_part", r, acc[0], true)
}

// avx2Epilogue finishes an AVX2 tile; masked reads and writes only the
// first nrem columns (VMASKMOVPS does not fault on the masked-off lanes).
func avx2Epilogue(name string, r int, acc [][2]VecPhysical, masked bool) {
	m0, m1, t0, t1 := Y12, Y13, Y14, Y15
	if masked {
		LEAQ(masks, rTmp)
		MOVQ(U32(16), rTmp2)
		SUBQ(RCX, rTmp2)
		VMOVDQU(Mem{Base: rTmp, Index: rTmp2, Scale: 4}, m0)
		VMOVDQU(Mem{Base: rTmp, Index: rTmp2, Scale: 4, Disp: 32}, m1)
	}
	load := func(m Mem, half int, dst VecPhysical) {
		if !masked {
			VMOVUPS(m, dst)
			return
		}
		mask := m0
		if half == 1 {
			mask = m1
		}
		VMASKMOVPS(m, mask, dst)
	}

	TESTQ(U32(flagAccumulate), rFlags)
	JEQ(LabelRef(name + "_noacc"))
	rows(r, func(j int) {
		for h := 0; h < 2; h++ {
			load(Mem{Base: rRow, Disp: 32 * h}, h, t0)
			VADDPS(t0, acc[j][h], acc[j][h])
		}
	})
	Label(name + "_noacc")

	TESTQ(rRowb, rRowb)
	JEQ(LabelRef(name + "_norowb"))
	for j := 0; j < r; j++ {
		VBROADCASTSS(Mem{Base: rRowb, Disp: 4 * j}, t0)
		VADDPS(t0, acc[j][0], acc[j][0])
		VADDPS(t0, acc[j][1], acc[j][1])
	}
	Label(name + "_norowb")

	TESTQ(rColb, rColb)
	JEQ(LabelRef(name + "_nocolb"))
	if masked {
		// Only two registers are spare here: reload the bias per half.
		for h := 0; h < 2; h++ {
			load(Mem{Base: rColb, Disp: 32 * h}, h, t0)
			for j := 0; j < r; j++ {
				VADDPS(t0, acc[j][h], acc[j][h])
			}
		}
	} else {
		VMOVUPS(Mem{Base: rColb}, t0)
		VMOVUPS(Mem{Base: rColb, Disp: 32}, t1)
		for j := 0; j < r; j++ {
			VADDPS(t0, acc[j][0], acc[j][0])
			VADDPS(t1, acc[j][1], acc[j][1])
		}
	}
	Label(name + "_nocolb")

	TESTQ(U32(flagRelu), rFlags)
	JEQ(LabelRef(name + "_norelu"))
	VXORPS(t0, t0, t0)
	for j := 0; j < r; j++ {
		VMAXPS(t0, acc[j][0], acc[j][0])
		VMAXPS(t0, acc[j][1], acc[j][1])
	}
	Label(name + "_norelu")

	TESTQ(U32(flagLeaky), rFlags)
	JEQ(LabelRef(name + "_noleaky"))
	VBROADCASTSS(paramAddr("alpha"), t0)
	for j := 0; j < r; j++ {
		for h := 0; h < 2; h++ {
			// Negative lanes have the sign bit set, which is what
			// VBLENDVPS selects on.
			VMULPS(t0, acc[j][h], t1)
			VBLENDVPS(acc[j][h], t1, acc[j][h], acc[j][h])
		}
	}
	Label(name + "_noleaky")

	rows(r, func(j int) {
		for h := 0; h < 2; h++ {
			m := Mem{Base: rRow, Disp: 32 * h}
			if masked {
				mask := m0
				if h == 1 {
					mask = m1
				}
				VMASKMOVPS(acc[j][h], mask, m)
			} else {
				VMOVUPS(acc[j][h], m)
			}
		}
	})
	VZEROUPPER()
	RET()
}

var zmms = []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
	Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31}

var ymms = []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}

func zmm(i int) VecPhysical { return zmms[i] }
func ymm(i int) VecPhysical { return ymms[i] }

func paramAddr(name string) Mem {
	b, err := Param(name).Resolve()
	if err != nil {
		panic(err)
	}
	return b.Addr
}
