// exp, tanh and sigmoid over float arrays: an AVX-512 and an AVX2+FMA path (per-function
// target attributes, chosen at call time by active_isa()) and the portable scalar path.
//
// exp(x) = 2^n · e^r with n = round(x / ln 2) and r = x − n·ln 2 taken in two parts (ln 2 =
// hi + lo, hi with few mantissa bits, so n·hi is exact); e^r on |r| <= ln2/2 by its Taylor
// polynomial to r^7 (truncation below 6e-9 relative, under half a float ulp), in Horner form
// with FMA.
// tanh(x) = sign(x) · (1 − 2 / (e^{2|x|} + 1)) for |x| >= 0.55; below, where that form
// cancels, its odd Taylor series x − x³/3 + 2x⁵/15 − … to x^17 (the first dropped term is
// under 5e-9 relative at 0.55). |x| is clamped at 9.5, where 1 − 2/(e^19 + 1) rounds to 1.
#include "kernels/vmath.h"

#include <cmath>
#include <cstdint>

#include "kernels/runtime.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define NRNN_X86 1
#endif

namespace nrnn {

namespace {

constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693359375f;
constexpr float kLn2Lo = -2.12194440e-4f;
constexpr float kExpMin = -87.3f;  // e^x underflows to 0 below (n would pass −126)
constexpr float kExpMax = 88.3f;   // 2^127 · e^r stays finite
// 1/k! for the Taylor polynomial of e^r
constexpr float kE2 = 1.f / 2, kE3 = 1.f / 6, kE4 = 1.f / 24, kE5 = 1.f / 120, kE6 = 1.f / 720,
                kE7 = 1.f / 5040;
// Taylor coefficients of tanh: x + x³ (t3 + x² (t5 + …))
constexpr float kT3 = -1.f / 3, kT5 = 2.f / 15, kT7 = -17.f / 315, kT9 = 62.f / 2835,
                kT11 = -1382.f / 155925, kT13 = 21844.f / 6081075,
                kT15 = -929569.f / 638512875, kT17 = 6404582.f / 10854718875.f;
constexpr float kTanhSmall = 0.55f;
constexpr float kTanhClamp = 9.5f;

void exp_generic(const float* x, float* y, index_t n) {
  for (index_t i = 0; i < n; ++i) y[i] = std::exp(x[i]);
}
void tanh_generic(const float* x, float* y, index_t n) {
  for (index_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
}
void sigmoid_generic(const float* x, float* y, index_t n) {
  for (index_t i = 0; i < n; ++i) y[i] = 1.f / (1.f + std::exp(-x[i]));
}

#ifdef NRNN_X86

// ---- AVX2 + FMA: 8 lanes --------------------------------------------------------------------
__attribute__((target("avx2,fma"))) inline __m256 exp8(__m256 x) {
  const __m256 nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
  const __m256 under = _mm256_cmp_ps(x, _mm256_set1_ps(kExpMin), _CMP_LT_OQ);
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(kExpMin)), _mm256_set1_ps(kExpMax));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(kLog2e)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Hi), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Lo), r);
  __m256 p = _mm256_set1_ps(kE7);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kE6));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kE5));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kE4));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kE3));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kE2));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.f));
  // 2^n from the exponent bits: (n + 127) << 23
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  __m256 out = _mm256_mul_ps(p, _mm256_castsi256_ps(e));
  out = _mm256_andnot_ps(under, out);  // exact 0 below the range
  return _mm256_blendv_ps(out, _mm256_set1_ps(NAN), nan);
}

__attribute__((target("avx2,fma"))) inline __m256 tanh8(__m256 x) {
  const __m256 signMask = _mm256_set1_ps(-0.f);
  const __m256 ax = _mm256_andnot_ps(signMask, x);
  const __m256 sign = _mm256_and_ps(signMask, x);
  // small |x|: odd Taylor series
  const __m256 x2 = _mm256_mul_ps(x, x);
  __m256 p = _mm256_set1_ps(kT17);
  p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(kT15));
  p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(kT13));
  p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(kT11));
  p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(kT9));
  p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(kT7));
  p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(kT5));
  p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(kT3));
  // on |x|, sign restored after: exact odd symmetry and tanh(−0) = −0
  const __m256 small = _mm256_or_ps(_mm256_fmadd_ps(_mm256_mul_ps(p, x2), ax, ax), sign);
  // large |x|: 1 − 2 / (e^{2|x|} + 1), sign restored
  const __m256 a = _mm256_min_ps(ax, _mm256_set1_ps(kTanhClamp));
  const __m256 e = exp8(_mm256_add_ps(a, a));
  const __m256 q = _mm256_div_ps(_mm256_set1_ps(2.f), _mm256_add_ps(e, _mm256_set1_ps(1.f)));
  const __m256 large = _mm256_or_ps(_mm256_sub_ps(_mm256_set1_ps(1.f), q), sign);
  __m256 out = _mm256_blendv_ps(large, small, _mm256_cmp_ps(ax, _mm256_set1_ps(kTanhSmall), _CMP_LT_OQ));
  return _mm256_blendv_ps(out, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));  // NaN stays NaN
}

// 1 / (1 + e^{−x}); far left (x < −80) it is e^x to float precision, which also reaches 0
// instead of stopping at 1/(1 + e^{88.3}) where exp clamps.
__attribute__((target("avx2,fma"))) inline __m256 sigmoid8(__m256 x) {
  const __m256 e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), x));
  const __m256 s = _mm256_div_ps(_mm256_set1_ps(1.f), _mm256_add_ps(_mm256_set1_ps(1.f), e));
  return _mm256_blendv_ps(s, exp8(x), _mm256_cmp_ps(x, _mm256_set1_ps(-80.f), _CMP_LT_OQ));
}

