package registry

import (
	"context"
	"image"
	"image/color"
	_ "image/png" // PNG uploads
	"io"
	"math"

	"golang.org/x/image/draw"

	"github.com/taskmind/taskmind/internal/apperr"
	"github.com/taskmind/taskmind/internal/inference"
)

// DigitSide is the MNIST image size.
const DigitSide = 28

// Digit is a classified digit.
type Digit struct {
	Digit         int
	Probabilities []float64
	Model         string
	Version       string
}

// ClassifyDigit runs a digit model on 28x28 grayscale pixels in [0,1]
// (0 = background). Models whose output is not already a probability
// distribution (raw logits, like the ONNX zoo's mnist) get a softmax.
func (r *Registry) ClassifyDigit(ctx context.Context, model string, pixels []float64) (Digit, error) {
	if model == "" {
		model = r.builtin.Name
	}
	if len(pixels) != DigitSide*DigitSide {
		return Digit{}, apperr.Invalid("pixels", "pixels must hold %d values (28x28), got %d", DigitSide*DigitSide, len(pixels))
	}
	data := make([]float32, len(pixels))
	for i, p := range pixels {
		if math.IsNaN(p) || p < 0 || p > 1 {
			return Digit{}, apperr.Invalid("pixels", "pixel %d is %v; values must be between 0 and 1", i, p)
		}
		data[i] = float32(p)
	}
	info, err := r.engine.Model(model)
	if err != nil {
		return Digit{}, engineError(err)
	}
	if len(info.Inputs) != 1 || !digitShape(info.Inputs[0].Shape) || len(info.Outputs) == 0 || lastDim(info.Outputs[0].Shape) != 10 {
		return Digit{}, apperr.Invalid("model", "model %q does not take a 28x28 image and return 10 classes", model)
	}
	res, err := r.Predict(ctx, model, []inference.Tensor{{Name: info.Inputs[0].Name, Shape: info.Inputs[0].Shape, Data: data}}, "graphql")
	if err != nil {
		return Digit{}, err
	}
	probs := toProbabilities(res.Tensors[0].Data)
	return Digit{Digit: res.Top, Probabilities: probs, Model: res.Model, Version: res.Version}, nil
}

func digitShape(s []int) bool {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n == DigitSide*DigitSide && len(s) >= 2 && s[len(s)-1] == DigitSide && s[len(s)-2] == DigitSide
}

func lastDim(s []int) int {
	if len(s) == 0 {
		return 0
	}
	return s[len(s)-1]
}

func toProbabilities(xs []float32) []float64 {
	out := make([]float64, len(xs))
	sum, inRange := 0.0, true
	for i, x := range xs {
		out[i] = float64(x)
		sum += out[i]
		if x < 0 || x > 1 {
			inRange = false
		}
	}
	if inRange && math.Abs(sum-1) < 1e-3 {
		return out
	}
	maxv := math.Inf(-1)
	for _, x := range out {
		maxv = math.Max(maxv, x)
	}
	sum = 0
	for i, x := range out {
		out[i] = math.Exp(x - maxv)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

// maxImageSide and maxImagePixels bound decoded PNGs, read from the header
// before decoding, so a small file cannot expand into a huge bitmap (a
// 108 KB file can claim 4096x4096).
const (
	maxImageSide   = 4096
	maxImagePixels = 4 << 20
)

// DecodeDigit turns a PNG of a handwritten digit into MNIST-style input:
// grayscale, inverted when the background is light, the ink's bounding box
// scaled to fit 20x20 and centred by its centre of mass in 28x28.
func DecodeDigit(rs io.ReadSeeker) ([]float64, error) {
	cfg, _, err := image.DecodeConfig(rs)
	if err != nil {
		return nil, apperr.Invalid("image", "image must be a PNG file")
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > maxImageSide || cfg.Height > maxImageSide {
		return nil, apperr.Invalid("image", "image must be between 1x1 and %dx%d pixels", maxImageSide, maxImageSide)
	}
	if cfg.Width*cfg.Height > maxImagePixels {
		return nil, apperr.Invalid("image", "image has %dx%d pixels; the limit is %d pixels", cfg.Width, cfg.Height, maxImagePixels)
	}
	if _, err := rs.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	img, _, err := image.Decode(rs)
	if err != nil {
		return nil, apperr.Invalid("image", "image could not be decoded as PNG")
	}
	b := img.Bounds()
	gray := make([]float64, b.Dx()*b.Dy())
	mean := 0.0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			g := color.GrayModel.Convert(img.At(x, y)).(color.Gray)
			_, _, _, a := img.At(x, y).RGBA()
			v := float64(g.Y) / 255
			if a < 0x8000 { // transparent counts as background (white paper)
				v = 1
			}
			gray[(y-b.Min.Y)*b.Dx()+(x-b.Min.X)] = v
			mean += v
		}
	}
	mean /= float64(len(gray))
	if mean > 0.5 { // dark ink on light paper: MNIST is light ink on black
		for i := range gray {
			gray[i] = 1 - gray[i]
		}
	}
	return centre(gray, b.Dx(), b.Dy()), nil
}

// centre crops to the ink, scales it into 20x20 keeping the aspect ratio,
// and places its centre of mass at the middle of a 28x28 frame.
func centre(gray []float64, w, h int) []float64 {
	minX, minY, maxX, maxY := w, h, -1, -1
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if gray[y*w+x] > 0.1 {
				minX, minY = min(minX, x), min(minY, y)
				maxX, maxY = max(maxX, x), max(maxY, y)
			}
		}
	}
	out := make([]float64, DigitSide*DigitSide)
	if maxX < 0 {
		return out // blank image
	}
	cw, ch := maxX-minX+1, maxY-minY+1
	src := image.NewGray(image.Rect(0, 0, cw, ch))
	for y := 0; y < ch; y++ {
		for x := 0; x < cw; x++ {
			src.Pix[y*src.Stride+x] = uint8(math.Round(gray[(minY+y)*w+minX+x] * 255))
		}
	}
	scale := 20 / float64(max(cw, ch))
	sw, sh := max(1, int(math.Round(float64(cw)*scale))), max(1, int(math.Round(float64(ch)*scale)))
	scaled := image.NewGray(image.Rect(0, 0, sw, sh))
	draw.CatmullRom.Scale(scaled, scaled.Bounds(), src, src.Bounds(), draw.Src, nil)

	var mass, cx, cy float64
	for y := 0; y < sh; y++ {
		for x := 0; x < sw; x++ {
			v := float64(scaled.Pix[y*scaled.Stride+x]) / 255
			mass += v
			cx += v * float64(x)
			cy += v * float64(y)
		}
	}
	ox, oy := (DigitSide-sw)/2, (DigitSide-sh)/2
	if mass > 0 {
		ox = int(math.Round(DigitSide/2 - cx/mass - 0.5))
		oy = int(math.Round(DigitSide/2 - cy/mass - 0.5))
	}
	for y := 0; y < sh; y++ {
		for x := 0; x < sw; x++ {
			tx, ty := x+ox, y+oy
			if tx >= 0 && tx < DigitSide && ty >= 0 && ty < DigitSide {
				out[ty*DigitSide+tx] = float64(scaled.Pix[y*scaled.Stride+x]) / 255
			}
		}
	}
	return out
}
