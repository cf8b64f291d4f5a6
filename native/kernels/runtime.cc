// CPU feature dispatch and the persistent thread pool the kernels share.
//
// Dispatch: the best instruction-set path is detected once (static initialisation) with
// __builtin_cpu_supports; kernels read active_isa() at call time (one relaxed load), so a
// test can force a lower path with set_isa() between calls.
//
// Pool: workers are created lazily on the first parallel job and then live until process
// exit. One job runs at a time; a caller that finds the pool busy (another libuv thread,
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

// A worker that finished a job spins this long before sleeping: the kernels of one
// training step come back to back (a few µs apart), and a condition-variable wake-up
// costs tens of µs on a VM. Short enough not to steal a shared core for long.
constexpr auto kSpin = std::chrono::microseconds(200);

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
    const int want = threads();
    if (n <= 1 || want <= 1 || busy_.exchange(true, std::memory_order_acquire)) {
      fn(0, n);
      return;
    }
    // We own the pool until busy_ is released.
    if (shut_down_) {  // process exit has begun: never restart workers
      busy_.store(false, std::memory_order_release);
      fn(0, n);
      return;
    }
    resize(want - 1);
    const int chunks = int(std::min<index_t>(n, want));
    fn_ = &fn;
    n_ = n;
    done_.store(0, std::memory_order_relaxed);
    const std::uint64_t gen = ++gen_;
    ticket_.store(make_ticket(gen, chunks), std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) > 0) {
      std::lock_guard<std::mutex> lock(mu_);
      cv_.notify_all();
    }
    claim_and_run(gen);
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
    std::exception_ptr error = std::move(error_);
    error_ = nullptr;
    busy_.store(false, std::memory_order_release);
#if defined(__cpp_exceptions) || defined(_CPPUNWIND)
    if (error) std::rethrow_exception(error);
#endif
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
  void claim_and_run(std::uint64_t gen) {
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
        const auto until = std::chrono::steady_clock::now() + kSpin;
        int spins = 0;
        while (ticket_gen(t = ticket_.load(std::memory_order_acquire)) == seen_gen) {
          cpu_relax();
          if ((++spins & 255) == 0 && std::chrono::steady_clock::now() > until) break;
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
      claim_and_run(seen_gen);
    }
  }

  // Only with busy_ held. Shrinking publishes an empty job so that surplus workers wake,
  // see their index is past the target, and exit.
  void resize(int workers) {
    const int have = int(workers_.size());
    if (workers == have) return;
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
    }
  }

  std::atomic<int> threads_{0};
  std::atomic<bool> busy_{false};
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

}  // namespace nrnn
