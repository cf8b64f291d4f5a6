// RNNCell over T steps: forwardSequence / backwardSequence (docs/ARCHITECTURE.md §2: one product over all
// T·m columns, only the recurrence sequential), checked against
//   1. central finite differences in float64 for every parameter, c0 and input element;
//   2. the single-step API chained over T steps (forward, then backward in reverse);
//   3. the other backend (native vs ts, and every native CPU path), both dtypes;
//   4. itself in float64 (float32 to float32 accuracy);
// and its argument checks (TypeError / RangeError naming the argument).
import { expect } from 'chai';
import { backends, RNNCell, type Matrix, type Sequence, type TokenSequence } from '../lib';
import type { Activation, Backend, BackendName, DType, FloatArray } from '../lib/backend/types';
import { kernelSets } from './helpers/backends';
import { checkClose, Rng } from './helpers/check';
import {
  ErrorSummary, FD_TOL, fdCheck, fill, largestScaledDiff, linearLoss, type Loss, printAfter, randomVec, relErr, reluPattern, squareLoss,
} from './helpers/gradcheck';

const BACKENDS: BackendName[] = backends.available();
const ACTS: Activation[] = ['tanh', 'relu', 'sigmoid'];
const FD_SHAPES = [
  { nx: 3, nc: 4, T: 1, m: 2 }, // T = 1
  { nx: 5, nc: 3, T: 4, m: 1 }, // m = 1, n_x > n_c
  { nx: 4, nc: 4, T: 5, m: 3 }, // T = 5
  { nx: 2, nc: 5, T: 5, m: 2 }, // n_x < n_c
];

interface Shape { nx: number; nc: number; T: number; m: number }
const label = (s: Shape) => `(n_x, n_c, T, m) = (${s.nx}, ${s.nc}, ${s.T}, ${s.m})`;

/**
 * A cell with random parameters, scaled so the recurrence contracts (spectral radius of Wc
 * ≈ 1.5/√n_c·√(n_c/3) ≈ 0.87): with ±0.8 at n_c = 32 tanh runs chaotic and relu explodes
 * (C up to 6e2 by T = 10), and then any rounding difference is amplified by the problem
 * itself, which says nothing about the implementation.
 */
function makeCell(backend: BackendName | Backend, act: Activation, s: Shape, dtype: DType, rng: Rng): RNNCell {
  const cell = new RNNCell({ inputSize: s.nx, hiddenSize: s.nc, activation: act, dtype, backend, seed: 3 });
  fill(cell.params.Wx.data, rng, -1.2 / Math.sqrt(s.nx), 1.2 / Math.sqrt(s.nx));
  fill(cell.params.Wc.data, rng, -1.5 / Math.sqrt(s.nc), 1.5 / Math.sqrt(s.nc));
  fill(cell.params.b.data, rng, -0.5, 0.5);
  return cell;
}

function alloc(dtype: DType, n: number): FloatArray {
  return dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
}

function seqOf(rows: number, T: number, m: number, data: FloatArray): Sequence {
  return { rows, steps: T, batch: m, data };
}

/** Token ids with at least one repeat (when there are ≥ 2), so a Wx column gets a summed gradient. */
function randomIds(n: number, vocab: number, rng: Rng): Int32Array {
  const ids = new Int32Array(n);
  for (let k = 0; k < n; k++) ids[k] = rng.int(vocab);
  if (n >= 2) ids[n - 1] = ids[0];
  return ids;
}

const fdSummary = new ErrorSummary('30.cell.sequence: largest FD relative error |a−b|/max(|a|,|b|,1e-6); FD = central at h = 1e-3 and 5e-4, Richardson-extrapolated');
const agreeSummary = new ErrorSummary('30.cell.sequence: largest scaled difference |a−b|/(1+|b|) (chain, backends), or relative (float32 vs float64)');

