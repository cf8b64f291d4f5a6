// Naive references of the gated cells (PyTorch's nn.LSTM, gates i, f, g, o; nn.GRU, gates r, z,
// n, "reset after"), written from the defining equations independently of lib/backend/ts: one
// step and one element at a time, every pre-activation its own sum, the one-hot input a lookup,
// the backward the chain rule per step. Everything in double on dense row-major arrays; results
// come back in the kernels' layouts (H, S: n_c×(T+1)·m; G, dG: 4n_c×T·m) so they compare
// element by element.

import { eachTransposedProduct } from './reference';

export interface CellInputs {
  nx: number; nc: number; T: number; m: number;
  /** dense X (nx, T·m) row-major, or token ids (T·m) */
  X: Float64Array | Int32Array;
  Wx: Float64Array; // (G·nc, nx)
  Wc: Float64Array; // (G·nc, nc)
  bx: Float64Array; // (G·nc)
  bc: Float64Array; // (G·nc)
  h0: Float64Array; // (nc, m)
  c0: Float64Array; // (nc, m), LSTM only
}

export interface CellForward {
  /** kernel layouts */
  H: Float64Array; S: Float64Array; G: Float64Array;
  /** h[t], c[t] as (nc, m), t = 0..T */
  h: Float64Array[]; c: Float64Array[];
}

export interface CellGrads {
  dG: Float64Array; dWx: Float64Array; dWc: Float64Array; dbx: Float64Array; dbc: Float64Array;
  /** (nx, T·m); zeros for ids */
  dX: Float64Array;
  dh0: Float64Array; dc0: Float64Array;
}

const sigmoid = (u: number): number => (u >= 0 ? 1 / (1 + Math.exp(-u)) : Math.exp(u) / (1 + Math.exp(u)));

/** x_t(k, j) for step t = 1..T */
function x(r: CellInputs, t: number, k: number, j: number): number {
  const col = (t - 1) * r.m + j;
  if (r.X instanceof Int32Array) return r.X[col] === k ? 1 : 0;
  return r.X[k * r.T * r.m + col];
}

/** (Wx·x_t + bx)(row, j) */
function A(r: CellInputs, row: number, t: number, j: number): number {
  let s = r.bx[row];
  for (let k = 0; k < r.nx; k++) s += r.Wx[row * r.nx + k] * x(r, t, k, j);
  return s;
}

/** (Wc·h + bc)(row, j) */
function B(r: CellInputs, row: number, h: Float64Array, j: number): number {
  let s = r.bc[row];
  for (let k = 0; k < r.nc; k++) s += r.Wc[row * r.nc + k] * h[k * r.m + j];
  return s;
}

function layout(r: CellInputs, seq: Float64Array[]): Float64Array {
  const { nc, m, T } = r, ldh = (T + 1) * m;
  const out = new Float64Array(nc * ldh);
  seq.forEach((s, t) => {
    for (let i = 0; i < nc; i++) for (let j = 0; j < m; j++) out[i * ldh + t * m + j] = s[i * m + j];
  });
  return out;
}

/** i = σ(A_i + B_i), f = σ(A_f + B_f), g = tanh(A_g + B_g), o = σ(A_o + B_o); c_t = f c_{t−1} + i g; h_t = o tanh(c_t) */
export function refLstmForward(r: CellInputs): CellForward {
  const { nc, m, T } = r, Tm = T * m;
  const G = new Float64Array(4 * nc * Tm);
  const h = [Float64Array.from(r.h0)], c = [Float64Array.from(r.c0)];
  for (let t = 1; t <= T; t++) {
    const ht = new Float64Array(nc * m), ct = new Float64Array(nc * m);
    for (let i = 0; i < nc; i++) {
      for (let j = 0; j < m; j++) {
        const gate = [0, 1, 2, 3].map((k) => {
          const u = A(r, k * nc + i, t, j) + B(r, k * nc + i, h[t - 1], j);
          return k === 2 ? Math.tanh(u) : sigmoid(u);
        });
        gate.forEach((v, k) => { G[(k * nc + i) * Tm + (t - 1) * m + j] = v; });
        ct[i * m + j] = gate[1] * c[t - 1][i * m + j] + gate[0] * gate[2];
        ht[i * m + j] = gate[3] * Math.tanh(ct[i * m + j]);
      }
    }
    h.push(ht);
    c.push(ct);
  }
  return { H: layout(r, h), S: layout(r, c), G, h, c };
}

