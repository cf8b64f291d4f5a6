#!/usr/bin/env node
// `npm run prebuild`: builds the addon from binding.gyp with node-gyp (Release), strips it,
// and puts it where the loader and `npm install` look for a prebuilt addon
// (prebuilds/<platform>-<arch>/native_rnn.napi[.<libc>].node, see scripts/prebuild-path.js).
// `npm pack` then ships it ("files" lists prebuilds/). The binary runs on any CPU of its
// architecture: the kernels for AVX-512, AVX2+FMA and plain code are all inside, picked at
// load time (no -march=native).
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { nodeGyp, loadProblem } = require('./build-native');
const { prebuildFile, target } = require('./prebuild-path');

const ROOT = path.join(__dirname, '..');

function main() {
  if (nodeGyp(['rebuild']) !== 0) {
    console.error('native-rnn prebuild: node-gyp failed (see above)');
    return 1;
  }
  const built = path.join(ROOT, 'build', 'Release', 'native_rnn.node');
  const out = prebuildFile(ROOT);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.copyFileSync(built, out);
  // Symbols only help a debugger; the dynamic ones Node looks up stay either way.
  const strip = { linux: ['strip', ['--strip-unneeded', out]], darwin: ['strip', ['-x', out]] }[process.platform];
  if (strip) {
    const r = spawnSync(strip[0], strip[1], { stdio: 'inherit' });
    if (r.status !== 0) {
      console.error(`native-rnn prebuild: ${strip[0]} failed${r.error ? `: ${r.error.message}` : ''}`);
      return 1;
    }
  }
  const problem = loadProblem(out);
  if (problem) {
    console.error(`native-rnn prebuild: ${out} does not load: ${problem}`);
    return 1;
  }
  const kib = (fs.statSync(built).size / 1024).toFixed(0);
  const kibOut = (fs.statSync(out).size / 1024).toFixed(0);
  console.log(`native-rnn prebuild: ${path.relative(ROOT, out)} for ${target()} (${kibOut} KiB stripped, ${kib} KiB built)`);
  return 0;
}

process.exitCode = main();
