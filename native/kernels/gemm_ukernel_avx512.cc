// AVX-512F micro-kernels: float 12x32, double 12x16 (MR x NR, NR = two vectors), and the
// packing routines of that geometry.
//
// 32 zmm registers: 24 accumulators (12 rows x 2 vectors) + 2 for the B row + broadcasts
// of A. Per k step: 2 loads of B, 12 broadcasts of A, 24 FMAs, i.e. 12 cycles of a core
// with two 512-bit FMA pipes (Zen 5, Xeon with two FMA units).
//
// The micro-kernel is written for this path instead of through the shared template
// (gemm_ukernel_body.h), whose loop GCC compiles with spills once A is read in place
// (twelve row addresses: the k counter and row pointers went to the stack). Here:
//   - the loop's state is the 24 accumulators, one B pointer, the A pointer(s) and one
//     counter, all in registers (checked with objdump -d of gemm_bench);
//   - k is unrolled by 4 with constant offsets; A read in place (rows rsa apart) goes
//     through three row pointers (rows 0-3, 4-7, 8-11) plus the stride and 3x the stride,
//     so every row is one addressing mode (base + index*scale + offset);
//   - the C tile is prefetched into L2 when the loop starts and into L1 (for writing)
//     kPrefetchC steps before it ends: with one prefetch at the start (the shared
//     template's) a fifth of the kernel's time at 2048^3 went to waiting for C in the
//     update after the loop (with ldc a multiple of 4 KiB the 12 rows of the tile share two
//     L1 sets, and the B sliver and A panel streaming through L1 evict them again).
//
// Packing moves whole vectors: masked loads and stores for the contiguous cases, 8x8
// (float) and 4x4 (double) transposes in registers for the transposing ones. Ragged panels
// and slivers use the generic loops of the shared template.
#if defined(__x86_64__)

#include <immintrin.h>

#define NRNN_UK_TARGET __attribute__((target("avx512f,avx2,fma,prfchw")))
#include "kernels/gemm_ukernel_body.h"
#include "kernels/gemm_transpose_x86.h"

namespace nrnn {
namespace gemm_detail {
namespace {

struct Avx512F32 {
  using T = float;
  using R = __m512;
  using Mask = __mmask16;
  static constexpr int W = 16;
  // The first n lanes (n <= W).
  NRNN_UK_INLINE static Mask mask(index_t n) { return Mask((1u << n) - 1); }
  NRNN_UK_INLINE static R load(const T* p, Mask m) { return _mm512_maskz_loadu_ps(m, p); }
  NRNN_UK_INLINE static void store(T* p, R r, Mask m) { _mm512_mask_storeu_ps(p, m, r); }
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
  using Mask = __mmask8;
  static constexpr int W = 8;
  NRNN_UK_INLINE static Mask mask(index_t n) { return Mask((1u << n) - 1); }
  NRNN_UK_INLINE static R load(const T* p, Mask m) { return _mm512_maskz_loadu_pd(m, p); }
  NRNN_UK_INLINE static void store(T* p, R r, Mask m) { _mm512_mask_storeu_pd(p, m, r); }
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

// ---- micro-kernel ------------------------------------------------------------------------

constexpr int kMR = 12;
// C is prefetched twice: into L2 when the loop starts, into L1 (for writing) this many steps
// of k before it ends (~1200 cycles). Measured at 2048^3 float on a loaded Zen 5 (paired):
// one L1 prefetch 32 steps ahead 193 GFLOP/s, 96 ahead 205, at the start 200, both (L2 at
// the start, L1 96 ahead) 212-220.
constexpr index_t kPrefetchC = 96;

// The A operand of one call, a step of k at a time.
// Column-major: element (r, p) at a[p*cs + r]: packed micro-panels (cs = MR) and
// transposed A read in place (cs = lda).
template <typename T>
struct AColMajor {
  const T* a;
  index_t cs;
  NRNN_UK_INLINE const T* row(int r) const { return a + r; }
  NRNN_UK_INLINE void next() { a += cs; }
};

// Row-major, in place: element (r, p) at a[r*rs + p], read through rows 0, 4 and 8.
template <typename T>
struct ARowMajor {
  const T *a0, *a4, *a8;
  index_t rs, rs3;
  NRNN_UK_INLINE const T* row(int r) const {
    const T* base = r < 4 ? a0 : r < 8 ? a4 : a8;
    const int q = r % 4;
    return base + (q == 0 ? 0 : q == 1 ? rs : q == 2 ? 2 * rs : rs3);
  }
  NRNN_UK_INLINE void next() {
    ++a0;
    ++a4;
    ++a8;
  }
};

template <typename T>
NRNN_UK_INLINE ARowMajor<T> row_major(const T* a, index_t rsa) {
  return ARowMajor<T>{a, a + 4 * rsa, a + 8 * rsa, rsa, 3 * rsa};
}

// C[0:M, 0:n] = alpha * A·B + beta * C: M rows, NV vectors of columns, the last vector's
// lanes limited by `last`; B element (p, j) at b[p*ldb + j]. kMaskB: the last vector of B
// is loaded masked too (B read in place, where the lanes past n may be past the buffer);
// a packed sliver is zero-filled to NR and needs no mask. kPrefetchC: the C tile is
// prefetched kPrefetchC steps before the end (big products; a small one has C in cache).
// beta == 0 never reads C.
template <class V, class AP, int M, int NV, bool kMaskB, bool kPrefetch>
NRNN_UK_INLINE void tile(index_t k, typename V::T alpha, AP ap, const typename V::T* b,
                         index_t ldb, typename V::Mask last, typename V::T beta,
                         typename V::T* c, index_t ldc) {
  using T = typename V::T;
  using R = typename V::R;
  using Mask = typename V::Mask;
  constexpr int W = V::W;
  R acc[kMR][2];
#pragma GCC unroll 12
  for (int r = 0; r < M; ++r)
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) acc[r][v] = V::zero();

