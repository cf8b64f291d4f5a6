// Optimizer updates over flat parameter arrays, in PyTorch's forms (torch.optim, default
// options: no dampening, no amsgrad, not centered, no lr decay), so a run here and in
// PyTorch follow the same trajectory. Per-element arithmetic is in T, as PyTorch does for
// a tensor of that dtype; scalar factors (bias corrections) are formed in double.
#include <cmath>
#include <cstdint>

#include "kernels/kernels.h"
#include "kernels/runtime.h"

namespace nrnn {

// g' = g + wd·p;  v = momentum·v + g';  step = nesterov ? g' + momentum·v : v;  p -= lr·step.
// With v zeroed at the start, the first update gives v = g', which is PyTorch's
// "buf = clone(g)" on the first step.
template <typename T>
void sgd_update(index_t n, T* p, const T* g, T* velocity, T lr, T momentum, bool nesterov,
                T weight_decay) {
  if (momentum == T(0) || velocity == nullptr) {
    for (index_t i = 0; i < n; ++i) p[i] -= lr * (g[i] + weight_decay * p[i]);
    return;
  }
  for (index_t i = 0; i < n; ++i) {
    const T gi = g[i] + weight_decay * p[i];
    const T vi = momentum * velocity[i] + gi;
    velocity[i] = vi;
    p[i] -= lr * (nesterov ? gi + momentum * vi : vi);
  }
}

// Adam / AdamW (step counts from 1):
//   AdamW: p *= 1 - lr·wd          Adam: g' = g + wd·p
//   m = β1·m + (1-β1)·g';  v = β2·v + (1-β2)·g'²
//   p -= lr·m̂/(√v̂ + eps),  m̂ = m/(1-β1^t), v̂ = v/(1-β2^t)
// written as PyTorch does: p -= (lr/bc1)·m / (√v/√bc2 + eps), bc_k = 1 - β_k^t.
namespace {

// The Adam loop body, compiled twice: portable, and inside an AVX2+FMA function so the
// compiler vectorizes it 8 (float) or 4 (double) wide. The build does not contract a·b + c
// into FMA (ISO C++ mode), and √ and ÷ round exactly, so both paths give identical bits.
template <typename T>
__attribute__((always_inline)) inline void adam_loop(index_t n, T* p, const T* g, T* m, T* v,
                                                     T beta1, T beta2, T eps, T step_size,
                                                     T sqrt_bc2, T decay, T l2) {
  for (index_t i = 0; i < n; ++i) {
    const T pi = p[i] * decay;
    const T gi = g[i] + l2 * p[i];
    const T mi = beta1 * m[i] + (T(1) - beta1) * gi;
    const T vi = beta2 * v[i] + (T(1) - beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = pi - step_size * mi / (std::sqrt(vi) / sqrt_bc2 + eps);
  }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
template <typename T>
__attribute__((target("avx2,fma"))) void adam_loop_avx2(index_t n, T* p, const T* g, T* m, T* v,
                                                        T beta1, T beta2, T eps, T step_size,
                                                        T sqrt_bc2, T decay, T l2) {
  adam_loop(n, p, g, m, v, beta1, beta2, eps, step_size, sqrt_bc2, decay, l2);
}
#endif

}  // namespace

template <typename T>
void adam_update(index_t n, T* p, const T* g, T* m, T* v, T lr, T beta1, T beta2, T eps,
                 T weight_decay, bool decoupled, std::int64_t step) {
  const double t = double(step < 1 ? 1 : step);
  const double bc1 = 1.0 - std::pow(double(beta1), t);
  const double bc2 = 1.0 - std::pow(double(beta2), t);
  const T step_size = T(double(lr) / bc1);
  const T sqrt_bc2 = T(std::sqrt(bc2));
  const T decay = decoupled ? T(1) - lr * weight_decay : T(1);  // AdamW: p *= 1 - lr·wd
  const T l2 = decoupled ? T(0) : weight_decay;                 // Adam: g' = g + wd·p
  // Elementwise, so any split over threads gives the same bits. The threading policy
  // (runtime.h) weighs the time of the pass (p, g, m, v read, p, m, v written) against the
  // pool's hand-off; pieces are whole 64-byte lines, at least 4096 elements each.
  constexpr index_t kGrain = 4096;
  const index_t pieces = (n + kGrain - 1) / kGrain;
  const int nt = threads_for(stream_ns(7.0 * double(n) * sizeof(T)), pieces);
  parallel_for(nt, [&](index_t c0, index_t c1) {
    const index_t i0 = pieces * c0 / nt * kGrain;
    const index_t i1 = c1 == nt ? n : pieces * c1 / nt * kGrain;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (active_isa() != Isa::Generic) {
      adam_loop_avx2(i1 - i0, p + i0, g + i0, m + i0, v + i0, beta1, beta2, eps, step_size,
                     sqrt_bc2, decay, l2);
      return;
    }
#endif
    adam_loop(i1 - i0, p + i0, g + i0, m + i0, v + i0, beta1, beta2, eps, step_size, sqrt_bc2,
              decay, l2);
  });
}

// Adagrad: g' = g + wd·p;  h += g'²;  p -= lr·g' / (√h + eps)
template <typename T>
void adagrad_update(index_t n, T* p, const T* g, T* h, T lr, T eps, T weight_decay) {
  for (index_t i = 0; i < n; ++i) {
    const T gi = g[i] + weight_decay * p[i];
    const T hi = h[i] + gi * gi;
    h[i] = hi;
    p[i] -= lr * gi / (std::sqrt(hi) + eps);
  }
}

// RMSProp: g' = g + wd·p;  s = α·s + (1-α)·g'²;  p -= lr·g' / (√s + eps)
template <typename T>
void rmsprop_update(index_t n, T* p, const T* g, T* s, T lr, T alpha, T eps, T weight_decay) {
  for (index_t i = 0; i < n; ++i) {
    const T gi = g[i] + weight_decay * p[i];
    const T si = alpha * s[i] + (T(1) - alpha) * gi * gi;
    s[i] = si;
    p[i] -= lr * gi / (std::sqrt(si) + eps);
  }
}

#define NRNN_INSTANTIATE_OPTIM(T)                                                          \
  template void sgd_update<T>(index_t, T*, const T*, T*, T, T, bool, T);                  \
  template void adam_update<T>(index_t, T*, const T*, T*, T*, T, T, T, T, T, bool,        \
                               std::int64_t);                                             \
  template void adagrad_update<T>(index_t, T*, const T*, T*, T, T, T);                    \
  template void rmsprop_update<T>(index_t, T*, const T*, T*, T, T, T, T);

NRNN_INSTANTIATE_OPTIM(float)
NRNN_INSTANTIATE_OPTIM(double)
#undef NRNN_INSTANTIATE_OPTIM

}  // namespace nrnn
