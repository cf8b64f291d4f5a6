// Whole-sequence GRU forward and backward, PyTorch's nn.GRU (docs/ARCHITECTURE.md §2; "reset after":
// r multiplies Wc_n·h + bc_n), gates r, z, n as the three row blocks of one matrix:
//   A = Wx·X + bx                      one product over all T·m columns, before the recurrence
//   for t = 1..T:  B_t = Wc·h_{t−1} + bc                     (one product per step, all gates)
//     r = σ(A_r + B_r)   z = σ(A_z + B_z)   n = tanh(A_n + r ⊙ B_n)
//     h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}      computed as n + z ⊙ (h_{t−1} − n), PyTorch's form
//
// Saved for the backward: H = [h0 | h_1 .. h_T], (n_c, (T+1)·m), and G, (4n_c, T·m): the gate
// outputs r, z, n and, as a fourth row block, B_n (∂J/∂r = ∂J/∂(A_n + r ⊙ B_n) ⊙ B_n needs it):
// 5·n_c·m elements a step (20·n_c·m bytes in float, 40·n_c·m in double). Every derivative is
// written from the saved outputs (σ' = s(1 − s), tanh' = 1 − y²).
//
// Layout: H_prev = H[:, 0:T·m] and H_t = H[:, t·m:(t+1)·m] are column ranges of H with ld
// (T+1)·m, so every product over time is one gemm. G has ld T·m; block k's rows are
// [k·n_c, (k+1)·n_c). Neither function allocates.
#include <cstdint>

#include "kernels/kernels.h"
#include "kernels/recurrence.h"

