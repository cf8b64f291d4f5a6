// gemm driver in the BLIS design: C = alpha * op(A) * op(B) + beta * C, row-major.
//
//   jc (NC columns of C and op(B))           B panel KC x NC packed, lives in L3
//     pc (KC deep slices of op(A), op(B))     beta applies to the first slice only
//       ic (MC rows of C and op(A))           A block MC x KC packed, lives in L2
//         jr (NR columns)                     B sliver KC x NR, lives in L1
//           ir (MR rows)                      micro-kernel: MR x NR of C in registers
//
// Transposes are strides: op(A)(i, p) = A[i*rsa + p*csa], op(B)(p, j) = B[p*rsb + j*csb],
// and only the packing routines look at them.
//
// Blocking: KC, MC, NC are derived from the CPU's cache sizes (blocking_for, below).
//
// Threads (parallel_for on the persistent pool; inline when the pool is busy): as many as
// the threading policy (runtime.h, threads_for) finds worth their hand-off for the work,
// estimated at the FMA peak of the path:
//   - at least as many columns as rows (N >= M): each thread runs all loops on its own
//     column block, packing its own B panels (and all of A, the smaller operand).
//   - more rows: the ic loop is shared out. One packed B panel per (jc, pc) serves all
//     threads (it sits in the shared L3); row tiles of C (whole MR panels, at most MC
//     rows, 6 per thread, of even heights) are claimed dynamically, each packing its own
//     A block.
//   - enough rows but K deep against the work (each KC slice too small to be worth two
//     joins): each thread runs all loops on its own rows, packing its own B panels.
// Packing buffers are per thread, 64-byte aligned, grow-only: no allocation in steady state.
//
// Shape paths:
//   tiny (M*N*K <= 64)     a plain loop: no dispatch, no packing buffers.
//   M == 1 or N == 1       matrix-vector kernels (batch-1 sampling of an RNN).
//   skinny N (N <= 128)    A is read in place by the micro-kernel (row-major A, or with a
//                          tile kernel transposed A too, by columns): each A value
//                          is used by only N/NR micro-kernel calls, too few to repay a
//                          transposing pack (the MC x KC block still stays in L2 across
//                          the jr loop). The RNN products (n_c x m, m = 32..64) go here.
//   otherwise              both operands packed.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#if defined(_MSC_VER)
#include <malloc.h>
#endif

#include "kernels/gemm_internal.h"
#include "kernels/runtime.h"

