#!/usr/bin/env node
// `npm install` runs this: it builds the addon with node-gyp. Without a compiler the package
// still installs, and the pure-TypeScript backend serves (backends.available() says so).
// Set NATIVE_RNN_REQUIRE_NATIVE=1 to make a failed build fail the install (CI does).
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

if (process.env.NATIVE_RNN_SKIP_NATIVE === '1') {
  console.log('native-rnn: NATIVE_RNN_SKIP_NATIVE=1, not building the addon; the ts backend will serve.');
  process.exit(0);
}
let gyp;
try {
  gyp = require.resolve('node-gyp/bin/node-gyp.js');
} catch {
  gyp = null;
}
const args = gyp ? [gyp, 'rebuild'] : [path.join(path.dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'), 'rebuild'];
const jobs = process.env.JOBS || 'max';
const result = spawnSync(process.execPath, [...args, `--jobs=${jobs}`], { stdio: 'inherit', cwd: path.join(__dirname, '..') });
if (result.status !== 0) {
  const msg = [
    'native-rnn: building the native addon failed (see the compiler output above).',
    'The package is installed and works with the pure-TypeScript backend ("ts"), which is slower.',
    'To get the native backend: install a C++17 compiler, make and python3, then run `npm run build:native`.',
  ].join('\n');
  if (process.env.NATIVE_RNN_REQUIRE_NATIVE === '1') {
    console.error(msg);
    process.exit(1);
  }
  console.warn(msg);
}
