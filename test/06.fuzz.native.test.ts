// A quick seeded fuzz of the native surface (see test/fuzz/native-fuzz.ts): every kernel,
// run(program), setNumThreads and setIsa, with mutated arguments. Every call must succeed or
// throw a TypeError / RangeError, and write nothing outside its declared outputs. The raw addon
// (C++ checks alone) runs in a child process, so a segfault fails the test with its signal.
// `npm run fuzz -- --iterations N` runs a long one.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { expect } from 'chai';
import { backends } from '../lib';
import { FUZZ_KERNELS, runFuzz, type FuzzReport, type FuzzTarget } from './fuzz/native-fuzz';

const ITERATIONS = 5000;
const SEED = 20240611;
const FUZZ_MODULE = path.join(__dirname, 'fuzz', 'native-fuzz.js');
const hasNative = backends.available().includes('native');

/** Runs JS in a fresh node; a crash comes back as a signal instead of killing mocha. */
function inChild(code: string, timeoutMs = 60000): { status: number | null; signal: string | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', timeout: timeoutMs, env: process.env });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

function crashText(r: { status: number | null; signal: string | null; stderr: string }): string {
  return `child exited with status ${r.status}, signal ${r.signal}: ${r.stderr.slice(-2000)}`;
}

function summary(r: FuzzReport): string {
  return `${r.target}: ${r.calls} calls, ${r.succeeded} succeeded, errors ${JSON.stringify(r.errors)}, ` +
    `${r.guardChecks} guard checks, ${r.guardViolations} violations`;
}

function expectClean(r: FuzzReport): void {
  expect(r.failures, JSON.stringify(r.failures.slice(0, 5), null, 1)).to.deep.equal([]);
  expect(r.failureCount).to.equal(0);
  expect(r.unexpectedErrors).to.equal(0);
  expect(r.guardViolations).to.equal(0);
  expect(r.guardChecks).to.equal(r.calls);
  for (const name of [...FUZZ_KERNELS, 'run', 'setNumThreads']) expect(r.byFunction[name] ?? 0, name).to.be.greaterThan(0);
  // A mix: the mutations reach the deep checks, and valid calls still run.
  expect(r.succeeded).to.be.greaterThan(r.calls / 10);
  expect(r.errors.TypeError ?? 0).to.be.greaterThan(r.calls / 10);
  expect(r.errors.RangeError ?? 0).to.be.greaterThan(r.calls / 10);
}

describe('06 fuzz of the native surface', function () {
  this.timeout(60000);

  /** The fuzz in a child process: a crash fails the test with the signal instead of killing mocha. */
  function fuzzInChild(target: FuzzTarget): FuzzReport {
    const code = `
      const { runFuzz } = require(${JSON.stringify(FUZZ_MODULE)});
      runFuzz({ seed: ${SEED}, iterations: ${ITERATIONS}, target: '${target}' })
        .then((r) => { process.stdout.write('\\n' + JSON.stringify(r) + '\\n'); })
        .catch((e) => { console.error(e); process.exit(3); });`;
    const r = inChild(code);
    expect(r.signal, crashText(r)).to.equal(null);
    expect(r.status, crashText(r)).to.equal(0);
    return JSON.parse(r.stdout.trim().split('\n').pop() as string) as FuzzReport;
  }

  it(`ts: ${ITERATIONS} seeded calls, only TypeError / RangeError, guards intact`, async () => {
    const r = await runFuzz({ seed: SEED, iterations: ITERATIONS, target: 'ts' });
    console.log(`      ${summary(r)}`);
    expectClean(r);
  });

  // The addon's targets run in a child process (the native backend too: its TS checks cannot
  // stop every native fault, e.g. arrays rewritten while an async program runs).
  for (const target of ['native', 'raw'] as const) {
    (hasNative ? it : it.skip)(`${target}${target === 'raw' ? ' addon (C++ checks alone)' : ''}, in a child process: ${ITERATIONS} seeded calls`, () => {
      const r = fuzzInChild(target);
      console.log(`      ${summary(r)}`);
      expectClean(r);
      expect(r.byFunction.setIsa ?? 0).to.be.greaterThan(0);
    });
  }

  it('finds planted bugs: a write past the output and a plain Error', async () => {
    const r = await runFuzz({
      seed: 7, iterations: 1500, target: 'ts',
      wrap: (name, fn) => (...a: unknown[]) => {
        const out = fn(...a);
        if (name === 'fill') (a[2] as Float32Array)[(a[3] as number) + (a[0] as number)] += 1; // one past the view
        if (name === 'scale') throw new Error('planted');
        return out;
      },
    });
    const kinds = new Set(r.failures.map((f) => `${f.fn}: ${f.kind}`));
    expect([...kinds]).to.include.members(['fill: guard violation', 'scale: unexpected error']);
    expect(r.unexpectedErrors).to.be.greaterThan(0);
    expect(r.guardViolations).to.be.greaterThan(0);
  });

  // ---- regressions: bugs the fuzz found -------------------------------------------------------
  describe('regressions', () => {
    const addon = (): string => JSON.stringify(backends.nativeFile());

    (hasNative ? it : it.skip)('raw run(): an op of length 2^32 - 1 is a TypeError, not std::bad_alloc (abort)', () => {
      const r = inChild(`
        const a = require(${addon()});
        const op = ['scale', 1, 2, new Float32Array(1), 0]; op.length = 2 ** 32 - 1;
        try { a.run([op]); console.log('no error'); } catch (e) { console.log(e.constructor.name + ': ' + e.message); }`);
      expect(r.signal, crashText(r)).to.equal(null);
      expect(r.stdout.trim()).to.equal('TypeError: scale: expected 4 arguments, got 4294967294');
    });

    (hasNative ? it : it.skip)('raw run(): a sparse program of length 2^32 - 1 is a TypeError, not std::bad_alloc (abort)', () => {
      const r = inChild(`
        const a = require(${addon()});
        const p = new Array(2 ** 32 - 1);
        try { a.run(p); console.log('no error'); } catch (e) { console.log(e.constructor.name + ': ' + e.message); }`);
      expect(r.signal, crashText(r)).to.equal(null);
      expect(r.stdout.trim()).to.match(/^TypeError: run: program\[0\] must be an Array/);
    });

    (hasNative ? it : it.skip)('run(): token ids rewritten while the program runs do not reach the kernels (was a segfault)', () => {
      for (const via of ['raw', 'native']) {
        const r = inChild(`
          const raw = require(${addon()});
          const k = ${via === 'raw' ? 'raw' : `require(${JSON.stringify(path.join(__dirname, '..', 'lib'))}).backends.get('native')`};
          const N = 300, A = new Float32Array(N * N), C = new Float32Array(N * N);
          const rows = 2, V = 3, n = 2;
          const dU = new Float32Array(rows * n).fill(1), ids = new Int32Array([2, 0]), dW = new Float32Array(rows * V);
          const t = new Int32Array([1, 2]), L = new Float32Array(V * n), D = new Float32Array(V * n), loss = new Float64Array(1);
          const X = new Int32Array([0, 2]), H = new Float32Array(2 * 2 * 2);
          const p = k.run([
            ['gemm', false, false, N, N, N, 1, A, 0, N, A, 0, N, 0, C, 0, N],
            ['scatterAddColumns', rows, V, n, dU, 0, n, ids, 0, dW, 0, V],
            ['gatherColumns', rows, V, n, dW, 0, V, ids, 0, dU, 0, n, false],
            ['softmaxCrossEntropy', V, n, L, 0, n, t, 0, 1, D, 0, n, loss, 0],
            ['rnnForward', 'tanh', 3, 2, 1, 2, X, 0, new Float32Array(6), 0, new Float32Array(4), 0, new Float32Array(2), 0, H, 0],
          ]);
          ids.fill(1e9); t.fill(-1e9); X.fill(2 ** 31 - 1);
          p.then(() => console.log(JSON.stringify(Array.from(dW)) + ' ' + loss[0].toFixed(4)), (e) => console.log('rejected ' + e.message));`);
        expect(r.signal, `${via}: ${crashText(r)}`).to.equal(null);
        // ids [2, 0]: column 2 gets dU[:, 0], column 0 gets dU[:, 1]; 2 columns of uniform logits over 3 classes.
        expect(r.stdout.trim(), via).to.equal(`[1,0,1,1,0,1] ${(2 * Math.log(3)).toFixed(4)}`);
      }
    });

    (hasNative ? it : it.skip)('raw addon: names with an embedded NUL are not the kernel or activation they start with', async () => {
      const raw = require(backends.nativeFile() as string) as Record<string, (...a: unknown[]) => unknown>;
      const C = new Float32Array(1);
      expect(() => raw.activationForward('tanh\0x', 1, 1, C, 0, 1, C, 0, 1)).to.throw(TypeError, /activationForward: act must be 'tanh', 'relu' or 'sigmoid'/);
      expect(() => raw.run([['fill\0', 1, 7, C, 0]])).to.throw(TypeError, /names an unknown kernel/);
      expect(C[0]).to.equal(0);
    });

    it('run() validation counts an op\'s arguments before copying them (an op of length 2^32 - 1 hung it)', async () => {
      for (const name of backends.available()) {
        const op: unknown[] = ['scale', 1, 2, new Float32Array(1), 0];
        op.length = 2 ** 32 - 1;
        const t0 = Date.now();
        let err: unknown = null;
        try {
          await backends.get(name).run([op as never]);
        } catch (e) {
          err = e;
        }
        expect(err, name).to.be.instanceOf(TypeError);
        expect((err as Error).message).to.equal('scale: expected 4 arguments, got 4294967294');
        expect(Date.now() - t0, name).to.be.lessThan(1000);
      }
    });
  });
});
