// Softmax + cross-entropy over the columns of logits (V, N), loss and gradient in one call.
//
// A column is strided by ld, so instead of walking one column at a time (one cache line
// per element) the kernel takes a block of NB adjacent columns and sweeps the rows with
// unit stride, keeping per-column state (max, normalizer) in small arrays on the stack:
//   pass 1: mx_j   = max_i z[i, j]
//   pass 2: s_j    = Σ_i exp(z[i, j] - mx_j)                     (double)
//           loss_j = log s_j + mx_j - z[t_j, j]                  (= -log p[t_j])
//   pass 3: d[i, j] = scale · (exp(z[i, j] - mx_j) / s_j - [i == t_j])
// Subtracting the maximum keeps every exponent <= 0, so logits of ±1e4 neither overflow
// nor give inf - inf. Pass 3 reads z[i, j] before writing d[i, j] (the same element), and
// z[t_j, j] is read in pass 2, so dlogits may be exactly logits.
#include <cmath>
#include <cstdint>

#include "kernels/kernels.h"
#include "kernels/vmath.h"

namespace nrnn {

namespace {
// e[j] = exp(z[j] − mx[j]) for one row of a block: vectorized for float (vmath.h), the C
// library's exp for double.
inline void exp_shifted(const float* z, const float* mx, float* e, index_t nb) {
  for (index_t j = 0; j < nb; ++j) e[j] = z[j] - mx[j];
  vexp(e, e, nb);
}
inline void exp_shifted(const double* z, const double* mx, double* e, index_t nb) {
  for (index_t j = 0; j < nb; ++j) e[j] = std::exp(z[j] - mx[j]);
}

constexpr index_t kSoftmaxBlock = 64;  // columns per block: 3 small arrays on the stack
}  // namespace

template <typename T>
double softmax_cross_entropy(index_t V, index_t N, const T* logits, index_t ldl,
                             const std::int32_t* targets, T scale, T* dlogits, index_t ldd) {
  if (V <= 0 || N <= 0) return 0.0;
  double total = 0.0;
  T mx[kSoftmaxBlock];
  double inv_s[kSoftmaxBlock];  // scale / s_j, or 0 for an ignored column
  for (index_t j0 = 0; j0 < N; j0 += kSoftmaxBlock) {
    const index_t nb = N - j0 < kSoftmaxBlock ? N - j0 : kSoftmaxBlock;
    const std::int32_t* tg = targets + j0;

    // pass 1: column maxima over the rows of the block
    for (index_t j = 0; j < nb; ++j) mx[j] = logits[j0 + j];
    for (index_t i = 1; i < V; ++i) {
      const T* z = logits + i * ldl + j0;
      for (index_t j = 0; j < nb; ++j) mx[j] = z[j] > mx[j] ? z[j] : mx[j];
    }

    // pass 2: normalizers s_j = Σ_i exp(z - mx) in double
    double s[kSoftmaxBlock];
    for (index_t j = 0; j < nb; ++j) s[j] = 0.0;
    T e[kSoftmaxBlock];
    for (index_t i = 0; i < V; ++i) {
      exp_shifted(logits + i * ldl + j0, mx, e, nb);
      for (index_t j = 0; j < nb; ++j) s[j] += double(e[j]);
    }
    for (index_t j = 0; j < nb; ++j) {
      if (tg[j] < 0) {
        inv_s[j] = 0.0;
        continue;
      }
      // -log p[t] = log s + mx - z[t]; the difference mx - z[t] >= 0 is formed first.
      const double zt = double(logits[index_t(tg[j]) * ldl + j0 + j]);
      total += (double(mx[j]) - zt) + std::log(s[j]);
      inv_s[j] = double(scale) / s[j];
    }

    // pass 3: d = scale · (p - onehot(t)), formed in double before the one rounding to T;
    // ignored columns are written as exact zeros (even if their logits hold NaN).
    for (index_t i = 0; i < V; ++i) {
      T* d = dlogits + i * ldd + j0;
      // read the row before writing it: d may be exactly the logits
      exp_shifted(logits + i * ldl + j0, mx, e, nb);
      for (index_t j = 0; j < nb; ++j) {
        const double p_scaled = double(e[j]) * inv_s[j];
        const double hit = index_t(tg[j]) == i ? double(scale) : 0.0;
        d[j] = tg[j] < 0 ? T(0) : T(p_scaled - hit);
      }
    }
  }
  return total;
}

template double softmax_cross_entropy<float>(index_t, index_t, const float*, index_t,
                                             const std::int32_t*, float, float*, index_t);
template double softmax_cross_entropy<double>(index_t, index_t, const double*, index_t,
                                              const std::int32_t*, double, double*, index_t);

}  // namespace nrnn
