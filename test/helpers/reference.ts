// Naive, obviously-correct reference implementations, written from the definitions and
// independently of lib/backend/ts: triple loops, one softmax column at a time, and the
// RNN one step at a time from the seed's equations. Everything is computed in double on
// dense row-major Float64Arrays; accessors take (row, col).
import type { Activation } from '../../lib/backend/types';
import type { Sequence } from '../../lib/tensor';

export type Get = (i: number, j: number) => number;

/** Accessor for the row-major view (off, ld) of a flat array. */
export function view(a: ArrayLike<number>, off: number, ld: number): Get {
  return (i, j) => a[off + i * ld + j];
}

/**
 * C = alpha·op(A)·op(B) + beta·C over M×N, returned densely. Follows kernels.h: beta = 0
 * never reads C; K = 0 or alpha = 0 leaves beta·C (A and B not read).
 */
export function refGemm(transA: boolean, transB: boolean, M: number, N: number, K: number,
  alpha: number, A: Get, B: Get, beta: number, C: Get): Float64Array {
  const out = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let acc = 0;
      if (alpha !== 0) {
        for (let p = 0; p < K; p++) {
          const a = transA ? A(p, i) : A(i, p);
          const b = transB ? B(j, p) : B(p, j);
          acc += a * b;
        }
      }
      const ab = alpha === 0 ? 0 : alpha * acc;
      out[i * N + j] = beta === 0 ? ab : ab + beta * C(i, j);
    }
  }
  return out;
}

/** c = f(u) */
export function refActivation(act: Activation, u: number): number {
  if (act === 'tanh') return Math.tanh(u);
  if (act === 'relu') return Math.max(u, 0);
  return 1 / (1 + Math.exp(-u));
}

/** f'(u) written from the output c = f(u): tanh 1 − c², relu [c > 0], sigmoid c(1 − c). */
export function refActivationGrad(act: Activation, c: number): number {
  if (act === 'tanh') return 1 - c * c;
  if (act === 'relu') return c > 0 ? 1 : 0;
  return c * (1 - c);
}

/**
 * Softmax cross-entropy per column, one column at a time: log-sum-exp with the column's
 * Math.max. Returns the summed loss and dz = scale·(p − onehot) (zeros for target −1).
 */
export function refSoftmaxCE(V: number, N: number, z: Get, targets: ArrayLike<number>,
  scale: number): { loss: number; grad: Float64Array } {
  const grad = new Float64Array(V * N);
  let loss = 0;
  for (let j = 0; j < N; j++) {
    const y = targets[j];
    if (y === -1) continue;
    const col: number[] = [];
    for (let i = 0; i < V; i++) col.push(z(i, j));
    const max = Math.max(...col);
    let s = 0;
    for (const v of col) s += Math.exp(v - max);
    const logSumExp = max + Math.log(s);
    loss += logSumExp - col[y];
    for (let i = 0; i < V; i++) {
      const p = Math.exp(col[i] - logSumExp);
      grad[i * N + j] = scale * (p - (i === y ? 1 : 0));
    }
  }
  return { loss, grad };
}

/** An RNN's parameters and inputs, dense and in double. */
export interface RefRnnInputs {
  act: Activation;
  nx: number; nc: number; T: number; m: number;
  /** dense X (nx, T·m) row-major, or token ids (T·m) */
  X: Float64Array | Int32Array;
  Wx: Float64Array; // (nc, nx)
  Wc: Float64Array; // (nc, nc)
  b: Float64Array;  // (nc)
  c0: Float64Array; // (nc, m)
}

/** x_t(k, j) for step t = 1..T: column (t−1)·m + j of X, or onehot(ids)(k, j). */
function inputAt(r: RefRnnInputs, t: number, k: number, j: number): number {
  const col = (t - 1) * r.m + j;
  if (r.X instanceof Int32Array) return r.X[col] === k ? 1 : 0;
  return r.X[k * r.T * r.m + col];
}

/** c_t = f(Wc·c_{t−1} + Wx·x_t + b) for t = 1..T; returns [c0, c1, …, cT], each (nc, m). */
export function refRnnForward(r: RefRnnInputs): Float64Array[] {
  const { nc, nx, m } = r;
  const c: Float64Array[] = [Float64Array.from(r.c0)];
  for (let t = 1; t <= r.T; t++) {
    const prev = c[t - 1];
    const ct = new Float64Array(nc * m);
    for (let i = 0; i < nc; i++) {
      for (let j = 0; j < m; j++) {
        let u = r.b[i];
        for (let k = 0; k < nc; k++) u += r.Wc[i * nc + k] * prev[k * m + j];
        for (let k = 0; k < nx; k++) u += r.Wx[i * nx + k] * inputAt(r, t, k, j);
        ct[i * m + j] = refActivation(r.act, u);
      }
    }
    c.push(ct);
  }
  return c;
}

export interface RefRnnGrads {
  dWx: Float64Array; dWc: Float64Array; db: Float64Array;
  /** (nx, T·m), zeros for ids */
  dX: Float64Array;
  dc0: Float64Array;
  /** dJ/du_t for t = 1..T laid out as (nc, T·m) */
  dU: Float64Array;
}

/**
 * BPTT one step at a time, from the seed: with g_t = dJ/dc_t (from above plus what step
 * t+1 sends back), du_t = g_t ⊙ f'(c_t) (eq. 4), dWx += du_t·x_tᵀ (eq. 8),
 * dWc += du_t·c_{t−1}ᵀ, db += Σ_j du_t(:, j), dx_t = Wxᵀ·du_t, and c_{t−1} receives Wcᵀ·du_t.
 */
