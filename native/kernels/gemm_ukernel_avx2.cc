// AVX2+FMA micro-kernels: float 6x16, double 6x8.
//
// 16 ymm registers: 12 accumulators (6 rows x 2 vectors) + 2 for the B row + 1 broadcast
// = 15, so nothing spills. Per k step: 2 loads of B, 6 broadcasts of A, 12 FMAs; with two
// FMA pipes of 4-cycle latency, 12 independent chains keep both pipes busy (8 needed),
// and 8 loads per 6 cycles stay well under the load ports' rate. Row-major C suits NR
// along the vector: C rows are updated with contiguous loads and stores.
//
// Blocking (KC, MC, NC) comes from the CPU's cache sizes (gemm.cc, blocking_for).
#if defined(__x86_64__)

#include <immintrin.h>

#define NRNN_UK_TARGET __attribute__((target("avx2,fma")))
#include "kernels/gemm_ukernel_body.h"
#include "kernels/gemm_transpose_x86.h"

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
  NRNN_UK_INLINE static T sum(R r) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(r), _mm256_extractf128_ps(r, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
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
  NRNN_UK_INLINE static T sum(R r) {
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(r), _mm256_extractf128_pd(r, 1));
    s = _mm_add_sd(s, _mm_unpackhi_pd(s, s));
    return _mm_cvtsd_f64(s);
  }
};

// ---- packing ----------------------------------------------------------------------------
// The generic pack loops move one element at a time; where a transpose is involved
// (row-major A into k-major panels, transposed B into row slivers) that costs about as much
// as the micro-kernel work on skinny products. These versions move whole vectors and
// transpose 8x8 (float) or 4x4 (double) blocks in registers. Ragged panels and the k tail
// use the generic loops.

// Stores the first 6 floats of v at d.
NRNN_UK_INLINE void store6(float* d, __m256 v) {
  _mm_storeu_ps(d, _mm256_castps256_ps128(v));
  _mm_storel_pi(reinterpret_cast<__m64*>(d + 4), _mm256_extractf128_ps(v, 1));
}

// Transposed A: op(A)(i, p) = a[p*csa + i], so row p of storage holds column p of op(A)
// for all mc rows. Take 8 rows of storage at a time (8 x mc floats, in L1) and deal them
// out panel by panel: each panel then receives 8 consecutive rows, 192 contiguous bytes.
// (Dealing one storage row to all panels at once writes to mc/6 streams 6*kc floats apart;
// at kc = 256 those all fall into 2 sets of L1, which thrashes.)
// Loads of 8 lanes stay inside the storage row except for the last panels, which use a
// masked load that never touches the lanes past mc. Stores are 8 lanes in increasing p:
// lanes 6-7 land on row p+1 of the same panel and are rewritten next; a panel's last row
// is stored exactly.
NRNN_UK_TARGET void pack_a_f32_trans(index_t mc, index_t kc, const float* a, index_t csa,
                                     float* dst) {
  constexpr int MR = 6;
  const index_t full = mc / MR;  // whole panels
  const index_t wide = mc >= 8 ? (mc - 8) / MR + 1 : 0;  // panels q with q*MR + 8 <= mc
  const __m256i mask6 = _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, 0, 0);
  for (index_t p0 = 0; p0 < kc; p0 += 8) {
    const index_t p1 = std::min(kc, p0 + 8);
    for (index_t q = 0; q < full; ++q) {
      float* d = dst + q * MR * kc;
      const float* s = a + q * MR;
      for (index_t p = p0; p < p1; ++p) {
        const __m256 v = q < wide ? _mm256_loadu_ps(s + p * csa)
                                  : _mm256_maskload_ps(s + p * csa, mask6);
        if (p + 1 < kc) {
          _mm256_storeu_ps(d + p * MR, v);
        } else {
          store6(d + p * MR, v);
        }
      }
    }
    if (full * MR < mc) {
      const index_t m = mc - full * MR;
      float* d = dst + full * MR * kc;
      for (index_t p = p0; p < p1; ++p) {
        const float* s = a + p * csa + full * MR;
        for (index_t r = 0; r < m; ++r) d[p * MR + r] = s[r];
        for (index_t r = m; r < MR; ++r) d[p * MR + r] = 0.0f;
      }
    }
  }
}

