// The kernel table of the addon: for each exported kernel, a parser that reads and checks
// its arguments and returns a Task (the kernel call bound to plain C++ data). A sync call
// runs the Task at once; an async program parses every op first and runs the Tasks on a
// worker thread.
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>
#include <string>

#include "addon/args.h"

namespace nrnn::addon {

// A kernel call bound to its checked arguments; running it returns the scalar result (loss,
// sum of squares) or 0. Stored inline (no heap allocation per call, which std::function
// would make for captures this large): a tiny sync call then costs only its checks.
class Task {
 public:
  static constexpr std::size_t kCapacity = 768;

  Task() = default;
  template <typename F, typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, Task>>>
  Task(F f) {  // NOLINT: implicit from a lambda, like std::function
    static_assert(sizeof(F) <= kCapacity, "Task capture too large");
    static_assert(alignof(F) <= alignof(std::max_align_t), "Task capture over-aligned");
    new (storage_) F(std::move(f));
    ops_ = &OpsFor<F>::table;
  }
  Task(Task&& other) noexcept { moveFrom(other); }
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      reset();
      moveFrom(other);
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() { reset(); }

  double operator()() const { return ops_->call(const_cast<unsigned char*>(storage_)); }

 private:
  struct Ops {
    double (*call)(void*);
    void (*move)(void* dst, void* src);
    void (*destroy)(void*);
  };
  template <typename F>
  struct OpsFor {
    static double call(void* p) { return (*static_cast<F*>(p))(); }
    static void move(void* dst, void* src) { new (dst) F(std::move(*static_cast<F*>(src))); }
    static void destroy(void* p) { static_cast<F*>(p)->~F(); }
    static constexpr Ops table{call, move, destroy};
  };
  void moveFrom(Task& other) {
    if (other.ops_) {
      other.ops_->move(storage_, other.storage_);
      ops_ = other.ops_;
      other.reset();
    }
  }
  void reset() {
    if (ops_) ops_->destroy(storage_);
    ops_ = nullptr;
  }

  alignas(std::max_align_t) unsigned char storage_[kCapacity];
  const Ops* ops_ = nullptr;
};
using Parser = Task (*)(Args&);

struct OpSpec {
  const char* name;
  std::size_t argc;
  Parser parse;
  bool returnsNumber;
};

// Every kernel, in the order of lib/backend/types.ts.
constexpr std::size_t kOpCount = 21;
const OpSpec* opTable(std::size_t* count);
// The kernel of that exact name (embedded NULs included), or nullptr.
const OpSpec* findOp(const std::string& name);

}  // namespace nrnn::addon
