// Elementwise kernels: activations and their backward, bias, row sums, BLAS-1 vector ops.
#include "addon/bind.h"

namespace nrnn::addon {

double run_activationForward(const Bound& b) {
  using namespace arg::activationForward;
  return NRNN_RUN_TYPED(T, activation_forward<T>(b.act(act), b.i(rows), b.i(cols), b.ptr<const T>(U), b.i(ldu), b.ptr<T>(C), b.i(ldc)));
}

double run_activationBackward(const Bound& b) {
  using namespace arg::activationBackward;
  return NRNN_RUN_TYPED(T, activation_backward<T>(b.act(act), b.i(rows), b.i(cols), b.ptr<const T>(dC), b.i(lddC), b.ptr<const T>(C), b.i(ldc),
      b.ptr<T>(dU), b.i(lddU)));
}

double run_addBias(const Bound& b) {
  using namespace arg::addBias;
  return NRNN_RUN_TYPED(T, add_bias<T>(b.i(rows), b.i(cols), b.ptr<const T>(arg::addBias::b), b.ptr<T>(X), b.i(ldx)));
}

double run_rowSum(const Bound& b) {
  using namespace arg::rowSum;
  return NRNN_RUN_TYPED(T, row_sum<T>(b.i(rows), b.i(cols), b.ptr<const T>(X), b.i(ldx), b.ptr<T>(y)));
}

double run_axpy(const Bound& b) {
  using namespace arg::axpy;
  return NRNN_RUN_TYPED(T, nrnn::axpy<T>(b.i(n), T(b.num(alpha)), b.ptr<const T>(x), b.ptr<T>(y)));
}

double run_scale(const Bound& b) {
  using namespace arg::scale;
  return NRNN_RUN_TYPED(T, nrnn::scale<T>(b.i(n), T(b.num(alpha)), b.ptr<T>(x)));
}

double run_mulInPlace(const Bound& b) {
  using namespace arg::mulInPlace;
  return withType(b, [&](auto tag) {
    using T = decltype(tag);
    mul_in_place<T>(b.i(n), b.ptr<const T>(x), b.ptr<T>(y));
    return 0.0;
  });
}

double run_dropoutMask(const Bound& b) {
  using namespace arg::dropoutMask;
  // The state words are declared integers in [0, 2^32).
  const std::uint32_t state[4] = {std::uint32_t(b.i(s0)), std::uint32_t(b.i(s1)),
                                  std::uint32_t(b.i(s2)), std::uint32_t(b.i(s3))};
  return NRNN_RUN_TYPED(T, dropout_mask<T>(b.i(n), b.num(p), state, b.ptr<T>(mask)));
}

double run_fill(const Bound& b) {
  using namespace arg::fill;
  return NRNN_RUN_TYPED(T, nrnn::fill<T>(b.i(n), T(b.num(value)), b.ptr<T>(x)));
}

double run_copy(const Bound& b) {
  using namespace arg::copy;
  // y may be exactly x (declared): then there is nothing to move.
  if (b.p[y] == b.p[x]) return 0.0;
  return NRNN_RUN_TYPED(T, nrnn::copy<T>(b.i(n), b.ptr<const T>(x), b.ptr<T>(y)));
}

double run_copyMatrix(const Bound& b) {
  using namespace arg::copyMatrix;
  return NRNN_RUN_TYPED(T, copy_matrix<T>(b.i(rows), b.i(cols), b.ptr<const T>(X), b.i(ldx), b.ptr<T>(Y), b.i(ldy)));
}

double run_sumSquares(const Bound& b) {
  using namespace arg::sumSquares;
  const double s = withType(b, [&](auto tag) {
    using T = decltype(tag);
    return sum_squares<T>(b.i(n), b.ptr<const T>(x));
  });
  *b.ptr<double>(out) += s;
  return s;
}

double run_clipByValue(const Bound& b) {
  using namespace arg::clipByValue;
  return NRNN_RUN_TYPED(T, clip_by_value<T>(b.i(n), T(b.num(limit)), b.ptr<T>(x)));
}

}  // namespace nrnn::addon
