// The package installs, loads and reports its backends; the two native builds agree.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { backends, BackendUnavailableError } from '../lib';
import { KERNEL_NAMES } from '../lib/backend/validate';

const ROOT = path.resolve(__dirname, '..', '..');
const RUNTIME_EXPORTS = ['run', 'getNumThreads', 'setNumThreads', 'cpuInfo', 'setIsa', 'napiVersion'];

describe('00 setup', () => {
  it('lists the ts backend always, and native when the addon is built', () => {
    const list = backends.available();
    expect(list).to.include('ts');
    if (process.env.NATIVE_RNN_REQUIRE_NATIVE === '1') {
      expect(list, String(backends.nativeError())).to.deep.equal(['native', 'ts']);
    }
    expect(backends.get('ts').name).to.equal('ts');
    expect(backends.get().name).to.equal(list[0]);
  });

  it('falls back to ts, and says why, when the addon is absent', () => {
    const script = `
      const { backends } = require(${JSON.stringify(path.join(ROOT, 'dist', 'lib'))});
      const out = { available: backends.available(), auto: backends.get('auto').name, error: backends.nativeError() };
      try { backends.get('native'); out.thrown = null; } catch (e) { out.thrown = { name: e.name, message: e.message }; }
      console.log(JSON.stringify(out));`;
    const r = spawnSync(process.execPath, ['-e', script], {
      env: { ...process.env, NATIVE_RNN_DISABLE_NATIVE: '1' }, encoding: 'utf8',
    });
    expect(r.status, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout);
    expect(out.available).to.deep.equal(['ts']);
    expect(out.auto).to.equal('ts');
    expect(out.error).to.match(/NATIVE_RNN_DISABLE_NATIVE/);
    expect(out.thrown.name).to.equal('BackendUnavailableError');
    expect(out.thrown.message).to.match(/backend 'native' is not available/);
  });

  it('rejects an unknown backend name', () => {
    expect(() => backends.get('gpu' as never)).to.throw(TypeError, /backend must be 'native', 'ts' or 'auto'/);
    // the error class the loader throws is a real Error subclass with its own name
    const e = new BackendUnavailableError('why');
    expect(e).to.be.instanceOf(Error).and.instanceOf(BackendUnavailableError);
    expect(e.name).to.equal('BackendUnavailableError');
    expect(e.message).to.equal('why');
  });

  describe('native addon', function () {
    before(function () {
      if (!backends.available().includes('native')) this.skip();
    });

    it('exports every kernel and the runtime controls, at N-API 9 or lower', () => {
      const addon = require(backends.nativeFile() as string) as Record<string, unknown>;
      expect(Object.keys(addon).sort()).to.deep.equal([...KERNEL_NAMES, ...RUNTIME_EXPORTS].sort());
      expect(addon.napiVersion).to.be.at.most(9);
      const info = backends.cpuInfo();
      expect(info).to.not.equal(null);
      expect(['generic', 'avx2', 'avx512']).to.include(info?.detected);
    });

    it('node-gyp and cmake-js builds export the same names', function () {
      const gyp = path.join(ROOT, 'build', 'Release', 'native_rnn.node');
      const cmake = path.join(ROOT, 'build-cmake', 'Release', 'native_rnn.node');
      // The cmake-js build is optional for users (`npm run build:cmake`); CI builds it first.
      if (!fs.existsSync(gyp) || !fs.existsSync(cmake)) this.skip();
      const a = Object.keys(require(gyp)).sort();
      const b = Object.keys(require(cmake)).sort();
      expect(b).to.deep.equal(a);
    });
  });
});
