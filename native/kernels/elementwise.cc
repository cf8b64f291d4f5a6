// Elementwise kernels: activations (forward and the seed's backward from the saved output),
// bias broadcast, row sums and the flat BLAS-1 helpers the optimizers and trainer use.
// Portable scalar loops; the inner loop always walks one row (unit stride) so the
// compiler can vectorize it.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/kernels.h"
#include "kernels/vmath.h"

namespace nrnn {

namespace {

// Sigmoid written so that no intermediate overflows to a NaN: for u -> -inf, exp(-u) -> inf
// and 1 / (1 + inf) = 0, which is the limit.
template <typename T>
inline T sigmoid(T u) {
  return T(1) / (T(1) + std::exp(-u));
}

// float32 rows go through the vectorized tanh/sigmoid (vmath.h states their accuracy);
// float64 keeps the C library's.
inline bool vector_row(Activation act, index_t cols, const float* u, float* c) {
  if (act == Activation::Tanh) return vtanh(u, c, cols), true;
  if (act == Activation::Sigmoid) return vsigmoid(u, c, cols), true;
  return false;
}
inline bool vector_row(Activation, index_t, const double*, double*) { return false; }

}  // namespace

// U and C are (rows, cols) views; C may be exactly U.
template <typename T>
void activation_forward(Activation act, index_t rows, index_t cols, const T* U, index_t ldu,
                        T* C, index_t ldc) {
  if (rows <= 0 || cols <= 0) return;
  for (index_t i = 0; i < rows; ++i) {
    const T* u = U + i * ldu;
    T* c = C + i * ldc;
    if (vector_row(act, cols, u, c)) continue;
    switch (act) {
      case Activation::Tanh:
        for (index_t j = 0; j < cols; ++j) c[j] = std::tanh(u[j]);
        break;
      case Activation::Relu:
        // std::max(u, 0) returns u when u is NaN, so a NaN still reaches the trainer's check.
        for (index_t j = 0; j < cols; ++j) c[j] = std::max(u[j], T(0));
        break;
      case Activation::Sigmoid:
        for (index_t j = 0; j < cols; ++j) c[j] = sigmoid(u[j]);
        break;
    }
  }
}

// dU = dC ⊙ f'(U) with f' from the output C (the seed's dtanh = 1 - C²); dU may be dC.
template <typename T>
void activation_backward(Activation act, index_t rows, index_t cols, const T* dC,
                         index_t lddc, const T* C, index_t ldc, T* dU, index_t lddu) {
  if (rows <= 0 || cols <= 0) return;
  for (index_t i = 0; i < rows; ++i) {
    const T* dc = dC + i * lddc;
    const T* c = C + i * ldc;
    T* du = dU + i * lddu;
    switch (act) {
      case Activation::Tanh:  // dtanh = 1 - C²
        for (index_t j = 0; j < cols; ++j) du[j] = dc[j] * (T(1) - c[j] * c[j]);
        break;
      case Activation::Relu:  // relu' = [C > 0]
        for (index_t j = 0; j < cols; ++j) du[j] = c[j] > T(0) ? dc[j] : T(0);
        break;
      case Activation::Sigmoid:  // sigmoid' = C (1 - C)
        for (index_t j = 0; j < cols; ++j) du[j] = dc[j] * (c[j] * (T(1) - c[j]));
        break;
    }
  }
}

// X[i, j] += b[i]: U = Wx·X + b broadcasts b over the m·T columns.
template <typename T>
void add_bias(index_t rows, index_t cols, const T* b, T* X, index_t ldx) {
  if (rows <= 0 || cols <= 0) return;
  for (index_t i = 0; i < rows; ++i) {
    const T bi = b[i];
    T* x = X + i * ldx;
    for (index_t j = 0; j < cols; ++j) x[j] += bi;
  }
}

// y[i] += Σ_j X[i, j] (db = rowsum(dU)); each row is summed in double so long sequences
// (T·m columns) do not lose the small terms in float.
template <typename T>
void row_sum(index_t rows, index_t cols, const T* X, index_t ldx, T* y) {
  if (rows <= 0 || cols <= 0) return;
  for (index_t i = 0; i < rows; ++i) {
    const T* x = X + i * ldx;
    // Eight partial sums in double: one running sum is a chain of dependent adds (one add
    // per 4 cycles); eight independent ones pipeline and vectorize. Fixed order: deterministic.
    double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    index_t j = 0;
    for (; j + 8 <= cols; j += 8) {
      for (int k = 0; k < 8; ++k) acc[k] += double(x[j + k]);
    }
    for (; j < cols; ++j) acc[0] += double(x[j]);
    const double sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    y[i] = T(double(y[i]) + sum);
  }
}

// y += alpha·x
template <typename T>
void axpy(index_t n, T alpha, const T* x, T* y) {
  for (index_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

// x *= alpha
template <typename T>
void scale(index_t n, T alpha, T* x) {
  for (index_t i = 0; i < n; ++i) x[i] *= alpha;
}

// y ⊙= x, the elementwise product in place: a dropout mask (0 or 1/(1 − p)) applied to a
// layer's output in the forward and to ∂J/∂output in the backward.
template <typename T>
void mul_in_place(index_t n, const T* x, T* y) {
  for (index_t i = 0; i < n; ++i) y[i] *= x[i];
}

template <typename T>
void dropout_mask(index_t n, double p, const std::uint32_t state[4], T* mask) {
  // round(p·2^32) as JavaScript's Math.round (halves up); p·2^32 is exact in a double.
  const double x = p * 4294967296.0;
  double rounded = std::floor(x);
  if (x - rounded >= 0.5) rounded += 1;
  const std::uint64_t threshold = std::uint64_t(rounded);  // <= 2^32
  const T keep = T(1.0 / (1.0 - p));
  std::uint32_t s0 = state[0], s1 = state[1], s2 = state[2], s3 = state[3];
  for (index_t i = 0; i < n; ++i) {
    const std::uint32_t v = s1 * 5u;
    const std::uint32_t r = ((v << 7) | (v >> 25)) * 9u;
    const std::uint32_t t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 11) | (s3 >> 21);
    // keep · 1 or keep · 0, without a branch (which would mispredict at random).
    mask[i] = keep * T(std::uint64_t(r) >= threshold);
  }
}

// x[:] = value
template <typename T>
void fill(index_t n, T value, T* x) {
  for (index_t i = 0; i < n; ++i) x[i] = value;
}

// y[:] = x[:]; the buffers never overlap (the contract), so memcpy is exact. n == 0 may
// come with null pointers, which memcpy must not see.
template <typename T>
void copy(index_t n, const T* x, T* y) {
  if (n <= 0) return;
  std::memcpy(y, x, static_cast<std::size_t>(n) * sizeof(T));
}

// Y = X row by row (no overlap, by the contract).
template <typename T>
void copy_matrix(index_t rows, index_t cols, const T* X, index_t ldx, T* Y, index_t ldy) {
  if (rows <= 0 || cols <= 0) return;
  for (index_t i = 0; i < rows; ++i) {
    std::memcpy(Y + i * ldy, X + i * ldx, static_cast<std::size_t>(cols) * sizeof(T));
  }
}

// Σ x[i]² in double (the gradient-norm clip). Four partial sums break the add dependency
// chain; the order differs from a single loop only by double rounding.
template <typename T>
double sum_squares(index_t n, const T* x) {
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  index_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const double a = x[i], b = x[i + 1], c = x[i + 2], d = x[i + 3];
    s0 += a * a;
    s1 += b * b;
    s2 += c * c;
    s3 += d * d;
  }
  for (; i < n; ++i) {
    const double a = x[i];
    s0 += a * a;
  }
  return (s0 + s1) + (s2 + s3);
}

// x[i] = min(max(x[i], -limit), limit); a NaN stays NaN (std::max/min return their first
// argument when the comparison is false), so clipping never hides a divergence.
template <typename T>
void clip_by_value(index_t n, T limit, T* x) {
  for (index_t i = 0; i < n; ++i) x[i] = std::min(std::max(x[i], -limit), limit);
}

#define NRNN_INSTANTIATE_ELEMENTWISE(T)                                                      \
  template void activation_forward<T>(Activation, index_t, index_t, const T*, index_t, T*,  \
                                      index_t);                                             \
  template void activation_backward<T>(Activation, index_t, index_t, const T*, index_t,     \
                                       const T*, index_t, T*, index_t);                     \
  template void add_bias<T>(index_t, index_t, const T*, T*, index_t);                       \
  template void row_sum<T>(index_t, index_t, const T*, index_t, T*);                        \
  template void axpy<T>(index_t, T, const T*, T*);                                          \
  template void scale<T>(index_t, T, T*);                                                   \
  template void mul_in_place<T>(index_t, const T*, T*);                                     \
  template void dropout_mask<T>(index_t, double, const std::uint32_t[4], T*);               \
  template void fill<T>(index_t, T, T*);                                                    \
  template void copy<T>(index_t, const T*, T*);                                             \
  template void copy_matrix<T>(index_t, index_t, const T*, index_t, T*, index_t);           \
  template double sum_squares<T>(index_t, const T*);                                        \
  template void clip_by_value<T>(index_t, T, T*);

NRNN_INSTANTIATE_ELEMENTWISE(float)
NRNN_INSTANTIATE_ELEMENTWISE(double)
#undef NRNN_INSTANTIATE_ELEMENTWISE

}  // namespace nrnn