NRNN_UK_TARGET void pack_a_f32(index_t mc, index_t kc, const float* a, index_t rsa,
                               index_t csa, float* dst) {
  constexpr int MR = 6;
  if (rsa == 1 && csa != 1) {
    pack_a_f32_trans(mc, kc, a, csa, dst);
    return;
  }
  for (index_t i0 = 0; i0 < mc; i0 += MR, dst += MR * kc) {
    const float* src = a + i0 * rsa;
    if (mc - i0 < MR || csa != 1) {
      pack_a<float, MR>(std::min<index_t>(MR, mc - i0), kc, src, rsa, csa, dst);
    } else {
      const __m256 zero = _mm256_setzero_ps();
      index_t p = 0;
      for (; p + 8 <= kc; p += 8) {
        __m256 r0 = _mm256_loadu_ps(src + 0 * rsa + p), r1 = _mm256_loadu_ps(src + 1 * rsa + p);
        __m256 r2 = _mm256_loadu_ps(src + 2 * rsa + p), r3 = _mm256_loadu_ps(src + 3 * rsa + p);
        __m256 r4 = _mm256_loadu_ps(src + 4 * rsa + p), r5 = _mm256_loadu_ps(src + 5 * rsa + p);
        __m256 r6 = zero, r7 = zero;
        transpose8(r0, r1, r2, r3, r4, r5, r6, r7);
        // 8-lane stores in increasing p: lanes 6-7 land on row p+1, rewritten next. Only
        // the panel's very last row is stored exactly (nothing after it is rewritten).
        float* d = dst + p * MR;
        _mm256_storeu_ps(d + 0 * MR, r0);
        _mm256_storeu_ps(d + 1 * MR, r1);
        _mm256_storeu_ps(d + 2 * MR, r2);
        _mm256_storeu_ps(d + 3 * MR, r3);
        _mm256_storeu_ps(d + 4 * MR, r4);
        _mm256_storeu_ps(d + 5 * MR, r5);
        _mm256_storeu_ps(d + 6 * MR, r6);
        if (p + 8 < kc) {
          _mm256_storeu_ps(d + 7 * MR, r7);
        } else {
          store6(d + 7 * MR, r7);
        }
      }
      for (; p < kc; ++p)
        for (int r = 0; r < MR; ++r) dst[p * MR + r] = src[r * rsa + p];
    }
  }
}

NRNN_UK_TARGET void pack_b_f32(index_t kc, index_t nc, const float* b, index_t rsb,
                               index_t csb, float* dst) {
  constexpr int NR = 16;
  for (index_t j0 = 0; j0 < nc; j0 += NR, dst += NR * kc) {
    const float* src = b + j0 * csb;
    if (nc - j0 < NR || rsb != 1) {
      pack_b<float, NR>(kc, std::min<index_t>(NR, nc - j0), src, rsb, csb, dst);
      continue;
    }
    // Transposed B: rows of storage are columns of op(B); 8x8 blocks turn them around.
    index_t p = 0;
    for (; p + 8 <= kc; p += 8) {
      for (int h = 0; h < 2; ++h)
        transpose8_block(src + (8 * h) * csb + p, csb, dst + p * NR + 8 * h, NR);
    }
    for (; p < kc; ++p)
      for (int j = 0; j < NR; ++j) dst[p * NR + j] = src[j * csb + p];
  }
}

// Transposed A, as pack_a_f32_trans: 8 storage rows at a time, 4 + 2 doubles per row.
NRNN_UK_TARGET void pack_a_f64_trans(index_t mc, index_t kc, const double* a, index_t csa,
                                     double* dst) {
  constexpr int MR = 6;
  const index_t full = mc / MR;
  for (index_t p0 = 0; p0 < kc; p0 += 8) {
    const index_t p1 = std::min(kc, p0 + 8);
    for (index_t q = 0; q < full; ++q) {
      double* d = dst + q * MR * kc;
      const double* s = a + q * MR;
      for (index_t p = p0; p < p1; ++p) {
        _mm256_storeu_pd(d + p * MR, _mm256_loadu_pd(s + p * csa));
        _mm_storeu_pd(d + p * MR + 4, _mm_loadu_pd(s + p * csa + 4));
      }
    }
    if (full * MR < mc) {
      const index_t m = mc - full * MR;
      double* d = dst + full * MR * kc;
      for (index_t p = p0; p < p1; ++p) {
        const double* s = a + p * csa + full * MR;
        for (index_t r = 0; r < m; ++r) d[p * MR + r] = s[r];
        for (index_t r = m; r < MR; ++r) d[p * MR + r] = 0.0;
      }
    }
  }
}

