#include "addon/args.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace nrnn::addon {

namespace {

const char* typedArrayName(napi_typedarray_type t) {
  switch (t) {
    case napi_int8_array: return "Int8Array";
    case napi_uint8_array: return "Uint8Array";
    case napi_uint8_clamped_array: return "Uint8ClampedArray";
    case napi_int16_array: return "Int16Array";
    case napi_uint16_array: return "Uint16Array";
    case napi_int32_array: return "Int32Array";
    case napi_uint32_array: return "Uint32Array";
    case napi_float32_array: return "Float32Array";
    case napi_float64_array: return "Float64Array";
    case napi_bigint64_array: return "BigInt64Array";
    case napi_biguint64_array: return "BigUint64Array";
    default: return "TypedArray";
  }
}

// UTF-8 of n UTF-16 units (a lone surrogate becomes U+FFFD, as V8 writes it).
std::string utf8Of(const char16_t* u, std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t c = u[i];
    if (c >= 0xD800 && c < 0xDC00 && i + 1 < n && u[i + 1] >= 0xDC00 && u[i + 1] < 0xE000) {
      c = 0x10000 + ((c - 0xD800) << 10) + (std::uint32_t(u[i + 1]) - 0xDC00);
      ++i;
    } else if (c >= 0xD800 && c < 0xE000) {
      c = 0xFFFD;
    }
    if (c < 0x80) {
      s += char(c);
    } else if (c < 0x800) {
      s += char(0xC0 | (c >> 6));
      s += char(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      s += char(0xE0 | (c >> 12));
      s += char(0x80 | ((c >> 6) & 0x3F));
      s += char(0x80 | (c & 0x3F));
    } else {
      s += char(0xF0 | (c >> 18));
      s += char(0x80 | ((c >> 12) & 0x3F));
      s += char(0x80 | ((c >> 6) & 0x3F));
      s += char(0x80 | (c & 0x3F));
    }
  }
  return s;
}

// v.constructor.name, as the TypeScript side prints a view (a Buffer is "a Buffer"), or
// `fallback` when that is not a string (a throwing getter's exception is cleared).
std::string constructorName(napi_env env, napi_value v, const char* fallback) {
  napi_value ctor, name;
  napi_valuetype t;
  if (napi_get_named_property(env, v, "constructor", &ctor) != napi_ok ||
      napi_typeof(env, ctor, &t) != napi_ok || t != napi_function ||
      napi_get_named_property(env, ctor, "name", &name) != napi_ok ||
      napi_typeof(env, name, &t) != napi_ok || t != napi_string) {
    bool pending = false;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
      napi_value ignored;
      napi_get_and_clear_last_exception(env, &ignored);
    }
    return fallback;
  }
  std::size_t len = 0;
  napi_get_value_string_utf16(env, name, nullptr, 0, &len);
  std::vector<char16_t> units(len + 1);  // N-API writes a terminator too
  napi_get_value_string_utf16(env, name, units.data(), units.size(), &len);
  return utf8Of(units.data(), len);
}

}  // namespace

std::size_t elementSize(DType t) { return t == DType::F32 ? 4 : 8; }

// ECMAScript's Number::toString: the shortest digits that read back as v, laid out fixed for
// decimal exponents in [-6, 21) and as d.ddde+x otherwise. The digits come from printf's
// correctly rounded %.*e at increasing precision (the first that reads back is the shortest,
// and the nearest of that length, as JavaScript picks): std::to_chars would do it in one call,
// but its floating-point form is missing from the C++ libraries of GCC < 11 and older macOS.
std::string numberText(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  if (v == 0) return "0";
  char buf[64];
  const double a = std::fabs(v);
  for (int digits = 1; digits <= 17; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*e", digits - 1, a);
    if (std::strtod(buf, nullptr) == a) break;
  }
  // d[.ddd]e[+-]xx, never with trailing zeros in the fraction (fewer digits would have read
  // back the same value, and been found first).
  const std::string sci(buf);
  const std::size_t e = sci.find('e');
  const std::string digits = sci.substr(0, 1) + (e > 2 ? sci.substr(2, e - 2) : std::string());
  const int k = int(digits.size());
  const int n = std::atoi(sci.c_str() + e + 1) + 1;  // v = 0.digits x 10^n
  std::string out;
  if (k <= n && n <= 21) {
    out = digits + std::string(std::size_t(n - k), '0');
  } else if (0 < n && n <= 21) {
    out = digits.substr(0, std::size_t(n)) + "." + digits.substr(std::size_t(n));
  } else if (-6 < n && n <= 0) {
    out = "0." + std::string(std::size_t(-n), '0') + digits;
  } else {
    out = digits.substr(0, 1) + (k > 1 ? "." + digits.substr(1) : std::string()) + "e" +
          (n - 1 < 0 ? "-" : "+") + std::to_string(std::abs(n - 1));
  }
  return v < 0 ? "-" + out : out;
}

