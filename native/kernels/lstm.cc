// Whole-sequence LSTM forward and backward, PyTorch's nn.LSTM (docs/ARCHITECTURE.md §2), gates i, f, g, o
// as the four row blocks of one matrix:
//   A = Wx·X + bx                      one product over all T·m columns, before the recurrence
//   for t = 1..T:  U_t = A_t + Wc·h_{t−1} + bc              (one product per step, all gates)
//     i = σ(U_i)  f = σ(U_f)  g = tanh(U_g)  o = σ(U_o)
//     c_t = f ⊙ c_{t−1} + i ⊙ g          h_t = o ⊙ tanh(c_t)
//
// Saved for the backward: H = [h0 | h_1 .. h_T] and S = [c0 | c_1 .. c_T], each (n_c, (T+1)·m),
// and G = the gate outputs i, f, g, o, (4n_c, T·m): 6·n_c·m elements a step (24·n_c·m bytes in
// float, 48·n_c·m in double). tanh(c_t) is recomputed in the backward rather than saved.
// The pre-activations need not be saved: every derivative is written from the gate outputs
// (σ' = s(1 − s), tanh' = 1 − y², the seed's eq. 4 per gate).
//
// Layout: H_prev = H[:, 0:T·m] and H_t = H[:, t·m:(t+1)·m] are column ranges of H with ld
// (T+1)·m (likewise S), so every product over time is one gemm. G has ld T·m; gate k's rows
// are [k·n_c, (k+1)·n_c). Neither function allocates.
#include <cstdint>

#include "kernels/kernels.h"
#include "kernels/recurrence.h"

