#include "addon/async.h"

#include <memory>
#include <string>
#include <vector>

#include "addon/checker.h"

namespace nrnn::addon {

namespace {

// The baton: plain C++ tasks plus references to every typed array they touch, so GC cannot
// free a buffer while the worker runs. References are dropped on the main thread, when the
// worker is destroyed after OnOK/OnError.
class ProgramWorker : public Napi::AsyncWorker {
 public:
  ProgramWorker(Napi::Env env, std::vector<Task> tasks, std::vector<napi_ref> refs)
      : Napi::AsyncWorker(env, "native-rnn:run"),
        deferred_(Napi::Promise::Deferred::New(env)),
        tasks_(std::move(tasks)),
        refs_(std::move(refs)) {}

  ~ProgramWorker() override {
    for (napi_ref r : refs_) napi_delete_reference(Env(), r);
  }

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    try {
      for (const Task& t : tasks_) t();
    } catch (const std::exception& e) {
      SetError(std::string("native-rnn: a kernel failed: ") + e.what());
    }
  }

  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::vector<Task> tasks_;
  std::vector<napi_ref> refs_;
};

}  // namespace

Napi::Value RunProgram(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsArray()) {
    throw Napi::TypeError::New(env, "run: program must be an Array of [name, ...args] ops");
  }
  Napi::Array program = info[0].As<Napi::Array>();
  const uint32_t count = program.Length();
  std::vector<Task> tasks;
  std::vector<napi_ref> refs;
  // No reserve(count): a sparse program of length 2^32 - 1 fails at its first hole, and
  // reserving for it would throw std::bad_alloc, which ends the process.
  tasks.reserve(count < 64 ? count : 64);
  try {
    std::vector<napi_value> argv;
    for (uint32_t k = 0; k < count; ++k) {
      Napi::Value opValue = program.Get(k);
      if (!opValue.IsArray()) {
        throw Napi::TypeError::New(env, "run: program[" + std::to_string(k) +
                                            "] must be an Array [name, ...args], got " +
                                            describeValue(env, opValue));
      }
      Napi::Array op = opValue.As<Napi::Array>();
      const uint32_t len = op.Length();
      Napi::Value nameValue = len > 0 ? op.Get(uint32_t{0}) : env.Undefined();
      if (!nameValue.IsString()) {
        throw Napi::TypeError::New(env, "run: program[" + std::to_string(k) +
                                            "][0] must be a kernel name, got " +
                                            describeValue(env, nameValue));
      }
      const std::string name = nameValue.As<Napi::String>().Utf8Value();
      const KernelDecl* spec = findKernel(name);
      if (spec == nullptr) {
        throw Napi::TypeError::New(env, "run: program[" + std::to_string(k) +
                                            "] names an unknown kernel, got " +
                                            describeValue(env, nameValue));
      }
      // Count before reading: an op of length 2^32 - 1 must not size a vector of that length.
      if (len - 1 != spec->argc) {
        throw Napi::TypeError::New(env, std::string(spec->name) + ": expected " +
                                            std::to_string(spec->argc) + " arguments, got " +
                                            std::to_string(len - 1));
      }
      argv.resize(len - 1);
      for (uint32_t i = 1; i < len; ++i) argv[i - 1] = op.Get(i);
      Args args(env, spec->name, argv.data(), argv.size(), spec->argc, true);
      Task task;
      task.run = runnerOf(kernelIndex(spec));
      check(*spec, args, task.bound);
      tasks.push_back(std::move(task));
      for (napi_ref r : args.releaseRefs()) refs.push_back(r);
    }
  } catch (...) {
    for (napi_ref r : refs) napi_delete_reference(env, r);
    throw;
  }
  auto* worker = new ProgramWorker(env, std::move(tasks), std::move(refs));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace nrnn::addon
