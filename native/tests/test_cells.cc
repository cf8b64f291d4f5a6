// The gated cells (lstm.cc, gru.cc) against the naive references of reference_cells.h, in
// float and double, on every ISA path this CPU supports (forced with set_isa), with 1 and 2
// threads (which must agree bit for bit), over shapes from 1×1 to tiles split over threads
// (n_c not a multiple of 16, T = 1, m = 1, dense and ids, with and without dX and dcT);
// the empty sizes; and central finite differences in double for every parameter, X, h0, c0.
// Output buffers start as NaN (the kernels must write before reading) and carry a guarded
// tail (they must not write past the end); gradients start non-zero (they must accumulate).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "check.h"
#include "kernels/kernels.h"
#include "kernels/runtime.h"
#include "reference_cells.h"

using nrnn::index_t;
using namespace nrnn_test;  // the test helpers of check.h

namespace {

enum class Cell { Lstm, Gru };
const char* cell_name(Cell c) { return c == Cell::Lstm ? "lstm" : "gru"; }
index_t gates(Cell c) { return c == Cell::Lstm ? 4 : 3; }

struct Case {
  index_t n_x, n_c, steps, m;
};

constexpr index_t kTail = 4;        // guarded elements after every written buffer
constexpr double kGuard = 777.25;   // exactly representable in float

// A buffer of n elements plus the guarded tail.
template <typename T>
std::vector<T> buffer(index_t n, T value) {
  std::vector<T> v(static_cast<std::size_t>(n + kTail), value);
  for (index_t k = n; k < n + kTail; ++k) v[k] = T(kGuard);
  return v;
}
template <typename T>
std::vector<T> random_buffer(Rng& rng, index_t n, double lo = -1.0, double hi = 1.0) {
  std::vector<T> v = buffer<T>(n, T(0));
  for (index_t k = 0; k < n; ++k) v[k] = T(rng.uniform(lo, hi));
  return v;
}
template <typename T>
bool tail_intact(const std::vector<T>& v) {
  for (std::size_t k = v.size() - kTail; k < v.size(); ++k)
    if (v[k] != T(kGuard)) return false;
  return true;
}
template <typename T>
std::vector<double> to_double(const std::vector<T>& v, index_t n) {
  return std::vector<double>(v.begin(), v.begin() + n);
}

// Random inputs in double (the reference's), weights scaled so that the gates stay away
// from saturation and every term of the recurrence matters.
nrnn_ref::CellInputs make_inputs(Rng& rng, Cell cell, const Case& c, bool use_ids, double wscale) {
  nrnn_ref::CellInputs in;
  in.n_x = c.n_x, in.n_c = c.n_c, in.steps = c.steps, in.m = c.m, in.use_ids = use_ids;
  const index_t G = gates(cell);
  const double w = wscale / std::sqrt(double(c.n_c + c.n_x + 1));
  auto fill = [&](std::vector<double>& v, index_t n, double lo, double hi) {
    v.resize(static_cast<std::size_t>(n));
    for (auto& x : v) x = rng.uniform(lo, hi);
  };
  fill(in.Wx, G * c.n_c * c.n_x, -2 * w, 2 * w);
  fill(in.Wc, G * c.n_c * c.n_c, -2 * w, 2 * w);
  fill(in.bx, G * c.n_c, -0.5, 0.5);
  fill(in.bc, G * c.n_c, -0.5, 0.5);
  fill(in.h0, c.n_c * c.m, -0.8, 0.8);
  fill(in.c0, c.n_c * c.m, -1.5, 1.5);
  if (use_ids) {
    in.ids.resize(static_cast<std::size_t>(c.steps * c.m));
    for (auto& id : in.ids) id = std::int32_t(rng.below(c.n_x));
  } else {
    fill(in.X, c.n_x * c.steps * c.m, -1.0, 1.0);
  }
  return in;
}

template <typename T>
std::vector<T> cast(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}

// Everything one forward + backward call reads and writes, in T.
template <typename T>
struct Run {
  std::vector<T> H, S, G, dG, dWx, dWc, dbx, dbc, dX, dh0, dc0;
  // the starting values of the accumulated gradients
  std::vector<T> dWx0, dWc0, dbx0, dbc0, dX0;
};

struct Options {
  bool use_ids = false, want_dX = true, want_dcT = true;
};

// Runs the kernel pair. dH, dcT in T; grads start from `seed`'s random values.
template <typename T>
Run<T> run_cell(Cell cell, const nrnn_ref::CellInputs& in, const std::vector<double>& dHd,
                const std::vector<double>& dcTd, const Options& o, std::uint64_t seed) {
  const index_t n_x = in.n_x, n_c = in.n_c, T_ = in.steps, m = in.m, Tm = T_ * m;
  const index_t ldh = (T_ + 1) * m, Gr = gates(cell);
  const T nan = std::numeric_limits<T>::quiet_NaN();
  const std::vector<T> X = cast<T>(in.X), Wx = cast<T>(in.Wx), Wc = cast<T>(in.Wc);
  const std::vector<T> bx = cast<T>(in.bx), bc = cast<T>(in.bc), dH = cast<T>(dHd);
  const std::vector<T> dcT = cast<T>(dcTd);
  Run<T> r;
  r.H = buffer<T>(n_c * ldh, nan);
  r.S = buffer<T>(n_c * ldh, nan);
  for (index_t i = 0; i < n_c; ++i)
    for (index_t j = 0; j < m; ++j) {
      r.H[i * ldh + j] = T(in.h0[i * m + j]);
      r.S[i * ldh + j] = T(in.c0[i * m + j]);
    }
  r.G = buffer<T>(4 * n_c * Tm, nan);
  r.dG = buffer<T>(4 * n_c * Tm, nan);
  Rng rng(seed);
  r.dWx = r.dWx0 = random_buffer<T>(rng, Gr * n_c * n_x);
  r.dWc = r.dWc0 = random_buffer<T>(rng, Gr * n_c * n_c);
  r.dbx = r.dbx0 = random_buffer<T>(rng, Gr * n_c);
  r.dbc = r.dbc0 = random_buffer<T>(rng, Gr * n_c);
  r.dX = r.dX0 = random_buffer<T>(rng, n_x * Tm);
  r.dh0 = buffer<T>(n_c * m, nan);
  r.dc0 = buffer<T>(n_c * m, nan);
  const T* Xp = o.use_ids ? nullptr : X.data();
  const std::int32_t* ids = o.use_ids ? in.ids.data() : nullptr;
  T* dXp = o.want_dX && !o.use_ids ? r.dX.data() : nullptr;
  if (cell == Cell::Lstm) {
    nrnn::lstm_forward(n_x, n_c, T_, m, Xp, ids, Wx.data(), Wc.data(), bx.data(), bc.data(),
                       r.H.data(), r.S.data(), r.G.data());
    nrnn::lstm_backward(n_x, n_c, T_, m, Xp, ids, Wx.data(), Wc.data(), r.H.data(), r.S.data(),
                        r.G.data(), dH.data(), o.want_dcT ? dcT.data() : nullptr, r.dG.data(),
                        r.dWx.data(), r.dWc.data(), r.dbx.data(), r.dbc.data(), dXp,
                        r.dh0.data(), r.dc0.data());
  } else {
    nrnn::gru_forward(n_x, n_c, T_, m, Xp, ids, Wx.data(), Wc.data(), bx.data(), bc.data(),
                      r.H.data(), r.G.data());
    nrnn::gru_backward(n_x, n_c, T_, m, Xp, ids, Wx.data(), Wc.data(), r.H.data(), r.G.data(),
                       dH.data(), r.dG.data(), r.dWx.data(), r.dWc.data(), r.dbx.data(),
                       r.dbc.data(), dXp, r.dh0.data());
  }
  return r;
}

// want = start + increment, over the first n elements
template <typename T>
std::vector<double> plus(const std::vector<T>& start, const std::vector<double>& inc) {
  std::vector<double> w(inc.size());
  for (std::size_t k = 0; k < inc.size(); ++k) w[k] = double(start[k]) + inc[k];
  return w;
}

// Bitwise equality of two runs (NaN patterns included).
template <typename T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

template <typename T>
void compare_runs(const std::string& tag, const Run<T>& a, const Run<T>& b) {
  const bool same = same_bits(a.H, b.H) && same_bits(a.S, b.S) && same_bits(a.G, b.G) &&
                    same_bits(a.dG, b.dG) && same_bits(a.dWx, b.dWx) && same_bits(a.dWc, b.dWc) &&
                    same_bits(a.dbx, b.dbx) && same_bits(a.dbc, b.dbc) &&
                    same_bits(a.dX, b.dX) && same_bits(a.dh0, b.dh0) && same_bits(a.dc0, b.dc0);
  check_true(("1 and 2 threads agree bitwise " + tag).c_str(), same);
}

// Tolerance for a result that sums K terms: a few roundings per term, in T's epsilon
// (float: vmath adds a few ulp per gate; measured errors stay under an eighth of this).
template <typename T>
double tol_k(double K) {
  return 4.0 * (K + 4.0) * eps_of<T>();
}

// Fast against the reference for one case, dtype and option set; returns the run.
template <typename T>
Run<T> check_case(Cell cell, const Case& c, const Options& o, Rng& rng, const std::string& prefix) {
  const std::string tag =
      lbl("%s %s %s n_x %lld n_c %lld T %lld m %lld %s%s%s", prefix.c_str(), cell_name(cell),
          tname<T>(), (long long)c.n_x, (long long)c.n_c, (long long)c.steps, (long long)c.m,
          o.use_ids ? "ids" : "dense", o.want_dX && !o.use_ids ? " dX" : "",
          cell == Cell::Lstm && o.want_dcT ? " dcT" : "");
  const nrnn_ref::CellInputs in = make_inputs(rng, cell, c, o.use_ids, 1.0);
  const index_t Tm = c.steps * c.m;
  std::vector<double> dH(static_cast<std::size_t>(c.n_c * Tm)), dcT(static_cast<std::size_t>(c.n_c * c.m));
  for (auto& x : dH) x = rng.uniform(-1.0, 1.0);
  for (auto& x : dcT) x = rng.uniform(-1.0, 1.0);
  // The reference sees the inputs as T rounds them.
  nrnn_ref::CellInputs in_T = in;
  for (auto* v : {&in_T.X, &in_T.Wx, &in_T.Wc, &in_T.bx, &in_T.bc, &in_T.h0, &in_T.c0})
    for (auto& x : *v) x = double(T(x));
  std::vector<double> dH_T = dH, dcT_T = dcT;
  for (auto& x : dH_T) x = double(T(x));
  for (auto& x : dcT_T) x = double(T(x));

  const Run<T> r = run_cell<T>(cell, in, dH, dcT, o, rng.next());
  const bool lstm = cell == Cell::Lstm;
  const nrnn_ref::CellForward f = lstm ? nrnn_ref::lstm_forward(in_T) : nrnn_ref::gru_forward(in_T);
  const nrnn_ref::CellGrads g =
      lstm ? nrnn_ref::lstm_backward(in_T, f, dH_T, o.want_dcT ? dcT_T : std::vector<double>(),
                                     o.want_dX)
           : nrnn_ref::gru_backward(in_T, f, dH_T, o.want_dX);

  const index_t ldh = (c.steps + 1) * c.m;
  const double K = double((c.n_x + c.n_c + 2) * (c.steps + 1));
  const double tf = tol_k<T>(K);
  const double tb = tol_k<T>(double(Tm) + 4.0 * K);
  check_close(("H " + tag).c_str(), r.H.data(), f.H.data(), c.n_c * ldh, tf);
  if (lstm) check_close(("S " + tag).c_str(), r.S.data(), f.S.data(), c.n_c * ldh, tf);
  // the GRU's 4th block is B_n, a sum of n_c + 1 terms (it is not bounded by 1)
  check_close(("G " + tag).c_str(), r.G.data(), f.G.data(), 4 * c.n_c * Tm, tf);
  check_close(("dG " + tag).c_str(), r.dG.data(), g.dG.data(), 4 * c.n_c * Tm, tb);
  check_close(("dWx " + tag).c_str(), to_double(r.dWx, index_t(g.dWx.size())), plus(r.dWx0, g.dWx), tb);
  check_close(("dWc " + tag).c_str(), to_double(r.dWc, index_t(g.dWc.size())), plus(r.dWc0, g.dWc), tb);
  check_close(("dbx " + tag).c_str(), to_double(r.dbx, index_t(g.dbx.size())), plus(r.dbx0, g.dbx), tb);
  check_close(("dbc " + tag).c_str(), to_double(r.dbc, index_t(g.dbc.size())), plus(r.dbc0, g.dbc), tb);
  if (o.want_dX && !o.use_ids) {
    check_close(("dX " + tag).c_str(), to_double(r.dX, index_t(g.dX.size())), plus(r.dX0, g.dX), tb);
  } else {
    check_true(("dX untouched " + tag).c_str(), same_bits(r.dX, r.dX0));
  }
  if (c.m > 0 && c.n_c > 0) {
    check_close(("dh0 " + tag).c_str(), r.dh0.data(), g.dh0.data(), c.n_c * c.m, tb);
    if (lstm) check_close(("dc0 " + tag).c_str(), r.dc0.data(), g.dc0.data(), c.n_c * c.m, tb);
  }
  check_true(("no write past any buffer " + tag).c_str(),
             tail_intact(r.H) && tail_intact(r.S) && tail_intact(r.G) && tail_intact(r.dG) &&
                 tail_intact(r.dWx) && tail_intact(r.dWc) && tail_intact(r.dbx) &&
                 tail_intact(r.dbc) && tail_intact(r.dX) && tail_intact(r.dh0) &&
                 tail_intact(r.dc0));
  return r;
}

const Case kCases[] = {
    {1, 1, 1, 1},   {3, 5, 4, 2},   {7, 3, 1, 5},  {5, 17, 3, 1}, {17, 31, 3, 4},
    {4, 4, 5, 3},   {2, 9, 2, 7},   {12, 6, 9, 3}, {1, 33, 2, 2},
    // split into row tiles with 2 threads: G·n_c²·m >= 2^18, a ragged last tile at 50 and
    // 300; m = 1 takes gemm's matrix-vector paths, whose per-element sums must not depend
    // on the split either
    {20, 50, 2, 40}, {40, 96, 3, 32}, {3, 300, 2, 1},
};

template <typename T>
void run_suite(Rng& rng, const std::string& isa) {
  for (Cell cell : {Cell::Lstm, Cell::Gru})
    for (const Case& c : kCases)
      for (int variant = 0; variant < 4; ++variant) {
        // 0: dense, dX, dcT   1: dense, no dX, no dcT   2: ids, dcT   3: ids, no dcT
        Options o;
        o.use_ids = variant >= 2;
        o.want_dX = variant == 0;
        o.want_dcT = variant == 0 || variant == 2;
        if (cell == Cell::Gru && (variant == 3)) continue;  // no dcT for the GRU: same as 2
        const std::uint64_t seed = rng.next();
        nrnn::set_num_threads(1);
        Rng r1(seed);
        const Run<T> one = check_case<T>(cell, c, o, r1, isa + " threads=1");
        nrnn::set_num_threads(2);
        Rng r2(seed);
        const Run<T> two = check_case<T>(cell, c, o, r2, isa + " threads=2");
        compare_runs(lbl("%s %s %s n_c %lld m %lld v%d", isa.c_str(), cell_name(cell), tname<T>(),
                         (long long)c.n_c, (long long)c.m, variant),
                     one, two);
      }
}

// The empty sizes, as kernels.h defines them: steps == 0 writes dh0 = 0 and dc0 = dcT (or
// 0); m == 0 or n_c == 0 touches nothing; n_x == 0 (dense) is a zero input.
template <typename T>
void test_empty(Rng& rng) {
  const T nan = std::numeric_limits<T>::quiet_NaN();
  for (Cell cell : {Cell::Lstm, Cell::Gru})
    for (const Case& c : {Case{3, 4, 0, 2}, Case{3, 4, 2, 0}, Case{3, 0, 2, 2}, Case{0, 0, 0, 0}})
      for (int with_dcT = 0; with_dcT < 2; ++with_dcT) {
        const std::string tag = lbl("empty %s %s n_x %lld n_c %lld T %lld m %lld%s", cell_name(cell),
                                    tname<T>(), (long long)c.n_x, (long long)c.n_c,
                                    (long long)c.steps, (long long)c.m, with_dcT ? " dcT" : "");
        const nrnn_ref::CellInputs in = make_inputs(rng, cell, c, false, 1.0);
        const index_t Tm = c.steps * c.m, ldh = (c.steps + 1) * c.m, Gr = gates(cell);
        std::vector<T> X = cast<T>(in.X), Wx = cast<T>(in.Wx), Wc = cast<T>(in.Wc);
        std::vector<T> bx = cast<T>(in.bx), bc = cast<T>(in.bc);
        std::vector<T> H = random_buffer<T>(rng, c.n_c * ldh), S = random_buffer<T>(rng, c.n_c * ldh);
        std::vector<T> G = random_buffer<T>(rng, 4 * c.n_c * Tm), dG = G;
        const std::vector<T> H0 = H, S0 = S, G0 = G;
        std::vector<T> dH = random_buffer<T>(rng, c.n_c * Tm), dcT = random_buffer<T>(rng, c.n_c * c.m);
        std::vector<T> dWx = random_buffer<T>(rng, Gr * c.n_c * c.n_x), dWc = random_buffer<T>(rng, Gr * c.n_c * c.n_c);
        std::vector<T> dbx = random_buffer<T>(rng, Gr * c.n_c), dbc = random_buffer<T>(rng, Gr * c.n_c);
        std::vector<T> dX = random_buffer<T>(rng, c.n_x * Tm);
        const std::vector<T> dWx0 = dWx, dWc0 = dWc, dbx0 = dbx, dbc0 = dbc, dX0 = dX;
        std::vector<T> dh0 = buffer<T>(c.n_c * c.m, nan), dc0 = buffer<T>(c.n_c * c.m, nan);
        const std::vector<T> dh00 = dh0, dc00 = dc0;
        const T* dcTp = with_dcT ? dcT.data() : nullptr;
        if (cell == Cell::Lstm) {
          nrnn::lstm_forward(c.n_x, c.n_c, c.steps, c.m, X.data(), nullptr, Wx.data(), Wc.data(),
                             bx.data(), bc.data(), H.data(), S.data(), G.data());
          nrnn::lstm_backward(c.n_x, c.n_c, c.steps, c.m, X.data(), nullptr, Wx.data(), Wc.data(),
                              H.data(), S.data(), G.data(), dH.data(), dcTp, dG.data(), dWx.data(),
                              dWc.data(), dbx.data(), dbc.data(), dX.data(), dh0.data(), dc0.data());
        } else {
          nrnn::gru_forward(c.n_x, c.n_c, c.steps, c.m, X.data(), nullptr, Wx.data(), Wc.data(),
                            bx.data(), bc.data(), H.data(), G.data());
          nrnn::gru_backward(c.n_x, c.n_c, c.steps, c.m, X.data(), nullptr, Wx.data(), Wc.data(),
                             H.data(), G.data(), dH.data(), dG.data(), dWx.data(), dWc.data(),
                             dbx.data(), dbc.data(), dX.data(), dh0.data());
        }
        check_true(("forward touches nothing " + tag).c_str(),
                   same_bits(H, H0) && same_bits(S, S0) && same_bits(G, G0));
        check_true(("backward accumulates nothing " + tag).c_str(),
                   same_bits(dWx, dWx0) && same_bits(dWc, dWc0) && same_bits(dbx, dbx0) &&
                       same_bits(dbc, dbc0) && same_bits(dX, dX0) && same_bits(dG, G0));
        if (c.steps == 0 && c.m > 0 && c.n_c > 0) {
          std::vector<T> zeros = buffer<T>(c.n_c * c.m, T(0));
          check_true(("steps 0: dh0 = 0 " + tag).c_str(), same_bits(dh0, zeros));
          if (cell == Cell::Lstm)
            check_true(("steps 0: dc0 = dcT or 0 " + tag).c_str(),
                       same_bits(dc0, with_dcT ? dcT : zeros));
        } else {
          check_true(("dh0, dc0 untouched " + tag).c_str(),
                     same_bits(dh0, dh00) && same_bits(dc0, dc00));
        }
      }

  // n_x == 0 with a dense (empty) input: A = bx, and dWx, dX have no elements.
  for (Cell cell : {Cell::Lstm, Cell::Gru}) {
    const Case c{0, 3, 2, 2};
    Options o;
    o.want_dX = true;
    Rng r(rng.next());
    check_case<T>(cell, c, o, r, "n_x=0");
  }
}

// ---- finite differences (double) --------------------------------------------------------

// J = Σ w ⊙ [h_1 .. h_T] + Σ w' ⊙ c_T (LSTM; w' = 0 tests dcT = null) — as a difference
// J(θ+) − J(θ−) taken element by element, so the cancellation is per element.
struct FdLoss {
  std::vector<double> w, wc;  // (n_c, T·m), (n_c, m) or empty
};

struct Forward64 {
  std::vector<double> H, S, G;
};

Forward64 forward64(Cell cell, const nrnn_ref::CellInputs& in) {
  const index_t ldh = (in.steps + 1) * in.m, Tm = in.steps * in.m;
  Forward64 f;
  f.H.assign(static_cast<std::size_t>(in.n_c * ldh), 0.0);
  f.S = f.H;
  f.G.assign(static_cast<std::size_t>(4 * in.n_c * Tm), 0.0);
  for (index_t i = 0; i < in.n_c; ++i)
    for (index_t j = 0; j < in.m; ++j) {
      f.H[i * ldh + j] = in.h0[i * in.m + j];
      f.S[i * ldh + j] = in.c0[i * in.m + j];
    }
  const double* X = in.use_ids ? nullptr : in.X.data();
  const std::int32_t* ids = in.use_ids ? in.ids.data() : nullptr;
  if (cell == Cell::Lstm)
    nrnn::lstm_forward(in.n_x, in.n_c, in.steps, in.m, X, ids, in.Wx.data(), in.Wc.data(),
                       in.bx.data(), in.bc.data(), f.H.data(), f.S.data(), f.G.data());
  else
    nrnn::gru_forward(in.n_x, in.n_c, in.steps, in.m, X, ids, in.Wx.data(), in.Wc.data(),
                      in.bx.data(), in.bc.data(), f.H.data(), f.G.data());
  return f;
}

double loss_diff(const nrnn_ref::CellInputs& in, const FdLoss& L, const Forward64& p,
                 const Forward64& q) {
  const index_t Tm = in.steps * in.m, ldh = (in.steps + 1) * in.m;
  double s = 0.0;
  for (index_t i = 0; i < in.n_c; ++i) {
    for (index_t j = 0; j < Tm; ++j)
      s += L.w[i * Tm + j] * (p.H[i * ldh + in.m + j] - q.H[i * ldh + in.m + j]);
    if (!L.wc.empty())
      for (index_t j = 0; j < in.m; ++j)
        s += L.wc[i * in.m + j] * (p.S[i * ldh + Tm + j] - q.S[i * ldh + Tm + j]);
  }
  return s;
}

double g_fd_worst = 0.0;  // the largest FD relative error seen, printed at the end

void test_finite_differences(Rng& rng) {
  const Case cases[] = {{3, 4, 3, 2}, {2, 3, 1, 1}, {4, 2, 4, 3}, {1, 1, 2, 1}};
  for (Cell cell : {Cell::Lstm, Cell::Gru})
    for (const Case& c : cases)
      for (int use_ids = 0; use_ids < 2; ++use_ids)
        for (int with_dcT = 0; with_dcT < (cell == Cell::Lstm ? 2 : 1); ++with_dcT) {
          nrnn_ref::CellInputs in = make_inputs(rng, cell, c, use_ids != 0, 2.5);
          const index_t Tm = c.steps * c.m;
          FdLoss L;
          L.w.resize(static_cast<std::size_t>(c.n_c * Tm));
          for (auto& x : L.w) x = rng.uniform(-1.0, 1.0);
          if (with_dcT) {
            L.wc.resize(static_cast<std::size_t>(c.n_c * c.m));
            for (auto& x : L.wc) x = rng.uniform(-1.0, 1.0);
          }
          Options o;
          o.use_ids = use_ids != 0;
          o.want_dX = true;
          o.want_dcT = with_dcT != 0;
          // gradients from zero: run_cell starts them random, so subtract its start values
          const Run<double> r = run_cell<double>(cell, in, L.w, L.wc, o, rng.next());
          auto grad = [](const std::vector<double>& v, const std::vector<double>& v0, std::size_t n) {
            std::vector<double> g(n);
            for (std::size_t k = 0; k < n; ++k) g[k] = v[k] - v0[k];
            return g;
          };
          struct Target {
            const char* name;
            std::vector<double>* theta;
            std::vector<double> analytic;
          };
          std::vector<Target> targets = {
              {"Wx", &in.Wx, grad(r.dWx, r.dWx0, in.Wx.size())},
              {"Wc", &in.Wc, grad(r.dWc, r.dWc0, in.Wc.size())},
              {"bx", &in.bx, grad(r.dbx, r.dbx0, in.bx.size())},
              {"bc", &in.bc, grad(r.dbc, r.dbc0, in.bc.size())},
              {"h0", &in.h0, std::vector<double>(r.dh0.begin(), r.dh0.begin() + c.n_c * c.m)},
          };
          if (cell == Cell::Lstm)
            targets.push_back({"c0", &in.c0, std::vector<double>(r.dc0.begin(), r.dc0.begin() + c.n_c * c.m)});
          if (!use_ids) targets.push_back({"X", &in.X, grad(r.dX, r.dX0, in.X.size())});
          for (Target& tg : targets) {
            std::vector<double>& theta = *tg.theta;
            double worst = 0.0, a_w = 0.0, n_w = 0.0;
            std::size_t where = 0;
            for (std::size_t k = 0; k < theta.size(); ++k) {
              const double keep = theta[k];
              // central differences at h and h/2, Richardson-extrapolated (the h² term cancels)
              auto central = [&](double h) {
                theta[k] = keep + h;
                const Forward64 p = forward64(cell, in);
                theta[k] = keep - h;
                const Forward64 q = forward64(cell, in);
                theta[k] = keep;
                return loss_diff(in, L, p, q) / (2.0 * h);
              };
              const double d1 = central(1e-3), d2 = central(5e-4);
              const double fd = d2 + (d2 - d1) / 3.0;
              const double a = tg.analytic[k];
              // relative error, floored at 1e-3 so entries near 0 are judged in absolute terms
              const double rel = std::fabs(a - fd) / std::fmax(std::fmax(std::fabs(a), std::fabs(fd)), 1e-3);
              if (rel > worst) worst = rel, where = k, a_w = a, n_w = fd;
            }
            const std::string tag =
                lbl("%s finite differences d%s n_x %lld n_c %lld T %lld m %lld %s%s", cell_name(cell),
                    tg.name, (long long)c.n_x, (long long)c.n_c, (long long)c.steps, (long long)c.m,
                    use_ids ? "ids" : "dense", with_dcT ? " with dcT" : "");
            if (worst > g_fd_worst) g_fd_worst = worst;
            if (!check_true(tag.c_str(), worst <= 1e-7))
              std::printf("  worst relative error %.3e at [%zu]: analytic %.17g numeric %.17g\n",
                          worst, where, a_w, n_w);
          }
        }
}

}  // namespace

int main() {
  Rng rng(0xce115ull);
  const nrnn::Isa detected = nrnn::detected_isa();
  std::string isas;
  for (nrnn::Isa isa : {nrnn::Isa::Generic, nrnn::Isa::Avx2, nrnn::Isa::Avx512}) {
    if (static_cast<int>(isa) > static_cast<int>(detected)) continue;
    check_true(lbl("set_isa(%s)", nrnn::isa_name(isa)).c_str(), nrnn::set_isa(isa));
    isas += std::string(isas.empty() ? "" : ",") + nrnn::isa_name(isa);
    run_suite<float>(rng, nrnn::isa_name(isa));
    run_suite<double>(rng, nrnn::isa_name(isa));
  }
  nrnn::set_isa(detected);
  nrnn::set_num_threads(2);
  test_empty<float>(rng);
  test_empty<double>(rng);
  test_finite_differences(rng);
  std::printf("test_cells: isa paths %s; threads 1,2; float, double; largest FD relative error %.2e\n",
              isas.c_str(), g_fd_worst);
  return nrnn_test::finish();
}
