// The register-blocked micro-kernel and the packing routines, written once over a small
// vector-traits type V and instantiated by each ISA file (gemm_ukernel_*.cc).
//
// Include contract: the including file defines
//   NRNN_UK_TARGET  the function attribute of its ISA, e.g. __attribute__((target("avx2,fma")))
//                   (empty for the portable build),
// and the traits types it passes as V (with every member function NRNN_UK_INLINE).
// Everything here has internal linkage (anonymous namespace): each ISA file gets its own
// copy compiled for its own target, so the linker can never merge an AVX-512 copy into the
// portable path (the classic hazard of target-specific code in inline templates).
//
// Sharing one template across ISAs is also how the AVX-512 path is kept correct on
// machines without AVX-512: its logic is the very code the AVX2 path runs and the tests
// check; only the traits (one intrinsic per member) differ.
//
// V provides: T (element), R (register), W (lanes), zero(), load(p), store(p, r),
// bcast(p) (all lanes = *p), set1(x), fma(a, b, c) (= a*b + c), mul(a, b), add(a, b),
// sum(r) (the lanes added up).

#if !defined(NRNN_UK_TARGET)
#error "define NRNN_UK_TARGET before including gemm_ukernel_body.h"
#endif

#include <algorithm>

#include "kernels/gemm_internal.h"

#if defined(__GNUC__) || defined(__clang__)
#define NRNN_UK_INLINE NRNN_UK_TARGET __attribute__((always_inline)) inline
// A lambda inside a kernel: compiled for the same target and inlined into it.
#define NRNN_UK_LAMBDA NRNN_UK_TARGET __attribute__((always_inline))
#define NRNN_PREFETCH_W(p) __builtin_prefetch((p), 1, 3)
#else  // other compilers build only the portable path (no NRNN_UK_TARGET there)
#define NRNN_UK_INLINE NRNN_UK_TARGET __forceinline
#define NRNN_UK_LAMBDA
#define NRNN_PREFETCH_W(p) ((void)(p))
#endif

namespace nrnn {
namespace gemm_detail {
namespace {

// C[0:MR, 0:NR] = alpha * sum_p a(:, p) b(p, :) + beta * C, NR = NV * V::W.
//
// Register budget: MR*NV accumulators + NV for the B row + 1 broadcast of A. Per k step:
// NV vector loads of B, MR broadcasts of A, MR*NV FMAs. The B sliver (k x NR) is the
// operand reused across the ir loop, so it is the one kept in L1; A panels stream from L2.
// A is addressed a[r*rsa + p*csa]: packed A passes the constants (1, MR) and the compiler
// folds them into immediate offsets; in-place A passes its real strides.
template <class V, int MR, int NV>
NRNN_UK_INLINE void ukernel_body(index_t k, typename V::T alpha, const typename V::T* a,
                                 index_t rsa, index_t csa, const typename V::T* b,
                                 typename V::T beta, typename V::T* c, index_t ldc) {
  using T = typename V::T;
  using R = typename V::R;
  constexpr int W = V::W;
  constexpr int NR = NV * W;

  // C is touched only after the k loop; on large products its tile comes from L3 or
  // memory, so ask for it now and let the loop hide the latency. First and last byte of
  // each row: a row of the tile spans two cache lines when C is not 64-byte aligned.
  if (beta != T(0)) {
#pragma GCC unroll 32
    for (int r = 0; r < MR; ++r) {
      NRNN_PREFETCH_W(c + r * ldc);
      NRNN_PREFETCH_W(c + r * ldc + NR - 1);
    }
  }

  R acc[MR][NV];
#pragma GCC unroll 32
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc[r][v] = V::zero();

#pragma GCC unroll 4
  for (index_t p = 0; p < k; ++p) {
    R bv[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) bv[v] = V::load(b + v * W);
#pragma GCC unroll 32
    for (int r = 0; r < MR; ++r) {
      const R av = V::bcast(a + r * rsa);
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[r][v] = V::fma(av, bv[v], acc[r][v]);
    }
    a += csa;
    b += NR;
  }

  if (alpha != T(1)) {
    const R va = V::set1(alpha);
#pragma GCC unroll 32
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[r][v] = V::mul(acc[r][v], va);
  }
  if (beta == T(0)) {  // C may hold NaN: store without reading it
#pragma GCC unroll 32
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) V::store(c + r * ldc + v * W, acc[r][v]);
  } else if (beta == T(1)) {  // accumulating over KC blocks, and += gradients
#pragma GCC unroll 32
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) {
        T* cp = c + r * ldc + v * W;
        V::store(cp, V::add(V::load(cp), acc[r][v]));
      }
  } else {
    const R vb = V::set1(beta);
#pragma GCC unroll 32
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) {
        T* cp = c + r * ldc + v * W;
        V::store(cp, V::fma(vb, V::load(cp), acc[r][v]));
      }
  }
}

