// cells_bench: milliseconds of one LSTM or GRU forward + backward over a whole sequence
// (lstm_forward + lstm_backward with the input gradient dX, float32), the median of several
// repetitions after a warm-up. native/bench/cells_vs_torch.py runs it against PyTorch's
// nn.LSTM / nn.GRU on the same shapes, alternating the two, and prints the ratios.
//
//   cells_bench [--cell lstm|gru] [--nc N] [--nx N] [--m N] [--T N] [--threads N]
//               [--reps N] [--double] [--json]
//
// n_x defaults to n_c. Weights are uniform in ±1/sqrt(n_c) (PyTorch's init), inputs and dH
// uniform in ±1.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/runtime.h"

using nrnn::index_t;

namespace {

struct Args {
  std::string cell = "lstm";
  index_t nc = 128, nx = -1, m = 32, T = 32;
  int threads = 1, reps = 15;
  bool dbl = false, json = false;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "cells_bench: %s needs a value\n", k.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (k == "--cell") a.cell = next();
    else if (k == "--nc") a.nc = std::atoll(next());
    else if (k == "--nx") a.nx = std::atoll(next());
    else if (k == "--m") a.m = std::atoll(next());
    else if (k == "--T") a.T = std::atoll(next());
    else if (k == "--threads") a.threads = std::atoi(next());
    else if (k == "--reps") a.reps = std::atoi(next());
    else if (k == "--double") a.dbl = true;
    else if (k == "--json") a.json = true;
    else {
      std::fprintf(stderr, "cells_bench: unknown argument %s\n", k.c_str());
      std::exit(2);
    }
  }
  if (a.nx < 0) a.nx = a.nc;
  if (a.cell != "lstm" && a.cell != "gru") {
    std::fprintf(stderr, "cells_bench: --cell is lstm or gru\n");
    std::exit(2);
  }
  return a;
}

template <typename T>
std::vector<T> uniform(std::mt19937& rng, std::size_t n, double r) {
  std::uniform_real_distribution<double> d(-r, r);
  std::vector<T> v(n);
  for (auto& x : v) x = T(d(rng));
  return v;
}

template <typename T>
void run(const Args& a) {
  const bool lstm = a.cell == "lstm";
  const index_t G = lstm ? 4 : 3, nc = a.nc, nx = a.nx, m = a.m, T_ = a.T, Tm = T_ * m;
  const index_t ldh = (T_ + 1) * m;
  std::mt19937 rng(7);
  const double w = 1.0 / std::sqrt(double(nc));
  auto Wx = uniform<T>(rng, G * nc * nx, w), Wc = uniform<T>(rng, G * nc * nc, w);
  auto bx = uniform<T>(rng, G * nc, w), bc = uniform<T>(rng, G * nc, w);
  auto X = uniform<T>(rng, nx * Tm, 1.0), dH = uniform<T>(rng, nc * Tm, 1.0);
  std::vector<T> H(nc * ldh, T(0)), S(nc * ldh, T(0)), Gs(4 * nc * Tm), dG(4 * nc * Tm);
  std::vector<T> dWx(Wx.size(), T(0)), dWc(Wc.size(), T(0)), dbx(bx.size(), T(0)),
      dbc(bc.size(), T(0)), dX(X.size(), T(0)), dh0(nc * m), dc0(nc * m);
  nrnn::set_num_threads(a.threads);
  auto once = [&]() {
    if (lstm) {
      nrnn::lstm_forward(nx, nc, T_, m, X.data(), nullptr, Wx.data(), Wc.data(), bx.data(),
                         bc.data(), H.data(), S.data(), Gs.data());
      nrnn::lstm_backward(nx, nc, T_, m, X.data(), nullptr, Wx.data(), Wc.data(), H.data(),
                          S.data(), Gs.data(), dH.data(), static_cast<const T*>(nullptr), dG.data(), dWx.data(),
                          dWc.data(), dbx.data(), dbc.data(), dX.data(), dh0.data(), dc0.data());
    } else {
      nrnn::gru_forward(nx, nc, T_, m, X.data(), nullptr, Wx.data(), Wc.data(), bx.data(),
                        bc.data(), H.data(), Gs.data());
      nrnn::gru_backward(nx, nc, T_, m, X.data(), nullptr, Wx.data(), Wc.data(), H.data(),
                         Gs.data(), dH.data(), dG.data(), dWx.data(), dWc.data(), dbx.data(),
                         dbc.data(), dX.data(), dh0.data());
    }
  };
  once();
  once();
  std::vector<double> ms;
  for (int r = 0; r < a.reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    once();
    const auto t1 = std::chrono::steady_clock::now();
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  const double med = ms[ms.size() / 2];
  if (a.json) {
    std::printf("{\"cell\":\"%s\",\"nc\":%lld,\"nx\":%lld,\"m\":%lld,\"T\":%lld,\"threads\":%d,"
                "\"dtype\":\"%s\",\"isa\":\"%s\",\"median_ms\":%.4f,\"min_ms\":%.4f}\n",
                a.cell.c_str(), (long long)nc, (long long)nx, (long long)m, (long long)T_,
                a.threads, sizeof(T) == 4 ? "float32" : "float64",
                nrnn::isa_name(nrnn::active_isa()), med, ms.front());
  } else {
    std::printf("%s n_c=%lld n_x=%lld m=%lld T=%lld threads=%d %s [%s]: median %.3f ms (min %.3f)\n",
                a.cell.c_str(), (long long)nc, (long long)nx, (long long)m, (long long)T_,
                a.threads, sizeof(T) == 4 ? "float32" : "float64",
                nrnn::isa_name(nrnn::active_isa()), med, ms.front());
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  if (a.dbl) {
    run<double>(a);
  } else {
    run<float>(a);
  }
  return 0;
}
