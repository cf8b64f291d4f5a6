// Weight initialization from a seeded generator: the same seed gives the same weights on
// every backend, bit for bit.
import { Random } from '../random';
import type { FloatArray } from '../backend/types';

export type InitKind = 'uniform' | 'xavier' | 'orthogonal';

/** PyTorch's nn.RNN / nn.Linear default: U(−1/√fanIn, 1/√fanIn) (fanIn = hidden size for nn.RNN). */
export function uniformInit(rng: Random, a: FloatArray, bound: number, offset = 0, n = a.length - offset): void {
  for (let k = 0; k < n; k++) a[offset + k] = rng.uniform(-bound, bound);
}

/** Glorot/Xavier uniform: U(±√(6/(fanIn + fanOut))) for a (fanOut × fanIn) matrix. */
export function xavierInit(rng: Random, a: FloatArray, rows: number, cols: number, offset = 0): void {
  uniformInit(rng, a, Math.sqrt(6 / (rows + cols)), offset, rows * cols);
}

/**
 * An orthogonal (rows × cols) matrix: Gram–Schmidt (twice, for stability) on Gaussian
 * vectors, as in Saxe et al.; rows are orthonormal when rows ≤ cols, columns otherwise.
 */
export function orthogonalInit(rng: Random, a: FloatArray, rows: number, cols: number, offset = 0): void {
  const transpose = rows > cols;
  const r = transpose ? cols : rows;
  const c = transpose ? rows : cols;
  const q = new Float64Array(r * c);
  for (let k = 0; k < q.length; k++) q[k] = rng.normal();
  for (let i = 0; i < r; i++) {
    const qi = i * c;
    for (let pass = 0; pass < 2; pass++) {
      for (let j = 0; j < i; j++) {
        const qj = j * c;
        let dot = 0;
        for (let k = 0; k < c; k++) dot += q[qi + k] * q[qj + k];
        for (let k = 0; k < c; k++) q[qi + k] -= dot * q[qj + k];
      }
    }
    let norm = 0;
    for (let k = 0; k < c; k++) norm += q[qi + k] * q[qi + k];
    norm = Math.sqrt(norm) || 1;
    for (let k = 0; k < c; k++) q[qi + k] /= norm;
  }
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) a[offset + i * cols + j] = transpose ? q[j * c + i] : q[i * c + j];
  }
}

/** Fills an RNN layer's Wx (n_c×n_x), Wc (n_c×n_c) and b (n_c) in that order from rng. */
export function initRnnLayer(rng: Random, kind: InitKind, nx: number, nc: number,
  Wx: FloatArray, offWx: number, Wc: FloatArray, offWc: number, b: FloatArray, offb: number): void {
  const k = 1 / Math.sqrt(Math.max(1, nc));
  if (kind === 'uniform') {
    uniformInit(rng, Wx, k, offWx, nc * nx);
    uniformInit(rng, Wc, k, offWc, nc * nc);
  } else if (kind === 'xavier') {
    xavierInit(rng, Wx, nc, nx, offWx);
    xavierInit(rng, Wc, nc, nc, offWc);
  } else {
    xavierInit(rng, Wx, nc, nx, offWx);
    orthogonalInit(rng, Wc, nc, nc, offWc);
  }
  // b stands for PyTorch's b_ih + b_hh, each U(−k, k).
  for (let i = 0; i < nc; i++) b[offb + i] = rng.uniform(-k, k) + rng.uniform(-k, k);
}

export function checkInitKind(fn: string, v: unknown): InitKind {
  if (v === 'uniform' || v === 'xavier' || v === 'orthogonal') return v;
  throw new TypeError(`${fn}: init must be 'uniform', 'xavier' or 'orthogonal', got ${JSON.stringify(v)}`);
}
