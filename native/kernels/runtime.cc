// CPU feature dispatch and the persistent thread pool the kernels share.
//
// Dispatch: the best instruction-set path is detected once (static initialisation) with
// __builtin_cpu_supports; kernels read active_isa() at call time (one relaxed load), so a
// test can force a lower path with set_isa() between calls.
//
// Pool: workers are created lazily on the first parallel job and then live until process
// exit. A worker that finished a job spins a little (pausing, then yielding its core to any
// other runnable thread) before it sleeps. One job runs at a time; a caller that finds the pool busy (another libuv thread,
// or a kernel already running inside a job) does its work inline, so concurrent async jobs
// never put more runnable threads on the cores than the pool size.
//
// A job is published as a 64-bit ticket: generation (40 bits) | chunk count (12 bits) |
// next chunk to claim (12 bits). Worker and caller claim chunks by CAS on the ticket, so
// a worker that wakes late for an old generation can never claim a chunk of a newer job,
// and a caller whose workers are descheduled (shared, noisy machines) simply runs the
// unclaimed chunks itself instead of waiting for them to wake.
#include "kernels/runtime.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace nrnn {

// ---- CPU dispatch -----------------------------------------------------------------------

namespace {

Isa detect() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  // The AVX-512 kernels use F for the arithmetic; VL/DQ/BW are not needed, but every CPU
  // with AVX-512F also has AVX2+FMA, which the packing and edge code of that path may use.
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") &&
      __builtin_cpu_supports("fma"))
    return Isa::Avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::Avx2;
#endif
  return Isa::Generic;
}

const Isa g_detected = detect();
std::atomic<int> g_active{static_cast<int>(g_detected)};

}  // namespace

Isa detected_isa() { return g_detected; }
Isa active_isa() { return static_cast<Isa>(g_active.load(std::memory_order_relaxed)); }
bool set_isa(Isa isa) {
  const int want = static_cast<int>(isa);
  if (want < 0 || want > static_cast<int>(g_detected)) return false;
  g_active.store(want, std::memory_order_relaxed);
  return true;
}
const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return "avx512";
    case Isa::Avx2: return "avx2";
    case Isa::Generic: return "generic";
  }
  return "generic";
}

// ---- thread pool ------------------------------------------------------------------------

namespace {

// A worker that finished a job waits this long for the next before sleeping: the kernels
// of one training step come back to back (a few µs apart), and a condition-variable
// wake-up costs tens of µs on a VM. The first kPause of it polls with pause instructions
// (a yielded core may come back only after the other processes' time slices);
// the rest yields between polls, so that on a loaded machine the waiting worker hands its
// core to whoever else is runnable (other processes, or the caller's own process group,
// whose share of the CPU a busy-waiting worker would otherwise eat).
constexpr auto kSpin = std::chrono::microseconds(200);
constexpr auto kPause = std::chrono::microseconds(50);

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

constexpr int kGenShift = 24;
constexpr std::uint64_t kFieldMask = 0xfff;
inline std::uint64_t ticket_gen(std::uint64_t t) { return t >> kGenShift; }
inline int ticket_chunks(std::uint64_t t) { return int((t >> 12) & kFieldMask); }
inline int ticket_next(std::uint64_t t) { return int(t & kFieldMask); }
inline std::uint64_t make_ticket(std::uint64_t gen, int chunks) {
  return (gen << kGenShift) | (std::uint64_t(chunks) << 12);
}

int threads_from_env() {
  int n = int(std::thread::hardware_concurrency());
  if (const char* s = std::getenv("NATIVE_RNN_NUM_THREADS")) {
    char* end = nullptr;
    const long v = std::strtol(s, &end, 10);
    if (end != s && v >= 1) n = int(std::min<long>(v, kMaxThreads));
  }
  return std::clamp(n, 1, kMaxThreads);
}

class Pool {
 public:
  // Threads the kernels may use (pool workers + the caller).
  int threads() {
    int n = threads_.load(std::memory_order_relaxed);
    if (n == 0) {
      int expected = 0;
      threads_.compare_exchange_strong(expected, threads_from_env());
      n = threads_.load(std::memory_order_relaxed);
    }
    return n;
  }
  void set_threads(int n) { threads_.store(std::clamp(n, 1, kMaxThreads)); }

