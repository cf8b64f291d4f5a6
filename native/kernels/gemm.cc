// Portable gemm (placeholder for the BLIS-style packed kernels): loop order i-p-j so the
// innermost loop streams rows of B and C.
#include "kernels/kernels.h"

namespace nrnn {

template <typename T>
void gemm(bool transA, bool transB, index_t M, index_t N, index_t K, T alpha, const T* A,
          index_t lda, const T* B, index_t ldb, T beta, T* C, index_t ldc) {
  if (M <= 0 || N <= 0) return;
  for (index_t i = 0; i < M; ++i) {
    T* c = C + i * ldc;
    if (beta == T(0)) {
      for (index_t j = 0; j < N; ++j) c[j] = T(0);
    } else if (beta != T(1)) {
      for (index_t j = 0; j < N; ++j) c[j] *= beta;
    }
    if (alpha == T(0)) continue;
    for (index_t p = 0; p < K; ++p) {
      const T a = alpha * (transA ? A[p * lda + i] : A[i * lda + p]);
      if (!transB) {
        const T* b = B + p * ldb;
        for (index_t j = 0; j < N; ++j) c[j] += a * b[j];
      } else {
        for (index_t j = 0; j < N; ++j) c[j] += a * B[j * ldb + p];
      }
    }
  }
}

template void gemm<float>(bool, bool, index_t, index_t, index_t, float, const float*, index_t,
                          const float*, index_t, float, float*, index_t);
template void gemm<double>(bool, bool, index_t, index_t, index_t, double, const double*,
                           index_t, const double*, index_t, double, double*, index_t);

}  // namespace nrnn
