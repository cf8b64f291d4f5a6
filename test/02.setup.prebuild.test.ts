// The prebuilt addon: where the loader finds it, what it reports, and what the install script
// decides (use the prebuild, or build from source) — in a copy of the package laid out as npm
// installs it. The real pack → install → run path is CI's (.ci/run); here node-gyp is a stub
// that records its arguments, so no compiler runs and nothing touches the network.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const BUILT = path.join(ROOT, 'build', 'Release', 'native_rnn.node');
const prebuildPath = require(path.join(ROOT, 'scripts', 'prebuild-path.js')) as {
  libc(): string | null;
  target(): string;
  prebuildFile(root: string): string;
};

/** Runs `code` in a fresh Node with the package's environment switches cleared. */
function node(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  for (const key of ['NATIVE_RNN_ADDON', 'NATIVE_RNN_DISABLE_NATIVE', 'NATIVE_RNN_SKIP_NATIVE', 'NATIVE_RNN_BUILD_FROM_SOURCE',
    'NATIVE_RNN_REQUIRE_NATIVE']) {
    if (!options.env || !(key in options.env)) delete env[key];
  }
  return spawnSync(process.execPath, args, { cwd: options.cwd, env, encoding: 'utf8', timeout: 60000 });
}

/** What the package in `root` reports about its addon, and a 2x2 gemm through it. */
function report(root: string, env: Record<string, string> = {}) {
  const script = `
    const { backends } = require(${JSON.stringify(path.join(root, 'dist', 'lib'))});
    const out = { available: backends.available(), info: backends.addonInfo(), error: backends.nativeError() };
    if (out.info) {
      const C = new Float64Array(4);
      backends.get('native').gemm(false, false, 2, 2, 2, 1, new Float64Array([1, 2, 3, 4]), 0, 2,
        new Float64Array([5, 6, 7, 8]), 0, 2, 0, C, 0, 2);
      out.C = Array.from(C);
    }
    console.log(JSON.stringify(out));`;
  const r = node(['-e', script], { env });
  expect(r.status, r.stderr).to.equal(0);
  return JSON.parse(r.stdout) as {
    available: string[];
    info: { file: string; source: string; target: string; napiVersion: number } | null;
    error: string | null;
    C?: number[];
  };
}

