// Async programs: a list of kernel calls checked on the main thread, run on a libuv worker.
#pragma once

#include <napi.h>

namespace nrnn::addon {

// run(program: Array<[name, ...args]>): Promise<void>
Napi::Value RunProgram(const Napi::CallbackInfo& info);

}  // namespace nrnn::addon
