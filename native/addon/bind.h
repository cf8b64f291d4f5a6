// The kernels behind the checks: one runner per declared kernel, `run_<name>(const Bound&)`, in
// a file per kernel family (bind_<family>.cc, mirroring native/kernels/). A runner reads its
// checked arguments by name (arg::gemm::M) and calls the C++ kernel; it returns the kernel's
// scalar result (a loss, a sum of squares) or 0.
#pragma once

#include "addon/checker.h"
#include "kernels/kernels.h"

namespace nrnn::addon {

#define NRNN_KERNEL_ARG_NAMES
#include "addon/kernel_table.inc"
#undef NRNN_KERNEL_ARG_NAMES

#define NRNN_DECLARE_RUNNER(name, index) double run_##name(const Bound& b);
NRNN_KERNELS(NRNN_DECLARE_RUNNER)
#undef NRNN_DECLARE_RUNNER

// Calls f with a float or a double tag, by the call's dtype.
template <typename F>
double withType(const Bound& b, F&& f) {
  if (b.dtype == DType::F32) return f(float{});
  return f(double{});
}

// The body of a runner whose kernel returns nothing: `call` with the element type T_ bound to
// the call's dtype (float or double), inside `run_<name>(const Bound& b)`.
#define NRNN_RUN_TYPED(T_, call)   \
  withType(b, [&](auto tag_) {     \
    using T_ = decltype(tag_);     \
    call;                          \
    return 0.0;                    \
  })

}  // namespace nrnn::addon
