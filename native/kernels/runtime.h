// Runtime services the kernels share: CPU feature dispatch, the CPU's caches and FMA peak,
// the thread pool and the policy that decides how many of its threads a kernel uses.
#pragma once

#include <functional>

#include "kernels/kernels.h"

namespace nrnn {

// Instruction-set paths, picked once at load time by CPU detection (no -march=native,
// no target_clones); tests may force a lower path.
enum class Isa : int { Generic = 0, Avx2 = 1, Avx512 = 2 };

Isa detected_isa();      // the best path this CPU supports
Isa active_isa();        // the path in use
bool set_isa(Isa isa);   // false (and no change) when the CPU lacks it
const char* isa_name(Isa isa);

// ---- cpu.cc -----------------------------------------------------------------------------
// Data caches of the CPU the process runs on, read once at load time: CPUID leaf 4 (Intel)
// or 0x8000001D (AMD), else Linux's /sys/devices/system/cpu/cpu0/cache, else defaults of a
// common desktop core. The gemm blocking (KC, MC, NC) is derived from these.
struct CacheInfo {
  index_t l1d = 0, l2 = 0, l3 = 0;  // bytes: l1d and l2 of one core, l3 as a whole
  int l1d_ways = 0, l2_ways = 0, l3_ways = 0;
  int l3_shared_by = 0;  // logical CPUs that share the L3 (0 when unknown)
  const char* source = "default";  // "cpuid", "sysfs" or "default"
};
const CacheInfo& cache_info();

// GFLOP/s of a plain loop of independent FMAs (no memory traffic) on `threads` threads of
// the pool, for `isa` and float (f64 false) or double: the ceiling any kernel of that path
// can reach on this machine now. An FMA counts 2 flops; the portable path counts its
// multiply and add. Runs for about `seconds`: the best of several repetitions, or with
// best == false one run over the whole time (its average, to set beside another average
// measured on a loaded machine). One thread is timed by its CPU clock (time the OS gave
// to other processes does not count), several by the wall clock. 0 when the CPU lacks
// `isa`.
double measure_fma_peak(Isa isa, bool f64, int threads, double seconds, bool best = true);

// ---- runtime.cc: threads ------------------------------------------------------------------
// Threads used by the kernels (the persistent pool plus the calling thread).
int num_threads();
// The most threads the pool runs (its work tickets count chunks in 12 bits); setNumThreads
// refuses more, in the addon and in TypeScript (lib/backend/runtime-limits.ts).
constexpr int kMaxThreads = 256;
void set_num_threads(int n);  // 1 <= n <= kMaxThreads

// Runs fn(begin, end) over a partition of [0, n) into at most num_threads() chunks.
// Runs inline on the calling thread when n is small, when one thread is set, or when the
// pool is busy with another job (so concurrent async jobs never oversubscribe the cores).
// "Small" is n <= 1: the caller picks n as the number of chunks worth running apart. Safe
// from any thread, and nested (an inner call runs inline). fn should not throw; if it
// does, every chunk still completes and the first exception is rethrown on the caller.
void parallel_for(index_t n, const std::function<void(index_t, index_t)>& fn);

// The threading policy. A kernel estimates the time its work takes on one thread and asks
// how many threads are worth it: more threads only when the time they save is several
// times what handing work to the pool costs (handoff_ns), so that the default thread count
// is never slower than one thread. At most `parts` (the pieces the work can be split into)
// and num_threads(). Returns 1 when the pool is busy (the job would run inline anyway).
int threads_for(double serial_ns, index_t parts);

// Tests only: when set, threads_for ignores the cost model and grants every thread the parts
// allow (so that the parallel paths of every kernel run whatever the machine measures).
void set_test_always_parallel(bool on);

// Estimated time of `macs` multiply-adds of the active ISA in T on one thread, at the FMA
// peak measured once at first use (a lower bound of the real time: the policy errs towards
// fewer threads).
template <typename T>
double fma_ns(double macs);

// Estimated time of a pass that streams `bytes` through one core (elementwise kernels,
// matrix-vector products), at the upper end of what one core reads from L2/L3.
double stream_ns(double bytes);

// The pool's hand-off cost in ns: the latency between publishing a job and a running
// worker joining it. Probed at first use (a few empty jobs a worker must join; retried
// later when no worker ran), then a moving average over every job a spinning worker
// joined (geometric: robust to a rare descheduled worker); while high (jobs then stay on
// one thread and cannot correct it), re-probed at most every 0.5 s.
double handoff_ns();

}  // namespace nrnn