namespace nrnn {

namespace {

using gemm_detail::Ukernels;

std::atomic<const Ukernels<float>*> g_test_f32{nullptr};
std::atomic<const Ukernels<double>*> g_test_f64{nullptr};
std::atomic<index_t> g_test_kc{0}, g_test_mc{0}, g_test_nc{0};

template <typename T>
const Ukernels<T>& kernels_for(Isa isa);

template <>
const Ukernels<float>& kernels_for<float>(Isa isa) {
  if (const auto* t = g_test_f32.load(std::memory_order_relaxed)) return *t;
#if defined(__x86_64__)
  if (isa == Isa::Avx512) return gemm_detail::kAvx512F32;
  if (isa == Isa::Avx2) return gemm_detail::kAvx2F32;
#endif
  (void)isa;
  return gemm_detail::kGenericF32;
}

template <>
const Ukernels<double>& kernels_for<double>(Isa isa) {
  if (const auto* t = g_test_f64.load(std::memory_order_relaxed)) return *t;
#if defined(__x86_64__)
  if (isa == Isa::Avx512) return gemm_detail::kAvx512F64;
  if (isa == Isa::Avx2) return gemm_detail::kAvx2F64;
#endif
  (void)isa;
  return gemm_detail::kGenericF64;
}

constexpr int kMaxMR = 12, kMaxNR = 32;  // largest tile of any table (AVX-512 float)

// At or below this many multiply-adds the plain loop is used. Measured (paired runs): the
// packed path is already as fast at 4x4x4 and 2x faster at 8x8x8, so only the very
// smallest products skip it (they then touch no packing buffer at all).
constexpr index_t kTinyWork = 64;
// See gemm(): below this many hand-offs of work per thread and KC slice, one fork-join.
constexpr double kJoinsShare = 20.0;
// The unpacked path (gemm_small): K <= KC and A and B fit in half of L2 together (A is read
// again for every sliver of B columns), up to this many multiply-adds (beyond, packing
// costs under 1%). Measured (paired, 1 thread, Zen 5): 32^3 +18%, 64^3 +6%, 128^3 +4%,
// 256^3 +2%, rnn 256x64x256 TN +24% against the packed path.
constexpr index_t kSmallWork = index_t(1) << 24;
// Row-major A is read in place when N is at most this: measured (gemm_bench and paired
// runs) 3-20% faster than packing at N = 32..128 in float, even in double at 64, neutral
// at 128-256, slower at 512.
constexpr index_t kDirectAMaxN = 128;

// The blocking of a table on this CPU, remembered per thread for the last table asked
// about (the model's divisions cost ~1% of a 64^3 product); the test hook overrides it.
template <typename T>
gemm_detail::Blocking blocking(const Ukernels<T>& uk) {
  if (const index_t kc = g_test_kc.load(std::memory_order_relaxed)) {
    const index_t MR = uk.mr, NR = uk.nr;
    return gemm_detail::Blocking{
        kc, std::max(MR, g_test_mc.load(std::memory_order_relaxed) / MR * MR),
        std::max(NR, g_test_nc.load(std::memory_order_relaxed) / NR * NR)};
  }
  thread_local const Ukernels<T>* last = nullptr;
  thread_local gemm_detail::Blocking blk{};
  if (last != &uk) {
    blk = gemm_detail::blocking_for(uk.mr, uk.nr, int(sizeof(T)), cache_info());
    last = &uk;
  }
  return blk;
}

// A grow-only, 64-byte aligned buffer. One per thread and operand: after the first calls
// of a given size, gemm allocates nothing.
struct PackBuffer {
  void* p = nullptr;
  std::size_t bytes = 0;
  PackBuffer() = default;
  PackBuffer(const PackBuffer&) = delete;
  PackBuffer& operator=(const PackBuffer&) = delete;
  ~PackBuffer() { release(p); }
  static void* allocate(std::size_t bytes) {
#if defined(_MSC_VER)
    return _aligned_malloc(bytes, 64);
#else
    return std::aligned_alloc(64, bytes);
#endif
  }
  static void release(void* q) {
#if defined(_MSC_VER)
    _aligned_free(q);
#else
    std::free(q);
#endif
  }
  // Returns nullptr when memory is exhausted (kernels never throw).
  template <typename T>
  T* get(std::size_t count) {
    const std::size_t need = (count * sizeof(T) + 63) & ~std::size_t(63);
    if (need > bytes) {
      release(p);
      p = allocate(need);
      bytes = p ? need : 0;
    }
    return static_cast<T*>(p);
  }
};

thread_local PackBuffer t_pack_a;
thread_local PackBuffer t_pack_b;

template <typename T>
void scale_c(index_t M, index_t N, T beta, T* C, index_t ldc) {
  for (index_t i = 0; i < M; ++i) {
    T* c = C + i * ldc;
    if (beta == T(0)) {
      for (index_t j = 0; j < N; ++j) c[j] = T(0);
    } else if (beta != T(1)) {
      for (index_t j = 0; j < N; ++j) c[j] *= beta;
    }
  }
}

// The plain loop for tiny products: row i of C accumulates alpha*op(A)(i, p) * op(B)(p, :).
template <typename T>
void gemm_tiny(index_t M, index_t N, index_t K, T alpha, const T* A, index_t rsa,
               index_t csa, const T* B, index_t rsb, index_t csb, T beta, T* C,
               index_t ldc) {
  T acc[kMaxNR * 4];
  for (index_t i = 0; i < M; ++i) {
    T* c = C + i * ldc;
    for (index_t j0 = 0; j0 < N; j0 += kMaxNR * 4) {
      const index_t n = std::min<index_t>(kMaxNR * 4, N - j0);
      for (index_t j = 0; j < n; ++j) acc[j] = T(0);
      for (index_t p = 0; p < K; ++p) {
        const T a = A[i * rsa + p * csa];
        const T* b = B + p * rsb + j0 * csb;
        for (index_t j = 0; j < n; ++j) acc[j] += a * b[j * csb];
      }
      for (index_t j = 0; j < n; ++j)
        c[j0 + j] = beta == T(0) ? alpha * acc[j] : alpha * acc[j] + beta * c[j0 + j];
    }
  }
}

// An edge tile was computed into `tile` (ld NR) with beta 0; merge its m x n corner into C.
template <typename T>
void merge_tile(index_t m, index_t n, const T* tile, int nr, T beta, T* C, index_t ldc) {
  for (index_t r = 0; r < m; ++r) {
    T* c = C + r * ldc;
    const T* t = tile + r * nr;
    if (beta == T(0)) {
      for (index_t j = 0; j < n; ++j) c[j] = t[j];
    } else {
      for (index_t j = 0; j < n; ++j) c[j] = t[j] + beta * c[j];
    }
  }
}

template <typename T>
struct Problem {
  const Ukernels<T>* uk;
  gemm_detail::Blocking blk;
  index_t M, N, K;
  T alpha;
  const T* A;
  index_t rsa, csa;
  const T* B;
  index_t rsb, csb;
  T beta;
  T* C;
  index_t ldc;
  bool direct_a;  // micro-kernel reads row-major A in place
};

// The ic step: C[ic:ic+mc, jc:jc+nc] = alpha * op(A)[ic:ic+mc, pc:pc+kc] * Bp + beta * C,
// Bp being op(B)[pc:pc+kc, jc:jc+nc] packed. Ap holds the A block (or, when A is read in
// place and the table has no kernel for ragged tiles, just its ragged last panel).
template <typename T>
void macro_kernel(const Problem<T>& pr, const T* Bp, index_t jc, index_t nc, index_t pc,
                  index_t kc, T beta, index_t ic, index_t mc, T* Ap) {
  const Ukernels<T>& uk = *pr.uk;
  const int MR = uk.mr, NR = uk.nr;
  alignas(64) T tile[kMaxMR * kMaxNR];
  const T* Ablk = pr.A + ic * pr.rsa + pc * pr.csa;
  const index_t mc_full = (mc / MR) * MR;
  if (!pr.direct_a) {
    uk.pack_a(mc, kc, Ablk, pr.rsa, pr.csa, Ap);
  } else if (mc_full < mc && !uk.tile) {
    // The ragged last rows cannot be read as a full MR panel in place: pack them.
    uk.pack_a(mc - mc_full, kc, Ablk + mc_full * pr.rsa, pr.rsa, pr.csa, Ap);
  }
  for (index_t jr = 0; jr < nc; jr += NR) {
    const index_t nr = std::min<index_t>(NR, nc - jr);
    const T* b = Bp + jr * kc;
    T* Cj = pr.C + ic * pr.ldc + jc + jr;
    for (index_t ir = 0; ir < mc; ir += MR) {
      const index_t mr = std::min<index_t>(MR, mc - ir);
      T* Cij = Cj + ir * pr.ldc;
      const bool full = mr == MR && nr == NR;
      // Ragged tiles straight into C's corner; A read in place by columns (transposed)
      // always through the tile kernel (the full-tile kernels take rows).
      if (uk.tile && (!full || (pr.direct_a && pr.csa != 1))) {
        if (pr.direct_a) {
          uk.tile(mr, nr, kc, pr.alpha, Ablk + ir * pr.rsa, pr.rsa, pr.csa, b, NR, beta, Cij,
                  pr.ldc);
        } else {
          uk.tile(mr, nr, kc, pr.alpha, Ap + ir * kc, 1, MR, b, NR, beta, Cij, pr.ldc);
        }
        continue;
      }
      const bool in_place = pr.direct_a && ir < mc_full;
      T* cdst = full ? Cij : tile;
      const index_t ldd = full ? pr.ldc : NR;
      const T bdst = full ? beta : T(0);
      if (in_place) {
        uk.direct_a(kc, pr.alpha, Ablk + ir * pr.rsa, pr.rsa, pr.csa, b, bdst, cdst, ldd);
      } else {
        const T* a = pr.direct_a ? Ap : Ap + ir * kc;
        uk.packed(kc, pr.alpha, a, b, bdst, cdst, ldd);
      }
      if (!full) merge_tile(mr, nr, tile, NR, beta, Cij, pr.ldc);
    }
  }
}

// The A buffer of this thread for blocks of up to mc x kc (nullptr when out of memory).
template <typename T>
T* a_buffer(const Problem<T>& pr, index_t mc, index_t kc) {
  const index_t MR = pr.uk->mr;
  const index_t rows = pr.direct_a ? MR : ((mc + MR - 1) / MR) * MR;
  return t_pack_a.get<T>(std::size_t(rows * kc));
}

// Out of memory for packed panels: compute the slice with the reference loop, so the
// answer stays right (kernels never throw).
template <typename T>
void slice_reference(const Problem<T>& pr, index_t ic, index_t mc, index_t jc, index_t nc,
                     index_t pc, index_t kc, T beta) {
  // gemm_reference takes (trans, ld); recover them from the strides.
  const bool tA = pr.rsa == 1 && pr.csa != 1, tB = pr.rsb == 1 && pr.csb != 1;
  gemm_reference(tA, tB, mc, nc, kc, pr.alpha, pr.A + ic * pr.rsa + pc * pr.csa,
                 tA ? pr.csa : pr.rsa, pr.B + pc * pr.rsb + jc * pr.csb, tB ? pr.csb : pr.rsb,
                 beta, pr.C + ic * pr.ldc + jc, pr.ldc);
}

// All five loops over the C block [m0, m1) x [n0, n1), on the calling thread.
template <typename T>
void gemm_block(const Problem<T>& pr, index_t m0, index_t m1, index_t n0, index_t n1) {
  const Ukernels<T>& uk = *pr.uk;
  const int NR = uk.nr;
  const index_t KC = pr.blk.kc, MC = pr.blk.mc, NC = pr.blk.nc;
  const index_t kc_max = std::min(KC, pr.K);
  const index_t nc_max = std::min(NC, ((n1 - n0 + NR - 1) / NR) * NR);
  T* Bp = t_pack_b.get<T>(std::size_t(kc_max * nc_max));
  T* Ap = a_buffer(pr, std::min(MC, m1 - m0), kc_max);
  for (index_t jc = n0; jc < n1; jc += NC) {
    const index_t nc = std::min(NC, n1 - jc);
    for (index_t pc = 0; pc < pr.K; pc += KC) {
      const index_t kc = std::min(KC, pr.K - pc);
      const T beta = pc == 0 ? pr.beta : T(1);
      if (!Bp || !Ap) {
        slice_reference(pr, m0, m1 - m0, jc, nc, pc, kc, beta);
        continue;
      }
      uk.pack_b(kc, nc, pr.B + pc * pr.rsb + jc * pr.csb, pr.rsb, pr.csb, Bp);
      for (index_t ic = m0; ic < m1; ic += MC)
        macro_kernel(pr, Bp, jc, nc, pc, kc, beta, ic, std::min(MC, m1 - ic), Ap);
    }
  }
}

// Parallel over the ic loop with one packed B panel shared by all threads (BLIS's choice:
// the B panel sits in the shared L3, each thread packs its own A blocks into its own L2).
// Row tiles are claimed dynamically, several per thread, so a thread that a loaded machine
// deschedules delays the call by one small tile, not by half of the work. Tiles cost no
// duplicated packing: each A row is packed by exactly one tile.
template <typename T>
void gemm_parallel_m(const Problem<T>& pr, int nt) {
  const Ukernels<T>& uk = *pr.uk;
  const index_t MR = uk.mr, NR = uk.nr;
  const index_t KC = pr.blk.kc, MC = pr.blk.mc, NC = pr.blk.nc;
  const index_t kc_max = std::min(KC, pr.K);
  const index_t nc_max = std::min(NC, ((pr.N + NR - 1) / NR) * NR);
  T* Bp = t_pack_b.get<T>(std::size_t(kc_max * nc_max));
  // 6 tiles per thread (more when a tile would exceed MC rows), a multiple of the thread
  // count, the panels dealt out evenly: tiles differ by one MR panel at most. Tiles of a
  // fixed height left one short tile at the end, and with 4 tiles a thread the split
  // could be 4 full tiles against 3 and the short one (at 512^3 float: 288 rows against
  // 224). Measured (alternating runs, 2 threads, float, Zen 5): even tiles 512^3 +6%,
  // 256x256x2048 +4%, 256x1024x1024 +5%, 1024^3 and 2048^3 unchanged; 6 tiles a thread
  // rather than 4: 512^3 +4% more, the rest within the noise.
  const index_t panels = (pr.M + MR - 1) / MR;
  const index_t max_panels = std::max<index_t>(1, MC / MR);
  index_t ntiles = std::max<index_t>(6 * nt, (panels + max_panels - 1) / max_panels);
  ntiles = std::min(panels, (ntiles + nt - 1) / nt * nt);
  const index_t mt = MR * ((panels + ntiles - 1) / ntiles);  // the tallest tile

  struct Job {
    const Problem<T>* pr;
    const T* Bp;
    index_t jc, nc, pc, kc, panels, ntiles, mt;
    T beta;
    std::atomic<index_t> next{0};
  };
  struct PackJob {
    const Problem<T>* pr;
    T* Bp;
    index_t jc, nc, pc, kc;
  };
  for (index_t jc = 0; jc < pr.N; jc += NC) {
    const index_t nc = std::min(NC, pr.N - jc);
    for (index_t pc = 0; pc < pr.K; pc += KC) {
      const index_t kc = std::min(KC, pr.K - pc);
      const T beta = pc == 0 ? pr.beta : T(1);
      if (!Bp) {
        slice_reference(pr, 0, pr.M, jc, nc, pc, kc, beta);
        continue;
      }
      const index_t slivers = (nc + NR - 1) / NR;
      const PackJob pj{&pr, Bp, jc, nc, pc, kc};
      const PackJob* pjp = &pj;
      auto pack = [pjp](index_t s0, index_t s1) {
        const Problem<T>& p = *pjp->pr;
        const index_t nr = p.uk->nr;
        const index_t j0 = s0 * nr, j1 = std::min(pjp->nc, s1 * nr);
        p.uk->pack_b(pjp->kc, j1 - j0, p.B + pjp->pc * p.rsb + (pjp->jc + j0) * p.csb, p.rsb,
                     p.csb, pjp->Bp + j0 * pjp->kc);
      };
      // Packing B is K*N copies against M*N*K multiply-adds: share it only when it is big.
      if (threads_for(stream_ns(double(kc * nc) * 2 * sizeof(T)), slivers) > 1) {
        parallel_for(slivers, pack);
      } else {
        pack(0, slivers);
      }
      Job job{&pr, Bp, jc, nc, pc, kc, panels, ntiles, mt, beta};
      Job* jp = &job;
      parallel_for(nt, [jp](index_t, index_t) {
        const Problem<T>& p = *jp->pr;
        const index_t MRp = p.uk->mr;
        T* Ap = a_buffer(p, jp->mt, jp->kc);
        for (index_t t; (t = jp->next.fetch_add(1, std::memory_order_relaxed)) < jp->ntiles;) {
          const index_t ic = MRp * (t * jp->panels / jp->ntiles);
          const index_t mc = std::min(p.M, MRp * ((t + 1) * jp->panels / jp->ntiles)) - ic;
          if (Ap) {
            macro_kernel(p, jp->Bp, jp->jc, jp->nc, jp->pc, jp->kc, jp->beta, ic, mc, Ap);
          } else {
            slice_reference(p, ic, mc, jp->jc, jp->nc, jp->pc, jp->kc, jp->beta);
          }
        }
      });
    }
  }
}

// Small products with row-major B: no packing at all. The table's tile kernel reads A in
// place (through its rows, or its columns when transposed) and B in place (rows ldb apart);
// K <= KC, so the whole product is one pass of the jr and ir loops. Packing would copy
// K*(M+N) values to gain nothing: operands this small stay in L1/L2 anyway.
template <typename T>
void gemm_small(const Problem<T>& pr, index_t m0, index_t m1) {
  const Ukernels<T>& uk = *pr.uk;
  const index_t MR = uk.mr, NR = uk.nr;
  for (index_t jr = 0; jr < pr.N; jr += NR) {
    const index_t nr = std::min(NR, pr.N - jr);
    for (index_t ir = m0; ir < m1; ir += MR) {
      uk.tile(std::min(MR, m1 - ir), nr, pr.K, pr.alpha, pr.A + ir * pr.rsa, pr.rsa, pr.csa,
              pr.B + jr, pr.rsb, pr.beta, pr.C + ir * pr.ldc + jr, pr.ldc);
    }
  }
}

// One fork-join, each thread running all five loops on its own block of whole panels, with
// its own packing buffers: a block of columns (`columns`: each thread packs its B panels and
// all of A) or of rows (each packs all of B).
template <typename T>
void gemm_parallel_blocks(const Problem<T>& pr, int nt, bool columns) {
  struct Job {
    const Problem<T>* pr;
    bool columns;
    index_t width, extent, panels;  // panel width, and the extent split: N or M
    int nt;
  };
  const index_t width = columns ? pr.uk->nr : pr.uk->mr, extent = columns ? pr.N : pr.M;
  const Job job{&pr, columns, width, extent, (extent + width - 1) / width, nt};
  const Job* jp = &job;
  parallel_for(nt, [jp](index_t b, index_t e) {
    const Problem<T>& p = *jp->pr;
    const index_t i0 = std::min(jp->extent, jp->width * (jp->panels * b / jp->nt));
    const index_t i1 = std::min(jp->extent, jp->width * (jp->panels * e / jp->nt));
    if (i0 >= i1) return;
    if (jp->columns) {
      gemm_block(p, 0, p.M, i0, i1);
    } else {
      gemm_block(p, i0, i1, 0, p.N);
    }
  });
}

// M == 1 or N == 1: matrix-vector products (see Ukernels::gemv_rows / gemv_cols).
// Threads split the output vector in blocks of 64 elements when the matrix is large.
template <typename T>
void gemm_vector(const Ukernels<T>& uk, bool transA, bool transB, index_t M, index_t N,
                 index_t K, T alpha, const T* A, index_t lda, const T* B, index_t ldb, T beta,
                 T* C, index_t ldc) {
  struct Job {
    const Ukernels<T>* uk;
    bool rows;  // gemv_rows over [0, n) else gemv_cols
    index_t n, k;
    T alpha;
    const T* a;
    index_t lda;
    const T* x;
    index_t incx;
    T beta;
    T* y;
    index_t incy;
    void run(index_t j0, index_t j1) const {
      if (j0 >= j1) return;
      if (rows) {
        uk->gemv_rows(j1 - j0, k, alpha, a + j0 * lda, lda, x, beta, y + j0 * incy, incy);
      } else {
        uk->gemv_cols(k, j1 - j0, alpha, a + j0, lda, x, incx, beta, y + j0);
      }
    }
  };
  // A strided vector operand of gemv_rows is copied once to be contiguous; a strided
  // output of gemv_cols goes through a contiguous temporary.
  auto contiguous = [&](const T* v, index_t n, index_t inc) -> const T* {
    if (inc == 1) return v;
    T* buf = t_pack_b.get<T>(std::size_t(n));
    if (!buf) return nullptr;
    for (index_t i = 0; i < n; ++i) buf[i] = v[i * inc];
    return buf;
  };
  Job job{&uk, false, 0, K, alpha, nullptr, 0, nullptr, 1, beta, nullptr, 1};
  T* tmp = nullptr;
  if (N == 1 && !transA) {  // c(i) = A(i, :)·op(B)(:, 0): dots over the rows of A
    job.rows = true, job.n = M, job.a = A, job.lda = lda, job.y = C, job.incy = ldc;
    job.x = contiguous(B, K, transB ? 1 : ldb);
  } else if (N == 1) {  // op(A) = A^T: c = sum_p b(p) A(p, :)
    job.n = M, job.a = A, job.lda = lda, job.x = B, job.incx = transB ? 1 : ldb;
    job.y = C;
    if (ldc != 1) {
      tmp = t_pack_a.get<T>(std::size_t(M));
      job.y = tmp, job.beta = T(0);
    }
  } else if (!transB) {  // M == 1: c = sum_p a(p) B(p, :)
    job.n = N, job.a = B, job.lda = ldb, job.x = A, job.incx = transA ? lda : 1, job.y = C;
  } else {  // M == 1, op(B) = B^T: c(j) = B(j, :)·a
    job.rows = true, job.n = N, job.a = B, job.lda = ldb, job.y = C, job.incy = 1;
    job.x = contiguous(A, K, transA ? lda : 1);
  }
  if (!job.x || !job.y) {  // out of memory for the copies
    gemm_reference(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  const index_t blocks = (job.n + 63) / 64;
  const double serial_ns = stream_ns(double(job.n) * double(K) * sizeof(T));
  if (threads_for(serial_ns, blocks) > 1) {
    const Job* jp = &job;
    parallel_for(blocks, [jp](index_t b0, index_t b1) {
      jp->run(b0 * 64, std::min(jp->n, b1 * 64));
    });
  } else {
    job.run(0, job.n);
  }
  if (tmp) {
    for (index_t i = 0; i < M; ++i)
      C[i * ldc] = beta == T(0) ? tmp[i] : tmp[i] + beta * C[i * ldc];
  }
}

}  // namespace

// The blocking model (after Low et al., "Analytical modeling is enough for high-performance
// BLIS", TOMS 2016). S is the element size, W the associativity.
//   KC: between two uses of one line of the B sliver (the same k step in consecutive ir
//       calls) the micro-kernel touches the whole sliver (KC x NR) and one A micro-panel
//       (MR x KC); both must stay in L1, one way left for the C tile and the stack:
//       KC = L1 (W-1)/W / ((NR + MR) S), rounded down to a multiple of 16.
//   MC: the packed A block (MC x KC) is reused by every sliver of the jr loop; it gets half
//       of L2 (the B slivers and the C tiles stream through the other half):
//       MC = L2 / 2 / (KC S), rounded down to a multiple of MR.
//   NC: the packed B panel (KC x NC) is reused by every ic block; it gets half of one
//       core's share of the L3: NC = L3 / sharers / 2 / (KC S), a multiple of NR.
// E.g. AMD Zen 5 (48 KiB 12-way L1d, 1 MiB L2, 32 MiB L3 for 2 cores): float 12x32
// KC 256, MC 504, NC 8192; double 12x16 KC 192, MC 336, NC 5456.
gemm_detail::Blocking gemm_detail::blocking_for(int mr, int nr, int bytes,
                                                const CacheInfo& caches) {
  const double S = bytes;
  const double ways = caches.l1d_ways > 1 ? caches.l1d_ways : 8;
  const double l1 = double(caches.l1d) * (ways - 1) / ways;
  index_t kc = index_t(l1 / ((nr + mr) * S)) / 16 * 16;
  kc = std::clamp<index_t>(kc, 32, 1024);
  index_t mc = index_t(double(caches.l2) / 2 / (double(kc) * S)) / mr * mr;
  mc = std::clamp<index_t>(mc, mr, index_t(8192) / mr * mr);
  const double l3 = caches.l3 > 0 ? double(caches.l3) / std::max(1, caches.l3_shared_by)
                                  : double(caches.l2);
  index_t nc = index_t(l3 / 2 / (double(kc) * S)) / nr * nr;
  nc = std::clamp<index_t>(nc, 4 * index_t(nr), index_t(16384) / nr * nr);
  return Blocking{kc, mc, nc};
}

void gemm_detail::set_test_blocking(index_t kc, index_t mc, index_t nc) {
  g_test_kc.store(kc, std::memory_order_relaxed);
  g_test_mc.store(mc, std::memory_order_relaxed);
  g_test_nc.store(nc, std::memory_order_relaxed);
}

void gemm_detail::set_test_tables(const Ukernels<float>* f32, const Ukernels<double>* f64) {
  g_test_f32.store(f32, std::memory_order_relaxed);
  g_test_f64.store(f64, std::memory_order_relaxed);
}

template <typename T>
void gemm(bool transA, bool transB, index_t M, index_t N, index_t K, T alpha, const T* A,
          index_t lda, const T* B, index_t ldb, T beta, T* C, index_t ldc) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == T(0)) {
    scale_c(M, N, beta, C, ldc);
    return;
  }
  const index_t rsa = transA ? 1 : lda, csa = transA ? lda : 1;
  const index_t rsb = transB ? 1 : ldb, csb = transB ? ldb : 1;
  const index_t work = M * N * K;
  if (work <= kTinyWork) {
    gemm_tiny(M, N, K, alpha, A, rsa, csa, B, rsb, csb, beta, C, ldc);
    return;
  }

