// Vectorized elementwise math for float32 (exp, tanh, sigmoid), dispatched on the CPU path
// picked at load time (runtime.h). Accuracy, checked by native/tests/test_vmath.cc against
// std::tanh/std::exp in double rounded to float:
//   vtanh: <= 2 ulp over the whole float range; exactly ±1 for |x| >= 9.1; NaN stays NaN;
//          odd (tanh(−x) = −tanh(x)) and exact at 0 and −0.
//   vexp:  <= 2 ulp for x in [−87, 88]; 0 below −87.3, +inf never (clamped at 88.3).
//   vsigmoid: <= 3 ulp where the result is >= 1e-30.
// The generic path is the C library's (std::tanh, std::exp): exact to its own accuracy.
// y may be exactly x (in place).
#pragma once

#include "kernels/kernels.h"

namespace nrnn {

void vexp(const float* x, float* y, index_t n);
void vtanh(const float* x, float* y, index_t n);
void vsigmoid(const float* x, float* y, index_t n);

}  // namespace nrnn
