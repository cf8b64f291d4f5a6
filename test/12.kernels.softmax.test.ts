// Softmax + cross-entropy against the per-column log-sum-exp reference: ignored targets,
// huge logits, in place, the loss slot accumulating, nothing written outside the view.
import { expect } from 'chai';
import { kernelSets } from './helpers/backends';
import {
  DTYPES, Rng, SENTINEL, checkClose, checkOutsideView, extractView, randomArray,
} from './helpers/check';
import { refSoftmaxCE, view } from './helpers/reference';

for (const { name, kernels } of kernelSets()) {
  for (const dt of DTYPES) {
    describe(`12 softmaxCrossEntropy [${name}, ${dt.name}]`, () => {
      const V = 13, N = 9;
      const cases: ReadonlyArray<{ label: string; spread: number; inPlace: boolean }> = [
        { label: 'random logits', spread: 3, inPlace: false },
        { label: 'random logits, in place', spread: 3, inPlace: true },
        { label: 'logits ±1e4 stay finite', spread: 1e4, inPlace: false },
        { label: 'logits ±1e4 in place', spread: 1e4, inPlace: true },
      ];
      for (const { label, spread, inPlace } of cases) {
        it(label, () => {
          const rng = new Rng(spread + (inPlace ? 1 : 0));
          const offL = 3, ldl = N + 4, offD = 2, ldd = N + 2;
          const logits = randomArray(dt, offL + V * ldl, rng, -spread, spread);
          const targets = new Int32Array(N + 2).fill(99); // offT = 2; outside entries unused
          for (let j = 0; j < N; j++) targets[2 + j] = j % 4 === 1 ? -1 : rng.int(V);
          const want = refSoftmaxCE(V, N, view(logits, offL, ldl), targets.subarray(2), 0.5);
          const dL = inPlace ? logits : dt.make(offD + V * ldd).fill(SENTINEL);
          const [o, ld] = inPlace ? [offL, ldl] : [offD, ldd];
          const before = dL.slice();
          const loss = new Float64Array(2);
          loss[1] = 10;
          const got = kernels.softmaxCrossEntropy(V, N, logits, offL, ldl, targets, 2, 0.5,
            dL, o, ld, loss, 1);
          expect(Number.isFinite(got), 'finite loss').to.equal(true);
          // The loss is O(spread); the float32 logits are exact inputs to the reference.
          checkClose(`${label} loss`, [got], [want.loss], 16 * dt.eps * (1 + spread / 100));
          checkClose(`${label} loss slot`, [loss[1]], [10 + want.loss], 16 * dt.eps * (1 + spread / 100));
          expect(loss[0]).to.equal(0);
          const grad = extractView(dL, o, V, N, ld);
          expect(grad.every(Number.isFinite), 'finite gradient').to.equal(true);
          checkClose(`${label} dLogits`, grad, want.grad, 8 * dt.eps);
          checkOutsideView(label, dL, before, o, V, N, ld);
          for (let j = 0; j < N; j++) {
            if (targets[2 + j] !== -1) continue;
            for (let i = 0; i < V; i++) expect(grad[i * N + j], 'ignored column').to.equal(0);
          }
        });
      }

      it('uniform logits give log V per column and p − onehot', () => {
        const logits = dt.make(3 * 2).fill(0.25);
        const targets = Int32Array.from([2, 0]);
        const loss = new Float64Array(1);
        const dL = dt.make(6);
        const got = kernels.softmaxCrossEntropy(3, 2, logits, 0, 2, targets, 0, 1, dL, 0, 2, loss, 0);
        checkClose('loss', [got], [2 * Math.log(3)], 8 * dt.eps);
        // rows are classes: column 0 has target 2, column 1 target 0
        const t = 1 / 3;
        checkClose('grad', dL, [t, t - 1, t, t, t - 1, t], 8 * dt.eps);
      });

      it('all targets −1: zero loss and zero gradient', () => {
        const rng = new Rng(5);
        const logits = randomArray(dt, 12, rng);
        const dL = dt.make(12).fill(SENTINEL);
        const loss = new Float64Array(1);
        const got = kernels.softmaxCrossEntropy(4, 3, logits, 0, 3, new Int32Array(3).fill(-1), 0,
          1, dL, 0, 3, loss, 0);
        expect(got).to.equal(0);
        expect(loss[0]).to.equal(0);
        expect(Array.from(dL)).to.deep.equal(new Array(12).fill(0));
      });
    });
  }
}
