// gemm against gemm_reference on every ISA path this CPU supports (forced with set_isa),
// with 1 and 2 threads, float and double, all four transpose combinations, shapes that
// straddle every block size (MR, NR of every table; KC, MC, NC as derived from this CPU's
// caches and, in a second pass, forced small and odd so that modest shapes cross each of
// them several times), padded leading dimensions, and alpha/beta variants including
// beta = 0 over a C full of NaN. With 2 threads the threading policy is told to split
// every product it can (set_test_always_parallel), so the parallel paths run on any machine.
//
// Buffers are sized exactly (no slack past the last element) so that AddressSanitizer
// catches any read past an operand; the padding between rows holds NaN in A and B (a
// kernel that reads it poisons its result) and a sentinel in C (a write there is caught).
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/gemm_internal.h"
#include "kernels/kernels.h"
#include "kernels/runtime.h"

using nrnn::index_t;

namespace {

int g_failures = 0;
long g_cases = 0;

struct Shape {
  index_t M, N, K;
};

// A (rows x cols) view with leading dimension ld, sized exactly (rows-1)*ld + cols.
template <typename T>
std::vector<T> make_matrix(index_t rows, index_t cols, index_t ld, T pad, std::mt19937& rng) {
  std::vector<T> m(rows == 0 || cols == 0 ? 0 : std::size_t((rows - 1) * ld + cols), pad);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  for (index_t i = 0; i < rows; ++i)
    for (index_t j = 0; j < cols; ++j) m[std::size_t(i * ld + j)] = T(u(rng));
  return m;
}

template <typename T>
const char* type_name() {
  return sizeof(T) == 4 ? "float" : "double";
}

// One case: returns true on success, prints the largest error and where otherwise.
template <typename T>
bool check_case(bool tA, bool tB, Shape s, index_t pad, T alpha, T beta, bool nan_c,
                std::mt19937& rng, const std::string& label) {
  const index_t M = s.M, N = s.N, K = s.K;
  const index_t arows = tA ? K : M, acols = tA ? M : K;
  const index_t brows = tB ? N : K, bcols = tB ? K : N;
  const index_t lda = std::max<index_t>(acols + pad, 1), ldb = std::max<index_t>(bcols + pad, 1),
                ldc = std::max<index_t>(N + pad, 1);
  const T nan = std::numeric_limits<T>::quiet_NaN();
  const T sentinel = T(12345.0);
  std::vector<T> A = make_matrix<T>(arows, acols, lda, nan, rng);
  std::vector<T> B = make_matrix<T>(brows, bcols, ldb, nan, rng);
  std::vector<T> C0 = make_matrix<T>(M, N, ldc, sentinel, rng);
  if (nan_c)
    for (index_t i = 0; i < M; ++i)
      for (index_t j = 0; j < N; ++j) C0[std::size_t(i * ldc + j)] = nan;
  std::vector<T> got = C0, want = C0;
  nrnn::gemm<T>(tA, tB, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, got.data(), ldc);
  nrnn::gemm_reference<T>(tA, tB, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta,
                          want.data(), ldc);

  // Error bound per element: rounding of K products and sums, relative to the sum of
  // magnitudes (|alpha| sum_p |a||b| + |beta c|), as in the standard gemm error analysis.
  const double eps = std::numeric_limits<T>::epsilon();
  double worst = 0.0;
  index_t wi = -1, wj = -1;
  bool bad = false;
  for (index_t i = 0; i < M && !bad; ++i) {
    for (index_t j = 0; j < N; ++j) {
      const std::size_t at = std::size_t(i * ldc + j);
      double mag = 0.0;
      for (index_t p = 0; p < K; ++p) {
        const double a = A[std::size_t(tA ? p * lda + i : i * lda + p)];
        const double b = B[std::size_t(tB ? j * ldb + p : p * ldb + j)];
        mag += std::fabs(a * b);
      }
      mag = std::fabs(double(alpha)) * mag;
      if (beta != T(0)) mag += std::fabs(double(beta) * double(C0[at]));
      const double tol = 4.0 * double(K + 2) * eps * mag + 4 * std::numeric_limits<T>::min();
      const double g = got[at], w = want[at];
      const double err = std::fabs(g - w);
      if (!(err <= tol)) {  // also catches NaN
        bad = true;
        wi = i, wj = j, worst = err;
        std::printf("FAIL %s %s: C[%lld,%lld] got %.9g want %.9g (err %.3g tol %.3g)\n",
                    label.c_str(), type_name<T>(), (long long)i, (long long)j, g, w, err, tol);
        break;
      }
      worst = std::max(worst, err);
    }
  }
  // The padding of C must be untouched.
  for (index_t i = 0; i < M && !bad; ++i)
    for (index_t j = N; j < ldc && i * ldc + j < index_t(got.size()); ++j)
      if (!(got[std::size_t(i * ldc + j)] == sentinel)) {
        bad = true;
        std::printf("FAIL %s %s: wrote C padding at [%lld,%lld]\n", label.c_str(),
                    type_name<T>(), (long long)i, (long long)j);
        break;
      }
  (void)wi, (void)wj, (void)worst;
  ++g_cases;
  if (bad) ++g_failures;
  return !bad;
}

// full: every shape, pad and alpha/beta variant; else the shapes up to 400k multiply-adds
// with one pad and three variants (the pass under forced small blocking).
template <typename T>
void run_suite(const std::string& prefix, std::mt19937& rng, bool full = true) {
  // Boundaries of every table: MR in {4, 6, 12} (every remainder of 12 among the M), NR in
  // {4, 8, 16, 32}; KC, MC, NC as derived here (e.g. 256/504/8192 on a Zen 5) and forced
  // small by the caller; the skinny-N path switches at N = 128.
  const std::vector<Shape> shapes = {
      {1, 1, 1},     {1, 37, 19},    {37, 1, 19},    {1, 1, 300},    {6, 16, 0},
      {17, 31, 13},  {257, 129, 65}, {5, 15, 3},     {6, 16, 8},     {7, 17, 9},
      {11, 31, 5},   {12, 32, 7},    {13, 33, 9},    {3, 200, 41},   {200, 3, 41},
      {23, 9, 191},  {25, 17, 192},  {19, 33, 193},  {13, 20, 255},  {14, 64, 256},
      {15, 65, 257}, {71, 24, 30},   {72, 48, 40},   {73, 63, 50},   {143, 50, 20},
      {144, 130, 21}, {145, 129, 22}, {150, 128, 520}, {97, 66, 385}, {40, 300, 300}, {64, 32, 64},
      {256, 64, 256}, {7, 4097, 9},   {5, 4112, 3},  {1, 300, 700}, {500, 1, 300},
      {1, 1, 5000},  {1, 70, 33},     {45, 1, 77},   {4, 4, 4},      {2, 3, 5},
      {22, 45, 33},  {10, 17, 70},    {34, 100, 41}};
  const std::vector<index_t> pads = {0, 3};
  struct AB {
    double alpha, beta;
    bool nan_c;
  };
  const std::vector<AB> abs = {{1, 0, true}, {1, 1, false}, {-0.5, 2.5, false},
                               {0, 0.5, false}, {2, 0, true}};
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb)
      for (const Shape& s : shapes)
        for (index_t pad : pads)
          for (const AB& ab : abs) {
            // The largest shapes with one pad and two alpha/beta variants are enough.
            const bool big = s.M * s.N * s.K > 400000;
            if (big && (!full || pad != 3 || (ab.alpha != 1 && ab.alpha != -0.5))) continue;
            if (!full && (pad != 3 || ab.alpha == 0 || ab.alpha == 2)) continue;
            char buf[200];
            std::snprintf(buf, sizeof buf, "%s %c%c M=%lld N=%lld K=%lld pad=%lld a=%g b=%g%s",
                          prefix.c_str(), ta ? 'T' : 'N', tb ? 'T' : 'N', (long long)s.M,
                          (long long)s.N, (long long)s.K, (long long)pad, ab.alpha, ab.beta,
                          ab.nan_c ? " C=NaN" : "");
            check_case<T>(ta, tb, s, pad, T(ab.alpha), T(ab.beta), ab.nan_c, rng, buf);
          }
}

}  // namespace

