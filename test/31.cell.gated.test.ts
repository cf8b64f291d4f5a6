// LSTMCell and GRUCell over T steps (DESIGN §10), on both backends, checked against
//   1. central finite differences in float64 for every parameter, every input element and both
//      initial states, on J = Σ w⊙H + Σ u⊙h_T (+ Σ v⊙c_T): the final state enters J, so
//      backwardSequence's dState is exercised; J also in its square form Σ w⊙H² + … (a dH that
//      depends on H);
//   2. the single-step API chained over T steps (forward, then backward in reverse, each step's
//      dStatePrev the next one's dState);
//   3. the other backend (native = ts in float64 to 1e-12, float32 to float32 accuracy);
// and their argument checks (TypeError / RangeError naming the argument).
import { expect } from 'chai';
import { backends, GRUCell, LSTMCell, type CellState, type Matrix, type Sequence, type TokenSequence } from '../lib';
import type { BackendName, DType, FloatArray } from '../lib/backend/types';
import { checkClose, Rng } from './helpers/check';
import {
  ErrorSummary, FD_TOL, fdCheck, fill, largestScaledDiff, linearLoss, type Loss, printAfter, randomVec, squareLoss,
} from './helpers/gradcheck';

const BACKENDS: BackendName[] = backends.available();
const KINDS = ['lstm', 'gru'] as const;
type Kind = (typeof KINDS)[number];
type Cell = LSTMCell | GRUCell;

interface Shape { nx: number; nc: number; T: number; m: number }
const FD_SHAPES: Shape[] = [
  { nx: 3, nc: 4, T: 1, m: 2 }, // T = 1
  { nx: 5, nc: 3, T: 4, m: 1 }, // m = 1, n_x > n_c
  { nx: 2, nc: 4, T: 3, m: 3 }, // n_x < n_c
];
const label = (s: Shape) => `(n_x, n_c, T, m) = (${s.nx}, ${s.nc}, ${s.T}, ${s.m})`;

/**
 * A cell with random parameters somewhat larger than PyTorch's U(±1/√n_c), so every gate sits
 * away from its linear range and the nonlinearities matter, yet the recurrence stays tame.
 */
function makeCell(kind: Kind, backend: BackendName, s: Shape, dtype: DType, rng: Rng): Cell {
  const options = { inputSize: s.nx, hiddenSize: s.nc, dtype, backend, seed: 5 };
  const cell = kind === 'lstm' ? new LSTMCell(options) : new GRUCell(options);
  fill(cell.params.Wx.data, rng, -1.5 / Math.sqrt(s.nx), 1.5 / Math.sqrt(s.nx));
  fill(cell.params.Wc.data, rng, -1.5 / Math.sqrt(s.nc), 1.5 / Math.sqrt(s.nc));
  fill(cell.params.bx.data, rng, -0.5, 0.5);
  fill(cell.params.bc.data, rng, -0.5, 0.5);
  return cell;
}

function alloc(dtype: DType, n: number): FloatArray {
  return dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
}

/** Token ids with a repeat, so a Wx column gets a summed gradient. */
function randomIds(n: number, vocab: number, rng: Rng): Int32Array {
  const ids = new Int32Array(n).map(() => rng.int(vocab));
  if (n >= 2) ids[n - 1] = ids[0];
  return ids;
}

function makeInput(kind: 'dense' | 'ids', s: Shape, dtype: DType, rng: Rng): Sequence | TokenSequence {
  const n = s.T * s.m;
  if (kind === 'ids') return { ids: randomIds(n, s.nx, rng), steps: s.T, batch: s.m };
  const data = alloc(dtype, s.nx * n);
  fill(data, rng, -1, 1);
  return { rows: s.nx, steps: s.T, batch: s.m, data };
}

function makeState(kind: Kind, s: Shape, dtype: DType, rng: Rng): CellState {
  const mat = (lo: number, hi: number): Matrix => {
    const data = alloc(dtype, s.nc * s.m);
    fill(data, rng, lo, hi);
    return { rows: s.nc, cols: s.m, data };
  };
  return kind === 'lstm' ? { h: mat(-0.9, 0.9), c: mat(-1.5, 1.5) } : { h: mat(-0.9, 0.9) };
}

