// Elementwise kernels: activations and their backward, bias, row sums, BLAS-1 vector ops.
#include "addon/bind.h"

namespace nrnn::addon {

double run_activationForward(const Bound& b) {
  using namespace arg::activationForward;
  return withType(b, [&](auto tag) {
    using T = decltype(tag);
    activation_forward<T>(b.act(act), b.i(rows), b.i(cols), b.ptr<const T>(U), b.i(ldu), b.ptr<T>(C), b.i(ldc));
    return 0.0;
  });
}

double run_activationBackward(const Bound& b) {
  using namespace arg::activationBackward;
  return withType(b, [&](auto tag) {
    using T = decltype(tag);
    activation_backward<T>(b.act(act), b.i(rows), b.i(cols), b.ptr<const T>(dC), b.i(lddC), b.ptr<const T>(C), b.i(ldc),
                           b.ptr<T>(dU), b.i(lddU));
    return 0.0;
  });
}

double run_addBias(const Bound& b) {
  using namespace arg::addBias;
  return withType(b, [&](auto tag) {
    using T = decltype(tag);
    add_bias<T>(b.i(rows), b.i(cols), b.ptr<const T>(arg::addBias::b), b.ptr<T>(X), b.i(ldx));
    return 0.0;
  });
}

double run_rowSum(const Bound& b) {
  using namespace arg::rowSum;
  return withType(b, [&](auto tag) {
    using T = decltype(tag);
    row_sum<T>(b.i(rows), b.i(cols), b.ptr<const T>(X), b.i(ldx), b.ptr<T>(y));
    return 0.0;
  });
}

double run_axpy(const Bound& b) {
  using namespace arg::axpy;
  return withType(b, [&](auto tag) {
    using T = decltype(tag);
    nrnn::axpy<T>(b.i(n), T(b.num(alpha)), b.ptr<const T>(x), b.ptr<T>(y));
    return 0.0;
  });
}

double run_scale(const Bound& b) {
  using namespace arg::scale;
  return withType(b, [&](auto tag) {
    using T = decltype(tag);
    nrnn::scale<T>(b.i(n), T(b.num(alpha)), b.ptr<T>(x));
    return 0.0;
  });
}

double run_mulInPlace(const Bound& b) {
  using namespace arg::mulInPlace;
  return withType(b, [&](auto tag) {
    using T = decltype(tag);
    mul_in_place<T>(b.i(n), b.ptr<const T>(x), b.ptr<T>(y));
    return 0.0;
  });
}

double run_fill(const Bound& b) {
  using namespace arg::fill;
  return withType(b, [&](auto tag) {
    using T = decltype(tag);
    nrnn::fill<T>(b.i(n), T(b.num(value)), b.ptr<T>(x));
    return 0.0;
  });
}

double run_copy(const Bound& b) {
  using namespace arg::copy;
  return withType(b, [&](auto tag) {
    using T = decltype(tag);
    // y may be exactly x (declared): then there is nothing to move.
    if (b.ptr<T>(y) != b.ptr<T>(x)) nrnn::copy<T>(b.i(n), b.ptr<const T>(x), b.ptr<T>(y));
    return 0.0;
  });
}

double run_copyMatrix(const Bound& b) {
  using namespace arg::copyMatrix;
  return withType(b, [&](auto tag) {
    using T = decltype(tag);
    copy_matrix<T>(b.i(rows), b.i(cols), b.ptr<const T>(X), b.i(ldx), b.ptr<T>(Y), b.i(ldy));
    return 0.0;
  });
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
  return withType(b, [&](auto tag) {
    using T = decltype(tag);
    clip_by_value<T>(b.i(n), T(b.num(limit)), b.ptr<T>(x));
    return 0.0;
  });
}

}  // namespace nrnn::addon
