// Whole-sequence forward and backward of c_t = f(Wc·c_{t−1} + Wx·x_t + b), built from the
// gemm, gather and activation kernels (kernels.h, rnn_forward / rnn_backward).
// Wx is (n_c, n_x), Wc is (n_c, n_c), b is (n_c). X is (n_x, T·m), or T·m token ids.
// H is (n_c, (T+1)·m) = [c0 | C_1 … C_T], leading dimension (T+1)·m: C_{t−1} and C_t are
// two column blocks of it, so the recurrence reads and writes H with no copy.
import type { Activation, FloatArray } from '../types';
import { activationBackward, activationForward } from './activation';
import { copy, rowSum } from './elementwise';
import { gemm } from './gemm';
import { inputGrads, inputProduct } from './recurrence';

export function rnnForward(act: Activation, nx: number, nc: number, T: number, m: number,
  X: FloatArray | Int32Array, offX: number, Wx: FloatArray, offWx: number,
  Wc: FloatArray, offWc: number, b: FloatArray, offb: number,
  H: FloatArray, offH: number): void {
  if (T === 0 || m === 0 || nc === 0) return; // no steps, no batch or no units: nothing to compute
  const Tm = T * m;
  const ldh = Tm + m;
  if (nc <= 0 || Tm <= 0) return;
  // U = Wx·X + b over all T·m columns at once, into H[:, m:] (the seed's eq. 8 applied to the
  // whole sequence); for ids, Wx·onehot(ids) is the gather of Wx's columns.
  inputProduct(nc, nx, Tm, X, offX, Wx, offWx, b, offb, H, offH + m, ldh);
  for (let t = 1; t <= T; t++) {
    const ct = offH + t * m;
    // U_t += Wc·C_{t−1}   (the only sequential part)
    gemm(false, false, nc, m, nc, 1, Wc, offWc, nc, H, ct - m, ldh, 1, H, ct, ldh);
    // C_t = f(U_t), in place
    activationForward(act, nc, m, H, ct, ldh, H, ct, ldh);
  }
}

export function rnnBackward(act: Activation, nx: number, nc: number, T: number, m: number,
  X: FloatArray | Int32Array, offX: number, H: FloatArray, offH: number,
  Wx: FloatArray, offWx: number, Wc: FloatArray, offWc: number,
  dC: FloatArray, offdC: number, dU: FloatArray, offdU: number,
  dWx: FloatArray, offdWx: number, dWc: FloatArray, offdWc: number,
  db: FloatArray, offdb: number, dX: FloatArray | null, offdX: number,
  dc0: FloatArray, offdc0: number): void {
  if (T === 0 || m === 0 || nc === 0) return; // no steps, no batch or no units: nothing to compute
  const Tm = T * m;
  const ldh = Tm + m;
  if (nc <= 0 || Tm <= 0) return;
  // dU starts as dC (dJ/dC_t from above); when dU is exactly dC it is consumed in place.
  if (dU !== dC || offdU !== offdC) copy(nc * Tm, dC, offdC, dU, offdU);
  for (let t = T; t >= 1; t--) {
    const ut = offdU + (t - 1) * m;
    // dU_t = (dC_t + Wcᵀ·dU_{t+1}) ⊙ f'(C_t); the Wcᵀ term was added at step t+1.
    activationBackward(act, nc, m, dU, ut, Tm, H, offH + t * m, ldh, dU, ut, Tm);
    if (t > 1) {
      // dU_{t−1} += Wcᵀ·dU_t
      gemm(true, false, nc, m, nc, 1, Wc, offWc, nc, dU, ut, Tm, 1, dU, ut - m, Tm);
    } else {
      // dc0 += Wcᵀ·dU_1
      gemm(true, false, nc, m, nc, 1, Wc, offWc, nc, dU, ut, Tm, 1, dc0, offdc0, m);
    }
  }
  // dWx += dU·Xᵀ (eq. 8 summed over t; for ids a scatter-add) and dX += Wxᵀ·dU
  inputGrads(nc, nx, Tm, X, offX, Wx, offWx, dU, offdU, dWx, offdWx, dX, offdX);
  // dWc += dU·[c0 … C_{T−1}]ᵀ: the first T·m columns of H
  gemm(false, true, nc, nc, Tm, 1, dU, offdU, Tm, H, offH, ldh, 1, dWc, offdWc, nc);
  // db += rowsum(dU)
  rowSum(nc, Tm, dU, offdU, Tm, db, offdb);
}
