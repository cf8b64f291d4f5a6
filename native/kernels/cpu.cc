// What the kernels know about the CPU beyond its instruction sets: the sizes of its data
// caches (the gemm blocking is derived from them) and the FMA peak of each path, measured
// with a plain loop (the bench reports every gemm figure as a fraction of it).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <ctime>

#include "kernels/runtime.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#define NRNN_CPUID 1
#endif

namespace nrnn {

namespace {

// ---- caches -----------------------------------------------------------------------------

// One data or unified cache level as CPUID or sysfs describe it.
struct Level {
  index_t bytes = 0;
  int ways = 0;
  int shared_by = 0;
};

// Sizes outside these ranges are taken for a misreport (some hypervisors fill the leaves
// with zeros or nonsense) and replaced by the next source.
bool plausible(const Level& l1, const Level& l2) {
  return l1.bytes >= (8 << 10) && l1.bytes <= (4 << 20) && l2.bytes >= (64 << 10) &&
         l2.bytes <= (index_t(256) << 20);
}

#if defined(NRNN_CPUID)
// Deterministic cache parameters: leaf 4 on Intel, 0x8000001D on AMD and Hygon (same
// layout). Sub-leaf i describes one cache: EAX[4:0] type (0 end, 1 data, 2 instruction,
// 3 unified), EAX[7:5] level, EAX[25:14] logical CPUs sharing it - 1; EBX ways - 1
// [31:22], partitions - 1 [21:12], line bytes - 1 [11:0]; ECX sets - 1.
bool from_cpuid(Level lv[4]) {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(0, &a, &b, &c, &d)) return false;
  const unsigned max_leaf = a;
  char vendor[13] = {};
  std::memcpy(vendor + 0, &b, 4);
  std::memcpy(vendor + 4, &d, 4);
  std::memcpy(vendor + 8, &c, 4);
  unsigned leaf = 4;
  if (std::strcmp(vendor, "AuthenticAMD") == 0 || std::strcmp(vendor, "HygonGenuine") == 0) {
    if (!__get_cpuid(0x80000000u, &a, &b, &c, &d) || a < 0x8000001Du) return false;
    if (!__get_cpuid(0x80000001u, &a, &b, &c, &d) || !(c & (1u << 22))) return false;  // TOPOEXT
    leaf = 0x8000001Du;
  } else if (max_leaf < 4) {
    return false;
  }
  bool any = false;
  for (unsigned i = 0; i < 16; ++i) {
    __cpuid_count(leaf, i, a, b, c, d);
    const unsigned type = a & 31u;
    if (type == 0) break;
    if (type == 2) continue;  // instruction cache
    const unsigned level = (a >> 5) & 7u;
    if (level < 1 || level > 3) continue;
    const index_t ways = index_t((b >> 22) & 0x3ffu) + 1;
    const index_t parts = index_t((b >> 12) & 0x3ffu) + 1;
    const index_t line = index_t(b & 0xfffu) + 1;
    const index_t sets = index_t(c) + 1;
    lv[level].bytes = ways * parts * line * sets;
    lv[level].ways = int(ways);
    lv[level].shared_by = int((a >> 14) & 0xfffu) + 1;
    any = true;
  }
  return any;
}
#endif

// Linux: /sys/devices/system/cpu/cpu0/cache/index*/{level,type,size,ways_of_associativity,
// shared_cpu_list}. Sizes read "48K", "1024K", "32M".
bool read_line(const std::string& path, char* buf, std::size_t n) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return false;
  const bool ok = std::fgets(buf, int(n), f) != nullptr;
  std::fclose(f);
  return ok;
}

// Logical CPUs in a list such as "0-1", "0,2,4-7".
int count_cpus(const char* s) {
  int count = 0;
  while (*s) {
    char* end = nullptr;
    const long lo = std::strtol(s, &end, 10);
    if (end == s) break;
    long hi = lo;
    s = end;
    if (*s == '-') {
      hi = std::strtol(s + 1, &end, 10);
      s = end;
    }
    count += int(std::max(0L, hi - lo + 1));
    if (*s == ',') ++s;
    else break;
  }
  return count;
}

