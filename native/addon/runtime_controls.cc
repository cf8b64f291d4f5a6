#include "addon/runtime_controls.h"

#include <string>

#include "addon/args.h"
#include "kernels/runtime.h"

namespace nrnn::addon {

namespace {

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), num_threads());
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  napi_value argv[1] = {info.Length() > 0 ? napi_value(info[0]) : nullptr};
  Args args(info.Env(), "setNumThreads", argv, info.Length(), 1, false);
  const index_t n = args.dim(0, "n");
  if (n < 1 || n > kMaxThreads) {
    args.rangeError("setNumThreads: n must be an integer in [1, " + std::to_string(kMaxThreads) + "], got " + std::to_string(n));
  }
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

}  // namespace

void RegisterRuntimeControls(Napi::Env env, Napi::Object exports) {
  exports.Set("getNumThreads", Napi::Function::New(env, GetNumThreads, "getNumThreads"));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads, "setNumThreads"));
  exports.Set("cpuInfo", Napi::Function::New(env, CpuInfo, "cpuInfo"));
  exports.Set("setIsa", Napi::Function::New(env, SetIsa, "setIsa"));
}

}  // namespace nrnn::addon
