// The addon's entry: registers the kernels (sync, one per op), the async program runner and
// the runtime controls. Each feature lives in its own file.
#include <napi.h>

#include <string>
#include <utility>

#include "addon/args.h"
#include "addon/async.h"
#include "addon/ops.h"
#include "kernels/runtime.h"

namespace nrnn::addon {

namespace {

// A sync kernel call: check, run, return its scalar result when it has one. A raw N-API
// callback (no CallbackInfo, which allocates beyond six arguments): the arguments land in a
// stack array, and a checking failure (a Napi::Error) becomes a pending JS exception.
template <std::size_t Index>
napi_value CallOp(napi_env env, napi_callback_info info) {
  std::size_t count = 0;
  const OpSpec& spec = opTable(&count)[Index];
  napi_value argv[32];
  std::size_t argc = 32;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return nullptr;
  try {
    // Args rejects a count other than spec.argc (at most 27) before it reads any argument.
    Args args(env, spec.name, argv, argc, spec.argc, false);
    const double result = spec.parse(args)();
    napi_value out = nullptr;
    if (spec.returnsNumber) napi_create_double(env, result, &out);
    return out;
  } catch (const Napi::Error& e) {
    e.ThrowAsJavaScriptException();
  } catch (const std::bad_alloc&) {
    napi_throw_range_error(env, nullptr, "native-rnn: out of memory");
  } catch (const std::exception& e) {
    napi_throw_error(env, nullptr, e.what());
  }
  return nullptr;
}

template <std::size_t... I>
void RegisterOps(Napi::Env env, Napi::Object exports, std::index_sequence<I...>) {
  std::size_t count = 0;
  const OpSpec* table = opTable(&count);
  (void)count;
  auto add = [&](const char* name, napi_callback cb) {
    napi_value fn = nullptr;
    if (napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, nullptr, &fn) != napi_ok) {
      throw Napi::Error::New(env, std::string("could not create ") + name);
    }
    exports.Set(name, Napi::Value(env, fn));
  };
  (add(table[I].name, CallOp<I>), ...);
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), num_threads());
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  napi_value argv[1] = {info.Length() > 0 ? napi_value(info[0]) : nullptr};
  Args args(info.Env(), "setNumThreads", argv, info.Length(), 1, false);
  const index_t n = args.dim(0, "n");
  if (n < 1 || n > 1024) args.rangeError("setNumThreads: n must be an integer in [1, 1024], got " + std::to_string(n));
  set_num_threads(int(n));
  return info.Env().Undefined();
}

Napi::Value CpuInfo(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("detected", isa_name(detected_isa()));
  o.Set("active", isa_name(active_isa()));
  o.Set("threads", num_threads());
  // What the gemm blocking and the threading policy use: the data caches (bytes), the FMA
  // peak of the active path on one thread (GFLOP/s, measured once at first use) and the
  // pool's hand-off cost (ns).
  const CacheInfo& ci = cache_info();
  Napi::Object caches = Napi::Object::New(info.Env());
  caches.Set("l1d", double(ci.l1d));
  caches.Set("l2", double(ci.l2));
  caches.Set("l3", double(ci.l3));
  caches.Set("source", ci.source);
  o.Set("caches", caches);
  Napi::Object peak = Napi::Object::New(info.Env());
  peak.Set("float32", 2e6 / fma_ns<float>(1e6));
  peak.Set("float64", 2e6 / fma_ns<double>(1e6));
  o.Set("fmaPeakGflops", peak);
  o.Set("handoffNs", handoff_ns());
  return o;
}

Napi::Value SetIsa(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsString()) {
    throw Napi::TypeError::New(env, "setIsa: isa must be 'generic', 'avx2' or 'avx512'");
  }
  const std::string name = info[0].As<Napi::String>().Utf8Value();
  Isa isa;
  if (name == "generic") isa = Isa::Generic;
  else if (name == "avx2") isa = Isa::Avx2;
  else if (name == "avx512") isa = Isa::Avx512;
  else throw Napi::TypeError::New(env, "setIsa: isa must be 'generic', 'avx2' or 'avx512', got '" + name.substr(0, 40) + "'");
  return Napi::Boolean::New(env, set_isa(isa));
}

Napi::Object InitAll(Napi::Env env, Napi::Object exports) {
  RegisterOps(env, exports, std::make_index_sequence<kOpCount>{});
  exports.Set("run", Napi::Function::New(env, RunProgram, "run"));
  exports.Set("getNumThreads", Napi::Function::New(env, GetNumThreads, "getNumThreads"));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads, "setNumThreads"));
  exports.Set("cpuInfo", Napi::Function::New(env, CpuInfo, "cpuInfo"));
  exports.Set("setIsa", Napi::Function::New(env, SetIsa, "setIsa"));
  exports.Set("napiVersion", Napi::Number::New(env, NAPI_VERSION));
  return exports;
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) { return InitAll(env, exports); }

}  // namespace nrnn::addon

static Napi::Object InitNativeRnn(Napi::Env env, Napi::Object exports) {
  return nrnn::addon::Init(env, exports);
}

NODE_API_MODULE(native_rnn, InitNativeRnn)
