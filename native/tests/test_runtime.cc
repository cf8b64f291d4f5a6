// The thread pool and CPU dispatch (runtime.h): parallel_for covers [0, n) exactly once in
// at most num_threads() chunks; NATIVE_RNN_NUM_THREADS sets the default; nested calls and
// calls from several threads at once run inline instead of waiting or oversubscribing;
// resizing works; gemm from concurrent threads stays right; the process exits cleanly with
// live workers (this test ends that way, also under ASan).
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

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

  // Leave workers alive (spinning, then asleep) at exit: the process must still end.
  nrnn::set_num_threads(3);
  check(covers_once(10), "pool alive at exit");
  std::printf("test_runtime: %d checks, %d failed\n", g_checks, g_failures);
  return g_failures == 0 ? 0 : 1;
}
