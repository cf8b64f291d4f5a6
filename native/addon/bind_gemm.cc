// gemm: C (M, N) = alpha·op(A) (M, K)·op(B) (K, N) + beta·C
#include "addon/bind.h"

namespace nrnn::addon {

double run_gemm(const Bound& b) {
  using namespace arg::gemm;
  return NRNN_RUN_TYPED(T, nrnn::gemm<T>(b.flag(transA), b.flag(transB), b.i(M), b.i(N), b.i(K), T(b.num(alpha)), b.ptr<const T>(A),
      b.i(lda), b.ptr<const T>(B), b.i(ldb), T(b.num(beta)), b.ptr<T>(C), b.i(ldc)));
}

}  // namespace nrnn::addon