template <__m256 (*F)(__m256)>
__attribute__((target("avx2,fma"))) void map_avx2(const float* x, float* y, index_t n) {
  index_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, F(_mm256_loadu_ps(x + i)));
  if (i < n) {
    // The tail through the same vector code (padded), so every element gets the same rounding.
    float in[8] = {0}, out[8];
    for (index_t k = 0; k < n - i; ++k) in[k] = x[i + k];
    _mm256_storeu_ps(out, F(_mm256_loadu_ps(in)));
    for (index_t k = 0; k < n - i; ++k) y[i + k] = out[k];
  }
}

// ---- AVX-512F: 16 lanes ---------------------------------------------------------------------
// GCC 12's AVX-512 headers trip -Wmaybe-uninitialized on their own undefined-vector helpers.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
__attribute__((target("avx512f"))) inline __m512 exp16(__m512 x) {
  const __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
  const __mmask16 under = _mm512_cmp_ps_mask(x, _mm512_set1_ps(kExpMin), _CMP_LT_OQ);
  x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(kExpMin)), _mm512_set1_ps(kExpMax));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(kLog2e)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Hi), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Lo), r);
  __m512 p = _mm512_set1_ps(kE7);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kE6));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kE5));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kE4));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kE3));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kE2));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f));
  const __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
  __m512 out = _mm512_mul_ps(p, _mm512_castsi512_ps(e));
  out = _mm512_mask_mov_ps(out, under, _mm512_setzero_ps());
  return _mm512_mask_mov_ps(out, nan, _mm512_set1_ps(NAN));
}

__attribute__((target("avx512f"))) inline __m512 tanh16(__m512 x) {
  const __m512i signMask = _mm512_set1_epi32(INT32_MIN);
  const __m512i xi = _mm512_castps_si512(x);
  const __m512 ax = _mm512_castsi512_ps(_mm512_andnot_si512(signMask, xi));
  const __m512i sign = _mm512_and_si512(signMask, xi);
  const __m512 x2 = _mm512_mul_ps(x, x);
  __m512 p = _mm512_set1_ps(kT17);
  p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(kT15));
  p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(kT13));
  p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(kT11));
  p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(kT9));
  p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(kT7));
  p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(kT5));
  p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(kT3));
  const __m512 small = _mm512_castsi512_ps(
      _mm512_or_si512(_mm512_castps_si512(_mm512_fmadd_ps(_mm512_mul_ps(p, x2), ax, ax)), sign));
  const __m512 a = _mm512_min_ps(ax, _mm512_set1_ps(kTanhClamp));
  const __m512 e = exp16(_mm512_add_ps(a, a));
  const __m512 q = _mm512_div_ps(_mm512_set1_ps(2.f), _mm512_add_ps(e, _mm512_set1_ps(1.f)));
  const __m512 large = _mm512_castsi512_ps(
      _mm512_or_si512(_mm512_castps_si512(_mm512_sub_ps(_mm512_set1_ps(1.f), q)), sign));
  __m512 out = _mm512_mask_mov_ps(large, _mm512_cmp_ps_mask(ax, _mm512_set1_ps(kTanhSmall), _CMP_LT_OQ), small);
  return _mm512_mask_mov_ps(out, _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), x);
}

__attribute__((target("avx512f"))) inline __m512 sigmoid16(__m512 x) {
  const __m512 e = exp16(_mm512_sub_ps(_mm512_setzero_ps(), x));
  const __m512 s = _mm512_div_ps(_mm512_set1_ps(1.f), _mm512_add_ps(_mm512_set1_ps(1.f), e));
  return _mm512_mask_mov_ps(s, _mm512_cmp_ps_mask(x, _mm512_set1_ps(-80.f), _CMP_LT_OQ), exp16(x));
}

template <__m512 (*F)(__m512)>
__attribute__((target("avx512f"))) void map_avx512(const float* x, float* y, index_t n) {
  index_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, F(_mm512_loadu_ps(x + i)));
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1u);
    _mm512_mask_storeu_ps(y + i, m, F(_mm512_maskz_loadu_ps(m, x + i)));
  }
}

#pragma GCC diagnostic pop

#endif  // NRNN_X86

}  // namespace

#ifdef NRNN_X86
namespace {

using MapFn = void (*)(const float*, float*, index_t);

// The path for this call: the vector twin of `generic` for the active ISA.
inline void dispatch(MapFn avx512, MapFn avx2, MapFn generic, const float* x, float* y, index_t n) {
  switch (active_isa()) {
    case Isa::Avx512: return avx512(x, y, n);
    case Isa::Avx2: return avx2(x, y, n);
    case Isa::Generic: break;
  }
  generic(x, y, n);
}

}  // namespace

void vexp(const float* x, float* y, index_t n) {
  dispatch(map_avx512<exp16>, map_avx2<exp8>, exp_generic, x, y, n);
}
void vtanh(const float* x, float* y, index_t n) {
  dispatch(map_avx512<tanh16>, map_avx2<tanh8>, tanh_generic, x, y, n);
}
void vsigmoid(const float* x, float* y, index_t n) {
  dispatch(map_avx512<sigmoid16>, map_avx2<sigmoid8>, sigmoid_generic, x, y, n);
}
#else
void vexp(const float* x, float* y, index_t n) { exp_generic(x, y, n); }
void vtanh(const float* x, float* y, index_t n) { tanh_generic(x, y, n); }
void vsigmoid(const float* x, float* y, index_t n) { sigmoid_generic(x, y, n); }
#endif

}  // namespace nrnn
