// Shared pieces of the RNNCell gradient tests (20.cell.step, 30.cell.sequence): the error
// measure, the central difference, the two test losses, seeded fills and a summary of the
// largest errors measured, printed once per file.
import type { FloatArray } from '../../lib/backend/types';
import { Rng } from './check';

/**
 * Floor of the relative-error denominator, for FD checks:
 *   err(a, b) = |a − b| / max(|a|, |b|, FD_FLOOR).
 * Without a floor, entries that are exactly 0 on both sides (a dead relu row, a Wx column no
 * token id selects) would be 0/0. The floor only matters for |a|, |b| < 1e-6, where it makes
 * the check STRICTER than a plain relative error would be (it demands |a − b| <= 1e-13 there),
 * so it can never hide a wrong gradient; it is not a way to excuse small entries. In practice
 * entries are either exactly 0 on both sides or ≥ 1e-3 in these tests (random data of O(1)).
 */
export const FD_FLOOR = 1e-6;
/** The acceptance bound of every FD check (issue 3: relative error ≤ 1e-7). */
export const FD_TOL = 1e-7;
/**
 * Central step. For c = f(θ) smooth with derivatives of O(1), the central difference has
 * truncation error ≈ h²/6·|f'''| ≈ 2e-11 and rounding error ≈ ε·|c|/h ≈ 2e-11 per output
 * element at h = 1e-5 (ε = 2.2e-16): the minimum of the sum is near h = (3ε)^(1/3) ≈ 1e-5.
 * Against gradients of O(0.01–1) that is a relative error of 1e-11…1e-9, well inside 1e-7.
 */
export const FD_H = 1e-5;

export function relErr(a: number, b: number, floor: number): number {
  if (a === b) return 0;
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), floor);
}

/** A scalar loss J(c) over an output array c, given as its gradient and its central difference. */
export interface Loss {
  name: string;
  /** ∂J/∂c at c */
  grad(c: ArrayLike<number>): Float64Array;
  /**
   * J(c⁺) − J(c⁻), computed element by element (Σ R⊙(c⁺ − c⁻) rather than J(c⁺) − J(c⁻)),
   * so the cancellation is per element, not in a sum of O(1) terms.
   */
  diff(cp: ArrayLike<number>, cm: ArrayLike<number>): number;
}

/** J = Σ R ⊙ c */
export function linearLoss(R: Float64Array): Loss {
  return {
    name: 'J = Σ R⊙c',
    grad: () => Float64Array.from(R),
    diff: (cp, cm) => {
      let s = 0;
      for (let i = 0; i < R.length; i++) s += R[i] * (cp[i] - cm[i]);
      return s;
    },
  };
}

/** J = Σ R ⊙ c² (∂J/∂c = 2R⊙c depends on c: a stronger test than a constant dC) */
export function squareLoss(R: Float64Array): Loss {
  return {
    name: 'J = Σ R⊙c²',
    grad: (c) => {
      const g = new Float64Array(R.length);
      for (let i = 0; i < R.length; i++) g[i] = 2 * R[i] * c[i];
      return g;
    },
    diff: (cp, cm) => {
      let s = 0;
      for (let i = 0; i < R.length; i++) s += R[i] * (cp[i] - cm[i]) * (cp[i] + cm[i]);
      return s;
    },
  };
}

export function fill(a: FloatArray, rng: Rng, lo: number, hi: number): void {
  for (let i = 0; i < a.length; i++) a[i] = rng.uniform(lo, hi);
}

export function randomVec(n: number, rng: Rng, lo = -1, hi = 1): Float64Array {
  const a = new Float64Array(n);
  fill(a, rng, lo, hi);
  return a;
}

export interface FdResult {
  /** largest err(analytic, FD) over the checked elements */
  maxErr: number;
  /** where, for the failure message */
  where: string;
  checked: number;
  /** elements whose ±h perturbation changed the relu pattern (a kink was crossed) */
  skipped: number;
}

/**
 * Central differences of J(run()) w.r.t. every element of `arr`, compared to `analytic`.
 * `run` evaluates the forward pass with the current contents of `arr` and returns the output
 * array; `pattern` (relu only) returns a key of the activation pattern: an element whose
 * perturbation changes it sits within h of a kink, where the derivative is one-sided, and is
 * skipped (and counted) instead of compared.
 */
export function fdCheck(label: string, arr: FloatArray, analytic: ArrayLike<number>,
  run: () => ArrayLike<number>, loss: Loss, pattern?: (c: ArrayLike<number>) => string): FdResult {
  const res: FdResult = { maxErr: 0, where: `${label}: none`, checked: 0, skipped: 0 };
  if (analytic.length !== arr.length) throw new Error(`${label}: gradient length ${analytic.length}, want ${arr.length}`);
  const base = pattern ? pattern(run()) : '';
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i];
    arr[i] = v + FD_H;
    const vp = arr[i];
    const cp = Array.from(run());
    arr[i] = v - FD_H;
    const vm = arr[i];
    const cm = Array.from(run());
    arr[i] = v;
    if (pattern && (pattern(cp) !== base || pattern(cm) !== base)) {
      res.skipped++;
      continue;
    }
    // divide by the step actually taken (vp − vm is exact by Sterbenz's lemma)
    const fd = loss.diff(cp, cm) / (vp - vm);
    const e = relErr(analytic[i], fd, FD_FLOOR);
    res.checked++;
    if (e > res.maxErr || res.checked === 1) {
      res.maxErr = e;
      res.where = `${label}[${i}]: analytic ${analytic[i]}, FD ${fd}`;
    }
  }
  return res;
}

/** relu pattern key: which outputs are > 0 */
export function reluPattern(c: ArrayLike<number>): string {
  let s = '';
  for (let i = 0; i < c.length; i++) s += c[i] > 0 ? '1' : '0';
  return s;
}

/** Largest errors per test and backend, printed as one table in an `after` hook. */
export class ErrorSummary {
  private rows = new Map<string, Map<string, number>>();
  constructor(private title: string) {}
  record(test: string, column: string, err: number): void {
    let r = this.rows.get(test);
    if (!r) this.rows.set(test, (r = new Map()));
    r.set(column, Math.max(r.get(column) ?? 0, err));
  }
  print(): void {
    if (this.rows.size === 0) return;
    const cols = [...new Set([...this.rows.values()].flatMap((r) => [...r.keys()]))];
    const width = Math.max(...[...this.rows.keys()].map((k) => k.length));
    const lines = [`      ${this.title}`, `        ${''.padEnd(width)}  ${cols.map((c) => c.padStart(10)).join('  ')}`];
    for (const [test, r] of this.rows) {
      lines.push(`        ${test.padEnd(width)}  ${cols.map((c) => (r.has(c) ? r.get(c)!.toExponential(2) : '-').padStart(10)).join('  ')}`);
    }
    console.log(lines.join('\n'));
  }
}
