// Shared pieces of the RNNCell gradient tests (20.cell.step, 30.cell.sequence): the error
// measure, the finite differences, the two test losses, seeded fills and a summary of the
// largest errors measured, printed once per file.
import type { FloatArray } from '../../lib/backend/types';
import { Rng } from './check';

/**
 * Floor of the relative-error denominator, for FD checks:
 *   err(a, b) = |a − b| / max(|a|, |b|, FD_FLOOR).
 * Without a floor, entries that are exactly 0 on both sides (a dead relu row, a Wx column no
 * token id selects) would be 0/0. The floor only matters for |a|, |b| < 1e-6, where it makes
 * the check STRICTER than the FD's own accuracy (it demands |a − b| ≤ 1e-13 there, about the
 * FD's absolute error, see FD_H), so it can never hide a wrong gradient; it does not excuse
 * small entries. With random O(1) data, entries are either exactly 0 on both sides or well
 * above 1e-6 in these tests.
 */
export const FD_FLOOR = 1e-6;
/** The acceptance bound of every FD check (issue 3: relative error ≤ 1e-7). */
export const FD_TOL = 1e-7;
/**
 * The FD estimate: central differences at h and h/2, Richardson-extrapolated,
 *   D(h) = (J(θ+h) − J(θ−h)) / 2h,   FD = D(h/2) + (D(h/2) − D(h)) / 3,
 * which cancels the h² term of the central difference.
 *
 * Why not a plain central difference at h ≈ 1e-5: its truncation error h²/6·|J‴| and its
 * rounding error ≈ ε·Σ|R||c|/h are each ~1e-11…1e-10 in ABSOLUTE terms for these losses
 * (measured: 1.3e-10 on a T = 5 sequence, at an entry of 1.2e-3), so a gradient entry of 1e-3,
 * which random data produces, already sits at relative error 1e-7 whatever the code under test
 * does. With the h⁴ extrapolation the best step is h ≈ ε^(1/5) ≈ 1e-3: truncation
 * ≈ h⁴·|J⁽⁵⁾|/480 ≈ 1e-15, rounding ≈ 2ε·Σ|R||c|/h ≈ 1e-12, so the relative error stays below
 * 1e-7 for every entry above ~1e-5. The plain h = 1e-5 central difference is computed too and
 * its largest error reported (not asserted), so the two can be compared.
 */
export const FD_H = 1e-3;
export const FD_H_PLAIN = 1e-5;

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
  /** largest err(analytic, FD) over the checked elements (Richardson-extrapolated FD) */
  maxErr: number;
  /** the same for the plain central difference at h = 1e-5 (reported, not asserted) */
  plainMaxErr: number;
  /** where maxErr is, for the failure message */
  where: string;
  checked: number;
  /** elements whose perturbation changed the relu pattern (a kink was crossed) */
  skipped: number;
}

/**
 * Finite differences of J(run()) w.r.t. every element of `arr`, compared to `analytic`.
 * `run` evaluates the forward pass with the current contents of `arr` and returns the output
 * array; `pattern` (relu only) returns a key of the activation pattern: an element whose
 * perturbation (by up to ±h) changes it sits within h of a kink, where the derivative is
 * one-sided, and is skipped (and counted) instead of compared.
 */
export function fdCheck(label: string, arr: FloatArray, analytic: ArrayLike<number>,
  run: () => ArrayLike<number>, loss: Loss, pattern?: (c: ArrayLike<number>) => string): FdResult {
  const res: FdResult = { maxErr: 0, plainMaxErr: 0, where: `${label}: none`, checked: 0, skipped: 0 };
  if (analytic.length !== arr.length) throw new Error(`${label}: gradient length ${analytic.length}, want ${arr.length}`);
  const base = pattern ? pattern(run()) : '';
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i];
    let kink = false;
    // central difference at step h, divided by the step actually taken (exact by Sterbenz)
    const central = (h: number): number => {
      arr[i] = v + h;
      const vp = arr[i];
      const cp = Array.from(run());
      arr[i] = v - h;
      const vm = arr[i];
      const cm = Array.from(run());
      arr[i] = v;
      if (pattern && (pattern(cp) !== base || pattern(cm) !== base)) kink = true;
      return loss.diff(cp, cm) / (vp - vm);
    };
    const d1 = central(FD_H), d2 = central(FD_H / 2), plain = central(FD_H_PLAIN);
    if (kink) {
      res.skipped++;
      continue;
    }
    const fd = d2 + (d2 - d1) / 3;
    const e = relErr(analytic[i], fd, FD_FLOOR);
    res.checked++;
    res.plainMaxErr = Math.max(res.plainMaxErr, relErr(analytic[i], plain, FD_FLOOR));
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
/** The largest |got − want| / (1 + |want|): a difference scaled for O(1) and small values alike. */
export function largestScaledDiff(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let w = 0;
  for (let i = 0; i < want.length; i++) w = Math.max(w, Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i])));
  return w;
}

export class ErrorSummary {
  private rows = new Map<string, Map<string, number>>();
  constructor(private title: string) {}
  record(test: string, column: string, err: number): void {
    let r = this.rows.get(test);
    if (!r) this.rows.set(test, (r = new Map()));
    r.set(column, Math.max(r.get(column) ?? 0, err));
  }
  /** a count (e.g. relu elements skipped at a kink), summed rather than maximized */
  add(test: string, column: string, n: number): void {
    let r = this.rows.get(test);
    if (!r) this.rows.set(test, (r = new Map()));
    r.set(column, (r.get(column) ?? 0) + n);
  }
  print(): void {
    if (this.rows.size === 0) return;
    const cols = [...new Set([...this.rows.values()].flatMap((r) => [...r.keys()]))];
    const width = Math.max(...[...this.rows.keys()].map((k) => k.length));
    const lines = [`      ${this.title}`, `        ${''.padEnd(width)}  ${cols.map((c) => c.padStart(10)).join('  ')}`];
    for (const [test, r] of this.rows) {
      lines.push(`        ${test.padEnd(width)}  ${cols.map((c) => (!r.has(c) ? '-' : Number.isInteger(r.get(c)!) ? String(r.get(c)) : r.get(c)!.toExponential(2)).padStart(10)).join('  ')}`);
    }
    console.log(lines.join('\n'));
  }
}

/** Inside a describe: prints the summaries, in this order, after its tests. */
export function printAfter(...summaries: ErrorSummary[]): void {
  after(() => {
    for (const s of summaries) s.print();
  });
}
