// Activations (forward, backward, in place), bias, row sums and the vector operations,
// each against a direct computation, with everything outside the view left untouched.
import { expect } from 'chai';
import type { Activation } from '../lib/backend/types';
import { kernelSets } from './helpers/backends';
import {
  DTYPES, Rng, SENTINEL, checkClose, checkOutsideView, extractView, randomArray,
} from './helpers/check';
import { refActivation, refActivationGrad } from './helpers/reference';

const ACTS: readonly Activation[] = ['tanh', 'relu', 'sigmoid'];
const rows = 5, cols = 7;

for (const { name, kernels } of kernelSets()) {
  for (const dt of DTYPES) {
    describe(`11 elementwise [${name}, ${dt.name}]`, () => {
      const tol = 4 * dt.eps;
      for (const act of ACTS) {
        it(`activationForward ${act}, separate views with offsets and ld`, () => {
          const rng = new Rng(11);
          const U = randomArray(dt, 3 + rows * 9, rng, -4, 4);
          const C = dt.make(5 + rows * 10).fill(SENTINEL);
          const before = C.slice();
          kernels.activationForward(act, rows, cols, U, 3, 9, C, 5, 10);
          const want = Array.from(extractView(U, 3, rows, cols, 9), (u) => refActivation(act, u));
          checkClose(act, extractView(C, 5, rows, cols, 10), want, tol);
          checkOutsideView(act, C, before, 5, rows, cols, 10);
        });

        it(`activationForward ${act} in place`, () => {
          const rng = new Rng(12);
          const U = randomArray(dt, 2 + rows * 8, rng, -4, 4);
          const before = U.slice();
          kernels.activationForward(act, rows, cols, U, 2, 8, U, 2, 8);
          const want = Array.from(extractView(before, 2, rows, cols, 8), (u) => refActivation(act, u));
          checkClose(act, extractView(U, 2, rows, cols, 8), want, tol);
          checkOutsideView(act, U, before, 2, rows, cols, 8);
        });

        for (const inPlace of [false, true]) {
          it(`activationBackward ${act}${inPlace ? ' in place (dU = dC)' : ''}`, () => {
            const rng = new Rng(13);
            const dC = randomArray(dt, 1 + rows * 9, rng);
            const C = dt.make(4 + rows * 8);
            for (let k = 0; k < C.length; k++) C[k] = refActivation(act, rng.uniform(-3, 3));
            const dU = inPlace ? dC : dt.make(6 + rows * 11).fill(SENTINEL);
            const [offdU, lddU] = inPlace ? [1, 9] : [6, 11];
            const dCbefore = dC.slice();
            const dUbefore = dU.slice();
            kernels.activationBackward(act, rows, cols, dC, 1, 9, C, 4, 8, dU, offdU, lddU);
            const want = new Float64Array(rows * cols);
            for (let i = 0; i < rows; i++) {
              for (let j = 0; j < cols; j++) {
                want[i * cols + j] = dCbefore[1 + i * 9 + j] *
                  refActivationGrad(act, C[4 + i * 8 + j]);
              }
            }
            checkClose(act, extractView(dU, offdU, rows, cols, lddU), want, tol);
            checkOutsideView(act, dU, dUbefore, offdU, rows, cols, lddU);
          });
        }
      }

      it('sigmoid saturates without NaN; relu zeroes negatives', () => {
        const U = dt.make(4); U.set([-800, 800, -2, 0]);
        const C = dt.make(4);
        kernels.activationForward('sigmoid', 1, 4, U, 0, 4, C, 0, 4);
        expect(Array.from(C.subarray(0, 2))).to.deep.equal([0, 1]);
        kernels.activationForward('relu', 1, 4, U, 0, 4, C, 0, 4);
        expect(Array.from(C)).to.deep.equal([0, 800, 0, 0]);
      });

      it('addBias: X[i, j] += b[i] inside the view only', () => {
        const rng = new Rng(14);
        const b = randomArray(dt, 2 + rows, rng);
        const X = randomArray(dt, 3 + rows * 10, rng);
        const before = X.slice();
        kernels.addBias(rows, cols, b, 2, X, 3, 10);
        const want = new Float64Array(rows * cols);
        for (let i = 0; i < rows; i++) {
          for (let j = 0; j < cols; j++) want[i * cols + j] = before[3 + i * 10 + j] + b[2 + i];
        }
        checkClose('addBias', extractView(X, 3, rows, cols, 10), want, tol);
        checkOutsideView('addBias', X, before, 3, rows, cols, 10);
      });

      it('rowSum accumulates y[i] += Σ_j X[i, j]', () => {
        const rng = new Rng(15);
        const X = randomArray(dt, 1 + rows * 9, rng);
        const y = dt.make(rows + 4).fill(SENTINEL);
        for (let i = 0; i < rows; i++) y[2 + i] = 0.5 * i;
        const before = y.slice();
        kernels.rowSum(rows, cols, X, 1, 9, y, 2);
        const want = new Float64Array(rows);
        for (let i = 0; i < rows; i++) {
          want[i] = 0.5 * i;
          for (let j = 0; j < cols; j++) want[i] += X[1 + i * 9 + j];
        }
        checkClose('rowSum', y.subarray(2, 2 + rows), want, 4 * cols * dt.eps);
        checkOutsideView('rowSum', y, before, 2, 1, rows, rows);
      });

      const n = 37;
      const flat = (label: string, run: (x: ReturnType<typeof dt.make>,
        y: ReturnType<typeof dt.make>) => void, want: (x: number, y: number) => number) => {
        it(label, () => {
          const rng = new Rng(label.length);
          const x = randomArray(dt, n + 6, rng, -2, 2);
          const y = randomArray(dt, n + 6, rng, -2, 2);
          const xb = x.slice(), yb = y.slice();
          run(x, y);
          const w = new Float64Array(n);
          for (let k = 0; k < n; k++) w[k] = want(xb[3 + k], yb[2 + k]);
          checkClose(label, y.subarray(2, 2 + n), w, tol);
          checkOutsideView(label, y, yb, 2, 1, n, n);
        });
      };
      flat('axpy y += alpha·x', (x, y) => kernels.axpy(n, -1.5, x, 3, y, 2), (x, y) => y - 1.5 * x);
      flat('scale y *= alpha', (_x, y) => kernels.scale(n, 0.25, y, 2), (_x, y) => 0.25 * y);
      flat('mulInPlace y ⊙= x', (x, y) => kernels.mulInPlace(n, x, 3, y, 2), (x, y) => y * x);
      flat('fill y = value', (_x, y) => kernels.fill(n, -3.5, y, 2), () => -3.5);
      flat('copy y = x', (x, y) => kernels.copy(n, x, 3, y, 2), (x) => x);
      flat('clipByValue', (_x, y) => kernels.clipByValue(n, 0.75, y, 2),
        (_x, y) => Math.min(Math.max(y, -0.75), 0.75));

      it('copy of a long range (the bulk path) and of length 0', () => {
        const rng = new Rng(16);
        const x = randomArray(dt, 1000, rng);
        const y = dt.make(1010).fill(SENTINEL);
        const before = y.slice();
        kernels.copy(990, x, 5, y, 7);
        checkClose('copy', y.subarray(7, 997), x.subarray(5, 995), 0);
        checkOutsideView('copy', y, before, 7, 1, 990, 990);
        const z = y.slice();
        kernels.copy(0, x, 0, y, 0);
        expect(Array.from(y)).to.deep.equal(Array.from(z));
      });

      it('sumSquares adds Σ x² into out[off] and returns it', () => {
        const rng = new Rng(17);
        const x = randomArray(dt, n + 4, rng);
        const out = new Float64Array(3).fill(SENTINEL);
        out[1] = 2;
        let want = 0;
        for (let k = 0; k < n; k++) want += x[4 + k] * x[4 + k];
        const got = kernels.sumSquares(n, x, 4, out, 1);
        checkClose('returned', [got], [want], 4 * n * 2 ** -52);
        checkClose('out', [out[1]], [2 + want], 4 * n * 2 ** -52);
        expect([out[0], out[2]]).to.deep.equal([SENTINEL, SENTINEL]);
      });
    });
  }
}
