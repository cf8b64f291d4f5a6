// Empty views are no-ops on every kernel set, even when the other dimension is huge: nothing
// is touched, nothing throws, and no backend loops over the non-empty side.
import { expect } from 'chai';
import { kernelSets } from './helpers/backends';

const BIG = 2 ** 31 - 1;

describe('18 empty views', () => {
  for (const { name, kernels: k } of kernelSets()) {
    it(`[${name}] return at once with a huge other dimension and leave buffers alone`, function () {
      // A loop over 2^31 − 1 rows would take tens of seconds: the timeout is the assertion.
      this.timeout(10000);
      const e = new Float32Array(0);
      const y = new Float32Array([1, 2, 3]);
      k.activationForward('tanh', BIG, 0, e, 0, 1, e, 0, 1);
      k.activationBackward('tanh', 0, BIG, e, 0, BIG, e, 0, BIG, e, 0, BIG);
      k.addBias(0, BIG, e, 0, e, 0, BIG);
      k.rowSum(0, BIG, e, 0, BIG, y, 3);
      k.copyMatrix(3, 0, e, 99, 1, y, 99, 1);
      const ids = new Int32Array([0, 1, 2]);
      k.gatherColumns(0, 5, 3, e, 0, 5, ids, 0, e, 0, 3, false);
      k.scatterAddColumns(0, 5, 3, e, 0, 3, ids, 0, e, 0, 5);
      k.gemm(false, false, BIG, 0, 0, 1, e, 0, 1, e, 0, 1, 0, e, 0, 1);
      expect(Array.from(y)).to.deep.equal([1, 2, 3]);
    });
  }
});
