// The runtime controls the addon exports beside the kernels: thread count, CPU paths.
#pragma once

#include <napi.h>

namespace nrnn::addon {

// getNumThreads, setNumThreads, cpuInfo, setIsa
void RegisterRuntimeControls(Napi::Env env, Napi::Object exports);

}  // namespace nrnn::addon