describe('02 setup: the prebuilt addon', function () {
  let dir: string;
  let root: string;
  let stub: string;
  let stubLog: string;

  before(function () {
    if (!fs.existsSync(BUILT)) this.skip();
  });

  beforeEach(() => {
    // The files `npm pack` ships that the loader and the install script use, as they lie in
    // node_modules/native-rnn. dist/ is copied, not linked: Node resolves links, and the loader
    // finds the package root from its own real path.
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'native-rnn-prebuild-'));
    root = path.join(dir, 'node_modules', 'native-rnn');
    fs.mkdirSync(path.join(root, 'scripts'), { recursive: true });
    fs.mkdirSync(path.join(root, 'native'), { recursive: true });
    fs.cpSync(path.join(ROOT, 'dist', 'lib'), path.join(root, 'dist', 'lib'), { recursive: true });
    for (const f of ['package.json', 'scripts/build-native.js', 'scripts/prebuild-path.js', 'native/kernels.json']) {
      fs.copyFileSync(path.join(ROOT, f), path.join(root, f));
    }
    stub = path.join(dir, 'fake-node-gyp.js');
    stubLog = path.join(dir, 'node-gyp.log');
    fs.writeFileSync(stub, `require('fs').appendFileSync(${JSON.stringify(stubLog)}, JSON.stringify(process.argv.slice(2)) + '\\n');
      process.exit(Number(process.env.FAKE_NODE_GYP_STATUS || 1));`);
  });

  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function placePrebuild(bytes: Buffer | null = null): string {
    const file = prebuildPath.prebuildFile(root);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    if (bytes) fs.writeFileSync(file, bytes);
    else fs.copyFileSync(BUILT, file);
    return file;
  }

  function install(env: Record<string, string> = {}) {
    const r = node([path.join(root, 'scripts', 'build-native.js')], {
      cwd: root, env: { npm_config_node_gyp: stub, CC: '/bin/false', CXX: '/bin/false', ...env },
    });
    const calls = fs.existsSync(stubLog) ? fs.readFileSync(stubLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l)) : [];
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, nodeGypCalls: calls as string[][] };
  }

  it('names the file by platform, CPU, Node-API and (Linux) C library', () => {
    const libc = prebuildPath.libc();
    if (process.platform === 'linux') {
      const glibc = (process.report.getReport() as { header: { glibcVersionRuntime?: string } }).header.glibcVersionRuntime;
      expect(libc).to.equal(glibc ? 'glibc' : 'musl');
    } else {
      expect(libc).to.equal(null);
    }
    const tag = `${process.platform}-${process.arch}`;
    expect(prebuildPath.target()).to.equal(libc ? `${tag}-${libc}` : tag);
    expect(path.relative(root, prebuildPath.prebuildFile(root))).to.equal(
      path.join('prebuilds', tag, libc ? `native_rnn.napi.${libc}.node` : 'native_rnn.napi.node'));
  });

  it('loads the prebuild when nothing was built, and says so', () => {
    const file = placePrebuild();
    const out = report(root);
    expect(out.available).to.deep.equal(['native', 'ts']);
    expect(out.info).to.deep.equal({ file, source: 'prebuild', target: prebuildPath.target(), napiVersion: 9 });
    expect(out.C).to.deep.equal([19, 22, 43, 50]);
  });

  it('prefers a build from source to the prebuild, and NATIVE_RNN_ADDON to both', () => {
    placePrebuild();
    const built = path.join(root, 'build', 'Release', 'native_rnn.node');
    fs.mkdirSync(path.dirname(built), { recursive: true });
    fs.copyFileSync(BUILT, built);
    expect(report(root).info).to.include({ file: built, source: 'node-gyp' });
    expect(report(root, { NATIVE_RNN_ADDON: BUILT }).info).to.include({ file: BUILT, source: 'NATIVE_RNN_ADDON' });
  });

  it('without any addon: the ts backend, and an error naming the missing prebuild and how to build', () => {
    const out = report(root);
    expect(out.available).to.deep.equal(['ts']);
    expect(out.info).to.equal(null);
    expect(out.error).to.include(`no prebuilt addon for ${prebuildPath.target()}`);
    expect(out.error).to.include('NATIVE_RNN_BUILD_FROM_SOURCE=1 npm rebuild native-rnn');
  });

  it('a prebuild that does not load: the loader reports why and the ts backend serves', () => {
    const file = placePrebuild(Buffer.from('not an ELF file'));
    const out = report(root);
    expect(out.available).to.deep.equal(['ts']);
    expect(out.error).to.include(file);
  });

  it('install: a prebuild that loads means no build at all, even without a compiler', () => {
    placePrebuild();
    const r = install({ NATIVE_RNN_REQUIRE_NATIVE: '1' });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.include(`using the prebuilt addon for ${prebuildPath.target()}`);
    expect(r.nodeGypCalls).to.deep.equal([]);
    expect(fs.existsSync(path.join(root, 'build'))).to.equal(false);
  });

  it('install: no prebuild, or one that does not load, builds from source', () => {
    let r = install({ FAKE_NODE_GYP_STATUS: '0' });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.include(`no prebuilt addon for ${prebuildPath.target()} in this package; building from source`);
    expect(r.nodeGypCalls.map((a) => a[0])).to.deep.equal(['rebuild']);

    placePrebuild(Buffer.from('not an ELF file'));
    r = install({ NATIVE_RNN_REQUIRE_NATIVE: '1' });
    expect(r.stdout).to.match(/does not load here \(.*\); building from source/);
    expect(r.nodeGypCalls.map((a) => a[0])).to.deep.equal(['rebuild', 'rebuild']);
    // The stub failed like a missing compiler: with NATIVE_RNN_REQUIRE_NATIVE=1 the install fails.
    expect(r.status).to.equal(1);
    expect(r.stderr).to.include('building the native addon failed');
    expect(r.stderr).to.include('pure-TypeScript backend');
  });

  it('install: NATIVE_RNN_BUILD_FROM_SOURCE=1 (or a git checkout) builds although a prebuild fits', () => {
    placePrebuild();
    let r = install({ NATIVE_RNN_BUILD_FROM_SOURCE: '1' });
    expect(r.stdout).to.include('NATIVE_RNN_BUILD_FROM_SOURCE=1, building the addon from source');
    expect(r.nodeGypCalls).to.have.length(1);
    // The build failed, but the prebuild still serves: the install succeeds and says so.
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stderr).to.include('uses the prebuilt addon');

    fs.mkdirSync(path.join(root, '.git'));
    r = install();
    expect(r.stdout).to.include('a git checkout, building the addon from source');
    expect(r.nodeGypCalls).to.have.length(2);
  });

  it('install: NATIVE_RNN_SKIP_NATIVE=1 does nothing', () => {
    const r = install({ NATIVE_RNN_SKIP_NATIVE: '1' });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.nodeGypCalls).to.deep.equal([]);
  });
});