/**
 * Per step t = T..1, with dh = dH_t + (what step t+1 sent back through Wc) and dc the gradient
 * reaching c_t: ∂o = dh·tanh(c_t), dc += dh·o·(1 − tanh²c_t), ∂i = dc·g, ∂f = dc·c_{t−1},
 * ∂g = dc·i, dU = ∂gate·gate'; dWx += dU x_tᵀ, dWc += dU h_{t−1}ᵀ, dbx, dbc += dU;
 * h_{t−1} receives Wcᵀ dU, c_{t−1} receives dc·f.
 */
export function refLstmBackward(r: CellInputs, f: CellForward, dH: ArrayLike<number>,
  dcT: ArrayLike<number> | null): CellGrads {
  const { nc, nx, m, T } = r, Tm = T * m, R = 4 * nc;
  const g: CellGrads = {
    dG: new Float64Array(R * Tm), dWx: new Float64Array(R * nx), dWc: new Float64Array(R * nc),
    dbx: new Float64Array(R), dbc: new Float64Array(R), dX: new Float64Array(nx * Tm),
    dh0: new Float64Array(nc * m), dc0: new Float64Array(nc * m),
  };
  let back = new Float64Array(nc * m);
  const dc = dcT === null ? new Float64Array(nc * m) : Float64Array.from(dcT);
  for (let t = T; t >= 1; t--) {
    const dU = new Float64Array(R * m);
    for (let i = 0; i < nc; i++) {
      for (let j = 0; j < m; j++) {
        const col = (t - 1) * m + j;
        const [ig, fg, gg, og] = [0, 1, 2, 3].map((k) => f.G[(k * nc + i) * Tm + col]);
        const tc = Math.tanh(f.c[t][i * m + j]);
        const dh = dH[i * Tm + col] + back[i * m + j];
        const dct = dc[i * m + j] + dh * og * (1 - tc * tc);
        dU[(0 * nc + i) * m + j] = dct * gg * ig * (1 - ig);
        dU[(1 * nc + i) * m + j] = dct * f.c[t - 1][i * m + j] * fg * (1 - fg);
        dU[(2 * nc + i) * m + j] = dct * ig * (1 - gg * gg);
        dU[(3 * nc + i) * m + j] = dh * tc * og * (1 - og);
        dc[i * m + j] = dct * fg;
      }
    }
    for (let row = 0; row < R; row++) {
      for (let j = 0; j < m; j++) {
        const d = dU[row * m + j];
        g.dG[row * Tm + (t - 1) * m + j] = d;
        g.dbx[row] += d;
        g.dbc[row] += d;
        for (let k = 0; k < nx; k++) g.dWx[row * nx + k] += d * x(r, t, k, j);
        for (let k = 0; k < nc; k++) g.dWc[row * nc + k] += d * f.h[t - 1][k * m + j];
      }
    }
    back = new Float64Array(nc * m);
    eachTransposedProduct(r.Wc, R, nc, dU, m, (k, j, s) => { back[k * m + j] = s; });
    if (!(r.X instanceof Int32Array)) {
      eachTransposedProduct(r.Wx, R, nx, dU, m, (k, j, s) => { g.dX[k * Tm + (t - 1) * m + j] = s; });
    }
  }
  g.dh0.set(back);
  g.dc0.set(dc);
  return g;
}

