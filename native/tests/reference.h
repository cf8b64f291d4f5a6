// Naive reference kernels (test-only, header-only): the oracles the kernels are checked
// against. Written from the math, not from the kernels: double arithmetic, one element or
// one column at a time, one-hot matrices built explicitly, and the RNN as a per-step loop
// over gemm_reference. Slow on purpose.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/kernels.h"

namespace nrnn_ref {

using nrnn::Activation;
using nrnn::index_t;

inline double act_value(Activation act, double u) {
  switch (act) {
    case Activation::Tanh: return std::tanh(u);
    case Activation::Relu: return u > 0.0 ? u : 0.0;
    case Activation::Sigmoid:
      // the two algebraically equal forms, each used where its exp cannot overflow
      return u >= 0.0 ? 1.0 / (1.0 + std::exp(-u)) : std::exp(u) / (1.0 + std::exp(u));
  }
  return 0.0;
}

// f'(u) expressed through c = f(u)
inline double act_slope(Activation act, double c) {
  switch (act) {
    case Activation::Tanh: return 1.0 - c * c;
    case Activation::Relu: return c > 0.0 ? 1.0 : 0.0;
    case Activation::Sigmoid: return c * (1.0 - c);
  }
  return 0.0;
}

template <typename T>
void activation_forward(Activation act, index_t rows, index_t cols, const T* U, index_t ldu,
                        T* C, index_t ldc) {
  for (index_t i = 0; i < rows; ++i)
    for (index_t j = 0; j < cols; ++j) C[i * ldc + j] = T(act_value(act, double(U[i * ldu + j])));
}

template <typename T>
void activation_backward(Activation act, index_t rows, index_t cols, const T* dC, index_t lddc,
                         const T* C, index_t ldc, T* dU, index_t lddu) {
  for (index_t j = 0; j < cols; ++j)
    for (index_t i = 0; i < rows; ++i)
      dU[i * lddu + j] = T(double(dC[i * lddc + j]) * act_slope(act, double(C[i * ldc + j])));
}

template <typename T>
void add_bias(index_t rows, index_t cols, const T* b, T* X, index_t ldx) {
  for (index_t j = 0; j < cols; ++j)
    for (index_t i = 0; i < rows; ++i) X[i * ldx + j] = T(double(X[i * ldx + j]) + double(b[i]));
}

template <typename T>
void row_sum(index_t rows, index_t cols, const T* X, index_t ldx, T* y) {
  for (index_t i = 0; i < rows; ++i) {
    long double acc = y[i];
    for (index_t j = 0; j < cols; ++j) acc += X[i * ldx + j];
    y[i] = T(acc);
  }
}

template <typename T>
double sum_squares(index_t n, const T* x) {
  long double acc = 0.0L;
  for (index_t i = 0; i < n; ++i) acc += (long double)x[i] * (long double)x[i];
  return double(acc);
}

// One column at a time, in long double (so lse = max + log s keeps its digits at logits
// of ±1e4): p = exp(z - lse), loss = lse - z[t].
template <typename T>
double softmax_cross_entropy(index_t V, index_t N, const T* logits, index_t ldl,
                             const std::int32_t* targets, T scale, T* dlogits, index_t ldd) {
  long double total = 0.0L;
  if (V <= 0) return 0.0;
  std::vector<long double> z(static_cast<std::size_t>(V));
  for (index_t j = 0; j < N; ++j) {
    for (index_t i = 0; i < V; ++i) z[i] = (long double)logits[i * ldl + j];
    if (targets[j] < 0) {
      for (index_t i = 0; i < V; ++i) dlogits[i * ldd + j] = T(0);
      continue;
    }
    const long double zmax = *std::max_element(z.begin(), z.end());
    long double s = 0.0L;
    for (index_t i = 0; i < V; ++i) s += std::exp(z[i] - zmax);
    const long double lse = zmax + std::log(s);
    total += lse - z[targets[j]];
    for (index_t i = 0; i < V; ++i) {
      const long double p = std::exp(z[i] - lse);
      dlogits[i * ldd + j] = T((long double)scale * (p - (i == targets[j] ? 1.0L : 0.0L)));
    }
  }
  return double(total);
}

// The one-hot matrix (V, n) of ids, built explicitly (what the kernels must never do).
template <typename T>
std::vector<T> one_hot(index_t V, index_t n, const std::int32_t* ids) {
  std::vector<T> oh(static_cast<std::size_t>(V * n), T(0));
  for (index_t j = 0; j < n; ++j) oh[ids[j] * n + j] = T(1);
  return oh;
}

// out (+)= W·onehot(ids)
template <typename T>
void gather_columns(index_t rows, index_t n, const T* W, index_t ldw, index_t V,
                    const std::int32_t* ids, T* out, index_t ldo, bool accumulate) {
  const std::vector<T> oh = one_hot<T>(V, n, ids);
  nrnn::gemm_reference(false, false, rows, n, V, T(1), W, ldw, oh.data(), n,
                       accumulate ? T(1) : T(0), out, ldo);
}

// dW += dU·onehot(ids)ᵀ
template <typename T>
void scatter_add_columns(index_t rows, index_t n, const T* dU, index_t lddu, index_t V,
                         const std::int32_t* ids, T* dW, index_t lddw) {
  const std::vector<T> oh = one_hot<T>(V, n, ids);
  nrnn::gemm_reference(false, true, rows, V, n, T(1), dU, lddu, oh.data(), n, T(1), dW, lddw);
}

// The RNN step by step, c_t = f(Wc c_{t-1} + Wx x_t + b), one (n_c, m) block per step held
// in its own vector; x_t is the dense block or the one-hot of ids[t·m:(t+1)·m].
// Returns H = [c0 | C_1 .. C_T] in the kernel's layout, (n_c, (T+1)·m).
template <typename T>
std::vector<T> rnn_forward(Activation act, index_t n_x, index_t n_c, index_t steps, index_t m,
                           const T* X, const std::int32_t* ids, const T* Wx, const T* Wc,
                           const T* b, const T* c0) {
  const index_t ldh = (steps + 1) * m;
  std::vector<T> H(static_cast<std::size_t>(n_c * ldh));
  std::vector<T> c_prev(c0, c0 + n_c * m), u(static_cast<std::size_t>(n_c * m));
  for (index_t i = 0; i < n_c; ++i)
    for (index_t j = 0; j < m; ++j) H[i * ldh + j] = c0[i * m + j];
  for (index_t t = 0; t < steps; ++t) {
    // u = Wx·x_t
    if (ids != nullptr) {
      const std::vector<T> x_t = one_hot<T>(n_x, m, ids + t * m);
      nrnn::gemm_reference(false, false, n_c, m, n_x, T(1), Wx, n_x, x_t.data(), m, T(0),
                           u.data(), m);
    } else {
      nrnn::gemm_reference(false, false, n_c, m, n_x, T(1), Wx, n_x, X + t * m, steps * m,
                           T(0), u.data(), m);
    }
    // u += Wc·c_{t-1}
    nrnn::gemm_reference(false, false, n_c, m, n_c, T(1), Wc, n_c, c_prev.data(), m, T(1),
                         u.data(), m);
    // c_t = f(u + b)
    for (index_t i = 0; i < n_c; ++i)
      for (index_t j = 0; j < m; ++j) {
        const T c = T(act_value(act, double(u[i * m + j]) + double(b[i])));
        c_prev[i * m + j] = c;
        H[i * ldh + (t + 1) * m + j] = c;
      }
  }
  return H;
}

// BPTT step by step, with the incoming gradient dh carried in its own vector:
//   dh = dC_T;  for t = T..1: du_t = dh ⊙ f'(c_t);  dWx += du_t x_tᵀ;  dWc += du_t c_{t-1}ᵀ;
//   db += rowsum(du_t);  dX_t += Wxᵀ du_t;  dh = dC_{t-1} + Wcᵀ du_t;   finally dc0 += dh.
// Writes dU (n_c, T·m) and accumulates the rest, like the kernel.
template <typename T>
void rnn_backward(Activation act, index_t n_x, index_t n_c, index_t steps, index_t m,
                  const T* X, const std::int32_t* ids, const T* H, const T* Wx, const T* Wc,
                  const T* dC, T* dU, T* dWx, T* dWc, T* db, T* dX, T* dc0) {
  if (steps <= 0) return;
  const index_t Tm = steps * m, ldh = (steps + 1) * m;
  std::vector<T> dh(static_cast<std::size_t>(n_c * m)), du(static_cast<std::size_t>(n_c * m));
  for (index_t i = 0; i < n_c; ++i)
    for (index_t j = 0; j < m; ++j) dh[i * m + j] = dC[i * Tm + (steps - 1) * m + j];
  for (index_t t = steps; t >= 1; --t) {
    for (index_t i = 0; i < n_c; ++i)
      for (index_t j = 0; j < m; ++j) {
        const double c = double(H[i * ldh + t * m + j]);
        du[i * m + j] = T(double(dh[i * m + j]) * act_slope(act, c));
        dU[i * Tm + (t - 1) * m + j] = du[i * m + j];
      }
    // dWx += du_t·x_tᵀ
    if (ids != nullptr) {
      const std::vector<T> x_t = one_hot<T>(n_x, m, ids + (t - 1) * m);
      nrnn::gemm_reference(false, true, n_c, n_x, m, T(1), du.data(), m, x_t.data(), m, T(1),
                           dWx, n_x);
    } else {
      nrnn::gemm_reference(false, true, n_c, n_x, m, T(1), du.data(), m, X + (t - 1) * m, Tm,
                           T(1), dWx, n_x);
      if (dX != nullptr)  // dX_t += Wxᵀ·du_t
        nrnn::gemm_reference(true, false, n_x, m, n_c, T(1), Wx, n_x, du.data(), m, T(1),
                             dX + (t - 1) * m, Tm);
    }
    // dWc += du_t·c_{t-1}ᵀ
    nrnn::gemm_reference(false, true, n_c, n_c, m, T(1), du.data(), m, H + (t - 1) * m, ldh,
                         T(1), dWc, n_c);
    // db += rowsum(du_t)
    for (index_t i = 0; i < n_c; ++i) {
      double s = double(db[i]);
      for (index_t j = 0; j < m; ++j) s += double(du[i * m + j]);
      db[i] = T(s);
    }
    // dh = dC_{t-1} + Wcᵀ·du_t (dC_0 does not exist: dh then is dc0's increment)
    for (index_t i = 0; i < n_c; ++i)
      for (index_t j = 0; j < m; ++j)
        dh[i * m + j] = t > 1 ? dC[i * Tm + (t - 2) * m + j] : T(0);
    nrnn::gemm_reference(true, false, n_c, m, n_c, T(1), Wc, n_c, du.data(), m, T(1), dh.data(),
                         m);
  }
  for (index_t k = 0; k < n_c * m; ++k) dc0[k] = T(double(dc0[k]) + double(dh[k]));
}

// ---- optimizers, written as the textbook/paper math in double --------------------------

template <typename T>
void sgd_update(index_t n, T* p, const T* g, T* velocity, double lr, double momentum,
                bool nesterov, double wd) {
  for (index_t i = 0; i < n; ++i) {
    const double grad = double(g[i]) + wd * double(p[i]);
    double step = grad;
    if (momentum != 0.0) {
      const double v = momentum * double(velocity[i]) + grad;
      velocity[i] = T(v);
      step = nesterov ? grad + momentum * v : v;
    }
    p[i] = T(double(p[i]) - lr * step);
  }
}

template <typename T>
void adam_update(index_t n, T* p, const T* g, T* m, T* v, double lr, double beta1,
                 double beta2, double eps, double wd, bool decoupled, std::int64_t step) {
  for (index_t i = 0; i < n; ++i) {
    double param = double(p[i]);
    double grad = double(g[i]);
    if (decoupled) {
      param -= lr * wd * param;
    } else {
      grad += wd * param;
    }
    const double mi = beta1 * double(m[i]) + (1.0 - beta1) * grad;
    const double vi = beta2 * double(v[i]) + (1.0 - beta2) * grad * grad;
    m[i] = T(mi);
    v[i] = T(vi);
    const double m_hat = mi / (1.0 - std::pow(beta1, double(step)));
    const double v_hat = vi / (1.0 - std::pow(beta2, double(step)));
    p[i] = T(param - lr * m_hat / (std::sqrt(v_hat) + eps));
  }
}

template <typename T>
void adagrad_update(index_t n, T* p, const T* g, T* h, double lr, double eps, double wd) {
  for (index_t i = 0; i < n; ++i) {
    const double grad = double(g[i]) + wd * double(p[i]);
    const double hi = double(h[i]) + grad * grad;
    h[i] = T(hi);
    p[i] = T(double(p[i]) - lr * grad / (std::sqrt(hi) + eps));
  }
}

template <typename T>
void rmsprop_update(index_t n, T* p, const T* g, T* s, double lr, double alpha, double eps,
                    double wd) {
  for (index_t i = 0; i < n; ++i) {
    const double grad = double(g[i]) + wd * double(p[i]);
    const double si = alpha * double(s[i]) + (1.0 - alpha) * grad * grad;
    s[i] = T(si);
    p[i] = T(double(p[i]) - lr * grad / (std::sqrt(si) + eps));
  }
}

}  // namespace nrnn_ref
