// Pieces the fused sequence kernels share (rnn.cc, lstm.cc, gru.cc): how a step is split
// into row tiles over threads, and the gate nonlinearities over one row segment.
// Internal to the kernels; not part of the kernel contract (kernels.h).
#pragma once

#include <cmath>

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

}  // namespace recurrence
}  // namespace nrnn
