// Train/validation split of line-structured text (one example a line, as the names data).
//
// A seeded random subset of lines is held out; each part keeps the original line order, so a
// prose file stays readable and the split depends only on (lines, fraction, seed).

import { Random } from '../random';

export interface TrainValidationSplit {
  /** The training lines, each ending in '\n'. */
  train: string;
  /** The held-out lines, each ending in '\n' ('' when none are held out). */
  validation: string;
  trainLines: number;
  validationLines: number;
}

/** Lines of a text; a final '\n' ends the last line rather than starting an empty one. */
export function splitLines(text: string): string[] {
  if (text.length === 0) return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * Holds out round(valFraction × lines) lines, chosen with `seed`. With a positive fraction and
 * at least two lines, at least one line goes to each side, so neither loss is undefined.
 */
export function splitTrainValidation(input: string | readonly string[], valFraction: number, seed: number): TrainValidationSplit {
  if (!(valFraction >= 0 && valFraction < 1)) {
    throw new RangeError(`splitTrainValidation: valFraction must be in [0, 1), got ${valFraction}`);
  }
  const lines = typeof input === 'string' ? splitLines(input) : input.slice();
  lines.forEach((line, i) => {
    if (typeof line !== 'string' || line.includes('\n')) {
      throw new TypeError(`splitTrainValidation: line ${i} must be a string without '\\n'`);
    }
  });
  const n = lines.length;
  let nValidation = Math.round(valFraction * n);
  if (valFraction > 0 && n >= 2) nValidation = Math.min(Math.max(nValidation, 1), n - 1);
  else if (n < 2) nValidation = 0;

  const order = new Random(seed).shuffle(Array.from({ length: n }, (_, i) => i));
  const held = new Uint8Array(n);
  for (let k = 0; k < nValidation; k++) held[order[k]] = 1;

  const train: string[] = [];
  const validation: string[] = [];
  lines.forEach((line, i) => (held[i] === 1 ? validation : train).push(`${line}\n`));
  return { train: train.join(''), validation: validation.join(''), trainLines: train.length, validationLines: validation.length };
}
