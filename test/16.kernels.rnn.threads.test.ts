// The fused recurrence splits each step into row tiles over threads when a step is large
// enough: 1 and 2 threads agree with each other and with the ts backend.
import { expect } from 'chai';
import { backends } from '../lib';

function rand(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    a[i] = (s / 2 ** 32 - 0.5) * 0.3;
  }
  return a;
}

describe('16 rnn kernels across thread counts', function () {
  // The pool size is process-wide: put back what the tests after this one expect.
  let threadsBefore = 0;
  before(function () {
    if (!backends.available().includes('native')) this.skip();
    threadsBefore = backends.get('native').getNumThreads();
  });
  after(() => {
    if (threadsBefore > 0) backends.get('native').setNumThreads(threadsBefore);
  });

  for (const [nc, nx, m, T] of [[96, 40, 32, 3], [160, 160, 48, 2]]) {
    it(`n_c=${nc}, n_x=${nx}, m=${m}, T=${T}: forward and backward agree for 1 and 2 threads and with ts`, () => {
      const native = backends.get('native');
      const ts = backends.get('ts');
      const X = rand(nx * T * m, 1), Wx = rand(nc * nx, 2), Wc = rand(nc * nc, 3), b = rand(nc, 4), dC = rand(nc * T * m, 5);
      const run = (k: typeof native, threads: number) => {
        k.setNumThreads(threads);
        const H = new Float32Array(nc * (T + 1) * m);
        k.rnnForward('tanh', nx, nc, T, m, X, 0, Wx, 0, Wc, 0, b, 0, H, 0);
        const dU = new Float32Array(nc * T * m), dWx = new Float32Array(nc * nx), dWc = new Float32Array(nc * nc);
        const db = new Float32Array(nc), dX = new Float32Array(nx * T * m), dc0 = new Float32Array(nc * m);
        k.rnnBackward('tanh', nx, nc, T, m, X, 0, H, 0, Wx, 0, Wc, 0, dC, 0, dU, 0, dWx, 0, dWc, 0, db, 0, dX, 0, dc0, 0);
        return { H, dWx, dWc, db, dX, dc0 };
      };
      const one = run(native, 1), two = run(native, 2), ref = run(ts, 1);
      expect(native.getNumThreads(), 'the pool really had 2 threads').to.equal(2);
      for (const key of Object.keys(one) as Array<keyof typeof one>) {
        let worst = 0;
        for (let i = 0; i < one[key].length; i++) {
          worst = Math.max(worst, Math.abs(one[key][i] - two[key][i]), Math.abs(one[key][i] - ref[key][i]));
        }
        expect(worst, key).to.be.below(1e-4);
      }
    });
  }
});
