// In-register transposes for the x86 packing routines (8x8 floats, 4x4 doubles), and blocks
// turned around through them (strided loads, transpose, strided stores), shared by
// the AVX2 and AVX-512 files. Same include contract as gemm_ukernel_body.h: the including
// file defines NRNN_UK_TARGET (and includes that header first), and every copy has
// internal linkage compiled for the includer's target.
#pragma once

#include <immintrin.h>

namespace nrnn {
namespace gemm_detail {
namespace {

// (r0..r7) = the transpose of the 8x8 matrix whose rows are r0..r7.
NRNN_UK_INLINE void transpose8(__m256& r0, __m256& r1, __m256& r2, __m256& r3, __m256& r4,
                               __m256& r5, __m256& r6, __m256& r7) {
  const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
  const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
  const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
  const __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  r0 = _mm256_permute2f128_ps(s0, s4, 0x20);
  r1 = _mm256_permute2f128_ps(s1, s5, 0x20);
  r2 = _mm256_permute2f128_ps(s2, s6, 0x20);
  r3 = _mm256_permute2f128_ps(s3, s7, 0x20);
  r4 = _mm256_permute2f128_ps(s0, s4, 0x31);
  r5 = _mm256_permute2f128_ps(s1, s5, 0x31);
  r6 = _mm256_permute2f128_ps(s2, s6, 0x31);
  r7 = _mm256_permute2f128_ps(s3, s7, 0x31);
}

NRNN_UK_INLINE void transpose4(__m256d& r0, __m256d& r1, __m256d& r2, __m256d& r3) {
  const __m256d t0 = _mm256_unpacklo_pd(r0, r1), t1 = _mm256_unpackhi_pd(r0, r1);
  const __m256d t2 = _mm256_unpacklo_pd(r2, r3), t3 = _mm256_unpackhi_pd(r2, r3);
  r0 = _mm256_permute2f128_pd(t0, t2, 0x20);
  r1 = _mm256_permute2f128_pd(t1, t3, 0x20);
  r2 = _mm256_permute2f128_pd(t0, t2, 0x31);
  r3 = _mm256_permute2f128_pd(t1, t3, 0x31);
}

// The 8x8 block s[i*ls + j] written turned around: d[j*ds + i] = s[i*ls + j] (i, j < 8).
NRNN_UK_INLINE void transpose8_block(const float* s, index_t ls, float* d, index_t ds) {
  __m256 r0 = _mm256_loadu_ps(s + 0 * ls), r1 = _mm256_loadu_ps(s + 1 * ls);
  __m256 r2 = _mm256_loadu_ps(s + 2 * ls), r3 = _mm256_loadu_ps(s + 3 * ls);
  __m256 r4 = _mm256_loadu_ps(s + 4 * ls), r5 = _mm256_loadu_ps(s + 5 * ls);
  __m256 r6 = _mm256_loadu_ps(s + 6 * ls), r7 = _mm256_loadu_ps(s + 7 * ls);
  transpose8(r0, r1, r2, r3, r4, r5, r6, r7);
  _mm256_storeu_ps(d + 0 * ds, r0);
  _mm256_storeu_ps(d + 1 * ds, r1);
  _mm256_storeu_ps(d + 2 * ds, r2);
  _mm256_storeu_ps(d + 3 * ds, r3);
  _mm256_storeu_ps(d + 4 * ds, r4);
  _mm256_storeu_ps(d + 5 * ds, r5);
  _mm256_storeu_ps(d + 6 * ds, r6);
  _mm256_storeu_ps(d + 7 * ds, r7);
}

// The 4x4 block of doubles likewise: d[j*ds + i] = s[i*ls + j] (i, j < 4).
NRNN_UK_INLINE void transpose4_block(const double* s, index_t ls, double* d, index_t ds) {
  __m256d r0 = _mm256_loadu_pd(s + 0 * ls), r1 = _mm256_loadu_pd(s + 1 * ls);
  __m256d r2 = _mm256_loadu_pd(s + 2 * ls), r3 = _mm256_loadu_pd(s + 3 * ls);
  transpose4(r0, r1, r2, r3);
  _mm256_storeu_pd(d + 0 * ds, r0);
  _mm256_storeu_pd(d + 1 * ds, r1);
  _mm256_storeu_pd(d + 2 * ds, r2);
  _mm256_storeu_pd(d + 3 * ds, r3);
}

}  // namespace
}  // namespace gemm_detail
}  // namespace nrnn
