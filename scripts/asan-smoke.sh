#!/usr/bin/env bash
# A Node smoke run of the addon built with AddressSanitizer + UndefinedBehaviorSanitizer:
# builds it with cmake-js (build-asan-addon/, NRNN_SANITIZE=ON: the flags reach the kernels and
# the addon sources), preloads the ASan runtime into node, and runs the native fuzz plus valid
# calls of every kernel against it. Exits nonzero on any sanitizer report, crash or fuzz failure.
#   scripts/asan-smoke.sh [fuzz iterations per target, default 20000]
set -euo pipefail
cd "$(dirname "$0")/.."
iterations="${1:-20000}"
start=$(date +%s)

echo "== build the sanitized addon (cmake-js, RelWithDebInfo, -j2)"
npx cmake-js compile --out build-asan-addon --CDNRNN_SANITIZE=ON --CDNRNN_TESTS=OFF -B RelWithDebInfo -p 2 >build-asan-addon.log 2>&1 \
  || { tail -40 build-asan-addon.log; echo "asan-smoke: the build failed"; exit 1; }
addon="$PWD/build-asan-addon/RelWithDebInfo/native_rnn.node"
test -f "$addon" || { echo "asan-smoke: $addon was not built"; exit 1; }
npx tsc -p tsconfig.json

libasan="$(${CXX:-g++} -print-file-name=libasan.so)"
test -f "$libasan" || { echo "asan-smoke: no ASan runtime ($libasan)"; exit 1; }

# V8 leaks by design: no leak check. Any report aborts; the log is searched as well.
export LD_PRELOAD="$libasan"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export NATIVE_RNN_ADDON="$addon"
# The addon is instrumented, and the runtime is really in the process (not a silent no-op run).
nm -D "$addon" | grep __asan_ >/dev/null || { echo "asan-smoke: $addon has no ASan instrumentation"; exit 1; }
node -e 'const m = require("fs").readFileSync("/proc/self/maps", "utf8"); require(process.env.NATIVE_RNN_ADDON);
  if (!m.includes("libasan")) { console.error("asan-smoke: libasan is not loaded in node"); process.exit(1); }'
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
echo "== valid calls of every kernel"
node dist/bench/native-smoke.js 2>&1 | tee -a "$log" || status=1
echo "== fuzz: raw addon and native backend, $iterations calls each"
node dist/bench/fuzz-native.js --target raw --iterations "$iterations" --seed 1 2>&1 | tee -a "$log" || status=1
node dist/bench/fuzz-native.js --target native --iterations "$iterations" --seed 2 2>&1 | tee -a "$log" || status=1
unset LD_PRELOAD

if grep -qE "ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer|SUMMARY: (Address|UndefinedBehavior)Sanitizer" "$log"; then
  echo "asan-smoke: sanitizer report(s) above"
  status=1
fi
echo "== asan-smoke $([ $status -eq 0 ] && echo clean || echo FAILED) in $(( $(date +%s) - start )) s"
exit $status
