// gemm_bench: GFLOP/s of nrnn::gemm (each ISA path, 1 and 2 threads) against OpenBLAS's
// cblas_sgemm / cblas_dgemm measured in the same run, at 64^3 ... 2048^3 and the RNN
// shapes. Medians of several repetitions; ratios ours/OpenBLAS.
//
//   gemm_bench [--json] [--reps N] [--quick] [--all-isas] [--filter SUBSTRING]
//
// OpenBLAS (Debian/Ubuntu: apt-get install -y libopenblas-dev) is loaded with dlopen, so
// the bench builds and runs without it. Loading it ourselves lets us set
// OPENBLAS_THREAD_TIMEOUT before its initialisation: by default its idle workers spin for
// ~2^28 cycles (~0.1 s) after each call, which on a 2-core machine would steal a core from
// the next measurement of ours. 2^22 cycles (~2 ms) still keeps them spinning between the
// back-to-back calls of one measurement, so OpenBLAS's own figures are unaffected.
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/runtime.h"

#ifndef NRNN_OPENBLAS_PATH
#define NRNN_OPENBLAS_PATH "libopenblas.so.0"
#endif

using nrnn::index_t;

namespace {

// The CBLAS ABI (enum values are fixed by the CBLAS standard).
constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112;
using sgemm_fn = void (*)(int, int, int, int, int, int, float, const float*, int, const float*,
                          int, float, float*, int);
using dgemm_fn = void (*)(int, int, int, int, int, int, double, const double*, int,
                          const double*, int, double, double*, int);
struct OpenBlas {
  sgemm_fn sgemm = nullptr;
  dgemm_fn dgemm = nullptr;
  void (*set_threads)(int) = nullptr;
  char* (*get_config)() = nullptr;
  bool ok() const { return sgemm && dgemm; }
};

OpenBlas load_openblas() {
  OpenBlas ob;
  setenv("OPENBLAS_THREAD_TIMEOUT", "22", 0);  // keeps a value the user set
  void* h = dlopen(NRNN_OPENBLAS_PATH, RTLD_NOW | RTLD_LOCAL);
  if (!h) h = dlopen("libopenblas.so", RTLD_NOW | RTLD_LOCAL);
  if (!h) return ob;
  ob.sgemm = reinterpret_cast<sgemm_fn>(dlsym(h, "cblas_sgemm"));
  ob.dgemm = reinterpret_cast<dgemm_fn>(dlsym(h, "cblas_dgemm"));
  ob.set_threads = reinterpret_cast<void (*)(int)>(dlsym(h, "openblas_set_num_threads"));
  ob.get_config = reinterpret_cast<char* (*)()>(dlsym(h, "openblas_get_config"));
  return ob;
}

struct Case {
  std::string name;  // e.g. "512^3" or "rnn 256x64x256"
  bool tA, tB;
  index_t M, N, K;
  double beta;
};

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("model name", 0) == 0) {
      const auto p = line.find(':');
      return p == std::string::npos ? line : line.substr(p + 2);
    }
  return "unknown";
}

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Calls per measurement so that one measurement lasts about min_s.
template <typename F>
int calibrate(F&& call, double min_s) {
  call();  // warm-up: packs buffers, wakes threads, faults pages in
  int iters = 1;
  for (;;) {
    const double t0 = now_s();
    for (int i = 0; i < iters; ++i) call();
    const double dt = now_s() - t0;
    if (dt >= min_s || iters >= (1 << 20)) return iters;
    iters = dt <= 0 ? iters * 16 : std::max(iters * 2, int(iters * min_s / dt * 1.2));
  }
}