  void run(index_t n, const std::function<void(index_t, index_t)>& fn) {
    if (!try_run(n, fn)) fn(0, n);
  }

  // Runs the job on the pool and returns true, or returns false without running anything
  // when it would have to run inline (n <= 1, one thread, the pool busy or shut down).
  bool try_run(index_t n, const std::function<void(index_t, index_t)>& fn) {
    const int want = threads();
    if (n <= 1 || want <= 1 || busy_.exchange(true, std::memory_order_acquire)) return false;
    // We own the pool until busy_ is released.
    if (shut_down_) {  // process exit has begun: never restart workers
      busy_.store(false, std::memory_order_release);
      return false;
    }
    const bool started = resize(want - 1);
    const int chunks = int(std::min<index_t>(n, want));
    fn_ = &fn;
    n_ = n;
    done_.store(0, std::memory_order_relaxed);
    worker_latency_.store(-1, std::memory_order_relaxed);
    const std::int64_t t0 = now_ns();
    published_ns_.store(t0, std::memory_order_relaxed);
    const std::uint64_t gen = ++gen_;
    ticket_.store(make_ticket(gen, chunks), std::memory_order_seq_cst);
    // A sleeping worker is woken, but the job does not wait for it (the caller claims what
    // nobody else has): a cold start costs the caller the notify, and the workers then spin
    // for the jobs that follow. Only warm jobs teach the hand-off estimate (a worker
    // started for this job is not warm either: its latency is thread creation).
    const bool warm = !started && sleepers_.load(std::memory_order_seq_cst) == 0;
    if (!warm) {
      std::lock_guard<std::mutex> lock(mu_);
      cv_.notify_all();
    }
    claim_and_run(gen, false);
    // Wait for chunks other threads claimed. Yield if a worker got descheduled.
    auto spins = 0;
    while (done_.load(std::memory_order_acquire) < chunks) {
      if (++spins < 4096) {
        cpu_relax();
      } else {
        std::this_thread::yield();
      }
    }
    fn_ = nullptr;
    // The warm hand-off: how long a worker took to join, when one did. A job nobody joined
    // tells only that no worker was running then (a loaded machine): it cost the caller
    // nothing but the publish, so it does not count.
    const std::int64_t joined = worker_latency_.load(std::memory_order_relaxed);
    if (warm && joined >= 0) blend(handoff_ns_, double(joined));
    std::exception_ptr error = std::move(error_);
    error_ = nullptr;
    busy_.store(false, std::memory_order_release);
#if defined(__cpp_exceptions) || defined(_CPPUNWIND)
    if (error) std::rethrow_exception(error);
#endif
    return true;
  }

  // The hand-off estimates in ns (see handoff_ns in runtime.h); 0 until the first probe.
  double handoff() const { return handoff_ns_.load(std::memory_order_relaxed); }
  bool busy() const { return busy_.load(std::memory_order_relaxed); }

  // First use: a few jobs whose two chunks wait for each other (up to 200 µs), so that a
  // worker must pick each up; the median time of those a worker joined seeds the estimate.
  // The first job starts the workers and waits (up to 50 ms) until one runs: a new thread
  // on a loaded machine may take a whole time slice to be scheduled. Returns false when it
  // measured nothing (one thread, the pool busy with another caller, or no worker ran).
  bool probe() {
    if (threads() <= 1 || busy()) return false;
    constexpr int kReps = 9;
    double times[kReps];
    int got = 0;
    for (int r = -1; r < kReps; ++r) {
      std::atomic<int> arrived{0};
      const std::int64_t wait = r < 0 ? 50000000 : 200000;
      bool together = true;
      const std::int64_t t0 = now_ns();
      const bool pooled = try_run(2, [&](index_t b, index_t e) {
        for (index_t c = b; c < e; ++c) {
          arrived.fetch_add(1);
          const std::int64_t until = now_ns() + wait;
          while (arrived.load() < 2 && now_ns() < until) cpu_relax();
          if (arrived.load() < 2) together = false;
        }
      });
      if (!pooled) return false;  // another caller took the pool: measure another time
      if (r >= 0 && together) times[got++] = double(now_ns() - t0);
    }
    if (got == 0) return false;
    for (int i = 1; i < got; ++i)  // insertion sort (std::sort on a prefix trips -Warray-bounds)
      for (int j = i; j > 0 && times[j] < times[j - 1]; --j) std::swap(times[j], times[j - 1]);
    handoff_ns_.store(times[got / 2], std::memory_order_relaxed);
    return true;
  }

