// gemm against the naive triple loop, over shapes, transposes, alpha/beta, offsets and
// leading dimensions; elements of C outside the view must keep their sentinels.
import { expect } from 'chai';
import { kernelSets } from './helpers/backends';
import {
  DTYPES, Rng, SENTINEL, checkClose, checkOutsideView, extractView, randomArray,
} from './helpers/check';
import { refGemm, view } from './helpers/reference';

// [M, N, K]: 1×1×1, a row, a column, primes, K = 0, beyond the block sizes (K > 256, N > 1024)
const SHAPES: ReadonlyArray<[number, number, number]> = [
  [1, 1, 1], [1, 37, 5], [37, 1, 5], [2, 9, 40], [17, 31, 13], [257, 129, 65], [6, 5, 0],
  [3, 1030, 260],
];
const SCALARS: ReadonlyArray<[number, number]> = [[1, 0], [1, 1], [0.5, -1.5], [0, 2]];

for (const { name, kernels } of kernelSets()) {
  for (const dt of DTYPES) {
    describe(`10 gemm [${name}, ${dt.name}]`, () => {
      for (const [M, N, K] of SHAPES) {
        for (const transA of [false, true]) {
          for (const transB of [false, true]) {
            const scalars = M * N * K > 100000 ? SCALARS.slice(0, 3) : SCALARS;
            for (const [alpha, beta] of scalars) {
              const tag = `${transA ? 'T' : 'N'}${transB ? 'T' : 'N'} ${M}×${N}×${K} ` +
                `alpha=${alpha} beta=${beta}`;
              it(tag, () => {
                const rng = new Rng(M * 7919 + N * 104729 + K * 31 + (transA ? 1 : 0) +
                  (transB ? 2 : 0));
                // Stored shapes, with leading dimensions wider than the rows and offsets.
                const [ar, ac] = transA ? [K, M] : [M, K];
                const [br, bc] = transB ? [N, K] : [K, N];
                const lda = ac + 3, ldb = bc + 2, ldc = N + 5;
                const offA = 7, offB = 4, offC = 11;
                const A = randomArray(dt, offA + ar * lda + 3, rng);
                const B = randomArray(dt, offB + br * ldb + 2, rng);
                // alpha = 0 must not read A or B: make them poison.
                if (alpha === 0) { A.fill(NaN); B.fill(NaN); }
                const C = dt.make(offC + M * ldc + 6).fill(SENTINEL);
                for (let i = 0; i < M; i++) {
                  for (let j = 0; j < N; j++) {
                    // beta = 0 must not read C: put NaN in the view.
                    C[offC + i * ldc + j] = beta === 0 ? NaN : rng.uniform(-1, 1);
                  }
                }
                const before = C.slice();
                const want = refGemm(transA, transB, M, N, K, alpha, view(A, offA, lda),
                  view(B, offB, ldb), beta, view(C, offC, ldc));
                kernels.gemm(transA, transB, M, N, K, alpha, A, offA, lda, B, offB, ldb,
                  beta, C, offC, ldc);
                const got = extractView(C, offC, M, N, ldc);
                // Rounding grows with the depth K; values are O(√K) in size.
                checkClose(tag, got, want, 4 * (K + 4) * dt.eps);
                checkOutsideView(tag, C, before, offC, M, N, ldc);
                expect(got.some(Number.isNaN), 'NaN in C').to.equal(false);
              });
            }
          }
        }
      }

      it('M = 0 or N = 0 touches nothing', () => {
        const C = dt.make(8).fill(SENTINEL);
        const A = dt.make(8).fill(1);
        kernels.gemm(false, false, 0, 2, 2, 1, A, 0, 2, A, 0, 2, 0, C, 0, 2);
        kernels.gemm(true, true, 2, 0, 2, 1, A, 0, 2, A, 0, 2, 0, C, 0, 2);
        expect(Array.from(C)).to.deep.equal(new Array(8).fill(SENTINEL));
      });

      it('computes a known 2×3·3×2 product exactly', () => {
        const A = dt.make(6); A.set([1, 2, 3, 4, 5, 6]);
        const B = dt.make(6); B.set([7, 8, 9, 10, 11, 12]);
        const C = dt.make(4);
        kernels.gemm(false, false, 2, 2, 3, 1, A, 0, 3, B, 0, 2, 0, C, 0, 2);
        expect(Array.from(C)).to.deep.equal([58, 64, 139, 154]);
      });
    });
  }
}
