// Column gather and scatter-add: Wx·onehot(ids) and its gradient, never forming the one-hot matrix.
#include "addon/bind.h"

namespace nrnn::addon {

double run_gatherColumns(const Bound& b) {
  using namespace arg::gatherColumns;
  return NRNN_RUN_TYPED(T, gather_columns<T>(b.i(rows), b.i(n), b.ptr<const T>(W), b.i(ldw), b.ptr<const std::int32_t>(ids), b.ptr<T>(out),
      b.i(ldo), b.flag(accumulate)));
}

double run_scatterAddColumns(const Bound& b) {
  using namespace arg::scatterAddColumns;
  return NRNN_RUN_TYPED(T, scatter_add_columns<T>(b.i(rows), b.i(n), b.ptr<const T>(dU), b.i(lddU), b.ptr<const std::int32_t>(ids),
      b.ptr<T>(dW), b.i(lddW)));
}

}  // namespace nrnn::addon