export function refRnnBackward(r: RefRnnInputs, c: Float64Array[], dC: Get): RefRnnGrads {
  const { nc, nx, m, T } = r;
  const g: RefRnnGrads = {
    dWx: new Float64Array(nc * nx), dWc: new Float64Array(nc * nc), db: new Float64Array(nc),
    dX: new Float64Array(nx * T * m), dc0: new Float64Array(nc * m),
    dU: new Float64Array(nc * T * m),
  };
  let fromNext = new Float64Array(nc * m); // Wcᵀ·du_{t+1}
  for (let t = T; t >= 1; t--) {
    const du = new Float64Array(nc * m);
    for (let i = 0; i < nc; i++) {
      for (let j = 0; j < m; j++) {
        const gij = dC(i, (t - 1) * m + j) + fromNext[i * m + j];
        du[i * m + j] = gij * refActivationGrad(r.act, c[t][i * m + j]);
        g.dU[i * T * m + (t - 1) * m + j] = du[i * m + j];
      }
    }
    for (let i = 0; i < nc; i++) {
      for (let j = 0; j < m; j++) {
        const d = du[i * m + j];
        g.db[i] += d;
        for (let k = 0; k < nx; k++) g.dWx[i * nx + k] += d * inputAt(r, t, k, j);
        for (let k = 0; k < nc; k++) g.dWc[i * nc + k] += d * c[t - 1][k * m + j];
      }
    }
    const back = new Float64Array(nc * m);
    eachTransposedProduct(r.Wc, nc, nc, du, m, (k, j, s) => { back[k * m + j] = s; });
    if (!(r.X instanceof Int32Array)) {
      eachTransposedProduct(r.Wx, nc, nx, du, m, (k, j, s) => { g.dX[k * T * m + (t - 1) * m + j] = s; });
    }
    fromNext = back;
  }
  g.dc0.set(fromNext);
  return g;
}

// ---- optimizers, from the algorithm boxes of the torch.optim documentation ----------------

/** State of one parameter element, as PyTorch keeps it. */
export interface RefOptState {
  step: number;
  buf?: number;   // SGD momentum buffer (absent before the first step)
  m: number; v: number; // Adam moments
  sum: number;    // Adagrad state_sum
  sq: number;     // RMSprop square_avg
}

export function newOptState(): RefOptState { return { step: 0, m: 0, v: 0, sum: 0, sq: 0 }; }

/** torch.optim.SGD (dampening 0): returns the new parameter. */
export function refSgd(p: number, g: number, s: RefOptState, lr: number, momentum: number,
  nesterov: boolean, wd: number): number {
  if (wd !== 0) g = g + wd * p;
  if (momentum !== 0) {
    s.buf = s.buf === undefined ? g : momentum * s.buf + g;
    g = nesterov ? g + momentum * s.buf : s.buf;
  }
  return p - lr * g;
}

/** torch.optim.Adam / AdamW (amsgrad off). */
export function refAdam(p: number, g: number, s: RefOptState, lr: number, beta1: number,
  beta2: number, eps: number, wd: number, decoupled: boolean): number {
  s.step += 1;
  if (decoupled) p = p - lr * wd * p;
  else if (wd !== 0) g = g + wd * p;
  s.m = beta1 * s.m + (1 - beta1) * g;
  s.v = beta2 * s.v + (1 - beta2) * g * g;
  const mHat = s.m / (1 - beta1 ** s.step);
  const vHat = s.v / (1 - beta2 ** s.step);
  return p - lr * mHat / (Math.sqrt(vHat) + eps);
}

/** torch.optim.Adagrad (lr_decay 0, initial accumulator 0). */
export function refAdagrad(p: number, g: number, s: RefOptState, lr: number, eps: number,
  wd: number): number {
  if (wd !== 0) g = g + wd * p;
  s.sum += g * g;
  return p - lr * g / (Math.sqrt(s.sum) + eps);
}

/** torch.optim.RMSprop (not centered, no momentum). */
export function refRmsprop(p: number, g: number, s: RefOptState, lr: number, alpha: number,
  eps: number, wd: number): number {
  if (wd !== 0) g = g + wd * p;
  s.sq = alpha * s.sq + (1 - alpha) * g * g;
  return p - lr * g / (Math.sqrt(s.sq) + eps);
}

/** Mean cross-entropy of logits (V × T·m) against class ids, from the definition. */
export function crossEntropy(logits: Sequence, target: ArrayLike<number>): number {
  const V = logits.rows, N = logits.steps * logits.batch;
  let sum = 0, count = 0;
  for (let j = 0; j < N; j++) {
    if (target[j] < 0) continue;
    let max = -Infinity;
    for (let v = 0; v < V; v++) max = Math.max(max, logits.data[v * N + j]);
    let z = 0;
    for (let v = 0; v < V; v++) z += Math.exp(logits.data[v * N + j] - max);
    sum += max + Math.log(z) - logits.data[target[j] * N + j];
    count++;
  }
  return sum / count;
}

/**
 * Wᵀ·D by the definition, for the backward of a step: W is (rows, n) row-major, D (rows, m);
 * put(k, j, s) receives s = Σ_row W[row·n + k]·D[row·m + j] for every k < n, j < m.
 */
export function eachTransposedProduct(W: ArrayLike<number>, rows: number, n: number, D: ArrayLike<number>, m: number,
  put: (k: number, j: number, s: number) => void): void {
  for (let k = 0; k < n; k++) {
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let row = 0; row < rows; row++) s += W[row * n + k] * D[row * m + j];
      put(k, j, s);
    }
  }
}
