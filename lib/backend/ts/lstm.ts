// Whole-sequence LSTM forward and backward, PyTorch's nn.LSTM (gates i, f, g, o as the four row
// blocks of one matrix), built from the gemm, gather and bias kernels in the same order as
// native/kernels/lstm.cc (lstm_forward / lstm_backward):
//   A = Wx·X + bx                     one product over all T·m columns
//   U_t = A_t + Wc·h_{t−1} + bc      one product per step, all gates
//   i = σ(U_i)  f = σ(U_f)  g = tanh(U_g)  o = σ(U_o)   c_t = f⊙c_{t−1} + i⊙g   h_t = o⊙tanh(c_t)
// Wx is (4n_c, n_x), Wc (4n_c, n_c), bx, bc (4n_c). X is (n_x, T·m), or T·m token ids.
// H = [h0 | h_1 … h_T] and S = [c0 | c_1 … c_T] are (n_c, (T+1)·m) with ld (T+1)·m; G (4n_c, T·m)
// is written with the gate outputs (saved for the backward: 6·n_c·m elements a step).
import type { FloatArray } from '../types';
import { copy, fill, rowSum } from './elementwise';
import { gemm } from './gemm';
import { inputGrads, inputProduct } from './recurrence';
import { perDtype, pick } from './specialize';

/**
 * The gates and the state update of one step, in place on G's block of the step (offset g0,
 * ld Tm, holding U_t − bc): sigmoid/tanh with bc added, then c_t and h_t. s0 and h0 are the
 * offsets of c_{t−1} and h_{t−1} in S and H (ld ldh); c_t and h_t are m columns further on.
 */
function lstmGates(nc: number, m: number, Tm: number, ldh: number, bc: FloatArray,
  offbc: number, G: FloatArray, g0: number, S: FloatArray, s0: number, H: FloatArray,
  h0: number): void {
  for (let i = 0; i < nc; i++) {
    const gi = g0 + i * Tm, gf = gi + nc * Tm, gg = gf + nc * Tm, go = gg + nc * Tm;
    const bi = bc[offbc + i], bf = bc[offbc + nc + i];
    const bg = bc[offbc + 2 * nc + i], bo = bc[offbc + 3 * nc + i];
    const cp = s0 + i * ldh, cn = cp + m, hn = h0 + i * ldh + m;
    for (let j = 0; j < m; j++) {
      // σ(u) = 1/(1 + e^−u): for u → −∞, e^−u = ∞ and the quotient is exactly 0.
      G[gi + j] = 1 / (1 + Math.exp(-(G[gi + j] + bi)));
      G[gf + j] = 1 / (1 + Math.exp(-(G[gf + j] + bf)));
      G[gg + j] = Math.tanh(G[gg + j] + bg);
      G[go + j] = 1 / (1 + Math.exp(-(G[go + j] + bo)));
      // c_t = f ⊙ c_{t−1} + i ⊙ g; h_t = o ⊙ tanh(c_t), from the values as stored
      S[cn + j] = G[gf + j] * S[cp + j] + G[gi + j] * G[gg + j];
      H[hn + j] = Math.tanh(S[cn + j]) * G[go + j];
    }
  }
}

/**
 * The gate gradients of one step (rows of every gate block), from dh (ld m, the full ∂J/∂h_t)
 * and dc (ld m, ∂J/∂c_t from step t+1; left holding dc ⊙ f for step t−1):
 *   dc += dh⊙o⊙(1 − tanh²c_t)   dU_o = dh⊙tanh(c_t)⊙o(1−o)   dU_i = dc⊙g⊙i(1−i)
 *   dU_f = dc⊙c_{t−1}⊙f(1−f)    dU_g = dc⊙i⊙(1−g²)
 */
function lstmGateGrads(nc: number, m: number, Tm: number, ldh: number, G: FloatArray,
  g0: number, S: FloatArray, s0: number, dh: FloatArray, offdh: number, dc: FloatArray,
  offdc: number, dG: FloatArray, d0: number): void {
  for (let i = 0; i < nc; i++) {
    const gi = g0 + i * Tm, gf = gi + nc * Tm, gg = gf + nc * Tm, go = gg + nc * Tm;
    const di = d0 + i * Tm, df = di + nc * Tm, dgg = df + nc * Tm, dout = dgg + nc * Tm;
    const cp = s0 + i * ldh, cn = cp + m;
    const hrow = offdh + i * m, crow = offdc + i * m;
    for (let j = 0; j < m; j++) {
      const tc = Math.tanh(S[cn + j]);
      const o = G[go + j], ig = G[gi + j], fg = G[gf + j], g = G[gg + j];
      const d = dh[hrow + j];
      const dcj = dc[crow + j] + d * o * (1 - tc * tc);
      dG[dout + j] = d * tc * (o * (1 - o));
      dG[di + j] = dcj * g * (ig * (1 - ig));
      dG[df + j] = dcj * S[cp + j] * (fg * (1 - fg));
      dG[dgg + j] = dcj * ig * (1 - g * g);
      dc[crow + j] = dcj * fg;
    }
  }
}