template <typename F>
double seconds_per_call(F&& call, int iters) {
  const double t0 = now_s();
  for (int i = 0; i < iters; ++i) call();
  return (now_s() - t0) / iters;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

struct Result {
  const Case* c;
  const char* dtype;
  const char* isa;
  int threads;
  double ours, openblas;  // GFLOP/s medians; openblas < 0 when absent
  double ratio;           // median over the repetitions of ours/openblas in that repetition
};

// OpenBLAS's idle workers spin ~2^22 cycles after a call, ours 200 µs: let the other side's
// spinners go to sleep before measuring, so neither steals a core from the other.
void settle(int threads) {
  if (threads > 1) std::this_thread::sleep_for(std::chrono::milliseconds(4));
}

// Measurements of ours and OpenBLAS alternate, one against one, so that the load other
// processes put on a shared machine hits both alike; the ratio is taken within each pair.
template <typename T>
void bench_case(const Case& c, const OpenBlas& ob, int reps, bool all_isas,
                std::vector<Result>& out) {
  const index_t arows = c.tA ? c.K : c.M, acols = c.tA ? c.M : c.K;
  const index_t brows = c.tB ? c.N : c.K, bcols = c.tB ? c.K : c.N;
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<T> A(std::size_t(arows * acols)), B(std::size_t(brows * bcols)),
      C(std::size_t(c.M * c.N));
  for (auto& x : A) x = T(u(rng));
  for (auto& x : B) x = T(u(rng));
  for (auto& x : C) x = T(u(rng));
  const double flop = 2.0 * double(c.M) * double(c.N) * double(c.K);
  const double min_s = 0.01;
  const T beta = T(c.beta) * T(1e-3);  // keep C bounded over many accumulating calls
  const bool is_f32 = sizeof(T) == 4;

  auto theirs_call = [&] {
    if constexpr (sizeof(T) == 4) {
      ob.sgemm(kRowMajor, c.tA ? kTrans : kNoTrans, c.tB ? kTrans : kNoTrans, int(c.M),
               int(c.N), int(c.K), 1.0f, A.data(), int(acols), B.data(), int(bcols),
               float(beta), C.data(), int(c.N));
    } else {
      ob.dgemm(kRowMajor, c.tA ? kTrans : kNoTrans, c.tB ? kTrans : kNoTrans, int(c.M),
               int(c.N), int(c.K), 1.0, A.data(), int(acols), B.data(), int(bcols),
               double(beta), C.data(), int(c.N));
    }
  };
  auto ours_call = [&] {
    nrnn::gemm<T>(c.tA, c.tB, c.M, c.N, c.K, T(1), A.data(), acols, B.data(), bcols, beta,
                  C.data(), c.N);
  };

  for (int threads : {1, 2}) {
    for (nrnn::Isa isa : {nrnn::Isa::Avx512, nrnn::Isa::Avx2, nrnn::Isa::Generic}) {
      if (!nrnn::set_isa(isa)) continue;
      const bool best = isa == nrnn::detected_isa();
      // The portable path is slow at large sizes; measure it on small ones unless asked.
      if (!best && !all_isas && c.M * c.N * c.K > 300 * 300 * 300) continue;
      const bool compare = best && ob.ok();
      nrnn::set_num_threads(threads);
      if (compare && ob.set_threads) ob.set_threads(threads);
      const int it_ours = calibrate(ours_call, min_s);
      const int it_theirs = compare ? calibrate(theirs_call, min_s) : 0;
      std::vector<double> g_ours, g_theirs, ratios;
      for (int r = 0; r < reps; ++r) {
        settle(threads);
        g_ours.push_back(flop / seconds_per_call(ours_call, it_ours) / 1e9);
        if (!compare) continue;
        settle(threads);
        g_theirs.push_back(flop / seconds_per_call(theirs_call, it_theirs) / 1e9);
        ratios.push_back(g_ours.back() / g_theirs.back());
      }
      out.push_back(Result{&c, is_f32 ? "float" : "double", nrnn::isa_name(isa), threads,
                           median(g_ours), compare ? median(g_theirs) : -1,
                           compare ? median(ratios) : -1});
    }
    nrnn::set_isa(nrnn::detected_isa());
  }
}

}  // namespace

