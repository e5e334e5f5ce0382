// Checks the preprocessing against real MNIST digits: a test image drawn
// large and off-centre on a canvas must come back close to the original,
// since MNIST images are themselves size-normalised to 20x20 and centred by
// mass. The images come from the built-in model's reference file.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { preprocessDigit } from './preprocess';

interface Sample {
  index: number;
  label: number;
  pixels: number[];
}

const reference = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../../models/mnist/reference.json'), 'utf8')) as { samples: Sample[] };

// drawLarge scales a 28x28 image up by factor (nearest neighbour) onto a
// size x size canvas at (ox, oy), as a user drawing big and off-centre would.
function drawLarge(pixels: number[], factor: number, size: number, ox: number, oy: number) {
  const data = new Float32Array(size * size);
  for (let y = 0; y < 28 * factor; y++) {
    for (let x = 0; x < 28 * factor; x++) {
      const v = (pixels[Math.floor(y / factor) * 28 + Math.floor(x / factor)] ?? 0) / 255;
      const tx = x + ox, ty = y + oy;
      if (tx < size && ty < size) data[ty * size + tx] = v;
    }
  }
  return { width: size, height: size, data };
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? 0, y = b[i] ?? 0;
    ab += x * y; aa += x * x; bb += y * y;
  }
  return ab / Math.sqrt(aa * bb);
}

describe('preprocessDigit on MNIST test images', () => {
  it('has reference samples to check', () => {
    expect(reference.samples.length).toBeGreaterThanOrEqual(10);
  });

  it('recovers each digit drawn 10x larger in a corner of a 400 px canvas', () => {
    const scores = reference.samples.map((s) => {
      const original = s.pixels.map((p) => p / 255);
      const got = preprocessDigit(drawLarge(s.pixels, 10, 400, 7, 113));
      return { index: s.index, score: cosine(got, original) };
    });
    const mean = scores.reduce((t, s) => t + s.score, 0) / scores.length;
    const worst = scores.reduce((w, s) => (s.score < w.score ? s : w));
    expect(mean, 'mean cosine similarity').toBeGreaterThan(0.99);
    expect(worst.score, `worst cosine similarity (test image ${worst.index})`).toBeGreaterThan(0.98);
  });
});