  // A high estimate keeps jobs from being handed off, and only handed-off jobs would lower
  // it: while it is high, two waiting jobs (as in probe; the first wakes a sleeping worker)
  // are run at most every kReprobeNs and the second, if a worker joined it, is blended in
  // with weight 1/2. "High" is 2 µs (it was 20): between the two, a process whose jobs are
  // all small (none worth 3 hand-offs, so none handed off to teach the estimate) would have
  // kept them on one thread for good — at 15 µs, everything up to a 256^3 sgemm — where a
  // warm hand-off measures ~0.1 µs. A re-probe costs two tiny jobs every 0.5 s at most.
  void maybe_reprobe() {
    constexpr std::int64_t kReprobeNs = 500000000;  // 0.5 s
    constexpr double kHighNs = 2000;
    if (handoff() <= kHighNs || threads() <= 1 || busy()) return;
    const std::int64_t now = now_ns();
    std::int64_t last = last_reprobe_ns_.load(std::memory_order_relaxed);
    if (now - last < kReprobeNs ||
        !last_reprobe_ns_.compare_exchange_strong(last, now, std::memory_order_relaxed))
      return;
    for (int r = 0; r < 2; ++r) {
      std::atomic<int> arrived{0};
      bool together = true;
      const std::int64_t t0 = now_ns();
      const bool pooled = try_run(2, [&](index_t b, index_t e) {
        for (index_t c = b; c < e; ++c) {
          arrived.fetch_add(1);
          const std::int64_t until = now_ns() + 200000;
          while (arrived.load() < 2 && now_ns() < until) cpu_relax();
          if (arrived.load() < 2) together = false;
        }
      });
      if (!pooled) return;
      if (r == 1 && together) {
        const double h = handoff(), sample = double(now_ns() - t0);
        handoff_ns_.store(h + (sample - h) / 2, std::memory_order_relaxed);
      }
    }
  }

  // Called once at process exit: waits for a running job, joins every worker, and leaves
  // the pool marked busy so later calls (from threads still alive) run inline.
  void shutdown() {
    while (busy_.exchange(true, std::memory_order_acquire)) std::this_thread::yield();
    shut_down_ = true;
    resize(0);
  }

 private:
  // Claims chunks of job `gen` until none is left. Returns when the ticket moved on.
  void claim_and_run(std::uint64_t gen, bool worker) {
    std::uint64_t t = ticket_.load(std::memory_order_acquire);
    for (;;) {
      if (ticket_gen(t) != gen) return;
      const int chunks = ticket_chunks(t);
      const int idx = ticket_next(t);
      if (idx >= chunks) return;
      if (!ticket_.compare_exchange_weak(t, t + 1, std::memory_order_acq_rel,
                                         std::memory_order_acquire))
        continue;
      // The chunk is ours and the job cannot end before we report it, so fn_/n_ are live.
      if (worker) {  // the first worker to arrive reports how long the hand-off took
        std::int64_t none = -1;
        worker_latency_.compare_exchange_strong(
            none, now_ns() - published_ns_.load(std::memory_order_relaxed),
            std::memory_order_relaxed);
      }
      const index_t begin = n_ * idx / chunks;
      const index_t end = n_ * (idx + 1) / chunks;
      // Kernels do not throw; should a job do so anyway, the chunk still counts as done
      // (so nobody waits forever) and the caller rethrows the first error after the join.
#if defined(__cpp_exceptions) || defined(_CPPUNWIND)
      try {
        (*fn_)(begin, end);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mu_);
        if (!error_) error_ = std::current_exception();
      }
#else
      (*fn_)(begin, end);
#endif
      done_.fetch_add(1, std::memory_order_acq_rel);
      t = ticket_.load(std::memory_order_acquire);
    }
  }

