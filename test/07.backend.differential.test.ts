// The TypeScript checks and the raw addon's C++ checks judge the same random calls (valid ones
// and mutations of them, from test/fuzz/native-fuzz.ts): the same verdict every time —
// accepted, or the same TypeError / RangeError word for word. Both read the one declaration
// table (native/kernels.json); this is what keeps them from drifting apart, and what lets the
// native backend hand its calls straight to the addon (its C++ checks are the only ones).
// In a child process, so a crash of the raw addon fails the test with its signal.
// `npm run fuzz -- --target diff --iterations N` runs a long one.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { expect } from 'chai';
import { backends } from '../lib';
import { KERNEL_NAMES } from '../lib/backend/validate';
import type { DifferentialReport } from './fuzz/native-fuzz';

const ITERATIONS = 6000;
const hasNative = backends.available().includes('native');
const FUZZ_MODULE = path.join(__dirname, 'fuzz', 'native-fuzz.js');

function differentialInChild(seed: number, iterations: number): DifferentialReport {
  const code = `const { runDifferential } = require(${JSON.stringify(FUZZ_MODULE)});
    process.stdout.write('\\n' + JSON.stringify(runDifferential({ seed: ${seed}, iterations: ${iterations} })) + '\\n');`;
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', timeout: 120000 });
  expect(r.signal, r.stderr.slice(-2000)).to.equal(null);
  expect(r.status, r.stderr.slice(-2000)).to.equal(0);
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as DifferentialReport;
}

describe('07 TypeScript and C++ checks agree', function () {
  this.timeout(120000);

  (hasNative ? it : it.skip)(`${ITERATIONS} random valid and invalid calls: the same verdict, the same message`, () => {
    const r = differentialInChild(20261201, ITERATIONS);
    console.log(`      ${r.calls} calls: ${r.accepted} accepted by both, rejected ${JSON.stringify(r.rejected)}, ${r.mismatchCount} disagreements`);
    expect(r.mismatches, JSON.stringify(r.mismatches.slice(0, 3), null, 1)).to.deep.equal([]);
    expect(r.mismatchCount).to.equal(0);
    // Every kernel was judged, and both verdicts occur often (the mutations reach deep checks).
    for (const name of KERNEL_NAMES) expect(r.byKernel[name] ?? 0, name).to.be.greaterThan(20);
    expect(r.accepted).to.be.greaterThan(r.calls / 10);
    expect(r.rejected.TypeError ?? 0).to.be.greaterThan(r.calls / 10);
    expect(r.rejected.RangeError ?? 0).to.be.greaterThan(r.calls / 10);
  });

  (hasNative ? it : it.skip)('numbers in messages: the addon writes every double as JavaScript\'s String does', () => {
    const raw = require(backends.nativeFile() as string) as Record<string, (...a: unknown[]) => unknown>;
    const ts = backends.get('ts') as unknown as Record<string, (...a: unknown[]) => unknown>;
    const messageOf = (k: Record<string, (...a: unknown[]) => unknown>, v: number): string => {
      try {
        k.scale(v, 1, new Float32Array(1), 0);
      } catch (e) {
        return (e as Error).message;
      }
      return 'accepted';
    };
    const values = [-0, 0.5, -1.5, 1e21, 1e-7, 1.5e-7, 123456789012345680000, 2 ** 53 + 2, 2 ** 31, 5e-324, -1.7976931348623157e308,
      0.1, 1 / 3, 2 / 3, 1e-6, 9.999999999999999e20, 1e300, 4.35, 0.000001234, -2147483648.5, NaN, Infinity, -Infinity];
    let seed = 12345;
    const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (let i = 0; i < 3000; i++) {
      const mag = Math.floor(next() * 80) - 40;
      values.push((next() - 0.5) * 10 ** mag, -Math.floor(next() * 2 ** 53) / 10 ** Math.floor(next() * 25));
    }
    let compared = 0;
    for (const v of values) {
      const want = messageOf(ts, v);
      if (want === 'accepted') continue;
      expect(messageOf(raw, v), String(v)).to.equal(want);
      compared++;
    }
    expect(compared).to.be.greaterThan(5000);
  });

  (hasNative ? it : it.skip)('the comparison can fail: a loosened declaration accepts a call the addon table refuses', () => {
    // A declaration whose TS side differs from the addon's table (lr allowed down to -1): the
    // differential check must see the raw addon refuse what the TS checks accept.
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { makeValidator } = require('../lib/backend/decl/check') as typeof import('../lib/backend/decl/check');
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { resolveKernel } = require('../lib/backend/decl/table') as typeof import('../lib/backend/decl/table');
    const raw = require(backends.nativeFile() as string) as Record<string, (...a: unknown[]) => unknown>;
    const file = require('../../native/kernels.json') as { kernels: Array<{ name: string; checks?: Array<Record<string, unknown>> }> };
    const adam = JSON.parse(JSON.stringify(file.kernels.find((k) => k.name === 'adamUpdate')));
    adam.checks[0].atLeast = -1;
    const lax = makeValidator(resolveKernel(adam));
    const f = (n: number) => new Float32Array(n);
    const args = [2, f(2), 0, f(2), 0, f(2), 0, f(2), 0, -0.5, 0.9, 0.999, 1e-8, 0, false, 1];
    expect(() => lax(args)).not.to.throw();
    expect(() => raw.adamUpdate(...args)).to.throw(RangeError, /adamUpdate: lr must be >= 0, got -0.5/);
  });
});