template <class V, int MR, int NV>
NRNN_UK_TARGET void ukernel_packed(index_t k, typename V::T alpha, const typename V::T* a,
                                   const typename V::T* b, typename V::T beta,
                                   typename V::T* c, index_t ldc) {
  ukernel_body<V, MR, NV>(k, alpha, a, 1, MR, b, beta, c, ldc);
}

template <class V, int MR, int NV>
NRNN_UK_TARGET void ukernel_direct_a(index_t k, typename V::T alpha, const typename V::T* a,
                                     index_t rsa, index_t csa, const typename V::T* b,
                                     typename V::T beta, typename V::T* c, index_t ldc) {
  if (csa == 1) {  // row-major A, the common case: let the compiler see the unit step
    ukernel_body<V, MR, NV>(k, alpha, a, rsa, 1, b, beta, c, ldc);
  } else {
    ukernel_body<V, MR, NV>(k, alpha, a, rsa, csa, b, beta, c, ldc);
  }
}

// Packs op(A)[0:mc, 0:kc] into MR-row micro-panels, k-major inside a panel: dst[p*MR + r].
// Transposed A (rsa == 1) copies MR contiguous values per p. Row-major A (csa == 1) is a
// transpose of an MR x kc strip: read the MR rows in step (MR sequential streams), write
// each p's MR values together.
template <typename T, int MR>
NRNN_UK_TARGET void pack_a(index_t mc, index_t kc, const T* a, index_t rsa, index_t csa,
                           T* dst) {
  for (index_t i0 = 0; i0 < mc; i0 += MR) {
    const index_t m = std::min<index_t>(MR, mc - i0);
    const T* src = a + i0 * rsa;
    if (m == MR && rsa == 1) {
      for (index_t p = 0; p < kc; ++p)
#pragma GCC unroll 32
        for (int r = 0; r < MR; ++r) dst[p * MR + r] = src[p * csa + r];
    } else if (m == MR && csa == 1) {
      const T* rows[MR];
#pragma GCC unroll 32
      for (int r = 0; r < MR; ++r) rows[r] = src + r * rsa;
      for (index_t p = 0; p < kc; ++p)
#pragma GCC unroll 32
        for (int r = 0; r < MR; ++r) dst[p * MR + r] = rows[r][p];
    } else {
      for (index_t p = 0; p < kc; ++p) {
        for (index_t r = 0; r < m; ++r) dst[p * MR + r] = src[r * rsa + p * csa];
        for (index_t r = m; r < MR; ++r) dst[p * MR + r] = T(0);
      }
    }
    dst += MR * kc;
  }
}

// Packs op(B)[0:kc, 0:nc] into NR-column slivers, k-major inside a sliver: dst[p*NR + j].
// Row-major B (csb == 1) is a row-by-row copy; transposed B (rsb == 1) reads each of the
// NR source rows sequentially and scatters into the sliver, which is small enough
// (kc x NR) to stay in L1 while it is written.
template <typename T, int NR>
NRNN_UK_TARGET void pack_b(index_t kc, index_t nc, const T* b, index_t rsb, index_t csb,
                           T* dst) {
  for (index_t j0 = 0; j0 < nc; j0 += NR) {
    const index_t n = std::min<index_t>(NR, nc - j0);
    const T* src = b + j0 * csb;
    if (n == NR && csb == 1) {
      for (index_t p = 0; p < kc; ++p)
#pragma GCC unroll 32
        for (int j = 0; j < NR; ++j) dst[p * NR + j] = src[p * rsb + j];
    } else if (n == NR && rsb == 1) {
      for (int j = 0; j < NR; ++j) {
        const T* col = src + j * csb;
        for (index_t p = 0; p < kc; ++p) dst[p * NR + j] = col[p];
      }
    } else {
      for (index_t p = 0; p < kc; ++p) {
        for (index_t j = 0; j < n; ++j) dst[p * NR + j] = src[p * rsb + j * csb];
        for (index_t j = n; j < NR; ++j) dst[p * NR + j] = T(0);
      }
    }
    dst += NR * kc;
  }
}

