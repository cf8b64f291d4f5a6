// Comparison and deterministic data for the kernel tests.
import type { DType, FloatArray } from '../../lib/backend/types';

/**
 * Fails unless every |got[i] − want[i]| <= tol·(1 + |want[i]|) (absolute near zero,
 * relative for large values). NaN must meet NaN. The message names the largest difference,
 * where it is, and both values.
 */
export function checkClose(label: string, got: ArrayLike<number>, want: ArrayLike<number>,
  tol: number): void {
  if (got.length !== want.length) {
    throw new Error(`${label}: length ${got.length}, want ${want.length}`);
  }
  let worst = -1;
  let worstErr = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i], w = want[i];
    let err: number;
    if (Number.isNaN(w) || Number.isNaN(g)) err = Number.isNaN(w) && Number.isNaN(g) ? 0 : Infinity;
    else if (g === w) err = 0; // also equal infinities
    else err = Math.abs(g - w) / (1 + Math.abs(w));
    if (err > worstErr || (worst < 0 && err > 0)) {
      worstErr = err;
      worst = i;
    }
  }
  if (worstErr > tol) {
    throw new Error(`${label}: largest scaled difference ${worstErr.toExponential(3)} at index ` +
      `${worst} (got ${got[worst]}, want ${want[worst]}), tolerance ${tol.toExponential(3)}`);
  }
}

/** splitmix32: a small seeded generator (no Math.random, so every failure reproduces). */
export class Rng {
  private state: number;
  constructor(seed: number) { this.state = seed >>> 0; }
  /** uniform in [0, 1) with 32 random bits */
  next(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    z = (z ^ (z >>> 16)) >>> 0;
    return z / 4294967296;
  }
  uniform(lo: number, hi: number): number { return lo + (hi - lo) * this.next(); }
  int(n: number): number { return Math.floor(this.next() * n); }
}

export interface DTypeInfo {
  name: DType;
  /** machine epsilon of the dtype */
  eps: number;
  make(n: number): FloatArray;
}

export const DTYPES: readonly DTypeInfo[] = [
  { name: 'float32', eps: 2 ** -23, make: (n) => new Float32Array(n) },
  { name: 'float64', eps: 2 ** -52, make: (n) => new Float64Array(n) },
];

/** A buffer of the dtype, uniform in [lo, hi). */
export function randomArray(dt: DTypeInfo, n: number, rng: Rng, lo = -1, hi = 1): FloatArray {
  const a = dt.make(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(lo, hi);
  return a;
}

/** Exactly representable in float32, so "untouched" can be checked with ===. */
export const SENTINEL = 777.25;

/** Fails if any element outside the (rows, cols, ld) view at off differs from before. */
export function checkOutsideView(label: string, got: ArrayLike<number>,
  before: ArrayLike<number>, off: number, rows: number, cols: number, ld: number): void {
  for (let k = 0; k < got.length; k++) {
    const r = Math.floor((k - off) / ld);
    const c = k - off - r * ld;
    const inside = k >= off && r < rows && c < cols;
    if (inside) continue;
    const same = got[k] === before[k] || (Number.isNaN(got[k]) && Number.isNaN(before[k]));
    if (!same) {
      throw new Error(`${label}: element ${k} outside the view changed from ${before[k]} to ${got[k]}`);
    }
  }
}

/** The (rows, cols, ld) view at off, copied out densely (row-major). */
export function extractView(a: ArrayLike<number>, off: number, rows: number, cols: number,
  ld: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) out[i * cols + j] = a[off + i * ld + j];
  }
  return out;
}

/**
 * A file's record of what it measured (errors against their bars, sizes): lines pushed during
 * the run and printed once, as "<file> measured:", after the file's tests. Call at top level.
 */
export function measuredLog(file: string): string[] {
  const measured: string[] = [];
  after(() => {
    if (measured.length > 0) console.log(`\n  ${file} measured:\n    ` + measured.join('\n    '));
  });
  return measured;
}
