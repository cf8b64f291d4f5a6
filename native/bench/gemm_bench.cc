// gemm_bench: GFLOP/s of nrnn::gemm (each ISA path, 1 and 2 threads) against OpenBLAS's
// cblas_sgemm / cblas_dgemm measured in the same run, at 64^3 ... 2048^3 and the RNN
// shapes. Medians of several repetitions; ratios ours/OpenBLAS. Every figure is also given
// as a fraction of the FMA peak (a plain loop of independent FMAs, per ISA, type and thread
// count: runtime.h, measure_fma_peak), measured once at the start (printed) and again in
// every repetition, where the fractions are taken: on a shared machine the load other
// processes put on the cores then lowers a figure and its peak alike.
//
//   gemm_bench [--json] [--reps N] [--quick] [--all-isas] [--filter SUBSTRING]
//              [--blocking KC,MC,NC] [--openblas-core auto|NAME] [--wall]
//
// Clocks: one thread is timed by its CPU clock (--wall: the wall clock), two threads by the
// wall clock (see seconds_per_call).
//
// OpenBLAS picks its kernels by CPU model unless OPENBLAS_CORETYPE names a core. The bench
// compares with OpenBLAS's own choice for this CPU (--openblas-core auto, the default: an
// inherited OPENBLAS_CORETYPE is dropped, e.g. a Haswell forced by a container image on an
// AVX-512 machine, where OpenBLAS itself picks its SkylakeX kernels) or with the named
// core. OpenBLAS reads the variable from the environment the process started with (a
// setenv before dlopen is not seen), so the bench re-executes itself once when it has to
// change it. The core used is printed.
//
// OpenBLAS (Debian/Ubuntu: apt-get install -y libopenblas-dev) is loaded with dlopen, so
// the bench builds and runs without it. Loading it ourselves lets us set
// OPENBLAS_THREAD_TIMEOUT before its initialisation: by default its idle workers spin for
// ~2^28 cycles (~0.1 s) after each call, which on a 2-core machine would steal a core from
// the next measurement of ours. 2^22 cycles (~2 ms) still keeps them spinning between the
// back-to-back calls of one measurement, so OpenBLAS's own figures are unaffected.
#include <dlfcn.h>
#include <unistd.h>

#include <ctime>

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

#include "kernels/gemm_internal.h"
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
  char* (*get_corename)() = nullptr;
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
  ob.get_corename = reinterpret_cast<char* (*)()>(dlsym(h, "openblas_get_corename"));
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

// One thread is timed by its CPU clock: on a shared machine the time slices the OS gives to
// other processes would otherwise count against both sides at random. Several threads are
// timed by the wall clock (their CPU clocks would count a waiting thread's spinning).
double g_cpu_clock = true;  // --wall turns it off

double thread_s() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

template <typename F>
double seconds_per_call(F&& call, int iters, int threads) {
  const bool cpu = g_cpu_clock && threads == 1;
  const double t0 = cpu ? thread_s() : now_s();
  for (int i = 0; i < iters; ++i) call();
  return ((cpu ? thread_s() : now_s()) - t0) / iters;
}

double median(std::vector<double> v) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// FMA peaks measured at the start: [isa][f64][threads - 1], GFLOP/s.
double g_peak[3][2][2] = {};

void measure_peaks(double seconds) {
  for (nrnn::Isa isa : {nrnn::Isa::Avx512, nrnn::Isa::Avx2, nrnn::Isa::Generic})
    for (int f64 = 0; f64 < 2; ++f64)
      for (int t = 1; t <= 2; ++t) {
        nrnn::set_num_threads(t);
        g_peak[int(isa)][f64][t - 1] = nrnn::measure_fma_peak(isa, f64 != 0, t, seconds);
      }
}

double peak_of(nrnn::Isa isa, bool f64, int threads) {
  return g_peak[int(isa)][f64 ? 1 : 0][threads - 1];
}