std::string describeNumber(double v) {
  return v == 0 && std::signbit(v) ? "-0" : numberText(v);
}

Args::Args(napi_env env, const char* fn, const napi_value* argv, std::size_t argc,
           std::size_t expected, bool keepAlive)
    : env_(env), fn_(fn), argv_(argv), argc_(argc), keepAlive_(keepAlive) {
  if (argc != expected) {
    typeError(std::string(fn) + ": expected " + std::to_string(expected) +
              " arguments, got " + std::to_string(argc));
  }
}

Args::~Args() {
  for (napi_ref r : refs_) napi_delete_reference(env_, r);
}

void Args::typeError(const std::string& message) const {
  throw Napi::TypeError::New(env_, message);
}

void Args::rangeError(const std::string& message) const {
  throw Napi::RangeError::New(env_, message);
}

std::string describeValue(napi_env env, napi_value v) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return "an unknown value";
  switch (t) {
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_boolean: {
      bool b = false;
      napi_get_value_bool(env, v, &b);
      return b ? "true" : "false";
    }
    case napi_number: {
      double d = 0;
      napi_get_value_double(env, v, &d);
      return describeNumber(d);
    }
    case napi_string: {
      // As the TypeScript side: the first 40 UTF-16 units, then "...".
      std::size_t len = 0;
      napi_get_value_string_utf16(env, v, nullptr, 0, &len);
      char16_t units[41];
      std::size_t got = 0;
      napi_get_value_string_utf16(env, v, units, 41, &got);
      const std::size_t keep = len > 40 ? 40 : got;
      return "the string '" + utf8Of(units, keep) + (len > 40 ? "...'" : "'");
    }
    case napi_bigint: return "a bigint";
    case napi_symbol: return "a symbol";
    case napi_function: return "a function";
    case napi_external: return "an external";
    case napi_object: {
      bool is = false;
      if (napi_is_typedarray(env, v, &is) == napi_ok && is) {
        napi_typedarray_type tt;
        std::size_t len = 0;
        napi_get_typedarray_info(env, v, &tt, &len, nullptr, nullptr, nullptr);
        return "a " + constructorName(env, v, typedArrayName(tt)) + " of length " + std::to_string(len);
      }
      if (napi_is_dataview(env, v, &is) == napi_ok && is) return "a " + constructorName(env, v, "DataView");
      if (napi_is_array(env, v, &is) == napi_ok && is) return "an Array";
      return "an object";
    }
    default: return "a value of another type";
  }
}

index_t Args::dim(std::size_t i, const char* name) {
  double d = number(i, name);
  if (d < 0 || d != std::floor(d) || d > double(kMaxDim)) {
    rangeError(std::string(fn_) + ": " + name + " must be an integer in [0, " +
               std::to_string(kMaxDim) + "], got " + describeNumber(d));
  }
  return index_t(d);
}

index_t Args::offset(std::size_t i, const char* name) {
  double d = number(i, name);
  if (d < 0 || d != std::floor(d) || d > double(kMaxIndex)) {
    rangeError(std::string(fn_) + ": " + name + " must be a non-negative integer, got " +
               describeNumber(d));
  }
  return index_t(d);
}

double Args::number(std::size_t i, const char* name) {
  double d = 0;
  // One N-API call on the common path: it fails with napi_number_expected on a non-number.
  if (napi_get_value_double(env_, arg(i), &d) != napi_ok) {
    typeError(std::string(fn_) + ": " + name + " must be a number, got " + describe(arg(i)));
  }
  if (!std::isfinite(d)) {
    rangeError(std::string(fn_) + ": " + name + " must be a finite number, got " +
               numberText(d));
  }
  return d;
}

bool Args::boolean(std::size_t i, const char* name) {
  bool b = false;
  if (napi_get_value_bool(env_, arg(i), &b) != napi_ok) {
    typeError(std::string(fn_) + ": " + name + " must be a boolean, got " + describe(arg(i)));
  }
  return b;
}