int main(int argc, char** argv) {
  bool json = false, quick = false, all_isas = false;
  int reps = 9;
  std::string filter;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--json") json = true;
    else if (a == "--quick") quick = true;
    else if (a == "--all-isas") all_isas = true;
    else if (a == "--reps" && i + 1 < argc) reps = std::max(1, std::atoi(argv[++i]));
    else if (a == "--filter" && i + 1 < argc) filter = argv[++i];
    else {
      std::fprintf(stderr,
                   "usage: gemm_bench [--json] [--reps N] [--quick] [--all-isas] "
                   "[--filter SUBSTRING]\n");
      return 2;
    }
  }
  const OpenBlas ob = load_openblas();

  std::vector<Case> cases;
  for (index_t n : {64, 128, 256, 512, 1024, 2048}) {
    if (quick && n > 1024) continue;
    cases.push_back(Case{std::to_string(n) + "^3 NN", false, false, n, n, n, 0.0});
  }
  // RNN shapes (seed notation, n_c hidden, m batch, T steps), all accumulating (beta 1):
  //   U_t += Wc C_{t-1}            NN  n_c x m x n_c
  //   dC_{t-1} += Wc^T dU_t        TN  n_c x m x n_c
  //   dWc += dU_t C_{t-1}^T        NT  n_c x n_c x m (per step) or x T*m (whole sequence)
  for (index_t nc : {256, 1024}) {
    const index_t m = 64;
    const std::string s = std::to_string(nc) + "x" + std::to_string(m) + "x" + std::to_string(nc);
    cases.push_back(Case{"rnn " + s + " NN", false, false, nc, m, nc, 1.0});
    cases.push_back(Case{"rnn " + s + " TN", true, false, nc, m, nc, 1.0});
    cases.push_back(Case{"rnn " + s + " NT", false, true, nc, m, nc, 1.0});
  }
  // Batch-1 sampling: matrix-vector products.
  cases.push_back(Case{"rnn 1024x1x1024 NN", false, false, 1024, 1, 1024, 1.0});
  cases.push_back(Case{"rnn 1024x1x1024 TN", true, false, 1024, 1, 1024, 1.0});
  cases.push_back(Case{"rnn 256x256x64 NT", false, true, 256, 256, 64, 1.0});
  cases.push_back(Case{"rnn 256x256x2048 NT", false, true, 256, 256, 2048, 1.0});
  if (!quick) cases.push_back(Case{"rnn 1024x1024x2048 NT", false, true, 1024, 1024, 2048, 1.0});

  std::vector<Result> results;
  for (const Case& c : cases) {
    if (!filter.empty() && c.name.find(filter) == std::string::npos) continue;
    bench_case<float>(c, ob, reps, all_isas, results);
    bench_case<double>(c, ob, reps, all_isas, results);
    if (!json) {
      for (const Result& r : results) {
        if (r.c != &c) continue;
        char theirs[32] = "      -", ratio[32] = "     -";
        if (r.openblas > 0) {
          std::snprintf(theirs, sizeof theirs, "%7.1f", r.openblas);
          std::snprintf(ratio, sizeof ratio, "%5.0f%%", 100.0 * r.ratio);
        }
        std::printf("%-24s %-6s %-7s %dt  ours %7.1f  openblas %s  ratio %s\n", c.name.c_str(),
                    r.dtype, r.isa, r.threads, r.ours, theirs, ratio);
      }
      std::fflush(stdout);
    }
  }

  if (json) {
    std::printf("{\n  \"machine\": {\"cpu\": \"%s\", \"hardware_threads\": %u, "
                "\"detected_isa\": \"%s\"},\n",
                cpu_model().c_str(), std::thread::hardware_concurrency(),
                nrnn::isa_name(nrnn::detected_isa()));
    std::printf("  \"openblas\": %s%s%s,\n", ob.ok() ? "\"" : "",
                ob.ok() ? (ob.get_config ? ob.get_config() : "present") : "null",
                ob.ok() ? "\"" : "");
    std::printf("  \"unit\": \"GFLOP/s, median of %d; ratio = median of paired "
                "ours/openblas\",\n  \"results\": [\n",
                reps);
    for (std::size_t i = 0; i < results.size(); ++i) {
      const Result& r = results[i];
      std::printf("    {\"case\": \"%s\", \"M\": %lld, \"N\": %lld, \"K\": %lld, \"transA\": %s, "
                  "\"transB\": %s, \"dtype\": \"%s\", \"isa\": \"%s\", \"threads\": %d, "
                  "\"ours\": %.2f, \"openblas\": ",
                  r.c->name.c_str(), (long long)r.c->M, (long long)r.c->N, (long long)r.c->K,
                  r.c->tA ? "true" : "false", r.c->tB ? "true" : "false", r.dtype, r.isa,
                  r.threads, r.ours);
      if (r.openblas > 0) {
        std::printf("%.2f, \"ratio\": %.3f}", r.openblas, r.ratio);
      } else {
        std::printf("null, \"ratio\": null}");
      }
      std::printf("%s\n", i + 1 < results.size() ? "," : "");
    }
    std::printf("  ]\n}\n");
  } else if (!ob.ok()) {
    std::printf("OpenBLAS not found: apt-get install -y libopenblas-dev for the comparison\n");
  } else if (ob.get_config) {
    std::printf("OpenBLAS: %s\n", ob.get_config());
  }
  return 0;
}