// The blocking gemm derives from the caches for the tiles of the detected path.
void print_blocking(const nrnn::CacheInfo& ci) {
  namespace gd = nrnn::gemm_detail;
  const gd::Ukernels<float>* f = &gd::kGenericF32;
  const gd::Ukernels<double>* d = &gd::kGenericF64;
#if defined(__x86_64__)
  if (nrnn::detected_isa() == nrnn::Isa::Avx512) f = &gd::kAvx512F32, d = &gd::kAvx512F64;
  if (nrnn::detected_isa() == nrnn::Isa::Avx2) f = &gd::kAvx2F32, d = &gd::kAvx2F64;
#endif
  const gd::Blocking bf = gd::blocking_for(f->mr, f->nr, 4, ci);
  const gd::Blocking bd = gd::blocking_for(d->mr, d->nr, 8, ci);
  std::printf("blocking %s: float %dx%d KC %lld MC %lld NC %lld, double %dx%d KC %lld MC %lld "
              "NC %lld\n",
              nrnn::isa_name(nrnn::detected_isa()), f->mr, f->nr, (long long)bf.kc,
              (long long)bf.mc, (long long)bf.nc, d->mr, d->nr, (long long)bd.kc,
              (long long)bd.mc, (long long)bd.nc);
}

struct Result {
  const Case* c;
  const char* dtype;
  const char* isa;
  int threads;
  double ours, openblas;  // GFLOP/s medians; openblas < 0 when absent
  double ratio;           // median over the repetitions of ours/openblas in that repetition
  // Medians over the repetitions of ours / FMA peak and openblas / FMA peak, the peak of
  // this ISA, type and thread count measured in the same repetition.
  double of_peak, theirs_of_peak;
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
      settle(2);  // OpenBLAS's workers may still spin from the last row: let them sleep
      const int it_ours = calibrate(ours_call, min_s);
      if (compare) settle(threads);
      const int it_theirs = compare ? calibrate(theirs_call, min_s) : 0;
      // Each repetition also measures the FMA peak, one run as long as a measurement of a
      // gemm: the fractions of it are taken within the repetition, so that load from other
      // processes lowers a figure and its peak alike.
      std::vector<double> g_ours, g_theirs, ratios, f_ours, f_theirs;
      for (int r = 0; r < reps; ++r) {
        settle(threads);
        g_ours.push_back(flop / seconds_per_call(ours_call, it_ours, threads) / 1e9);
        const double peak = nrnn::measure_fma_peak(isa, !is_f32, threads, min_s, false);
        if (peak > 0) f_ours.push_back(g_ours.back() / peak);
        if (!compare) continue;
        settle(threads);
        g_theirs.push_back(flop / seconds_per_call(theirs_call, it_theirs, threads) / 1e9);
        ratios.push_back(g_ours.back() / g_theirs.back());
        if (peak > 0) f_theirs.push_back(g_theirs.back() / peak);
      }
      out.push_back(Result{&c, is_f32 ? "float" : "double", nrnn::isa_name(isa), threads,
                           median(g_ours), compare ? median(g_theirs) : -1,
                           compare ? median(ratios) : -1, median(f_ours),
                           compare ? median(f_theirs) : -1});
    }
    nrnn::set_isa(nrnn::detected_isa());
  }
}

}  // namespace

