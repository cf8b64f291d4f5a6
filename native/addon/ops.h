// The kernel table of the addon: for each exported kernel, a parser that reads and checks
// its arguments and returns a Task (the kernel call bound to plain C++ data). A sync call
// runs the Task at once; an async program parses every op first and runs the Tasks on a
// worker thread.
#pragma once

#include <functional>
#include <string>

#include "addon/args.h"

namespace nrnn::addon {

// Runs the kernel; returns its scalar result (loss, sum of squares) or 0.
using Task = std::function<double()>;
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
