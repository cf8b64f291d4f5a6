// The thread pool and CPU dispatch (runtime.h): parallel_for covers [0, n) exactly once in
// at most num_threads() chunks; NATIVE_RNN_NUM_THREADS sets the default; nested calls and
// calls from several threads at once run inline instead of waiting or oversubscribing;
// resizing works; gemm from concurrent threads stays right; the process exits cleanly with
// live workers (this test ends that way, also under ASan). Also: the cache sizes read at
// load time and the gemm blocking derived from them, the FMA peak loop, and the threading
// policy's answers at its extremes (no timing is asserted: only what holds on any machine).
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

#include "kernels/gemm_internal.h"
#include "kernels/kernels.h"
#include "kernels/runtime.h"

using nrnn::index_t;

namespace {

int g_failures = 0;
int g_checks = 0;

void check(bool ok, const char* what) {
  ++g_checks;
  if (!ok) {
    ++g_failures;
    std::printf("FAIL %s\n", what);
  }
}

// Every index of [0, n) visited exactly once, in at most num_threads() chunks.
bool covers_once(index_t n) {
  std::vector<std::atomic<int>> hits(std::size_t(n > 0 ? n : 0));
  std::atomic<int> chunks{0};
  nrnn::parallel_for(n, [&](index_t b, index_t e) {
    chunks.fetch_add(1);
    for (index_t i = b; i < e; ++i) hits[std::size_t(i)].fetch_add(1);
  });
  for (auto& h : hits)
    if (h.load() != 1) return false;
  return n <= 0 ? chunks.load() == 0 : chunks.load() <= nrnn::num_threads();
}

}  // namespace