Activation Args::activation(std::size_t i, const char* name) {
  napi_valuetype t;
  napi_typeof(env_, arg(i), &t);
  if (t == napi_string) {
    char buf[16];
    std::size_t len = 0;
    napi_get_value_string_utf8(env_, arg(i), buf, sizeof buf, &len);
    if (len < sizeof buf - 1) {
      // Compare the whole string (its length too): 'tanh\0x' is not 'tanh'.
      const std::string s(buf, len);
      if (s == "tanh") return Activation::Tanh;
      if (s == "relu") return Activation::Relu;
      if (s == "sigmoid") return Activation::Sigmoid;
    }
  }
  typeError(std::string(fn_) + ": " + name +
            " must be 'tanh', 'relu' or 'sigmoid', got " + describe(arg(i)));
}

void Args::keep(napi_value v) {
  if (!keepAlive_) return;
  napi_ref r;
  if (napi_create_reference(env_, v, 1, &r) != napi_ok) {
    rangeError(std::string(fn_) + ": could not hold a reference to an array");
  }
  refs_.push_back(r);
}

bool Args::typedArg(std::size_t i, const char* name, ArrayArg& out, napi_value& v,
                    napi_typedarray_type& tt, napi_value& buffer) {
  out = ArrayArg{nullptr, nullptr, 0, DType::F32, false};
  out.name = name;
  v = arg(i);
  tt = napi_int8_array;
  buffer = nullptr;
  return napi_get_typedarray_info(env_, v, &tt, &out.length, &out.data, &buffer, nullptr) ==
         napi_ok;
}

void Args::accept(napi_value v, napi_value buffer, const char* name, ArrayArg& out) {
  bool detached = false;
  if (out.length == 0 && buffer != nullptr &&
      napi_is_detached_arraybuffer(env_, buffer, &detached) == napi_ok && detached) {
    typeError(std::string(fn_) + ": " + name + " is backed by a detached ArrayBuffer");
  }
  out.present = true;
  keep(v);
}

ArrayArg Args::floats(std::size_t i, const char* name, bool nullable) {
  ArrayArg out;
  napi_value v, buffer;
  napi_typedarray_type tt;
  // One N-API call on the common path.
  const bool isTyped = typedArg(i, name, out, v, tt, buffer);
  if (!isTyped && nullable) {
    napi_valuetype vt;
    napi_typeof(env_, v, &vt);
    if (vt == napi_null) {  // null only, as in validate.ts
      out.length = 0;
      out.data = nullptr;
      return out;
    }
  }
  if (!isTyped || (tt != napi_float32_array && tt != napi_float64_array)) {
    typeError(std::string(fn_) + ": " + name + " must be a Float32Array or Float64Array" +
              (nullable ? " or null" : "") + ", got " + describe(v));
  }
  out.dtype = tt == napi_float32_array ? DType::F32 : DType::F64;
  accept(v, buffer, name, out);
  return out;
}

ArrayArg Args::int32s(std::size_t i, const char* name) {
  ArrayArg out;
  napi_value v, buffer;
  napi_typedarray_type tt;
  const bool isTyped = typedArg(i, name, out, v, tt, buffer);
  if (!isTyped || tt != napi_int32_array) {
    typeError(std::string(fn_) + ": " + name + " must be an Int32Array, got " + describe(v));
  }
  accept(v, buffer, name, out);
  return out;
}

ArrayArg Args::float64s(std::size_t i, const char* name) {
  napi_value v = arg(i);
  napi_typedarray_type tt = napi_int8_array;
  const bool isTyped =
      napi_get_typedarray_info(env_, v, &tt, nullptr, nullptr, nullptr, nullptr) == napi_ok;
  if (!isTyped || tt != napi_float64_array) {
    typeError(std::string(fn_) + ": " + name + " must be a Float64Array, got " + describe(v));
  }
  return floats(i, name);
}

ArrayArg Args::floatsOrIds(std::size_t i, const char* name, bool* isIds) {
  napi_value v = arg(i);
  napi_typedarray_type tt = napi_int8_array;
  const bool isTyped =
      napi_get_typedarray_info(env_, v, &tt, nullptr, nullptr, nullptr, nullptr) == napi_ok;
  if (isTyped && tt == napi_int32_array) {
    *isIds = true;
    return int32s(i, name);
  }
  if (!isTyped || (tt != napi_float32_array && tt != napi_float64_array)) {
    typeError(std::string(fn_) + ": " + name +
              " must be a Float32Array, Float64Array or Int32Array (token ids), got " +
              describe(v));
  }
  *isIds = false;
  return floats(i, name);
}

