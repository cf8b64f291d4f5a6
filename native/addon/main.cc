// The addon's entry: registers the kernels (sync, one per op), the async program runner and
// the runtime controls. Each feature lives in its own file.
#include <napi.h>

#include <string>
#include <utility>

#include "addon/args.h"
#include "addon/async.h"
#include "addon/checker.h"
#include "addon/runtime_controls.h"

namespace nrnn::addon {

namespace {

// A sync kernel call: check, run, return its scalar result when it has one. A raw N-API
// callback (no CallbackInfo, which allocates beyond six arguments): the arguments land in a
// stack array, and a checking failure (a Napi::Error) becomes a pending JS exception.
template <std::size_t Index>
napi_value CallKernel(napi_env env, napi_callback_info info) {
  std::size_t count = 0;
  const KernelDecl& k = kernelTable(&count)[Index];
  // One more slot than any kernel takes, so a call with too many arguments is counted right.
  napi_value argv[kMaxArgs + 1];
  std::size_t argc = kMaxArgs + 1;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return nullptr;
  try {
    // Args rejects a count other than k.argc before it reads any argument.
    Args args(env, k.name, argv, argc, k.argc, false);
    Bound bound;
    check(k, args, bound);
    const double result = runnerOf(Index)(bound);
    napi_value out = nullptr;
    if (k.returnsNumber) napi_create_double(env, result, &out);
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
void RegisterKernels(Napi::Env env, Napi::Object exports, std::index_sequence<I...>) {
  std::size_t count = 0;
  const KernelDecl* table = kernelTable(&count);
  auto add = [&](const char* name, napi_callback cb) {
    napi_value fn = nullptr;
    if (napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, nullptr, &fn) != napi_ok) {
      throw Napi::Error::New(env, std::string("could not create ") + name);
    }
    exports.Set(name, Napi::Value(env, fn));
  };
  (add(table[I].name, CallKernel<I>), ...);
}

Napi::Object InitAll(Napi::Env env, Napi::Object exports) {
  RegisterKernels(env, exports, std::make_index_sequence<NRNN_KERNEL_COUNT>{});
  RegisterRuntimeControls(env, exports);
  exports.Set("run", Napi::Function::New(env, RunProgram, "run"));
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
