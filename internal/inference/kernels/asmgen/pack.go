package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The convolution packers write the B rows of one kernel row ky (every
// channel c and every tap kx) of an implicit im2col, horizontal stride 1,
// into nr-wide column panels:
//
//	func(d, s *float32, nr, ps, cstep, plane, c, kw, dw, left, w, step, ow, oh, oyLo, oyHi int)
//
// d is row (0, ky, 0) in the first panel, ps the panel size (nr·k), cstep
// the distance from one channel's rows to the next (KH·KW·nr). s is line
// y0 + oyLo·StrideH of channel 0 (any valid address when oyLo = oyHi), step
// the distance between the lines of consecutive output rows (StrideH·W),
// plane that between channels. Output rows outside [oyLo, oyHi) read the
// vertical padding; within a row, tap kx reads columns x0+ox with
// x0 = kx·dw − left, zeros where that falls outside [0, w).
//
// A B row is OH runs of OW values that cross panel boundaries wherever
// OW does not divide nr; the packers cut every run into chunks that stay
// in one panel, and zero the rest of the last panel's row. Doing the whole
// kernel row in one call is the point: a run is often 8 values, and Go's
// per-run bookkeeping cost more than the copy.
const convSignature = "func(d, s *float32, nr, ps, cstep, plane, c, kw, dw, left, w, step, ow, oh, oyLo, oyHi int)"

// Registers of the packers.
var (
	pL   = RAX // chunk length
	pT   = RBX
	pN   = RCX // what is left of the current segment
	pSC  = RDX // channel's first line
	pD   = RDI // destination cursor
	pS   = RSI // source cursor
	pPR  = R8  // what is left of the current panel row
	pOy  = R9
	pRun = R10 // next run's source
	pLo  = R11
	pHi  = R12
	pKx  = R13
	pDC  = R14 // channel's first row
)

// convISA is what differs between the AVX-512 and AVX2 packers: the widest
// chunk and how one chunk of pL values is copied or zeroed.
type convISA struct {
	name  string
	width int
	// setup runs once (zero registers, constants).
	setup func()
	// copy and zero move pL values (1..width) from pS to pD.
	copy, zero func(name string)
}

func convPackers() {
	convPacker(convISA{
		name: "convRowsAVX512", width: 16,
		setup: func() { VPXORD(Z31, Z31, Z31) },
		copy: func(string) {
			avx512Mask(K1)
			VMOVUPS_Z(Mem{Base: pS}, K1, Z0)
			VMOVUPS(Z0, K1, Mem{Base: pD})
		},
		zero: func(string) {
			avx512Mask(K1)
			VMOVUPS(Z31, K1, Mem{Base: pD})
		},
	})
	convPacker(convISA{
		name: "convRowsAVX2", width: 8,
		setup: func() { VXORPS(Y15, Y15, Y15) },
		copy: func(name string) {
			CMPQ(pL, U8(8))
			JNE(LabelRef(name + "_part"))
			VMOVUPS(Mem{Base: pS}, Y0)
			VMOVUPS(Y0, Mem{Base: pD})
			JMP(LabelRef(name + "_moved"))
			Label(name + "_part")
			avx2Mask(Y1)
			VMASKMOVPS(Mem{Base: pS}, Y1, Y0)
			VMASKMOVPS(Y0, Y1, Mem{Base: pD})
			Label(name + "_moved")
		},
		zero: func(string) {
			avx2Mask(Y1)
			VMASKMOVPS(Y15, Y1, Mem{Base: pD})
		},
	})
}

// avx512Mask sets k to the low pL lanes.
func avx512Mask(k Op) {
	MOVQ(I32(-1), pT)
	BZHIQ(pL, pT, pT)
	KMOVW(pT.As32(), k)
}

// avx2Mask loads the mask of the low pL lanes from avx2masks.
func avx2Mask(y Op) {
	LEAQ(masks, pT)
	NEGQ(pL)
	VMOVDQU(Mem{Base: pT, Index: pL, Scale: 4, Disp: 64}, y)
	NEGQ(pL)
}

func convPacker(isa convISA) {
	name := isa.name
	TEXT(name, NOSPLIT, convSignature)
	Doc(fmt.Sprintf("%s packs one kernel row of an implicit im2col (see the asmgen command).", name))
	arg := func(n string) Mem { return paramAddr(n) }
	// The channel counter lives on the stack: R15 is off limits (a global
	// access clobbers it when dynamic linking) and the others are taken.
	ci := AllocLocal(8)
	isa.setup()
	Load(Param("d"), pDC)
	Load(Param("s"), pSC)
	MOVQ(U32(0), ci)
	Label(name + "_chan")
	MOVQ(ci, pT)
	CMPQ(pT, arg("c"))
	JGE(LabelRef(name + "_end"))
	XORQ(pKx, pKx)
	Label(name + "_tap")
	CMPQ(pKx, arg("kw"))
	JGE(LabelRef(name + "_nextchan"))

	// x0 = kx·dw − left; lo = clamp(−x0, 0, ow); hi = clamp(w − x0, lo, ow).
	MOVQ(pKx, pT)
	IMULQ(arg("dw"), pT)
	SUBQ(arg("left"), pT)
	XORQ(pLo, pLo)
	MOVQ(pT, pL)
	NEGQ(pL)
	CMPQ(pL, pLo)
	CMOVQGT(pL, pLo)
	CMPQ(pLo, arg("ow"))
	CMOVQGT(arg("ow"), pLo)
	MOVQ(arg("w"), pHi)
	SUBQ(pT, pHi)
	CMPQ(pHi, arg("ow"))
	CMOVQGT(arg("ow"), pHi)
	CMPQ(pHi, pLo)
	CMOVQLT(pLo, pHi)
	// The first run reads from column x0 + lo of the first line.
	ADDQ(pLo, pT)
	LEAQ(Mem{Base: pSC, Index: pT, Scale: 4}, pRun)
	// The row starts at pDC + kx·nr.
	MOVQ(pKx, pT)
	IMULQ(arg("nr"), pT)
	LEAQ(Mem{Base: pDC, Index: pT, Scale: 4}, pD)
	MOVQ(arg("nr"), pPR)

	XORQ(pOy, pOy)
	Label(name + "_run")
	CMPQ(pOy, arg("oh"))
	JGE(LabelRef(name + "_rowend"))
	CMPQ(pOy, arg("oyLo"))
	JLT(LabelRef(name + "_padrun"))
	CMPQ(pOy, arg("oyHi"))
	JGE(LabelRef(name + "_padrun"))
	MOVQ(pLo, pN)
	segment(isa, name+"_lz", false)
	MOVQ(pRun, pS)
	MOVQ(pHi, pN)
	SUBQ(pLo, pN)
	segment(isa, name+"_data", true)
	MOVQ(arg("ow"), pN)
	SUBQ(pHi, pN)
	segment(isa, name+"_rz", false)
	MOVQ(arg("step"), pT)
	LEAQ(Mem{Base: pRun, Index: pT, Scale: 4}, pRun)
	JMP(LabelRef(name + "_nextrun"))
	Label(name + "_padrun")
	MOVQ(arg("ow"), pN)
	segment(isa, name+"_pad", false)
	Label(name + "_nextrun")
	INCQ(pOy)
	JMP(LabelRef(name + "_run"))

	Label(name + "_rowend")
	// Zero the rest of the last panel's row.
	CMPQ(pPR, arg("nr"))
	JEQ(LabelRef(name + "_nexttap"))
	MOVQ(pPR, pN)
	segment(isa, name+"_fill", false)
	Label(name + "_nexttap")
	INCQ(pKx)
	JMP(LabelRef(name + "_tap"))

	Label(name + "_nextchan")
	MOVQ(arg("cstep"), pT)
	LEAQ(Mem{Base: pDC, Index: pT, Scale: 4}, pDC)
	MOVQ(arg("plane"), pT)
	LEAQ(Mem{Base: pSC, Index: pT, Scale: 4}, pSC)
	INCQ(ci)
	JMP(LabelRef(name + "_chan"))
	Label(name + "_end")
	VZEROUPPER()
	RET()
}

// segment emits the copy (data) or zeroing of pN values at pD, in chunks
// of at most isa.width that never cross the end of a panel's row; at that
// end pD moves on to the same row of the next panel.
func segment(isa convISA, name string, data bool) {
	arg := func(n string) Mem { return paramAddr(n) }
	Label(name)
	TESTQ(pN, pN)
	JEQ(LabelRef(name + "_done"))
	// pL = min(pN, pPR, width)
	MOVQ(pN, pL)
	CMPQ(pL, pPR)
	CMOVQGT(pPR, pL)
	MOVQ(U32(isa.width), pT)
	CMPQ(pL, pT)
	CMOVQGT(pT, pL)
	if data {
		isa.copy(name)
		LEAQ(Mem{Base: pS, Index: pL, Scale: 4}, pS)
	} else {
		isa.zero(name)
	}
	LEAQ(Mem{Base: pD, Index: pL, Scale: 4}, pD)
	SUBQ(pL, pN)
	SUBQ(pL, pPR)
	JNE(LabelRef(name))
	MOVQ(arg("ps"), pT)
	SUBQ(arg("nr"), pT)
	LEAQ(Mem{Base: pD, Index: pT, Scale: 4}, pD)
	MOVQ(arg("nr"), pPR)
	JMP(LabelRef(name))
	Label(name + "_done")
}

// The 2×2 max-pooling kernels (stride 2, windows inside the plane):
//
//	func(dst, src *float32, rows, ow, w int)
//
// Output row i (ow values at dst + i·ow) is the maximum over the window at
// src + 2i·w: lines 2i and 2i+1, columns 2ox and 2ox+1. A caller whose
// planes have an even height passes all their rows at once.
const poolSignature = "func(dst, src *float32, rows, ow, w int)"

func poolKernels() {
	poolAVX512()
	poolAVX2()
}

// Registers of the pooling kernels.
var (
	qD    = RDI
	qS    = RSI
	qRows = RCX
	qOw   = R8
	qW    = R9 // line length in bytes
	qN    = R10
	qS0   = R11
	qS1   = R12
	qT    = RAX
)

func poolArgs() {
	Load(Param("dst"), qD)
	Load(Param("src"), qS)
	Load(Param("rows"), qRows)
	Load(Param("ow"), qOw)
	Load(Param("w"), qW)
	SHLQ(U8(2), qW)
}

// poolRows emits the loop over output rows around body, which pools qN
// outputs from the lines at qS0 and qS1 into qD, advancing all three.
func poolRows(name string, body func()) {
	TESTQ(qRows, qRows)
	JEQ(LabelRef(name + "_end"))
	Label(name + "_row")
	MOVQ(qS, qS0)
	LEAQ(Mem{Base: qS, Index: qW, Scale: 1}, qS1)
	MOVQ(qOw, qN)
	body()
	LEAQ(Mem{Base: qS, Index: qW, Scale: 2}, qS)
	DECQ(qRows)
	JNE(LabelRef(name + "_row"))
	Label(name + "_end")
	VZEROUPPER()
	RET()
}

func poolAVX512() {
	name := "maxPool2x2AVX512"
	TEXT(name, NOSPLIT, poolSignature)
	Doc(name + " is 2×2 max pooling with stride 2 (see the asmgen command).")
	poolArgs()
	poolRows(name, func() {
		// Eight outputs at a time: the vertical maximum of sixteen
		// columns, then each pair's odd lane shifted onto its even one,
		// and VPMOVQD keeps the even lanes.
		Label(name + "_chunk")
		CMPQ(qN, U8(8))
		JLT(LabelRef(name + "_tail"))
		VMOVUPS(Mem{Base: qS0}, Z0)
		// The operand order keeps the first of equal or unordered values,
		// as the Go fallback does.
		VMAXPS(Mem{Base: qS1}, Z0, Z0)
		VPSRLQ(U8(32), Z0, Z1)
		VMAXPS(Z0, Z1, Z0)
		// VPMOVQD to memory is slow on AMD; to a register it is not.
		VPMOVQD(Z0, Y0)
		VMOVUPS(Y0, Mem{Base: qD})
		ADDQ(U8(64), qS0)
		ADDQ(U8(64), qS1)
		ADDQ(U8(32), qD)
		SUBQ(U8(8), qN)
		JMP(LabelRef(name + "_chunk"))

		// Fewer than eight outputs: four with SSE-sized vectors, which is
		// cheaper than the masked path, then the rest through lane masks.
		Label(name + "_tail")
		poolFour(name, name+"_masked")
		Label(name + "_masked")
		TESTQ(qN, qN)
		JEQ(LabelRef(name + "_rowdone"))
		MOVQ(I32(-1), RDX)
		BZHIQ(qN, RDX, RDX)
		KMOVW(EDX, K2) // outputs
		MOVQ(qN, RBX)
		SHLQ(U8(1), RBX)
		MOVQ(I32(-1), RDX)
		BZHIQ(RBX, RDX, RDX)
		KMOVW(EDX, K1) // inputs
		VMOVUPS_Z(Mem{Base: qS0}, K1, Z0)
		VMOVUPS_Z(Mem{Base: qS1}, K1, Z1)
		VMAXPS(Z0, Z1, Z0)
		VPSRLQ(U8(32), Z0, Z1)
		VMAXPS(Z0, Z1, Z0)
		VPMOVQD(Z0, Y0)
		VMOVUPS(Z0, K2, Mem{Base: qD})
		LEAQ(Mem{Base: qS0, Index: qN, Scale: 8}, qS0)
		LEAQ(Mem{Base: qS1, Index: qN, Scale: 8}, qS1)
		LEAQ(Mem{Base: qD, Index: qN, Scale: 4}, qD)
		Label(name + "_rowdone")
	})
}

func poolAVX2() {
	name := "maxPool2x2AVX2"
	TEXT(name, NOSPLIT, poolSignature)
	Doc(name + " is 2×2 max pooling with stride 2 (see the asmgen command).")
	poolArgs()
	poolRows(name, func() {
		// Eight outputs: the vertical maxima of columns 0..7 and 8..15,
		// even and odd columns gathered by VSHUFPS (per 128-bit lane),
		// their maximum put back in order by VPERMPD.
		Label(name + "_eight")
		CMPQ(qN, U8(8))
		JLT(LabelRef(name + "_four"))
		VMOVUPS(Mem{Base: qS0}, Y0)
		VMOVUPS(Mem{Base: qS0, Disp: 32}, Y1)
		VMAXPS(Mem{Base: qS1}, Y0, Y0)
		VMAXPS(Mem{Base: qS1, Disp: 32}, Y1, Y1)
		VSHUFPS(U8(0x88), Y1, Y0, Y2)
		VSHUFPS(U8(0xdd), Y1, Y0, Y3)
		VMAXPS(Y2, Y3, Y0)
		VPERMPD(U8(0xd8), Y0, Y0)
		VMOVUPS(Y0, Mem{Base: qD})
		ADDQ(U8(64), qS0)
		ADDQ(U8(64), qS1)
		ADDQ(U8(32), qD)
		SUBQ(U8(8), qN)
		JMP(LabelRef(name + "_eight"))
		Label(name + "_four")
		poolFour(name, name+"_one")
		Label(name + "_one")
		TESTQ(qN, qN)
		JEQ(LabelRef(name + "_rowdone"))
		VMOVSS(Mem{Base: qS0}, X0)
		VMOVSS(Mem{Base: qS0, Disp: 4}, X1)
		VMOVSS(Mem{Base: qS1}, X2)
		VMOVSS(Mem{Base: qS1, Disp: 4}, X3)
		VMAXSS(X0, X1, X0)
		VMAXSS(X2, X3, X2)
		VMAXSS(X0, X2, X0)
		VMOVSS(X0, Mem{Base: qD})
		ADDQ(U8(8), qS0)
		ADDQ(U8(8), qS1)
		ADDQ(U8(4), qD)
		DECQ(qN)
		JMP(LabelRef(name + "_one"))
		Label(name + "_rowdone")
	})
}

// poolFour emits four outputs from eight columns with 128-bit vectors if
// qN ≥ 4, else jumps to skip.
func poolFour(name, skip string) {
	CMPQ(qN, U8(4))
	JLT(LabelRef(skip))
	VMOVUPS(Mem{Base: qS0}, X0)
	VMOVUPS(Mem{Base: qS0, Disp: 16}, X1)
	VMAXPS(Mem{Base: qS1}, X0, X0)
	VMAXPS(Mem{Base: qS1, Disp: 16}, X1, X1)
	VSHUFPS(U8(0x88), X1, X0, X2)
	VSHUFPS(U8(0xdd), X1, X0, X3)
	VMAXPS(X2, X3, X0)
	VMOVUPS(X0, Mem{Base: qD})
	ADDQ(U8(32), qS0)
	ADDQ(U8(32), qS1)
	ADDQ(U8(16), qD)
	SUBQ(U8(4), qN)
}

// The packers for kernel rows whose taps all lie inside the lines
// horizontally (no left padding, (kw−1)·dw + ow ≤ w), the convolutions
// without padding:
//
//	func(d, s *float32, nr, ps, cstep, plane, c, kw, dw, step, ow, oh, oyLo, oyHi int)
//
// with the arguments of the general packers. Every tap of the row then
// writes its run oy at the same column of its own B row, so one panel
// position serves all kw taps: a run that fits in the current panel is
// kw plain copies, with no per-tap bookkeeping, which is what makes runs
// of 8 (a 5×5 convolution on 12×12) cheap.
const convValidSignature = "func(d, s *float32, nr, ps, cstep, plane, c, kw, dw, step, ow, oh, oyLo, oyHi int)"

// Registers of the valid-row packers beyond those of the general ones.
var (
	pSrcT = R9  // the tap's source in the fast loop
	pDstT = R10 // the tap's destination in the fast loop
	pKc   = R11 // taps left in the fast loop
	pRunV = R12 // this run's source for tap 0
	pOyV  = R13
)

func convValidPackers() {
	convValidPacker(convISA{
		name: "convRowsValidAVX512", width: 16,
		setup: func() { VPXORD(Z31, Z31, Z31) },
		copy: func(string) {
			avx512Mask(K1)
			VMOVUPS_Z(Mem{Base: pS}, K1, Z0)
			VMOVUPS(Z0, K1, Mem{Base: pD})
		},
		zero: func(string) {
			avx512Mask(K1)
			VMOVUPS(Z31, K1, Mem{Base: pD})
		},
	}, func() {
		// K3 holds the run's last ow mod 16 lanes.
		Load(Param("ow"), pL)
		ANDQ(U8(15), pL)
		avx512Mask(K3)
	}, func(full Op, name string) {
		Label(name + "_full")
		TESTQ(full, full)
		JEQ(LabelRef(name + "_part"))
		VMOVUPS(Mem{Base: pS}, Z0)
		VMOVUPS(Z0, Mem{Base: pD})
		ADDQ(U8(64), pS)
		ADDQ(U8(64), pD)
		DECQ(full)
		JMP(LabelRef(name + "_full"))
		Label(name + "_part")
		KORTESTW(K3, K3)
		JEQ(LabelRef(name + "_done"))
		VMOVUPS_Z(Mem{Base: pS}, K3, Z0)
		VMOVUPS(Z0, K3, Mem{Base: pD})
		Label(name + "_done")
	})
	convValidPacker(convISA{
		name: "convRowsValidAVX2", width: 8,
		setup: func() { VXORPS(Y15, Y15, Y15) },
		copy: func(name string) {
			avx2Mask(Y1)
			VMASKMOVPS(Mem{Base: pS}, Y1, Y0)
			VMASKMOVPS(Y0, Y1, Mem{Base: pD})
		},
		zero: func(string) {
			avx2Mask(Y1)
			VMASKMOVPS(Y15, Y1, Mem{Base: pD})
		},
	}, func() {
		// Y14 masks the run's last ow mod 8 lanes.
		Load(Param("ow"), pL)
		ANDQ(U8(7), pL)
		avx2Mask(Y14)
	}, func(full Op, name string) {
		Label(name + "_full")
		TESTQ(full, full)
		JEQ(LabelRef(name + "_part"))
		VMOVUPS(Mem{Base: pS}, Y0)
		VMOVUPS(Y0, Mem{Base: pD})
		ADDQ(U8(32), pS)
		ADDQ(U8(32), pD)
		DECQ(full)
		JMP(LabelRef(name + "_full"))
		Label(name + "_part")
		// A masked store costs microcode even with an empty mask.
		VPTEST(Y14, Y14)
		JEQ(LabelRef(name + "_done"))
		VMASKMOVPS(Mem{Base: pS}, Y14, Y0)
		VMASKMOVPS(Y0, Y14, Mem{Base: pD})
		Label(name + "_done")
	})
}

// convValidPacker emits one valid-row packer. tailMask prepares the mask
// of a run's last ow mod width values; copyRun copies one run from pS to
// pD: full whole vectors then the masked tail (which may be empty).
func convValidPacker(isa convISA, tailMask func(), copyRun func(full Op, name string)) {
	name := isa.name
	TEXT(name, NOSPLIT, convValidSignature)
	Doc(fmt.Sprintf("%s packs one kernel row of an implicit im2col whose taps need no horizontal padding (see the asmgen command).", name))
	arg := func(n string) Mem { return paramAddr(n) }
	ci := AllocLocal(8)
	kx := AllocLocal(8)
	savedD := AllocLocal(8)
	savedPR := AllocLocal(8)
	isa.setup()
	tailMask()
	Load(Param("d"), pDC)
	Load(Param("s"), pSC)
	MOVQ(U32(0), ci)
	Label(name + "_chan")
	MOVQ(ci, pT)
	CMPQ(pT, arg("c"))
	JGE(LabelRef(name + "_end"))
	MOVQ(pDC, pD)
	MOVQ(arg("nr"), pPR)
	MOVQ(pSC, pRunV)
	XORQ(pOyV, pOyV)

	Label(name + "_run")
	CMPQ(pOyV, arg("oh"))
	JGE(LabelRef(name + "_rowend"))
	CMPQ(pOyV, arg("oyLo"))
	JLT(LabelRef(name + "_slow"))
	CMPQ(pOyV, arg("oyHi"))
	JGE(LabelRef(name + "_slow"))
	CMPQ(pPR, arg("ow"))
	JLT(LabelRef(name + "_slow"))

	// The run fits in the panel: one copy per tap.
	MOVQ(arg("kw"), pKc)
	MOVQ(pRunV, pSrcT)
	MOVQ(pD, pDstT)
	Label(name + "_tap")
	MOVQ(pSrcT, pS)
	MOVQ(pDstT, pD)
	Load(Param("ow"), pN)
	SHRQ(U8(map[int]uint8{16: 4, 8: 3}[isa.width]), pN)
	copyRun(pN, name+"_copy")
	MOVQ(arg("dw"), pT)
	LEAQ(Mem{Base: pSrcT, Index: pT, Scale: 4}, pSrcT)
	MOVQ(arg("nr"), pT)
	LEAQ(Mem{Base: pDstT, Index: pT, Scale: 4}, pDstT)
	DECQ(pKc)
	JNE(LabelRef(name + "_tap"))
	// Back to tap 0's row, past the run.
	MOVQ(pDstT, pD)
	MOVQ(arg("kw"), pT)
	IMULQ(arg("nr"), pT)
	NEGQ(pT)
	LEAQ(Mem{Base: pD, Index: pT, Scale: 4}, pD)
	MOVQ(arg("ow"), pT)
	LEAQ(Mem{Base: pD, Index: pT, Scale: 4}, pD)
	SUBQ(pT, pPR)
	JNE(LabelRef(name + "_advance"))
	MOVQ(arg("ps"), pT)
	SUBQ(arg("nr"), pT)
	LEAQ(Mem{Base: pD, Index: pT, Scale: 4}, pD)
	MOVQ(arg("nr"), pPR)
	JMP(LabelRef(name + "_advance"))

	// A run that crosses a panel boundary, or in the vertical padding:
	// the general segments, tap by tap from the same starting point.
	Label(name + "_slow")
	MOVQ(pD, savedD)
	MOVQ(pPR, savedPR)
	MOVQ(U32(0), kx)
	Label(name + "_slowtap")
	MOVQ(kx, pT)
	IMULQ(arg("nr"), pT)
	MOVQ(savedD, pD)
	LEAQ(Mem{Base: pD, Index: pT, Scale: 4}, pD)
	MOVQ(savedPR, pPR)
	MOVQ(arg("ow"), pN)
	CMPQ(pOyV, arg("oyLo"))
	JLT(LabelRef(name + "_slowpad"))
	CMPQ(pOyV, arg("oyHi"))
	JGE(LabelRef(name + "_slowpad"))
	MOVQ(kx, pT)
	IMULQ(arg("dw"), pT)
	LEAQ(Mem{Base: pRunV, Index: pT, Scale: 4}, pS)
	segment(isa, name+"_data", true)
	JMP(LabelRef(name + "_slownext"))
	Label(name + "_slowpad")
	segment(isa, name+"_pad", false)
	Label(name + "_slownext")
	MOVQ(kx, pT)
	INCQ(pT)
	MOVQ(pT, kx)
	CMPQ(pT, arg("kw"))
	JLT(LabelRef(name + "_slowtap"))
	// Every tap ended at the same column: undo the last tap's row offset.
	DECQ(pT)
	IMULQ(arg("nr"), pT)
	NEGQ(pT)
	LEAQ(Mem{Base: pD, Index: pT, Scale: 4}, pD)

	Label(name + "_advance")
	CMPQ(pOyV, arg("oyLo"))
	JLT(LabelRef(name + "_nextrun"))
	MOVQ(arg("step"), pT)
	LEAQ(Mem{Base: pRunV, Index: pT, Scale: 4}, pRunV)
	Label(name + "_nextrun")
	INCQ(pOyV)
	JMP(LabelRef(name + "_run"))

	// Zero the rest of the last panel's row of every tap.
	Label(name + "_rowend")
	CMPQ(pPR, arg("nr"))
	JEQ(LabelRef(name + "_nextchan"))
	MOVQ(pD, savedD)
	MOVQ(pPR, savedPR)
	MOVQ(U32(0), kx)
	Label(name + "_filltap")
	MOVQ(kx, pT)
	IMULQ(arg("nr"), pT)
	MOVQ(savedD, pD)
	LEAQ(Mem{Base: pD, Index: pT, Scale: 4}, pD)
	MOVQ(savedPR, pPR)
	MOVQ(pPR, pN)
	segment(isa, name+"_fill", false)
	MOVQ(kx, pT)
	INCQ(pT)
	MOVQ(pT, kx)
	CMPQ(pT, arg("kw"))
	JLT(LabelRef(name + "_filltap"))

	Label(name + "_nextchan")
	MOVQ(arg("cstep"), pT)
	LEAQ(Mem{Base: pDC, Index: pT, Scale: 4}, pDC)
	MOVQ(arg("plane"), pT)
	LEAQ(Mem{Base: pSC, Index: pT, Scale: 4}, pSC)
	INCQ(ci)
	JMP(LabelRef(name + "_chan"))
	Label(name + "_end")
	VZEROUPPER()
	RET()
}
