// Internal interface between the gemm driver (gemm.cc) and the per-ISA micro-kernel files
// (gemm_ukernel_{generic,avx2,avx512}.cc). Not part of the kernel contract.
//
// BLIS vocabulary (flame/blis docs/KernelsHowTo.md):
//   MR x NR  the register tile of C one micro-kernel call owns,
//   KC       depth of one packed panel (the B sliver KC x NR stays in L1),
//   MC       rows of the packed A block (MC x KC stays in L2),
//   NC       columns of the packed B panel (KC x NC stays in L3).
// MR x NR is a property of the micro-kernel; KC, MC, NC are derived from the cache sizes of
// the CPU at hand (blocking_for) instead of being constants tuned for one chip.
#pragma once

#include "kernels/kernels.h"
#include "kernels/runtime.h"

namespace nrnn {
namespace gemm_detail {

// One table per (ISA, element type). The driver reads it once per call.
template <typename T>
struct Ukernels {
  int mr, nr;

  // C[0:MR, 0:NR] = alpha * A·B + beta * C over k, full tile. beta == 0 never reads C.
  // Packed operands: A micro-panel element (r, p) at a[p*MR + r], B sliver (p, j) at
  // b[p*NR + j].
  void (*packed)(index_t k, T alpha, const T* a, const T* b, T beta, T* c, index_t ldc);

  // Same tile with A read in place: element (r, p) at a[r*rsa + p*csa]; B packed.
  // Used when A is reused too few times for packing it to pay (skinny N).
  void (*direct_a)(index_t k, T alpha, const T* a, index_t rsa, index_t csa, const T* b,
                   T beta, T* c, index_t ldc);

  // Any tile, optional (nullptr: the driver computes ragged tiles as full ones into a
  // buffer and merges their corner, and packs what the kernels cannot read in place):
  // C[0:m, 0:n] = alpha * A·B + beta * C for m <= MR, n <= NR over k, with
  //   A element (r, p) at a[r*rsa + p*csa], rsa == 1 or csa == 1 (a packed micro-panel is
  //     rsa = 1, csa = MR; A read in place is either layout), rows past m never read;
  //   B element (p, j) at b[p*rsb + j] (a packed sliver is rsb = NR; row-major B read in
  //     place is rsb = ldb), columns past n never read;
  //   only the m x n corner of C touched, and never read when beta == 0.
  void (*tile)(index_t m, index_t n, index_t k, T alpha, const T* a, index_t rsa, index_t csa,
               const T* b, index_t rsb, T beta, T* c, index_t ldc);

  // Packs op(A)[0:mc, 0:kc] (element (i, p) at a[i*rsa + p*csa]) into ceil(mc/MR)
  // micro-panels of MR x kc, rows past mc zero-filled.
  void (*pack_a)(index_t mc, index_t kc, const T* a, index_t rsa, index_t csa, T* dst);

  // Packs op(B)[0:kc, 0:nc] (element (p, j) at b[p*rsb + j*csb]) into ceil(nc/NR)
  // slivers of kc x NR, columns past nc zero-filled.
  void (*pack_b)(index_t kc, index_t nc, const T* b, index_t rsb, index_t csb, T* dst);

  // Matrix-vector products for M == 1 or N == 1, where an MR x NR tile would waste all
  // but one of its rows or columns. beta == 0 never reads y.
  // y[i*incy] = alpha * sum_p a[i*lda + p] * x[p] + beta * y[i*incy], i < m (dot products
  // over contiguous rows of a).
  void (*gemv_rows)(index_t m, index_t k, T alpha, const T* a, index_t lda, const T* x, T beta,
                    T* y, index_t incy);
  // y[j] = alpha * sum_p x[p*incx] * a[p*lda + j] + beta * y[j], j < n (a sum of
  // contiguous rows of a, scaled).
  void (*gemv_cols)(index_t k, index_t n, T alpha, const T* a, index_t lda, const T* x,
                    index_t incx, T beta, T* y);
};

// Tables per ISA. The x86 ones exist only in x86-64 builds.
extern const Ukernels<float> kGenericF32;
extern const Ukernels<double> kGenericF64;
#if defined(__x86_64__)
extern const Ukernels<float> kAvx2F32;
extern const Ukernels<double> kAvx2F64;
extern const Ukernels<float> kAvx512F32;
extern const Ukernels<double> kAvx512F64;
// The AVX-512 tile geometry (12 x 32 float, 12 x 16 double) built from AVX2 registers:
// slow (its accumulators spill) but it runs on AVX2 machines, so the tests can drive the
// AVX-512 blocking through the same template and driver where AVX-512 itself is absent.
extern const Ukernels<float> kAvx2F32Wide;
extern const Ukernels<double> kAvx2F64Wide;
#endif

// Tests only: when set, gemm uses this table instead of the active ISA's one.
void set_test_tables(const Ukernels<float>* f32, const Ukernels<double>* f64);

struct Blocking {
  index_t kc, mc, nc;
};

// KC, MC, NC for an MR x NR micro-kernel over elements of `bytes` bytes and these caches
// (the model is written out at the definition, gemm.cc).
Blocking blocking_for(int mr, int nr, int bytes, const CacheInfo& caches);

// Tests and the bench only: when kc > 0, gemm uses these block sizes (clamped to the
// micro-kernel: mc a multiple of MR, nc of NR) instead of the derived ones; 0 restores.
void set_test_blocking(index_t kc, index_t mc, index_t nc);

}  // namespace gemm_detail
}  // namespace nrnn
