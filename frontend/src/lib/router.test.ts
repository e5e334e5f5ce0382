import { describe, expect, it } from 'vitest';
import { safeRedirect } from './router';

describe('safeRedirect', () => {
  const cases: [string | null, string][] = [
    ['/board', '/board'],
    ['/models?x=1', '/models?x=1'],
    [null, '/board'],
    ['', '/board'],
    ['https://evil.example/', '/board'],
    ['//evil.example/', '/board'],
    ['/\\evil.example', '/board'],
    ['javascript:alert(1)', '/board'],
  ];
  for (const [input, want] of cases) {
    it(`${String(input)} -> ${want}`, () => {
      expect(safeRedirect(input)).toBe(want);
    });
  }
});