int main() {
  std::mt19937 rng(20240601);
  const nrnn::Isa detected = nrnn::detected_isa();
  std::string isas;
  for (nrnn::Isa isa : {nrnn::Isa::Generic, nrnn::Isa::Avx2, nrnn::Isa::Avx512}) {
    const bool supported = static_cast<int>(isa) <= static_cast<int>(detected);
    if (nrnn::set_isa(isa) != supported) {
      std::printf("FAIL set_isa(%s) returned %d on a CPU whose best path is %s\n",
                  nrnn::isa_name(isa), int(!supported), nrnn::isa_name(detected));
      ++g_failures;
    }
    if (!supported) continue;
    if (nrnn::active_isa() != isa) {
      std::printf("FAIL active_isa() is not %s after set_isa\n", nrnn::isa_name(isa));
      ++g_failures;
    }
    isas += std::string(isas.empty() ? "" : ",") + nrnn::isa_name(isa);
    for (int threads : {1, 2}) {
      // With 2 threads every product that can be split is (whatever this machine's
      // hand-off costs), so that each parallel path runs.
      nrnn::set_num_threads(threads);
      nrnn::set_test_always_parallel(threads > 1);
      const std::string prefix =
          std::string(nrnn::isa_name(isa)) + " threads=" + std::to_string(threads);
      run_suite<float>(prefix, rng);
      run_suite<double>(prefix, rng);
      // KC 37 (not a multiple of the unroll, just above the C-prefetch distance of the
      // AVX-512 kernel) and 20 (below it); MC and NC a few panels, not powers of two.
      for (const index_t kc : {37, 20}) {
        nrnn::gemm_detail::set_test_blocking(kc, 40, 100);
        const std::string p2 = prefix + " blocking=" + std::to_string(kc) + ",40,100";
        run_suite<float>(p2, rng, false);
        run_suite<double>(p2, rng, false);
      }
      nrnn::gemm_detail::set_test_blocking(0, 0, 0);
    }
  }
  nrnn::set_isa(detected);
  nrnn::set_test_always_parallel(false);
#if defined(__x86_64__)
  // The AVX-512 tile geometry through the driver, on AVX2 registers (see gemm_internal.h):
  // the AVX-512 path shares this template and driver; only its traits differ.
  if (static_cast<int>(detected) >= static_cast<int>(nrnn::Isa::Avx2)) {
    nrnn::gemm_detail::set_test_tables(&nrnn::gemm_detail::kAvx2F32Wide,
                                       &nrnn::gemm_detail::kAvx2F64Wide);
    for (int threads : {1, 2}) {
      nrnn::set_num_threads(threads);
      nrnn::set_test_always_parallel(threads > 1);
      const std::string prefix = "avx512-geometry threads=" + std::to_string(threads);
      run_suite<float>(prefix, rng);
      run_suite<double>(prefix, rng);
    }
    nrnn::gemm_detail::set_test_tables(nullptr, nullptr);
    nrnn::set_test_always_parallel(false);
    isas += ",avx512-geometry-on-avx2";
  }
#endif
  std::printf("test_gemm: %ld cases, %d failed (isa paths: %s; threads 1,2; float,double)\n",
              g_cases, g_failures, isas.c_str());
  return g_failures == 0 ? 0 : 1;
}
