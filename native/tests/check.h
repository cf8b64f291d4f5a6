// Test helpers (test-only, header-only): a fixed-seed generator, padded matrix buffers and
// one check_close that prints the largest difference and where it is.
#pragma once

#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

namespace nrnn_test {

// splitmix64: deterministic, no std::random_device, same numbers on every machine.
struct Rng {
  std::uint64_t state;
  explicit Rng(std::uint64_t seed) : state(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // uniform in [lo, hi)
  double uniform(double lo = -1.0, double hi = 1.0) {
    return lo + (hi - lo) * (double(next() >> 11) * (1.0 / 9007199254740992.0));
  }
  // uniform integer in [0, n)
  std::int64_t below(std::int64_t n) { return std::int64_t(next() % std::uint64_t(n)); }
};

template <typename T>
void fill_uniform(Rng& rng, std::vector<T>& v, double lo = -1.0, double hi = 1.0) {
  for (auto& x : v) x = T(rng.uniform(lo, hi));
}

struct Tally {
  long passed = 0;
  long failed = 0;
};
inline Tally& tally() {
  static Tally t;
  return t;
}

template <typename T>
constexpr double eps_of() {
  return double(std::numeric_limits<T>::epsilon());
}

// Passes when every |got[i] - want[i]| <= tol·(1 + |want[i]|) (absolute near zero, relative
// for large values). Non-finite values must match exactly (NaN with NaN, inf with inf).
// On failure prints the worst index, both values and the scaled error.
template <typename A, typename B>
bool check_close(const char* label, const A* got, const B* want, std::int64_t n, double tol) {
  double worst = 0.0;
  std::int64_t where = -1;
  bool bad_nonfinite = false;
  for (std::int64_t i = 0; i < n; ++i) {
    const double g = double(got[i]), w = double(want[i]);
    if (!std::isfinite(g) || !std::isfinite(w)) {
      const bool same = (std::isnan(g) && std::isnan(w)) || g == w;
      if (!same && !bad_nonfinite) {
        bad_nonfinite = true;
        where = i;
      }
      continue;
    }
    const double err = std::fabs(g - w) / (1.0 + std::fabs(w));
    if (err > worst) {
      worst = err;
      if (!bad_nonfinite) where = i;
    }
  }
  const bool ok = !bad_nonfinite && worst <= tol;
  if (ok) {
    ++tally().passed;
  } else {
    ++tally().failed;
    std::printf("FAIL %s: n=%lld worst scaled error %.3e (tol %.3e) at [%lld]: got %.17g want %.17g%s\n",
                label, (long long)n, worst, tol, (long long)where,
                where >= 0 ? double(got[where]) : 0.0, where >= 0 ? double(want[where]) : 0.0,
                bad_nonfinite ? " (non-finite mismatch)" : "");
  }
  return ok;
}

template <typename A, typename B>
bool check_close(const char* label, const std::vector<A>& got, const std::vector<B>& want,
                 double tol) {
  if (got.size() != want.size()) {
    ++tally().failed;
    std::printf("FAIL %s: sizes differ (%zu vs %zu)\n", label, got.size(), want.size());
    return false;
  }
  return check_close(label, got.data(), want.data(), std::int64_t(got.size()), tol);
}

inline bool check_true(const char* label, bool cond) {
  if (cond) {
    ++tally().passed;
  } else {
    ++tally().failed;
    std::printf("FAIL %s\n", label);
  }
  return cond;
}

// Prints the summary line and gives the process exit code.
inline int finish() {
  if (tally().failed == 0) {
    std::printf("%ld checks passed\n", tally().passed);
    return 0;
  }
  std::printf("%ld checks passed, %ld FAILED\n", tally().passed, tally().failed);
  return 1;
}

// A printf-formatted label for a check (the shape, dtype and path it ran on).
inline std::string lbl(const char* fmt, ...) {
  char buf[320];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return buf;
}

// "f32" or "f64", for labels.
template <typename T>
const char* tname() {
  return sizeof(T) == 4 ? "f32" : "f64";
}

}  // namespace nrnn_test