/** [H | h_T | c_T]: everything J reads, flat. */
function outputs(cell: Cell, X: Sequence | TokenSequence, state0: CellState): Float64Array {
  const r = cell.forwardSequence(X, state0);
  const parts = [r.H.data, r.state.h.data, ...(r.state.c ? [r.state.c.data] : [])];
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** Splits ∂J/∂[H | h_T | c_T] into dH and dState. */
function splitGrad(cell: Cell, s: Shape, g: Float64Array): { dH: Sequence; dState: CellState } {
  const nH = s.nc * s.T * s.m, ns = s.nc * s.m;
  const mat = (a: Float64Array): Matrix => ({ rows: s.nc, cols: s.m, data: a });
  const dH: Sequence = { rows: s.nc, steps: s.T, batch: s.m, data: g.slice(0, nH) };
  const dState: CellState = { h: mat(g.slice(nH, nH + ns)) };
  if (cell instanceof LSTMCell) dState.c = mat(g.slice(nH + ns, nH + 2 * ns));
  return { dH, dState };
}

/** Column block t of a Sequence as a Matrix (n × m). */
function stepOf(X: Sequence, t: number): Matrix {
  const { rows, steps, batch } = X, ld = steps * batch;
  const data = alloc(X.data instanceof Float32Array ? 'float32' : 'float64', rows * batch);
  for (let i = 0; i < rows; i++) for (let j = 0; j < batch; j++) data[i * batch + j] = X.data[i * ld + t * batch + j];
  return { rows, cols: batch, data };
}

const fdSummary = new ErrorSummary('31.cell.gated: largest FD relative error |a−b|/max(|a|,|b|,1e-6); FD = central at h = 1e-3 and 5e-4, Richardson-extrapolated');
const agreeSummary = new ErrorSummary('31.cell.gated: largest scaled difference |a−b|/(1+|b|) (chain vs sequence, native vs ts)');

function agree(test: string, column: string, label: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: number): void {
  agreeSummary.record(test, column, largestScaledDiff(got, want));
  checkClose(label, got, want, tol);
}

describe('31 LSTMCell and GRUCell', function () {
  printAfter(fdSummary, agreeSummary);

  describe('finite differences (float64; every parameter, input element, h0 and c0; J reads H and the final state)', () => {
    for (const be of BACKENDS) {
      for (const kind of KINDS) {
        for (const s of FD_SHAPES) {
          for (const inputKind of ['dense', 'ids'] as const) {
            it(`${be}: ${kind}, ${inputKind}, ${label(s)}`, () => {
              const rng = new Rng(97 * s.nx + 31 * s.nc + 7 * s.T + s.m + (kind === 'gru' ? 1000 : 0));
              const cell = makeCell(kind, be, s, 'float64', rng);
              const X = makeInput(inputKind, s, 'float64', rng);
              const state0 = makeState(kind, s, 'float64', rng);
              const run = () => outputs(cell, X, state0);
              const R = randomVec(run().length, rng);
              for (const loss of [linearLoss(R), squareLoss(R)] as Loss[]) {
                const { H, cache } = cell.forwardSequence(X, state0);
                expect([H.rows, H.steps, H.batch]).to.deep.equal([s.nc, s.T, s.m]);
                const { dH, dState } = splitGrad(cell, s, loss.grad(run()));
                const g = cell.backwardSequence(dH, cache, dState);
                const checks = [
                  fdCheck('dWx', cell.params.Wx.data, g.dWx.data, run, loss),
                  fdCheck('dWc', cell.params.Wc.data, g.dWc.data, run, loss),
                  fdCheck('dbx', cell.params.bx.data, g.dbx.data, run, loss),
                  fdCheck('dbc', cell.params.bc.data, g.dbc.data, run, loss),
                  fdCheck('dState0.h', state0.h.data, g.dState0.h.data, run, loss),
                ];
                if (kind === 'lstm') {
                  expect(g.dState0.c, 'LSTM dState0.c').to.not.equal(undefined);
                  checks.push(fdCheck('dState0.c', state0.c!.data, g.dState0.c!.data, run, loss));
                } else {
                  expect(Object.keys(g.dState0)).to.deep.equal(['h']);
                }
                if (inputKind === 'dense') {
                  expect(g.dX).to.not.equal(null);
                  expect([g.dX!.rows, g.dX!.steps, g.dX!.batch]).to.deep.equal([s.nx, s.T, s.m]);
                  checks.push(fdCheck('dX', (X as Sequence).data, g.dX!.data, run, loss));
                } else {
                  expect(g.dX, 'dX of token ids').to.equal(null);
                }
                for (const r of checks) {
                  fdSummary.record(`${kind} ${inputKind}`, be, r.maxErr);
                  fdSummary.record(`${kind} ${inputKind}, plain central h = 1e-5 (info)`, be, r.plainMaxErr);
                  expect(r.checked, r.where).to.be.greaterThan(0);
                  expect(r.maxErr, `${loss.name}: ${r.where}`).to.be.at.most(FD_TOL);
                }
              }
            });
          }
        }
      }
    }

    it('the check can fail: a gradient off by a relative 1e-6 in one entry exceeds the bar', () => {
      const s = FD_SHAPES[1], rng = new Rng(5);
      const cell = makeCell('lstm', 'ts', s, 'float64', rng);
      const X = makeInput('dense', s, 'float64', rng), state0 = makeState('lstm', s, 'float64', rng);
      const run = () => outputs(cell, X, state0);
      const loss = linearLoss(randomVec(run().length, rng));
      const { dH, dState } = splitGrad(cell, s, loss.grad(run()));
      const g = cell.backwardSequence(dH, cell.forwardSequence(X, state0).cache, dState);
      expect(fdCheck('dWc', cell.params.Wc.data, g.dWc.data, run, loss).maxErr).to.be.at.most(FD_TOL);
      g.dWc.data[3] *= 1 + 1e-6;
      expect(fdCheck('dWc', cell.params.Wc.data, g.dWc.data, run, loss).maxErr).to.be.greaterThan(FD_TOL);
      // and dropping dState's c (what a missing dState would do) is far off
      const g2 = cell.backwardSequence(dH, cell.forwardSequence(X, state0).cache, { h: dState.h });
      expect(fdCheck('dWc', cell.params.Wc.data, g2.dWc.data, run, loss).maxErr).to.be.greaterThan(1e-3);
    });
  });

  describe('single steps chained equal the sequence call', () => {
    for (const be of BACKENDS) {
      for (const kind of KINDS) {
        for (const inputKind of ['dense', 'ids'] as const) {
          for (const dtype of ['float64', 'float32'] as DType[]) {
            it(`${be}: ${kind}, ${inputKind}, ${dtype}`, () => {
              const s: Shape = { nx: 5, nc: 6, T: 5, m: 3 };
              const rng = new Rng(kind === 'lstm' ? 11 : 12);
              const cell = makeCell(kind, be, s, dtype, rng);
              const X = makeInput(inputKind, s, dtype, rng);
              const state0 = makeState(kind, s, dtype, rng);
              const tol = dtype === 'float64' ? 1e-13 : 1e-5;
              const seq = cell.forwardSequence(X, state0);
              // ∂J/∂H and ∂J/∂(final state), random
              const dH: Sequence = { rows: s.nc, steps: s.T, batch: s.m, data: alloc(dtype, s.nc * s.T * s.m) };
              fill(dH.data, rng, -1, 1);
              const dState = makeState(kind, s, dtype, rng);
              const gs = cell.backwardSequence(dH, seq.cache, dState);

              let state: CellState = state0;
              const caches = [];
              for (let t = 0; t < s.T; t++) {
                const x = inputKind === 'ids'
                  ? (X as TokenSequence).ids.slice(t * s.m, (t + 1) * s.m)
                  : stepOf(X as Sequence, t);
                const r = cell.forward(x, state);
                expect([r.h.rows, r.h.cols]).to.deep.equal([s.nc, s.m]);
                agree(`${kind} chain forward ${dtype}`, be, `h_${t + 1}`, r.h.data, stepOf(seq.H, t).data, tol);
                agree(`${kind} chain forward ${dtype}`, be, `state h_${t + 1}`, r.state.h.data, r.h.data, 0);
                caches.push(r.cache);
                state = r.state;
              }
              agree(`${kind} chain forward ${dtype}`, be, 'final h', state.h.data, seq.state.h.data, tol);
              if (kind === 'lstm') agree(`${kind} chain forward ${dtype}`, be, 'final c', state.c!.data, seq.state.c!.data, tol);

              const sum = { dWx: alloc(dtype, cell.params.Wx.data.length), dWc: alloc(dtype, cell.params.Wc.data.length),
                dbx: alloc(dtype, cell.params.bx.data.length), dbc: alloc(dtype, cell.params.bc.data.length) };
              let dNext: CellState = dState;
              const dX: Matrix[] = [];
              for (let t = s.T - 1; t >= 0; t--) {
                const b = cell.backward(stepOf(dH, t), caches[t], dNext);
                for (const k of ['dWx', 'dWc', 'dbx', 'dbc'] as const) for (let i = 0; i < sum[k].length; i++) sum[k][i] += b[k].data[i];
                if (inputKind === 'ids') expect(b.dx).to.equal(null);
                else dX[t] = b.dx!;
                dNext = b.dStatePrev;
              }
              for (const k of ['dWx', 'dWc', 'dbx', 'dbc'] as const) agree(`${kind} chain backward ${dtype}`, be, k, sum[k], gs[k].data, tol);
              agree(`${kind} chain backward ${dtype}`, be, 'dh0', dNext.h.data, gs.dState0.h.data, tol);
              if (kind === 'lstm') agree(`${kind} chain backward ${dtype}`, be, 'dc0', dNext.c!.data, gs.dState0.c!.data, tol);
              if (inputKind === 'dense') {
                for (let t = 0; t < s.T; t++) agree(`${kind} chain backward ${dtype}`, be, `dx_${t + 1}`, dX[t].data, stepOf(gs.dX!, t).data, tol);
              }
            });
          }
        }
      }
    }
  });

  describe('token ids equal the one-hot dense input', () => {
    for (const be of BACKENDS) {
      for (const kind of KINDS) {
        it(`${be}: ${kind}: H, final state and every parameter gradient`, () => {
          const s: Shape = { nx: 7, nc: 5, T: 4, m: 3 };
          const rng = new Rng(21);
          const cell = makeCell(kind, be, s, 'float64', rng);
          const ids = makeInput('ids', s, 'float64', rng) as TokenSequence;
          const Tm = s.T * s.m;
          const onehot: Sequence = { rows: s.nx, steps: s.T, batch: s.m, data: new Float64Array(s.nx * Tm) };
          for (let k = 0; k < Tm; k++) onehot.data[ids.ids[k] * Tm + k] = 1;
          const state0 = makeState(kind, s, 'float64', rng);
          const a = cell.forwardSequence(ids, state0), b = cell.forwardSequence(onehot, state0);
          agree(`${kind} ids vs one-hot`, be, 'H', a.H.data, b.H.data, 1e-14);
          agree(`${kind} ids vs one-hot`, be, 'h_T', a.state.h.data, b.state.h.data, 1e-14);
          const dH: Sequence = { rows: s.nc, steps: s.T, batch: s.m, data: randomVec(s.nc * Tm, rng) };
          const dState = makeState(kind, s, 'float64', rng);
          const ga = cell.backwardSequence(dH, a.cache, dState), gb = cell.backwardSequence(dH, b.cache, dState);
          for (const k of ['dWx', 'dWc', 'dbx', 'dbc'] as const) agree(`${kind} ids vs one-hot`, be, k, ga[k].data, gb[k].data, 1e-13);
          agree(`${kind} ids vs one-hot`, be, 'dh0', ga.dState0.h.data, gb.dState0.h.data, 1e-13);
          // a Wx column no id selects has a zero gradient
          const used = new Set(ids.ids);
          for (let v = 0; v < s.nx; v++) {
            if (used.has(v)) continue;
            for (let r = 0; r < ga.dWx.rows; r++) expect(ga.dWx.data[r * s.nx + v]).to.equal(0);
          }
        });
      }
    }
  });

  describe('backward leaves the cache as it was (a second backward gives the same gradients)', () => {
    for (const be of BACKENDS) {
      for (const kind of KINDS) {
        it(`${be}: ${kind}`, () => {
          const s: Shape = { nx: 3, nc: 4, T: 3, m: 2 };
          const rng = new Rng(8);
          const cell = makeCell(kind, be, s, 'float64', rng);
          const { cache } = cell.forwardSequence(makeInput('dense', s, 'float64', rng), makeState(kind, s, 'float64', rng));
          const dH: Sequence = { rows: s.nc, steps: s.T, batch: s.m, data: randomVec(s.nc * s.T * s.m, rng) };
          const dState = makeState(kind, s, 'float64', rng);
          const dHcopy = dH.data.slice();
          const g1 = cell.backwardSequence(dH, cache, dState), g2 = cell.backwardSequence(dH, cache, dState);
          expect(Array.from(dH.data), 'dH is read only').to.deep.equal(Array.from(dHcopy));
          for (const k of ['dWx', 'dWc', 'dbx', 'dbc'] as const) expect(Array.from(g2[k].data), k).to.deep.equal(Array.from(g1[k].data));
          expect(Array.from(g2.dX!.data)).to.deep.equal(Array.from(g1.dX!.data));
        });
      }
    }
  });

  describe('native = ts (same seed, same inputs)', () => {
    for (const kind of KINDS) {
      for (const dtype of ['float64', 'float32'] as DType[]) {
        for (const inputKind of ['dense', 'ids'] as const) {
          it(`${kind}, ${inputKind}, ${dtype}: forward, state, every gradient`, function () {
            if (!BACKENDS.includes('native')) this.skip();
            const tol = dtype === 'float64' ? 1e-12 : 2e-5;
            for (const s of [{ nx: 7, nc: 13, T: 6, m: 4 }, { nx: 1, nc: 1, T: 1, m: 1 }, { nx: 33, nc: 32, T: 9, m: 5 }]) {
              const rng = new Rng(s.nc * 3 + s.T);
              const native = makeCell(kind, 'native', s, dtype, new Rng(1));
              const ts = makeCell(kind, 'ts', s, dtype, new Rng(1));
              expect(Array.from(native.params.Wc.data)).to.deep.equal(Array.from(ts.params.Wc.data));
              const X = makeInput(inputKind, s, dtype, rng), state0 = makeState(kind, s, dtype, rng);
              const a = native.forwardSequence(X, state0), b = ts.forwardSequence(X, state0);
              const col = `${dtype}`, test = `${kind} native vs ts ${inputKind}`;
              agree(test, col, 'H', a.H.data, b.H.data, tol);
              agree(test, col, 'h_T', a.state.h.data, b.state.h.data, tol);
              if (kind === 'lstm') agree(test, col, 'c_T', a.state.c!.data, b.state.c!.data, tol);
              const dH: Sequence = { rows: s.nc, steps: s.T, batch: s.m, data: alloc(dtype, s.nc * s.T * s.m) };
              fill(dH.data, rng, -1, 1);
              const dState = makeState(kind, s, dtype, rng);
              const ga = native.backwardSequence(dH, a.cache, dState), gb = ts.backwardSequence(dH, b.cache, dState);
              for (const k of ['dWx', 'dWc', 'dbx', 'dbc'] as const) agree(test, col, k, ga[k].data, gb[k].data, tol);
              agree(test, col, 'dh0', ga.dState0.h.data, gb.dState0.h.data, tol);
              if (kind === 'lstm') agree(test, col, 'dc0', ga.dState0.c!.data, gb.dState0.c!.data, tol);
              if (inputKind === 'dense') agree(test, col, 'dX', ga.dX!.data, gb.dX!.data, tol);
            }
          });
        }
      }
    }
  });

  describe('defaults', () => {
    for (const kind of KINDS) {
      it(`${kind}: no state0 = zero state; no dState = zero dState; parameter shapes are PyTorch's`, () => {
        const s: Shape = { nx: 3, nc: 4, T: 3, m: 2 };
        const rng = new Rng(4);
        const cell = makeCell(kind, 'ts', s, 'float64', rng);
        const G = kind === 'lstm' ? 4 : 3;
        expect([cell.params.Wx.rows, cell.params.Wx.cols, cell.params.Wc.rows, cell.params.Wc.cols, cell.params.bx.rows, cell.params.bc.rows])
          .to.deep.equal([G * 4, 3, G * 4, 4, G * 4, G * 4]);
        const X = makeInput('dense', s, 'float64', rng);
        const zero = (): Matrix => ({ rows: s.nc, cols: s.m, data: new Float64Array(s.nc * s.m) });
        const z: CellState = kind === 'lstm' ? { h: zero(), c: zero() } : { h: zero() };
        const a = cell.forwardSequence(X), b = cell.forwardSequence(X, z);
        expect(Array.from(a.H.data)).to.deep.equal(Array.from(b.H.data));
        const dH: Sequence = { rows: s.nc, steps: s.T, batch: s.m, data: randomVec(s.nc * s.T * s.m, rng) };
        const ga = cell.backwardSequence(dH, a.cache), gb = cell.backwardSequence(dH, a.cache, z);
        expect(Array.from(ga.dWc.data)).to.deep.equal(Array.from(gb.dWc.data));
        // a dState with only c (LSTM) equals one with h = 0
        if (kind === 'lstm') {
          const c = randomVec(s.nc * s.m, rng);
          const gc = cell.backwardSequence(dH, a.cache, { c: { rows: s.nc, cols: s.m, data: c } });
          const gd = cell.backwardSequence(dH, a.cache, { h: zero(), c: { rows: s.nc, cols: s.m, data: c } });
          expect(Array.from(gc.dWc.data)).to.deep.equal(Array.from(gd.dWc.data));
          expect(Array.from(gc.dWc.data)).to.not.deep.equal(Array.from(ga.dWc.data));
        }
      });
    }
  });

  describe('bad input: TypeError / RangeError naming the argument', () => {
    for (const kind of KINDS) {
      const Ctor = kind === 'lstm' ? LSTMCell : GRUCell;
      const fn = kind === 'lstm' ? 'LSTMCell' : 'GRUCell';
      const s: Shape = { nx: 3, nc: 4, T: 2, m: 2 };
      const make = () => new Ctor({ inputSize: s.nx, hiddenSize: s.nc, backend: 'ts', seed: 1 });
      const m = (rows: number, cols: number, dtype: DType = 'float64'): Matrix => ({ rows, cols, data: alloc(dtype, rows * cols) });
      const seq = (rows: number, T = s.T, b = s.m, dtype: DType = 'float64'): Sequence => ({ rows, steps: T, batch: b, data: alloc(dtype, rows * T * b) });

      it(`${kind}: constructor options`, () => {
        expect(() => new Ctor({ inputSize: 3, hiddenSize: 4, activation: 'relu' } as never)).to.throw(TypeError, new RegExp(`new ${fn}: unknown option 'activation'`));
        expect(() => new Ctor({ inputSize: 3, hidenSize: 4 } as never)).to.throw(TypeError, /unknown option 'hidenSize' \(did you mean 'hiddenSize'\?\)/);
        expect(() => new Ctor({ inputSize: 3, hiddenSize: 0 })).to.throw(RangeError, /hiddenSize/);
        expect(() => new Ctor({ inputSize: 2.5, hiddenSize: 4 })).to.throw(RangeError, /inputSize/);
        expect(() => new Ctor({ inputSize: '3', hiddenSize: 4 } as never)).to.throw(TypeError, /inputSize/);
        expect(() => new Ctor({ inputSize: 3, hiddenSize: 4, dtype: 'float16' } as never)).to.throw(TypeError, /dtype/);
        expect(() => new Ctor({ inputSize: 3, hiddenSize: 4, seed: 0.5 })).to.throw(TypeError, /seed/);
        expect(() => new Ctor({ inputSize: 3, hiddenSize: 4, init: 'he' } as never)).to.throw(TypeError, /init/);
        expect(() => new Ctor(undefined as never)).to.throw(TypeError, /options/);
      });

      it(`${kind}: forwardSequence inputs and states`, () => {
        const cell = make();
        const F = `${fn}.forwardSequence`;
        expect(() => cell.forwardSequence(seq(4))).to.throw(RangeError, new RegExp(`${F}: X\\.rows`));
        expect(() => cell.forwardSequence({ ...seq(3), steps: 0 })).to.throw(RangeError, /X\.steps/);
        expect(() => cell.forwardSequence({ ...seq(3), data: new Float64Array(5) })).to.throw(RangeError, /X\.data/);
        expect(() => cell.forwardSequence(seq(3, 2, 2, 'float32'))).to.throw(TypeError, /X.*float64/);
        expect(() => cell.forwardSequence(null as never)).to.throw(TypeError, /X/);
        expect(() => cell.forwardSequence({ ids: Int32Array.of(0, 1, 3, 2), steps: 2, batch: 2 })).to.throw(RangeError, /X\.ids\[2\]/);
        expect(() => cell.forwardSequence({ ids: Int32Array.of(0, 1, -1, 2), steps: 2, batch: 2 })).to.throw(RangeError, /X\.ids\[2\]/);
        expect(() => cell.forwardSequence({ ids: Int32Array.of(0, 1, 2), steps: 2, batch: 2 })).to.throw(RangeError, /X\.ids/);
        expect(() => cell.forwardSequence(seq(3), { h: m(4, 3) })).to.throw(RangeError, /state0\.h/);
        expect(() => cell.forwardSequence(seq(3), { h: m(5, 2) })).to.throw(RangeError, /state0\.h/);
        expect(() => cell.forwardSequence(seq(3), { h: m(4, 2, 'float32') })).to.throw(TypeError, /state0\.h/);
        expect(() => cell.forwardSequence(seq(3), { x: m(4, 2) } as never)).to.throw(TypeError, /state0\.x is not a state of this cell/);
        expect(() => cell.forwardSequence(seq(3), 3 as never)).to.throw(TypeError, /state0/);
        if (kind === 'lstm') {
          expect(() => cell.forwardSequence(seq(3), { h: m(4, 2), c: m(4, 1) })).to.throw(RangeError, /state0\.c/);
        } else {
          expect(() => cell.forwardSequence(seq(3), { h: m(4, 2), c: m(4, 2) })).to.throw(TypeError, /state0\.c is not a state of this cell \(it has h\)/);
        }
      });

      it(`${kind}: backwardSequence dH, cache and dState`, () => {
        const cell = make();
        const { cache } = cell.forwardSequence(seq(3));
        const B = `${fn}.backwardSequence`;
        expect(() => cell.backwardSequence(seq(3), cache)).to.throw(RangeError, new RegExp(`${B}: dH\\.rows`));
        expect(() => cell.backwardSequence(seq(4, 3, 2), cache)).to.throw(RangeError, /dH/);
        expect(() => cell.backwardSequence(seq(4, 2, 1), cache)).to.throw(RangeError, /dH/);
        expect(() => cell.backwardSequence(seq(4, 2, 2, 'float32'), cache)).to.throw(TypeError, /dH/);
        expect(() => cell.backwardSequence(seq(4), cache, { x: m(4, 2) } as never)).to.throw(TypeError, /dState\.x is not a state of this cell/);
        expect(() => cell.backwardSequence(seq(4), cache, { h: m(4, 1) })).to.throw(RangeError, /dState\.h/);
        expect(() => cell.backwardSequence(seq(4), undefined as never)).to.throw(TypeError, /cache/);
        expect(() => cell.backwardSequence(seq(4), { ...cache, steps: 3 })).to.throw(RangeError, /cache/);
        expect(() => cell.backwardSequence(seq(4), { ...cache, H: new Float64Array(3) })).to.throw(RangeError, /cache/);
        expect(() => cell.backwardSequence(seq(4), { ...cache, H: new Float32Array(cache.H.length) })).to.throw(TypeError, /cache/);
        // the other cell's cache
        const Other = kind === 'lstm' ? GRUCell : LSTMCell;
        const other = new Other({ inputSize: s.nx, hiddenSize: s.nc, backend: 'ts' });
        const otherCache = other.forwardSequence(seq(3)).cache;
        // (regression: a GRU took an LSTM's cache, whose buffers have the same sizes, and read its gates as r, z, n)
        expect(() => cell.backwardSequence(seq(4), otherCache)).to.throw(TypeError, new RegExp(`${B}: cache must be the cache of a forward call of this ${fn}`));
        expect(() => cell.backward(m(4, 2), other.forward(m(3, 2)).cache)).to.throw(TypeError, /cache/);
        // an id out of range in a cache (never read out of bounds)
        const ids = cell.forwardSequence({ ids: Int32Array.of(0, 1, 2, 1), steps: 2, batch: 2 }).cache;
        expect(() => cell.backwardSequence(seq(4), { ...ids, input: Int32Array.of(0, 1, 9, 1) })).to.throw(RangeError, /cache/);
        if (kind === 'lstm') expect(() => cell.backwardSequence(seq(4), cache, { c: m(5, 2) })).to.throw(RangeError, /dState\.c/);
        else expect(() => cell.backwardSequence(seq(4), cache, { c: m(4, 2) })).to.throw(TypeError, /dState\.c is not a state/);
      });

      it(`${kind}: single steps and params`, () => {
        const cell = make();
        const F = `${fn}.forward`;
        expect(() => cell.forward(m(2, 2))).to.throw(RangeError, new RegExp(`${F}: x`));
        expect(() => cell.forward(new Int32Array(0))).to.throw(RangeError, /x\.length/);
        expect(() => cell.forward(Int32Array.of(0, 3))).to.throw(RangeError, /x\.ids\[1\]/);
        expect(() => cell.forward(m(3, 2), { h: m(4, 3) })).to.throw(RangeError, /state\.h/);
        expect(() => cell.forward(m(3, 2), { x: m(4, 2) } as never)).to.throw(TypeError, /state\.x is not a state of this cell/);
        const step = cell.forward(m(3, 2));
        expect(() => cell.backward(m(4, 3), step.cache)).to.throw(RangeError, /dh/);
        expect(() => cell.backward(m(4, 2), step.cache, { x: m(4, 2) } as never)).to.throw(TypeError, /dState\.x/);
        // a cache of 2 steps is not the cache of a single step
        const { cache } = cell.forwardSequence(seq(3));
        expect(() => cell.backward(m(4, 2), cache)).to.throw(RangeError, /cache/);
        // replaced params of the wrong shape are refused at the next call
        const G = kind === 'lstm' ? 4 : 3;
        (cell.params as { Wc: Matrix }).Wc = m(G * 4, 3);
        expect(() => cell.forward(m(3, 2))).to.throw(RangeError, /params\.Wc/);
        (cell.params as { Wc: Matrix }).Wc = m(G * 4, 4, 'float32');
        expect(() => cell.forwardSequence(seq(3))).to.throw(TypeError, /params\.Wc/);
      });
    }
  });
});