/** r = σ(A_r + B_r), z = σ(A_z + B_z), n = tanh(A_n + r·B_n), h_t = (1 − z)·n + z·h_{t−1}; G holds r, z, n, B_n */
export function refGruForward(r: CellInputs): CellForward {
  const { nc, m, T } = r, Tm = T * m;
  const G = new Float64Array(4 * nc * Tm);
  const h = [Float64Array.from(r.h0)];
  for (let t = 1; t <= T; t++) {
    const ht = new Float64Array(nc * m);
    for (let i = 0; i < nc; i++) {
      for (let j = 0; j < m; j++) {
        const rg = sigmoid(A(r, i, t, j) + B(r, i, h[t - 1], j));
        const z = sigmoid(A(r, nc + i, t, j) + B(r, nc + i, h[t - 1], j));
        const Bn = B(r, 2 * nc + i, h[t - 1], j);
        const n = Math.tanh(A(r, 2 * nc + i, t, j) + rg * Bn);
        ht[i * m + j] = (1 - z) * n + z * h[t - 1][i * m + j];
        [rg, z, n, Bn].forEach((v, k) => { G[(k * nc + i) * Tm + (t - 1) * m + j] = v; });
      }
    }
    h.push(ht);
  }
  return { H: layout(r, h), S: new Float64Array(0), G, h, c: [] };
}

/**
 * Per step, dh = dH_t + z_{t+1}·dh_{t+1} + Wcᵀ·dB_{t+1}: ∂n = dh(1 − z), ∂z = dh(h_{t−1} − n),
 * dA_n = ∂n(1 − n²), dA_r = dA_n·B_n·r(1 − r), dA_z = ∂z·z(1 − z), dB_n = dA_n·r (dB = dA for
 * r, z); dWx += dA x_tᵀ, dWc += dB h_{t−1}ᵀ, dbx += dA, dbc += dB, dx_t = Wxᵀ dA.
 * dG rows: [dA_r; dA_z; dA_n; dB_n].
 */
export function refGruBackward(r: CellInputs, f: CellForward, dH: ArrayLike<number>): CellGrads {
  const { nc, nx, m, T } = r, Tm = T * m, R = 3 * nc;
  const g: CellGrads = {
    dG: new Float64Array(4 * nc * Tm), dWx: new Float64Array(R * nx), dWc: new Float64Array(R * nc),
    dbx: new Float64Array(R), dbc: new Float64Array(R), dX: new Float64Array(nx * Tm),
    dh0: new Float64Array(nc * m), dc0: new Float64Array(0),
  };
  let back = new Float64Array(nc * m);
  for (let t = T; t >= 1; t--) {
    const dA = new Float64Array(R * m), dB = new Float64Array(R * m), direct = new Float64Array(nc * m);
    for (let i = 0; i < nc; i++) {
      for (let j = 0; j < m; j++) {
        const col = (t - 1) * m + j;
        const [rg, z, n, Bn] = [0, 1, 2, 3].map((k) => f.G[(k * nc + i) * Tm + col]);
        const dh = dH[i * Tm + col] + back[i * m + j];
        const dAn = dh * (1 - z) * (1 - n * n);
        const dAr = dAn * Bn * rg * (1 - rg);
        const dAz = dh * (f.h[t - 1][i * m + j] - n) * z * (1 - z);
        [dAr, dAz, dAn].forEach((v, k) => { dA[(k * nc + i) * m + j] = v; });
        [dAr, dAz, dAn * rg].forEach((v, k) => { dB[(k * nc + i) * m + j] = v; });
        [dAr, dAz, dAn, dAn * rg].forEach((v, k) => { g.dG[(k * nc + i) * Tm + col] = v; });
        direct[i * m + j] = dh * z;
      }
    }
    for (let row = 0; row < R; row++) {
      for (let j = 0; j < m; j++) {
        const a = dA[row * m + j], b = dB[row * m + j];
        g.dbx[row] += a;
        g.dbc[row] += b;
        for (let k = 0; k < nx; k++) g.dWx[row * nx + k] += a * x(r, t, k, j);
        for (let k = 0; k < nc; k++) g.dWc[row * nc + k] += b * f.h[t - 1][k * m + j];
      }
    }
    back = direct;
    eachTransposedProduct(r.Wc, R, nc, dB, m, (k, j, s) => { back[k * m + j] += s; });
    if (!(r.X instanceof Int32Array)) {
      eachTransposedProduct(r.Wx, R, nx, dA, m, (k, j, s) => { g.dX[k * Tm + (t - 1) * m + j] = s; });
    }
  }
  g.dh0.set(back);
  return g;
}
