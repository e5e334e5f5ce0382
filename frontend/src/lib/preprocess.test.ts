import { describe, expect, it } from 'vitest';
import { alphaToGray, centreOfMass, MNIST_SIZE, preprocessDigit, resampleArea } from './preprocess';
import type { GrayImage } from './preprocess';

function image(width: number, height: number, ink: (x: number, y: number) => number): GrayImage {
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = ink(x, y);
  return { width, height, data };
}

function rect(x0: number, y0: number, x1: number, y1: number, v = 1) {
  return (x: number, y: number) => (x >= x0 && x < x1 && y >= y0 && y < y1 ? v : 0);
}

// inkBox returns the bounding box of non-zero pixels in a 28x28 result.
function inkBox(p: Float32Array) {
  let minX = 99, minY = 99, maxX = -1, maxY = -1;
  p.forEach((v, i) => {
    if (v > 0) {
      const x = i % MNIST_SIZE, y = Math.floor(i / MNIST_SIZE);
      minX = Math.min(minX, x); maxX = Math.max(maxX, x);
      minY = Math.min(minY, y); maxY = Math.max(maxY, y);
    }
  });
  return { minX, minY, w: maxX - minX + 1, h: maxY - minY + 1 };
}

describe('preprocessDigit', () => {
  it('returns 784 zeros for an empty canvas', () => {
    const got = preprocessDigit(image(280, 280, () => 0));
    expect(got).toHaveLength(784);
    expect(got.every((v) => v === 0)).toBe(true);
  });

  it('ignores ink below the threshold as background noise', () => {
    const got = preprocessDigit(image(50, 50, () => 0.01));
    expect(got.every((v) => v === 0)).toBe(true);
  });

  const cases = [
    // A square drawn in a corner ends up as a 20x20 box in the middle: its
    // centre of mass (9.5 in the box) lands on 14.5, as close to 14 as whole
    // pixels allow.
    { name: 'square in a corner', img: image(100, 100, rect(0, 0, 30, 30)), box: { minX: 5, minY: 5, w: 20, h: 20 } },
    // A tall bar keeps its aspect ratio: 10x50 becomes 4x20, centred.
    { name: 'tall bar', img: image(200, 200, rect(150, 20, 160, 70)), box: { minX: 13, minY: 5, w: 4, h: 20 } },
    // A wide bar: 60x15 becomes 20x5.
    { name: 'wide bar', img: image(280, 280, rect(10, 200, 70, 215)), box: { minX: 5, minY: 12, w: 20, h: 5 } },
  ];
  for (const tc of cases) {
    it(`centres and scales a ${tc.name}`, () => {
      const got = preprocessDigit(tc.img);
      expect(inkBox(got)).toEqual(tc.box);
      const c = centreOfMass(got);
      expect(Math.abs(c.x - 14)).toBeLessThanOrEqual(0.5);
      expect(Math.abs(c.y - 14)).toBeLessThanOrEqual(0.5);
    });
  }

  it('moves the centre of mass, not the bounding box, to the centre', () => {
    // A 7-like shape: a thin bar on top, a heavy stem on the right.
    const ink = (x: number, y: number) => (y < 10 || (x >= 60 && x < 80)) ? 1 : 0;
    const got = preprocessDigit(image(100, 100, ink));
    const c = centreOfMass(got);
    expect(Math.abs(c.x - 14)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(c.y - 14)).toBeLessThanOrEqual(0.5);
    // The bounding box is therefore off-centre: left of and below (5,5).
    const box = inkBox(got);
    expect(box.minX).toBeLessThan(5);
    expect(box.minY).toBeGreaterThan(5);
  });

  it('keeps a lopsided digit whole instead of pushing it past the edge', () => {
    // An L with a long foot: centring its mass exactly would cut the foot off.
    const ink = (x: number, y: number) => (x < 20 || y >= 90) ? 1 : 0;
    const got = preprocessDigit(image(100, 100, ink));
    // x is clamped to the right edge (8 = 28 - 20); y is centred freely.
    expect(inkBox(got)).toEqual({ minX: 8, minY: 2, w: 20, h: 20 });
  });

  it('scales faint ink so the strongest pixel is 1 and all values stay in [0,1]', () => {
    const got = preprocessDigit(image(40, 40, rect(10, 10, 30, 30, 0.5)));
    expect(Math.max(...got)).toBeCloseTo(1, 5);
    expect(Math.min(...got)).toBe(0);
    // Uniform ink stays uniform: every inked pixel of the 20x20 box is 1.
    expect(got.filter((v) => v > 0.999)).toHaveLength(400);
  });

  it('keeps a one-pixel dot as one full-intensity box at the centre', () => {
    const got = preprocessDigit(image(28, 28, rect(3, 3, 4, 4)));
    // One pixel scales to the whole 20x20 box.
    expect(inkBox(got)).toEqual({ minX: 5, minY: 5, w: 20, h: 20 });
  });
});

describe('resampleArea', () => {
  it('averages the covered area', () => {
    // Left half ink, right half none; 4 -> 2 columns gives [1, 0]; 4 -> 1 gives 0.5.
    const img = image(4, 1, (x) => (x < 2 ? 1 : 0));
    expect(Array.from(resampleArea(img, 2, 1))).toEqual([1, 0]);
    expect(Array.from(resampleArea(img, 1, 1))).toEqual([0.5]);
  });

  it('weights partly covered pixels', () => {
    // 3 -> 2: output 0 covers pixel 0 and half of pixel 1.
    const img = image(3, 1, (x) => [1, 0, 0][x] ?? 0);
    const got = Array.from(resampleArea(img, 2, 1));
    expect(got[0]).toBeCloseTo(2 / 3, 6);
    expect(got[1]).toBeCloseTo(0, 6);
  });
});

describe('alphaToGray', () => {
  it('reads alpha as ink regardless of colour', () => {
    const rgba = [255, 255, 255, 0, 0, 0, 0, 255, 10, 20, 30, 51];
    expect(Array.from(alphaToGray(rgba, 3, 1).data)).toEqual([0, 1, expect.closeTo(0.2, 5)]);
  });
});
