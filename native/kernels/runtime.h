// Runtime services the kernels share: CPU feature dispatch and the thread pool.
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

}  // namespace nrnn