  // n steps of k. The unrolling is left to GCC's RTL unroller (#pragma): unrolled by hand,
  // the four steps' loads were hoisted together and the accumulators spilled.
  auto steps = [&](index_t n) NRNN_UK_LAMBDA {
#pragma GCC unroll 4
    for (index_t q = n; q > 0; --q) {
      R bv[NV];
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v)
        bv[v] = kMaskB && v + 1 == NV ? V::load(b + v * W, last) : V::load(b + v * W);
#pragma GCC unroll 12
      for (int r = 0; r < M; ++r) {
        const R av = V::bcast(ap.row(r));
#pragma GCC unroll 2
        for (int v = 0; v < NV; ++v) acc[r][v] = V::fma(av, bv[v], acc[r][v]);
      }
      ap.next();
      b += ldb;
    }
  };
  if (kPrefetch) {
    const index_t head = k > kPrefetchC ? k - kPrefetchC : 0;
    // A row of the tile is 128 bytes: two cache lines, three when C is not 64-byte aligned.
    const char* cb = reinterpret_cast<const char*>(c);
    const index_t ldcb = ldc * index_t(sizeof(T));
    if (head > 0) {
#pragma GCC unroll 12
      for (int r = 0; r < M; ++r) {
        _mm_prefetch(cb + r * ldcb, _MM_HINT_T1);
        _mm_prefetch(cb + r * ldcb + 64, _MM_HINT_T1);
        _mm_prefetch(cb + r * ldcb + 127, _MM_HINT_T1);
      }
    }
    steps(head);
#pragma GCC unroll 12
    for (int r = 0; r < M; ++r) {
      _mm_prefetch(cb + r * ldcb, _MM_HINT_ET0);
      _mm_prefetch(cb + r * ldcb + 64, _MM_HINT_ET0);
      _mm_prefetch(cb + r * ldcb + 127, _MM_HINT_ET0);
    }
    steps(k - head);
  } else {
    steps(k);
  }

