// gemm: C = alpha·op(A)·op(B) + beta·C, row-major, BLAS ?gemm semantics (kernels.h).
// op(A) is (M, K): A is stored (M, K) with lda >= K, or, when transA, (K, M) with lda >= M.
// op(B) is (K, N): B is stored (K, N) with ldb >= N, or, when transB, (N, K) with ldb >= K.
// C is (M, N) with ldc >= N.
//
// Two loop shapes, chosen so the innermost loop always walks memory with unit stride:
// - "axpy form" when B is not transposed: C[i, :] += a·B[p, :], the inner loop streams rows
//   of B and C. A is only read as scalars, so transA is just a swap of A's two strides.
// - when B is transposed, a (KC, NC) panel of op(B) is packed to row-major scratch and the
//   axpy form runs on it; for one or two rows of C the "dot form" C[i, j] = A[i, :]·B[j, :]
//   (both rows contiguous) needs no copy and is used instead.
// Blocking uses BLIS names: KC (depth of a panel), NC (columns of C).
// Products and sums are JS doubles; C, like BLAS, holds the running result in its own dtype.
import type { FloatArray } from '../types';
import { perDtype, pick } from './specialize';

const KC = 256;
const NC = 1024;
// Below this many rows of C the transB case skips packing (see gemm).
const SMALL_M = 2;

/** C = beta·C over an (M, N) view; beta = 0 writes zeros without reading C (it may be NaN). */
function scaleC(M: number, N: number, beta: number, C: FloatArray, offC: number,
  ldc: number): void {
  for (let i = 0; i < M; i++) {
    const row = offC + i * ldc;
    const end = row + N;
    if (beta === 0) {
      for (let k = row; k < end; k++) C[k] = 0;
    } else {
      for (let k = row; k < end; k++) C[k] *= beta;
    }
  }
}

/**
 * One (KC, NC) panel of the axpy form: C += alpha·op(A)·B, op(A)(i, p) = A[offA + i·rsA + p·csA],
 * B (K, N) row-major. Register block of 2 rows of C by 4 steps of depth, so each loaded
 * B element feeds two rows and each C element is loaded and stored once per 4 products:
 *   C[i, j]   += a0·B[p, j] + a1·B[p+1, j] + a2·B[p+2, j] + a3·B[p+3, j]
 *   C[i+1, j] += e0·B[p, j] + e1·B[p+1, j] + e2·B[p+2, j] + e3·B[p+3, j]
 */
function axpyPanel(M: number, N: number, K: number, alpha: number,
  A: FloatArray, offA: number, rsA: number, csA: number,
  B: FloatArray, offB: number, ldb: number,
  C: FloatArray, offC: number, ldc: number): void {
  const K4 = K - (K & 3);
  const M2 = M - (M & 1);
  const cs2 = 2 * csA, cs3 = 3 * csA;
  for (let i = 0; i < M2; i += 2) {
    const c0 = offC + i * ldc;
    const cEnd = c0 + N;
    const aI = offA + i * rsA;
    let p = 0;
    for (; p < K4; p += 4) {
      const ai = aI + p * csA;
      const aj = ai + rsA;
      const a0 = alpha * A[ai], a1 = alpha * A[ai + csA];
      const a2 = alpha * A[ai + cs2], a3 = alpha * A[ai + cs3];
      const e0 = alpha * A[aj], e1 = alpha * A[aj + csA];
      const e2 = alpha * A[aj + cs2], e3 = alpha * A[aj + cs3];
      // Offsets relative to c0 so one induction variable k indexes C and the 4 rows of B.
      const b0 = offB + p * ldb - c0, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
      for (let k = c0; k < cEnd; k++) {
        const x0 = B[b0 + k], x1 = B[b1 + k], x2 = B[b2 + k], x3 = B[b3 + k];
        C[k] += a0 * x0 + a1 * x1 + a2 * x2 + a3 * x3;
        C[k + ldc] += e0 * x0 + e1 * x1 + e2 * x2 + e3 * x3;
      }
    }
    for (; p < K; p++) {
      const ai = aI + p * csA;
      const a0 = alpha * A[ai], e0 = alpha * A[ai + rsA];
      const b0 = offB + p * ldb - c0;
      for (let k = c0; k < cEnd; k++) {
        const x0 = B[b0 + k];
        C[k] += a0 * x0;
        C[k + ldc] += e0 * x0;
      }
    }
  }
  if (M2 < M) {
    const c0 = offC + M2 * ldc;
    const cEnd = c0 + N;
    const aI = offA + M2 * rsA;
    let p = 0;
    for (; p < K4; p += 4) {
      const ai = aI + p * csA;
      const a0 = alpha * A[ai], a1 = alpha * A[ai + csA];
      const a2 = alpha * A[ai + cs2], a3 = alpha * A[ai + cs3];
      const b0 = offB + p * ldb - c0, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
      for (let k = c0; k < cEnd; k++) {
        C[k] += a0 * B[b0 + k] + a1 * B[b1 + k] + a2 * B[b2 + k] + a3 * B[b3 + k];
      }
    }
    for (; p < K; p++) {
      const a0 = alpha * A[aI + p * csA];
      const b0 = offB + p * ldb - c0;
      for (let k = c0; k < cEnd; k++) C[k] += a0 * B[b0 + k];
    }
  }
}

/**
 * Dot form: C = alpha·A·Bᵀ + beta·C, A (M, K) and B (N, K) read along contiguous rows:
 *   C[i, j] = alpha·Σ_p A[i, p]·B[j, p] + beta·C[i, j]      (beta = 0: C is not read)
 * 2×2 register block: four independent sums, each loaded element used twice.
 */