// Makes OPENBLAS_CORETYPE what --openblas-core asks for, re-executing the bench if it must
// change (once: NRNN_BENCH_REEXEC marks the second run). Returns a note for the report.
std::string choose_openblas_core(int argc, char** argv) {
  std::string want = "auto";
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--openblas-core") want = argv[i + 1];
  const char* have = std::getenv("OPENBLAS_CORETYPE");
  const bool ok = want == "auto" ? have == nullptr : (have && want == have);
  if (!ok && !std::getenv("NRNN_BENCH_REEXEC")) {
    setenv("NRNN_BENCH_REEXEC", have ? have : "", 1);
    if (want == "auto") {
      unsetenv("OPENBLAS_CORETYPE");
    } else {
      setenv("OPENBLAS_CORETYPE", want.c_str(), 1);
    }
    execv("/proc/self/exe", argv);  // returns only on failure: go on as we are
  }
  const char* inherited = std::getenv("NRNN_BENCH_REEXEC");
  if (inherited && *inherited && want == "auto")
    return std::string("OpenBLAS's own choice; the inherited OPENBLAS_CORETYPE=") + inherited +
           " was dropped (--openblas-core " + inherited + " keeps it)";
  return want == "auto" ? "OpenBLAS's own choice" : "forced with --openblas-core";
}

