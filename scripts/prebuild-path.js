// Where the prebuilt addon for this process lives. `npm run prebuild` writes it, the install
// script (scripts/build-native.js) tries it before building, and the loader
// (lib/backend/native.ts) finds it at run time; all three ask this file, so they cannot
// disagree on the name.
//
//   prebuilds/<platform>-<arch>/native_rnn.napi[.<libc>].node
//
// "napi": the addon uses only Node-API (version 9), whose ABI is stable across Node
// releases, so one binary serves every Node >= 20.17; a build against a Node-specific ABI
// would carry its ABI number here instead and could not be mistaken for this one.
// <libc> (Linux only): the C library is part of the ABI too (a glibc build does not load on
// musl, nor the reverse). It is read off the running Node, not off the files on disk: the
// process report names the glibc this process runs with, and has none on musl.
'use strict';
const path = require('node:path');

let libcCache;

/** 'glibc' or 'musl' on Linux (the C library this Node runs with), null elsewhere. */
function libc() {
  if (libcCache !== undefined) return libcCache;
  if (process.platform !== 'linux') return (libcCache = null);
  const report = process.report;
  // Without the network section a report takes a few ms; with it, a slow resolver can stall it.
  const excludeNetwork = report.excludeNetwork;
  report.excludeNetwork = true;
  try {
    libcCache = report.getReport().header.glibcVersionRuntime ? 'glibc' : 'musl';
  } finally {
    report.excludeNetwork = excludeNetwork;
  }
  return libcCache;
}

/** This process's target: 'linux-x64-glibc', 'linux-arm64-musl', 'darwin-arm64', … */
function target() {
  const c = libc();
  return `${process.platform}-${process.arch}${c ? `-${c}` : ''}`;
}

/** The prebuilt addon's path for this process under the package root `root`. */
function prebuildFile(root) {
  const c = libc();
  return path.join(root, 'prebuilds', `${process.platform}-${process.arch}`, `native_rnn.napi${c ? `.${c}` : ''}.node`);
}

module.exports = { libc, target, prebuildFile };
