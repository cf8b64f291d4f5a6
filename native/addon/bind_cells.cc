// The gated cells' fused sequence kernels (native/kernels/lstm.cc, gru.cc). X is dense
// (n_x, T·m) or token ids (T·m); dcT and dX may be null.
#include "addon/bind.h"

namespace nrnn::addon {

double run_lstmForward(const Bound& b) {
  using namespace arg::lstmForward;
  return NRNN_RUN_TYPED(T_, lstm_forward<T_>(b.i(nx), b.i(nc), b.i(T), b.i(m), b.isIds(X) ? nullptr : b.ptr<const T_>(X), b.ids(X),
      b.ptr<const T_>(Wx), b.ptr<const T_>(Wc), b.ptr<const T_>(bx), b.ptr<const T_>(bc), b.ptr<T_>(H),
      b.ptr<T_>(S), b.ptr<T_>(G)));
}

double run_lstmBackward(const Bound& b) {
  using namespace arg::lstmBackward;
  return NRNN_RUN_TYPED(T_, lstm_backward<T_>(b.i(nx), b.i(nc), b.i(T), b.i(m), b.isIds(X) ? nullptr : b.ptr<const T_>(X), b.ids(X),
      b.ptr<const T_>(Wx), b.ptr<const T_>(Wc), b.ptr<const T_>(H), b.ptr<const T_>(S),
      b.ptr<const T_>(G), b.ptr<const T_>(dH), b.ptr<const T_>(dcT), b.ptr<T_>(dG), b.ptr<T_>(dWx),
      b.ptr<T_>(dWc), b.ptr<T_>(dbx), b.ptr<T_>(dbc), b.ptr<T_>(dX), b.ptr<T_>(dh0), b.ptr<T_>(dc0)));
}

double run_gruForward(const Bound& b) {
  using namespace arg::gruForward;
  return NRNN_RUN_TYPED(T_, gru_forward<T_>(b.i(nx), b.i(nc), b.i(T), b.i(m), b.isIds(X) ? nullptr : b.ptr<const T_>(X), b.ids(X),
      b.ptr<const T_>(Wx), b.ptr<const T_>(Wc), b.ptr<const T_>(bx), b.ptr<const T_>(bc), b.ptr<T_>(H),
      b.ptr<T_>(G)));
}

double run_gruBackward(const Bound& b) {
  using namespace arg::gruBackward;
  return NRNN_RUN_TYPED(T_, gru_backward<T_>(b.i(nx), b.i(nc), b.i(T), b.i(m), b.isIds(X) ? nullptr : b.ptr<const T_>(X), b.ids(X),
      b.ptr<const T_>(Wx), b.ptr<const T_>(Wc), b.ptr<const T_>(H), b.ptr<const T_>(G),
      b.ptr<const T_>(dH), b.ptr<T_>(dG), b.ptr<T_>(dWx), b.ptr<T_>(dWc), b.ptr<T_>(dbx),
      b.ptr<T_>(dbc), b.ptr<T_>(dX), b.ptr<T_>(dh0)));
}

}  // namespace nrnn::addon
