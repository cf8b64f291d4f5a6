// The vanilla cell's fused sequence kernels. X is dense (n_x, T·m) or token ids (T·m).
#include "addon/bind.h"

namespace nrnn::addon {

double run_rnnForward(const Bound& b) {
  using namespace arg::rnnForward;
  return NRNN_RUN_TYPED(T_, rnn_forward<T_>(b.act(act), b.i(nx), b.i(nc), b.i(T), b.i(m), b.isIds(X) ? nullptr : b.ptr<const T_>(X), b.ids(X),
      b.ptr<const T_>(Wx), b.ptr<const T_>(Wc), b.ptr<const T_>(arg::rnnForward::b), b.ptr<T_>(H)));
}

double run_rnnBackward(const Bound& b) {
  using namespace arg::rnnBackward;
  return NRNN_RUN_TYPED(T_, rnn_backward<T_>(b.act(act), b.i(nx), b.i(nc), b.i(T), b.i(m), b.isIds(X) ? nullptr : b.ptr<const T_>(X), b.ids(X),
      b.ptr<const T_>(H), b.ptr<const T_>(Wx), b.ptr<const T_>(Wc), b.ptr<const T_>(dC), b.ptr<T_>(dU),
      b.ptr<T_>(dWx), b.ptr<T_>(dWc), b.ptr<T_>(db), b.ptr<T_>(dX), b.ptr<T_>(dc0)));
}

}  // namespace nrnn::addon