  void worker_main(int index, std::uint64_t seen_gen) {
    for (;;) {
      std::uint64_t t = ticket_.load(std::memory_order_acquire);
      if (ticket_gen(t) == seen_gen) {
        const auto start = std::chrono::steady_clock::now();
        int spins = 0;
        bool yielding = false;
        while (ticket_gen(t = ticket_.load(std::memory_order_acquire)) == seen_gen) {
          if (yielding) {
            std::this_thread::yield();
          } else {
            cpu_relax();
          }
          if (yielding || (++spins & 63) == 0) {
            const auto waited = std::chrono::steady_clock::now() - start;
            if (waited > kSpin) break;
            yielding = waited > kPause;
          }
        }
      }
      if (ticket_gen(t) == seen_gen) {
        std::unique_lock<std::mutex> lock(mu_);
        sleepers_.fetch_add(1, std::memory_order_seq_cst);
        cv_.wait(lock, [&] {
          t = ticket_.load(std::memory_order_seq_cst);
          return ticket_gen(t) != seen_gen;
        });
        sleepers_.fetch_sub(1, std::memory_order_relaxed);
      }
      seen_gen = ticket_gen(t);
      if (index >= target_workers_.load(std::memory_order_acquire)) return;
      claim_and_run(seen_gen, true);
    }
  }

  // Only with busy_ held. Shrinking publishes an empty job so that surplus workers wake,
  // see their index is past the target, and exit.
  // Returns true when it started new workers.
  bool resize(int workers) {
    const int have = int(workers_.size());
    if (workers == have) return false;
    target_workers_.store(workers, std::memory_order_release);
    if (workers < have) {
      const std::uint64_t gen = ++gen_;
      ticket_.store(make_ticket(gen, 0), std::memory_order_seq_cst);
      {
        std::lock_guard<std::mutex> lock(mu_);
        cv_.notify_all();
      }
      for (int i = workers; i < have; ++i) workers_[i].join();
      workers_.resize(workers);
    } else {
      const std::uint64_t gen = ticket_gen(ticket_.load());
      for (int i = have; i < workers; ++i)
        workers_.emplace_back([this, i, gen] { worker_main(i, gen); });
      return true;
    }
    return false;
  }

  // Moving averages of the logarithm, weight 1/8 per sample, each sample clamped to within
  // 4x of the average (only the job's caller writes them, with busy_ held; readers
  // anywhere): one worker the OS left off its core for a millisecond moves a 300 ns
  // estimate by 19%, while a machine that keeps it off raises the estimate 4x in ~8 jobs.
  static void blend(std::atomic<double>& avg, double sample) {
    const double h = avg.load(std::memory_order_relaxed);
    sample = std::clamp(sample, 1.0, 1e6);
    if (h <= 0) {
      avg.store(sample, std::memory_order_relaxed);
      return;
    }
    sample = std::clamp(sample, h / 4, 4 * h);
    avg.store(std::exp(std::log(h) + (std::log(sample) - std::log(h)) / 8),
              std::memory_order_relaxed);
  }

  std::atomic<int> threads_{0};
  std::atomic<bool> busy_{false};
  std::atomic<double> handoff_ns_{0};  // warm: a worker spinning when the job came
  std::atomic<std::int64_t> last_reprobe_ns_{0};
  std::atomic<std::int64_t> published_ns_{0};
  std::atomic<std::int64_t> worker_latency_{-1};
  bool shut_down_ = false;  // written and read with busy_ held
  std::uint64_t gen_ = 0;   // with busy_ held
  std::atomic<std::uint64_t> ticket_{0};
  std::atomic<int> done_{0};
  std::atomic<int> sleepers_{0};
  std::atomic<int> target_workers_{0};
  const std::function<void(index_t, index_t)>* fn_ = nullptr;
  index_t n_ = 0;
  std::mutex error_mu_;
  std::exception_ptr error_;  // first exception of the current job
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_;
};

