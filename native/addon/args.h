// Argument reading and checking for every exported function: the last line of defence
// behind the TypeScript validation. Every failure throws a Napi::TypeError or
// Napi::RangeError naming the function, the argument, what was expected and what came.
#pragma once

#include <napi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kernels/kernels.h"

namespace nrnn::addon {

enum class DType { F32, F64 };

// A typed array argument: where its elements start and how many there are.
// No member initializers: the checker keeps one per argument on the stack and must not pay for
// zeroing 64 of them on every call; every reader below fills all fields.
struct ArrayArg {
  const char* name;
  void* data;          // first element of the view (byte offset applied)
  std::size_t length;  // elements
  DType dtype;         // for float arrays (F32 for Int32Array: the same element size)
  bool present;        // false for a null optional argument
};

// Largest dimension accepted: products of two fit easily in int64, and every kernel loop
// index stays far from overflow.
constexpr index_t kMaxDim = (index_t{1} << 31) - 1;
// Largest offset / leading dimension: the largest safe integer of a JS number.
constexpr index_t kMaxIndex = (index_t{1} << 53) - 1;

// A short text of an actual value for messages, as lib/backend/errors.ts describe() writes it.
std::string describeValue(napi_env env, napi_value v);

class Args {
 public:
  // argv/argc are the call's arguments (a sync call's, or one op of an async program).
  // With keepAlive set, every typed array read is also referenced until the Args die, so an
  // async job can run after the call returns.
  Args(napi_env env, const char* fn, const napi_value* argv, std::size_t argc,
       std::size_t expected, bool keepAlive);
  ~Args();
  Args(const Args&) = delete;
  Args& operator=(const Args&) = delete;

  napi_env env() const { return env_; }
  const char* fn() const { return fn_; }

  index_t dim(std::size_t i, const char* name);               // integer in [0, kMaxDim]
  index_t offset(std::size_t i, const char* name);            // integer in [0, kMaxIndex]
  index_t count(std::size_t i, const char* name) { return dim(i, name); }
  double number(std::size_t i, const char* name);             // finite number
  bool boolean(std::size_t i, const char* name);
  Activation activation(std::size_t i, const char* name);     // 'tanh' | 'relu' | 'sigmoid'
  ArrayArg floats(std::size_t i, const char* name, bool nullable = false);
  ArrayArg int32s(std::size_t i, const char* name);
  ArrayArg float64s(std::size_t i, const char* name);         // a Float64Array exactly
  // A float array or an Int32Array (token ids); isIds tells which.
  ArrayArg floatsOrIds(std::size_t i, const char* name, bool* isIds);

  // Leading dimension: integer with ld >= max(1, width).
  index_t ld(std::size_t i, const char* name, index_t width, const char* widthName);

  // ---- checks across arguments --------------------------------------------------------
  void sameDType(const ArrayArg& a, const ArrayArg& b);
  // The view (off, rows, cols, ld) lies inside the array: off + (rows-1)·ld + cols <= length.
  void matrixFits(const ArrayArg& a, index_t off, index_t rows, index_t cols, index_t ld);
  void vectorFits(const ArrayArg& a, index_t off, index_t n);
  // Element spans must not overlap, except that identical spans pass when allowSame.
  void noOverlap(const ArrayArg& out, index_t offOut, index_t spanOut, const ArrayArg& in,
                 index_t offIn, index_t spanIn, bool allowSame);
  // A private copy of ids[off, off+n) (vectorFits first): kernels index with the copy, so a
  // caller who rewrites the ids after the check (while an async program runs, or from another
  // thread through a SharedArrayBuffer) cannot send an unchecked id into a kernel.
  std::shared_ptr<const std::vector<std::int32_t>> copyIds(const ArrayArg& ids, index_t off,
                                                           index_t n);
  // Every id of the copy (ids[off, off+n)) lies in [lo, hi).
  void idsInRange(const ArrayArg& ids, const std::vector<std::int32_t>& copy, index_t off,
                  std::int32_t lo, std::int32_t hi, const char* what);

  [[noreturn]] void typeError(const std::string& message) const;
  [[noreturn]] void rangeError(const std::string& message) const;

  // Element span of a (rows, cols, ld) view: 0 when empty, else (rows-1)·ld + cols.
  // Throws a RangeError when it overflows.
  index_t span(index_t rows, index_t cols, index_t ld, const char* what);
  index_t product(index_t a, index_t b, const char* what);

  // Argument i as the messages print an actual value ("-0", "a DataView", "the string 'x'").
  std::string describeArg(std::size_t i) const { return describe(arg(i)); }

 private:
  napi_value arg(std::size_t i) const { return argv_[i]; }
  std::string describe(napi_value v) const { return describeValue(env_, v); }
  void keep(napi_value v);
  // Argument i as a typed array: its type, data, length and buffer in one N-API call (it fails
  // with napi_invalid_arg on a non-typed-array: false, out unset but for its name).
  bool typedArg(std::size_t i, const char* name, ArrayArg& out, napi_value& v,
                napi_typedarray_type& tt, napi_value& buffer);
  // The checks every typed array passes last: not backed by a detached ArrayBuffer; then it
  // is present and kept alive.
  void accept(napi_value v, napi_value buffer, const char* name, ArrayArg& out);

  napi_env env_;
  const char* fn_;
  const napi_value* argv_;
  std::size_t argc_;
  bool keepAlive_;
  std::vector<napi_ref> refs_;

 public:
  // Hands the references over to an async job (which deletes them on the main thread).
  std::vector<napi_ref> releaseRefs() { return std::move(refs_); }
};

std::size_t elementSize(DType t);

// A number as JavaScript's String(v) writes it, and as the messages' "got" part does
// (String(v), but -0 as "-0"): the TypeScript and C++ checks word their errors alike.
std::string numberText(double v);
std::string describeNumber(double v);

}  // namespace nrnn::addon
