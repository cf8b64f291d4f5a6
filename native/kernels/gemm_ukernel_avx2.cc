// AVX2+FMA micro-kernels: float 6x16, double 6x8.
//
// 16 ymm registers: 12 accumulators (6 rows x 2 vectors) + 2 for the B row + 1 broadcast
// = 15, so nothing spills. Per k step: 2 loads of B, 6 broadcasts of A, 12 FMAs; with two
// FMA pipes of 4-cycle latency, 12 independent chains keep both pipes busy (8 needed),
// and 8 loads per 6 cycles stay well under the load ports' rate. Row-major C suits NR
// along the vector: C rows are updated with contiguous loads and stores.
//
// Blocking for Zen 3 class cores (32 KiB L1d, 512 KiB-1 MiB L2, 32 MiB shared L3):
//   KC = 256: the B sliver KC x NR is 16 KiB (float and double alike) = half of L1,
//             leaving room for the streaming A panel (6 KiB float, 12 KiB double).
//   MC = 144 (float) / 72 (double): the packed A block MC x KC is 144 KiB, well inside a
//             512 KiB L2 together with the C tiles and B slivers passing through.
//   NC = 4080 (a multiple of both NRs): the packed B panel KC x NC is 4 / 8 MiB of L3.
#if defined(__x86_64__)

#include <immintrin.h>

#define NRNN_UK_TARGET __attribute__((target("avx2,fma")))
#include "kernels/gemm_ukernel_body.h"

namespace nrnn {
namespace gemm_detail {
namespace {

struct Avx2F32 {
  using T = float;
  using R = __m256;
  static constexpr int W = 8;
  NRNN_UK_INLINE static R zero() { return _mm256_setzero_ps(); }
  NRNN_UK_INLINE static R load(const T* p) { return _mm256_loadu_ps(p); }
  NRNN_UK_INLINE static void store(T* p, R r) { _mm256_storeu_ps(p, r); }
  NRNN_UK_INLINE static R bcast(const T* p) { return _mm256_broadcast_ss(p); }
  NRNN_UK_INLINE static R set1(T x) { return _mm256_set1_ps(x); }
  NRNN_UK_INLINE static R fma(R a, R b, R c) { return _mm256_fmadd_ps(a, b, c); }
  NRNN_UK_INLINE static R mul(R a, R b) { return _mm256_mul_ps(a, b); }
  NRNN_UK_INLINE static R add(R a, R b) { return _mm256_add_ps(a, b); }
};

struct Avx2F64 {
  using T = double;
  using R = __m256d;
  static constexpr int W = 4;
  NRNN_UK_INLINE static R zero() { return _mm256_setzero_pd(); }
  NRNN_UK_INLINE static R load(const T* p) { return _mm256_loadu_pd(p); }
  NRNN_UK_INLINE static void store(T* p, R r) { _mm256_storeu_pd(p, r); }
  NRNN_UK_INLINE static R bcast(const T* p) { return _mm256_broadcast_sd(p); }
  NRNN_UK_INLINE static R set1(T x) { return _mm256_set1_pd(x); }
  NRNN_UK_INLINE static R fma(R a, R b, R c) { return _mm256_fmadd_pd(a, b, c); }
  NRNN_UK_INLINE static R mul(R a, R b) { return _mm256_mul_pd(a, b); }
  NRNN_UK_INLINE static R add(R a, R b) { return _mm256_add_pd(a, b); }
};

}  // namespace

extern const Ukernels<float> kAvx2F32 = make_table<Avx2F32, 6, 2>(256, 144, 4080);
extern const Ukernels<double> kAvx2F64 = make_table<Avx2F64, 6, 2>(256, 72, 4080);

}  // namespace gemm_detail
}  // namespace nrnn

#endif  // __x86_64__
