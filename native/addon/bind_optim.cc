// Optimizer updates over flat parameter arrays.
#include "addon/bind.h"

namespace nrnn::addon {

double run_sgdUpdate(const Bound& b) {
  using namespace arg::sgdUpdate;
  return NRNN_RUN_TYPED(T, sgd_update<T>(b.i(n), b.ptr<T>(p), b.ptr<const T>(g), b.ptr<T>(velocity), T(b.num(lr)), T(b.num(momentum)),
      b.flag(nesterov), T(b.num(weightDecay))));
}

double run_adamUpdate(const Bound& b) {
  using namespace arg::adamUpdate;
  return NRNN_RUN_TYPED(T, adam_update<T>(b.i(n), b.ptr<T>(p), b.ptr<T>(g), b.ptr<T>(m), b.ptr<T>(v), T(b.num(lr)), T(b.num(beta1)),
      T(b.num(beta2)), T(b.num(eps)), T(b.num(weightDecay)), b.flag(decoupled), b.i(step)));
}

double run_adagradUpdate(const Bound& b) {
  using namespace arg::adagradUpdate;
  return NRNN_RUN_TYPED(T, adagrad_update<T>(b.i(n), b.ptr<T>(p), b.ptr<const T>(g), b.ptr<T>(h), T(b.num(lr)), T(b.num(eps)),
      T(b.num(weightDecay))));
}

double run_rmspropUpdate(const Bound& b) {
  using namespace arg::rmspropUpdate;
  return NRNN_RUN_TYPED(T, rmsprop_update<T>(b.i(n), b.ptr<T>(p), b.ptr<const T>(g), b.ptr<T>(s), T(b.num(lr)), T(b.num(alpha)),
      T(b.num(eps)), T(b.num(weightDecay))));
}

}  // namespace nrnn::addon
