#!/usr/bin/env node
// `npm install` runs this. When the package carries a prebuilt addon for this platform
// (prebuilds/, see scripts/prebuild-path.js) and it loads here, nothing is built and nothing
// is downloaded. Otherwise it builds the addon from source with node-gyp; without a compiler
// the package still installs and the pure-TypeScript backend serves (backends.available()
// says so).
//
// NATIVE_RNN_BUILD_FROM_SOURCE=1 builds even when a prebuilt addon fits; the built addon
// then wins (the loader tries build/ before prebuilds/). NATIVE_RNN_REQUIRE_NATIVE=1 makes a
// failed build fail the install (CI sets it). NATIVE_RNN_SKIP_NATIVE=1 does nothing.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { prebuildFile, target } = require('./prebuild-path');

const ROOT = path.join(__dirname, '..');

/** Runs node-gyp with `args` in the package root; returns its exit status. */
function nodeGyp(args) {
  // npm hands every script the node-gyp it bundles (npm_config_node_gyp, and a `node-gyp`
  // on PATH), so the package needs none of its own. Run outside npm, a node-gyp installed
  // beside the package, else one on PATH.
  let script = process.env.npm_config_node_gyp || null;
  if (!script) {
    try {
      script = require.resolve('node-gyp/bin/node-gyp.js');
    } catch {
      script = null;
    }
  }
  const all = [...args, `--jobs=${process.env.JOBS || 'max'}`];
  const options = { stdio: 'inherit', cwd: ROOT };
  const r = script
    ? spawnSync(process.execPath, [script, ...all], options)
    : spawnSync('node-gyp', all, { ...options, shell: process.platform === 'win32' });
  if (r.error) console.error(`native-rnn: could not run node-gyp: ${r.error.message}`);
  return r.status ?? 1;
}

/** Why `file` does not load as the addon in a fresh Node, or null when it does. */
function loadProblem(file) {
  // A child process: a binary for another CPU or C library may crash rather than throw.
  const probe = `const a = require(${JSON.stringify(file)});` +
    "if (typeof a.gemm !== 'function' || typeof a.napiVersion !== 'number') throw new Error('not the native-rnn addon');";
  const r = spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8' });
  if (r.status === 0) return null;
  const line = (r.stderr || '').split('\n').find((l) => /Error/.test(l));
  return line ? line.trim() : `the probe exited with ${r.signal ?? r.status}`;
}

function main() {
  if (process.env.NATIVE_RNN_SKIP_NATIVE === '1') {
    console.log('native-rnn: NATIVE_RNN_SKIP_NATIVE=1, not building the addon; the ts backend will serve.');
    return 0;
  }
  const prebuild = prebuildFile(ROOT);
  const shown = path.relative(ROOT, prebuild);
  const problem = fs.existsSync(prebuild) ? loadProblem(prebuild) : 'absent';
  const prebuildFits = problem === null;
  // A git checkout builds what its sources say: a prebuild left there may be stale.
  const checkout = fs.existsSync(path.join(ROOT, '.git'));
  if (process.env.NATIVE_RNN_BUILD_FROM_SOURCE === '1') {
    console.log('native-rnn: NATIVE_RNN_BUILD_FROM_SOURCE=1, building the addon from source.');
  } else if (checkout) {
    console.log('native-rnn: a git checkout, building the addon from source.');
  } else if (prebuildFits) {
    console.log(`native-rnn: using the prebuilt addon for ${target()} (${shown}); nothing to build.`);
    return 0;
  } else if (problem !== 'absent') {
    console.log(`native-rnn: the prebuilt addon ${shown} does not load here (${problem}); building from source.`);
  } else {
    console.log(`native-rnn: no prebuilt addon for ${target()} in this package; building from source.`);
  }
  if (nodeGyp(['rebuild']) === 0) return 0;
  const msg = [
    'native-rnn: building the native addon failed (see the compiler output above).',
    prebuildFits
      ? `The package is installed and uses the prebuilt addon (${shown}).`
      : 'The package is installed and works with the pure-TypeScript backend ("ts"), which is slower.',
    'To build the addon: install a C++17 compiler, make and python3, then run',
    '`NATIVE_RNN_BUILD_FROM_SOURCE=1 npm rebuild native-rnn`.',
  ].join('\n');
  if (process.env.NATIVE_RNN_REQUIRE_NATIVE === '1') {
    console.error(msg);
    return 1;
  }
  console.warn(msg);
  return 0;
}

module.exports = { nodeGyp, loadProblem };

if (require.main === module) process.exitCode = main();
