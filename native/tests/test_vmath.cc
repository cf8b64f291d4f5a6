// Accuracy of the vectorized float math (vmath.h) on every CPU path this machine runs,
// against the C library in double rounded to float: ulp errors over dense sweeps of the
// whole range, exact saturation, signs, zeros and NaN.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "kernels/runtime.h"
#include "kernels/vmath.h"

using nrnn::index_t;

namespace {

int failures = 0;
long checks = 0;

// Distance in units in the last place between two finite floats of any sign.
std::int64_t ulp_distance(float a, float b) {
  std::int32_t ia, ib;
  std::memcpy(&ia, &a, 4);
  std::memcpy(&ib, &b, 4);
  const std::int64_t oa = ia < 0 ? std::int64_t(INT32_MIN) - ia : ia;
  const std::int64_t ob = ib < 0 ? std::int64_t(INT32_MIN) - ib : ib;
  return oa > ob ? oa - ob : ob - oa;
}

void expect(bool ok, const char* what, const char* isa, float x, float got, float want) {
  ++checks;
  if (!ok) {
    ++failures;
    if (failures < 20) std::printf("FAIL %s [%s] x=%.9g got=%.9g want=%.9g\n", what, isa, x, got, want);
  }
}

// Inputs: every 2^k-th float bit pattern over [lo, hi] (both signs), plus specials.
std::vector<float> sweep(float hi, int stride) {
  std::vector<float> xs;
  for (std::uint32_t bits = 0; bits < 0x7f800000u; bits += std::uint32_t(stride)) {
    float x;
    std::memcpy(&x, &bits, 4);
    if (x > hi) break;
    xs.push_back(x);
    xs.push_back(-x);
  }
  return xs;
}

template <typename F, typename R>
std::int64_t max_ulp(const char* what, const char* isa, F f, R reference, const std::vector<float>& xs,
                     float min_abs_result) {
  std::vector<float> y(xs.size());
  f(xs.data(), y.data(), index_t(xs.size()));
  std::int64_t worst = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const float want = float(reference(double(xs[i])));
    if (std::fabs(want) < min_abs_result) continue;
    const std::int64_t d = ulp_distance(y[i], want);
    if (d > worst) worst = d;
    ++checks;
  }
  std::printf("  %-8s [%s] max error %lld ulp over %zu inputs\n", what, isa, (long long)worst, xs.size());
  return worst;
}

}  // namespace

int main() {
  const nrnn::Isa best = nrnn::detected_isa();
  for (int k = 0; k <= int(best); ++k) {
    const auto isa = nrnn::Isa(k);
    nrnn::set_isa(isa);
    const char* name = nrnn::isa_name(isa);
    // tanh: <= 2 ulp over the whole range (a 1-in-613 sweep of all float bit patterns below 20)
    const std::vector<float> xs = sweep(20.f, 613);
    const std::int64_t tanh_err = max_ulp("tanh", name, nrnn::vtanh, [](double x) { return std::tanh(x); }, xs, 0.f);
    expect(tanh_err <= 2, "tanh ulp bound", name, 0, float(tanh_err), 2);
    // exp: <= 2 ulp on [-87, 88]
    std::vector<float> ex;
    for (float x : sweep(88.f, 613)) if (x >= -87.f) ex.push_back(x);
    const std::int64_t exp_err = max_ulp("exp", name, nrnn::vexp, [](double x) { return std::exp(x); }, ex, 0.f);
    expect(exp_err <= 2, "exp ulp bound", name, 0, float(exp_err), 2);
    // sigmoid: <= 3 ulp where the result is >= 1e-30
    std::vector<float> sx;
    for (float x : sweep(60.f, 613)) sx.push_back(x);
    const std::int64_t sig_err = max_ulp("sigmoid", name, nrnn::vsigmoid,
                                         [](double x) { return 1.0 / (1.0 + std::exp(-x)); }, sx, 1e-30f);
    expect(sig_err <= 3, "sigmoid ulp bound", name, 0, float(sig_err), 3);

    // exact saturation, odd symmetry, zeros, NaN, lengths that are not a multiple of the width
    const float specials[] = {9.1f, 10.f, 50.f, 1e30f, INFINITY, -9.1f, -1e30f, -INFINITY, 0.f, -0.f, NAN,
                              0.3f, -0.3f, 0.55f, -0.55f, 0.5499999f, 3.f};
    const index_t n = index_t(sizeof specials / sizeof specials[0]);
    float out[32];
    nrnn::vtanh(specials, out, n);
    for (index_t i = 0; i < 8; ++i) expect(out[i] == (specials[i] > 0 ? 1.f : -1.f), "tanh saturates to ±1", name, specials[i], out[i], 1);
    expect(out[8] == 0.f && !std::signbit(out[8]), "tanh(0) = +0", name, 0.f, out[8], 0.f);
    expect(out[9] == 0.f && std::signbit(out[9]), "tanh(-0) = -0", name, -0.f, out[9], -0.f);
    expect(std::isnan(out[10]), "tanh(NaN) is NaN", name, NAN, out[10], NAN);
    for (index_t i = 11; i + 1 < 15; i += 2) expect(out[i] == -out[i + 1], "tanh is odd", name, specials[i], out[i], -out[i + 1]);
    const float sin_[3] = {-800.f, 800.f, -90.f};
    float sout[3];
    nrnn::vsigmoid(sin_, sout, 3);
    expect(sout[0] == 0.f, "sigmoid(-800) = 0", name, -800.f, sout[0], 0.f);
    expect(sout[1] == 1.f, "sigmoid(800) = 1", name, 800.f, sout[1], 1.f);
    expect(sout[2] >= 0.f && sout[2] < 1e-37f, "sigmoid(-90) is 0 or subnormal", name, -90.f, sout[2], 0.f);
    float e[4];
    const float ein[4] = {-100.f, NAN, 0.f, 1.f};
    nrnn::vexp(ein, e, 4);
    expect(e[0] >= 0.f && e[0] < 1e-37f, "exp(-100) is 0 or subnormal", name, -100.f, e[0], 0.f);
    expect(std::isnan(e[1]), "exp(NaN) is NaN", name, NAN, e[1], NAN);
    expect(e[2] == 1.f, "exp(0) = 1", name, 0.f, e[2], 1.f);
    // in place, every tail length
    for (index_t len = 0; len <= 33; ++len) {
      float buf[40], ref[40];
      for (index_t i = 0; i < 40; ++i) buf[i] = ref[i] = 0.1f * float(i) - 1.5f;
      nrnn::vtanh(buf, buf, len);
      for (index_t i = 0; i < 40; ++i) {
        const float want = i < len ? float(std::tanh(double(ref[i]))) : ref[i];
        expect(i < len ? ulp_distance(buf[i], want) <= 2 : buf[i] == want, "tanh in place, tail untouched", name, ref[i], buf[i], want);
      }
    }
  }
  nrnn::set_isa(best);
  std::printf("%ld checks, %d failures\n", checks, failures);
  return failures == 0 ? 0 : 1;
}
