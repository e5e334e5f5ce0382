package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// refGemm is the triple loop in float64, also returning per element the sum
// of magnitudes that bounds the rounding error.
func refGemm(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, ep Epilogue) (want, mag []float64) {
	want = make([]float64, m*n)
	mag = make([]float64, m*n)
	for i := range m {
		for j := range n {
			var s, g float64
			for p := range k {
				x := float64(a[i*lda+p]) * float64(b[p*ldb+j])
				s += x
				g += math.Abs(x)
			}
			if ep.Accumulate {
				s += float64(c[i*ldc+j])
				g += math.Abs(float64(c[i*ldc+j]))
			}
			if ep.RowBias != nil {
				s += float64(ep.RowBias[i])
				g += math.Abs(float64(ep.RowBias[i]))
			}
			if ep.ColBias != nil {
				s += float64(ep.ColBias[j])
				g += math.Abs(float64(ep.ColBias[j]))
			}
			switch {
			case ep.Relu:
				s = max(s, 0)
			case ep.LeakyAlpha != 0 && s < 0:
				s *= float64(ep.LeakyAlpha)
				g *= math.Abs(float64(ep.LeakyAlpha))
			}
			want[i*n+j] = s
			mag[i*n+j] = g
		}
	}
	return want, mag
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

func transpose(rows, cols int, a []float32, lda int, ldt int) []float32 {
	t := make([]float32, (cols-1)*ldt+rows)
	for i := range rows {
		for j := range cols {
			t[j*ldt+i] = a[i*lda+j]
		}
	}
	return t
}

// checkC compares c against the reference and checks that the gap between
// rows (ldc > n) kept its old values.
func checkC(t *testing.T, m, n, k int, c, old []float32, ldc int, want, mag []float64) {
	t.Helper()
	bad := 0
	for i := range m {
		for j := range ldc {
			if i == m-1 && j >= n {
				break
			}
			got := c[i*ldc+j]
			if j >= n {
				if got != old[i*ldc+j] && !(math.IsNaN(float64(got)) && math.IsNaN(float64(old[i*ldc+j]))) {
					t.Errorf("C[%d][%d] outside the result changed: got %v, want %v", i, j, got, old[i*ldc+j])
					bad++
				}
				continue
			}
			w := want[i*n+j]
			tol := 1e-6*float64(k+4)*mag[i*n+j] + 1e-30
			if d := math.Abs(float64(got) - w); !(d <= tol) {
				t.Errorf("C[%d][%d]: got %v, want %v (tolerance %g)", i, j, got, w, tol)
				bad++
			}
			if bad > 5 {
				t.FailNow()
			}
		}
	}
}

type shape struct{ m, n, k int }

func gemmShapes() []shape {
	var out []shape
	for _, m := range []int{1, 2, 3, 4, 5, 6, 7, 8, 11, 13, 14, 15, 16, 17, 28, 29, 33} {
		for _, n := range []int{1, 3, 15, 16, 17, 31, 32, 33, 47, 64, 65} {
			for _, k := range []int{1, 2, 3, 5, 8, 25} {
				out = append(out, shape{m, n, k})
			}
		}
	}
	// Sizes that cross the k, row and column blocks.
	out = append(out, shape{1, 128, 512}, shape{10, 10, 300}, shape{200, 40, 257},
		shape{5, 4100, 3}, shape{30, 4200, 513}, shape{16, 576, 25}, shape{0, 5, 5}, shape{5, 0, 5}, shape{5, 5, 0})
	return out
}

func epilogues(m, n int, r *rand.Rand) map[string]Epilogue {
	rb, cb := randSlice(r, m), randSlice(r, n)
	eps := map[string]Epilogue{}
	for _, acc := range []bool{false, true} {
		for _, bias := range []string{"none", "row", "col", "both"} {
			for _, act := range []string{"none", "relu", "leaky"} {
				ep := Epilogue{Accumulate: acc}
				if bias == "row" || bias == "both" {
					ep.RowBias = rb
				}
				if bias == "col" || bias == "both" {
					ep.ColBias = cb
				}
				switch act {
				case "relu":
					ep.Relu = true
				case "leaky":
					ep.LeakyAlpha = 0.125
				}
				eps[fmt.Sprintf("acc=%v,bias=%s,act=%s", acc, bias, act)] = ep
			}
		}
	}
	return eps
}

// runGemm packs A and B from strided sources the way trans says and runs
// Gemm, returning C (with row stride ldc) and its value before.
func runGemm(s *Set, sh shape, a []float32, lda int, b []float32, ldb int, transA, transB bool, c0 []float32, ldc int, ep Epilogue) []float32 {
	m, n, k := sh.m, sh.n, sh.k
	pa := make([]float32, s.PackASize(m, k))
	pb := make([]float32, s.PackBSize(k, n))
	if m > 0 && k > 0 {
		if transA {
			s.PackAT(pa, m, k, transpose(m, k, a, lda, m+2), m+2)
		} else {
			s.PackA(pa, m, k, a, lda)
		}
	}
	if k > 0 && n > 0 {
		if transB {
			s.PackBT(pb, k, n, transpose(k, n, b, ldb, k+1), k+1)
		} else {
			s.PackB(pb, k, n, b, ldb)
		}
	}
	c := slices.Clone(c0)
	s.Gemm(m, n, k, pa, pb, c, ldc, ep)
	return c
}

func TestGemm(t *testing.T) {
	for _, s := range Available() {
		t.Run("set="+s.Name(), func(t *testing.T) {
			t.Parallel()
			r := rand.New(rand.NewPCG(1, 2))
			for _, sh := range gemmShapes() {
				m, n, k := sh.m, sh.n, sh.k
				lda, ldb, ldc := k+3, n+5, n+7
				a := randSlice(r, max(0, (m-1)*lda+k))
				b := randSlice(r, max(0, (k-1)*ldb+n))
				c0 := randSlice(r, max(0, (m-1)*ldc+n+3)) // 3 spare at the end, which must stay
				big := m*n*k > 200000
				for name, ep := range epilogues(m, n, r) {
					if big && name != "acc=true,bias=both,act=leaky" && name != "acc=false,bias=none,act=relu" {
						continue
					}
					for _, tr := range [][2]bool{{false, false}, {true, true}, {false, true}, {true, false}} {
						c := runGemm(s, sh, a, lda, b, ldb, tr[0], tr[1], c0, ldc, ep)
						if m == 0 || n == 0 {
							if !slices.Equal(c, c0) {
								t.Fatalf("%v: empty product changed C", sh)
							}
							continue
						}
						want, mag := refGemm(m, n, k, a, lda, b, ldb, c0, ldc, ep)
						t.Run(fmt.Sprintf("m=%d,n=%d,k=%d,%s,transA=%v,transB=%v", m, n, k, name, tr[0], tr[1]), func(t *testing.T) {
							checkC(t, m, n, k, c, c0, ldc, want, mag)
							if tail := c[len(c)-3:]; !slices.Equal(tail, c0[len(c0)-3:]) {
								t.Errorf("the floats after C changed: got %v, want %v", tail, c0[len(c0)-3:])
							}
						})
					}
					if t.Failed() {
						return
					}
				}
			}
		})
	}
}

func TestPackedSizes(t *testing.T) {
	for _, s := range Available() {
		for _, sh := range []shape{{1, 1, 1}, {7, 33, 5}, {100, 100, 100}} {
			if got := s.PackASize(sh.m, sh.k); got < sh.m*sh.k {
				t.Errorf("%s: PackASize(%d, %d) = %d, want ≥ %d", s.Name(), sh.m, sh.k, got, sh.m*sh.k)
			}
			if got := s.PackBSize(sh.k, sh.n); got < sh.k*sh.n {
				t.Errorf("%s: PackBSize(%d, %d) = %d, want ≥ %d", s.Name(), sh.k, sh.n, got, sh.k*sh.n)
			}
		}
	}
}

// refIm2col is the convolution's B matrix (k×n, row-major), built the
// obvious way.
func refIm2col(img []float32, g ConvGeom) []float32 {
	k, n := g.K(), g.N()
	out := make([]float32, k*n)
	for c := range g.C {
		for ky := range g.KH {
			for kx := range g.KW {
				row := (c*g.KH+ky)*g.KW + kx
				for oy := range g.OH {
					for ox := range g.OW {
						y := oy*g.StrideH + ky*g.DilH - g.PadTop
						x := ox*g.StrideW + kx*g.DilW - g.PadLeft
						if y >= 0 && y < g.H && x >= 0 && x < g.W {
							out[row*n+oy*g.OW+ox] = img[c*g.H*g.W+y*g.W+x]
						}
					}
				}
			}
		}
	}
	return out
}

// geom fills OH and OW from symmetric padding (bottom/right = pb, pr).
func geom(c, h, w, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw int) ConvGeom {
	return ConvGeom{C: c, H: h, W: w, KH: kh, KW: kw, StrideH: sh, StrideW: sw, PadTop: pt, PadLeft: pl, DilH: dh, DilW: dw,
		OH: (h+pt+pb-(dh*(kh-1)+1))/sh + 1, OW: (w+pl+pr-(dw*(kw-1)+1))/sw + 1}
}

func convGeoms() []ConvGeom {
	return []ConvGeom{
		geom(1, 28, 28, 5, 5, 1, 1, 0, 0, 0, 0, 1, 1),
		geom(16, 12, 12, 5, 5, 1, 1, 0, 0, 0, 0, 1, 1),
		geom(3, 9, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1),
		geom(2, 10, 11, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1),
		geom(2, 10, 11, 3, 2, 2, 3, 0, 2, 1, 0, 1, 1),
		geom(4, 8, 8, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1),
		geom(4, 8, 9, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1),
		geom(2, 9, 9, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2),
		geom(1, 3, 2, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1),   // kernel larger than the input
		geom(1, 2, 2, 7, 7, 1, 1, 3, 4, 3, 4, 1, 1),   // more padding than image
		geom(3, 5, 5, 3, 3, 3, 3, 4, 4, 4, 4, 2, 1),   // taps wholly in the padding
		geom(2, 40, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1), // n crosses several panels
		geom(1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1),
	}
}

func TestPackConvB(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, s := range Available() {
		for _, g := range convGeoms() {
			t.Run(fmt.Sprintf("set=%s,%+v", s.Name(), g), func(t *testing.T) {
				img := randSlice(r, g.C*g.H*g.W)
				k, n := g.K(), g.N()
				ref := refIm2col(img, g)
				want := make([]float32, s.PackBSize(k, n))
				s.PackB(want, k, n, ref, n)
				got := make([]float32, len(want))
				for i := range got {
					got[i] = float32(math.NaN()) // every element must be written
				}
				s.PackConvB(got, img, g)
				if i := firstDiff(got, want); i >= 0 {
					t.Fatalf("packed B differs at %d: got %v, want %v", i, got[i], want[i])
				}
				// And the product through it, as the backend runs it.
				m := 5
				a := randSlice(r, m*k)
				pa := make([]float32, s.PackASize(m, k))
				s.PackA(pa, m, k, a, k)
				c := make([]float32, m*n)
				bias := randSlice(r, m)
				ep := Epilogue{RowBias: bias, Relu: true}
				s.Gemm(m, n, k, pa, got, c, n, ep)
				wantC, mag := refGemm(m, n, k, a, k, ref, n, nil, n, ep)
				checkC(t, m, n, k, c, c, n, wantC, mag)
			})
		}
	}
}

func firstDiff(a, b []float32) int {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i
		}
	}
	return -1
}

func TestNoAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, s := range Available() {
		m, n, k := 17, 70, 300
		a, b := randSlice(r, m*k), randSlice(r, k*n)
		pa := make([]float32, s.PackASize(m, k))
		pb := make([]float32, s.PackBSize(k, n))
		c := make([]float32, m*n)
		ep := Epilogue{RowBias: randSlice(r, m), ColBias: randSlice(r, n), LeakyAlpha: 0.1}
		g := geom(3, 12, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1)
		img := randSlice(r, 3*12*12)
		pc := make([]float32, s.PackBSize(g.K(), g.N()))
		for name, f := range map[string]func(){
			"Gemm":      func() { s.Gemm(m, n, k, pa, pb, c, n, ep) },
			"PackA":     func() { s.PackA(pa, m, k, a, k) },
			"PackAT":    func() { s.PackAT(pa, m, k, a, m) },
			"PackB":     func() { s.PackB(pb, k, n, b, n) },
			"PackBT":    func() { s.PackBT(pb, k, n, b, k) },
			"PackConvB": func() { s.PackConvB(pc, img, g) },
		} {
			if got := testing.AllocsPerRun(10, f); got != 0 {
				t.Errorf("%s %s: got %v allocations, want 0", s.Name(), name, got)
			}
		}
	}
}