  const Mask full = Mask(~Mask(0));
  if (alpha != T(1)) {
    const R va = V::set1(alpha);
#pragma GCC unroll 12
    for (int r = 0; r < M; ++r)
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) acc[r][v] = V::mul(acc[r][v], va);
  }
  if (beta == T(0)) {  // C may hold NaN: store without reading it
#pragma GCC unroll 12
    for (int r = 0; r < M; ++r)
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v)
        V::store(c + r * ldc + v * W, acc[r][v], v + 1 < NV ? full : last);
  } else {
    // Every row of C is read before any is written: with ldc a multiple of 4 KiB the rows
    // share their low 12 address bits, and a load behind a store to such an address waits
    // for it (4K aliasing) — read-add-write row by row cost ~15% at 2048^3.
    const R vb = V::set1(beta);
#pragma GCC unroll 12
    for (int r = 0; r < M; ++r)
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) {
        const R cv = V::load(c + r * ldc + v * W, v + 1 < NV ? full : last);
        acc[r][v] = beta == T(1) ? V::add(cv, acc[r][v]) : V::fma(vb, cv, acc[r][v]);
      }
#pragma GCC unroll 12
    for (int r = 0; r < M; ++r)
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v)
        V::store(c + r * ldc + v * W, acc[r][v], v + 1 < NV ? full : last);
  }
}

// Full tiles of the blocked path: 12 x NR, B a packed sliver, C prefetched.
template <class V>
NRNN_UK_TARGET void tile_packed(index_t k, typename V::T alpha, const typename V::T* a,
                                const typename V::T* b, typename V::T beta, typename V::T* c,
                                index_t ldc) {
  using T = typename V::T;
  tile<V, AColMajor<T>, kMR, 2, false, true>(k, alpha, AColMajor<T>{a, kMR}, b, 2 * V::W,
                                             V::mask(V::W), beta, c, ldc);
}

template <class V>
NRNN_UK_TARGET void tile_direct(index_t k, typename V::T alpha, const typename V::T* a,
                                index_t rsa, index_t csa, const typename V::T* b,
                                typename V::T beta, typename V::T* c, index_t ldc) {
  using T = typename V::T;
  if (csa == 1) {  // row-major A, the only case the driver sends here
    tile<V, ARowMajor<T>, kMR, 2, false, true>(k, alpha, row_major(a, rsa), b, 2 * V::W,
                                               V::mask(V::W), beta, c, ldc);
  } else {  // any strides: the shared template (a call, so that it cannot crowd this loop)
    ukernel_direct_a<V, kMR, 2>(k, alpha, a, rsa, csa, b, beta, c, ldc);
  }
}

// Any tile (Ukernels::tile): a switch over the compile-time row counts, one vector of
// columns when n <= W, B's last vector loaded masked. No C prefetch: these are the edges
// of big products and the tiles of small ones (whose C is in cache).
// One function per row count and A layout (called, not inlined: inlined, the 48 variants made
// one giant function that GCC compiled slowly and without full debug information).
template <class V, class AP, int M>
NRNN_UK_TARGET __attribute__((noinline)) void tile_cols(index_t n, index_t k, typename V::T alpha,
                                                        AP ap, const typename V::T* b, index_t ldb,
                                                        typename V::T beta, typename V::T* c,
                                                        index_t ldc) {
  if (n <= V::W) {
    tile<V, AP, M, 1, true, false>(k, alpha, ap, b, ldb, V::mask(n), beta, c, ldc);
  } else {
    tile<V, AP, M, 2, true, false>(k, alpha, ap, b, ldb, V::mask(n - V::W), beta, c, ldc);
  }
}

template <class V, class AP>
NRNN_UK_INLINE void tile_rows(index_t m, index_t n, index_t k, typename V::T alpha, AP ap,
                              const typename V::T* b, index_t ldb, typename V::T beta,
                              typename V::T* c, index_t ldc) {
  switch (m) {
#define NRNN_TILE_ROWS(M) \
  case M: tile_cols<V, AP, M>(n, k, alpha, ap, b, ldb, beta, c, ldc); break;
    NRNN_TILE_ROWS(1) NRNN_TILE_ROWS(2) NRNN_TILE_ROWS(3) NRNN_TILE_ROWS(4)
    NRNN_TILE_ROWS(5) NRNN_TILE_ROWS(6) NRNN_TILE_ROWS(7) NRNN_TILE_ROWS(8)
    NRNN_TILE_ROWS(9) NRNN_TILE_ROWS(10) NRNN_TILE_ROWS(11) NRNN_TILE_ROWS(12)
#undef NRNN_TILE_ROWS
    default: break;
  }
}

