// Pieces the fused sequence kernels share (rnn.cc, lstm.cc, gru.cc): how a step is split
// into row tiles over threads, and the gate nonlinearities over one row segment.
// Internal to the kernels; not part of the kernel contract (kernels.h).
#pragma once

#include <array>
#include <cmath>
#include <cstdint>

#include "kernels/kernels.h"
#include "kernels/runtime.h"
#include "kernels/vmath.h"

namespace nrnn {
namespace recurrence {

// The recurrence's fused step works on tiles of rows of n_c: each tile's product and its
// nonlinearity run back to back while the tile is in cache, one tile per thread. The threading
// policy (runtime.h) keeps a step on the calling thread, in one tile, when its multiply-adds
// take too little time to repay the pool's measured hand-off. fma_per_row is the multiply-adds one row of n_c
// costs in the step (n_c·m for the RNN; G·n_c·m for a cell with G gates, whose row i owns
// row i of every gate block). The split never changes a result: every element of a product
// is computed the same way whichever tile holds it (gemm's k-order does not depend on M).
template <typename T, typename F>
void over_row_tiles(index_t n_c, index_t fma_per_row, F&& tile) {
  constexpr index_t kUnit = 16;  // rows of n_c per unit of work
  const index_t units = (n_c + kUnit - 1) / kUnit;
  if (threads_for(fma_ns<T>(double(n_c) * double(fma_per_row)), units) <= 1) {
    tile(index_t{0}, n_c);
    return;
  }
  parallel_for(units, [&](index_t u0, index_t u1) {
    tile(u0 * kUnit, u1 * kUnit < n_c ? u1 * kUnit : n_c);
  });
}

// x[j] = σ(x[j] + b) and x[j] = tanh(x[j] + b) over one row segment of n elements, in place.
// float goes through the vectorized vmath (vmath.h states its accuracy); double keeps the
// C library's exp and tanh. σ(u) = 1 / (1 + e^{−u}) reaches 0 for u → −∞ without a NaN.
inline void sigmoid_row(float* x, float b, index_t n) {
  if (b != 0.f)
    for (index_t j = 0; j < n; ++j) x[j] += b;
  vsigmoid(x, x, n);
}
inline void sigmoid_row(double* x, double b, index_t n) {
  for (index_t j = 0; j < n; ++j) x[j] = 1.0 / (1.0 + std::exp(-(x[j] + b)));
}
inline void tanh_row(float* x, float b, index_t n) {
  if (b != 0.f)
    for (index_t j = 0; j < n; ++j) x[j] += b;
  vtanh(x, x, n);
}
inline void tanh_row(double* x, double b, index_t n) {
  for (index_t j = 0; j < n; ++j) x[j] = std::tanh(x[j] + b);
}
// y[j] = tanh(x[j]) (no overlap needed; y may be x).
inline void tanh_copy(const float* x, float* y, index_t n) { vtanh(x, y, n); }
inline void tanh_copy(const double* x, double* y, index_t n) {
  for (index_t j = 0; j < n; ++j) y[j] = std::tanh(x[j]);
}

// U = Wx·X + b over all T·m columns at once, before the recurrence (beta = 0: U may hold
// anything on entry), or U = Wx·onehot(ids) + b as a column gather. Wx is (rows, n_x),
// X (n_x, Tm) or ids (Tm), U (rows, Tm) with ld ldu.
template <typename T>
void input_product(index_t rows, index_t n_x, index_t Tm, const T* X, const std::int32_t* ids,
                   const T* Wx, const T* b, T* U, index_t ldu) {
  if (ids != nullptr) {
    gather_columns(rows, Tm, Wx, n_x, ids, U, ldu, false);
  } else if (X != nullptr) {
    gemm(false, false, rows, Tm, n_x, T(1), Wx, n_x, X, Tm, T(0), U, ldu);
  } else {
    // Not a valid call (exactly one input is required); zero input keeps it harmless.
    for (index_t i = 0; i < rows; ++i) fill(Tm, T(0), U + i * ldu);
  }
  add_bias(rows, Tm, b, U, ldu);
}

// The input side of the backward, one product each over all T·m columns: dWx += dU·Xᵀ (a
// scatter-add for ids) and dX += Wxᵀ·dU (dense inputs only; the caller passes null for dX
// when it is not needed). dU is (rows, Tm) with ld Tm.
template <typename T>
void input_grads(index_t rows, index_t n_x, index_t Tm, const T* X, const std::int32_t* ids,
                 const T* Wx, const T* dU, T* dWx, T* dX) {
  if (ids != nullptr) {
    scatter_add_columns(rows, Tm, dU, Tm, ids, dWx, n_x);
  } else if (X != nullptr) {
    gemm(false, true, rows, n_x, Tm, T(1), dU, Tm, X, Tm, T(1), dWx, n_x);
  }
  if (dX != nullptr && ids == nullptr) {
    gemm(true, false, n_x, Tm, rows, T(1), Wx, n_x, dU, Tm, T(1), dX, Tm);
  }
}

// G_t[rows i0..i1 of each of the first `blocks` gate blocks] += Wc[same rows]·h_{t−1}: one
// product when the tile is all of n_c (the blocks are then contiguous rows of Wc and G),
// else one per block. Wc is (≥ blocks·n_c, n_c); gate block k's rows are [k·n_c, (k+1)·n_c).
template <typename T>
void gate_blocks_product(index_t blocks, index_t n_c, index_t m, index_t i0, index_t i1,
                         const T* Wc, const T* h_prev, index_t ldh, T* G_t, index_t ldg) {
  if (i0 == 0 && i1 == n_c) {
    gemm(false, false, blocks * n_c, m, n_c, T(1), Wc, n_c, h_prev, ldh, T(1), G_t, ldg);
    return;
  }
  for (index_t k = 0; k < blocks; ++k) {
    const index_t r = k * n_c + i0;
    gemm(false, false, i1 - i0, m, n_c, T(1), Wc + r * n_c, n_c, h_prev, ldh, T(1),
         G_t + r * ldg, ldg);
  }
}

// Row i of each of the four row blocks of a gate matrix with ld ldg (block k holds rows
// [k·n_c, (k+1)·n_c)): the rows one element-wise pass of a cell reads or writes together.
template <typename T>
std::array<T*, 4> gate_rows(T* G, index_t i, index_t n_c, index_t ldg) {
  T* r0 = G + i * ldg;
  return {r0, r0 + n_c * ldg, r0 + 2 * n_c * ldg, r0 + 3 * n_c * ldg};
}

}  // namespace recurrence
}  // namespace nrnn
