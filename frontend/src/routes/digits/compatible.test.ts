import { describe, expect, it } from 'vitest';
import { acceptsDigit } from './compatible';

describe('acceptsDigit', () => {
  const cases: [string, number[][], boolean][] = [
    ['MNIST input', [[1, 1, 28, 28]], true],
    ['dynamic batch', [[-1, 1, 28, 28]], true],
    ['colour image', [[1, 3, 28, 28]], false],
    ['flat vector', [[1, 784]], false],
    ['bigger image', [[1, 1, 32, 32]], false],
    ['two inputs', [[1, 1, 28, 28], [1]], false],
    ['no input', [], false],
  ];
  for (const [name, shapes, want] of cases) {
    it(`${name}: ${want}`, () => {
      expect(acceptsDigit(shapes.map((shape) => ({ shape })))).toBe(want);
    });
  }
});