template <class V>
NRNN_UK_TARGET void tile_any(index_t m, index_t n, index_t k, typename V::T alpha,
                             const typename V::T* a, index_t rsa, index_t csa,
                             const typename V::T* b, index_t rsb, typename V::T beta,
                             typename V::T* c, index_t ldc) {
  using T = typename V::T;
  // Full tiles inline, unmasked: the small products are made of them, and the two calls and
  // the switch of the general case cost ~6% of a 64^3 product (measured, 1 thread).
  const bool full = m == kMR && n == 2 * V::W;
  if (csa == 1 && full) {
    tile<V, ARowMajor<T>, kMR, 2, false, false>(k, alpha, row_major(a, rsa), b, rsb,
                                                V::mask(V::W), beta, c, ldc);
  } else if (csa == 1) {
    tile_rows<V>(m, n, k, alpha, row_major(a, rsa), b, rsb, beta, c, ldc);
  } else if (full) {  // rsa == 1 (the contract)
    tile<V, AColMajor<T>, kMR, 2, false, false>(k, alpha, AColMajor<T>{a, csa}, b, rsb,
                                                V::mask(V::W), beta, c, ldc);
  } else {
    tile_rows<V>(m, n, k, alpha, AColMajor<T>{a, csa}, b, rsb, beta, c, ldc);
  }
}

// ---- packing -----------------------------------------------------------------------------

// Transposed A: op(A)(i, p) = a[p*csa + i], so each k step of a panel is 12 contiguous
// values of one storage row. Row-major A: op(A)(i, p) = a[i*rsa + p], a transpose of the
// panel's 12 rows, 8 k steps at a time (rows 0-7 through one 8x8 transpose, rows 8-11
// through a second one with four zero rows).
// Twelve values of A, masked to the first m: one vector of floats, one and a half of doubles.
struct Doubles12 {
  __m512d lo, hi;
};
NRNN_UK_INLINE __m512 load12(const float* s, index_t m) {
  return _mm512_maskz_loadu_ps(__mmask16((1u << m) - 1), s);
}
NRNN_UK_INLINE Doubles12 load12(const double* s, index_t m) {
  const unsigned bits = (1u << m) - 1;
  return Doubles12{_mm512_maskz_loadu_pd(__mmask8(bits & 0xff), s),
                   _mm512_maskz_loadu_pd(__mmask8(bits >> 8), s + 8)};
}
// 12 lanes: a 16-lane store would run past the panel's last step.
NRNN_UK_INLINE void store12(float* d, __m512 v) { _mm512_mask_storeu_ps(d, 0x0fff, v); }
NRNN_UK_INLINE void store12(double* d, Doubles12 v) {
  _mm512_storeu_pd(d, v.lo);
  _mm512_mask_storeu_pd(d + 8, 0x0f, v.hi);
}

// Transposed A, both types: 8 storage rows at a time dealt out to every panel, so that those
// rows (8 x mc values) stay in L1 while the panels take their 12 values of each. Walked
// panel by panel instead, each storage row is read 12 values at a time, kc rows apart,
// which for lda a multiple of 1 KiB all fall into a few L1 sets: measured 2x slower packing
// at rnn 1024x64x1024 TN. Masked loads never touch the lanes past mc; a panel's rows past
// mc are zero.
template <typename T>
NRNN_UK_INLINE void pack_a_trans(index_t mc, index_t kc, const T* a, index_t csa, T* dst) {
  const index_t panels = (mc + kMR - 1) / kMR;
  for (index_t p0 = 0; p0 < kc; p0 += 8) {
    const index_t p1 = std::min(kc, p0 + 8);
    for (index_t q = 0; q < panels; ++q) {
      const index_t m = std::min<index_t>(kMR, mc - q * kMR);
      const T* s = a + q * kMR;
      T* d = dst + q * kMR * kc;
      for (index_t p = p0; p < p1; ++p) store12(d + p * kMR, load12(s + p * csa, m));
    }
  }
}