index_t Args::ld(std::size_t i, const char* name, index_t width, const char* widthName) {
  index_t v = offset(i, name);
  index_t least = width > 1 ? width : 1;
  if (v < least) {
    rangeError(std::string(fn_) + ": " + name + " must be >= " + std::to_string(least) +
               " (" + widthName + "), got " + std::to_string(v));
  }
  return v;
}

void Args::sameDType(const ArrayArg& a, const ArrayArg& b) {
  if (a.present && b.present && a.dtype != b.dtype) {
    typeError(std::string(fn_) + ": " + b.name + " must be a " +
              (a.dtype == DType::F32 ? "Float32Array" : "Float64Array") + " like " + a.name +
              ", got a " + (b.dtype == DType::F32 ? "Float32Array" : "Float64Array"));
  }
}

index_t Args::product(index_t a, index_t b, const char* what) {
  index_t r = 0;
  if (__builtin_mul_overflow(a, b, &r) || r > kMaxIndex) {
    rangeError(std::string(fn_) + ": the size of " + what + " overflows");
  }
  return r;
}

index_t Args::span(index_t rows, index_t cols, index_t ld, const char* what) {
  if (rows == 0 || cols == 0) return 0;
  index_t r = product(rows - 1, ld, what);
  if (__builtin_add_overflow(r, cols, &r) || r > kMaxIndex) {
    rangeError(std::string(fn_) + ": the size of " + what + " overflows");
  }
  return r;
}

void Args::matrixFits(const ArrayArg& a, index_t off, index_t rows, index_t cols, index_t ld) {
  const index_t need = span(rows, cols, ld, a.name);
  if (need == 0) return;
  if (off > kMaxIndex - need || std::size_t(off + need) > a.length) {
    rangeError(std::string(fn_) + ": " + a.name + " is too short for a " +
               std::to_string(rows) + "x" + std::to_string(cols) + " view with ld " +
               std::to_string(ld) + " at offset " + std::to_string(off) + ": needs " +
               std::to_string(off) + " + " + std::to_string(need) + " elements, has " +
               std::to_string(a.length));
  }
}

void Args::vectorFits(const ArrayArg& a, index_t off, index_t n) {
  if (n == 0) return;
  if (off > kMaxIndex - n || std::size_t(off + n) > a.length) {
    rangeError(std::string(fn_) + ": " + a.name + " is too short: needs " +
               std::to_string(off) + " + " + std::to_string(n) + " elements, has " +
               std::to_string(a.length));
  }
}

void Args::noOverlap(const ArrayArg& out, index_t offOut, index_t spanOut, const ArrayArg& in,
                     index_t offIn, index_t spanIn, bool allowSame) {
  if (!out.present || !in.present || spanOut == 0 || spanIn == 0) return;
  const auto* o0 = static_cast<const unsigned char*>(out.data) + offOut * elementSize(out.dtype);
  const auto* o1 = o0 + spanOut * elementSize(out.dtype);
  const auto* i0 = static_cast<const unsigned char*>(in.data) + offIn * elementSize(in.dtype);
  const auto* i1 = i0 + spanIn * elementSize(in.dtype);
  if (o0 >= i1 || i0 >= o1) return;
  if (allowSame && o0 == i0 && o1 == i1) return;
  rangeError(std::string(fn_) + ": " + out.name + " overlaps " + in.name +
             (allowSame ? " (only the very same view is allowed)" : " (not allowed)"));
}

std::shared_ptr<const std::vector<std::int32_t>> Args::copyIds(const ArrayArg& ids, index_t off,
                                                              index_t n) {
  auto copy = std::make_shared<std::vector<std::int32_t>>(std::size_t(n));
  if (n > 0) {
    std::memcpy(copy->data(), static_cast<const std::int32_t*>(ids.data) + off,
                std::size_t(n) * sizeof(std::int32_t));
  }
  return copy;
}

void Args::idsInRange(const ArrayArg& ids, const std::vector<std::int32_t>& copy, index_t off,
                      std::int32_t lo, std::int32_t hi, const char* what) {
  const std::int32_t* p = copy.data();
  const index_t n = index_t(copy.size());
  for (index_t j = 0; j < n; ++j) {
    if (p[j] < lo || p[j] >= hi) {
      rangeError(std::string(fn_) + ": " + ids.name + "[" + std::to_string(off + j) +
                 "] must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + ") (" +
                 what + "), got " + std::to_string(p[j]));
    }
  }
}

}  // namespace nrnn::addon