int main() {
  // Read at first use: set it before anything touches the pool.
  setenv("NATIVE_RNN_NUM_THREADS", "3", 1);
  check(nrnn::num_threads() == 3, "NATIVE_RNN_NUM_THREADS sets the default thread count");

  // Dispatch: the active path is the detected one; unsupported paths are refused.
  check(nrnn::active_isa() == nrnn::detected_isa(), "active isa starts as detected");
  check(nrnn::set_isa(nrnn::Isa::Generic), "the portable path is always available");
  check(nrnn::set_isa(nrnn::detected_isa()), "the detected path can be restored");
  if (nrnn::detected_isa() != nrnn::Isa::Avx512)
    check(!nrnn::set_isa(nrnn::Isa::Avx512) && nrnn::active_isa() == nrnn::detected_isa(),
          "set_isa(Avx512) fails without AVX-512 and changes nothing");

  for (int t : {1, 2, 3, 4, 1, 2}) {
    nrnn::set_num_threads(t);
    check(nrnn::num_threads() == t, "set_num_threads");
    for (index_t n : {0, 1, 2, 3, 5, 64, 1000}) check(covers_once(n), "parallel_for coverage");
  }
  nrnn::set_num_threads(0);
  check(nrnn::num_threads() == 1, "set_num_threads clamps to >= 1");

  // Nested: a parallel_for inside a job runs inline (the pool is busy) and completes.
  nrnn::set_num_threads(2);
  {
    std::atomic<long> sum{0};
    nrnn::parallel_for(4, [&](index_t b, index_t e) {
      for (index_t i = b; i < e; ++i)
        nrnn::parallel_for(100, [&](index_t b2, index_t e2) { sum.fetch_add(e2 - b2); });
    });
    check(sum.load() == 400, "nested parallel_for");
  }

  // A job that throws: the call still joins every chunk, rethrows on the caller, and
  // leaves the pool usable.
  {
    bool caught = false;
    try {
      nrnn::parallel_for(2, [&](index_t b, index_t) {
        if (b == 1) throw std::runtime_error("chunk 1");
      });
    } catch (const std::runtime_error&) {
      caught = true;
    }
    check(caught, "an exception in a chunk reaches the caller");
    check(covers_once(100), "pool usable after an exception");
  }

  // Many callers at once (libuv's worker threads): each call completes exactly once.
  {
    std::atomic<long> sum{0};
    std::vector<std::thread> callers;
    for (int c = 0; c < 4; ++c)
      callers.emplace_back([&] {
        for (int k = 0; k < 2000; ++k)
          nrnn::parallel_for(8, [&](index_t b, index_t e) { sum.fetch_add(e - b); });
      });
    for (auto& th : callers) th.join();
    check(sum.load() == 4L * 2000 * 8, "concurrent parallel_for callers");
  }

  // Concurrent gemms on the pool (one gets it, the other runs inline): both exact.
  {
    const index_t M = 150, N = 70, K = 300;
    std::mt19937 rng(3);
    std::uniform_real_distribution<double> u(-1, 1);
    std::vector<double> A(M * K), B(K * N), want(M * N);
    for (auto& x : A) x = u(rng);
    for (auto& x : B) x = u(rng);
    nrnn::gemm_reference<double>(false, false, M, N, K, 1.0, A.data(), K, B.data(), N, 0.0,
                                 want.data(), N);
    std::atomic<int> bad{0};
    std::vector<std::thread> callers;
    for (int c = 0; c < 3; ++c)
      callers.emplace_back([&] {
        std::vector<double> C(M * N);
        for (int k = 0; k < 20; ++k) {
          nrnn::gemm<double>(false, false, M, N, K, 1.0, A.data(), K, B.data(), N, 0.0,
                             C.data(), N);
          for (index_t i = 0; i < M * N; ++i)
            if (std::fabs(C[i] - want[i]) > 1e-11) bad.fetch_add(1);
        }
      });
    for (auto& th : callers) th.join();
    check(bad.load() == 0, "concurrent gemm calls");
  }

  // Caches: what was read is plausible for any CPU (the sources fall back to defaults).
  {
    const nrnn::CacheInfo& ci = nrnn::cache_info();
    std::printf("caches (%s): L1d %lld KiB %d-way, L2 %lld KiB, L3 %lld KiB shared by %d\n",
                ci.source, (long long)ci.l1d >> 10, ci.l1d_ways, (long long)ci.l2 >> 10,
                (long long)ci.l3 >> 10, ci.l3_shared_by);
    check(ci.l1d >= (8 << 10) && ci.l1d <= (4 << 20), "L1d size plausible");
    check(ci.l2 >= (64 << 10) && ci.l2 >= ci.l1d, "L2 size plausible");
    check(ci.l3 == 0 || ci.l3 >= ci.l2 || ci.l3_shared_by <= 1, "L3 size plausible");
  }

  // Blocking: for several cache configurations and every tile of the tables, the derived
  // KC, MC, NC meet the model's constraints (B sliver + A micro-panel in L1, A block in
  // half of L2, multiples of 16 / MR / NR).
  {
    struct Caches {
      long long l1, l2, l3;
      int ways, shared;
    };
    const Caches configs[] = {{48 << 10, 1 << 20, 32 << 20, 12, 2},   // Zen 5 (this VM)
                              {32 << 10, 1 << 20, 22 << 20, 8, 16},   // Skylake-SP
                              {32 << 10, 512 << 10, 32 << 20, 8, 16},  // Zen 3
                              {16 << 10, 256 << 10, 0, 4, 0}};        // small, no L3
    const int tiles[][2] = {{4, 8}, {4, 4}, {6, 16}, {6, 8}, {12, 32}, {12, 16}};
    bool ok = true;
    for (const Caches& c : configs) {
      nrnn::CacheInfo ci;
      ci.l1d = c.l1, ci.l2 = c.l2, ci.l3 = c.l3, ci.l1d_ways = c.ways, ci.l3_shared_by = c.shared;
      for (const auto& t : tiles)
        for (int bytes : {4, 8}) {
          const int mr = t[0], nr = t[1];
          const auto b = nrnn::gemm_detail::blocking_for(mr, nr, bytes, ci);
          const long long l1_use = (long long)b.kc * (mr + nr) * bytes;
          ok = ok && b.kc >= 32 && b.kc % 16 == 0 && (b.kc == 32 || l1_use <= c.l1);
          ok = ok && b.mc >= mr && b.mc % mr == 0 &&
               (b.mc == mr || (long long)b.mc * b.kc * bytes <= c.l2 / 2);
          ok = ok && b.nc >= nr && b.nc % nr == 0;
        }
    }
    check(ok, "blocking_for meets the model's constraints");
    const auto zen5 = nrnn::gemm_detail::blocking_for(12, 32, 4, [] {
      nrnn::CacheInfo ci;
      ci.l1d = 48 << 10, ci.l2 = 1 << 20, ci.l3 = 32 << 20, ci.l1d_ways = 12, ci.l3_shared_by = 2;
      return ci;
    }());
    check(zen5.kc == 256 && zen5.mc == 504 && zen5.nc == 8192,
          "blocking_for: the Zen 5 float example of gemm.cc");
  }

  // The FMA peak: positive on every path the CPU has, 0 on the others.
  for (nrnn::Isa isa : {nrnn::Isa::Generic, nrnn::Isa::Avx2, nrnn::Isa::Avx512}) {
    const bool has = static_cast<int>(isa) <= static_cast<int>(nrnn::detected_isa());
    for (bool f64 : {false, true}) {
      const double g = nrnn::measure_fma_peak(isa, f64, 2, 0.002);
      if (has) std::printf("FMA peak %s %s 2 threads: %.1f GFLOP/s\n", nrnn::isa_name(isa),
                           f64 ? "double" : "float", g);
      check(has ? g > 0 : g == 0, "measure_fma_peak");
    }
  }

  // The threading policy: one thread for work that cannot repay any hand-off, all of them
  // for seconds of work, never more than the parts or the threads, one with one thread.
  {
    nrnn::set_num_threads(2);
    check(nrnn::handoff_ns() > 0, "handoff_ns is measured");
    check(nrnn::threads_for(1.0, 1000) == 1, "threads_for: 1 ns of work stays on one thread");
    check(nrnn::threads_for(1e10, 1000) == 2, "threads_for: 10 s of work uses both threads");
    check(nrnn::threads_for(1e10, 1) == 1, "threads_for: never more threads than parts");
    nrnn::set_num_threads(1);
    check(nrnn::threads_for(1e10, 1000) == 1, "threads_for: one thread set");
    nrnn::set_num_threads(2);
    bool inner = true;
    nrnn::parallel_for(2, [&](index_t, index_t) {
      if (nrnn::threads_for(1e10, 1000) != 1) inner = false;
    });
    check(inner, "threads_for inside a job (the pool is busy): one thread");
    check(nrnn::fma_ns<float>(1e6) > 0 && nrnn::fma_ns<double>(1e6) > nrnn::fma_ns<float>(1e6) * 0.99,
          "fma_ns: positive, double no faster than float");
    check(nrnn::stream_ns(1e6) > 0, "stream_ns positive");
  }

  // The kernels whose thread split the policy decides give the same answer split as on one
  // thread: Adam bit for bit (elementwise), the recurrence within rounding (its row tiles'
  // products may take another gemm path than the whole).
  {
    std::mt19937 rng(11);
    std::uniform_real_distribution<double> u(-1, 1);
    auto run_adam = [&](bool split) {
      const index_t n = 100003;
      std::mt19937 r2(5);
      std::vector<float> p(n), g(n), m(n), v(n);
      for (index_t i = 0; i < n; ++i) p[i] = float(u(r2)), g[i] = float(u(r2)), v[i] = 0.1f;
      nrnn::set_num_threads(split ? 2 : 1);
      nrnn::set_test_always_parallel(split);
      nrnn::adam_update<float>(n, p.data(), g.data(), m.data(), v.data(), 1e-2f, 0.9f, 0.999f,
                               1e-8f, 0.01f, true, 3);
      nrnn::set_test_always_parallel(false);
      return p;
    };
    check(run_adam(true) == run_adam(false), "adam_update split over threads: same bits");

    const index_t n_x = 40, n_c = 70, T = 4, m = 9;
    std::vector<double> X(n_x * T * m), Wx(n_c * n_x), Wc(n_c * n_c), b(n_c), dC(n_c * T * m);
    for (auto* vec : {&X, &Wx, &Wc, &b, &dC})
      for (auto& x : *vec) x = 0.3 * u(rng);
    auto run_rnn = [&](bool split) {
      nrnn::set_num_threads(split ? 2 : 1);
      nrnn::set_test_always_parallel(split);
      std::vector<double> H(n_c * (T + 1) * m, 0.0), dU(n_c * T * m), dWx(n_c * n_x, 0.0),
          dWc(n_c * n_c, 0.0), db(n_c, 0.0), dX(n_x * T * m, 0.0), dc0(n_c * m, 0.0);
      nrnn::rnn_forward<double>(nrnn::Activation::Tanh, n_x, n_c, T, m, X.data(), nullptr,
                                Wx.data(), Wc.data(), b.data(), H.data());
      nrnn::rnn_backward<double>(nrnn::Activation::Tanh, n_x, n_c, T, m, X.data(), nullptr,
                                 H.data(), Wx.data(), Wc.data(), dC.data(), dU.data(),
                                 dWx.data(), dWc.data(), db.data(), dX.data(), dc0.data());
      nrnn::set_test_always_parallel(false);
      std::vector<double> all = H;
      for (auto* vec : {&dWx, &dWc, &db, &dX, &dc0}) all.insert(all.end(), vec->begin(), vec->end());
      return all;
    };
    const std::vector<double> one = run_rnn(false), two = run_rnn(true);
    double worst = 0;
    for (std::size_t i = 0; i < one.size(); ++i) worst = std::max(worst, std::fabs(one[i] - two[i]));
    check(worst <= 1e-12, "rnn_forward/backward split over threads: same within rounding");
    nrnn::set_num_threads(2);
  }

  // Leave workers alive (spinning, then asleep) at exit: the process must still end.
  nrnn::set_num_threads(3);
  check(covers_once(10), "pool alive at exit");
  std::printf("test_runtime: %d checks, %d failed\n", g_checks, g_failures);
  return g_failures == 0 ? 0 : 1;
}