NRNN_UK_TARGET void pack_a_f64(index_t mc, index_t kc, const double* a, index_t rsa,
                               index_t csa, double* dst) {
  constexpr int MR = 6;
  if (rsa == 1 && csa != 1) {
    pack_a_f64_trans(mc, kc, a, csa, dst);
    return;
  }
  for (index_t i0 = 0; i0 < mc; i0 += MR, dst += MR * kc) {
    const double* src = a + i0 * rsa;
    if (mc - i0 < MR || csa != 1) {
      pack_a<double, MR>(std::min<index_t>(MR, mc - i0), kc, src, rsa, csa, dst);
    } else {
      index_t p = 0;
      for (; p + 4 <= kc; p += 4) {
        __m256d r0 = _mm256_loadu_pd(src + 0 * rsa + p), r1 = _mm256_loadu_pd(src + 1 * rsa + p);
        __m256d r2 = _mm256_loadu_pd(src + 2 * rsa + p), r3 = _mm256_loadu_pd(src + 3 * rsa + p);
        const __m256d r4 = _mm256_loadu_pd(src + 4 * rsa + p);
        const __m256d r5 = _mm256_loadu_pd(src + 5 * rsa + p);
        transpose4(r0, r1, r2, r3);
        // Rows 4 and 5: (r4[q], r5[q]) pairs for q = 0, 2 in lo, q = 1, 3 in hi.
        const __m256d lo = _mm256_unpacklo_pd(r4, r5), hi = _mm256_unpackhi_pd(r4, r5);
        double* d = dst + p * MR;
        _mm256_storeu_pd(d + 0 * MR, r0);
        _mm_storeu_pd(d + 0 * MR + 4, _mm256_castpd256_pd128(lo));
        _mm256_storeu_pd(d + 1 * MR, r1);
        _mm_storeu_pd(d + 1 * MR + 4, _mm256_castpd256_pd128(hi));
        _mm256_storeu_pd(d + 2 * MR, r2);
        _mm_storeu_pd(d + 2 * MR + 4, _mm256_extractf128_pd(lo, 1));
        _mm256_storeu_pd(d + 3 * MR, r3);
        _mm_storeu_pd(d + 3 * MR + 4, _mm256_extractf128_pd(hi, 1));
      }
      for (; p < kc; ++p)
        for (int r = 0; r < MR; ++r) dst[p * MR + r] = src[r * rsa + p];
    }
  }
}

NRNN_UK_TARGET void pack_b_f64(index_t kc, index_t nc, const double* b, index_t rsb,
                               index_t csb, double* dst) {
  constexpr int NR = 8;
  for (index_t j0 = 0; j0 < nc; j0 += NR, dst += NR * kc) {
    const double* src = b + j0 * csb;
    if (nc - j0 < NR || rsb != 1) {
      pack_b<double, NR>(kc, std::min<index_t>(NR, nc - j0), src, rsb, csb, dst);
      continue;
    }
    index_t p = 0;
    for (; p + 4 <= kc; p += 4) {
      for (int h = 0; h < 2; ++h)
        transpose4_block(src + (4 * h) * csb + p, csb, dst + p * NR + 4 * h, NR);
    }
    for (; p < kc; ++p)
      for (int j = 0; j < NR; ++j) dst[p * NR + j] = src[j * csb + p];
  }
}

}  // namespace

extern const Ukernels<float> kAvx2F32 =
    with_packing(make_table<Avx2F32, 6, 2>(), &pack_a_f32, &pack_b_f32);
extern const Ukernels<double> kAvx2F64 =
    with_packing(make_table<Avx2F64, 6, 2>(), &pack_a_f64, &pack_b_f64);
extern const Ukernels<float> kAvx2F32Wide = make_table<Avx2F32, 12, 4>();
extern const Ukernels<double> kAvx2F64Wide = make_table<Avx2F64, 12, 4>();

}  // namespace gemm_detail
}  // namespace nrnn

#endif  // __x86_64__
