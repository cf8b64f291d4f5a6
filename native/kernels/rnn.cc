// Whole-sequence RNN forward and backward: c_t = f(Wc c_{t-1} + Wx x_t + b).
//
// Layout (docs/ARCHITECTURE.md §2): H = [c0 | C_1 ... C_T] is (n_c, (T+1)·m) row-major, so C_prev =
// H[:, 0:T·m] and C = H[:, m:(T+1)·m] are overlapping column ranges with ld (T+1)·m, and
// every product over time is one gemm (the seed's eq. 8 applied to the whole sequence).
// Only the Wc·c_{t-1} products are sequential. Neither function allocates.
#include <cstdint>

#include "kernels/kernels.h"
#include "kernels/recurrence.h"
#include "kernels/runtime.h"

namespace nrnn {

using recurrence::over_row_tiles;

// Wx is (n_c, n_x), Wc is (n_c, n_c), b is (n_c); X is (n_x, T·m) or ids is (T·m);
// H is (n_c, (T+1)·m) with c0 in H[:, 0:m] on entry.
template <typename T>
void rnn_forward(Activation act, index_t n_x, index_t n_c, index_t steps, index_t m,
                 const T* X, const std::int32_t* ids, const T* Wx, const T* Wc, const T* b,
                 T* H) {
  if (steps <= 0 || m <= 0 || n_c <= 0) return;
  const index_t Tm = steps * m;        // columns of X, U, dC
  const index_t ldh = (steps + 1) * m;  // ld of H
  T* U = H + m;                         // U_1..U_T, overwritten in place by C_1..C_T

  // U = Wx·X + b over all T·m columns at once, or Wx·onehot(ids) + b as a column gather.
  recurrence::input_product(n_c, n_x, Tm, X, ids, Wx, b, U, ldh);

  // t = 1..T: U_t += Wc·C_{t-1};  C_t = f(U_t) in place.
  for (index_t t = 1; t <= steps; ++t) {
    const T* C_prev = H + (t - 1) * m;
    T* U_t = H + t * m;
    // rows [i0, i1): U_t += Wc[i0:i1, :]·C_{t−1}, then C_t = f(U_t) on the same tile
    over_row_tiles<T>(n_c, n_c * m, [&](index_t i0, index_t i1) {
      gemm(false, false, i1 - i0, m, n_c, T(1), Wc + i0 * n_c, n_c, C_prev, ldh, T(1),
           U_t + i0 * ldh, ldh);
      activation_forward(act, i1 - i0, m, U_t + i0 * ldh, ldh, U_t + i0 * ldh, ldh);
    });
  }
}

// dC, dU are (n_c, T·m) with ld T·m; dU may be exactly dC. All gradients accumulate.
template <typename T>
void rnn_backward(Activation act, index_t n_x, index_t n_c, index_t steps, index_t m,
                  const T* X, const std::int32_t* ids, const T* H, const T* Wx, const T* Wc,
                  const T* dC, T* dU, T* dWx, T* dWc, T* db, T* dX, T* dc0) {
  if (steps <= 0 || m <= 0 || n_c <= 0) return;
  const index_t Tm = steps * m;
  const index_t ldh = (steps + 1) * m;

  // dU starts as dC (the gradient from above); the recurrence then adds Wcᵀ·dU_{t+1} into
  // each block before it is multiplied by f'(C_t).
  if (dU != dC) copy(n_c * Tm, dC, dU);

  // t = T..1:  dU_t = (dC_t + Wcᵀ dU_{t+1}) ⊙ f'(C_t)   (dtanh = 1 - C_t² for tanh)
  //            dU_{t-1} += Wcᵀ·dU_t,  or at t = 1:  dc0 += Wcᵀ·dU_1
  // dU_T = dC_T ⊙ f'(C_T); then for t = T..2 one fused pass per row tile of step t−1:
  // dU_{t−1} += Wcᵀ[i0:i1, :]·dU_t and dU_{t−1} ⊙= f'(C_{t−1}) on the same tile.
  activation_backward(act, n_c, m, dU + (steps - 1) * m, Tm, H + steps * m, ldh,
                      dU + (steps - 1) * m, Tm);
  for (index_t t = steps; t >= 2; --t) {
    const T* dU_t = dU + (t - 1) * m;
    T* dU_prev = dU + (t - 2) * m;
    const T* C_prev = H + (t - 1) * m;
    over_row_tiles<T>(n_c, n_c * m, [&](index_t i0, index_t i1) {
      // rows i0..i1 of Wcᵀ are columns i0..i1 of Wc: the transposed operand starts at Wc + i0
      gemm(true, false, i1 - i0, m, n_c, T(1), Wc + i0, n_c, dU_t, Tm, T(1), dU_prev + i0 * Tm, Tm);
      activation_backward(act, i1 - i0, m, dU_prev + i0 * Tm, Tm, C_prev + i0 * ldh, ldh,
                          dU_prev + i0 * Tm, Tm);
    });
  }
  // dc0 += Wcᵀ·dU_1 (nothing flows further back)
  gemm(true, false, n_c, m, n_c, T(1), Wc, n_c, dU, Tm, T(1), dc0, m);

  // dWc += dU·[c0 .. C_{T-1}]ᵀ: the first T·m columns of H.
  gemm(false, true, n_c, n_c, Tm, T(1), dU, Tm, H, ldh, T(1), dWc, n_c);
  // db += rowsum(dU)
  row_sum(n_c, Tm, dU, Tm, db);
  // dWx += dU·Xᵀ (a scatter-add for ids), dX += Wxᵀ·dU (dense inputs only)
  recurrence::input_grads(n_c, n_x, Tm, X, ids, Wx, dU, dWx, dX);
}

template void rnn_forward<float>(Activation, index_t, index_t, index_t, index_t, const float*,
                                 const std::int32_t*, const float*, const float*, const float*,
                                 float*);
template void rnn_forward<double>(Activation, index_t, index_t, index_t, index_t,
                                  const double*, const std::int32_t*, const double*,
                                  const double*, const double*, double*);
template void rnn_backward<float>(Activation, index_t, index_t, index_t, index_t, const float*,
                                  const std::int32_t*, const float*, const float*, const float*,
                                  const float*, float*, float*, float*, float*, float*, float*);
template void rnn_backward<double>(Activation, index_t, index_t, index_t, index_t,
                                   const double*, const std::int32_t*, const double*,
                                   const double*, const double*, const double*, double*,
                                   double*, double*, double*, double*, double*);

}  // namespace nrnn
