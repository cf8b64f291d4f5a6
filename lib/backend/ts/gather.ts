// Wx·onehot(ids) without the one-hot matrix: a column gather, and its gradient, the
// scatter-add dWx[:, ids[j]] += dU[:, j] (eq. 8 with x_t one-hot). W is (rows, V).
// Both walk row by row so W, out and dU are read along their rows.
import type { FloatArray } from '../types';

/** out[:, j] = W[:, ids[j]] (+= when accumulate), j < n. */
export function gatherColumns(rows: number, _V: number, n: number, W: FloatArray,
  offW: number, ldw: number, ids: Int32Array, offIds: number, out: FloatArray,
  offOut: number, ldo: number, accumulate: boolean): void {
  if (rows === 0 || n === 0) return; // empty: nothing to touch
  for (let i = 0; i < rows; i++) {
    const w = offW + i * ldw;
    const o = offOut + i * ldo;
    if (accumulate) {
      for (let j = 0; j < n; j++) out[o + j] += W[w + ids[offIds + j]];
    } else {
      for (let j = 0; j < n; j++) out[o + j] = W[w + ids[offIds + j]];
    }
  }
}

/** dW[:, ids[j]] += dU[:, j], j < n; repeated ids accumulate. */
export function scatterAddColumns(rows: number, _V: number, n: number, dU: FloatArray,
  offdU: number, lddU: number, ids: Int32Array, offIds: number, dW: FloatArray,
  offdW: number, lddW: number): void {
  if (rows === 0 || n === 0) return; // empty: nothing to touch
  for (let i = 0; i < rows; i++) {
    const u = offdU + i * lddU;
    const w = offdW + i * lddW;
    for (let j = 0; j < n; j++) dW[w + ids[offIds + j]] += dU[u + j];
  }
}
