// Whole-sequence GRU forward and backward, PyTorch's nn.GRU ("reset after": r multiplies
// Wc_n·h + bc_n; gates r, z, n as the three row blocks of one matrix), built from the gemm,
// gather and bias kernels in the same order as native/kernels/gru.cc:
//   A = Wx·X + bx                     one product over all T·m columns
//   B_t = Wc·h_{t−1} + bc             one product per step, all gates
//   r = σ(A_r + B_r)  z = σ(A_z + B_z)  n = tanh(A_n + r⊙B_n)   h_t = n + z⊙(h_{t−1} − n)
// Wx is (3n_c, n_x), Wc (3n_c, n_c), bx, bc (3n_c). X is (n_x, T·m), or T·m token ids.
// H = [h0 | h_1 … h_T] is (n_c, (T+1)·m) with ld (T+1)·m. G (4n_c, T·m) is written with r, z, n
// and, as a fourth block, B_n (saved for the backward: 5·n_c·m elements a step).
import type { FloatArray } from '../types';
import { fill, rowSum } from './elementwise';
import { gemm } from './gemm';
import { inputGrads, inputProduct } from './recurrence';
import { perDtype, pick } from './specialize';

/**
 * The gates and the update of one step on G's block of the step (offset g0, ld Tm): the r, z
 * rows hold A + Wc·h, the B_n block holds Wc_n·h; h0 is the offset of h_{t−1} in H (ld ldh).
 */
function gruGates(nc: number, m: number, Tm: number, ldh: number, bc: FloatArray,
  offbc: number, G: FloatArray, g0: number, H: FloatArray, h0: number): void {
  for (let i = 0; i < nc; i++) {
    const gr = g0 + i * Tm, gz = gr + nc * Tm, gn = gz + nc * Tm, gb = gn + nc * Tm;
    const br = bc[offbc + i], bz = bc[offbc + nc + i], bn = bc[offbc + 2 * nc + i];
    const hp = h0 + i * ldh, hn = hp + m;
    for (let j = 0; j < m; j++) {
      G[gr + j] = 1 / (1 + Math.exp(-(G[gr + j] + br)));
      G[gz + j] = 1 / (1 + Math.exp(-(G[gz + j] + bz)));
      G[gb + j] += bn; // B_n = Wc_n·h + bc_n, saved
      G[gn + j] = Math.tanh(G[gn + j] + G[gr + j] * G[gb + j]);
      const n = G[gn + j];
      H[hn + j] = n + G[gz + j] * (H[hp + j] - n);
    }
  }
}

/**
 * The gate gradients of one step from dh (ld m, the full ∂J/∂h_t) into dG's block d0:
 *   dU_n = dh⊙(1−z)⊙(1−n²)   dB_n = dU_n⊙r   dU_z = dh⊙(h_{t−1}−n)⊙z(1−z)   dU_r = dU_n⊙B_n⊙r(1−r)
 */
function gruGateGrads(nc: number, m: number, Tm: number, ldh: number, G: FloatArray,
  g0: number, H: FloatArray, h0: number, dh: FloatArray, offdh: number, dG: FloatArray,
  d0: number): void {
  for (let i = 0; i < nc; i++) {
    const gr = g0 + i * Tm, gz = gr + nc * Tm, gn = gz + nc * Tm, gb = gn + nc * Tm;
    const dr = d0 + i * Tm, dz = dr + nc * Tm, dn = dz + nc * Tm, dbn = dn + nc * Tm;
    const hp = h0 + i * ldh, row = offdh + i * m;
    for (let j = 0; j < m; j++) {
      const r = G[gr + j], z = G[gz + j], n = G[gn + j], d = dh[row + j];
      const dAn = d * (1 - z) * (1 - n * n);
      dG[dn + j] = dAn;
      dG[dbn + j] = dAn * r;
      dG[dz + j] = d * (H[hp + j] - n) * (z * (1 - z));
      dG[dr + j] = dAn * G[gb + j] * (r * (1 - r));
    }
  }
}

/**
 * dh = add + z_{t+1}⊙dh (add: dH_t, ld Tm; hasAdd false at the very end), on the running
 * buffer (ld m); z is G's z block of step t+1 at offset z0 (ld Tm). At t = T, `first` copies dH_T.
 */
function gruCarry(nc: number, m: number, Tm: number, G: FloatArray, z0: number,
  add: FloatArray, offAdd: number, hasAdd: boolean, first: boolean, dh: FloatArray,
  offdh: number): void {
  for (let i = 0; i < nc; i++) {
    const z = z0 + i * Tm, a = offAdd + i * Tm, d = offdh + i * m;
    if (first) {
      for (let j = 0; j < m; j++) dh[d + j] = add[a + j];
    } else if (hasAdd) {
      for (let j = 0; j < m; j++) dh[d + j] = add[a + j] + G[z + j] * dh[d + j];
    } else {
      for (let j = 0; j < m; j++) dh[d + j] = G[z + j] * dh[d + j];
    }
  }
}

const gatesK = perDtype(gruGates);
const gateGradsK = perDtype(gruGateGrads);
const carryK = perDtype(gruCarry);

