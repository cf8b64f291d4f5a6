// Activations forward and backward, side by side. The backward takes the saved output C,
// never U: the seed's dtanh = 1 − C² (eq. 4), and likewise relu' = [C > 0], sigmoid' = C(1 − C).
import type { Activation, FloatArray } from '../types';
import { perDtype, pick } from './specialize';

// Activation codes, so the per-dtype loops take only numbers. Those loops must be closed
// functions (see specialize.ts), so they test the literal values 0, 1, 2 written here.
const TANH = 0, RELU = 1, SIGMOID = 2;

function code(act: Activation): number {
  return act === 'tanh' ? TANH : act === 'relu' ? RELU : SIGMOID;
}

/** C = f(U) over a (rows, cols) view; C may be exactly U (each element is read, then written). */
function forwardLoop(f: number, rows: number, cols: number, U: FloatArray, offU: number,
  ldu: number, C: FloatArray, offC: number, ldc: number): void {
  for (let i = 0; i < rows; i++) {
    const u0 = offU + i * ldu - (offC + i * ldc);
    const c0 = offC + i * ldc;
    const cEnd = c0 + cols;
    // One loop per activation: the branch stays out of the element loop.
    if (f === 0) {
      for (let k = c0; k < cEnd; k++) C[k] = Math.tanh(U[u0 + k]);
    } else if (f === 1) {
      for (let k = c0; k < cEnd; k++) {
        const u = U[u0 + k];
        // u < 0 is false for NaN, so NaN passes through as in the native kernel.
        C[k] = u < 0 ? 0 : u;
      }
    } else {
      // σ(u) = 1/(1 + e^−u); for u → −∞, e^−u = ∞ and the quotient is exactly 0.
      for (let k = c0; k < cEnd; k++) C[k] = 1 / (1 + Math.exp(-U[u0 + k]));
    }
  }
}

/** dU = dC ⊙ f'(C); dU may be exactly dC. */
function backwardLoop(f: number, rows: number, cols: number, dC: FloatArray, offdC: number,
  lddC: number, C: FloatArray, offC: number, ldc: number, dU: FloatArray, offdU: number,
  lddU: number): void {
  for (let i = 0; i < rows; i++) {
    const u0 = offdU + i * lddU;
    const uEnd = u0 + cols;
    const g0 = offdC + i * lddC - u0;
    const c0 = offC + i * ldc - u0;
    if (f === 0) {
      // dU = dC ⊙ (1 − C²)
      for (let k = u0; k < uEnd; k++) {
        const c = C[c0 + k];
        dU[k] = dC[g0 + k] * (1 - c * c);
      }
    } else if (f === 1) {
      // dU = dC ⊙ [C > 0]
      for (let k = u0; k < uEnd; k++) dU[k] = C[c0 + k] > 0 ? dC[g0 + k] : 0;
    } else {
      // dU = dC ⊙ C(1 − C)
      for (let k = u0; k < uEnd; k++) {
        const c = C[c0 + k];
        dU[k] = dC[g0 + k] * (c * (1 - c));
      }
    }
  }
}

const forwardK = perDtype(forwardLoop);
const backwardK = perDtype(backwardLoop);

export function activationForward(act: Activation, rows: number, cols: number,
  U: FloatArray, offU: number, ldu: number, C: FloatArray, offC: number, ldc: number): void {
  if (rows === 0 || cols === 0) return; // an empty view: nothing to touch (and no loop over the other side)
  pick(forwardK, C)(code(act), rows, cols, U, offU, ldu, C, offC, ldc);
}

export function activationBackward(act: Activation, rows: number, cols: number,
  dC: FloatArray, offdC: number, lddC: number, C: FloatArray, offC: number, ldc: number,
  dU: FloatArray, offdU: number, lddU: number): void {
  if (rows === 0 || cols === 0) return; // an empty view: nothing to touch (and no loop over the other side)
  pick(backwardK, dU)(code(act), rows, cols, dC, offdC, lddC, C, offC, ldc, dU, offdU, lddU);
}