NRNN_UK_TARGET void pack_a_f32(index_t mc, index_t kc, const float* a, index_t rsa,
                               index_t csa, float* dst) {
  if (rsa == 1 && csa != 1) {
    pack_a_trans(mc, kc, a, csa, dst);
    return;
  }
  for (index_t i0 = 0; i0 < mc; i0 += kMR, dst += kMR * kc) {
    const index_t m = std::min<index_t>(kMR, mc - i0);
    const float* src = a + i0 * rsa;
    if (m == kMR && csa == 1) {
      index_t p = 0;
      for (; p + 8 <= kc; p += 8) {
        float* d = dst + p * kMR;
        transpose8_block(src + p, rsa, d, kMR);  // rows 0-7
        const __m256 s0 = _mm256_loadu_ps(src + 8 * rsa + p);
        const __m256 s1 = _mm256_loadu_ps(src + 9 * rsa + p);
        const __m256 s2 = _mm256_loadu_ps(src + 10 * rsa + p);
        const __m256 s3 = _mm256_loadu_ps(src + 11 * rsa + p);
        // Rows 8-11: a 4x8 transpose, u[j] = [column j | column j + 4] (8 shuffles where
        // an 8x8 transpose with four zero rows took 24; pack_a measured ~1.3x faster).
        const __m256 t0 = _mm256_unpacklo_ps(s0, s1), t1 = _mm256_unpackhi_ps(s0, s1);
        const __m256 t2 = _mm256_unpacklo_ps(s2, s3), t3 = _mm256_unpackhi_ps(s2, s3);
        const __m256 u[4] = {_mm256_shuffle_ps(t0, t2, 0x44), _mm256_shuffle_ps(t0, t2, 0xEE),
                             _mm256_shuffle_ps(t1, t3, 0x44), _mm256_shuffle_ps(t1, t3, 0xEE)};
#pragma GCC unroll 4
        for (int j = 0; j < 4; ++j) {
          _mm_storeu_ps(d + j * kMR + 8, _mm256_castps256_ps128(u[j]));
          _mm_storeu_ps(d + (j + 4) * kMR + 8, _mm256_extractf128_ps(u[j], 1));
        }
      }
      for (; p < kc; ++p)
        for (int r = 0; r < kMR; ++r) dst[p * kMR + r] = src[r * rsa + p];
    } else {
      pack_a<float, kMR>(m, kc, src, rsa, csa, dst);
    }
  }
}

NRNN_UK_TARGET void pack_a_f64(index_t mc, index_t kc, const double* a, index_t rsa,
                               index_t csa, double* dst) {
  if (rsa == 1 && csa != 1) {
    pack_a_trans(mc, kc, a, csa, dst);
    return;
  }
  for (index_t i0 = 0; i0 < mc; i0 += kMR, dst += kMR * kc) {
    const index_t m = std::min<index_t>(kMR, mc - i0);
    const double* src = a + i0 * rsa;
    if (m == kMR && csa == 1) {
      index_t p = 0;
      for (; p + 4 <= kc; p += 4) {
        double* d = dst + p * kMR;
#pragma GCC unroll 3
        for (int g = 0; g < 3; ++g) transpose4_block(src + 4 * g * rsa + p, rsa, d + 4 * g, kMR);
      }
      for (; p < kc; ++p)
        for (int r = 0; r < kMR; ++r) dst[p * kMR + r] = src[r * rsa + p];
    } else {
      pack_a<double, kMR>(m, kc, src, rsa, csa, dst);
    }
  }
}

