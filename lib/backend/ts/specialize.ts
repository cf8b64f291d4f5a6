// One copy of a hot kernel per dtype.
//
// V8 keeps type feedback per function: a loop that has seen both Float32Array and
// Float64Array compiles to polymorphic element accesses and runs about half as fast
// (gemm 256³ float64 measured 1.35 GFLOP/s after float32 calls vs 2.54 alone). Re-creating the
// function from its own source gives each dtype a function with its own feedback, so both
// stay monomorphic. The kernels given here must be closed: they may use only their
// parameters and globals such as Math (no module-level constants or imports).
//
// Plain code does not do it: closures of one function literal (a factory called twice) share
// their feedback in V8, so they go polymorphic just the same. Measured with `npm run bench --
// --quick --only gemm,step` (one run each, same machine, same hour): with one shared copy per
// kernel the ts float64 GEMM rows fell to 0.62x (geometric mean of 10 shapes; 0.31x-0.88x,
// e.g. 512^3 5.45 -> 3.80 GFLOP/s), while the float32 rows, measured before any float64 call,
// stayed at 0.99x. So the re-evaluation stays.
import type { FloatArray } from '../types';

export interface PerDtype<F> {
  readonly f32: F;
  readonly f64: F;
}

function clone<F extends Function>(kernel: F): F {
  // The source is a plain `function name(...) { ... }` declaration (compiled by tsc).
  return new Function(`"use strict"; return (${kernel.toString()});`)() as F;
}

export function perDtype<F extends Function>(kernel: F): PerDtype<F> {
  return { f32: clone(kernel), f64: clone(kernel) };
}

/** The copy of a kernel for the dtype of `like`. */
export function pick<F>(k: PerDtype<F>, like: FloatArray): F {
  return like instanceof Float32Array ? k.f32 : k.f64;
}