  if (M == 1 || N == 1) {
    gemm_vector(kernels_for<T>(active_isa()), transA, transB, M, N, K, alpha, A, lda, B, ldb,
                beta, C, ldc);
    return;
  }

  const Ukernels<T>& uk = kernels_for<T>(active_isa());
  Problem<T> pr{&uk, blocking<T>(uk), M, N, K, alpha, A, rsa, csa, B, rsb, csb, beta, C, ldc,
                false};
  const index_t MR = uk.mr, NR = uk.nr;
  pr.direct_a = N <= kDirectAMaxN && (!transA || uk.tile);

  // Each thread needs two panels of rows (or columns) at least.
  const index_t mpanels = (M + MR - 1) / MR, npanels = (N + NR - 1) / NR;
  const double serial_ns = fma_ns<T>(double(work));

  if (uk.tile && !transB && K <= pr.blk.kc && work <= kSmallWork &&
      double((M * K + K * ldb) * index_t(sizeof(T))) <= 0.5 * double(cache_info().l2)) {
    const int nt = threads_for(serial_ns, mpanels / 2);
    if (nt <= 1) {
      gemm_small(pr, 0, M);
    } else {
      const Problem<T>* p = &pr;
      parallel_for(nt, [p, mpanels, nt](index_t b, index_t e) {
        const index_t MRp = p->uk->mr;
        gemm_small(*p, std::min(p->M, MRp * (mpanels * b / nt)),
                   std::min(p->M, MRp * (mpanels * e / nt)));
      });
    }
    return;
  }