int main(int argc, char** argv) {
  const std::string core_note = choose_openblas_core(argc, argv);
  bool json = false, quick = false, all_isas = false;
  int reps = 9;
  std::string filter;
  long long bkc = 0, bmc = 0, bnc = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--json") json = true;
    else if (a == "--quick") quick = true;
    else if (a == "--all-isas") all_isas = true;
    else if (a == "--reps" && i + 1 < argc) reps = std::max(1, std::atoi(argv[++i]));
    else if (a == "--filter" && i + 1 < argc) filter = argv[++i];
    else if (a == "--openblas-core" && i + 1 < argc) ++i;  // see choose_openblas_core
    else if (a == "--wall") g_cpu_clock = false;
    else if (a == "--blocking" && i + 1 < argc &&
             std::sscanf(argv[++i], "%lld,%lld,%lld", &bkc, &bmc, &bnc) == 3 && bkc > 0)
      nrnn::gemm_detail::set_test_blocking(bkc, bmc, bnc);
    else {
      std::fprintf(stderr,
                   "usage: gemm_bench [--json] [--reps N] [--quick] [--all-isas] "
                   "[--filter SUBSTRING] [--blocking KC,MC,NC] [--openblas-core auto|NAME] [--wall]\n");
      return 2;
    }
  }
  const OpenBlas ob = load_openblas();
  measure_peaks(quick ? 0.05 : 0.2);
  const nrnn::CacheInfo& ci = nrnn::cache_info();
  if (!json) {
    std::printf("caches (%s): L1d %lld KiB %d-way, L2 %lld KiB, L3 %lld KiB shared by %d\n",
                ci.source, (long long)ci.l1d >> 10, ci.l1d_ways, (long long)ci.l2 >> 10,
                (long long)ci.l3 >> 10, ci.l3_shared_by);
    std::printf("FMA peak, GFLOP/s (plain FMA loop):");
    for (nrnn::Isa isa : {nrnn::Isa::Avx512, nrnn::Isa::Avx2, nrnn::Isa::Generic})
      for (int f64 = 0; f64 < 2; ++f64) {
        if (peak_of(isa, f64, 1) <= 0) continue;
        std::printf("  %s %s %.0f / %.0f", nrnn::isa_name(isa), f64 ? "double" : "float",
                    peak_of(isa, f64, 1), peak_of(isa, f64, 2));
      }
    std::printf("  (1 / 2 threads)\n");
    print_blocking(ci);
    if (ob.ok())
      std::printf("OpenBLAS core: %s (%s)\n", ob.get_corename ? ob.get_corename() : "?",
                  core_note.c_str());
    std::printf("timing: 1 thread by %s, 2 threads by the wall clock; %%peak = of the FMA peak "
                "measured in the same repetition\n",
                g_cpu_clock ? "its CPU clock" : "the wall clock");
    std::printf("%-24s %-6s %-7s %-3s %8s %6s %9s %6s %7s\n", "shape", "type", "isa", "thr",
                "ours", "%peak", "openblas", "%peak", "ratio");
  }

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
        char theirs[32] = "        -", tpeak[32] = "     -", ratio[32] = "      -";
        if (r.openblas > 0) {
          std::snprintf(theirs, sizeof theirs, "%9.1f", r.openblas);
          std::snprintf(tpeak, sizeof tpeak, "%5.1f%%", 100.0 * r.theirs_of_peak);
          std::snprintf(ratio, sizeof ratio, "%6.1f%%", 100.0 * r.ratio);
        }
        std::printf("%-24s %-6s %-7s %dt  %8.1f %5.1f%% %s %s %s\n", c.name.c_str(), r.dtype,
                    r.isa, r.threads, r.ours, 100.0 * r.of_peak, theirs, tpeak, ratio);
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
    std::printf("  \"openblas_core\": \"%s\",\n  \"openblas_core_note\": \"%s\",\n",
                ob.ok() && ob.get_corename ? ob.get_corename() : "", core_note.c_str());
    std::printf("  \"caches\": {\"source\": \"%s\", \"l1d\": %lld, \"l1d_ways\": %d, "
                "\"l2\": %lld, \"l3\": %lld, \"l3_shared_by\": %d},\n",
                ci.source, (long long)ci.l1d, ci.l1d_ways, (long long)ci.l2, (long long)ci.l3,
                ci.l3_shared_by);
    std::printf("  \"fma_peak\": [");
    bool first = true;
    for (nrnn::Isa isa : {nrnn::Isa::Avx512, nrnn::Isa::Avx2, nrnn::Isa::Generic})
      for (int f64 = 0; f64 < 2; ++f64)
        for (int t = 1; t <= 2; ++t) {
          if (peak_of(isa, f64, t) <= 0) continue;
          std::printf("%s\n    {\"isa\": \"%s\", \"dtype\": \"%s\", \"threads\": %d, "
                      "\"gflops\": %.2f}",
                      first ? "" : ",", nrnn::isa_name(isa), f64 ? "double" : "float", t,
                      peak_of(isa, f64, t));
          first = false;
        }
    std::printf("\n  ],\n");
    std::printf("  \"unit\": \"GFLOP/s, median of %d; ratio = median of paired "
                "ours/openblas; of_peak = median of paired ours/FMA peak\",\n"
                "  \"clock\": \"1 thread: %s; 2 threads: wall\",\n  \"results\": [\n",
                reps, g_cpu_clock ? "thread CPU time" : "wall");
    for (std::size_t i = 0; i < results.size(); ++i) {
      const Result& r = results[i];
      std::printf("    {\"case\": \"%s\", \"M\": %lld, \"N\": %lld, \"K\": %lld, \"transA\": %s, "
                  "\"transB\": %s, \"dtype\": \"%s\", \"isa\": \"%s\", \"threads\": %d, "
                  "\"ours\": %.2f, \"of_peak\": %.4f, \"openblas\": ",
                  r.c->name.c_str(), (long long)r.c->M, (long long)r.c->N, (long long)r.c->K,
                  r.c->tA ? "true" : "false", r.c->tB ? "true" : "false", r.dtype, r.isa,
                  r.threads, r.ours, r.of_peak);
      if (r.openblas > 0) {
        std::printf("%.2f, \"ratio\": %.3f, \"openblas_of_peak\": %.4f}", r.openblas, r.ratio,
                    r.theirs_of_peak);
      } else {
        std::printf("null, \"ratio\": null}");
      }
      std::printf("%s\n", i + 1 < results.size() ? "," : "");
    }
    std::printf("  ]\n}\n");
  } else if (!ob.ok()) {
    std::printf("OpenBLAS not found: apt-get install -y libopenblas-dev for the comparison\n");
  } else if (ob.get_config) {
    std::printf("OpenBLAS: %s (core %s)\n", ob.get_config(),
                ob.get_corename ? ob.get_corename() : "?");
  }
  if (!json)
    std::printf("pool hand-off estimate at the end: %.0f ns (the threading policy's)\n",
                nrnn::handoff_ns());
  return 0;
}
