// Naive references of the gated cells (test-only, header-only): PyTorch's nn.LSTM and nn.GRU
// written from their defining equations, one step, one element at a time, in double. Written
// from the math, not from lstm.cc / gru.cc: every pre-activation is its own sum over k, the
// one-hot input is a lookup, and the backward is the chain rule per step with plain loops.
// Results come back in the kernels' layouts (H, S: (n_c, (T+1)·m); G, dG: (4n_c, T·m)) so
// they compare element by element.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/kernels.h"

namespace nrnn_ref {

using nrnn::index_t;

inline double sigmoid(double u) {
  return u >= 0.0 ? 1.0 / (1.0 + std::exp(-u)) : std::exp(u) / (1.0 + std::exp(u));
}

// The inputs of one call, in double; X is (n_x, T·m) dense or ids (T·m) token ids.
struct CellInputs {
  index_t n_x = 0, n_c = 0, steps = 0, m = 0;
  std::vector<double> X, Wx, Wc, bx, bc, h0, c0;
  std::vector<std::int32_t> ids;
  bool use_ids = false;
  // x_t(k, j) for step t (1-based)
  double x(index_t t, index_t k, index_t j) const {
    const index_t col = (t - 1) * m + j;
    if (use_ids) return ids[col] == k ? 1.0 : 0.0;
    return X[k * steps * m + col];
  }
  // (Wx·x_t + bx)(row, j) + (Wc·h(:, j) + bc)(row) taken apart: the A and B sums.
  double A(index_t row, index_t t, index_t j) const {
    double s = bx[row];
    for (index_t k = 0; k < n_x; ++k) s += Wx[row * n_x + k] * x(t, k, j);
    return s;
  }
  double B(index_t row, const std::vector<double>& h, index_t j) const {
    double s = bc[row];
    for (index_t k = 0; k < n_c; ++k) s += Wc[row * n_c + k] * h[k * m + j];
    return s;
  }
};

struct CellForward {
  std::vector<double> H, S, G;               // kernel layouts (S empty for the GRU)
  std::vector<std::vector<double>> h, c;     // h[t], c[t] as (n_c, m), t = 0..T
};

struct CellGrads {
  std::vector<double> dG, dWx, dWc, dbx, dbc, dX, dh0, dc0;
};

// Zeroed gradients for a cell of `gates` gate blocks (dG always has four blocks: LSTM's
// i, f, g, o; GRU's r, z, n and B_n).
inline CellGrads zero_grads(const CellInputs& in, index_t gates) {
  const index_t n_c = in.n_c, n_x = in.n_x, Tm = in.steps * in.m;
  CellGrads g;
  g.dG.assign(static_cast<std::size_t>(4 * n_c * Tm), 0.0);
  g.dWx.assign(static_cast<std::size_t>(gates * n_c * n_x), 0.0);
  g.dWc.assign(static_cast<std::size_t>(gates * n_c * n_c), 0.0);
  g.dbx.assign(static_cast<std::size_t>(gates * n_c), 0.0);
  g.dbc = g.dbx;
  g.dX.assign(static_cast<std::size_t>(n_x * Tm), 0.0);
  return g;
}

// What step t's pre-activation gradients give, for `rows` gate rows: dA (rows, m) on the
// input side (A = Wx x_t + bx) and dB (rows, m) on the recurrent side (B = Wc h_{t−1} + bc):
// dbx += dA, dbc += dB, dWx += dA x_tᵀ, dWc += dB h_{t−1}ᵀ, dx_t = Wxᵀ dA (when wanted), and
// back = carry + Wcᵀ dB, what h_{t−1} receives.
inline void step_param_grads(const CellInputs& in, const CellForward& f, index_t t, index_t rows,
                             const std::vector<double>& dA, const std::vector<double>& dB,
                             const std::vector<double>& carry, bool want_dX, CellGrads& g,
                             std::vector<double>& back) {
  const index_t n_c = in.n_c, n_x = in.n_x, m = in.m, Tm = in.steps * m;
  for (index_t row = 0; row < rows; ++row)
    for (index_t j = 0; j < m; ++j) {
      const double a = dA[row * m + j], b = dB[row * m + j];
      g.dbx[row] += a;
      g.dbc[row] += b;
      for (index_t k = 0; k < n_x; ++k) g.dWx[row * n_x + k] += a * in.x(t, k, j);
      for (index_t k = 0; k < n_c; ++k) g.dWc[row * n_c + k] += b * f.h[t - 1][k * m + j];
    }
  for (index_t k = 0; k < n_c; ++k)
    for (index_t j = 0; j < m; ++j) {
      double s = carry[k * m + j];
      for (index_t row = 0; row < rows; ++row) s += in.Wc[row * n_c + k] * dB[row * m + j];
      back[k * m + j] = s;
    }
  if (want_dX && !in.use_ids)
    for (index_t k = 0; k < n_x; ++k)
      for (index_t j = 0; j < m; ++j) {
        double s = 0.0;
        for (index_t row = 0; row < rows; ++row) s += in.Wx[row * n_x + k] * dA[row * m + j];
        g.dX[k * Tm + (t - 1) * m + j] = s;
      }
}

// i = σ(A_i + B_i), f = σ(A_f + B_f), g = tanh(A_g + B_g), o = σ(A_o + B_o),
// c_t = f c_{t−1} + i g, h_t = o tanh(c_t).
inline CellForward lstm_forward(const CellInputs& in) {
  const index_t n_c = in.n_c, m = in.m, T = in.steps, Tm = T * m, ldh = (T + 1) * m;
  CellForward f;
  f.H.assign(static_cast<std::size_t>(n_c * ldh), 0.0);
  f.S = f.H;
  f.G.assign(static_cast<std::size_t>(4 * n_c * Tm), 0.0);
  f.h.push_back(in.h0);
  f.c.push_back(in.c0);
  for (index_t t = 1; t <= T; ++t) {
    std::vector<double> h(static_cast<std::size_t>(n_c * m)), c(h.size());
    for (index_t i = 0; i < n_c; ++i)
      for (index_t j = 0; j < m; ++j) {
        double gate[4];
        for (index_t k = 0; k < 4; ++k) {
          const double u = in.A(k * n_c + i, t, j) + in.B(k * n_c + i, f.h[t - 1], j);
          gate[k] = k == 2 ? std::tanh(u) : sigmoid(u);
          f.G[(k * n_c + i) * Tm + (t - 1) * m + j] = gate[k];
        }
        c[i * m + j] = gate[1] * f.c[t - 1][i * m + j] + gate[0] * gate[2];
        h[i * m + j] = gate[3] * std::tanh(c[i * m + j]);
      }
    f.h.push_back(h);
    f.c.push_back(c);
  }
  for (index_t t = 0; t <= T; ++t)
    for (index_t i = 0; i < n_c; ++i)
      for (index_t j = 0; j < m; ++j) {
        f.H[i * ldh + t * m + j] = f.h[t][i * m + j];
        f.S[i * ldh + t * m + j] = f.c[t][i * m + j];
      }
  return f;
}

// The chain rule step by step. dH (n_c, T·m) is ∂J/∂h_t from above; dcT (n_c, m) or empty.
// For each t = T..1, with dh = dH_t + (what step t+1 sent back through Wc) and dc the
// gradient reaching c_t (from c_{t+1} and from h_t):
//   ∂o = dh tanh(c_t), ∂c += dh o (1 − tanh²c_t), ∂i = dc g, ∂f = dc c_{t−1}, ∂g = dc i,
//   dU_k = ∂gate_k · gate_k' ; dW += dU x_tᵀ, dWc += dU h_{t−1}ᵀ, db += dU,
//   h_{t−1} receives Wcᵀ dU, c_{t−1} receives dc f.
inline CellGrads lstm_backward(const CellInputs& in, const CellForward& f,
                               const std::vector<double>& dH, const std::vector<double>& dcT,
                               bool want_dX) {
  const index_t n_c = in.n_c, m = in.m, T = in.steps, Tm = T * m;
  CellGrads g = zero_grads(in, 4);
  std::vector<double> back(static_cast<std::size_t>(n_c * m), 0.0);  // Wcᵀ dU_{t+1}
  std::vector<double> dc = dcT.empty() ? std::vector<double>(back.size(), 0.0) : dcT;
  const std::vector<double> zero(back.size(), 0.0);  // nothing reaches h_{t−1} but through Wc
  for (index_t t = T; t >= 1; --t) {
    std::vector<double> dU(static_cast<std::size_t>(4 * n_c * m));
    for (index_t i = 0; i < n_c; ++i)
      for (index_t j = 0; j < m; ++j) {
        const index_t col = (t - 1) * m + j;
        const double ig = f.G[(0 * n_c + i) * Tm + col], fg = f.G[(1 * n_c + i) * Tm + col];
        const double gg = f.G[(2 * n_c + i) * Tm + col], og = f.G[(3 * n_c + i) * Tm + col];
        const double ct = f.c[t][i * m + j], tc = std::tanh(ct);
        const double dh = dH[i * Tm + col] + back[i * m + j];
        const double dct = dc[i * m + j] + dh * og * (1.0 - tc * tc);
        dU[(0 * n_c + i) * m + j] = dct * gg * ig * (1.0 - ig);
        dU[(1 * n_c + i) * m + j] = dct * f.c[t - 1][i * m + j] * fg * (1.0 - fg);
        dU[(2 * n_c + i) * m + j] = dct * ig * (1.0 - gg * gg);
        dU[(3 * n_c + i) * m + j] = dh * tc * og * (1.0 - og);
        dc[i * m + j] = dct * fg;
      }
    for (index_t r = 0; r < 4 * n_c; ++r)
      for (index_t j = 0; j < m; ++j) g.dG[r * Tm + (t - 1) * m + j] = dU[r * m + j];
    step_param_grads(in, f, t, 4 * n_c, dU, dU, zero, want_dX, g, back);
  }
  g.dh0 = back;
  g.dc0 = dc;
  return g;
}

// r = σ(A_r + B_r), z = σ(A_z + B_z), n = tanh(A_n + r B_n), h_t = (1 − z) n + z h_{t−1}.
// G holds r, z, n and B_n.
inline CellForward gru_forward(const CellInputs& in) {
  const index_t n_c = in.n_c, m = in.m, T = in.steps, Tm = T * m, ldh = (T + 1) * m;
  CellForward f;
  f.H.assign(static_cast<std::size_t>(n_c * ldh), 0.0);
  f.G.assign(static_cast<std::size_t>(4 * n_c * Tm), 0.0);
  f.h.push_back(in.h0);
  for (index_t t = 1; t <= T; ++t) {
    std::vector<double> h(static_cast<std::size_t>(n_c * m));
    for (index_t i = 0; i < n_c; ++i)
      for (index_t j = 0; j < m; ++j) {
        const double r = sigmoid(in.A(i, t, j) + in.B(i, f.h[t - 1], j));
        const double z = sigmoid(in.A(n_c + i, t, j) + in.B(n_c + i, f.h[t - 1], j));
        const double Bn = in.B(2 * n_c + i, f.h[t - 1], j);
        const double n = std::tanh(in.A(2 * n_c + i, t, j) + r * Bn);
        h[i * m + j] = (1.0 - z) * n + z * f.h[t - 1][i * m + j];
        const index_t col = (t - 1) * m + j;
        f.G[(0 * n_c + i) * Tm + col] = r;
        f.G[(1 * n_c + i) * Tm + col] = z;
        f.G[(2 * n_c + i) * Tm + col] = n;
        f.G[(3 * n_c + i) * Tm + col] = Bn;
      }
    f.h.push_back(h);
  }
  for (index_t t = 0; t <= T; ++t)
    for (index_t i = 0; i < n_c; ++i)
      for (index_t j = 0; j < m; ++j) f.H[i * ldh + t * m + j] = f.h[t][i * m + j];
  return f;
}

// Per step, with dh = dH_t + z_{t+1} dh_{t+1} + Wcᵀ dB_{t+1}:
//   ∂n = dh (1 − z), ∂z = dh (h_{t−1} − n), dA_n = ∂n (1 − n²), ∂r = dA_n B_n,
//   dA_r = ∂r r(1 − r), dA_z = ∂z z(1 − z), dB_n = dA_n r, dB_r = dA_r, dB_z = dA_z;
//   dWx += dA x_tᵀ, dWc += dB h_{t−1}ᵀ, dbx += dA, dbc += dB, dx_t = Wxᵀ dA.
inline CellGrads gru_backward(const CellInputs& in, const CellForward& f,
                              const std::vector<double>& dH, bool want_dX) {
  const index_t n_c = in.n_c, m = in.m, T = in.steps, Tm = T * m;
  CellGrads g = zero_grads(in, 3);
  std::vector<double> back(static_cast<std::size_t>(n_c * m), 0.0);  // what h_t gets from t+1
  for (index_t t = T; t >= 1; --t) {
    std::vector<double> dA(static_cast<std::size_t>(3 * n_c * m)), dB(dA.size());
    std::vector<double> next(back.size());
    for (index_t i = 0; i < n_c; ++i)
      for (index_t j = 0; j < m; ++j) {
        const index_t col = (t - 1) * m + j;
        const double r = f.G[(0 * n_c + i) * Tm + col], z = f.G[(1 * n_c + i) * Tm + col];
        const double n = f.G[(2 * n_c + i) * Tm + col], Bn = f.G[(3 * n_c + i) * Tm + col];
        const double hp = f.h[t - 1][i * m + j];
        const double dh = dH[i * Tm + col] + back[i * m + j];
        const double dAn = dh * (1.0 - z) * (1.0 - n * n);
        const double dAr = dAn * Bn * r * (1.0 - r);
        const double dAz = dh * (hp - n) * z * (1.0 - z);
        dA[(0 * n_c + i) * m + j] = dAr;
        dA[(1 * n_c + i) * m + j] = dAz;
        dA[(2 * n_c + i) * m + j] = dAn;
        dB[(0 * n_c + i) * m + j] = dAr;
        dB[(1 * n_c + i) * m + j] = dAz;
        dB[(2 * n_c + i) * m + j] = dAn * r;
        g.dG[(0 * n_c + i) * Tm + col] = dAr;
        g.dG[(1 * n_c + i) * Tm + col] = dAz;
        g.dG[(2 * n_c + i) * Tm + col] = dAn;
        g.dG[(3 * n_c + i) * Tm + col] = dAn * r;
        next[i * m + j] = dh * z;  // h_t = … + z h_{t−1}
      }
    step_param_grads(in, f, t, 3 * n_c, dA, dB, next, want_dX, g, back);
  }
  g.dh0 = back;
  return g;
}

}  // namespace nrnn_ref