// Row-major B: each k step of a sliver is NR contiguous values (masked, zero-filled, for a
// ragged sliver). Transposed B: op(B)(p, j) = b[j*csb + p], so a sliver is NR storage rows
// turned around in 8x8 (float) or 4x4 (double) blocks.
NRNN_UK_TARGET void pack_b_f32(index_t kc, index_t nc, const float* b, index_t rsb,
                               index_t csb, float* dst) {
  constexpr int NR = 32;
  for (index_t j0 = 0; j0 < nc; j0 += NR, dst += NR * kc) {
    const index_t n = std::min<index_t>(NR, nc - j0);
    const float* src = b + j0 * csb;
    if (csb == 1) {
      const std::uint32_t bits = n == 32 ? 0xffffffffu : (std::uint32_t(1) << n) - 1;
      const __mmask16 lo = __mmask16(bits & 0xffff), hi = __mmask16(bits >> 16);
      for (index_t p = 0; p < kc; ++p) {
        const float* s = src + p * rsb;
        _mm512_storeu_ps(dst + p * NR, _mm512_maskz_loadu_ps(lo, s));
        _mm512_storeu_ps(dst + p * NR + 16, _mm512_maskz_loadu_ps(hi, s + 16));
      }
    } else if (n == NR && rsb == 1) {
      index_t p = 0;
      for (; p + 8 <= kc; p += 8) {
#pragma GCC unroll 4
        for (int h = 0; h < 4; ++h)
          transpose8_block(src + (8 * h) * csb + p, csb, dst + p * NR + 8 * h, NR);
      }
      for (; p < kc; ++p)
        for (int j = 0; j < NR; ++j) dst[p * NR + j] = src[j * csb + p];
    } else {
      pack_b<float, NR>(kc, n, src, rsb, csb, dst);
    }
  }
}

NRNN_UK_TARGET void pack_b_f64(index_t kc, index_t nc, const double* b, index_t rsb,
                               index_t csb, double* dst) {
  constexpr int NR = 16;
  for (index_t j0 = 0; j0 < nc; j0 += NR, dst += NR * kc) {
    const index_t n = std::min<index_t>(NR, nc - j0);
    const double* src = b + j0 * csb;
    if (csb == 1) {
      const unsigned bits = (1u << n) - 1;
      const __mmask8 lo = __mmask8(bits & 0xff), hi = __mmask8(bits >> 8);
      for (index_t p = 0; p < kc; ++p) {
        const double* s = src + p * rsb;
        _mm512_storeu_pd(dst + p * NR, _mm512_maskz_loadu_pd(lo, s));
        _mm512_storeu_pd(dst + p * NR + 8, _mm512_maskz_loadu_pd(hi, s + 8));
      }
    } else if (n == NR && rsb == 1) {
      index_t p = 0;
      for (; p + 4 <= kc; p += 4) {
#pragma GCC unroll 4
        for (int h = 0; h < 4; ++h) {
          const double* s = src + (4 * h) * csb + p;
          __m256d r0 = _mm256_loadu_pd(s + 0 * csb), r1 = _mm256_loadu_pd(s + 1 * csb);
          __m256d r2 = _mm256_loadu_pd(s + 2 * csb), r3 = _mm256_loadu_pd(s + 3 * csb);
          transpose4(r0, r1, r2, r3);
          double* d = dst + p * NR + 4 * h;
          _mm256_storeu_pd(d + 0 * NR, r0);
          _mm256_storeu_pd(d + 1 * NR, r1);
          _mm256_storeu_pd(d + 2 * NR, r2);
          _mm256_storeu_pd(d + 3 * NR, r3);
        }
      }
      for (; p < kc; ++p)
        for (int j = 0; j < NR; ++j) dst[p * NR + j] = src[j * csb + p];
    } else {
      pack_b<double, NR>(kc, n, src, rsb, csb, dst);
    }
  }
}

template <class V>
constexpr Ukernels<typename V::T> avx512_table(
    void (*pa)(index_t, index_t, const typename V::T*, index_t, index_t, typename V::T*),
    void (*pb)(index_t, index_t, const typename V::T*, index_t, index_t, typename V::T*)) {
  Ukernels<typename V::T> t = make_table<V, kMR, 2>();
  t.packed = &tile_packed<V>;
  t.direct_a = &tile_direct<V>;
  t.tile = &tile_any<V>;
  t.pack_a = pa;
  t.pack_b = pb;
  return t;
}

}  // namespace

extern const Ukernels<float> kAvx512F32 = avx512_table<Avx512F32>(&pack_a_f32, &pack_b_f32);
extern const Ukernels<double> kAvx512F64 = avx512_table<Avx512F64>(&pack_a_f64, &pack_b_f64);

}  // namespace gemm_detail
}  // namespace nrnn

#endif  // __x86_64__
