/** A model's input spec, as far as picking a digit model needs it. */
export interface InputSpec {
  shape: readonly number[];
}

/**
 * acceptsDigit reports whether a model takes one 1x1x28x28 image: the shape
 * the digit playground produces. A dynamic batch size (-1 or 0) is accepted.
 */
export function acceptsDigit(inputs: readonly InputSpec[]): boolean {
  if (inputs.length !== 1) return false;
  const s = inputs[0]?.shape ?? [];
  return s.length === 4 && (s[0] === 1 || s[0] === -1 || s[0] === 0) && s[1] === 1 && s[2] === 28 && s[3] === 28;
}