// The pool object itself is never destroyed: a thread that outlives static destruction
// (a libuv worker finishing a job while the process exits) still finds valid memory and
// runs inline. The guard's destructor joins the workers before the C++ runtime goes.
Pool& pool() {
  static Pool* p = new Pool();
  return *p;
}

struct PoolShutdown {
  ~PoolShutdown() { pool().shutdown(); }
};
PoolShutdown g_pool_shutdown;

}  // namespace

int num_threads() { return pool().threads(); }
void set_num_threads(int n) { pool().set_threads(n); }

void parallel_for(index_t n, const std::function<void(index_t, index_t)>& fn) {
  if (n <= 0) return;
  pool().run(n, fn);
}

// ---- threading policy ---------------------------------------------------------------------

namespace {

// More threads only when the time they save is at least kGain hand-offs: the hand-off
// estimate covers the latency of a running worker picking a job up, not the data it then
// pulls from the caller's caches, nor a worker the OS deschedules after it took a chunk.
// (A worker that is not running at all costs little: the caller runs the chunks nobody
// claimed, so on a loaded machine a split degrades to about one thread, not below.)
constexpr double kGain = 3.0;
// The hand-off is never taken below this (an empty job on an idle machine measures
// ~0.1 µs; a real one moves the caller's cache lines to the worker's core).
constexpr double kMinHandoffNs = 1000.0;
// Until the probe has run (or while another thread runs it).
constexpr double kDefaultHandoffNs = 5000.0;

std::atomic<int> g_probe_state{0};  // 0 not probed, 1 probing, 2 done
std::atomic<std::int64_t> g_last_probe_ns{0};
// A probe that found no worker running is retried no sooner than this.
constexpr std::int64_t kReprobeNs = 100000000;  // 100 ms

// Peak multiply-adds per ns of one thread, per ISA and type, measured at first use.
std::atomic<double> g_mac_per_ns[3][2] = {};

std::atomic<bool> g_always_parallel{false};

}  // namespace

double handoff_ns() {
  Pool& p = pool();
  int state = g_probe_state.load(std::memory_order_acquire);
  if (state == 0 && p.threads() > 1 && p.handoff() <= 0) {  // not yet seeded by real jobs
    const std::int64_t now = now_ns();
    std::int64_t last = g_last_probe_ns.load(std::memory_order_relaxed);
    if ((last == 0 || now - last >= kReprobeNs) && g_probe_state.compare_exchange_strong(state, 1)) {
      g_last_probe_ns.store(now, std::memory_order_relaxed);
      g_probe_state.store(p.probe() ? 2 : 0, std::memory_order_release);
    }
  }
  p.maybe_reprobe();
  const double h = p.handoff();
  return h > 0 ? h : kDefaultHandoffNs;
}

void set_test_always_parallel(bool on) { g_always_parallel.store(on); }

int threads_for(double serial_ns, index_t parts) {
  const int n = int(std::min<index_t>(num_threads(), parts));
  if (n <= 1 || pool().busy()) return 1;
  if (g_always_parallel.load(std::memory_order_relaxed)) return n;
  const double h = std::max(handoff_ns(), kMinHandoffNs);
  const double saved = serial_ns * (1.0 - 1.0 / n);
  return saved >= kGain * h ? n : 1;
}

template <typename T>
double fma_ns(double macs) {
  const int isa = static_cast<int>(active_isa());
  const int f64 = sizeof(T) == 8 ? 1 : 0;
  double rate = g_mac_per_ns[isa][f64].load(std::memory_order_relaxed);
  if (rate <= 0) {
    // ~100 µs once per path and type: GFLOP/s / 2 = multiply-adds per ns.
    rate = std::max(0.1, measure_fma_peak(active_isa(), f64 != 0, 1, 60e-6) / 2);
    g_mac_per_ns[isa][f64].store(rate, std::memory_order_relaxed);
  }
  return macs / rate;
}

double stream_ns(double bytes) {
  constexpr double kBytesPerNs = 96.0;
  return bytes / kBytesPerNs;
}

template double fma_ns<float>(double);
template double fma_ns<double>(double);

}  // namespace nrnn