function dotPanel(M: number, N: number, K: number, alpha: number,
  A: FloatArray, offA: number, lda: number, B: FloatArray, offB: number, ldb: number,
  beta: number, C: FloatArray, offC: number, ldc: number): void {
  const M2 = M - (M & 1);
  const N2 = N - (N & 1);
  for (let i = 0; i < M2; i += 2) {
    const a0 = offA + i * lda, a1 = a0 + lda;
    const c0 = offC + i * ldc, c1 = c0 + ldc;
    for (let j = 0; j < N2; j += 2) {
      const b0 = offB + j * ldb, b1 = b0 + ldb;
      let s00 = 0, s01 = 0, s10 = 0, s11 = 0;
      for (let p = 0; p < K; p++) {
        const x0 = A[a0 + p], x1 = A[a1 + p];
        const y0 = B[b0 + p], y1 = B[b1 + p];
        s00 += x0 * y0; s01 += x0 * y1;
        s10 += x1 * y0; s11 += x1 * y1;
      }
      const k0 = c0 + j, k1 = c1 + j;
      if (beta === 0) {
        C[k0] = alpha * s00; C[k0 + 1] = alpha * s01;
        C[k1] = alpha * s10; C[k1 + 1] = alpha * s11;
      } else {
        C[k0] = alpha * s00 + beta * C[k0]; C[k0 + 1] = alpha * s01 + beta * C[k0 + 1];
        C[k1] = alpha * s10 + beta * C[k1]; C[k1 + 1] = alpha * s11 + beta * C[k1 + 1];
      }
    }
    if (N2 < N) {
      const b0 = offB + N2 * ldb;
      let s0 = 0, s1 = 0;
      for (let p = 0; p < K; p++) {
        const y = B[b0 + p];
        s0 += A[a0 + p] * y;
        s1 += A[a1 + p] * y;
      }
      const k0 = c0 + N2, k1 = c1 + N2;
      C[k0] = beta === 0 ? alpha * s0 : alpha * s0 + beta * C[k0];
      C[k1] = beta === 0 ? alpha * s1 : alpha * s1 + beta * C[k1];
    }
  }
  if (M2 < M) {
    const a0 = offA + M2 * lda;
    const c0 = offC + M2 * ldc;
    for (let j = 0; j < N; j++) {
      const b0 = offB + j * ldb;
      let s = 0;
      for (let p = 0; p < K; p++) s += A[a0 + p] * B[b0 + p];
      const k = c0 + j;
      C[k] = beta === 0 ? alpha * s : alpha * s + beta * C[k];
    }
  }
}

/** Xp[c·rows + r] = X[offX + r·ldx + c]: a (rows, cols) block stored transposed, row-major. */
function packTransposed(rows: number, cols: number, X: FloatArray, offX: number, ldx: number,
  Xp: FloatArray): void {
  // Walks X along its rows (unit stride reads); writes stride through the small panel.
  for (let r = 0; r < rows; r++) {
    const src = offX + r * ldx;
    for (let c = 0; c < cols; c++) Xp[c * rows + r] = X[src + c];
  }
}

const scaleCK = perDtype(scaleC);
const axpyPanelK = perDtype(axpyPanel);
const dotPanelK = perDtype(dotPanel);
const packK = perDtype(packTransposed);

// Packing scratch for transB, one per dtype; grows, never shrinks.
let pack32 = new Float32Array(0);
let pack64 = new Float64Array(0);

function packScratch(like: FloatArray, size: number): FloatArray {
  if (like instanceof Float32Array) {
    if (pack32.length < size) pack32 = new Float32Array(size);
    return pack32;
  }
  if (pack64.length < size) pack64 = new Float64Array(size);
  return pack64;
}

export function gemm(transA: boolean, transB: boolean, M: number, N: number, K: number,
  alpha: number, A: FloatArray, offA: number, lda: number, B: FloatArray, offB: number,
  ldb: number, beta: number, C: FloatArray, offC: number, ldc: number): void {
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha === 0) {
    // Nothing to multiply: C = beta·C; A and B are not read (kernels.h).
    if (beta !== 1) pick(scaleCK, C)(M, N, beta, C, offC, ldc);
    return;
  }
  // transB with few rows of C: the dot form reads both operands along contiguous rows and
  // needs no copy. Otherwise, for transB, packing costs O(K·N) against O(M·N·K) of work, so
  // op(B) is packed to row-major (KC, NC) panels and the faster axpy form runs on them.
  if (transB && M <= SMALL_M && !transA) {
    pick(dotPanelK, C)(M, N, K, alpha, A, offA, lda, B, offB, ldb, beta, C, offC, ldc);
    return;
  }
  if (beta !== 1) pick(scaleCK, C)(M, N, beta, C, offC, ldc);
  const panel = pick(axpyPanelK, C);
  const pack = transB ? pick(packK, B) : null;
  // op(A)(i, p) = A[i·lda + p], or A[p·lda + i] when transposed.
  const rsA = transA ? 1 : lda;
  const csA = transA ? lda : 1;
  // jc, pc, i: a (KC, NC) panel of B stays in cache while every row of C passes over it.
  for (let jc = 0; jc < N; jc += NC) {
    const nc = Math.min(NC, N - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = Math.min(KC, K - pc);
      if (pack === null) {
        panel(M, nc, kc, alpha, A, offA + pc * csA, rsA, csA, B, offB + pc * ldb + jc, ldb,
          C, offC + jc, ldc);
      } else {
        // Bp[p·nc + j] = op(B)[pc + p, jc + j] = B[jc + j, pc + p]
        const Bp = packScratch(B, kc * nc);
        pack(nc, kc, B, offB + jc * ldb + pc, ldb, Bp);
        panel(M, nc, kc, alpha, A, offA + pc * csA, rsA, csA, Bp, 0, nc, C, offC + jc, ldc);
      }
    }
  }
}