export function gruForward(nx: number, nc: number, T: number, m: number,
  X: FloatArray | Int32Array, offX: number, Wx: FloatArray, offWx: number,
  Wc: FloatArray, offWc: number, bx: FloatArray, offbx: number, bc: FloatArray, offbc: number,
  H: FloatArray, offH: number, G: FloatArray, offG: number): void {
  if (T === 0 || m === 0 || nc === 0) return; // no steps, no batch or no units: nothing to compute
  const Tm = T * m, ldh = Tm + m, rows = 3 * nc;
  // A = Wx·X + bx over all T·m columns into G's first three blocks (a gather for ids)
  inputProduct(rows, nx, Tm, X, offX, Wx, offWx, bx, offbx, G, offG, Tm);
  const gates = pick(gatesK, G);
  for (let t = 1; t <= T; t++) {
    const g0 = offG + (t - 1) * m, hp = offH + (t - 1) * m;
    // G_r, G_z += Wc_{r,z}·h_{t−1};  G_B = Wc_n·h_{t−1} (written: beta 0)
    gemm(false, false, 2 * nc, m, nc, 1, Wc, offWc, nc, H, hp, ldh, 1, G, g0, Tm);
    gemm(false, false, nc, m, nc, 1, Wc, offWc + 2 * nc * nc, nc, H, hp, ldh, 0,
      G, g0 + 3 * nc * Tm, Tm);
    gates(nc, m, Tm, ldh, bc, offbc, G, g0, H, hp);
  }
}

/**
 * t = T..1: dh = dH_t + z_{t+1}⊙dh_{t+1} + Wcᵀ·[dU_r; dU_z; dB_n]_{t+1}, the gate gradients into
 * dG = [dU_r; dU_z; dU_n; dB_n]; then dh0 = z_1⊙dh_1 + Wcᵀ·dB_1 (written, not accumulated) and
 * one product each: dWx += dU·Xᵀ, dWc += dB·H_prevᵀ, dbx += rowsum(dU), dbc += rowsum(dB),
 * dX += Wxᵀ·dU. T = 0: dh0 = 0.
 */
export function gruBackward(nx: number, nc: number, T: number, m: number,
  X: FloatArray | Int32Array, offX: number, Wx: FloatArray, offWx: number,
  Wc: FloatArray, offWc: number, H: FloatArray, offH: number, G: FloatArray, offG: number,
  dH: FloatArray, offdH: number, dG: FloatArray, offdG: number, dWx: FloatArray,
  offdWx: number, dWc: FloatArray, offdWc: number, dbx: FloatArray, offdbx: number,
  dbc: FloatArray, offdbc: number, dX: FloatArray | null, offdX: number, dh0: FloatArray,
  offdh0: number): void {
  if (m === 0 || nc === 0) return; // no batch or no units: nothing to touch
  if (T === 0) {
    fill(nc * m, 0, dh0, offdh0);
    return;
  }
  const Tm = T * m, ldh = Tm + m, rows = 3 * nc;
  const gateGrads = pick(gateGradsK, dG);
  const carry = pick(carryK, dG);
  // dh += Wcᵀ·[dU_r; dU_z; dB_n] of the step at column offset d (two products: the dB_n block
  // is not adjacent to the r, z rows)
  const recurrent = (d: number) => {
    gemm(true, false, nc, m, 2 * nc, 1, Wc, offWc, nc, dG, d, Tm, 1, dh0, offdh0, m);
    gemm(true, false, nc, m, nc, 1, Wc, offWc + 2 * nc * nc, nc, dG, d + 3 * nc * Tm, Tm, 1,
      dh0, offdh0, m);
  };
  for (let t = T; t >= 1; t--) {
    const d0 = offdG + (t - 1) * m;
    if (t < T) {
      carry(nc, m, Tm, G, offG + nc * Tm + t * m, dH, offdH + (t - 1) * m, true, false, dh0, offdh0);
      recurrent(d0 + m);
    } else {
      carry(nc, m, Tm, G, 0, dH, offdH + (t - 1) * m, true, true, dh0, offdh0);
    }
    gateGrads(nc, m, Tm, ldh, G, offG + (t - 1) * m, H, offH + (t - 1) * m, dh0, offdh0, dG, d0);
  }
  // dh0 = z_1⊙dh_1 + Wcᵀ·dB_1
  carry(nc, m, Tm, G, offG + nc * Tm, dH, 0, false, false, dh0, offdh0);
  recurrent(offdG);

  // dWx += dU·Xᵀ (a scatter-add for ids), dX += Wxᵀ·dU
  inputGrads(rows, nx, Tm, X, offX, Wx, offWx, dG, offdG, dWx, offdWx, dX, offdX);
  // dWc_{r,z} += [dU_r; dU_z]·H_prevᵀ;  dWc_n += dB_n·H_prevᵀ
  gemm(false, true, 2 * nc, nc, Tm, 1, dG, offdG, Tm, H, offH, ldh, 1, dWc, offdWc, nc);
  gemm(false, true, nc, nc, Tm, 1, dG, offdG + 3 * nc * Tm, Tm, H, offH, ldh, 1,
    dWc, offdWc + 2 * nc * nc, nc);
  rowSum(rows, Tm, dG, offdG, Tm, dbx, offdbx);
  rowSum(2 * nc, Tm, dG, offdG, Tm, dbc, offdbc);
  rowSum(nc, Tm, dG, offdG + 3 * nc * Tm, Tm, dbc, offdbc + 2 * nc);
}