func TestLookup(t *testing.T) {
	for _, s := range Available() {
		got, err := Lookup(s.Name())
		if err != nil || got != s {
			t.Errorf("Lookup(%q) = %v, %v; want the set", s.Name(), got, err)
		}
	}
	if _, err := Lookup("sse9"); err == nil {
		t.Error(`Lookup("sse9"): got no error`)
	}
	av := Available()
	if av[len(av)-1].Name() != "generic" {
		t.Errorf("Available: got %v, want generic last", av)
	}
	if EnvError() == nil && Default() == nil {
		t.Error("Default: got nil")
	}
}

func TestSetFromEnv(t *testing.T) {
	best := Available()[0]
	for _, tc := range []struct {
		v       string
		want    string
		wantErr bool
	}{
		{"", best.Name(), false},
		{"auto", best.Name(), false},
		{"generic", "generic", false},
		{"nonsense", best.Name(), true},
	} {
		s, err := setFromEnv(tc.v)
		if s.Name() != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("setFromEnv(%q) = %s, %v; want %s, error %v", tc.v, s.Name(), err, tc.want, tc.wantErr)
		}
	}
}

// TestEnvForcesSet starts this test binary again with
// TASKMIND_INFERENCE_KERNELS set, since the package reads it once at
// start-up, and checks the set it then picks.
func TestEnvForcesSet(t *testing.T) {
	if os.Getenv("KERNELS_TEST_CHILD") != "" {
		fmt.Printf("default=%s err=%v\n", Default().Name(), EnvError())
		return
	}
	for _, tc := range []struct{ env, want string }{
		{"generic", "default=generic err=<nil>"},
		{"auto", "default=" + Available()[0].Name() + " err=<nil>"},
		{"sse9", "default=" + Available()[0].Name() + ` err=TASKMIND_INFERENCE_KERNELS: unknown kernel set "sse9"`},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestEnvForcesSet$", "-test.count=1")
		cmd.Env = append(os.Environ(), "KERNELS_TEST_CHILD=1", EnvVar+"="+tc.env)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s=%s: %v\n%s", EnvVar, tc.env, err, out)
		}
		if !strings.Contains(string(out), tc.want) {
			t.Errorf("%s=%s: got %q, want %q", EnvVar, tc.env, out, tc.want)
		}
	}
}
