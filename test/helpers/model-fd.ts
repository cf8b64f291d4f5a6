// Shared pieces of the whole-model gradient tests (test/40, test/46, test/49): finite
// differences over every parameter, the worst relative error and the name of its entry.
import { expect } from 'chai';
import type { RNNModel } from '../../lib/nn/model';

/** A finite-difference estimate from J(d) = the loss with one parameter moved by d. */
export type FdEstimate = (J: (d: number) => number) => number;

/** The 4th-order central difference at step h: (−J(2h) + 8J(h) − 8J(−h) + J(−2h)) / 12h. */
export function central4(h: number): FdEstimate {
  return (J) => (-J(2 * h) + 8 * J(h) - 8 * J(-h) + J(-2 * h)) / (12 * h);
}

/** fd[i] = estimate(J) for every parameter i of the model; each parameter is restored after. */
export function perParameterFd(model: RNNModel, loss: () => number, estimate: FdEstimate): Float64Array {
  const fd = new Float64Array(model.size);
  const p = model.params;
  for (let i = 0; i < model.size; i++) {
    const p0 = p[i];
    fd[i] = estimate((d: number) => { p[i] = p0 + d; const v = loss(); p[i] = p0; return v; });
  }
  return fd;
}

/** The largest |a − n| / max(|a|, |n|, floor) and where it is (a NaN counts as the worst). */
export function worstRelative(a: ArrayLike<number>, n: ArrayLike<number>, floor: number): { err: number; index: number } {
  let err = 0, index = -1;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i] - n[i]) / Math.max(Math.abs(a[i]), Math.abs(n[i]), floor);
    if (!(e <= err)) { err = e; index = i; }
  }
  return { err, index };
}

/** "entry[row,col]" of flat parameter index i. */
export function paramName(model: RNNModel, i: number): string {
  const e = model.entries.find((x) => i >= x.offset && i < x.offset + x.size)!;
  const k = i - e.offset;
  return `${e.name}[${Math.floor(k / e.cols)},${k % e.cols}]`;
}

/** The smallest |g| over a gradient (for the record of what the bar was measured on). */
export function minAbs(g: ArrayLike<number>): number {
  let min = Infinity;
  for (let i = 0; i < g.length; i++) min = Math.min(min, Math.abs(g[i]));
  return min;
}

/** Every parameter tensor of the model has a non-zero gradient (nothing silently dropped). */
export function expectEveryEntryHasGradient(model: RNNModel, analytic: ArrayLike<number>): void {
  for (const e of model.entries) {
    let s = 0;
    for (let k = 0; k < e.size; k++) s += Math.abs(analytic[e.offset + k]);
    expect(s, `${e.name} gradient`).to.be.greaterThan(0);
  }
}

/**
 * The check can fail: analytic passes against fd, then with entry i off by a relative 1e-6 the
 * worst error is at i and above tol. analytic is changed.
 */
export function expectMetricFlagsOneOff(analytic: { [i: number]: number; length: number }, fd: ArrayLike<number>, i: number, tol: number,
  worst: (a: ArrayLike<number>, n: ArrayLike<number>) => { err: number; index: number }): void {
  expect(worst(analytic, fd).err).to.be.at.most(tol);
  analytic[i] *= 1 + 1e-6;
  const w = worst(analytic, fd);
  expect(w.index).to.equal(i);
  expect(w.err).to.be.greaterThan(tol);
}
