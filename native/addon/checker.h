// The C++ argument checks, run from the kernel declarations (native/kernels.json, compiled into
// kernel_table.inc): the last line of defence behind the TypeScript checks, which run the same
// table in the same phases (lib/backend/decl/check.ts). A caller of the raw addon cannot crash
// the process or make a kernel write outside the views it declared.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "addon/args.h"
// NRNN_KERNELS(X) and NRNN_KERNEL_COUNT (the table itself is compiled into checker.cc only).
#include "addon/kernel_table.inc"

namespace nrnn::addon {

// ---- the declaration table (data written by scripts/gen-kernels.js) --------------------------
enum class Op : std::uint8_t { Num, Arg, Present, Ids, Not, Add, Mul, Eq, Ne, Lt, Le, Gt, Ge, And, Or, Select };
struct Instr {
  Op op;
  double operand;  // Num: the constant; Arg, Present, Ids: the argument's position
};
// An expression: `count` instructions from kCode[start]; count 0 means "not declared".
struct ExprRef {
  std::uint16_t start;
  std::uint16_t count;
};

enum class Kind : std::uint8_t { Bool, Dim, Offset, Number, Ld, Activation, Floats, Float64s, Ids, Input };
enum class Role : std::uint8_t { None, Read, Write, Accumulate, Update };

struct ArgDecl {
  const char* name;
  Kind kind;
  Role role;
  bool nullable;
  ExprRef len, rows, cols, ld;  // an array's view: a vector of len elements, or rows x cols with ld
  ExprRef width;                // an ld's least value (with 1)
  int widthCond;                // the width's label: widthCond < 0 ? widthYes : (arg set ? widthYes : widthNo)
  const char* widthYes;
  const char* widthNo;
  ExprRef rangeLo, rangeHi, when;  // token ids lie in [lo, hi) (when `when` holds)
  const char* what;
  std::uint64_t same;  // bit j: this output may be the very same view as input j
};

enum class CheckKind : std::uint8_t { AtLeast, In, Require };
struct CheckDecl {
  CheckKind kind;
  int arg;
  double lo, hi;
  ExprRef require;
  bool rangeError;      // Require: RangeError, else TypeError
  const char* message;  // Require: the whole message
};

struct KernelDecl {
  const char* name;
  std::size_t argc;
  std::size_t firstArg;
  std::size_t checkCount;
  std::size_t firstCheck;
  std::size_t arrayCount;  // the array arguments, at kArrayArgs[firstArray ...]
  std::size_t firstArray;
  bool returnsNumber;
};

// The most arguments a kernel may declare (the gated cells' backward takes 36).
constexpr std::size_t kMaxArgs = 64;

// ---- a checked call ------------------------------------------------------------------------
// What the checks leave for the kernel: every scalar's value, every array's first element (its
// offset applied; token ids point into a private copy), the dtype of the float arrays.
struct Bound {
  double v[kMaxArgs];
  void* p[kMaxArgs];
  std::uint64_t idsMask = 0;  // bit k: argument k holds token ids
  DType dtype = DType::F32;
  std::vector<std::shared_ptr<const std::vector<std::int32_t>>> idCopies;

  index_t i(int k) const { return index_t(v[k]); }
  double num(int k) const { return v[k]; }
  bool flag(int k) const { return v[k] != 0; }
  Activation act(int k) const { return Activation(int(v[k])); }
  bool isIds(int k) const { return (idsMask >> k) & 1u; }
  template <typename T>
  T* ptr(int k) const { return static_cast<T*>(p[k]); }
  const std::int32_t* ids(int k) const { return isIds(k) ? static_cast<const std::int32_t*>(p[k]) : nullptr; }
};

using Runner = double (*)(const Bound&);

// A checked call ready to run (an async program holds one per op).
struct Task {
  Runner run = nullptr;
  Bound bound;
  double operator()() const { return run(bound); }
};

const KernelDecl* kernelTable(std::size_t* count);
// The kernel of that exact name (embedded NULs included), or nullptr.
const KernelDecl* findKernel(const std::string& name);
std::size_t kernelIndex(const KernelDecl* k);
Runner runnerOf(std::size_t index);

// Reads and checks every argument of a call to `k` (Args has checked the count) into `out`.
void check(const KernelDecl& k, Args& a, Bound& out);

}  // namespace nrnn::addon
