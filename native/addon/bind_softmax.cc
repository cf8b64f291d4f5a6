// Softmax + cross-entropy over the columns of the logits.
#include "addon/bind.h"

namespace nrnn::addon {

double run_softmaxCrossEntropy(const Bound& b) {
  using namespace arg::softmaxCrossEntropy;
  const double s = withType(b, [&](auto tag) {
    using T = decltype(tag);
    return softmax_cross_entropy<T>(b.i(V), b.i(N), b.ptr<const T>(logits), b.i(ldl), b.ptr<const std::int32_t>(targets),
                                    T(b.num(scale)), b.ptr<T>(dLogits), b.i(ldd));
  });
  *b.ptr<double>(loss) += s;
  return s;
}

}  // namespace nrnn::addon
