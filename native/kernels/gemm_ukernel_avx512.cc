// AVX-512F micro-kernels: float 12x32, double 12x16.
//
// 32 zmm registers: 24 accumulators (12 rows x 2 vectors) + 2 for the B row + 1 broadcast.
// The FMA throughput per cycle is no higher than AVX2's on Zen 4 (double-pumped 512-bit
// units), but the wider tile halves the loads and broadcasts per FMA and doubles the reuse
// of each B load. The logic is the template the AVX2 path runs (gemm_ukernel_body.h); only
// the traits below are AVX-512 specific.
//
// Blocking: the B sliver is KC x 128 bytes, so KC = 192 keeps it at 24 KiB of a 32 KiB
// L1d; the A block MC x KC is 144 x 192 x 4 = 72 x 192 x 8 bytes = 108 KiB of L2.
#if defined(__x86_64__)

#include <immintrin.h>

#define NRNN_UK_TARGET __attribute__((target("avx512f,avx2,fma")))
#include "kernels/gemm_ukernel_body.h"

namespace nrnn {
namespace gemm_detail {
namespace {

struct Avx512F32 {
  using T = float;
  using R = __m512;
  static constexpr int W = 16;
  NRNN_UK_INLINE static R zero() { return _mm512_setzero_ps(); }
  NRNN_UK_INLINE static R load(const T* p) { return _mm512_loadu_ps(p); }
  NRNN_UK_INLINE static void store(T* p, R r) { _mm512_storeu_ps(p, r); }
  NRNN_UK_INLINE static R bcast(const T* p) { return _mm512_set1_ps(*p); }
  NRNN_UK_INLINE static R set1(T x) { return _mm512_set1_ps(x); }
  NRNN_UK_INLINE static R fma(R a, R b, R c) { return _mm512_fmadd_ps(a, b, c); }
  NRNN_UK_INLINE static R mul(R a, R b) { return _mm512_mul_ps(a, b); }
  NRNN_UK_INLINE static R add(R a, R b) { return _mm512_add_ps(a, b); }
  // Through memory: GCC 12's 512-bit reduce/extract/cast intrinsics warn under -Wall
  // (undefined-vector temporaries), and this runs once per gemv row only.
  NRNN_UK_INLINE static T sum(R r) {
    alignas(64) T lanes[W];
    _mm512_store_ps(lanes, r);
    T s = T(0);
    for (int i = 0; i < W; ++i) s += lanes[i];
    return s;
  }
};

struct Avx512F64 {
  using T = double;
  using R = __m512d;
  static constexpr int W = 8;
  NRNN_UK_INLINE static R zero() { return _mm512_setzero_pd(); }
  NRNN_UK_INLINE static R load(const T* p) { return _mm512_loadu_pd(p); }
  NRNN_UK_INLINE static void store(T* p, R r) { _mm512_storeu_pd(p, r); }
  NRNN_UK_INLINE static R bcast(const T* p) { return _mm512_set1_pd(*p); }
  NRNN_UK_INLINE static R set1(T x) { return _mm512_set1_pd(x); }
  NRNN_UK_INLINE static R fma(R a, R b, R c) { return _mm512_fmadd_pd(a, b, c); }
  NRNN_UK_INLINE static R mul(R a, R b) { return _mm512_mul_pd(a, b); }
  NRNN_UK_INLINE static R add(R a, R b) { return _mm512_add_pd(a, b); }
  NRNN_UK_INLINE static T sum(R r) {
    alignas(64) T lanes[W];
    _mm512_store_pd(lanes, r);
    T s = T(0);
    for (int i = 0; i < W; ++i) s += lanes[i];
    return s;
  }
};

}  // namespace

extern const Ukernels<float> kAvx512F32 = make_table<Avx512F32, 12, 2>(192, 144, 4096);
extern const Ukernels<double> kAvx512F64 = make_table<Avx512F64, 12, 2>(192, 72, 4096);

}  // namespace gemm_detail
}  // namespace nrnn

#endif  // __x86_64__
