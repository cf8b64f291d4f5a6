// The phases of lib/backend/decl/check.ts, in the same order with the same messages:
// (1) each argument's kind, in order (an ld also against its width); (2) the declared checks;
// (3) one dtype for every float array; (4) every array holds its view; (5) token ids copied and
// in range; (6) no output overlaps another array but the very same view of a declared input.
#include "addon/checker.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "addon/bind.h"

namespace nrnn::addon {

namespace {

#define NRNN_KERNEL_TABLE_DATA
#include "addon/kernel_table.inc"
#undef NRNN_KERNEL_TABLE_DATA

constexpr std::size_t kKernelCount = sizeof kKernels / sizeof kKernels[0];
static_assert(kKernelCount == NRNN_KERNEL_COUNT, "the table and the kernel list disagree");

#define NRNN_RUNNER(name, index) &run_##name,
const Runner kRunners[] = {NRNN_KERNELS(NRNN_RUNNER)};
#undef NRNN_RUNNER

// Sizes above 2^53 − 1 saturate to 2^53: an overflow the user of the value reports.
constexpr double kMaxIndexD = 9007199254740991.0;
constexpr double kOverflow = 9007199254740992.0;
double saturate(double v) { return v > kMaxIndexD ? kOverflow : v; }

// The value of an expression over the call's arguments read so far.
double evalCode(ExprRef e, const Bound& b, const ArrayArg* arrays) {
  double stack[32];
  int top = 0;
  for (std::uint16_t k = 0; k < e.count; ++k) {
    const Instr& in = kCode[e.start + k];
    const int arg = int(in.operand);
    switch (in.op) {
      case Op::Num: stack[top++] = in.operand; break;
      case Op::Arg: stack[top++] = b.v[arg]; break;
      case Op::Present: stack[top++] = arrays[arg].present ? 1 : 0; break;
      case Op::Ids: stack[top++] = b.isIds(arg) ? 1 : 0; break;
      case Op::Not: stack[top - 1] = stack[top - 1] != 0 ? 0 : 1; break;
      case Op::Select: {
        const double no = stack[--top], yes = stack[--top], c = stack[--top];
        stack[top++] = c != 0 ? yes : no;
        break;
      }
      default: {
        const double y = stack[--top], x = stack[--top];
        double r = 0;
        switch (in.op) {
          case Op::Add: r = saturate(x + y); break;
          case Op::Mul: r = saturate(x * y); break;
          case Op::Eq: r = x == y; break;
          case Op::Ne: r = x != y; break;
          case Op::Lt: r = x < y; break;
          case Op::Le: r = x <= y; break;
          case Op::Gt: r = x > y; break;
          case Op::Ge: r = x >= y; break;
          case Op::And: r = (x != 0 && y != 0); break;
          case Op::Or: r = (x != 0 || y != 0); break;
          default: break;
        }
        stack[top++] = r;
      }
    }
  }
  return top > 0 ? stack[top - 1] : 0;
}

// Most shapes are one argument or one constant: read at once, without the interpreter.
inline double eval(ExprRef e, const Bound& b, const ArrayArg* arrays) {
  if (e.count == 1) {
    const Instr& in = kCode[e.start];
    if (in.op == Op::Arg) return b.v[int(in.operand)];
    if (in.op == Op::Num) return in.operand;
  }
  return evalCode(e, b, arrays);
}

[[noreturn]] void overflow(Args& a, const char* what) {
  a.rangeError(std::string(a.fn()) + ": the size of " + what + " overflows");
}

const char* dtypeName(DType t) { return t == DType::F32 ? "Float32Array" : "Float64Array"; }

}  // namespace

const KernelDecl* kernelTable(std::size_t* count) {
  *count = kKernelCount;
  return kKernels;
}

const KernelDecl* findKernel(const std::string& name) {
  for (const KernelDecl& k : kKernels) {
    if (name == k.name) return &k;
  }
  return nullptr;
}

std::size_t kernelIndex(const KernelDecl* k) { return std::size_t(k - kKernels); }
Runner runnerOf(std::size_t index) { return kRunners[index]; }

void check(const KernelDecl& k, Args& a, Bound& b) {
  const std::string_view fn = k.name;  // a std::string only on the error paths
  const ArgDecl* decl = kArgs + k.firstArg;
  const int argc = int(k.argc);
  ArrayArg arrays[kMaxArgs];
  index_t spans[kMaxArgs];
  b.idsMask = 0;

  // (1) kinds, in argument order
  for (int i = 0; i < argc; ++i) {
    const ArgDecl& d = decl[i];
    switch (d.kind) {
      case Kind::Bool: b.v[i] = a.boolean(i, d.name) ? 1 : 0; break;
      case Kind::Number: b.v[i] = a.number(i, d.name); break;
      case Kind::Dim: b.v[i] = double(a.dim(i, d.name)); break;
      case Kind::Offset: b.v[i] = double(a.offset(i, d.name)); break;
      case Kind::Ld: {
        const index_t v = a.offset(i, d.name);
        const double w = eval(d.width, b, arrays);
        const double least = w > 1 ? w : 1;
        if (double(v) < least) {
          const char* label = d.widthCond < 0 || b.v[d.widthCond] != 0 ? d.widthYes : d.widthNo;
          a.rangeError(std::string(fn) + ": " + d.name + " must be >= " + numberText(least) + " (" + label + "), got " +
                       a.describeArg(std::size_t(i)));
        }
        b.v[i] = double(v);
        break;
      }
      case Kind::Activation: b.v[i] = double(int(a.activation(i, d.name))); break;
      case Kind::Floats: arrays[i] = a.floats(i, d.name, d.nullable); break;
      case Kind::Float64s: arrays[i] = a.float64s(i, d.name); break;
      case Kind::Ids: arrays[i] = a.int32s(i, d.name); break;
      case Kind::Input: {
        bool isIds = false;
        arrays[i] = a.floatsOrIds(i, d.name, &isIds);
        if (isIds) b.idsMask |= std::uint64_t{1} << i;
        break;
      }
    }
  }

  // (2) the declared checks
  for (std::size_t c = 0; c < k.checkCount; ++c) {
    const CheckDecl& ch = kChecks[k.firstCheck + c];
    const double v = b.v[ch.arg];
    const char* name = decl[ch.arg].name;
    if (ch.kind == CheckKind::AtLeast) {
      if (v < ch.lo) a.rangeError(std::string(fn) + ": " + name + " must be >= " + numberText(ch.lo) + ", got " + a.describeArg(ch.arg));
    } else if (ch.kind == CheckKind::In) {
      if (v < ch.lo || v >= ch.hi) {
        a.rangeError(std::string(fn) + ": " + name + " must be in [" + numberText(ch.lo) + ", " + numberText(ch.hi) + "), got " +
                     a.describeArg(ch.arg));
      }
    } else if (eval(ch.require, b, arrays) == 0) {
      if (ch.rangeError) a.rangeError(ch.message);
      a.typeError(ch.message);
    }
  }

  // The array arguments, in order: the phases below visit only these.
  const std::uint8_t* arrayIdx = kArrayArgs + k.firstArray;
  const int arrayCount = int(k.arrayCount);

  // (3) one dtype for the float arrays (dense inputs included)
  const ArrayArg* ref = nullptr;
  for (int n = 0; n < arrayCount; ++n) {
    const int i = arrayIdx[n];
    const ArgDecl& d = decl[i];
    if (!(d.kind == Kind::Floats || (d.kind == Kind::Input && !b.isIds(i))) || !arrays[i].present) continue;
    if (ref == nullptr) {
      ref = &arrays[i];
    } else if (arrays[i].dtype != ref->dtype) {
      a.typeError(std::string(fn) + ": " + d.name + " must be a " + dtypeName(ref->dtype) + " like " + ref->name + ", got a " +
                  dtypeName(arrays[i].dtype));
    }
  }
  b.dtype = ref != nullptr ? ref->dtype : DType::F32;

  // (4) every array holds its view
  for (int n = 0; n < arrayCount; ++n) {
    const int i = arrayIdx[n];
    const ArgDecl& d = decl[i];
    spans[i] = 0;
    if (!arrays[i].present) continue;
    const index_t off = index_t(b.v[i + 1]);
    const bool vector = d.kind == Kind::Input ? b.isIds(i) : d.len.count > 0;
    if (vector) {
      const double n = eval(d.len, b, arrays);
      if (n > kMaxIndexD) overflow(a, d.name);
      a.vectorFits(arrays[i], off, index_t(n));
      spans[i] = index_t(n);
    } else {
      const double rows = eval(d.rows, b, arrays), cols = eval(d.cols, b, arrays), ld = eval(d.ld, b, arrays);
      if (rows >= kOverflow || cols >= kOverflow || ld >= kOverflow) overflow(a, d.name);
      spans[i] = a.span(index_t(rows), index_t(cols), index_t(ld), d.name);
      a.matrixFits(arrays[i], off, index_t(rows), index_t(cols), index_t(ld));
    }
  }

  // (5) token ids: a private copy (the caller may rewrite the array after this), then in range
  b.idCopies.clear();
  for (int n = 0; n < arrayCount; ++n) {
    const int i = arrayIdx[n];
    const ArgDecl& d = decl[i];
    if (!(d.kind == Kind::Ids || (d.kind == Kind::Input && b.isIds(i)))) continue;
    const index_t off = index_t(b.v[i + 1]);
    auto copy = a.copyIds(arrays[i], off, spans[i]);
    if (d.when.count == 0 || eval(d.when, b, arrays) != 0) {
      const double lo = eval(d.rangeLo, b, arrays), hi = eval(d.rangeHi, b, arrays);
      a.idsInRange(arrays[i], *copy, off, std::int32_t(lo), hi > 2147483647.0 ? 2147483647 : std::int32_t(hi), d.what);
    }
    b.p[i] = const_cast<std::int32_t*>(copy->data());
    b.idCopies.push_back(std::move(copy));
  }

  // (6) overlaps: each output against every input, then against the outputs after it
  auto isOut = [&](int i) { return decl[i].role == Role::Write || decl[i].role == Role::Accumulate || decl[i].role == Role::Update; };
  for (int no = 0; no < arrayCount; ++no) {
    const int o = arrayIdx[no];
    if (!isOut(o) || !arrays[o].present) continue;
    const index_t offO = index_t(b.v[o + 1]);
    for (int ni = 0; ni < arrayCount; ++ni) {
      const int i = arrayIdx[ni];
      if (isOut(i)) continue;
      a.noOverlap(arrays[o], offO, spans[o], arrays[i], index_t(b.v[i + 1]), spans[i], (decl[o].same >> i) & 1u);
    }
    for (int nq = no + 1; nq < arrayCount; ++nq) {
      const int q = arrayIdx[nq];
      if (!isOut(q)) continue;
      a.noOverlap(arrays[q], index_t(b.v[q + 1]), spans[q], arrays[o], offO, spans[o], false);
    }
  }

  // The kernel's pointers: first element of each view (ids already point into their copy).
  for (int n = 0; n < arrayCount; ++n) {
    const int i = arrayIdx[n];
    const ArgDecl& d = decl[i];
    if (d.kind == Kind::Ids || (d.kind == Kind::Input && b.isIds(i))) continue;
    const ArrayArg& arr = arrays[i];
    b.p[i] = arr.present ? static_cast<unsigned char*>(arr.data) + index_t(b.v[i + 1]) * index_t(elementSize(arr.dtype))
                         : nullptr;
  }
}

}  // namespace nrnn::addon
