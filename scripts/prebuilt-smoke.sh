#!/usr/bin/env bash
# The package as a user without a compiler gets it: `npm run prebuild`, `npm pack`, then
# install the tarball into a new project with CC and CXX set to /bin/false, and run a kernel
# on the native backend there. Fails unless the addon came from the tarball's prebuilds/
# (no build ran, nothing was downloaded) and the install stays small. Prints the install's
# package count and size.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
max_packages=10

echo "== npm run prebuild"; npm run prebuild
tmp="$(mktemp -d "${TMPDIR:-/tmp}/native-rnn-prebuilt-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
echo "== npm pack"; npm pack --pack-destination "$tmp" >"$tmp/pack.log" 2>&1 || { cat "$tmp/pack.log"; exit 1; }
tarball="$(ls "$tmp"/native-rnn-*.tgz)"
tar -tzf "$tarball" >"$tmp/files.txt"
grep -q '^package/prebuilds/' "$tmp/files.txt" || { echo "prebuilt-smoke: $tarball has no prebuilds/"; exit 1; }

echo "== npm install the tarball into a new project, CC=CXX=/bin/false"
mkdir "$tmp/project" && cd "$tmp/project"
npm init -y >/dev/null
# NATIVE_RNN_REQUIRE_NATIVE=1: had the prebuild not fitted, the install would try to build,
# fail without a compiler, and fail the install.
CC=/bin/false CXX=/bin/false NATIVE_RNN_REQUIRE_NATIVE=1 npm install --foreground-scripts --no-audit --no-fund "$tarball" \
  2>&1 | tee "$tmp/install.log"
grep -q 'native-rnn: using the prebuilt addon' "$tmp/install.log" || { echo "prebuilt-smoke: the install did not use the prebuild"; exit 1; }
if grep -q 'gyp info' "$tmp/install.log"; then echo "prebuilt-smoke: node-gyp ran"; exit 1; fi
test ! -e node_modules/native-rnn/build || { echo "prebuilt-smoke: the install built something"; exit 1; }

echo "== a kernel on the native backend, from the prebuild"
CC=/bin/false CXX=/bin/false node -e '
  const { backends } = require("native-rnn");
  const info = backends.addonInfo();
  console.log(JSON.stringify({ available: backends.available(), addon: info, cpu: backends.cpuInfo() }));
  const want = require("path").join(process.cwd(), "node_modules", "native-rnn", "prebuilds");
  if (!info || info.source !== "prebuild" || !info.file.startsWith(want)) {
    console.error("prebuilt-smoke: the native backend did not come from the prebuild:", backends.nativeError());
    process.exit(1);
  }
  // C = A·B for A = [1 2; 3 4], B = [5 6; 7 8] (row-major): [19 22; 43 50].
  const C = new Float64Array(4);
  backends.get("native").gemm(false, false, 2, 2, 2, 1, new Float64Array([1, 2, 3, 4]), 0, 2,
    new Float64Array([5, 6, 7, 8]), 0, 2, 0, C, 0, 2);
  if (C.join() !== "19,22,43,50") { console.error("prebuilt-smoke: gemm gave", C.join()); process.exit(1); }
  console.log("gemm on", info.file, "->", C.join());'

packages=$(( $(npm ls --all --parseable | wc -l) - 1 ))
size="$(du -sh node_modules | cut -f1)"
echo "== installed: $packages packages, node_modules $size"
test "$packages" -le "$max_packages" || { npm ls --all; echo "prebuilt-smoke: more than $max_packages packages"; exit 1; }
cd "$repo"
