// MNIST-style preprocessing of a drawing into the 28x28 input a digit model
// expects. MNIST digits were size-normalised to fit a 20x20 box (keeping the
// aspect ratio, anti-aliased), then placed in a 28x28 field so that their
// centre of mass sits at the centre. Models trained on MNIST do badly on
// drawings that skip either step, so this mirrors it.

export const MNIST_SIZE = 28;
export const MNIST_BOX = 20;

/** A grey image: values in [0,1] (larger = more ink), row-major, width*height long. */
export interface GrayImage {
  width: number;
  height: number;
  data: ArrayLike<number>;
}

/**
 * alphaToGray reads the alpha channel of RGBA pixels (a canvas's ImageData) as
 * ink, so the result does not depend on the stroke colour or the theme.
 */
export function alphaToGray(rgba: ArrayLike<number>, width: number, height: number): GrayImage {
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = (rgba[i * 4 + 3] ?? 0) / 255;
  return { width, height, data };
}

/**
 * resampleArea scales a grey image to outW x outH by area averaging: each
 * output pixel is the mean of the source area it covers, which is what keeps
 * thin strokes visible when a 280 px drawing shrinks to 20 px.
 */
export function resampleArea(src: GrayImage, outW: number, outH: number): Float32Array {
  const sx = src.width / outW;
  const sy = src.height / outH;
  // Horizontal pass, then vertical: area averaging is separable.
  const tmp = new Float32Array(outW * src.height);
  for (let y = 0; y < src.height; y++) {
    for (let ox = 0; ox < outW; ox++) {
      tmp[y * outW + ox] = averageSpan(ox * sx, (ox + 1) * sx, (x) => src.data[y * src.width + x] ?? 0);
    }
  }
  const out = new Float32Array(outW * outH);
  for (let oy = 0; oy < outH; oy++) {
    for (let x = 0; x < outW; x++) {
      out[oy * outW + x] = averageSpan(oy * sy, (oy + 1) * sy, (y) => tmp[y * outW + x] ?? 0);
    }
  }
  return out;
}

// averageSpan averages at(i) over the continuous interval [a,b), weighting
// the partly covered pixels at either end by their coverage.
function averageSpan(a: number, b: number, at: (i: number) => number): number {
  let sum = 0;
  for (let i = Math.floor(a); i < Math.ceil(b); i++) {
    const w = Math.min(b, i + 1) - Math.max(a, i);
    if (w > 0) sum += w * at(i);
  }
  return sum / (b - a);
}

/**
 * preprocessDigit returns 784 values in [0,1], 0 being background: the ink's
 * bounding box scaled to fit 20x20 (aspect kept), shifted so its centre of mass
 * is at the centre of the 28x28 field, then scaled so the darkest pixel is 1.
 * An image without ink gives all zeros.
 */
export function preprocessDigit(img: GrayImage, threshold = 0.02): Float32Array {
  const out = new Float32Array(MNIST_SIZE * MNIST_SIZE);

  let minX = img.width, minY = img.height, maxX = -1, maxY = -1;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      if ((img.data[y * img.width + x] ?? 0) > threshold) {
        if (x < minX) minX = x;
        if (x > maxX) maxX = x;
        if (y < minY) minY = y;
        if (y > maxY) maxY = y;
      }
    }
  }
  if (maxX < 0) return out;

  const cropW = maxX - minX + 1;
  const cropH = maxY - minY + 1;
  const crop = new Float32Array(cropW * cropH);
  for (let y = 0; y < cropH; y++) {
    for (let x = 0; x < cropW; x++) {
      crop[y * cropW + x] = clamp01(img.data[(minY + y) * img.width + minX + x] ?? 0);
    }
  }

  const scale = MNIST_BOX / Math.max(cropW, cropH);
  const boxW = Math.max(1, Math.round(cropW * scale));
  const boxH = Math.max(1, Math.round(cropH * scale));
  const box = resampleArea({ width: cropW, height: cropH, data: crop }, boxW, boxH);

  let mass = 0, mx = 0, my = 0, peak = 0;
  for (let y = 0; y < boxH; y++) {
    for (let x = 0; x < boxW; x++) {
      const v = box[y * boxW + x] ?? 0;
      mass += v;
      mx += v * x;
      my += v * y;
      if (v > peak) peak = v;
    }
  }
  // MNIST put the centre of mass on pixel (14, 14) of the 28x28 field (its
  // test images have their mass between indices 13.5 and 14.5), so do that
  // too rather than the geometric centre 13.5.
  const centre = MNIST_SIZE / 2;
  // A lopsided digit could be pushed past the edge; keep the whole box in the
  // field instead, since cut-off strokes hurt more than a slightly off centre.
  const offX = clampInt(Math.round(centre - mx / mass), 0, MNIST_SIZE - boxW);
  const offY = clampInt(Math.round(centre - my / mass), 0, MNIST_SIZE - boxH);

  for (let y = 0; y < boxH; y++) {
    const ty = y + offY;
    if (ty < 0 || ty >= MNIST_SIZE) continue;
    for (let x = 0; x < boxW; x++) {
      const tx = x + offX;
      if (tx < 0 || tx >= MNIST_SIZE) continue;
      out[ty * MNIST_SIZE + tx] = (box[y * boxW + x] ?? 0) / peak;
    }
  }
  return out;
}

function clampInt(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/** centreOfMass returns the intensity-weighted mean pixel index of a square image. */
export function centreOfMass(pixels: ArrayLike<number>, size = MNIST_SIZE): { x: number; y: number } {
  let mass = 0, mx = 0, my = 0;
  for (let i = 0; i < pixels.length; i++) {
    const v = pixels[i] ?? 0;
    mass += v;
    mx += v * (i % size);
    my += v * Math.floor(i / size);
  }
  return mass === 0 ? { x: NaN, y: NaN } : { x: mx / mass, y: my / mass };
}