/** dh (ld m) += dH_t (ld Tm), or = when `set`: the gradient from above joins the recurrent one. */
function addRows(nc: number, m: number, src: FloatArray, offs: number, lds: number,
  dst: FloatArray, offd: number, set: boolean): void {
  for (let i = 0; i < nc; i++) {
    const s = offs + i * lds, d = offd + i * m;
    if (set) {
      for (let j = 0; j < m; j++) dst[d + j] = src[s + j];
    } else {
      for (let j = 0; j < m; j++) dst[d + j] += src[s + j];
    }
  }
}

const gatesK = perDtype(lstmGates);
const gateGradsK = perDtype(lstmGateGrads);
const addRowsK = perDtype(addRows);

export function lstmForward(nx: number, nc: number, T: number, m: number,
  X: FloatArray | Int32Array, offX: number, Wx: FloatArray, offWx: number,
  Wc: FloatArray, offWc: number, bx: FloatArray, offbx: number, bc: FloatArray, offbc: number,
  H: FloatArray, offH: number, S: FloatArray, offS: number, G: FloatArray, offG: number): void {
  if (T === 0 || m === 0 || nc === 0) return; // no steps, no batch or no units: nothing to compute
  const Tm = T * m, ldh = Tm + m, rows = 4 * nc;
  // A = Wx·X + bx over all T·m columns (a column gather for ids)
  inputProduct(rows, nx, Tm, X, offX, Wx, offWx, bx, offbx, G, offG, Tm);
  const gates = pick(gatesK, G);
  for (let t = 1; t <= T; t++) {
    const g0 = offG + (t - 1) * m;
    // U_t = A_t + Wc·h_{t−1} for every gate at once (the only sequential product)
    gemm(false, false, rows, m, nc, 1, Wc, offWc, nc, H, offH + (t - 1) * m, ldh, 1, G, g0, Tm);
    gates(nc, m, Tm, ldh, bc, offbc, G, g0, S, offS + (t - 1) * m, H, offH + (t - 1) * m);
  }
}

/**
 * t = T..1: dh = dH_t + Wcᵀ·dU_{t+1}, the gate gradients dU_t into dG; then dh0 = Wcᵀ·dU_1,
 * dc0 = dc_1 ⊙ f_1 (dh0, dc0 are the running buffers, written, not accumulated), and one
 * product each: dWx += dU·Xᵀ, dWc += dU·H_prevᵀ, dbx += rowsum(dU), dbc += rowsum(dU),
 * dX += Wxᵀ·dU. T = 0: dh0 = 0, dc0 = dcT (or 0).
 */
export function lstmBackward(nx: number, nc: number, T: number, m: number,
  X: FloatArray | Int32Array, offX: number, Wx: FloatArray, offWx: number,
  Wc: FloatArray, offWc: number, H: FloatArray, offH: number, S: FloatArray, offS: number,
  G: FloatArray, offG: number, dH: FloatArray, offdH: number, dcT: FloatArray | null,
  offdcT: number, dG: FloatArray, offdG: number, dWx: FloatArray, offdWx: number,
  dWc: FloatArray, offdWc: number, dbx: FloatArray, offdbx: number, dbc: FloatArray,
  offdbc: number, dX: FloatArray | null, offdX: number, dh0: FloatArray, offdh0: number,
  dc0: FloatArray, offdc0: number): void {
  if (m === 0 || nc === 0) return; // no batch or no units: nothing to touch
  // dc starts as ∂J/∂c_T
  if (dcT === null) fill(nc * m, 0, dc0, offdc0);
  else if (dcT !== dc0 || offdcT !== offdc0) copy(nc * m, dcT, offdcT, dc0, offdc0);
  if (T === 0) {
    fill(nc * m, 0, dh0, offdh0);
    return;
  }
  const Tm = T * m, ldh = Tm + m, rows = 4 * nc;
  const gateGrads = pick(gateGradsK, dG);
  const addRowsF = pick(addRowsK, dG);
  for (let t = T; t >= 1; t--) {
    const d0 = offdG + (t - 1) * m;
    if (t < T) {
      // dh = Wcᵀ·dU_{t+1} + dH_t
      gemm(true, false, nc, m, rows, 1, Wc, offWc, nc, dG, d0 + m, Tm, 0, dh0, offdh0, m);
      addRowsF(nc, m, dH, offdH + (t - 1) * m, Tm, dh0, offdh0, false);
    } else {
      addRowsF(nc, m, dH, offdH + (t - 1) * m, Tm, dh0, offdh0, true);
    }
    gateGrads(nc, m, Tm, ldh, G, offG + (t - 1) * m, S, offS + (t - 1) * m, dh0, offdh0,
      dc0, offdc0, dG, d0);
  }
  // dh0 = Wcᵀ·dU_1
  gemm(true, false, nc, m, rows, 1, Wc, offWc, nc, dG, offdG, Tm, 0, dh0, offdh0, m);

  // dWx += dU·Xᵀ (a scatter-add for ids) and dX += Wxᵀ·dU; dWc += dU·[h0 … h_{T−1}]ᵀ, the first T·m columns of H
  inputGrads(rows, nx, Tm, X, offX, Wx, offWx, dG, offdG, dWx, offdWx, dX, offdX);
  gemm(false, true, rows, nc, Tm, 1, dG, offdG, Tm, H, offH, ldh, 1, dWc, offdWc, nc);
  rowSum(rows, Tm, dG, offdG, Tm, dbx, offdbx);
  rowSum(rows, Tm, dG, offdG, Tm, dbc, offdbc);
}