// y[i*incy] = alpha * a(i, :)·x + beta * y[i*incy]. Four rows at a time share each load
// of x; two vectors per row give 8 independent FMA chains.
template <class V>
NRNN_UK_TARGET void gemv_rows(index_t m, index_t k, typename V::T alpha, const typename V::T* a,
                              index_t lda, const typename V::T* x, typename V::T beta,
                              typename V::T* y, index_t incy) {
  using T = typename V::T;
  using R = typename V::R;
  constexpr int W = V::W;
  constexpr int RB = 4;
  auto finish = [&](index_t i, T dot) {
    T& yi = y[i * incy];
    yi = beta == T(0) ? alpha * dot : alpha * dot + beta * yi;
  };
  index_t i = 0;
  for (; i + RB <= m; i += RB) {
    R acc[RB][2];
#pragma GCC unroll 4
    for (int r = 0; r < RB; ++r) acc[r][0] = acc[r][1] = V::zero();
    index_t p = 0;
    for (; p + 2 * W <= k; p += 2 * W) {
      const R x0 = V::load(x + p), x1 = V::load(x + p + W);
#pragma GCC unroll 4
      for (int r = 0; r < RB; ++r) {
        acc[r][0] = V::fma(V::load(a + (i + r) * lda + p), x0, acc[r][0]);
        acc[r][1] = V::fma(V::load(a + (i + r) * lda + p + W), x1, acc[r][1]);
      }
    }
#pragma GCC unroll 4
    for (int r = 0; r < RB; ++r) {
      T dot = V::sum(V::add(acc[r][0], acc[r][1]));
      for (index_t q = p; q < k; ++q) dot += a[(i + r) * lda + q] * x[q];
      finish(i + r, dot);
    }
  }
  for (; i < m; ++i) {
    R acc0 = V::zero(), acc1 = V::zero();
    index_t p = 0;
    for (; p + 2 * W <= k; p += 2 * W) {
      acc0 = V::fma(V::load(a + i * lda + p), V::load(x + p), acc0);
      acc1 = V::fma(V::load(a + i * lda + p + W), V::load(x + p + W), acc1);
    }
    T dot = V::sum(V::add(acc0, acc1));
    for (; p < k; ++p) dot += a[i * lda + p] * x[p];
    finish(i, dot);
  }
}

// y[j] = alpha * sum_p x[p*incx] a(p, j) + beta * y[j]. y is scaled by beta first, then
// rows of a are added four at a time (y += sum of 4 scaled rows): every access is a
// sequential stream, and y, processed in blocks of 1024 elements, stays in L1 while the
// rows pass. (Walking down the columns instead strides by lda on every load.)
template <class V>
NRNN_UK_TARGET void gemv_cols(index_t k, index_t n, typename V::T alpha, const typename V::T* a,
                              index_t lda, const typename V::T* x, index_t incx,
                              typename V::T beta, typename V::T* y) {
  using T = typename V::T;
  using R = typename V::R;
  constexpr int W = V::W;
  constexpr index_t kBlock = 1024;
  for (index_t j0 = 0; j0 < n; j0 += kBlock) {
    const index_t nb = std::min(kBlock, n - j0);
    T* yb = y + j0;
    const T* ab = a + j0;
    if (beta == T(0)) {  // never read y
      for (index_t j = 0; j < nb; ++j) yb[j] = T(0);
    } else if (beta != T(1)) {
      for (index_t j = 0; j < nb; ++j) yb[j] *= beta;
    }
    index_t p = 0;
    for (; p + 4 <= k; p += 4) {
      const T s0 = alpha * x[p * incx], s1 = alpha * x[(p + 1) * incx];
      const T s2 = alpha * x[(p + 2) * incx], s3 = alpha * x[(p + 3) * incx];
      const R v0 = V::set1(s0), v1 = V::set1(s1), v2 = V::set1(s2), v3 = V::set1(s3);
      const T* r0 = ab + p * lda;
      const T* r1 = r0 + lda;
      const T* r2 = r1 + lda;
      const T* r3 = r2 + lda;
      index_t j = 0;
      for (; j + W <= nb; j += W) {
        R acc = V::load(yb + j);
        acc = V::fma(v0, V::load(r0 + j), acc);
        acc = V::fma(v1, V::load(r1 + j), acc);
        acc = V::fma(v2, V::load(r2 + j), acc);
        acc = V::fma(v3, V::load(r3 + j), acc);
        V::store(yb + j, acc);
      }
      for (; j < nb; ++j) yb[j] += s0 * r0[j] + s1 * r1[j] + s2 * r2[j] + s3 * r3[j];
    }
    for (; p < k; ++p) {
      const T s0 = alpha * x[p * incx];
      const R v0 = V::set1(s0);
      const T* r0 = ab + p * lda;
      index_t j = 0;
      for (; j + W <= nb; j += W) V::store(yb + j, V::fma(v0, V::load(r0 + j), V::load(yb + j)));
      for (; j < nb; ++j) yb[j] += s0 * r0[j];
    }
  }
}

template <class V, int MR, int NV>
constexpr Ukernels<typename V::T> make_table() {
  return Ukernels<typename V::T>{MR,
                                 NV * V::W,
                                 &ukernel_packed<V, MR, NV>,
                                 &ukernel_direct_a<V, MR, NV>,
                                 nullptr,
                                 &pack_a<typename V::T, MR>,
                                 &pack_b<typename V::T, NV * V::W>,
                                 &gemv_rows<V>,
                                 &gemv_cols<V>};
}

// A table whose packing routines an ISA file has specialised.
template <typename T>
constexpr Ukernels<T> with_packing(Ukernels<T> t,
                                   void (*pa)(index_t, index_t, const T*, index_t, index_t, T*),
                                   void (*pb)(index_t, index_t, const T*, index_t, index_t, T*)) {
  t.pack_a = pa;
  t.pack_b = pb;
  return t;
}

}  // namespace
}  // namespace gemm_detail
}  // namespace nrnn
