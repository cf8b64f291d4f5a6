// Column gather (Wx·onehot(ids)) and its gradient, the scatter-add, with repeated ids.
import { kernelSets } from './helpers/backends';
import {
  DTYPES, Rng, SENTINEL, checkClose, checkOutsideView, extractView, randomArray,
} from './helpers/check';

for (const { name, kernels } of kernelSets()) {
  for (const dt of DTYPES) {
    describe(`13 gather/scatter [${name}, ${dt.name}]`, () => {
      const rows = 6, V = 11, n = 15;
      // Repeats (3 three times) and both ends of the vocabulary.
      const ids = Int32Array.from([-7, -7, 3, 0, 10, 3, 5, 3, 9, 1, 10, 2, 4, 8, 6, 7, 0]);
      const offIds = 2;

      for (const accumulate of [false, true]) {
        it(`gatherColumns${accumulate ? ' (accumulate)' : ''}`, () => {
          const rng = new Rng(accumulate ? 1 : 2);
          const offW = 3, ldw = V + 2, offO = 4, ldo = n + 3;
          const W = randomArray(dt, offW + rows * ldw, rng);
          const out = accumulate ? randomArray(dt, offO + rows * ldo, rng)
            : dt.make(offO + rows * ldo).fill(SENTINEL);
          const before = out.slice();
          kernels.gatherColumns(rows, V, n, W, offW, ldw, ids, offIds, out, offO, ldo, accumulate);
          const want = new Float64Array(rows * n);
          for (let i = 0; i < rows; i++) {
            for (let j = 0; j < n; j++) {
              const w = W[offW + i * ldw + ids[offIds + j]];
              want[i * n + j] = accumulate ? before[offO + i * ldo + j] + w : w;
            }
          }
          checkClose('gather', extractView(out, offO, rows, n, ldo), want, 2 * dt.eps);
          checkOutsideView('gather', out, before, offO, rows, n, ldo);
        });
      }

      it('scatterAddColumns accumulates repeated ids', () => {
        const rng = new Rng(3);
        const offU = 1, ldu = n + 1, offW = 5, ldw = V + 3;
        const dU = randomArray(dt, offU + rows * ldu, rng);
        const dW = randomArray(dt, offW + rows * ldw, rng);
        for (let k = 0; k < dW.length; k++) {
          const c = (k - offW) % ldw;
          if (k < offW || c >= V || k >= offW + rows * ldw) dW[k] = SENTINEL;
        }
        const before = dW.slice();
        kernels.scatterAddColumns(rows, V, n, dU, offU, ldu, ids, offIds, dW, offW, ldw);
        const want = extractView(before, offW, rows, V, ldw);
        for (let i = 0; i < rows; i++) {
          for (let j = 0; j < n; j++) want[i * V + ids[offIds + j]] += dU[offU + i * ldu + j];
        }
        checkClose('scatter', extractView(dW, offW, rows, V, ldw), want, 8 * dt.eps);
        checkOutsideView('scatter', dW, before, offW, rows, V, ldw);
      });
    });
  }
}