bool from_sysfs(Level lv[4]) {
  bool any = false;
  for (int i = 0; i < 16; ++i) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(i) + "/";
    char buf[256];
    if (!read_line(dir + "level", buf, sizeof buf)) break;
    const int level = std::atoi(buf);
    if (!read_line(dir + "type", buf, sizeof buf) || std::strncmp(buf, "Instruction", 11) == 0)
      continue;
    if (level < 1 || level > 3 || !read_line(dir + "size", buf, sizeof buf)) continue;
    char* end = nullptr;
    index_t bytes = std::strtoll(buf, &end, 10);
    if (end && (*end == 'K' || *end == 'k')) bytes <<= 10;
    else if (end && (*end == 'M' || *end == 'm')) bytes <<= 20;
    lv[level].bytes = bytes;
    if (read_line(dir + "ways_of_associativity", buf, sizeof buf)) lv[level].ways = std::atoi(buf);
    if (read_line(dir + "shared_cpu_list", buf, sizeof buf)) lv[level].shared_by = count_cpus(buf);
    any = true;
  }
  return any;
}

CacheInfo detect_caches() {
  CacheInfo ci;
  Level lv[4];
  const char* source = nullptr;
#if defined(NRNN_CPUID)
  if (from_cpuid(lv) && plausible(lv[1], lv[2])) source = "cpuid";
#endif
  if (!source) {
    for (Level& l : lv) l = Level{};
    if (from_sysfs(lv) && plausible(lv[1], lv[2])) source = "sysfs";
  }
  if (!source) {  // a common desktop core of the last decade
    lv[1] = Level{32 << 10, 8, 1};
    lv[2] = Level{512 << 10, 8, 1};
    lv[3] = Level{8 << 20, 16, 8};
    source = "default";
  }
  ci.l1d = lv[1].bytes, ci.l1d_ways = lv[1].ways;
  ci.l2 = lv[2].bytes, ci.l2_ways = lv[2].ways;
  ci.l3 = lv[3].bytes, ci.l3_ways = lv[3].ways, ci.l3_shared_by = lv[3].shared_by;
  ci.source = source;
  return ci;
}

const CacheInfo g_caches = detect_caches();

// ---- FMA peak ---------------------------------------------------------------------------
// Chains of dependent FMAs, enough of them to cover latency x pipes (4 cycles x 2 pipes on
// current x86 cores) with room to spare; the accumulators never leave registers. Returns
// a value derived from every chain so that none of the work can be optimized away.

#if defined(NRNN_CPUID)
#define NRNN_AVX512 __attribute__((target("avx512f")))
#define NRNN_AVX2 __attribute__((target("avx2,fma")))

// One loop per ISA and type: N accumulators of register type R, FMA intrinsic FMA, add
// ADD, and LANE0 to read one lane of the sum.
#define NRNN_FMA_LOOP(NAME, TARGET, R, E, N, SET1, FMA, ADD, LANE0)    \
  TARGET double NAME(long iters) {                                      \
    R acc[N];                                                           \
    for (int i = 0; i < N; ++i) acc[i] = SET1(E(0.001) * E(i));         \
    const R b = SET1(E(0.999)), c = SET1(E(0.001));                     \
    for (long k = 0; k < iters; ++k) {                                  \
      _Pragma("GCC unroll 16") for (int i = 0; i < N; ++i) acc[i] = FMA(acc[i], b, c); \
    }                                                                   \
    R s = acc[0];                                                       \
    for (int i = 1; i < N; ++i) s = ADD(s, acc[i]);                     \
    return double(LANE0(s));                                            \
  }

NRNN_FMA_LOOP(loop_avx512_f32, NRNN_AVX512, __m512, float, 16, _mm512_set1_ps, _mm512_fmadd_ps,
              _mm512_add_ps, _mm512_cvtss_f32)
NRNN_FMA_LOOP(loop_avx512_f64, NRNN_AVX512, __m512d, double, 16, _mm512_set1_pd,
              _mm512_fmadd_pd, _mm512_add_pd, _mm512_cvtsd_f64)
NRNN_FMA_LOOP(loop_avx2_f32, NRNN_AVX2, __m256, float, 12, _mm256_set1_ps, _mm256_fmadd_ps,
              _mm256_add_ps, _mm256_cvtss_f32)
NRNN_FMA_LOOP(loop_avx2_f64, NRNN_AVX2, __m256d, double, 12, _mm256_set1_pd, _mm256_fmadd_pd,
              _mm256_add_pd, _mm256_cvtsd_f64)
#undef NRNN_FMA_LOOP
#endif

