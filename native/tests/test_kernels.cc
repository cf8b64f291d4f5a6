// Kernel tests: every kernel of kernels.h except gemm, in float and double, against the
// naive references of reference.h over many shapes (empty, 1×1, 1×N, N×1, primes), leading
// dimensions wider than the view, offset views, and in-place aliasing where the contract
// allows it; plus a central finite-difference check of rnn_backward in double.
// Whole buffers (padding included) are compared, so a write outside a view is caught too.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "check.h"
#include "kernels/kernels.h"
#include "reference.h"

using nrnn::Activation;
using nrnn::index_t;
using namespace nrnn_test;  // the test helpers of check.h

namespace {

const Activation kActs[] = {Activation::Tanh, Activation::Relu, Activation::Sigmoid};
const char* act_name(Activation a) {
  return a == Activation::Tanh ? "tanh" : a == Activation::Relu ? "relu" : "sigmoid";
}

// Tolerance for a result that sums K terms: a few roundings per term, in T's epsilon.
template <typename T>
double tol_k(double K) {
  return 8.0 * (K + 4.0) * eps_of<T>();
}

// A (rows, cols) view with leading dimension ld = cols + pad, starting off elements into
// a buffer that also has a tail: the padding, offset and tail must stay untouched.
template <typename T>
struct View {
  std::vector<T> buf;
  index_t rows = 0, cols = 0, ld = 0, off = 0;
  T* p() { return buf.data() + off; }
  const T* p() const { return buf.data() + off; }
};

template <typename T>
View<T> make_view(Rng& rng, index_t rows, index_t cols, index_t pad, index_t off,
                  double lo = -1.0, double hi = 1.0) {
  View<T> v;
  v.rows = rows;
  v.cols = cols;
  v.ld = cols + pad;
  v.off = off;
  v.buf.resize(static_cast<std::size_t>(off + rows * v.ld + 3));
  nrnn_test::fill_uniform(rng, v.buf, lo, hi);
  return v;
}

struct Shape {
  index_t rows, cols;
};
const Shape kShapes[] = {{0, 0}, {0, 5}, {5, 0}, {1, 1},  {1, 17},
                         {17, 1}, {2, 3}, {17, 31}, {31, 17}, {64, 65}};

// ---- activations ------------------------------------------------------------------------

template <typename T>
void test_activation(Rng& rng) {
  for (Activation act : kActs)
    for (const Shape& s : kShapes)
      for (index_t pad : {0, 3})
        for (index_t off : {0, 2}) {
          const std::string tag =
              lbl("%s %s %lldx%lld pad %lld off %lld", tname<T>(), act_name(act),
                  (long long)s.rows, (long long)s.cols, (long long)pad, (long long)off);
          // forward, out of place; a few extreme inputs to check saturation without NaN
          View<T> U = make_view<T>(rng, s.rows, s.cols, pad, off, -4.0, 4.0);
          if (s.rows * s.cols >= 4) {
            U.p()[0] = T(1e4);
            U.p()[1] = T(-1e4);
            U.p()[2] = T(50);
            U.p()[3] = T(-50);
          }
          View<T> C = make_view<T>(rng, s.rows, s.cols, pad + 1, off + 1);
          View<T> C_ref = C;
          nrnn::activation_forward(act, s.rows, s.cols, U.p(), U.ld, C.p(), C.ld);
          nrnn_ref::activation_forward(act, s.rows, s.cols, U.p(), U.ld, C_ref.p(), C_ref.ld);
          check_close(("activation_forward " + tag).c_str(), C.buf, C_ref.buf, 4 * eps_of<T>());

          // forward in place (C is exactly U)
          View<T> W = U, W_ref = U;
          nrnn::activation_forward(act, s.rows, s.cols, W.p(), W.ld, W.p(), W.ld);
          nrnn_ref::activation_forward(act, s.rows, s.cols, W_ref.p(), W_ref.ld, W_ref.p(),
                                       W_ref.ld);
          check_close(("activation_forward in place " + tag).c_str(), W.buf, W_ref.buf,
                      4 * eps_of<T>());

          // backward from the saved output C (valid outputs of f), out of place
          View<T> dC = make_view<T>(rng, s.rows, s.cols, pad, off);
          View<T> dU = make_view<T>(rng, s.rows, s.cols, pad + 2, off);
          View<T> dU_ref = dU;
          nrnn::activation_backward(act, s.rows, s.cols, dC.p(), dC.ld, C.p(), C.ld, dU.p(),
                                    dU.ld);
          nrnn_ref::activation_backward(act, s.rows, s.cols, dC.p(), dC.ld, C.p(), C.ld,
                                        dU_ref.p(), dU_ref.ld);
          check_close(("activation_backward " + tag).c_str(), dU.buf, dU_ref.buf,
                      4 * eps_of<T>());

          // backward in place (dU is exactly dC)
          View<T> G = dC, G_ref = dC;
          nrnn::activation_backward(act, s.rows, s.cols, G.p(), G.ld, C.p(), C.ld, G.p(), G.ld);
          nrnn_ref::activation_backward(act, s.rows, s.cols, G_ref.p(), G_ref.ld, C.p(), C.ld,
                                        G_ref.p(), G_ref.ld);
          check_close(("activation_backward in place " + tag).c_str(), G.buf, G_ref.buf,
                      4 * eps_of<T>());
        }
}

// ---- bias, row sums, flat helpers -------------------------------------------------------

template <typename T>
void test_bias_rowsum(Rng& rng) {
  for (const Shape& s : kShapes)
    for (index_t pad : {0, 5})
      for (index_t off : {0, 1}) {
        const std::string tag = lbl("%s %lldx%lld pad %lld off %lld", tname<T>(),
                                    (long long)s.rows, (long long)s.cols, (long long)pad,
                                    (long long)off);
        std::vector<T> b(static_cast<std::size_t>(s.rows));
        nrnn_test::fill_uniform(rng, b);
        View<T> X = make_view<T>(rng, s.rows, s.cols, pad, off), X_ref = X;
        nrnn::add_bias(s.rows, s.cols, b.data(), X.p(), X.ld);
        nrnn_ref::add_bias(s.rows, s.cols, b.data(), X_ref.p(), X_ref.ld);
        check_close(("add_bias " + tag).c_str(), X.buf, X_ref.buf, 2 * eps_of<T>());

        // row_sum accumulates into y (which starts non-zero); y has a tail to stay untouched
        std::vector<T> y(static_cast<std::size_t>(s.rows + 2));
        nrnn_test::fill_uniform(rng, y);
        std::vector<T> y_ref = y;
        nrnn::row_sum(s.rows, s.cols, X.p(), X.ld, y.data());
        nrnn_ref::row_sum(s.rows, s.cols, X.p(), X.ld, y_ref.data());
        // float: the double sum is rounded once; double: K roundings of the sum itself
        check_close(("row_sum " + tag).c_str(), y, y_ref,
                    2 * eps_of<T>() + 2.0 * (double(s.cols) + 4.0) * eps_of<double>());
      }
}

// copy_matrix: Y = X over a view, with both leading dimensions wider than the width; the
// padding of Y (and everything outside the view) must stay as it was.
template <typename T>
void test_copy_matrix(Rng& rng) {
  for (const Shape& s : kShapes)
    for (index_t pad : {0, 3}) {
      const std::string tag = lbl("%s %lldx%lld pad %lld", tname<T>(), (long long)s.rows,
                                  (long long)s.cols, (long long)pad);
      View<T> X = make_view<T>(rng, s.rows, s.cols, pad, 1);
      View<T> Y = make_view<T>(rng, s.rows, s.cols, pad + 2, 2), Y_ref = Y;
      nrnn::copy_matrix(s.rows, s.cols, X.p(), X.ld, Y.p(), Y.ld);
      for (index_t i = 0; i < s.rows; ++i)
        for (index_t j = 0; j < s.cols; ++j) Y_ref.p()[i * Y_ref.ld + j] = X.p()[i * X.ld + j];
      check_close(("copy_matrix " + tag).c_str(), Y.buf, Y_ref.buf, 0.0);
    }
}

template <typename T>
void test_flat(Rng& rng) {
  for (index_t n : {0, 1, 2, 3, 4, 5, 7, 17, 1000}) {
    const std::string tag = lbl("%s n %lld", tname<T>(), (long long)n);
    const std::size_t sz = static_cast<std::size_t>(n) + 2;  // +2: a tail to stay untouched
    std::vector<T> x(sz), y(sz);
    nrnn_test::fill_uniform(rng, x);
    nrnn_test::fill_uniform(rng, y);
    const T alpha = T(rng.uniform(-2.0, 2.0));

    std::vector<T> y1 = y, want(y);
    nrnn::axpy(n, alpha, x.data(), y1.data());
    for (index_t i = 0; i < n; ++i) want[i] = T(double(y[i]) + double(alpha) * double(x[i]));
    check_close(("axpy " + tag).c_str(), y1, want, 2 * eps_of<T>());

    std::vector<T> x1 = x;
    want = x;
    nrnn::scale(n, alpha, x1.data());
    for (index_t i = 0; i < n; ++i) want[i] = T(double(alpha) * double(x[i]));
    check_close(("scale " + tag).c_str(), x1, want, 0.0);

    std::vector<T> y2 = y;
    want = y;
    nrnn::mul_in_place(n, x.data(), y2.data());
    for (index_t i = 0; i < n; ++i) want[i] = T(double(y[i]) * double(x[i]));
    check_close(("mul_in_place " + tag).c_str(), y2, want, 0.0);

    x1 = x;
    want = x;
    nrnn::fill(n, T(0.25), x1.data());
    for (index_t i = 0; i < n; ++i) want[i] = T(0.25);
    check_close(("fill " + tag).c_str(), x1, want, 0.0);

    y1 = y;
    want = y;
    nrnn::copy(n, x.data(), y1.data());
    for (index_t i = 0; i < n; ++i) want[i] = x[i];
    check_close(("copy " + tag).c_str(), y1, want, 0.0);

    const double ss = nrnn::sum_squares(n, x.data());
    const double ss_ref = nrnn_ref::sum_squares(n, x.data());
    check_close(("sum_squares " + tag).c_str(), &ss, &ss_ref, 1, 4.0 * (double(n) + 4.0) * 1.1e-16);

    // clip: values beyond the limit, ±inf become ±limit, NaN stays NaN
    x1 = x;
    if (n >= 4) {
      x1[0] = std::numeric_limits<T>::infinity();
      x1[1] = -std::numeric_limits<T>::infinity();
      x1[2] = std::numeric_limits<T>::quiet_NaN();
      x1[3] = T(0.5);
    }
    want = x1;
    const T limit = T(0.5);
    nrnn::clip_by_value(n, limit, x1.data());
    for (index_t i = 0; i < n; ++i) {
      const T v = want[i];
      want[i] = std::isnan(v) ? v : v > limit ? limit : v < -limit ? -limit : v;
    }
    check_close(("clip_by_value " + tag).c_str(), x1, want, 0.0);
  }
}

// ---- softmax cross-entropy --------------------------------------------------------------

template <typename T>
void test_softmax(Rng& rng) {
  const Shape shapes[] = {{0, 0}, {4, 0}, {1, 1},  {1, 17}, {17, 1}, {2, 5},
                          {17, 31}, {5, 130}, {65, 64}, {3, 200}};
  for (const Shape& s : shapes)
    for (int regime = 0; regime < 3; ++regime)  // 0: moderate, 1: ±1e4, 2: half ignored
      for (index_t pad : {0, 3})
        for (int in_place = 0; in_place < 2; ++in_place) {
          const index_t V = s.rows, N = s.cols;
          const std::string tag =
              lbl("%s V %lld N %lld regime %d pad %lld%s", tname<T>(), (long long)V,
                  (long long)N, regime, (long long)pad, in_place ? " in place" : "");
          const double range = regime == 1 ? 1e4 : 5.0;
          View<T> L = make_view<T>(rng, V, N, pad, 1, -range, range);
          if (regime == 1) {
            // exact ±1e4 entries and ties in the first columns
            for (index_t i = 0; i < V && N > 0; ++i) L.p()[i * L.ld] = T(i % 2 ? 1e4 : -1e4);
            for (index_t i = 0; i < V && N > 1; ++i) L.p()[i * L.ld + 1] = T(1e4);
          }
          std::vector<std::int32_t> tg(static_cast<std::size_t>(N));
          for (index_t j = 0; j < N; ++j) {
            const double drop = regime == 2 ? 0.5 : 0.2;
            tg[j] = rng.uniform(0.0, 1.0) < drop ? -1 : std::int32_t(rng.below(V));
          }
          const T sc = T(N > 0 ? 1.0 / double(N) : 1.0);

          View<T> D = make_view<T>(rng, V, N, pad + 2, 0);
          View<T> L_ref = L, D_ref = D;
          double loss = 0.0;
          const double loss_ref = nrnn_ref::softmax_cross_entropy(
              V, N, L_ref.p(), L_ref.ld, tg.data(), sc, in_place ? L_ref.p() : D_ref.p(),
              in_place ? L_ref.ld : D_ref.ld);
          loss = nrnn::softmax_cross_entropy(V, N, L.p(), L.ld, tg.data(), sc,
                                             in_place ? L.p() : D.p(), in_place ? L.ld : D.ld);
          check_close(("softmax loss " + tag).c_str(), &loss, &loss_ref, 1,
                      tol_k<T>(double(V)));
          if (in_place) {
            check_close(("softmax dlogits " + tag).c_str(), L.buf, L_ref.buf, tol_k<T>(double(V)));
          } else {
            check_close(("softmax dlogits " + tag).c_str(), D.buf, D_ref.buf, tol_k<T>(double(V)));
            check_close(("softmax logits untouched " + tag).c_str(), L.buf, L_ref.buf, 0.0);
          }
          // properties: finite loss; each counted gradient column sums to ~0
          check_true(("softmax loss finite " + tag).c_str(), std::isfinite(loss));
          const View<T>& G = in_place ? L : D;
          double worst = 0.0;
          for (index_t j = 0; j < N; ++j) {
            double col = 0.0;
            for (index_t i = 0; i < V; ++i) col += double(G.p()[i * G.ld + j]);
            worst = std::fabs(col) > worst ? std::fabs(col) : worst;
          }
          check_true(("softmax columns sum to 0 " + tag).c_str(),
                     worst <= tol_k<T>(double(V)) * double(sc));
        }

  // a hand-made case: logits (2, 1) = [0, log 3] -> p = [1/4, 3/4], target 0: loss = log 4
  {
    const T z[2] = {T(0), T(std::log(3.0))};
    const std::int32_t t0 = 0;
    T d[2];
    const double loss = nrnn::softmax_cross_entropy(2, 1, z, 1, &t0, T(1), d, 1);
    const double want_loss = std::log(4.0);
    const double want_d[2] = {0.25 - 1.0, 0.75};
    check_close(lbl("softmax hand case loss %s", tname<T>()).c_str(), &loss, &want_loss, 1,
                8 * eps_of<T>());
    check_close(lbl("softmax hand case grad %s", tname<T>()).c_str(), d, want_d, 2,
                8 * eps_of<T>());
  }
}

// ---- gather / scatter -------------------------------------------------------------------

template <typename T>
void test_gather(Rng& rng) {
  struct Case {
    index_t rows, n, V;
  };
  const Case cases[] = {{0, 3, 2}, {3, 0, 2}, {1, 1, 1}, {1, 17, 3},
                        {17, 1, 5}, {17, 31, 7}, {5, 40, 2}, {31, 17, 97}};
  for (const Case& c : cases)
    for (index_t pad : {0, 4})
      for (int accumulate = 0; accumulate < 2; ++accumulate) {
        const std::string tag =
            lbl("%s rows %lld n %lld V %lld pad %lld%s", tname<T>(), (long long)c.rows,
                (long long)c.n, (long long)c.V, (long long)pad, accumulate ? " accumulate" : "");
        std::vector<std::int32_t> ids(static_cast<std::size_t>(c.n));
        for (auto& id : ids) id = std::int32_t(rng.below(c.V));  // duplicates when n > V
        View<T> W = make_view<T>(rng, c.rows, c.V, pad, 2);
        View<T> out = make_view<T>(rng, c.rows, c.n, pad + 1, 1), out_ref = out;
        nrnn::gather_columns(c.rows, c.n, W.p(), W.ld, ids.data(), out.p(), out.ld,
                             accumulate != 0);
        nrnn_ref::gather_columns(c.rows, c.n, W.p(), W.ld, c.V, ids.data(), out_ref.p(),
                                 out_ref.ld, accumulate != 0);
        check_close(("gather_columns " + tag).c_str(), out.buf, out_ref.buf, 2 * eps_of<T>());

        if (accumulate) continue;  // scatter always accumulates: once per shape is enough
        View<T> dU = make_view<T>(rng, c.rows, c.n, pad, 0);
        View<T> dW = make_view<T>(rng, c.rows, c.V, pad + 2, 3), dW_ref = dW;
        nrnn::scatter_add_columns(c.rows, c.n, dU.p(), dU.ld, ids.data(), dW.p(), dW.ld);
        nrnn_ref::scatter_add_columns(c.rows, c.n, dU.p(), dU.ld, c.V, ids.data(), dW_ref.p(),
                                      dW_ref.ld);
        check_close(("scatter_add_columns " + tag).c_str(), dW.buf, dW_ref.buf,
                    tol_k<T>(double(c.n)));
      }
}

// ---- rnn forward / backward -------------------------------------------------------------

struct RnnCase {
  index_t n_x, n_c, steps, m;
};

template <typename T>
struct RnnParams {
  std::vector<T> Wx, Wc, b, X, c0;
  std::vector<std::int32_t> ids;
};

template <typename T>
RnnParams<T> make_rnn_params(Rng& rng, const RnnCase& c, bool use_ids) {
  RnnParams<T> p;
  const double w = 1.0 / std::sqrt(double(c.n_c + c.n_x + 1));  // keeps f away from saturation
  p.Wx.resize(static_cast<std::size_t>(c.n_c * c.n_x));
  p.Wc.resize(static_cast<std::size_t>(c.n_c * c.n_c));
  p.b.resize(static_cast<std::size_t>(c.n_c));
  p.c0.resize(static_cast<std::size_t>(c.n_c * c.m));
  nrnn_test::fill_uniform(rng, p.Wx, -2 * w, 2 * w);
  nrnn_test::fill_uniform(rng, p.Wc, -2 * w, 2 * w);
  nrnn_test::fill_uniform(rng, p.b, -0.5, 0.5);
  nrnn_test::fill_uniform(rng, p.c0, -0.5, 0.5);
  if (use_ids) {
    p.ids.resize(static_cast<std::size_t>(c.steps * c.m));
    for (auto& id : p.ids) id = std::int32_t(rng.below(c.n_x));
  } else {
    p.X.resize(static_cast<std::size_t>(c.n_x * c.steps * c.m));
    nrnn_test::fill_uniform(rng, p.X);
  }
  return p;
}

// H = [c0 | garbage]: the forward must overwrite H[:, m:] without reading it (NaN here).
template <typename T>
std::vector<T> make_H(const RnnCase& c, const std::vector<T>& c0) {
  const index_t ldh = (c.steps + 1) * c.m;
  std::vector<T> H(static_cast<std::size_t>(c.n_c * ldh), std::numeric_limits<T>::quiet_NaN());
  for (index_t i = 0; i < c.n_c; ++i)
    for (index_t j = 0; j < c.m; ++j) H[i * ldh + j] = c0[i * c.m + j];
  return H;
}

template <typename T>
void test_rnn(Rng& rng) {
  const RnnCase cases[] = {{3, 5, 4, 2},  {1, 1, 1, 1},  {7, 3, 1, 5},  {5, 8, 6, 1},
                           {17, 31, 3, 4}, {4, 4, 5, 3},  {2, 9, 2, 7},  {0, 4, 3, 2},
                           {3, 4, 0, 2},  {3, 4, 2, 0},  {3, 0, 2, 2}, {12, 6, 9, 3}};
  for (const RnnCase& c : cases)
    for (Activation act : kActs)
      for (int use_ids = 0; use_ids < 2; ++use_ids) {
        if (use_ids && c.n_x == 0) continue;  // no valid id exists
        const std::string tag =
            lbl("%s %s n_x %lld n_c %lld T %lld m %lld %s", tname<T>(), act_name(act),
                (long long)c.n_x, (long long)c.n_c, (long long)c.steps, (long long)c.m,
                use_ids ? "ids" : "dense");
        const RnnParams<T> p = make_rnn_params<T>(rng, c, use_ids != 0);
        const T* X = use_ids ? nullptr : p.X.data();
        const std::int32_t* ids = use_ids ? p.ids.data() : nullptr;

        std::vector<T> H = make_H(c, p.c0);
        nrnn::rnn_forward(act, c.n_x, c.n_c, c.steps, c.m, X, ids, p.Wx.data(), p.Wc.data(),
                          p.b.data(), H.data());
        const std::vector<T> H_ref =
            nrnn_ref::rnn_forward(act, c.n_x, c.n_c, c.steps, c.m, X, ids, p.Wx.data(),
                                  p.Wc.data(), p.b.data(), p.c0.data());
        const double K = double((c.n_x + c.n_c + 2) * (c.steps + 1));
        check_close(("rnn_forward " + tag).c_str(), H, H_ref, tol_k<T>(K));

        // Backward from the kernel's H (so a rounding difference in the forward cannot flip
        // relu' in one and not the other). Gradients start non-zero: they must accumulate.
        const index_t Tm = c.steps * c.m;
        std::vector<T> dC(static_cast<std::size_t>(c.n_c * Tm));
        nrnn_test::fill_uniform(rng, dC);
        for (int variant = 0; variant < 3; ++variant) {  // 0: separate dU, 1: dU == dC,
                                                         // 2: separate dU, no dX
          if (use_ids && variant == 0) continue;          // ids: dX must be null (variant 2)
          const bool in_place = variant == 1;
          const bool want_dX = !use_ids && variant != 2;
          const std::string vtag = tag + (in_place ? " dU==dC" : "") + (want_dX ? " dX" : "");
          std::vector<T> dU(dC.size()), dWx(p.Wx.size()), dWc(p.Wc.size()), db(p.b.size()),
              dX(static_cast<std::size_t>(c.n_x * Tm)), dc0(p.c0.size());
          nrnn_test::fill_uniform(rng, dU, -9.0, 9.0);  // garbage the kernel must overwrite
          nrnn_test::fill_uniform(rng, dWx);
          nrnn_test::fill_uniform(rng, dWc);
          nrnn_test::fill_uniform(rng, db);
          nrnn_test::fill_uniform(rng, dX);
          nrnn_test::fill_uniform(rng, dc0);
          std::vector<T> dU_ref = dU, dWx_ref = dWx, dWc_ref = dWc, db_ref = db, dX_ref = dX,
                         dc0_ref = dc0;
          std::vector<T> dC_work = dC;  // consumed when in place
          nrnn::rnn_backward(act, c.n_x, c.n_c, c.steps, c.m, X, ids, H.data(), p.Wx.data(),
                             p.Wc.data(), dC_work.data(), in_place ? dC_work.data() : dU.data(),
                             dWx.data(), dWc.data(), db.data(), want_dX ? dX.data() : nullptr,
                             dc0.data());
          nrnn_ref::rnn_backward(act, c.n_x, c.n_c, c.steps, c.m, X, ids, H.data(),
                                 p.Wx.data(), p.Wc.data(), dC.data(), dU_ref.data(),
                                 dWx_ref.data(), dWc_ref.data(), db_ref.data(),
                                 want_dX ? dX_ref.data() : nullptr, dc0_ref.data());
          const double Kb = double(Tm + (c.n_c + c.n_x + 2) * (c.steps + 1));
          const double tb = tol_k<T>(Kb);
          if (in_place && Tm * c.n_c > 0) {
            check_close(("rnn_backward dU (in dC) " + vtag).c_str(), dC_work, dU_ref, tb);
          } else if (!in_place) {
            check_close(("rnn_backward dU " + vtag).c_str(), dU, dU_ref, tb);
            check_close(("rnn_backward dC untouched " + vtag).c_str(), dC_work, dC, 0.0);
          }
          check_close(("rnn_backward dWx " + vtag).c_str(), dWx, dWx_ref, tb);
          check_close(("rnn_backward dWc " + vtag).c_str(), dWc, dWc_ref, tb);
          check_close(("rnn_backward db " + vtag).c_str(), db, db_ref, tb);
          check_close(("rnn_backward dX " + vtag).c_str(), dX, dX_ref, tb);
          check_close(("rnn_backward dc0 " + vtag).c_str(), dc0, dc0_ref, tb);
        }
      }
}

// Central finite differences of J = Σ R ⊙ [C_1 .. C_T] (so dJ/dC = R) in double against
// rnn_backward, for every entry of Wx, Wc, b, c0 and X.
double fd_loss(Activation act, const RnnCase& c, const RnnParams<double>& p, bool use_ids,
               const std::vector<double>& R) {
  std::vector<double> H = make_H(c, p.c0);
  nrnn::rnn_forward(act, c.n_x, c.n_c, c.steps, c.m, use_ids ? nullptr : p.X.data(),
                    use_ids ? p.ids.data() : nullptr, p.Wx.data(), p.Wc.data(), p.b.data(),
                    H.data());
  const index_t Tm = c.steps * c.m, ldh = (c.steps + 1) * c.m;
  double J = 0.0;
  for (index_t i = 0; i < c.n_c; ++i)
    for (index_t j = 0; j < Tm; ++j) J += R[i * Tm + j] * H[i * ldh + c.m + j];
  return J;
}

void test_rnn_finite_differences(Rng& rng) {
  const RnnCase cases[] = {{3, 4, 3, 2}, {2, 3, 1, 1}, {4, 2, 4, 3}};
  for (const RnnCase& c : cases)
    for (Activation act : {Activation::Tanh, Activation::Sigmoid})
      for (int use_ids = 0; use_ids < 2; ++use_ids) {
        RnnParams<double> p = make_rnn_params<double>(rng, c, use_ids != 0);
        // larger weights than the forward test so every term of the recurrence matters
        for (auto& w : p.Wc) w *= 2.0;
        for (auto& w : p.Wx) w *= 2.0;
        const index_t Tm = c.steps * c.m;
        std::vector<double> R(static_cast<std::size_t>(c.n_c * Tm));
        nrnn_test::fill_uniform(rng, R);

        std::vector<double> H = make_H(c, p.c0);
        const double* X = use_ids ? nullptr : p.X.data();
        const std::int32_t* ids = use_ids ? p.ids.data() : nullptr;
        nrnn::rnn_forward(act, c.n_x, c.n_c, c.steps, c.m, X, ids, p.Wx.data(), p.Wc.data(),
                          p.b.data(), H.data());
        std::vector<double> dU(R.size()), dWx(p.Wx.size(), 0.0), dWc(p.Wc.size(), 0.0),
            db(p.b.size(), 0.0), dX(p.X.size(), 0.0), dc0(p.c0.size(), 0.0);
        nrnn::rnn_backward(act, c.n_x, c.n_c, c.steps, c.m, X, ids, H.data(), p.Wx.data(),
                           p.Wc.data(), R.data(), dU.data(), dWx.data(), dWc.data(), db.data(),
                           use_ids ? nullptr : dX.data(), dc0.data());

        struct Target {
          const char* name;
          std::vector<double>* param;
          const std::vector<double>* grad;
        };
        const Target targets[] = {{"Wx", &p.Wx, &dWx}, {"Wc", &p.Wc, &dWc}, {"b", &p.b, &db},
                                  {"c0", &p.c0, &dc0}, {"X", &p.X, &dX}};
        for (const Target& tgt : targets) {
          std::vector<double>& theta = *tgt.param;
          std::vector<double> numeric(theta.size());
          const double h = 1e-5;
          for (std::size_t k = 0; k < theta.size(); ++k) {
            const double keep = theta[k];
            theta[k] = keep + h;
            const double Jp = fd_loss(act, c, p, use_ids != 0, R);
            theta[k] = keep - h;
            const double Jm = fd_loss(act, c, p, use_ids != 0, R);
            theta[k] = keep;
            numeric[k] = (Jp - Jm) / (2.0 * h);
          }
          // relative error |a - n| / max(|a|, |n|), floored at 1e-3 so entries whose
          // gradient is ~0 are judged in absolute terms (there the O(h²) and roundoff
          // errors are absolute, ~1e-11).
          double worst = 0.0;
          std::size_t where = 0;
          for (std::size_t k = 0; k < theta.size(); ++k) {
            const double a = (*tgt.grad)[k], n = numeric[k];
            const double denom = std::fmax(std::fmax(std::fabs(a), std::fabs(n)), 1e-3);
            const double rel = std::fabs(a - n) / denom;
            if (rel > worst) {
              worst = rel;
              where = k;
            }
          }
          const std::string tag =
              lbl("rnn finite differences d%s %s n_x %lld n_c %lld T %lld m %lld %s", tgt.name,
                  act_name(act), (long long)c.n_x, (long long)c.n_c, (long long)c.steps,
                  (long long)c.m, use_ids ? "ids" : "dense");
          if (!check_true(tag.c_str(), worst <= 1e-7) && !theta.empty())
            std::printf("  worst relative error %.3e at [%zu]: analytic %.17g numeric %.17g\n",
                        worst, where, (*tgt.grad)[where], numeric[where]);
        }
      }
}

// ---- optimizers -------------------------------------------------------------------------

template <typename T>
void test_optim(Rng& rng) {
  const double tol = 64 * eps_of<T>();
  for (index_t n : {0, 1, 17, 100})
    for (double wd : {0.0, 0.01}) {
      const std::string tag = lbl("%s n %lld wd %g", tname<T>(), (long long)n, wd);
      std::vector<T> p0(static_cast<std::size_t>(n));
      nrnn_test::fill_uniform(rng, p0);
      std::vector<std::vector<T>> grads(5, std::vector<T>(p0.size()));
      for (auto& g : grads) nrnn_test::fill_uniform(rng, g);

      // SGD: plain (velocity null), momentum, nesterov
      for (int mode = 0; mode < 3; ++mode) {
        const double mom = mode == 0 ? 0.0 : 0.9;
        std::vector<T> p = p0, p_ref = p0, v(p0.size(), T(0)), v_ref = v;
        for (const auto& g : grads) {
          nrnn::sgd_update(n, p.data(), g.data(), mode == 0 ? nullptr : v.data(), T(0.1), T(mom),
                           mode == 2, T(wd));
          nrnn_ref::sgd_update(n, p_ref.data(), g.data(), v_ref.data(), double(T(0.1)),
                               double(T(mom)), mode == 2, double(T(wd)));
        }
        check_close(lbl("sgd p mode %d %s", mode, tag.c_str()).c_str(), p, p_ref, tol);
        check_close(lbl("sgd velocity mode %d %s", mode, tag.c_str()).c_str(), v, v_ref, tol);
      }

      // Adam and AdamW over 5 steps
      for (int decoupled = 0; decoupled < 2; ++decoupled) {
        std::vector<T> p = p0, p_ref = p0, m(p0.size(), T(0)), v(p0.size(), T(0));
        std::vector<T> m_ref = m, v_ref = v;
        std::int64_t step = 0;
        for (const auto& g : grads) {
          ++step;
          nrnn::adam_update(n, p.data(), g.data(), m.data(), v.data(), T(1e-2), T(0.9),
                            T(0.999), T(1e-8), T(wd), decoupled != 0, step);
          nrnn_ref::adam_update(n, p_ref.data(), g.data(), m_ref.data(), v_ref.data(), double(T(1e-2)),
                                double(T(0.9)), double(T(0.999)), double(T(1e-8)), double(T(wd)),
                                decoupled != 0, step);
        }
        const char* which = decoupled ? "adamw" : "adam";
        check_close(lbl("%s p %s", which, tag.c_str()).c_str(), p, p_ref, tol);
        check_close(lbl("%s m %s", which, tag.c_str()).c_str(), m, m_ref, tol);
        check_close(lbl("%s v %s", which, tag.c_str()).c_str(), v, v_ref, tol);
      }

      {  // Adagrad
        std::vector<T> p = p0, p_ref = p0, h(p0.size(), T(0)), h_ref = h;
        for (const auto& g : grads) {
          nrnn::adagrad_update(n, p.data(), g.data(), h.data(), T(0.1), T(1e-8), T(wd));
          nrnn_ref::adagrad_update(n, p_ref.data(), g.data(), h_ref.data(), double(T(0.1)),
                                   double(T(1e-8)), double(T(wd)));
        }
        check_close(("adagrad p " + tag).c_str(), p, p_ref, tol);
        check_close(("adagrad h " + tag).c_str(), h, h_ref, tol);
      }
      {  // RMSProp
        std::vector<T> p = p0, p_ref = p0, s(p0.size(), T(0)), s_ref = s;
        for (const auto& g : grads) {
          nrnn::rmsprop_update(n, p.data(), g.data(), s.data(), T(0.01), T(0.99), T(1e-8),
                               T(wd));
          nrnn_ref::rmsprop_update(n, p_ref.data(), g.data(), s_ref.data(), double(T(0.01)),
                                   double(T(0.99)), double(T(1e-8)), double(T(wd)));
        }
        check_close(("rmsprop p " + tag).c_str(), p, p_ref, tol);
        check_close(("rmsprop s " + tag).c_str(), s, s_ref, tol);
      }
    }

  // Hand-computed trajectories (values PyTorch gives for the same settings):
  // SGD, lr 0.1, momentum 0.9, nesterov, p = 1, g = 1 twice: p = 0.81, then 0.539.
  {
    T p = T(1), v = T(0);
    const T g = T(1);
    nrnn::sgd_update(1, &p, &g, &v, T(0.1), T(0.9), true, T(0));
    const double want1 = 0.81;
    check_close(lbl("sgd nesterov hand step 1 %s", tname<T>()).c_str(), &p, &want1, 1, tol);
    nrnn::sgd_update(1, &p, &g, &v, T(0.1), T(0.9), true, T(0));
    const double want2 = 0.539;
    check_close(lbl("sgd nesterov hand step 2 %s", tname<T>()).c_str(), &p, &want2, 1, tol);
  }
  // Adam's first step is lr·g/(|g| + eps) whatever β1, β2 (m̂ = g, v̂ = g²).
  {
    T p = T(0.5), m = T(0), v = T(0);
    const T g = T(-0.3);
    nrnn::adam_update(1, &p, &g, &m, &v, T(0.01), T(0.9), T(0.999), T(1e-8), T(0), false, 1);
    const double want = 0.5 + 0.01 * 0.3 / (0.3 + 1e-8);
    check_close(lbl("adam first step %s", tname<T>()).c_str(), &p, &want, 1, tol);
  }
}

template <typename T>
void run_all(Rng& rng) {
  test_activation<T>(rng);
  test_bias_rowsum<T>(rng);
  test_copy_matrix<T>(rng);
  test_flat<T>(rng);
  test_softmax<T>(rng);
  test_gather<T>(rng);
  test_rnn<T>(rng);
  test_optim<T>(rng);
}

}  // namespace

int main() {
  Rng rng(0x5eed2024ull);
  run_all<float>(rng);
  run_all<double>(rng);
  test_rnn_finite_differences(rng);
  return nrnn_test::finish();
}