namespace nrnn {

namespace {

constexpr index_t kGates = 3;

// For a row tile [i0, i1) of n_c: G_r, G_z (holding A) += Wc_{r,z}·h_{t−1}, and
// G_B = Wc_n·h_{t−1} (beta 0: the B_n block is written, not accumulated). r and z are one
// product when the tile is all of n_c (their blocks are then contiguous rows of Wc and G).
template <typename T>
void recurrent_product(index_t n_c, index_t m, index_t i0, index_t i1, const T* Wc,
                       const T* h_prev, index_t ldh, T* G_t, index_t ldg) {
  const index_t r_n = 2 * n_c + i0;
  recurrence::gate_blocks_product(index_t{2}, n_c, m, i0, i1, Wc, h_prev, ldh, G_t, ldg);
  gemm(false, false, i1 - i0, m, n_c, T(1), Wc + r_n * n_c, n_c, h_prev, ldh, T(0),
       G_t + (3 * n_c + i0) * ldg, ldg);
}

// dh[i0:i1] += (Wcᵀ·[dU_r; dU_z; dB_n])[i0:i1]: rows i0..i1 of Wcᵀ are columns i0..i1 of Wc.
// The r, z rows of dG and its dB_n block are not adjacent, so two products (K = 2n_c, n_c).
template <typename T>
void recurrent_grad(index_t n_c, index_t m, index_t i0, index_t i1, const T* Wc,
                    const T* dG_next, index_t ldg, T* dh) {
  gemm(true, false, i1 - i0, m, 2 * n_c, T(1), Wc + i0, n_c, dG_next, ldg, T(1), dh + i0 * m, m);
  gemm(true, false, i1 - i0, m, n_c, T(1), Wc + 2 * n_c * n_c + i0, n_c,
       dG_next + 3 * n_c * ldg, ldg, T(1), dh + i0 * m, m);
}

}  // namespace

// Wx is (3n_c, n_x), Wc (3n_c, n_c), bx, bc (3n_c); X (n_x, T·m) or ids (T·m);
// H (n_c, (T+1)·m) with h0 in its first m columns; G (4n_c, T·m).
template <typename T>
void gru_forward(index_t n_x, index_t n_c, index_t steps, index_t m, const T* X,
                 const std::int32_t* ids, const T* Wx, const T* Wc, const T* bx, const T* bc,
                 T* H, T* G) {
  if (steps <= 0 || m <= 0 || n_c <= 0) return;
  const index_t Tm = steps * m;         // columns of X, G
  const index_t ldh = (steps + 1) * m;  // ld of H
  const index_t rows = kGates * n_c;

  // A = Wx·X + bx over all T·m columns (G may hold anything), or Wx·onehot(ids) + bx.
  recurrence::input_product(rows, n_x, Tm, X, ids, Wx, bx, G, Tm);

  for (index_t t = 1; t <= steps; ++t) {
    const T* h_prev = H + (t - 1) * m;
    T* h = H + t * m;
    T* G_t = G + (t - 1) * m;
    recurrence::over_row_tiles<T>(n_c, kGates * n_c * m, [&](index_t i0, index_t i1) {
      recurrent_product(n_c, m, i0, i1, Wc, h_prev, ldh, G_t, Tm);
      for (index_t i = i0; i < i1; ++i) {
        const auto [gr, gz, gn, gb] = recurrence::gate_rows(G_t, i, n_c, Tm);
        recurrence::sigmoid_row(gr, bc[i], m);        // r = σ(A_r + Wc_r h + bc_r)
        recurrence::sigmoid_row(gz, bc[n_c + i], m);  // z = σ(A_z + Wc_z h + bc_z)
        const T bn = bc[2 * n_c + i];
        for (index_t j = 0; j < m; ++j) {
          gb[j] += bn;             // B_n = Wc_n h + bc_n, saved
          gn[j] += gr[j] * gb[j];  // A_n + r ⊙ B_n
        }
        recurrence::tanh_row(gn, T(0), m);  // n
        const T* hp = h_prev + i * ldh;
        T* hi = h + i * ldh;
        for (index_t j = 0; j < m; ++j) hi[j] = gn[j] + gz[j] * (hp[j] - gn[j]);
      }
    });
  }
}

// The backward, t = T..1, with dh the full ∂J/∂h_t (dh0 is its buffer):
//   dh = dH_t + z_{t+1} ⊙ dh_{t+1} + Wcᵀ·[dU_r; dU_z; dB_n]_{t+1}     (at t = T: dH_T)
//   dU_n = dh ⊙ (1 − z) ⊙ (1 − n²)       dB_n = dU_n ⊙ r
//   dU_z = dh ⊙ (h_{t−1} − n) ⊙ z(1 − z)  dU_r = dU_n ⊙ B_n ⊙ r(1 − r)
// and at the end dh0 = z_1 ⊙ dh_1 + Wcᵀ·[dU_r; dU_z; dB_n]_1. Then, one product each:
//   dWx += dU·Xᵀ  dWc += [dU_r; dU_z; dB_n]·H_prevᵀ  dbx += rowsum(dU)  dbc += rowsum(dB)
//   dX += Wxᵀ·dU          (dU = dG[0:3n_c], the A-side gradients)
template <typename T>
void gru_backward(index_t n_x, index_t n_c, index_t steps, index_t m, const T* X,
                  const std::int32_t* ids, const T* Wx, const T* Wc, const T* H, const T* G,
                  const T* dH, T* dG, T* dWx, T* dWc, T* dbx, T* dbc, T* dX, T* dh0) {
  if (m <= 0 || n_c <= 0) return;
  T* dh = dh0;
  if (steps <= 0) {
    fill(n_c * m, T(0), dh);
    return;
  }
  const index_t Tm = steps * m;
  const index_t ldh = (steps + 1) * m;
  const index_t rows = kGates * n_c;

  // dh ← z_{t+1} ⊙ dh + add (add = dH_t, or null at the very end) + Wcᵀ·dB_{t+1}, on the
  // tile's rows. z_{t+1} is G_{t+1}'s z block, dB_{t+1} dG_{t+1}'s rows r, z and B_n.
  auto carry = [&](index_t i0, index_t i1, index_t t_next, const T* add) {
    const T* z_next = G + n_c * Tm + (t_next - 1) * m;
    for (index_t i = i0; i < i1; ++i) {
      const T* z = z_next + i * Tm;
      T* d = dh + i * m;
      if (add != nullptr) {
        const T* a = add + i * Tm;
        for (index_t j = 0; j < m; ++j) d[j] = a[j] + z[j] * d[j];
      } else {
        for (index_t j = 0; j < m; ++j) d[j] = z[j] * d[j];
      }
    }
    recurrent_grad(n_c, m, i0, i1, Wc, dG + (t_next - 1) * m, Tm, dh);
  };

  for (index_t t = steps; t >= 1; --t) {
    const T* G_t = G + (t - 1) * m;
    const T* dH_t = dH + (t - 1) * m;
    const T* h_prev = H + (t - 1) * m;
    T* dG_t = dG + (t - 1) * m;
    recurrence::over_row_tiles<T>(n_c, kGates * n_c * m, [&](index_t i0, index_t i1) {
      if (t < steps) {
        carry(i0, i1, t + 1, dH_t);
      } else {
        copy_matrix(i1 - i0, m, dH_t + i0 * Tm, Tm, dh + i0 * m, m);
      }
      for (index_t i = i0; i < i1; ++i) {
        const auto [gr, gz, gn, gb] = recurrence::gate_rows(G_t, i, n_c, Tm);
        const auto [dr, dz, dn, dbn] = recurrence::gate_rows(dG_t, i, n_c, Tm);
        const T* hp = h_prev + i * ldh;
        const T* d = dh + i * m;
        for (index_t j = 0; j < m; ++j) {
          const T r = gr[j], z = gz[j], n = gn[j];
          const T dAn = d[j] * (T(1) - z) * (T(1) - n * n);
          dn[j] = dAn;
          dbn[j] = dAn * r;
          dz[j] = d[j] * (hp[j] - n) * (z * (T(1) - z));
          dr[j] = dAn * gb[j] * (r * (T(1) - r));
        }
      }
    });
  }
  // dh0 = z_1 ⊙ dh_1 + Wcᵀ·dB_1
  recurrence::over_row_tiles<T>(n_c, kGates * n_c * m, [&](index_t i0, index_t i1) {
    carry(i0, i1, 1, nullptr);
  });

  // dWx += dU·Xᵀ (a scatter-add for ids), dX += Wxᵀ·dU (dense inputs only)
  recurrence::input_grads(rows, n_x, Tm, X, ids, Wx, dG, dWx, dX);
  // dWc += [dU_r; dU_z]·H_prevᵀ and dWc_n += dB_n·H_prevᵀ (H_prev: the first T·m columns of H)
  gemm(false, true, 2 * n_c, n_c, Tm, T(1), dG, Tm, H, ldh, T(1), dWc, n_c);
  gemm(false, true, n_c, n_c, Tm, T(1), dG + 3 * n_c * Tm, Tm, H, ldh, T(1),
       dWc + 2 * n_c * n_c, n_c);
  // dbx += rowsum(dU); dbc += rowsum([dU_r; dU_z; dB_n])
  row_sum(rows, Tm, dG, Tm, dbx);
  row_sum(2 * n_c, Tm, dG, Tm, dbc);
  row_sum(n_c, Tm, dG + 3 * n_c * Tm, Tm, dbc + 2 * n_c);
}

template void gru_forward<float>(index_t, index_t, index_t, index_t, const float*,
                                 const std::int32_t*, const float*, const float*, const float*,
                                 const float*, float*, float*);
template void gru_forward<double>(index_t, index_t, index_t, index_t, const double*,
                                  const std::int32_t*, const double*, const double*,
                                  const double*, const double*, double*, double*);
template void gru_backward<float>(index_t, index_t, index_t, index_t, const float*,
                                  const std::int32_t*, const float*, const float*, const float*,
                                  const float*, const float*, float*, float*, float*, float*,
                                  float*, float*, float*);
template void gru_backward<double>(index_t, index_t, index_t, index_t, const double*,
                                   const std::int32_t*, const double*, const double*,
                                   const double*, const double*, const double*, double*, double*,
                                   double*, double*, double*, double*, double*);

}  // namespace nrnn