  const int nt = threads_for(serial_ns, std::max(mpanels, npanels) / 2);
  // gemm_parallel_m joins the threads twice per KC slice: when a slice's share is worth
  // less than kJoinsShare hand-offs (few rows, deep K: the weight gradients dU·Hᵀ), the
  // rows are split once instead, each thread packing its own B panels.
  const index_t slices = (K + pr.blk.kc - 1) / pr.blk.kc;
  const bool few_joins = slices > 1 && serial_ns / double(slices * nt) < kJoinsShare * handoff_ns();
  // At least as many columns as rows: split the columns (each thread packs its own B
  // panels and the whole of A, the smaller operand). Measured against the shared B panel
  // of gemm_parallel_m (2 threads, float, alternating runs on Zen 5, K 512-2048):
  // 128x4096 +10%, 256x1024 +5%, 256x256x2048 NT +12%, square shapes within 1%; with more
  // rows than columns the row split stays ahead (2048x256: 468 against 445 GFLOP/s).
  if (nt > 1 && npanels >= 2 * nt && N >= M) {
    gemm_parallel_blocks(pr, nt, true);
  } else if (nt > 1 && mpanels >= 2 * nt && few_joins) {
    gemm_parallel_blocks(pr, nt, false);
  } else if (nt > 1 && mpanels >= 2 * nt) {
    gemm_parallel_m(pr, nt);
  } else if (nt > 1 && npanels >= 2 * nt) {
    gemm_parallel_blocks(pr, nt, true);
  } else {
    gemm_block(pr, 0, M, 0, N);
  }
}

template void gemm<float>(bool, bool, index_t, index_t, index_t, float, const float*, index_t,
                          const float*, index_t, float, float*, index_t);
template void gemm<double>(bool, bool, index_t, index_t, index_t, double, const double*,
                           index_t, const double*, index_t, double, double*, index_t);

}  // namespace nrnn
