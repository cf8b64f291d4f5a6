// Argument checking for every kernel, in the same order and with the same rules as
// lib/backend/validate.ts (the TypeScript layer checks first; this is the last line of
// defence, so a caller of the raw addon cannot crash the process or write out of bounds).
#include "addon/ops.h"

#include <cstring>
#include <initializer_list>

namespace nrnn::addon {

namespace {

// Calls f with a float or double tag according to the dtype.
template <typename F>
double withType(DType t, F&& f) {
  if (t == DType::F32) return f(float{});
  return f(double{});
}

template <typename T>
T* ptr(const ArrayArg& a, index_t off) {
  return a.present ? static_cast<T*>(a.data) + off : nullptr;
}

// An element range of an array argument, for overlap checks.
struct Span {
  const ArrayArg* array;
  index_t off;
  index_t len;
};

// No output may overlap an input or another output; `same` lists (output, input) pairs
// allowed to be the very same view (in-place kernels).
void disjoint(Args& a, std::initializer_list<Span> outs, std::initializer_list<Span> ins,
              std::initializer_list<std::pair<const ArrayArg*, const ArrayArg*>> same = {}) {
  auto allowed = [&](const ArrayArg* o, const ArrayArg* i) {
    for (const auto& s : same) {
      if (s.first == o && s.second == i) return true;
    }
    return false;
  };
  for (auto o = outs.begin(); o != outs.end(); ++o) {
    for (const Span& i : ins) {
      a.noOverlap(*o->array, o->off, o->len, *i.array, i.off, i.len, allowed(o->array, i.array));
    }
    for (auto p = o + 1; p != outs.end(); ++p) {
      a.noOverlap(*p->array, p->off, p->len, *o->array, o->off, o->len, false);
    }
  }
}

void nonNegative(Args& a, double v, const char* name) {
  if (v < 0) {
    a.rangeError(std::string(a.fn()) + ": " + name + " must be >= 0, got " + std::to_string(v));
  }
}

void unitInterval(Args& a, double v, const char* name) {
  if (v < 0 || v >= 1) {
    a.rangeError(std::string(a.fn()) + ": " + name + " must be in [0, 1), got " +
                 std::to_string(v));
  }
}

// The flat arrays of an optimizer update: p (updated), g (read) and its state arrays (updated,
// a null one skipped): one dtype, n elements each from their offsets, no two overlapping.
struct FlatArg {
  const ArrayArg* array;
  index_t off;
};
void checkUpdateArrays(Args& a, index_t n, FlatArg p, FlatArg g,
                       std::initializer_list<FlatArg> states) {
  a.sameDType(*p.array, *g.array);
  for (const FlatArg& s : states) a.sameDType(*p.array, *s.array);
  a.vectorFits(*p.array, p.off, n);
  a.vectorFits(*g.array, g.off, n);
  for (const FlatArg& s : states) {
    if (s.array->present) a.vectorFits(*s.array, s.off, n);
  }
  // outputs p, states…; input g — in the order (and with the messages) of disjoint()
  a.noOverlap(*p.array, p.off, n, *g.array, g.off, n, false);
  for (const FlatArg& s : states) a.noOverlap(*s.array, s.off, n, *p.array, p.off, n, false);
  for (const FlatArg* s = states.begin(); s != states.end(); ++s) {
    a.noOverlap(*s->array, s->off, n, *g.array, g.off, n, false);
    for (const FlatArg* t = s + 1; t != states.end(); ++t) {
      a.noOverlap(*t->array, t->off, n, *s->array, s->off, n, false);
    }
  }
}

// ---- gemm ---------------------------------------------------------------------------------
// C (M, N) = alpha op(A) (M, K) op(B) (K, N) + beta C
Task parseGemm(Args& a) {
  const bool tA = a.boolean(0, "transA");
  const bool tB = a.boolean(1, "transB");
  const index_t M = a.dim(2, "M"), N = a.dim(3, "N"), K = a.dim(4, "K");
  const double alpha = a.number(5, "alpha");
  ArrayArg A = a.floats(6, "A");
  const index_t offA = a.offset(7, "offA");
  const index_t lda = a.ld(8, "lda", tA ? M : K, tA ? "M, as transA is set" : "K");
  ArrayArg B = a.floats(9, "B");
  const index_t offB = a.offset(10, "offB");
  const index_t ldb = a.ld(11, "ldb", tB ? K : N, tB ? "K, as transB is set" : "N");
  const double beta = a.number(12, "beta");
  ArrayArg C = a.floats(13, "C");
  const index_t offC = a.offset(14, "offC");
  const index_t ldc = a.ld(15, "ldc", N, "N");
  a.sameDType(A, B);
  a.sameDType(A, C);
  const index_t rowsA = tA ? K : M, colsA = tA ? M : K;
  const index_t rowsB = tB ? N : K, colsB = tB ? K : N;
  a.matrixFits(A, offA, rowsA, colsA, lda);
  a.matrixFits(B, offB, rowsB, colsB, ldb);
  a.matrixFits(C, offC, M, N, ldc);
  disjoint(a, {{&C, offC, a.span(M, N, ldc, "C")}},
           {{&A, offA, a.span(rowsA, colsA, lda, "A")}, {&B, offB, a.span(rowsB, colsB, ldb, "B")}});
  return [=]() {
    return withType(C.dtype, [&](auto tag) {
      using T = decltype(tag);
      gemm<T>(tA, tB, M, N, K, T(alpha), ptr<const T>(A, offA), lda, ptr<const T>(B, offB), ldb,
              T(beta), ptr<T>(C, offC), ldc);
      return 0.0;
    });
  };
}

// ---- elementwise --------------------------------------------------------------------------
Task parseActivationForward(Args& a) {
  const Activation act = a.activation(0, "act");
  const index_t rows = a.dim(1, "rows"), cols = a.dim(2, "cols");
  ArrayArg U = a.floats(3, "U");
  const index_t offU = a.offset(4, "offU");
  const index_t ldu = a.ld(5, "ldu", cols, "cols");
  ArrayArg C = a.floats(6, "C");
  const index_t offC = a.offset(7, "offC");
  const index_t ldc = a.ld(8, "ldc", cols, "cols");
  a.sameDType(U, C);
  a.matrixFits(U, offU, rows, cols, ldu);
  a.matrixFits(C, offC, rows, cols, ldc);
  disjoint(a, {{&C, offC, a.span(rows, cols, ldc, "C")}}, {{&U, offU, a.span(rows, cols, ldu, "U")}},
           {{&C, &U}});
  return [=]() {
    return withType(C.dtype, [&](auto tag) {
      using T = decltype(tag);
      activation_forward<T>(act, rows, cols, ptr<const T>(U, offU), ldu, ptr<T>(C, offC), ldc);
      return 0.0;
    });
  };
}

Task parseActivationBackward(Args& a) {
  const Activation act = a.activation(0, "act");
  const index_t rows = a.dim(1, "rows"), cols = a.dim(2, "cols");
  ArrayArg dC = a.floats(3, "dC");
  const index_t offdC = a.offset(4, "offdC");
  const index_t lddC = a.ld(5, "lddC", cols, "cols");
  ArrayArg C = a.floats(6, "C");
  const index_t offC = a.offset(7, "offC");
  const index_t ldc = a.ld(8, "ldc", cols, "cols");
  ArrayArg dU = a.floats(9, "dU");
  const index_t offdU = a.offset(10, "offdU");
  const index_t lddU = a.ld(11, "lddU", cols, "cols");
  a.sameDType(dC, C);
  a.sameDType(dC, dU);
  a.matrixFits(dC, offdC, rows, cols, lddC);
  a.matrixFits(C, offC, rows, cols, ldc);
  a.matrixFits(dU, offdU, rows, cols, lddU);
  disjoint(a, {{&dU, offdU, a.span(rows, cols, lddU, "dU")}},
           {{&dC, offdC, a.span(rows, cols, lddC, "dC")}, {&C, offC, a.span(rows, cols, ldc, "C")}},
           {{&dU, &dC}, {&dU, &C}});
  return [=]() {
    return withType(dU.dtype, [&](auto tag) {
      using T = decltype(tag);
      activation_backward<T>(act, rows, cols, ptr<const T>(dC, offdC), lddC, ptr<const T>(C, offC),
                             ldc, ptr<T>(dU, offdU), lddU);
      return 0.0;
    });
  };
}

Task parseAddBias(Args& a) {
  const index_t rows = a.dim(0, "rows"), cols = a.dim(1, "cols");
  ArrayArg b = a.floats(2, "b");
  const index_t offb = a.offset(3, "offb");
  ArrayArg X = a.floats(4, "X");
  const index_t offX = a.offset(5, "offX");
  const index_t ldx = a.ld(6, "ldx", cols, "cols");
  a.sameDType(X, b);
  a.vectorFits(b, offb, rows);
  a.matrixFits(X, offX, rows, cols, ldx);
  disjoint(a, {{&X, offX, a.span(rows, cols, ldx, "X")}}, {{&b, offb, rows}});
  return [=]() {
    return withType(X.dtype, [&](auto tag) {
      using T = decltype(tag);
      add_bias<T>(rows, cols, ptr<const T>(b, offb), ptr<T>(X, offX), ldx);
      return 0.0;
    });
  };
}

Task parseRowSum(Args& a) {
  const index_t rows = a.dim(0, "rows"), cols = a.dim(1, "cols");
  ArrayArg X = a.floats(2, "X");
  const index_t offX = a.offset(3, "offX");
  const index_t ldx = a.ld(4, "ldx", cols, "cols");
  ArrayArg y = a.floats(5, "y");
  const index_t offy = a.offset(6, "offy");
  a.sameDType(X, y);
  a.matrixFits(X, offX, rows, cols, ldx);
  a.vectorFits(y, offy, rows);
  disjoint(a, {{&y, offy, rows}}, {{&X, offX, a.span(rows, cols, ldx, "X")}});
  return [=]() {
    return withType(X.dtype, [&](auto tag) {
      using T = decltype(tag);
      row_sum<T>(rows, cols, ptr<const T>(X, offX), ldx, ptr<T>(y, offy));
      return 0.0;
    });
  };
}

Task parseAxpy(Args& a) {
  const index_t n = a.count(0, "n");
  const double alpha = a.number(1, "alpha");
  ArrayArg x = a.floats(2, "x");
  const index_t offx = a.offset(3, "offx");
  ArrayArg y = a.floats(4, "y");
  const index_t offy = a.offset(5, "offy");
  a.sameDType(x, y);
  a.vectorFits(x, offx, n);
  a.vectorFits(y, offy, n);
  disjoint(a, {{&y, offy, n}}, {{&x, offx, n}}, {{&y, &x}});
  return [=]() {
    return withType(x.dtype, [&](auto tag) {
      using T = decltype(tag);
      axpy<T>(n, T(alpha), ptr<const T>(x, offx), ptr<T>(y, offy));
      return 0.0;
    });
  };
}

Task parseScale(Args& a) {
  const index_t n = a.count(0, "n");
  const double alpha = a.number(1, "alpha");
  ArrayArg x = a.floats(2, "x");
  const index_t offx = a.offset(3, "offx");
  a.vectorFits(x, offx, n);
  return [=]() {
    return withType(x.dtype, [&](auto tag) {
      using T = decltype(tag);
      scale<T>(n, T(alpha), ptr<T>(x, offx));
      return 0.0;
    });
  };
}

Task parseFill(Args& a) {
  const index_t n = a.count(0, "n");
  const double value = a.number(1, "value");
  ArrayArg x = a.floats(2, "x");
  const index_t offx = a.offset(3, "offx");
  a.vectorFits(x, offx, n);
  return [=]() {
    return withType(x.dtype, [&](auto tag) {
      using T = decltype(tag);
      fill<T>(n, T(value), ptr<T>(x, offx));
      return 0.0;
    });
  };
}

Task parseCopy(Args& a) {
  const index_t n = a.count(0, "n");
  ArrayArg x = a.floats(1, "x");
  const index_t offx = a.offset(2, "offx");
  ArrayArg y = a.floats(3, "y");
  const index_t offy = a.offset(4, "offy");
  a.sameDType(x, y);
  a.vectorFits(x, offx, n);
  a.vectorFits(y, offy, n);
  disjoint(a, {{&y, offy, n}}, {{&x, offx, n}}, {{&y, &x}});
  return [=]() {
    return withType(x.dtype, [&](auto tag) {
      using T = decltype(tag);
      if (ptr<T>(y, offy) != ptr<T>(x, offx)) copy<T>(n, ptr<const T>(x, offx), ptr<T>(y, offy));
      return 0.0;
    });
  };
}

Task parseCopyMatrix(Args& a) {
  const index_t rows = a.dim(0, "rows"), cols = a.dim(1, "cols");
  ArrayArg X = a.floats(2, "X");
  const index_t offX = a.offset(3, "offX");
  const index_t ldx = a.ld(4, "ldx", cols, "cols");
  ArrayArg Y = a.floats(5, "Y");
  const index_t offY = a.offset(6, "offY");
  const index_t ldy = a.ld(7, "ldy", cols, "cols");
  a.sameDType(X, Y);
  a.matrixFits(X, offX, rows, cols, ldx);
  a.matrixFits(Y, offY, rows, cols, ldy);
  disjoint(a, {{&Y, offY, a.span(rows, cols, ldy, "Y")}}, {{&X, offX, a.span(rows, cols, ldx, "X")}});
  return [=]() {
    return withType(X.dtype, [&](auto tag) {
      using T = decltype(tag);
      copy_matrix<T>(rows, cols, ptr<const T>(X, offX), ldx, ptr<T>(Y, offY), ldy);
      return 0.0;
    });
  };
}

Task parseSumSquares(Args& a) {
  const index_t n = a.count(0, "n");
  ArrayArg x = a.floats(1, "x");
  const index_t offx = a.offset(2, "offx");
  ArrayArg out = a.float64s(3, "out");
  const index_t offOut = a.offset(4, "offOut");
  a.vectorFits(x, offx, n);
  a.vectorFits(out, offOut, 1);
  disjoint(a, {{&out, offOut, 1}}, {{&x, offx, n}});
  return [=]() {
    const double s = withType(x.dtype, [&](auto tag) {
      using T = decltype(tag);
      return sum_squares<T>(n, ptr<const T>(x, offx));
    });
    *ptr<double>(out, offOut) += s;
    return s;
  };
}

Task parseClipByValue(Args& a) {
  const index_t n = a.count(0, "n");
  const double limit = a.number(1, "limit");
  nonNegative(a, limit, "limit");
  ArrayArg x = a.floats(2, "x");
  const index_t offx = a.offset(3, "offx");
  a.vectorFits(x, offx, n);
  return [=]() {
    return withType(x.dtype, [&](auto tag) {
      using T = decltype(tag);
      clip_by_value<T>(n, T(limit), ptr<T>(x, offx));
      return 0.0;
    });
  };
}

// ---- softmax + cross-entropy ----------------------------------------------------------------
Task parseSoftmaxCrossEntropy(Args& a) {
  const index_t V = a.dim(0, "V"), N = a.dim(1, "N");
  ArrayArg L = a.floats(2, "logits");
  const index_t offL = a.offset(3, "offL");
  const index_t ldl = a.ld(4, "ldl", N, "N");
  ArrayArg targets = a.int32s(5, "targets");
  const index_t offT = a.offset(6, "offT");
  const double scaleBy = a.number(7, "scale");
  ArrayArg D = a.floats(8, "dLogits");
  const index_t offD = a.offset(9, "offD");
  const index_t ldd = a.ld(10, "ldd", N, "N");
  ArrayArg loss = a.float64s(11, "loss");
  const index_t offLoss = a.offset(12, "offLoss");
  if (V == 0 && N > 0) a.rangeError(std::string(a.fn()) + ": V must be >= 1 when N > 0, got 0");
  if (V > 0x7fffffff - 1) a.rangeError(std::string(a.fn()) + ": V is too large");
  a.sameDType(L, D);
  a.matrixFits(L, offL, V, N, ldl);
  a.vectorFits(targets, offT, N);
  a.matrixFits(D, offD, V, N, ldd);
  a.vectorFits(loss, offLoss, 1);
  const auto targetIds = a.copyIds(targets, offT, N);
  a.idsInRange(targets, *targetIds, offT, -1, std::int32_t(V), "a class, or -1 to ignore");
  const index_t spanD = a.span(V, N, ldd, "dLogits");
  disjoint(a, {{&D, offD, spanD}, {&loss, offLoss, 1}},
           {{&L, offL, a.span(V, N, ldl, "logits")}, {&targets, offT, N}}, {{&D, &L}});
  return [=]() {
    const double s = withType(L.dtype, [&](auto tag) {
      using T = decltype(tag);
      return softmax_cross_entropy<T>(V, N, ptr<const T>(L, offL), ldl,
                                      targetIds->data(), T(scaleBy),
                                      ptr<T>(D, offD), ldd);
    });
    *ptr<double>(loss, offLoss) += s;
    return s;
  };
}

// ---- gather / scatter -----------------------------------------------------------------------
Task parseGatherColumns(Args& a) {
  const index_t rows = a.dim(0, "rows"), V = a.dim(1, "V"), n = a.dim(2, "n");
  ArrayArg W = a.floats(3, "W");
  const index_t offW = a.offset(4, "offW");
  const index_t ldw = a.ld(5, "ldw", V, "V");
  ArrayArg ids = a.int32s(6, "ids");
  const index_t offIds = a.offset(7, "offIds");
  ArrayArg out = a.floats(8, "out");
  const index_t offOut = a.offset(9, "offOut");
  const index_t ldo = a.ld(10, "ldo", n, "n");
  const bool accumulate = a.boolean(11, "accumulate");
  if (V > 0x7fffffff) a.rangeError(std::string(a.fn()) + ": V is too large");
  a.sameDType(W, out);
  a.matrixFits(W, offW, rows, V, ldw);
  a.vectorFits(ids, offIds, n);
  a.matrixFits(out, offOut, rows, n, ldo);
  const auto idsCopy = a.copyIds(ids, offIds, n);
  if (rows > 0) a.idsInRange(ids, *idsCopy, offIds, 0, std::int32_t(V), "a column of W");
  disjoint(a, {{&out, offOut, a.span(rows, n, ldo, "out")}},
           {{&W, offW, a.span(rows, V, ldw, "W")}, {&ids, offIds, n}});
  return [=]() {
    return withType(W.dtype, [&](auto tag) {
      using T = decltype(tag);
      gather_columns<T>(rows, n, ptr<const T>(W, offW), ldw, idsCopy->data(),
                        ptr<T>(out, offOut), ldo, accumulate);
      return 0.0;
    });
  };
}

Task parseScatterAddColumns(Args& a) {
  const index_t rows = a.dim(0, "rows"), V = a.dim(1, "V"), n = a.dim(2, "n");
  ArrayArg dU = a.floats(3, "dU");
  const index_t offdU = a.offset(4, "offdU");
  const index_t lddU = a.ld(5, "lddU", n, "n");
  ArrayArg ids = a.int32s(6, "ids");
  const index_t offIds = a.offset(7, "offIds");
  ArrayArg dW = a.floats(8, "dW");
  const index_t offdW = a.offset(9, "offdW");
  const index_t lddW = a.ld(10, "lddW", V, "V");
  if (V > 0x7fffffff) a.rangeError(std::string(a.fn()) + ": V is too large");
  a.sameDType(dU, dW);
  a.matrixFits(dU, offdU, rows, n, lddU);
  a.vectorFits(ids, offIds, n);
  a.matrixFits(dW, offdW, rows, V, lddW);
  const auto idsCopy = a.copyIds(ids, offIds, n);
  if (rows > 0) a.idsInRange(ids, *idsCopy, offIds, 0, std::int32_t(V), "a column of dW");
  disjoint(a, {{&dW, offdW, a.span(rows, V, lddW, "dW")}},
           {{&dU, offdU, a.span(rows, n, lddU, "dU")}, {&ids, offIds, n}});
  return [=]() {
    return withType(dU.dtype, [&](auto tag) {
      using T = decltype(tag);
      scatter_add_columns<T>(rows, n, ptr<const T>(dU, offdU), lddU,
                             idsCopy->data(), ptr<T>(dW, offdW), lddW);
      return 0.0;
    });
  };
}

// ---- the fused recurrence ---------------------------------------------------------------------
// Wx (n_c, n_x), Wc (n_c, n_c), b (n_c), X (n_x, T·m) or ids (T·m), H (n_c, (T+1)·m)
Task parseRnnForward(Args& a) {
  const Activation act = a.activation(0, "act");
  const index_t nx = a.dim(1, "nx"), nc = a.dim(2, "nc"), T = a.dim(3, "T"), m = a.dim(4, "m");
  bool isIds = false;
  ArrayArg X = a.floatsOrIds(5, "X", &isIds);
  const index_t offX = a.offset(6, "offX");
  ArrayArg Wx = a.floats(7, "Wx");
  const index_t offWx = a.offset(8, "offWx");
  ArrayArg Wc = a.floats(9, "Wc");
  const index_t offWc = a.offset(10, "offWc");
  ArrayArg b = a.floats(11, "b");
  const index_t offb = a.offset(12, "offb");
  ArrayArg H = a.floats(13, "H");
  const index_t offH = a.offset(14, "offH");
  const index_t TM = a.product(T, m, "T*m");
  const index_t T1M = a.product(T + 1, m, "(T+1)*m");
  if (isIds && nx > 0x7fffffff) a.rangeError(std::string(a.fn()) + ": nx is too large");
  a.sameDType(Wx, Wc);
  a.sameDType(Wx, b);
  a.sameDType(Wx, H);
  if (!isIds) a.sameDType(Wx, X);
  std::shared_ptr<const std::vector<std::int32_t>> idsCopy;
  if (isIds) {
    a.vectorFits(X, offX, TM);
    idsCopy = a.copyIds(X, offX, TM);
    if (nc > 0) a.idsInRange(X, *idsCopy, offX, 0, std::int32_t(nx), "a token id below nx");
  } else {
    a.matrixFits(X, offX, nx, TM, TM);
  }
  a.matrixFits(Wx, offWx, nc, nx, nx);
  a.matrixFits(Wc, offWc, nc, nc, nc);
  a.vectorFits(b, offb, nc);
  a.matrixFits(H, offH, nc, T1M, T1M);
  disjoint(a, {{&H, offH, a.span(nc, T1M, T1M, "H")}},
           {{&X, offX, isIds ? TM : a.span(nx, TM, TM, "X")},
            {&Wx, offWx, a.span(nc, nx, nx, "Wx")},
            {&Wc, offWc, a.span(nc, nc, nc, "Wc")},
            {&b, offb, nc}});
  return [=]() {
    return withType(H.dtype, [&](auto tag) {
      using T_ = decltype(tag);
      rnn_forward<T_>(act, nx, nc, T, m, isIds ? nullptr : ptr<const T_>(X, offX),
                      isIds ? idsCopy->data() : nullptr, ptr<const T_>(Wx, offWx),
                      ptr<const T_>(Wc, offWc), ptr<const T_>(b, offb), ptr<T_>(H, offH));
      return 0.0;
    });
  };
}

Task parseRnnBackward(Args& a) {
  const Activation act = a.activation(0, "act");
  const index_t nx = a.dim(1, "nx"), nc = a.dim(2, "nc"), T = a.dim(3, "T"), m = a.dim(4, "m");
  bool isIds = false;
  ArrayArg X = a.floatsOrIds(5, "X", &isIds);
  const index_t offX = a.offset(6, "offX");
  ArrayArg H = a.floats(7, "H");
  const index_t offH = a.offset(8, "offH");
  ArrayArg Wx = a.floats(9, "Wx");
  const index_t offWx = a.offset(10, "offWx");
  ArrayArg Wc = a.floats(11, "Wc");
  const index_t offWc = a.offset(12, "offWc");
  ArrayArg dC = a.floats(13, "dC");
  const index_t offdC = a.offset(14, "offdC");
  ArrayArg dU = a.floats(15, "dU");
  const index_t offdU = a.offset(16, "offdU");
  ArrayArg dWx = a.floats(17, "dWx");
  const index_t offdWx = a.offset(18, "offdWx");
  ArrayArg dWc = a.floats(19, "dWc");
  const index_t offdWc = a.offset(20, "offdWc");
  ArrayArg db = a.floats(21, "db");
  const index_t offdb = a.offset(22, "offdb");
  ArrayArg dX = a.floats(23, "dX", true);
  const index_t offdX = a.offset(24, "offdX");
  ArrayArg dc0 = a.floats(25, "dc0");
  const index_t offdc0 = a.offset(26, "offdc0");
  const index_t TM = a.product(T, m, "T*m");
  const index_t T1M = a.product(T + 1, m, "(T+1)*m");
  if (isIds && nx > 0x7fffffff) a.rangeError(std::string(a.fn()) + ": nx is too large");
  if (isIds && dX.present) {
    a.typeError(std::string(a.fn()) + ": dX must be null when X holds token ids (Int32Array)");
  }
  for (const ArrayArg* p : {&H, &Wc, &dC, &dU, &dWx, &dWc, &db, &dX, &dc0}) a.sameDType(Wx, *p);
  if (!isIds) a.sameDType(Wx, X);
  std::shared_ptr<const std::vector<std::int32_t>> idsCopy;
  if (isIds) {
    a.vectorFits(X, offX, TM);
    idsCopy = a.copyIds(X, offX, TM);
    if (nc > 0) a.idsInRange(X, *idsCopy, offX, 0, std::int32_t(nx), "a token id below nx");
  } else {
    a.matrixFits(X, offX, nx, TM, TM);
  }
  a.matrixFits(H, offH, nc, T1M, T1M);
  a.matrixFits(Wx, offWx, nc, nx, nx);
  a.matrixFits(Wc, offWc, nc, nc, nc);
  a.matrixFits(dC, offdC, nc, TM, TM);
  a.matrixFits(dU, offdU, nc, TM, TM);
  a.matrixFits(dWx, offdWx, nc, nx, nx);
  a.matrixFits(dWc, offdWc, nc, nc, nc);
  a.vectorFits(db, offdb, nc);
  if (dX.present) a.matrixFits(dX, offdX, nx, TM, TM);
  a.matrixFits(dc0, offdc0, nc, m, m);
  const index_t sWx = a.span(nc, nx, nx, "Wx"), sWc = a.span(nc, nc, nc, "Wc");
  const index_t sSeq = a.span(nc, TM, TM, "dC");
  disjoint(a,
           {{&dU, offdU, sSeq}, {&dWx, offdWx, sWx}, {&dWc, offdWc, sWc}, {&db, offdb, nc},
            {&dX, offdX, dX.present ? a.span(nx, TM, TM, "dX") : 0}, {&dc0, offdc0, nc * m}},
           {{&X, offX, isIds ? TM : a.span(nx, TM, TM, "X")},
            {&H, offH, a.span(nc, T1M, T1M, "H")},
            {&Wx, offWx, sWx},
            {&Wc, offWc, sWc},
            {&dC, offdC, sSeq}},
           {{&dU, &dC}});
  return [=]() {
    return withType(H.dtype, [&](auto tag) {
      using T_ = decltype(tag);
      rnn_backward<T_>(act, nx, nc, T, m, isIds ? nullptr : ptr<const T_>(X, offX),
                       isIds ? idsCopy->data() : nullptr, ptr<const T_>(H, offH),
                       ptr<const T_>(Wx, offWx), ptr<const T_>(Wc, offWc),
                       ptr<const T_>(dC, offdC), ptr<T_>(dU, offdU), ptr<T_>(dWx, offdWx),
                       ptr<T_>(dWc, offdWc), ptr<T_>(db, offdb), ptr<T_>(dX, offdX),
                       ptr<T_>(dc0, offdc0));
      return 0.0;
    });
  };
}

// ---- optimizers ---------------------------------------------------------------------------------
Task parseSgdUpdate(Args& a) {
  const index_t n = a.count(0, "n");
  ArrayArg p = a.floats(1, "p");
  const index_t offp = a.offset(2, "offp");
  ArrayArg g = a.floats(3, "g");
  const index_t offg = a.offset(4, "offg");
  ArrayArg v = a.floats(5, "velocity", true);
  const index_t offv = a.offset(6, "offv");
  const double lr = a.number(7, "lr");
  const double momentum = a.number(8, "momentum");
  const bool nesterov = a.boolean(9, "nesterov");
  const double wd = a.number(10, "weightDecay");
  nonNegative(a, lr, "lr");
  nonNegative(a, momentum, "momentum");
  nonNegative(a, wd, "weightDecay");
  if (momentum != 0 && !v.present) {
    a.typeError(std::string(a.fn()) + ": velocity must be a float array when momentum != 0, got null");
  }
  if (nesterov && momentum == 0) {
    a.rangeError(std::string(a.fn()) + ": nesterov needs momentum > 0, got 0");
  }
  checkUpdateArrays(a, n, {&p, offp}, {&g, offg}, {{&v, offv}});
  return [=]() {
    return withType(p.dtype, [&](auto tag) {
      using T = decltype(tag);
      sgd_update<T>(n, ptr<T>(p, offp), ptr<const T>(g, offg), ptr<T>(v, offv), T(lr), T(momentum),
                    nesterov, T(wd));
      return 0.0;
    });
  };
}

Task parseAdamUpdate(Args& a) {
  const index_t n = a.count(0, "n");
  ArrayArg p = a.floats(1, "p");
  const index_t offp = a.offset(2, "offp");
  ArrayArg g = a.floats(3, "g");
  const index_t offg = a.offset(4, "offg");
  ArrayArg m = a.floats(5, "m");
  const index_t offm = a.offset(6, "offm");
  ArrayArg v = a.floats(7, "v");
  const index_t offv = a.offset(8, "offv");
  const double lr = a.number(9, "lr");
  const double beta1 = a.number(10, "beta1");
  const double beta2 = a.number(11, "beta2");
  const double eps = a.number(12, "eps");
  const double wd = a.number(13, "weightDecay");
  const bool decoupled = a.boolean(14, "decoupled");
  const index_t step = a.offset(15, "step");
  nonNegative(a, lr, "lr");
  unitInterval(a, beta1, "beta1");
  unitInterval(a, beta2, "beta2");
  nonNegative(a, eps, "eps");
  nonNegative(a, wd, "weightDecay");
  if (step < 1) a.rangeError(std::string(a.fn()) + ": step must be >= 1, got 0");
  checkUpdateArrays(a, n, {&p, offp}, {&g, offg}, {{&m, offm}, {&v, offv}});
  return [=]() {
    return withType(p.dtype, [&](auto tag) {
      using T = decltype(tag);
      adam_update<T>(n, ptr<T>(p, offp), ptr<const T>(g, offg), ptr<T>(m, offm), ptr<T>(v, offv),
                     T(lr), T(beta1), T(beta2), T(eps), T(wd), decoupled, step);
      return 0.0;
    });
  };
}

Task parseAdagradUpdate(Args& a) {
  const index_t n = a.count(0, "n");
  ArrayArg p = a.floats(1, "p");
  const index_t offp = a.offset(2, "offp");
  ArrayArg g = a.floats(3, "g");
  const index_t offg = a.offset(4, "offg");
  ArrayArg h = a.floats(5, "h");
  const index_t offh = a.offset(6, "offh");
  const double lr = a.number(7, "lr");
  const double eps = a.number(8, "eps");
  const double wd = a.number(9, "weightDecay");
  nonNegative(a, lr, "lr");
  nonNegative(a, eps, "eps");
  nonNegative(a, wd, "weightDecay");
  checkUpdateArrays(a, n, {&p, offp}, {&g, offg}, {{&h, offh}});
  return [=]() {
    return withType(p.dtype, [&](auto tag) {
      using T = decltype(tag);
      adagrad_update<T>(n, ptr<T>(p, offp), ptr<const T>(g, offg), ptr<T>(h, offh), T(lr), T(eps),
                        T(wd));
      return 0.0;
    });
  };
}

Task parseRmspropUpdate(Args& a) {
  const index_t n = a.count(0, "n");
  ArrayArg p = a.floats(1, "p");
  const index_t offp = a.offset(2, "offp");
  ArrayArg g = a.floats(3, "g");
  const index_t offg = a.offset(4, "offg");
  ArrayArg s = a.floats(5, "s");
  const index_t offs = a.offset(6, "offs");
  const double lr = a.number(7, "lr");
  const double alpha = a.number(8, "alpha");
  const double eps = a.number(9, "eps");
  const double wd = a.number(10, "weightDecay");
  nonNegative(a, lr, "lr");
  unitInterval(a, alpha, "alpha");
  nonNegative(a, eps, "eps");
  nonNegative(a, wd, "weightDecay");
  checkUpdateArrays(a, n, {&p, offp}, {&g, offg}, {{&s, offs}});
  return [=]() {
    return withType(p.dtype, [&](auto tag) {
      using T = decltype(tag);
      rmsprop_update<T>(n, ptr<T>(p, offp), ptr<const T>(g, offg), ptr<T>(s, offs), T(lr),
                        T(alpha), T(eps), T(wd));
      return 0.0;
    });
  };
}

const OpSpec kOps[] = {
    {"gemm", 16, parseGemm, false},
    {"activationForward", 9, parseActivationForward, false},
    {"activationBackward", 12, parseActivationBackward, false},
    {"addBias", 7, parseAddBias, false},
    {"rowSum", 7, parseRowSum, false},
    {"axpy", 6, parseAxpy, false},
    {"scale", 4, parseScale, false},
    {"fill", 4, parseFill, false},
    {"copy", 5, parseCopy, false},
    {"copyMatrix", 8, parseCopyMatrix, false},
    {"sumSquares", 5, parseSumSquares, true},
    {"clipByValue", 4, parseClipByValue, false},
    {"softmaxCrossEntropy", 13, parseSoftmaxCrossEntropy, true},
    {"gatherColumns", 12, parseGatherColumns, false},
    {"scatterAddColumns", 11, parseScatterAddColumns, false},
    {"rnnForward", 15, parseRnnForward, false},
    {"rnnBackward", 27, parseRnnBackward, false},
    {"sgdUpdate", 11, parseSgdUpdate, false},
    {"adamUpdate", 16, parseAdamUpdate, false},
    {"adagradUpdate", 10, parseAdagradUpdate, false},
    {"rmspropUpdate", 11, parseRmspropUpdate, false},
};

static_assert(sizeof kOps / sizeof kOps[0] == kOpCount, "kOpCount must match the table");

}  // namespace

const OpSpec* opTable(std::size_t* count) {
  *count = sizeof kOps / sizeof kOps[0];
  return kOps;
}

const OpSpec* findOp(const std::string& name) {
  for (const OpSpec& op : kOps) {
    if (name == op.name) return &op;
  }
  return nullptr;
}

}  // namespace nrnn::addon
