// Token inputs: Wx·onehot(ids) is a column gather, and its gradient dWx += dU·onehot(ids)ᵀ a
// column scatter-add. The one-hot matrix (n_x, T·m) is never formed.
// Both walk the rows of the (row-major) matrices in the outer loop, so the T·m-wide side
// (out or dU) streams with unit stride and only the V-wide side is indexed by ids.
#include <cstdint>

#include "kernels/kernels.h"

namespace nrnn {

// W is (rows, V), out is (rows, n): out[:, j] = W[:, ids[j]] (or += when accumulate).
template <typename T>
void gather_columns(index_t rows, index_t n, const T* W, index_t ldw,
                    const std::int32_t* ids, T* out, index_t ldo, bool accumulate) {
  if (rows <= 0 || n <= 0) return;
  for (index_t i = 0; i < rows; ++i) {
    const T* w = W + i * ldw;
    T* o = out + i * ldo;
    if (accumulate) {
      for (index_t j = 0; j < n; ++j) o[j] += w[ids[j]];
    } else {
      for (index_t j = 0; j < n; ++j) o[j] = w[ids[j]];
    }
  }
}

// dU is (rows, n), dW is (rows, V): dW[:, ids[j]] += dU[:, j]. Repeated ids accumulate in
// column order, so the result is deterministic.
template <typename T>
void scatter_add_columns(index_t rows, index_t n, const T* dU, index_t lddu,
                         const std::int32_t* ids, T* dW, index_t lddw) {
  if (rows <= 0 || n <= 0) return;
  for (index_t i = 0; i < rows; ++i) {
    const T* du = dU + i * lddu;
    T* dw = dW + i * lddw;
    for (index_t j = 0; j < n; ++j) dw[ids[j]] += du[j];
  }
}

template void gather_columns<float>(index_t, index_t, const float*, index_t,
                                    const std::int32_t*, float*, index_t, bool);
template void gather_columns<double>(index_t, index_t, const double*, index_t,
                                     const std::int32_t*, double*, index_t, bool);
template void scatter_add_columns<float>(index_t, index_t, const float*, index_t,
                                         const std::int32_t*, float*, index_t);
template void scatter_add_columns<double>(index_t, index_t, const double*, index_t,
                                          const std::int32_t*, double*, index_t);

}  // namespace nrnn
