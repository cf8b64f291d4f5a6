// Tolerance-aware closeness of two float arrays, element by element, with numpy's / PyTorch's
// allclose criterion |actual − expected| ≤ atol + rtol·|expected| (defaults rtol 1e-5, atol 1e-8)
// and a report of the worst element, for tests of kernels and models.
import { invalidRange, invalidType } from '../backend/errors';
import { checkOptions, keysOf } from '../nn/predicates';

export interface CloseOptions {
  /** Default 1e-8. */
  atol?: number;
  /** Default 1e-5. */
  rtol?: number;
  /** NaN equals NaN (default false: a NaN anywhere fails). */
  equalNaN?: boolean;
}

const CLOSE_KEYS = keysOf<CloseOptions>({ atol: true, rtol: true, equalNaN: true });

export type NumericArray = Float32Array | Float64Array | readonly number[];

export interface CloseResult {
  passed: boolean;
  /** Elements compared (0 when the lengths differ). */
  checked: number;
  /** Elements outside the tolerance. */
  failures: number;
  /** The element with the largest |a − e| / (atol + rtol·|e|), or null for empty arrays. */
  worst: { index: number; actual: number; expected: number; absError: number; tolerance: number } | null;
  /** Set when the lengths differ. */
  lengthMismatch: { actual: number; expected: number } | null;
  report: string;
}

function isNumericArray(v: unknown): v is NumericArray {
  return v instanceof Float32Array || v instanceof Float64Array || (Array.isArray(v) && v.every((x) => typeof x === 'number'));
}

function tol(fn: string, name: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number') throw invalidType(fn, name, 'a number', v);
  if (!Number.isFinite(v) || v < 0) throw invalidRange(fn, name, 'a finite number >= 0', v);
  return v;
}

/** Compares `actual` with `expected` element by element; never throws on a mismatch (see passed). */
export function compareClose(actual: NumericArray, expected: NumericArray, options?: CloseOptions, fn = 'compareClose'): CloseResult {
  const o = checkOptions(fn, options, CLOSE_KEYS);
  const atol = tol(fn, 'atol', o.atol, 1e-8);
  const rtol = tol(fn, 'rtol', o.rtol, 1e-5);
  const equalNaN = o.equalNaN ?? false;
  if (!isNumericArray(actual)) throw invalidType(fn, 'actual', 'a Float32Array, Float64Array or array of numbers', actual);
  if (!isNumericArray(expected)) throw invalidType(fn, 'expected', 'a Float32Array, Float64Array or array of numbers', expected);
  const criterion = `|a − e| ≤ atol + rtol·|e| (atol ${atol}, rtol ${rtol})`;
  if (actual.length !== expected.length) {
    return {
      passed: false, checked: 0, failures: 0, worst: null, lengthMismatch: { actual: actual.length, expected: expected.length },
      report: `expected ${actual.length} elements to be close to ${expected.length} elements: the lengths differ`,
    };
  }
  let failures = 0, worst: CloseResult['worst'] = null, worstExcess = -1;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i], e = expected[i];
    const tolerance = atol + rtol * Math.abs(e);
    const absError = Math.abs(a - e);
    let ok: boolean, ex: number;
    if (Number.isNaN(a) || Number.isNaN(e)) {
      ok = equalNaN && Number.isNaN(a) && Number.isNaN(e);
      ex = ok ? 0 : Infinity;
    } else if (a === e) {
      ok = true; ex = 0; // equal infinities too
    } else {
      ok = absError <= tolerance;
      ex = absError / tolerance;
      if (Number.isNaN(ex)) ex = Infinity;
    }
    if (!ok) failures++;
    if (ex > worstExcess) { worstExcess = ex; worst = { index: i, actual: a, expected: e, absError, tolerance }; }
  }
  const passed = failures === 0;
  const w = worst === null ? '' :
    `; worst at index ${worst.index}: actual ${worst.actual}, expected ${worst.expected}, |a − e| ${worst.absError.toPrecision(4)} ` +
    `${passed ? '≤' : '>'} ${worst.tolerance.toPrecision(4)}`;
  const report = passed
    ? `all ${actual.length} elements close, ${criterion}${w}`
    : `${failures} of ${actual.length} elements not close, ${criterion}${w}`;
  return { passed, checked: actual.length, failures, worst, lengthMismatch: null, report };
}