describe('30 RNNCell sequence', function () {
  printAfter(fdSummary, agreeSummary);

  describe('finite differences (float64, central, J over all steps, every parameter, c0 and input element)', () => {
    for (const be of BACKENDS) {
      for (const s of FD_SHAPES) {
        for (const act of ACTS) {
          for (const kind of ['dense', 'ids'] as const) {
            if (kind === 'ids' && act !== 'tanh') continue;
            it(`${be}: ${kind}, ${label(s)}, ${act}, J = Σ R⊙C and Σ R⊙C²`, () => {
              const { nx, nc, T, m } = s;
              const rng = new Rng(31 * nx + 17 * nc + 7 * T + m + 100 * ACTS.indexOf(act));
              const cell = makeCell(be, act, s, 'float64', rng);
              const X: Sequence | TokenSequence = kind === 'dense'
                ? seqOf(nx, T, m, randomVec(nx * T * m, rng))
                : { ids: randomIds(T * m, nx, rng), steps: T, batch: m };
              const c0: Matrix = { rows: nc, cols: m, data: randomVec(nc * m, rng, -0.9, 0.9) };
              const R = randomVec(nc * T * m, rng);
              const run = () => cell.forwardSequence(X, c0).C.data;
              const pattern = act === 'relu' ? reluPattern : undefined;
              for (const loss of [linearLoss(R), squareLoss(R)] as Loss[]) {
                const { C, cache } = cell.forwardSequence(X, c0);
                expect([C.rows, C.steps, C.batch]).to.deep.equal([nc, T, m]);
                const g = cell.backwardSequence(seqOf(nc, T, m, loss.grad(C.data)), cache);
                const checks = [
                  fdCheck('dWx', cell.params.Wx.data, g.dWx.data, run, loss, pattern),
                  fdCheck('dWc', cell.params.Wc.data, g.dWc.data, run, loss, pattern),
                  fdCheck('db', cell.params.b.data, g.db.data, run, loss, pattern),
                  fdCheck('dc0', c0.data, g.dc0.data, run, loss, pattern),
                ];
                if (kind === 'dense') {
                  expect(g.dX).to.not.equal(null);
                  expect([g.dX!.rows, g.dX!.steps, g.dX!.batch]).to.deep.equal([nx, T, m]);
                  checks.push(fdCheck('dX', (X as Sequence).data, g.dX!.data, run, loss, pattern));
                } else {
                  expect(g.dX, 'dX of token ids').to.equal(null);
                }
                let skipped = 0;
                for (const r of checks) {
                  fdSummary.record(`${kind} ${act}`, be, r.maxErr);
                  fdSummary.record('all sequence FD', be, r.maxErr);
                  fdSummary.record('all sequence FD, plain central h = 1e-5 (info, not asserted)', be, r.plainMaxErr);
                  expect(r.maxErr, `${loss.name}: ${r.where}`).to.be.at.most(FD_TOL);
                  skipped += r.skipped;
                }
                if (act === 'relu') fdSummary.add('relu: elements skipped at a kink (count)', be, skipped);
                  expect(skipped, 'elements skipped at a relu kink').to.be.at.most(3);
              }
            });
          }
        }
      }
    }
  });

  describe('the single-step API chained over T steps equals the sequence API (float64)', () => {
    const shapes = [...FD_SHAPES, { nx: 7, nc: 6, T: 9, m: 4 }];
    for (const be of BACKENDS) {
      for (const s of shapes) {
        for (const kind of ['dense', 'ids'] as const) {
          it(`${be}: ${kind}, ${label(s)}, tanh/relu/sigmoid: C and every gradient to 1e-12`, () => {
            for (const act of ACTS) {
              const { nx, nc, T, m } = s;
              const rng = new Rng(5 + nx * nc * T * m + ACTS.indexOf(act));
              const cell = makeCell(be, act, s, 'float64', rng);
              const Xd = randomVec(nx * T * m, rng);
              const ids = randomIds(T * m, nx, rng);
              const c0: Matrix = { rows: nc, cols: m, data: randomVec(nc * m, rng, -0.9, 0.9) };
              const dC = randomVec(nc * T * m, rng);

              const seq = cell.forwardSequence(kind === 'dense' ? seqOf(nx, T, m, Xd) : { ids, steps: T, batch: m }, c0);
              const gs = cell.backwardSequence(seqOf(nc, T, m, Float64Array.from(dC)), seq.cache);

              // step t's block of a rows × (T·m) array, as its own rows × m matrix
              const block = (a: ArrayLike<number>, rows: number, t: number) => {
                const out = new Float64Array(rows * m);
                for (let i = 0; i < rows; i++) for (let j = 0; j < m; j++) out[i * m + j] = a[i * T * m + t * m + j];
                return out;
              };
              const C = new Float64Array(nc * T * m);
              const caches = [];
              let c: Matrix = c0;
              for (let t = 0; t < T; t++) {
                const x = kind === 'dense' ? { rows: nx, cols: m, data: block(Xd, nx, t) } : ids.slice(t * m, (t + 1) * m);
                const r = cell.forward(x, c);
                caches.push(r.cache);
                for (let i = 0; i < nc; i++) for (let j = 0; j < m; j++) C[i * T * m + t * m + j] = r.c.data[i * m + j];
                c = r.c;
              }
              const dWx = new Float64Array(nc * nx), dWc = new Float64Array(nc * nc), db = new Float64Array(nc);
              const dX = new Float64Array(nx * T * m);
              let dcNext = new Float64Array(nc * m);
              for (let t = T - 1; t >= 0; t--) {
                const dct = block(dC, nc, t);
                for (let k = 0; k < dct.length; k++) dct[k] += dcNext[k];
                const g = cell.backward({ rows: nc, cols: m, data: dct }, caches[t]);
                for (let k = 0; k < dWx.length; k++) dWx[k] += g.dWx.data[k];
                for (let k = 0; k < dWc.length; k++) dWc[k] += g.dWc.data[k];
                for (let k = 0; k < db.length; k++) db[k] += g.db.data[k];
                if (kind === 'dense') {
                  for (let i = 0; i < nx; i++) for (let j = 0; j < m; j++) dX[i * T * m + t * m + j] = g.dx!.data[i * m + j];
                } else {
                  expect(g.dx).to.equal(null);
                }
                dcNext = Float64Array.from(g.dcPrev.data);
              }
              const pairs: Array<[string, ArrayLike<number>, ArrayLike<number>]> = [
                ['C', seq.C.data, C], ['dWx', gs.dWx.data, dWx], ['dWc', gs.dWc.data, dWc], ['db', gs.db.data, db],
                ['dc0', gs.dc0.data, dcNext],
              ];
              if (kind === 'dense') pairs.push(['dX', gs.dX!.data, dX]);
              for (const [name, got, want] of pairs) {
                checkClose(`${act} ${name}`, got, want, 1e-12);
                agreeSummary.record('step chain vs sequence (f64)', be, largestScaledDiff(got, want));
              }
            }
          });
        }
      }
    }
  });

  describe('native equals ts (every native CPU path; both dtypes)', () => {
    // Larger and odd shapes too, so the blocked / SIMD gemm paths and their tails run.
    const shapes = [...FD_SHAPES, { nx: 7, nc: 9, T: 6, m: 5 }, { nx: 33, nc: 17, T: 8, m: 3 }, { nx: 16, nc: 32, T: 10, m: 8 }];
    const natives = kernelSets().filter((k) => k.name !== 'ts');
    if (natives.length === 0) {
      it('needs the native backend');
      return;
    }
    for (const dtype of ['float64', 'float32'] as DType[]) {
      for (const ks of natives) {
        it(`${ks.name} vs ts, ${dtype}: forward C and every gradient, dense and ids, tanh/relu/sigmoid, ${shapes.length} shapes`, () => {
          const nat = { ...ks.kernels, name: 'native' } as unknown as Backend;
          for (const s of shapes) {
            const { nx, nc, T, m } = s;
            // The two differ only in summation order and FMA use. A dot product of K terms
            // then differs by up to ~K·ε relative; per step the products have n_x + n_c terms,
            // the weight gradients sum T·m more, and a contracting recurrence does not amplify
            // the difference: tol = 2·ε·(n_x + n_c + T·m) in the scaled measure of checkClose
            // (float32: 2.2e-5 at (16, 32, 10, 8)); float64 keeps the plain 1e-12.
            const eps = dtype === 'float64' ? 2 ** -52 : 2 ** -23;
            const tol = dtype === 'float64' ? 1e-12 : 2 * eps * (nx + nc + T * m);
            for (const act of ACTS) {
              for (const kind of ['dense', 'ids'] as const) {
                const rng = new Rng(11 + nx + nc + T + m + ACTS.indexOf(act));
                const a = makeCell(nat, act, s, dtype, rng);
                const b = new RNNCell({ inputSize: nx, hiddenSize: nc, activation: act, dtype, backend: 'ts' });
                b.params.Wx.data.set(a.params.Wx.data);
                b.params.Wc.data.set(a.params.Wc.data);
                b.params.b.data.set(a.params.b.data);
                const X: Sequence | TokenSequence = kind === 'dense'
                  ? seqOf(nx, T, m, alloc(dtype, nx * T * m).map(() => rng.uniform(-1, 1)))
                  : { ids: randomIds(T * m, nx, rng), steps: T, batch: m };
                const c0: Matrix = { rows: nc, cols: m, data: alloc(dtype, nc * m).map(() => rng.uniform(-0.9, 0.9)) };
                const dC = seqOf(nc, T, m, alloc(dtype, nc * T * m).map(() => rng.uniform(-1, 1)));
                const fa = a.forwardSequence(X, c0), fb = b.forwardSequence(X, c0);
                const ga = a.backwardSequence(dC, fa.cache), gb = b.backwardSequence(dC, fb.cache);
                const pairs: Array<[string, FloatArray, FloatArray]> = [
                  ['C', fa.C.data, fb.C.data], ['dWx', ga.dWx.data, gb.dWx.data], ['dWc', ga.dWc.data, gb.dWc.data],
                  ['db', ga.db.data, gb.db.data], ['dc0', ga.dc0.data, gb.dc0.data],
                ];
                if (kind === 'dense') pairs.push(['dX', ga.dX!.data, gb.dX!.data]);
                for (const [name, got, want] of pairs) {
                  expect(got.constructor, name).to.equal(want.constructor);
                  checkClose(`${label(s)} ${act} ${kind} ${name}`, got, want, tol);
                  const d = largestScaledDiff(got, want);
                  agreeSummary.record(`native vs ts ${dtype}`, ks.name, d);
                  agreeSummary.record(`native vs ts ${dtype} / tol`, ks.name, d / tol);
                }
              }
            }
          }
        });
      }
    }
  });

  describe('float32 agrees with float64 to float32 accuracy', () => {
    const shapes = [{ nx: 5, nc: 3, T: 4, m: 1 }, { nx: 8, nc: 16, T: 10, m: 4 }, { nx: 20, nc: 12, T: 6, m: 3 }];
    for (const be of BACKENDS) {
      it(`${be}: same seed → the same weights up to rounding; C and every gradient within 1e-4 relative`, () => {
        for (const s of shapes) {
          const { nx, nc, T, m } = s;
          for (const act of ACTS) {
            for (const kind of ['dense', 'ids'] as const) {
              const opts = { inputSize: nx, hiddenSize: nc, activation: act, backend: be, seed: 12345 };
              const c64 = new RNNCell({ ...opts, dtype: 'float64' });
              const c32 = new RNNCell({ ...opts, dtype: 'float32' });
              for (const p of ['Wx', 'Wc', 'b'] as const) {
                const w64 = c64.params[p].data, w32 = c32.params[p].data;
                for (let i = 0; i < w64.length; i++) expect(w32[i], `${p}[${i}]`).to.equal(Math.fround(w64[i]));
              }
              const rng = new Rng(2024 + nx + ACTS.indexOf(act));
              const xs = randomVec(nx * T * m, rng), ids = randomIds(T * m, nx, rng);
              const c0 = randomVec(nc * m, rng, -0.9, 0.9), dC = randomVec(nc * T * m, rng);
              const run = (cell: RNNCell, dt: DType) => {
                const conv = (a: Float64Array) => (dt === 'float32' ? Float32Array.from(a) : Float64Array.from(a));
                const X = kind === 'dense' ? seqOf(nx, T, m, conv(xs)) : { ids, steps: T, batch: m };
                const f = cell.forwardSequence(X, { rows: nc, cols: m, data: conv(c0) });
                const g = cell.backwardSequence(seqOf(nc, T, m, conv(dC)), f.cache);
                return { C: f.C.data, dWx: g.dWx.data, dWc: g.dWc.data, db: g.db.data, dc0: g.dc0.data, dX: g.dX?.data };
              };
              const r64 = run(c64, 'float64'), r32 = run(c32, 'float32');
              for (const name of ['C', 'dWx', 'dWc', 'db', 'dc0', 'dX'] as const) {
                const a = r32[name], b = r64[name];
                if (b === undefined || a === undefined) {
                  expect(a, name).to.equal(b);
                  continue;
                }
                expect(a).to.be.instanceOf(Float32Array);
                // Relative error with a floor of 1e-2·max|b|: an entry that cancels to far below
                // the array's scale carries float32 rounding of that scale, not of itself.
                let scale = 0;
                for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
                let worst = 0, at = 0;
                for (let i = 0; i < b.length; i++) {
                  const e = relErr(a[i], b[i], 1e-2 * scale);
                  if (e > worst) { worst = e; at = i; }
                }
                agreeSummary.record('float32 vs float64', be, worst);
                expect(worst, `${label(s)} ${act} ${kind} ${name}[${at}]: f32 ${a[at]}, f64 ${b[at]}`).to.be.at.most(1e-4);
              }
            }
          }
        }
      });
    }
  });

  describe('argument errors name the argument', () => {
    for (const be of BACKENDS) {
      it(`${be}: wrong shapes, dtypes, caches and token ids throw TypeError / RangeError naming the argument`, () => {
        const nx = 3, nc = 4, m = 2, T = 3;
        const cell = new RNNCell({ inputSize: nx, hiddenSize: nc, backend: be, seed: 1 });
        const f64 = (n: number) => new Float64Array(n);
        const mat = (rows: number, cols: number, data: FloatArray = f64(rows * cols)): Matrix => ({ rows, cols, data });
        const x = mat(nx, m), cPrev = mat(nc, m), dc = mat(nc, m);
        const X = seqOf(nx, T, m, f64(nx * T * m));
        const dC = seqOf(nc, T, m, f64(nc * T * m));
        const step = cell.forward(x, cPrev), seq = cell.forwardSequence(X);
        // caches of other cells: other n_c, other n_x (same n_c), float32, token ids of a larger vocabulary
        const other = (o: Partial<{ inputSize: number; hiddenSize: number; dtype: DType }>) =>
          new RNNCell({ inputSize: nx, hiddenSize: nc, backend: be, seed: 1, ...o });
        const ncCache = other({ hiddenSize: nc + 1 }).forward(mat(nx, m), mat(nc + 1, m)).cache;
        const nxCache = other({ inputSize: nx + 2 }).forward(mat(nx + 2, m), cPrev).cache;
        const f32Cache = other({ dtype: 'float32' }).forward(mat(nx, m, new Float32Array(nx * m))).cache;
        const idsCache = other({ inputSize: 10 }).forward(new Int32Array([9, 1])).cache;
        const nxSeqCache = other({ inputSize: nx + 2 }).forwardSequence(seqOf(nx + 2, T, m, f64((nx + 2) * T * m))).cache;

        const cases: Array<[string, () => unknown, typeof TypeError | typeof RangeError, string]> = [
          // forward
          ['x with n_x + 1 rows', () => cell.forward(mat(nx + 1, m), cPrev), RangeError, 'x'],
          ['x transposed (m × n_x)', () => cell.forward(mat(m, nx), cPrev), RangeError, 'x'],
          ['x float32 in a float64 cell', () => cell.forward(mat(nx, m, new Float32Array(nx * m)), cPrev), TypeError, 'x'],
          ['x.data too short', () => cell.forward(mat(nx, m, f64(nx * m - 1)), cPrev), RangeError, 'x.data'],
          ['x not a Matrix', () => cell.forward({} as Matrix, cPrev), TypeError, 'x'],
          ['cPrev with m + 1 columns', () => cell.forward(x, mat(nc, m + 1)), RangeError, 'cPrev'],
          ['cPrev transposed', () => cell.forward(x, mat(m, nc)), RangeError, 'cPrev'],
          ['cPrev float32', () => cell.forward(x, mat(nc, m, new Float32Array(nc * m))), TypeError, 'cPrev'],
          ['token id = vocab size', () => cell.forward(new Int32Array([0, nx])), RangeError, 'x'],
          ['negative token id', () => cell.forward(new Int32Array([-1, 0])), RangeError, 'x'],
          // backward
          ['dc with m + 1 columns', () => cell.backward(mat(nc, m + 1), step.cache), RangeError, 'dc'],
          ['dc float32', () => cell.backward(mat(nc, m, new Float32Array(nc * m)), step.cache), TypeError, 'dc'],
          ['dc.data too long', () => cell.backward(mat(nc, m, f64(nc * m + 1)), step.cache), RangeError, 'dc.data'],
          ['cache not a cache', () => cell.backward(dc, {} as typeof step.cache), TypeError, 'cache'],
          ['cache of a sequence', () => cell.backward(dc, seq.cache), RangeError, 'cache'],
          ['cache of a cell with another n_c', () => cell.backward(dc, ncCache), RangeError, 'cache'],
          ['cache of a cell with another n_x', () => cell.backward(dc, nxCache), RangeError, 'cache'],
          ['cache of a float32 cell', () => cell.backward(dc, f32Cache), TypeError, 'cache'],
          ['cache holding token ids of a larger vocabulary', () => cell.backward(dc, idsCache), RangeError, 'cache'],
          // forwardSequence
          ['X with n_x + 1 rows', () => cell.forwardSequence(seqOf(nx + 1, T, m, f64((nx + 1) * T * m))), RangeError, 'X'],
          ['X.data too short', () => cell.forwardSequence(seqOf(nx, T, m, f64(nx * T * m - 1))), RangeError, 'X.data'],
          ['X float32', () => cell.forwardSequence(seqOf(nx, T, m, new Float32Array(nx * T * m))), TypeError, 'X'],
          ['X.steps = 0', () => cell.forwardSequence(seqOf(nx, 0, m, f64(0))), RangeError, 'X'],
          ['X ids length ≠ steps·batch', () => cell.forwardSequence({ ids: new Int32Array(T * m - 1), steps: T, batch: m }), RangeError, 'X'],
          ['X token id out of range', () => cell.forwardSequence({ ids: new Int32Array([0, 1, 2, 3, 0, 1]), steps: T, batch: m }), RangeError, 'X'],
          ['c0 with m + 1 columns', () => cell.forwardSequence(X, mat(nc, m + 1)), RangeError, 'c0'],
          ['c0 with m + 1 columns, T = 1', () => cell.forwardSequence(seqOf(nx, 1, m, f64(nx * m)), mat(nc, m + 1)), RangeError, 'c0'],
          ['c0 float32', () => cell.forwardSequence(X, mat(nc, m, new Float32Array(nc * m))), TypeError, 'c0'],
          // backwardSequence
          ['dC with T + 1 steps', () => cell.backwardSequence(seqOf(nc, T + 1, m, f64(nc * (T + 1) * m)), seq.cache), RangeError, 'dC'],
          ['dC with another batch', () => cell.backwardSequence(seqOf(nc, T * m, 1, f64(nc * T * m)), seq.cache), RangeError, 'dC'],
          ['dC with n_c + 1 rows', () => cell.backwardSequence(seqOf(nc + 1, T, m, f64((nc + 1) * T * m)), seq.cache), RangeError, 'dC'],
          ['dC float32', () => cell.backwardSequence(seqOf(nc, T, m, new Float32Array(nc * T * m)), seq.cache), TypeError, 'dC'],
          ['dC.data too short', () => cell.backwardSequence(seqOf(nc, T, m, f64(nc * T * m - 1)), seq.cache), RangeError, 'dC.data'],
          ['sequence cache not a cache', () => cell.backwardSequence(dC, null as unknown as typeof seq.cache), TypeError, 'cache'],
          ['sequence cache of a cell with another n_x', () => cell.backwardSequence(dC, nxSeqCache), RangeError, 'cache'],
          // parameters replaced by wrong shapes between forward and backward (the kernels would
          // read a larger buffer without complaint)
          ['params.Wc replaced by (n_c+1)² before backward', () => {
            const c2 = other({});
            const r = c2.forward(x, cPrev);
            c2.params.Wc = mat(nc + 1, nc + 1);
            return c2.backward(dc, r.cache);
          }, RangeError, 'params.Wc'],
          ['params.Wx replaced by its transpose before backwardSequence', () => {
            const c2 = other({});
            const r = c2.forwardSequence(X);
            c2.params.Wx = mat(nx, nc);
            return c2.backwardSequence(dC, r.cache);
          }, RangeError, 'params.Wx'],
        ];
        const failures: string[] = [];
        for (const [what, call, Err, name] of cases) {
          let thrown: unknown = null;
          try {
            call();
          } catch (e) {
            thrown = e;
          }
          // "<fn>: <name> must be …": the argument's name right after the function's
          const named = new RegExp(`^RNNCell\\.\\w+: ${name.replace(/\./g, '\\.')}(?![A-Za-z0-9_])`);
          if (!(thrown instanceof Error)) failures.push(`${what}: nothing thrown`);
          else if (!(thrown instanceof Err) || !named.test(thrown.message)) {
            failures.push(`${what}: want ${Err.name} naming '${name}', got ${thrown.constructor.name}: ${thrown.message}`);
          }
        }
        expect(failures, failures.join('\n')).to.deep.equal([]);
      });
    }
  });
});