// The portable path's "FMA": a multiply and an add of 16-byte vectors (what its
// micro-kernel runs), 12 chains (16 registers on x86-64 without AVX).
template <typename E>
double loop_generic(long iters) {
#if defined(__GNUC__) || defined(__clang__)
  typedef E R __attribute__((vector_size(16)));
#else
  using R = E;
#endif
  R acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = R{} + E(0.001) * E(i);
  const R b = R{} + E(0.999), c = R{} + E(0.001);
  for (long k = 0; k < iters; ++k) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) acc[i] = acc[i] * b + c;
  }
  R s = acc[0];
  for (int i = 1; i < 12; ++i) s = s + acc[i];
#if defined(__GNUC__) || defined(__clang__)
  return double(s[0]);
#else
  return double(s);
#endif
}

// Flops of one iteration of the loops above.
double flops_per_iter(Isa isa, bool f64) {
  const int lanes = f64 ? 1 : 2;  // per 64 bits
  switch (isa) {
    case Isa::Avx512: return 2.0 * 16 * 8 * lanes;
    case Isa::Avx2: return 2.0 * 12 * 4 * lanes;
    case Isa::Generic: return 2.0 * 12 * 2 * lanes;
  }
  return 0;
}

double run_loop(Isa isa, bool f64, long iters) {
  switch (isa) {
#if defined(NRNN_CPUID)
    case Isa::Avx512: return f64 ? loop_avx512_f64(iters) : loop_avx512_f32(iters);
    case Isa::Avx2: return f64 ? loop_avx2_f64(iters) : loop_avx2_f32(iters);
#else
    case Isa::Avx512:
    case Isa::Avx2: return 0;
#endif
    case Isa::Generic: return f64 ? loop_generic<double>(iters) : loop_generic<float>(iters);
  }
  return 0;
}

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The calling thread's CPU time where the OS has it (else the wall clock): a one-thread
// peak measured on a loaded machine then counts only the time the loop ran.
double thread_s() {
#if defined(CLOCK_THREAD_CPUTIME_ID)
  timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0) return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
#endif
  return now_s();
}

std::atomic<double> g_sink{0};  // keeps the loops' results alive

}  // namespace

const CacheInfo& cache_info() { return g_caches; }

double measure_fma_peak(Isa isa, bool f64, int threads, double seconds, bool best) {
  if (static_cast<int>(isa) > static_cast<int>(detected_isa())) return 0;
  threads = std::max(1, std::min(threads, num_threads()));
  // Calibrate one thread's iterations to ~1/8 of the budget (at least ~20 µs), or to the
  // whole budget for a single run.
  const double target = best ? seconds / 8 : seconds;
  long iters = 256;
  for (;;) {
    const double t0 = now_s();
    g_sink.store(run_loop(isa, f64, iters), std::memory_order_relaxed);
    const double dt = now_s() - t0;
    if (dt >= std::max(2e-5, target) || iters > (1L << 30)) break;
    iters *= dt > 0 ? std::clamp(long(target / dt) + 1, 2L, 64L) : 64;
  }
  // Repetitions within the budget; the best one is the peak (interference only lowers it).
  // On several threads every chunk first waits for the others, so that the loops overlap
  // (a late worker must not make one thread run two chunks in a row).
  double peak = 0;
  const double until = now_s() + seconds;
  if (threads == 1) {  // on this thread, timed by its CPU clock
    do {
      const double t0 = thread_s();
      g_sink.store(run_loop(isa, f64, iters), std::memory_order_relaxed);
      const double dt = thread_s() - t0;
      if (dt > 0) peak = std::max(peak, flops_per_iter(isa, f64) * double(iters) / dt / 1e9);
    } while (best && now_s() < until);
    return peak;
  }
  do {
    std::atomic<int> arrived{0};
    std::atomic<double> finish{0};
    double start = 0;
    parallel_for(threads, [&](index_t b, index_t e) {
      for (index_t c = b; c < e; ++c) {
        arrived.fetch_add(1);
        const double wait_until = now_s() + 0.01;
        while (arrived.load() < threads && now_s() < wait_until) {
        }
        if (c == 0) start = now_s();
        g_sink.store(run_loop(isa, f64, iters), std::memory_order_relaxed);
        const double t = now_s();
        double f = finish.load();
        while (t > f && !finish.compare_exchange_weak(f, t)) {
        }
      }
    });
    const double dt = finish.load() - start;
    if (dt > 0) peak = std::max(peak, flops_per_iter(isa, f64) * double(iters) * threads / dt / 1e9);
  } while (best && now_s() < until);
  return peak;
}

}  // namespace nrnn
