// Portable micro-kernels (any CPU, and the baseline x86-64 build): float 4x8, double 4x4,
// written with GCC/Clang vector extensions of 16 bytes (SSE2 on x86-64, NEON on arm64):
// 8 accumulators + 2 B vectors + 1 broadcast fit the 16 registers of SSE2 without spills.
// Without a guaranteed FMA, fma() is a multiply and an add.
//
// Blocking (KC, MC, NC) comes from the CPU's cache sizes (gemm.cc, blocking_for).

#define NRNN_UK_TARGET
#include "kernels/gemm_ukernel_body.h"

#include <cstring>

namespace nrnn {
namespace gemm_detail {
namespace {

#if defined(__GNUC__) || defined(__clang__)
template <typename E>
struct Vec16 {
  using T = E;
  static constexpr int W = int(16 / sizeof(E));
  typedef E R __attribute__((vector_size(16)));
  NRNN_UK_INLINE static R zero() { return R{}; }
  NRNN_UK_INLINE static R load(const T* p) {
    R r;
    std::memcpy(&r, p, sizeof r);
    return r;
  }
  NRNN_UK_INLINE static void store(T* p, R r) { std::memcpy(p, &r, sizeof r); }
  NRNN_UK_INLINE static R set1(T x) { return R{} + x; }
  NRNN_UK_INLINE static R bcast(const T* p) { return set1(*p); }
  NRNN_UK_INLINE static R fma(R a, R b, R c) { return a * b + c; }
  NRNN_UK_INLINE static R mul(R a, R b) { return a * b; }
  NRNN_UK_INLINE static R add(R a, R b) { return a + b; }
  NRNN_UK_INLINE static T sum(R r) {
    T s = T(0);
    for (int i = 0; i < W; ++i) s += r[i];
    return s;
  }
};
#else
// Compilers without vector extensions: one lane, the compiler may still vectorise.
template <typename E>
struct Vec16 {
  using T = E;
  using R = E;
  static constexpr int W = 1;
  NRNN_UK_INLINE static R zero() { return R(0); }
  NRNN_UK_INLINE static R load(const T* p) { return *p; }
  NRNN_UK_INLINE static void store(T* p, R r) { *p = r; }
  NRNN_UK_INLINE static R set1(T x) { return x; }
  NRNN_UK_INLINE static R bcast(const T* p) { return *p; }
  NRNN_UK_INLINE static R fma(R a, R b, R c) { return a * b + c; }
  NRNN_UK_INLINE static R mul(R a, R b) { return a * b; }
  NRNN_UK_INLINE static R add(R a, R b) { return a + b; }
  NRNN_UK_INLINE static T sum(R r) { return r; }
};
#endif

}  // namespace

extern const Ukernels<float> kGenericF32 = make_table<Vec16<float>, 4, 2>();
extern const Ukernels<double> kGenericF64 = make_table<Vec16<double>, 4, 2>();

}  // namespace gemm_detail
}  // namespace nrnn
