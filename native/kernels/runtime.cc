// CPU detection and threads (placeholder: one thread; the persistent pool comes with the
// performance work).
#include "kernels/runtime.h"

namespace nrnn {

namespace {
Isa detect() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return Isa::Avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::Avx2;
#endif
  return Isa::Generic;
}
Isa g_detected = detect();
Isa g_active = g_detected;
}  // namespace

Isa detected_isa() { return g_detected; }
Isa active_isa() { return g_active; }
bool set_isa(Isa isa) {
  if (static_cast<int>(isa) > static_cast<int>(g_detected)) return false;
  g_active = isa;
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

int num_threads() { return 1; }
void set_num_threads(int) {}

void parallel_for(index_t n, const std::function<void(index_t, index_t)>& fn) {
  if (n > 0) fn(0, n);
}

}  // namespace nrnn
