// The naive triple loop: the oracle for every fast gemm path. Accumulates in double.
#include "kernels/kernels.h"

namespace nrnn {

// C is (M, N); op(A) is (M, K); op(B) is (K, N).
template <typename T>
void gemm_reference(bool transA, bool transB, index_t M, index_t N, index_t K, T alpha,
                    const T* A, index_t lda, const T* B, index_t ldb, T beta, T* C,
                    index_t ldc) {
  for (index_t i = 0; i < M; ++i) {
    for (index_t j = 0; j < N; ++j) {
      double acc = 0.0;
      for (index_t p = 0; p < K; ++p) {
        const double a = transA ? A[p * lda + i] : A[i * lda + p];
        const double b = transB ? B[j * ldb + p] : B[p * ldb + j];
        acc += a * b;
      }
      T& c = C[i * ldc + j];
      // beta == 0 must not read C: it may hold NaN.
      c = beta == T(0) ? T(alpha * acc) : T(alpha * acc + double(beta) * double(c));
    }
  }
}

template void gemm_reference<float>(bool, bool, index_t, index_t, index_t, float, const float*,
                                    index_t, const float*, index_t, float, float*, index_t);
template void gemm_reference<double>(bool, bool, index_t, index_t, index_t, double,
                                     const double*, index_t, const double*, index_t, double,
                                     double*, index_t);

}  // namespace nrnn