namespace nrnn {

namespace {

constexpr index_t kGates = 4;

// dh[i0:i1] = (Wcᵀ·dG_{t+1})[i0:i1] over all 4n_c gate rows: rows i0..i1 of Wcᵀ are columns
// i0..i1 of Wc, so the transposed operand starts at Wc + i0.
template <typename T>
void recurrent_grad(index_t n_c, index_t m, index_t i0, index_t i1, const T* Wc,
                    const T* dG_next, index_t ldg, T* dh) {
  gemm(true, false, i1 - i0, m, kGates * n_c, T(1), Wc + i0, n_c, dG_next, ldg, T(0),
       dh + i0 * m, m);
}

}  // namespace

// Wx is (4n_c, n_x), Wc (4n_c, n_c), bx, bc (4n_c); X (n_x, T·m) or ids (T·m);
// H, S (n_c, (T+1)·m) with h0, c0 in their first m columns; G (4n_c, T·m).
template <typename T>
void lstm_forward(index_t n_x, index_t n_c, index_t steps, index_t m, const T* X,
                  const std::int32_t* ids, const T* Wx, const T* Wc, const T* bx, const T* bc,
                  T* H, T* S, T* G) {
  if (steps <= 0 || m <= 0 || n_c <= 0) return;
  const index_t Tm = steps * m;         // columns of X, G
  const index_t ldh = (steps + 1) * m;  // ld of H and S
  const index_t rows = kGates * n_c;

  // A = Wx·X + bx over all T·m columns (G may hold anything), or Wx·onehot(ids) + bx.
  recurrence::input_product(rows, n_x, Tm, X, ids, Wx, bx, G, Tm);

  for (index_t t = 1; t <= steps; ++t) {
    const T* h_prev = H + (t - 1) * m;
    const T* c_prev = S + (t - 1) * m;
    T* h = H + t * m;
    T* c = S + t * m;
    T* G_t = G + (t - 1) * m;
    recurrence::over_row_tiles<T>(n_c, kGates * n_c * m, [&](index_t i0, index_t i1) {
      // U_t = A_t + Wc·h_{t−1} for the tile's rows of every gate, then the gates and the
      // state update on the same rows while they are in cache.
      recurrence::gate_blocks_product(kGates, n_c, m, i0, i1, Wc, h_prev, ldh, G_t, Tm);
      for (index_t i = i0; i < i1; ++i) {
        const auto [gi, gf, gg, go] = recurrence::gate_rows(G_t, i, n_c, Tm);
        recurrence::sigmoid_row(gi, bc[i], m);
        recurrence::sigmoid_row(gf, bc[n_c + i], m);
        recurrence::tanh_row(gg, bc[2 * n_c + i], m);
        recurrence::sigmoid_row(go, bc[3 * n_c + i], m);
        const T* cp = c_prev + i * ldh;
        T* ci = c + i * ldh;
        T* hi = h + i * ldh;
        // c_t = f ⊙ c_{t−1} + i ⊙ g
        for (index_t j = 0; j < m; ++j) ci[j] = gf[j] * cp[j] + gi[j] * gg[j];
        // h_t = o ⊙ tanh(c_t)
        recurrence::tanh_copy(ci, hi, m);
        for (index_t j = 0; j < m; ++j) hi[j] *= go[j];
      }
    });
  }
}

// The backward, t = T..1, with dh, dc the full ∂J/∂h_t, ∂J/∂c_t (dh0, dc0 are their buffers):
//   dh = dH_t + Wcᵀ·dU_{t+1}      (dU_{T+1} = 0)
//   dc = ∂J/∂c_t from step t+1 (dc_{t+1} ⊙ f_{t+1}, or dcT) + dh ⊙ o ⊙ (1 − tanh²(c_t))
//   dU_o = dh ⊙ tanh(c_t) ⊙ o(1 − o)     dU_i = dc ⊙ g ⊙ i(1 − i)
//   dU_f = dc ⊙ c_{t−1} ⊙ f(1 − f)       dU_g = dc ⊙ i ⊙ (1 − g²)
//   carried to step t−1: dc ⊙ f
// and at the end dh0 = Wcᵀ·dU_1, dc0 = dc_1 ⊙ f_1. Then, one product each over the sequence:
//   dWx += dU·Xᵀ   dWc += dU·H_prevᵀ   dbx += rowsum(dU)   dbc += rowsum(dU)   dX += Wxᵀ·dU
template <typename T>
void lstm_backward(index_t n_x, index_t n_c, index_t steps, index_t m, const T* X,
                   const std::int32_t* ids, const T* Wx, const T* Wc, const T* H, const T* S,
                   const T* G, const T* dH, const T* dcT, T* dG, T* dWx, T* dWc, T* dbx,
                   T* dbc, T* dX, T* dh0, T* dc0) {
  if (m <= 0 || n_c <= 0) return;
  T* dh = dh0;
  T* dc = dc0;
  // dc starts as ∂J/∂c_T (c_T is c0 when there are no steps).
  if (dcT == nullptr) {
    fill(n_c * m, T(0), dc);
  } else if (dcT != dc) {
    copy(n_c * m, dcT, dc);
  }
  if (steps <= 0) {
    fill(n_c * m, T(0), dh);
    return;
  }
  const index_t Tm = steps * m;
  const index_t ldh = (steps + 1) * m;
  const index_t rows = kGates * n_c;

  for (index_t t = steps; t >= 1; --t) {
    const T* G_t = G + (t - 1) * m;
    const T* dH_t = dH + (t - 1) * m;
    const T* c = S + t * m;
    const T* c_prev = S + (t - 1) * m;
    T* dG_t = dG + (t - 1) * m;
    recurrence::over_row_tiles<T>(n_c, kGates * n_c * m, [&](index_t i0, index_t i1) {
      // dh = dH_t + Wcᵀ·dU_{t+1} on the tile's rows (at t = T only dH_T)
      if (t < steps) {
        recurrent_grad(n_c, m, i0, i1, Wc, dG_t + m, Tm, dh);
        for (index_t i = i0; i < i1; ++i) {
          const T* src = dH_t + i * Tm;
          T* d = dh + i * m;
          for (index_t j = 0; j < m; ++j) d[j] += src[j];
        }
      } else {
        copy_matrix(i1 - i0, m, dH_t + i0 * Tm, Tm, dh + i0 * m, m);
      }
      for (index_t i = i0; i < i1; ++i) {
        const auto [gi, gf, gg, go] = recurrence::gate_rows(G_t, i, n_c, Tm);
        const auto [di, df, dgg, dout] = recurrence::gate_rows(dG_t, i, n_c, Tm);
        const T* ci = c + i * ldh;
        const T* cp = c_prev + i * ldh;
        const T* dhi = dh + i * m;
        T* dci = dc + i * m;
        recurrence::tanh_copy(ci, dout, m);  // tanh(c_t), in dU_o's row until overwritten
        for (index_t j = 0; j < m; ++j) {
          const T tc = dout[j], o = go[j], ig = gi[j], fg = gf[j], g = gg[j];
          const T d = dhi[j];
          const T dcj = dci[j] + d * o * (T(1) - tc * tc);
          dout[j] = d * tc * (o * (T(1) - o));
          di[j] = dcj * g * (ig * (T(1) - ig));
          df[j] = dcj * cp[j] * (fg * (T(1) - fg));
          dgg[j] = dcj * ig * (T(1) - g * g);
          dci[j] = dcj * fg;
        }
      }
    });
  }
  // dh0 = Wcᵀ·dU_1 (nothing flows further back); dc0 already holds dc_1 ⊙ f_1.
  recurrence::over_row_tiles<T>(n_c, kGates * n_c * m, [&](index_t i0, index_t i1) {
    recurrent_grad(n_c, m, i0, i1, Wc, dG, Tm, dh);
  });

  // dWx += dU·Xᵀ (a scatter-add for ids), dX += Wxᵀ·dU (dense inputs only)
  recurrence::input_grads(rows, n_x, Tm, X, ids, Wx, dG, dWx, dX);
  // dWc += dU·[h0 .. h_{T−1}]ᵀ: the first T·m columns of H.
  gemm(false, true, rows, n_c, Tm, T(1), dG, Tm, H, ldh, T(1), dWc, n_c);
  // dbx += rowsum(dU), dbc += rowsum(dU) (both biases enter U the same way)
  row_sum(rows, Tm, dG, Tm, dbx);
  row_sum(rows, Tm, dG, Tm, dbc);
}

template void lstm_forward<float>(index_t, index_t, index_t, index_t, const float*,
                                  const std::int32_t*, const float*, const float*, const float*,
                                  const float*, float*, float*, float*);
template void lstm_forward<double>(index_t, index_t, index_t, index_t, const double*,
                                   const std::int32_t*, const double*, const double*,
                                   const double*, const double*, double*, double*, double*);
template void lstm_backward<float>(index_t, index_t, index_t, index_t, const float*,
                                   const std::int32_t*, const float*, const float*, const float*,
                                   const float*, const float*, const float*, const float*,
                                   float*, float*, float*, float*, float*, float*, float*,
                                   float*);
template void lstm_backward<double>(index_t, index_t, index_t, index_t, const double*,
                                    const std::int32_t*, const double*, const double*,
                                    const double*, const double*, const double*, const double*,
                                    const double*, double*, double*, double*, double*, double*,
                                    double*, double*, double*);

}  // namespace nrnn
