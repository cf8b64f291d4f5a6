// copyMatrix: Y = X over a view with leading dimensions wider than the width, on every kernel
// set and dtype; nothing outside Y's view changes.
import { expect } from 'chai';
import { kernelSets } from './helpers/backends';

describe('17 copyMatrix', () => {
  for (const { name, kernels } of kernelSets()) {
    for (const F of [Float32Array, Float64Array]) {
      it(`[${name}, ${F.name}] copies a view and leaves the rest untouched`, () => {
        for (const [rows, cols] of [[1, 1], [3, 7], [17, 5], [0, 4], [4, 0]]) {
          const ldx = cols + 3, ldy = cols + 5, offX = 2, offY = 1;
          const X = new F(offX + rows * ldx + 1);
          for (let k = 0; k < X.length; k++) X[k] = k + 0.5;
          const Y = new F(offY + rows * ldy + 2).fill(-7);
          const before = Y.slice();
          kernels.copyMatrix(rows, cols, X, offX, ldx, Y, offY, ldy);
          for (let k = 0; k < Y.length; k++) {
            const r = Math.floor((k - offY) / ldy), c = (k - offY) % ldy;
            const inView = k >= offY && r < rows && c < cols;
            expect(Y[k], `index ${k}`).to.equal(inView ? X[offX + r * ldx + c] : before[k]);
          }
        }
      });
    }
  }
});
