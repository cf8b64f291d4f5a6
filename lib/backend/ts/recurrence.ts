// Pieces the whole-sequence recurrences share (rnn.ts, lstm.ts, gru.ts), as
// native/kernels/recurrence.h shares them between rnn.cc, lstm.cc and gru.cc: the input
// product before the recurrence and the input gradients after it, each one product over all
// T·m columns. Internal to the ts backend.
import type { FloatArray } from '../types';
import { addBias } from './elementwise';
import { gatherColumns, scatterAddColumns } from './gather';
import { gemm } from './gemm';

/**
 * U = Wx·X + b over all T·m columns at once (beta 0: U may hold anything), or, for ids,
 * Wx·onehot(ids) + b as the gather of Wx's columns. Wx is (rows, n_x), U (rows, Tm), ld ldu.
 */
export function inputProduct(rows: number, nx: number, Tm: number,
  X: FloatArray | Int32Array, offX: number, Wx: FloatArray, offWx: number,
  b: FloatArray, offb: number, U: FloatArray, offU: number, ldu: number): void {
  if (X instanceof Int32Array) {
    gatherColumns(rows, nx, Tm, Wx, offWx, nx, X, offX, U, offU, ldu, false);
  } else {
    gemm(false, false, rows, Tm, nx, 1, Wx, offWx, nx, X, offX, Tm, 0, U, offU, ldu);
  }
  addBias(rows, Tm, b, offb, U, offU, ldu);
}

/**
 * dWx += dU·Xᵀ (for ids the product with onehotᵀ is a scatter-add) and, for dense inputs
 * when dX is not null, dX += Wxᵀ·dU. dU is (rows, Tm) with ld Tm.
 */
export function inputGrads(rows: number, nx: number, Tm: number,
  X: FloatArray | Int32Array, offX: number, Wx: FloatArray, offWx: number,
  dU: FloatArray, offdU: number, dWx: FloatArray, offdWx: number,
  dX: FloatArray | null, offdX: number): void {
  if (X instanceof Int32Array) {
    scatterAddColumns(rows, nx, Tm, dU, offdU, Tm, X, offX, dWx, offdWx, nx);
  } else {
    gemm(false, true, rows, nx, Tm, 1, dU, offdU, Tm, X, offX, Tm, 1, dWx, offdWx, nx);
    if (dX !== null) gemm(true, false, nx, Tm, rows, 1, Wx, offWx, nx, dU, offdU, Tm, 1, dX, offdX, Tm);
  }
}
