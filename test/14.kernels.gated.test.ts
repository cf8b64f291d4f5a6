// The gated-cell kernels (lstmForward/Backward, gruForward/Backward): PyTorch's nn.LSTM and
// nn.GRU over a whole sequence. Checked four independent ways:
//   1. against the naive per-step, per-element references of helpers/cells.ts, float64 to
//      1e-12 and float32, over shapes from 1×1 up, dense and ids, with and without dX and dcT,
//      at element offsets, with every byte outside the views guarded;
//   2. central finite differences in float64 (relative error ≤ 1e-7) for every element of
//      Wx, Wc, bx, bc, X, h0 and c0, with and without a gradient on the final cell state;
//   3. the seed's generalized Jacobian on a tiny LSTM (n_x = n_c = m = 2, T = 1), every
//      Jacobian a full matrix, chained by plain sums: the same dWx (and the rest) as the
//      closed form;
//   4. PyTorch itself (test/fixtures/torch_gated.py, float64), when /usr/bin/python3 has torch.
// Runs on the ts twins and on every kernel set that exposes these kernels (the native backend
// once its declarations include them).
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import type { FloatArray } from '../lib/backend/types';
import { gruBackward, gruForward } from '../lib/backend/ts/gru';
import { lstmBackward, lstmForward } from '../lib/backend/ts/lstm';
import { kernelSets } from './helpers/backends';
import {
  refGruBackward, refGruForward, refLstmBackward, refLstmForward, type CellInputs,
} from './helpers/cells';
import { checkClose, DTYPES, Rng, SENTINEL, type DTypeInfo } from './helpers/check';
import { ErrorSummary, FD_TOL, fdCheck, linearLoss, type Loss, printAfter, randomVec, squareLoss } from './helpers/gradcheck';

interface GatedKernels {
  lstmForward: typeof lstmForward;
  lstmBackward: typeof lstmBackward;
  gruForward: typeof gruForward;
  gruBackward: typeof gruBackward;
}
const TWINS: GatedKernels = { lstmForward, lstmBackward, gruForward, gruBackward };

/** The ts twins, and every other kernel set whose kernels include all four. */
function implementations(): Array<{ name: string; k: GatedKernels }> {
  const list = [{ name: 'ts twins', k: TWINS }];
  for (const s of kernelSets()) {
    const k = s.kernels as unknown as Partial<GatedKernels>;
    if (k.lstmForward === TWINS.lstmForward) continue; // the ts backend: the twins themselves
    if (typeof k.lstmForward === 'function' && typeof k.lstmBackward === 'function' &&
      typeof k.gruForward === 'function' && typeof k.gruBackward === 'function') {
      list.push({ name: s.name, k: k as GatedKernels });
    }
  }
  return list;
}

type CellKind = 'lstm' | 'gru';
const gatesOf = (cell: CellKind): number => (cell === 'lstm' ? 4 : 3);

interface Shape { nx: number; nc: number; T: number; m: number }
const SHAPES: Shape[] = [
  { nx: 1, nc: 1, T: 1, m: 1 }, { nx: 3, nc: 5, T: 4, m: 2 }, { nx: 7, nc: 3, T: 1, m: 5 },
  { nx: 5, nc: 17, T: 3, m: 1 }, { nx: 4, nc: 4, T: 5, m: 3 }, { nx: 2, nc: 9, T: 2, m: 7 },
  { nx: 1, nc: 33, T: 2, m: 2 },
];

/** Random double inputs; weights scaled so the gates stay away from saturation. */
function makeInputs(cell: CellKind, s: Shape, ids: boolean, rng: Rng, wscale = 1): CellInputs {
  const G = gatesOf(cell);
  const w = wscale / Math.sqrt(s.nc + s.nx + 1);
  const X = ids ? Int32Array.from({ length: s.T * s.m }, () => rng.int(s.nx))
    : randomVec(s.nx * s.T * s.m, rng);
  return {
    ...s, X,
    Wx: randomVec(G * s.nc * s.nx, rng, -2 * w, 2 * w),
    Wc: randomVec(G * s.nc * s.nc, rng, -2 * w, 2 * w),
    bx: randomVec(G * s.nc, rng, -0.5, 0.5),
    bc: randomVec(G * s.nc, rng, -0.5, 0.5),
    h0: randomVec(s.nc * s.m, rng, -0.8, 0.8),
    c0: randomVec(s.nc * s.m, rng, -1.5, 1.5),
  };
}

/** A flat array at an element offset: SENTINEL before and after, `fillValue` or `data` inside. */
class Placed {
  readonly arr: FloatArray;
  constructor(dt: DTypeInfo, readonly off: number, readonly n: number,
    data: ArrayLike<number> | null, fillValue = NaN) {
    this.arr = dt.make(off + n + 3).fill(SENTINEL);
    for (let k = 0; k < n; k++) this.arr[off + k] = data === null ? fillValue : data[k];
  }
  get(): Float64Array { return Float64Array.from(this.arr.subarray(this.off, this.off + this.n)); }
  /** every element outside [off, off + n) is still SENTINEL */
  guarded(label: string): void {
    for (let k = 0; k < this.arr.length; k++) {
      if (k >= this.off && k < this.off + this.n) continue;
      if (this.arr[k] !== SENTINEL) throw new Error(`${label}: element ${k} outside the view was written (${this.arr[k]})`);
    }
  }
}

interface RunOptions { ids: boolean; dX: boolean; dcT: boolean; offsets: boolean }

interface RunResult {
  H: Float64Array; S: Float64Array; G: Float64Array; dG: Float64Array;
  dWx: Float64Array; dWc: Float64Array; dbx: Float64Array; dbc: Float64Array;
  dX: Float64Array; dh0: Float64Array; dc0: Float64Array;
  /** start values of the accumulated gradients */
  start: { dWx: Float64Array; dWc: Float64Array; dbx: Float64Array; dbc: Float64Array; dX: Float64Array };
}

/**
 * One forward + backward call of `k` in dtype dt. Outputs start as NaN (must be written before
 * read), gradients as random values (must accumulate); every array sits at its own offset.
 */
function runCell(k: GatedKernels, cell: CellKind, dt: DTypeInfo, r: CellInputs,
  dH: ArrayLike<number>, dcT: ArrayLike<number> | null, o: RunOptions, rng: Rng): RunResult {
  const { nx, nc, T, m } = r, Tm = T * m, ldh = (T + 1) * m, G = gatesOf(cell);
  let next = 0;
  const off = () => (o.offsets ? 1 + (next++ % 5) : 0);
  const input = (data: ArrayLike<number>) => new Placed(dt, off(), data.length, data);
  const Wx = input(r.Wx), Wc = input(r.Wc), bx = input(r.bx), bc = input(r.bc);
  const dHp = input(dH);
  const dcTp = dcT === null ? null : input(dcT);
  const h0c = new Float64Array(nc * ldh).fill(NaN), c0c = new Float64Array(nc * ldh).fill(NaN);
  for (let i = 0; i < nc; i++) {
    for (let j = 0; j < m; j++) {
      h0c[i * ldh + j] = r.h0[i * m + j];
      c0c[i * ldh + j] = r.c0[i * m + j];
    }
  }
  const H = input(h0c), S = input(c0c);
  const Gs = new Placed(dt, off(), 4 * nc * Tm, null), dG = new Placed(dt, off(), 4 * nc * Tm, null);
  const rand = (n: number) => randomVec(n, rng);
  const start = {
    dWx: rand(G * nc * nx), dWc: rand(G * nc * nc), dbx: rand(G * nc), dbc: rand(G * nc),
    dX: rand(nx * Tm),
  };
  const dWx = input(start.dWx), dWc = input(start.dWc), dbx = input(start.dbx);
  const dbc = input(start.dbc), dX = input(start.dX);
  const dh0 = new Placed(dt, off(), nc * m, null), dc0 = new Placed(dt, off(), nc * m, null);
  let X: FloatArray | Int32Array, offX: number;
  if (r.X instanceof Int32Array) {
    offX = off();
    X = new Int32Array(offX + r.X.length + 2).fill(-1);
    X.set(r.X, offX);
  } else {
    const p = input(r.X);
    X = p.arr;
    offX = p.off;
  }
  const dXarg = o.dX && !(r.X instanceof Int32Array) ? dX.arr : null;
  if (cell === 'lstm') {
    k.lstmForward(nx, nc, T, m, X, offX, Wx.arr, Wx.off, Wc.arr, Wc.off, bx.arr, bx.off,
      bc.arr, bc.off, H.arr, H.off, S.arr, S.off, Gs.arr, Gs.off);
    k.lstmBackward(nx, nc, T, m, X, offX, Wx.arr, Wx.off, Wc.arr, Wc.off, H.arr, H.off,
      S.arr, S.off, Gs.arr, Gs.off, dHp.arr, dHp.off, dcTp === null ? null : dcTp.arr,
      dcTp === null ? 0 : dcTp.off, dG.arr, dG.off, dWx.arr, dWx.off, dWc.arr, dWc.off,
      dbx.arr, dbx.off, dbc.arr, dbc.off, dXarg, dX.off, dh0.arr, dh0.off, dc0.arr, dc0.off);
  } else {
    k.gruForward(nx, nc, T, m, X, offX, Wx.arr, Wx.off, Wc.arr, Wc.off, bx.arr, bx.off,
      bc.arr, bc.off, H.arr, H.off, Gs.arr, Gs.off);
    k.gruBackward(nx, nc, T, m, X, offX, Wx.arr, Wx.off, Wc.arr, Wc.off, H.arr, H.off,
      Gs.arr, Gs.off, dHp.arr, dHp.off, dG.arr, dG.off, dWx.arr, dWx.off, dWc.arr, dWc.off,
      dbx.arr, dbx.off, dbc.arr, dbc.off, dXarg, dX.off, dh0.arr, dh0.off);
  }
  for (const [name, p] of Object.entries({ H, S, Gs, dG, dWx, dWc, dbx, dbc, dX, dh0, dc0, Wx, Wc, bx, bc, dHp })) {
    p.guarded(name);
  }
  return {
    H: H.get(), S: S.get(), G: Gs.get(), dG: dG.get(), dWx: dWx.get(), dWc: dWc.get(),
    dbx: dbx.get(), dbc: dbc.get(), dX: dX.get(), dh0: dh0.get(), dc0: dc0.get(), start,
  };
}

const plus = (a: ArrayLike<number>, b: ArrayLike<number>) => Float64Array.from(a, (v, i) => v + b[i]);

/** r's inputs rounded to the dtype, so the reference sees exactly what the kernels see. */
function rounded(r: CellInputs, dt: DTypeInfo): CellInputs {
  const q = (a: Float64Array) => Float64Array.from(dt.make(a.length).map((_, i) => a[i]));
  return {
    ...r, X: r.X instanceof Int32Array ? r.X : q(r.X), Wx: q(r.Wx), Wc: q(r.Wc), bx: q(r.bx),
    bc: q(r.bc), h0: q(r.h0), c0: q(r.c0),
  };
}

const refSummary = new ErrorSummary('14 gated kernels vs the naive reference: largest |a−b|/(1+|b|)');
const fdSummary = new ErrorSummary('14 gated kernels: largest FD relative error |a−b|/max(|a|,|b|,1e-6)');

describe('14 gated-cell kernels (LSTM, GRU)', function () {
  printAfter(refSummary, fdSummary);

  for (const { name, k } of implementations()) {
    for (const cell of ['lstm', 'gru'] as CellKind[]) {
      describe(`${cell} [${name}]`, () => {
        for (const dt of DTYPES) {
          // float32: two roundings per term of the sums a result depends on (n_x + n_c + 2 a
          // step, over the steps; measured: the ts twins stay near 1 ulp, the C++ kernels'
          // float sums within a quarter of this); float64: the 1e-12 of the contract.
          const tolOf = (s: Shape) => (dt.name === 'float64' ? 1e-12
            : 2 * dt.eps * ((s.nx + s.nc + 2) * (s.T + 1) + 4));
          for (const s of SHAPES) {
            for (const [variant, o] of [
              ['dense, dX, dcT, offsets', { ids: false, dX: true, dcT: true, offsets: true }],
              ['dense, no dX, no dcT', { ids: false, dX: false, dcT: false, offsets: false }],
              ['ids, dcT, offsets', { ids: true, dX: false, dcT: true, offsets: true }],
              ['ids, no dcT', { ids: true, dX: false, dcT: false, offsets: true }],
            ] as Array<[string, RunOptions]>) {
              if (cell === 'gru' && variant === 'ids, no dcT') continue; // the GRU has no dcT
              it(`${dt.name} (n_x, n_c, T, m) = (${s.nx}, ${s.nc}, ${s.T}, ${s.m}), ${variant}: the reference`, () => {
                const rng = new Rng(31 * s.nc + 7 * s.nx + s.T * 3 + s.m + (o.ids ? 1000 : 0) + (o.dX ? 2000 : 0));
                const r = makeInputs(cell, s, o.ids, rng);
                const dH = randomVec(s.nc * s.T * s.m, rng);
                const dcT = o.dcT && cell === 'lstm' ? randomVec(s.nc * s.m, rng) : null;
                const got = runCell(k, cell, dt, r, dH, dcT, o, rng);
                const rr = rounded(r, dt);
                const dHr = Float64Array.from(dt.make(dH.length).map((_, i) => dH[i]));
                const dcTr = dcT === null ? null : Float64Array.from(dt.make(dcT.length).map((_, i) => dcT[i]));
                const f = cell === 'lstm' ? refLstmForward(rr) : refGruForward(rr);
                const g = cell === 'lstm' ? refLstmBackward(rr, f, dHr, dcTr) : refGruBackward(rr, f, dHr);
                const tol = tolOf(s);
                const pairs: Array<[string, ArrayLike<number>, ArrayLike<number>]> = [
                  ['H', got.H, f.H], ['G', got.G, f.G], ['dG', got.dG, g.dG],
                  ['dWx', got.dWx, plus(got.start.dWx, g.dWx)], ['dWc', got.dWc, plus(got.start.dWc, g.dWc)],
                  ['dbx', got.dbx, plus(got.start.dbx, g.dbx)], ['dbc', got.dbc, plus(got.start.dbc, g.dbc)],
                  ['dh0', got.dh0, g.dh0],
                ];
                if (cell === 'lstm') pairs.push(['S', got.S, f.S], ['dc0', got.dc0, g.dc0]);
                if (o.dX) pairs.push(['dX', got.dX, plus(got.start.dX, g.dX)]);
                else pairs.push(['dX untouched', got.dX, got.start.dX.map((v) => dt.make(1).fill(v)[0])]);
                for (const [label, a, b] of pairs) {
                  let worst = 0;
                  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
                  refSummary.record(`${cell} ${dt.name}`, name, worst);
                  checkClose(label, a, b, label === 'dX untouched' ? 0 : tol);
                }
              });
            }
          }

          it(`${dt.name}: empty sizes (T = 0: dh0 = 0${cell === 'lstm' ? ', dc0 = dcT or 0' : ''}; m = 0 or n_c = 0: nothing touched)`, () => {
            for (const s of [{ nx: 3, nc: 4, T: 0, m: 2 }, { nx: 3, nc: 4, T: 2, m: 0 }, { nx: 3, nc: 0, T: 2, m: 2 }]) {
              for (const withDcT of [false, true]) {
                const rng = new Rng(5 + s.T + s.m + s.nc);
                const r = makeInputs(cell, s, false, rng);
                const dH = randomVec(s.nc * s.T * s.m, rng);
                const dcT = withDcT ? randomVec(s.nc * s.m, rng) : null;
                const got = runCell(k, cell, dt, r, dH, dcT, { ids: false, dX: true, dcT: withDcT, offsets: true }, rng);
                const q = (a: ArrayLike<number>) => Float64Array.from(a, (v) => dt.make(1).fill(v)[0]);
                checkClose('dWx untouched', got.dWx, q(got.start.dWx), 0);
                checkClose('dWc untouched', got.dWc, q(got.start.dWc), 0);
                checkClose('dbx untouched', got.dbx, q(got.start.dbx), 0);
                checkClose('dbc untouched', got.dbc, q(got.start.dbc), 0);
                checkClose('dX untouched', got.dX, q(got.start.dX), 0);
                if (s.T === 0) {
                  checkClose('dh0 = 0', got.dh0, new Float64Array(s.nc * s.m), 0);
                  if (cell === 'lstm') checkClose('dc0 = dcT', got.dc0, dcT === null ? new Float64Array(s.nc * s.m) : q(dcT), 0);
                }
                // G and dG have no elements unless T·m·n_c > 0; H, S keep h0, c0 when T = 0
                const ldh = (s.T + 1) * s.m;
                for (let i = 0; i < s.nc; i++) {
                  for (let j = 0; j < s.m; j++) expect(got.H[i * ldh + j]).to.equal(q([r.h0[i * s.m + j]])[0]);
                }
              }
            }
          });
        }

        it('float64 finite differences: every element of Wx, Wc, bx, bc, X, h0' + (cell === 'lstm' ? ', c0, with and without dcT' : ''), () => {
          const f64 = DTYPES.find((d) => d.name === 'float64')!;
          for (const s of [{ nx: 3, nc: 4, T: 3, m: 2 }, { nx: 2, nc: 3, T: 1, m: 1 }, { nx: 4, nc: 2, T: 4, m: 3 }]) {
            for (const ids of [false, true]) {
              for (const withDcT of cell === 'lstm' ? [false, true] : [false]) {
                const rng = new Rng(900 + s.nc * 10 + s.T + (ids ? 1 : 0) + (withDcT ? 2 : 0));
                const r = makeInputs(cell, s, ids, rng, 2.5);
                const Tm = s.T * s.m, ldh = (s.T + 1) * s.m;
                // J over [h_1 … h_T | c_T]: R's c_T part is 0 without dcT
                const R = randomVec(s.nc * Tm + s.nc * s.m, rng);
                if (!withDcT) R.fill(0, s.nc * Tm);
                const run = (): Float64Array => {
                  const out = new Float64Array(s.nc * Tm + s.nc * s.m);
                  const H = new Float64Array(s.nc * ldh), S = new Float64Array(s.nc * ldh);
                  for (let i = 0; i < s.nc; i++) {
                    for (let j = 0; j < s.m; j++) { H[i * ldh + j] = r.h0[i * s.m + j]; S[i * ldh + j] = r.c0[i * s.m + j]; }
                  }
                  const G = new Float64Array(4 * s.nc * Tm);
                  if (cell === 'lstm') k.lstmForward(s.nx, s.nc, s.T, s.m, r.X, 0, r.Wx, 0, r.Wc, 0, r.bx, 0, r.bc, 0, H, 0, S, 0, G, 0);
                  else k.gruForward(s.nx, s.nc, s.T, s.m, r.X, 0, r.Wx, 0, r.Wc, 0, r.bx, 0, r.bc, 0, H, 0, G, 0);
                  for (let i = 0; i < s.nc; i++) {
                    for (let j = 0; j < Tm; j++) out[i * Tm + j] = H[i * ldh + s.m + j];
                    if (cell === 'lstm') for (let j = 0; j < s.m; j++) out[s.nc * Tm + i * s.m + j] = S[i * ldh + Tm + j];
                  }
                  return out;
                };
                for (const loss of [linearLoss(R), squareLoss(R)] as Loss[]) {
                  const grad = loss.grad(run());
                  const dH = grad.subarray(0, s.nc * Tm);
                  const dcT = withDcT ? grad.subarray(s.nc * Tm) : null;
                  const got = runCell(k, cell, f64, r, dH, dcT, { ids, dX: true, dcT: withDcT, offsets: false }, rng);
                  const minus = (a: Float64Array, b: Float64Array) => a.map((v, i) => v - b[i]);
                  const targets: Array<[string, Float64Array, Float64Array]> = [
                    ['dWx', r.Wx, minus(got.dWx, got.start.dWx)], ['dWc', r.Wc, minus(got.dWc, got.start.dWc)],
                    ['dbx', r.bx, minus(got.dbx, got.start.dbx)], ['dbc', r.bc, minus(got.dbc, got.start.dbc)],
                    ['dh0', r.h0, got.dh0],
                  ];
                  if (cell === 'lstm') targets.push(['dc0', r.c0, got.dc0]);
                  if (!ids) targets.push(['dX', r.X as Float64Array, minus(got.dX, got.start.dX)]);
                  for (const [label, theta, analytic] of targets) {
                    const res = fdCheck(label, theta, analytic, run, loss);
                    fdSummary.record(`${cell}${withDcT ? ' with dcT' : ''}`, name, res.maxErr);
                    expect(res.maxErr, `${loss.name}, (${s.nx}, ${s.nc}, ${s.T}, ${s.m}) ${ids ? 'ids' : 'dense'}: ${res.where}`).to.be.at.most(FD_TOL);
                    expect(res.checked).to.equal(theta.length);
                  }
                }
              }
            }
          }
        });
      });
    }

    it(`lstm [${name}]: the seed's generalized Jacobian (n_x = n_c = m = 2, T = 1) gives the closed form's dWx, dWc, dbx, dbc, dX, dh0, dc0`, () => {
      jacobianOracle(k);
    });
  }

  describe('against PyTorch nn.LSTM / nn.GRU (float64, needs python3-torch)', function () {
    const cases: Array<{ cell: CellKind; s: Shape }> = [];
    for (const cell of ['lstm', 'gru'] as CellKind[]) {
      for (const s of [{ nx: 3, nc: 4, T: 3, m: 2 }, { nx: 5, nc: 7, T: 4, m: 3 }, { nx: 1, nc: 1, T: 1, m: 1 }]) {
        cases.push({ cell, s });
      }
    }
    const prepared = cases.map(({ cell, s }) => torchCase(cell, s));
    let answers: TorchOut[] = [];
    before(function () {
      // one process for every case: importing torch is most of the time. No python3, or no
      // torch in it: skipped.
      const p = spawnSync(PYTHON, [SCRIPT], {
        input: JSON.stringify(prepared.map((c) => c.payload)), encoding: 'utf8', timeout: 60000,
        env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
      });
      if (p.error !== undefined && (p.error as NodeJS.ErrnoException).code === 'ENOENT') this.skip();
      if (p.status !== 0 && /No module named '?torch/.test(p.stderr)) this.skip();
      expect(p.error, String(p.error)).to.equal(undefined);
      expect(p.status, p.stderr).to.equal(0);
      answers = JSON.parse(p.stdout) as TorchOut[];
      expect(answers.length).to.equal(prepared.length);
    });
    cases.forEach(({ cell, s }, n) => {
      it(`${cell} (n_x, n_c, T, m) = (${s.nx}, ${s.nc}, ${s.T}, ${s.m}): outputs, every gradient and the initial-state gradients`, () => {
        prepared[n].check(answers[n]);
      });
    });
  });
});

// ---- PyTorch --------------------------------------------------------------------------------

const ROOT = path.resolve(__dirname, '..', '..');
const SCRIPT = path.join(ROOT, 'test', 'fixtures', 'torch_gated.py');
const PYTHON = '/usr/bin/python3';

interface TorchOut {
  H: number[]; hT: number[]; cT: number[] | null;
  dWx: number[]; dWc: number[]; dbx: number[]; dbc: number[]; dX: number[]; dh0: number[]; dc0: number[] | null;
}

/** Our layout (rows, T·m) with column t·m + j  <->  PyTorch's (T, m, rows), flattened. */
function toTorch(a: ArrayLike<number>, rows: number, T: number, m: number): number[] {
  const out: number[] = [];
  for (let t = 0; t < T; t++) for (let j = 0; j < m; j++) for (let i = 0; i < rows; i++) out.push(a[i * T * m + t * m + j]);
  return out;
}
/** (n_c, m) <-> PyTorch's (1, m, n_c) */
function stateToTorch(a: ArrayLike<number>, nc: number, m: number): number[] {
  return toTorch(a, nc, 1, m);
}

/** The payload for torch_gated.py and the check of its answer against the ts twins. */
function torchCase(cell: CellKind, s: Shape): { payload: object; check: (torch: TorchOut) => void } {
  const rng = new Rng(4000 + s.nc * 13 + s.T);
  const r = makeInputs(cell, s, false, rng, 2);
  const Tm = s.T * s.m, ldh = (s.T + 1) * s.m;
  const dH = randomVec(s.nc * Tm, rng);
  const dcT = cell === 'lstm' ? randomVec(s.nc * s.m, rng) : null;
  const payload = {
    cell, nx: s.nx, nc: s.nc, T: s.T, m: s.m,
    Wx: Array.from(r.Wx), Wc: Array.from(r.Wc), bx: Array.from(r.bx), bc: Array.from(r.bc),
    X: toTorch(r.X, s.nx, s.T, s.m), h0: stateToTorch(r.h0, s.nc, s.m),
    c0: stateToTorch(r.c0, s.nc, s.m), dH: toTorch(dH, s.nc, s.T, s.m),
    dcT: dcT === null ? null : stateToTorch(dcT, s.nc, s.m),
  };
  // every implementation against the same answer
  const check = (torch: TorchOut): void => {
    const f64 = DTYPES.find((d) => d.name === 'float64')!;
    const minus = (a: Float64Array, b: Float64Array) => a.map((v, i) => v - b[i]);
    const last = (a: Float64Array) => {
      const o = new Float64Array(s.nc * s.m);
      for (let i = 0; i < s.nc; i++) for (let j = 0; j < s.m; j++) o[i * s.m + j] = a[i * ldh + Tm + j];
      return o;
    };
    const tol = 1e-10;
    for (const { name, k } of implementations()) {
      const got = runCell(k, cell, f64, r, dH, dcT, { ids: false, dX: true, dcT: dcT !== null, offsets: true }, rng);
      const Hseq = new Float64Array(s.nc * Tm);
      for (let i = 0; i < s.nc; i++) for (let j = 0; j < Tm; j++) Hseq[i * Tm + j] = got.H[i * ldh + s.m + j];
      checkClose(`${name} H`, toTorch(Hseq, s.nc, s.T, s.m), torch.H, tol);
      checkClose(`${name} h_T`, stateToTorch(last(got.H), s.nc, s.m), torch.hT, tol);
      checkClose(`${name} weight_ih_l0.grad`, minus(got.dWx, got.start.dWx), torch.dWx, tol);
      checkClose(`${name} weight_hh_l0.grad`, minus(got.dWc, got.start.dWc), torch.dWc, tol);
      checkClose(`${name} bias_ih_l0.grad`, minus(got.dbx, got.start.dbx), torch.dbx, tol);
      checkClose(`${name} bias_hh_l0.grad`, minus(got.dbc, got.start.dbc), torch.dbc, tol);
      checkClose(`${name} input.grad`, toTorch(minus(got.dX, got.start.dX), s.nx, s.T, s.m), torch.dX, tol);
      checkClose(`${name} h0.grad`, stateToTorch(got.dh0, s.nc, s.m), torch.dh0, tol);
      if (cell === 'lstm') {
        checkClose(`${name} c_T`, stateToTorch(last(got.S), s.nc, s.m), torch.cT!, tol);
        checkClose(`${name} c0.grad`, stateToTorch(got.dc0, s.nc, s.m), torch.dc0!, tol);
      }
    }
  };
  return { payload, check };
}

// ---- the seed's generalized Jacobian -------------------------------------------------------

/** rows×cols zero matrix as nested arrays (the generalized Jacobians, stored in full) */
function full(rows: number, cols: number): number[][] {
  return Array.from({ length: rows }, () => new Array<number>(cols).fill(0));
}
/** (P·Q) for full matrices, every index summed */
function matmul(P: number[][], Q: number[][]): number[][] {
  const out = full(P.length, Q[0].length);
  for (let a = 0; a < P.length; a++) {
    for (let b = 0; b < Q[0].length; b++) {
      let s = 0;
      for (let k = 0; k < Q.length; k++) s += P[a][k] * Q[k][b];
      out[a][b] = s;
    }
  }
  return out;
}
const add = (P: number[][], Q: number[][]) => P.map((row, a) => row.map((v, b) => v + Q[a][b]));
/** v·M for a row vector v */
const vecmat = (v: ArrayLike<number>, M: number[][]) => matmul([Array.from(v)], M)[0];

/**
 * n_x = n_c = m = 2, T = 1, J = Σ w⊙h_1 + Σ w'⊙c_1. Element (p, q) of a (rows, m) matrix is
 * index p·m + q; U (4n_c, m) holds the gate pre-activations, Γ = act(U) the gates.
 *   ∂Γ/∂U  (4n_c·m)×(4n_c·m): diagonal, σ' = s(1 − s) and tanh' = 1 − y² from the outputs
 *   ∂c/∂Γ  (n_c·m)×(4n_c·m):  ∂c^(p,q)/∂i^(p,q) = g, /∂f = c0, /∂g = i      ∂c/∂c0 = diag(f)
 *   ∂h/∂Γ  (n_c·m)×(4n_c·m):  ∂h^(p,q)/∂o^(p,q) = tanh(c) (c held fixed)    ∂h/∂c = diag(o(1 − tanh²c))
 *   ∂U/∂Wx (4n_c·m)×(4n_c·n_x): ∂U^(p,q)/∂Wx^(k,l) = x^(l,q) where p = k; likewise ∂U/∂Wc (h0),
 *   ∂U/∂b  = [p = k],  ∂U/∂h0^(k,l) = Wc^(p,k) where q = l,  ∂U/∂x^(k,l) = Wx^(p,k) where q = l
 * dJ/dθ = (w·(∂h/∂Γ + ∂h/∂c·∂c/∂Γ) + w'·∂c/∂Γ)·∂Γ/∂U·∂U/∂θ, dJ/dc0 = (w·∂h/∂c + w')·∂c/∂c0.
 */
function jacobianOracle(k: GatedKernels): void {
  const nx = 2, nc = 2, m = 2, T = 1, N = nc * m, NU = 4 * nc * m;
  const rng = new Rng(2024);
  const r = makeInputs('lstm', { nx, nc, T, m }, false, rng, 2.5);
  const X = r.X as Float64Array;
  const w = randomVec(N, rng), wc = randomVec(N, rng);

  // U and the gates from the definition
  const U = new Float64Array(NU);
  for (let p = 0; p < 4 * nc; p++) {
    for (let q = 0; q < m; q++) {
      let s = r.bx[p] + r.bc[p];
      for (let l = 0; l < nx; l++) s += r.Wx[p * nx + l] * X[l * m + q];
      for (let l = 0; l < nc; l++) s += r.Wc[p * nc + l] * r.h0[l * m + q];
      U[p * m + q] = s;
    }
  }
  const gate = U.map((u, P) => (Math.floor(P / N) === 2 ? Math.tanh(u) : 1 / (1 + Math.exp(-u))));
  const gi = (P: number) => gate[0 * N + P], gf = (P: number) => gate[1 * N + P];
  const gg = (P: number) => gate[2 * N + P], go = (P: number) => gate[3 * N + P];
  const c = Float64Array.from({ length: N }, (_, P) => gf(P) * r.c0[P] + gi(P) * gg(P));
  const h = Float64Array.from({ length: N }, (_, P) => go(P) * Math.tanh(c[P]));

  const dGdU = full(NU, NU);
  for (let P = 0; P < NU; P++) dGdU[P][P] = Math.floor(P / N) === 2 ? 1 - gate[P] ** 2 : gate[P] * (1 - gate[P]);
  const dcdG = full(N, NU), dhdG = full(N, NU), dhdc = full(N, N), dcdc0 = full(N, N);
  for (let P = 0; P < N; P++) {
    dcdG[P][0 * N + P] = gg(P);
    dcdG[P][1 * N + P] = r.c0[P];
    dcdG[P][2 * N + P] = gi(P);
    dhdG[P][3 * N + P] = Math.tanh(c[P]);
    dhdc[P][P] = go(P) * (1 - Math.tanh(c[P]) ** 2);
    dcdc0[P][P] = gf(P);
  }
  const dUdWx = full(NU, 4 * nc * nx), dUdWc = full(NU, 4 * nc * nc), dUdb = full(NU, 4 * nc);
  const dUdh0 = full(NU, nc * m), dUdx = full(NU, nx * m);
  for (let p = 0; p < 4 * nc; p++) {
    for (let q = 0; q < m; q++) {
      const P = p * m + q;
      for (let kk = 0; kk < 4 * nc; kk++) {
        for (let l = 0; l < nx; l++) if (p === kk) dUdWx[P][kk * nx + l] = X[l * m + q];
        for (let l = 0; l < nc; l++) if (p === kk) dUdWc[P][kk * nc + l] = r.h0[l * m + q];
        dUdb[P][kk] = p === kk ? 1 : 0;
      }
      for (let kk = 0; kk < nc; kk++) for (let l = 0; l < m; l++) if (q === l) dUdh0[P][kk * m + l] = r.Wc[p * nc + kk];
      for (let kk = 0; kk < nx; kk++) for (let l = 0; l < m; l++) if (q === l) dUdx[P][kk * m + l] = r.Wx[p * nx + kk];
    }
  }

  // The oracle checked against the forward itself: ∂h/∂Wx = (∂h/∂Γ + ∂h/∂c·∂c/∂Γ)·∂Γ/∂U·∂U/∂Wx,
  // the full (n_c·m)×(4n_c·n_x) generalized Jacobian, equals central differences of h.
  const dhdGtotal = add(dhdG, matmul(dhdc, dcdG));
  const dhdWx = matmul(matmul(dhdGtotal, dGdU), dUdWx);
  const hOf = (): Float64Array => {
    const H = new Float64Array(nc * 2 * m), S = new Float64Array(nc * 2 * m), G = new Float64Array(4 * nc * m);
    for (let i = 0; i < nc; i++) for (let j = 0; j < m; j++) { H[i * 2 * m + j] = r.h0[i * m + j]; S[i * 2 * m + j] = r.c0[i * m + j]; }
    k.lstmForward(nx, nc, T, m, X, 0, r.Wx, 0, r.Wc, 0, r.bx, 0, r.bc, 0, H, 0, S, 0, G, 0);
    return Float64Array.from({ length: N }, (_, P) => H[Math.floor(P / m) * 2 * m + m + (P % m)]);
  };
  const h1 = hOf();
  for (let P = 0; P < N; P++) expect(Math.abs(h1[P] - h[P]), `h[${P}] from the definition`).to.be.at.most(1e-14);
  for (let K = 0; K < 4 * nc * nx; K++) {
    const v = r.Wx[K];
    r.Wx[K] = v + 1e-6;
    const hp = hOf();
    r.Wx[K] = v - 1e-6;
    const hm = hOf();
    r.Wx[K] = v;
    for (let P = 0; P < N; P++) {
      const fd = (hp[P] - hm[P]) / 2e-6;
      expect(Math.abs(fd - dhdWx[P][K]), `∂h[${P}]/∂Wx[${K}]: oracle ${dhdWx[P][K]}, FD ${fd}`).to.be.at.most(1e-8);
    }
  }

  // dJ/dU as a row vector, then every parameter's gradient by the generalized products
  const dJdG = vecmat(w, dhdGtotal).map((v, K) => v + vecmat(wc, dcdG)[K]);
  const dJdU = vecmat(dJdG, dGdU);
  const f64 = DTYPES.find((d) => d.name === 'float64')!;
  const dH = Float64Array.from(w), dcT = Float64Array.from(wc);
  const got = runCell(k, 'lstm', f64, r, dH, dcT, { ids: false, dX: true, dcT: true, offsets: false }, rng);
  const minus = (a: Float64Array, b: Float64Array) => a.map((v, i) => v - b[i]);
  const dJdc0 = vecmat(vecmat(w, dhdc).map((v, K) => v + wc[K]), dcdc0);
  const pairs: Array<[string, ArrayLike<number>, ArrayLike<number>]> = [
    ['dWx', minus(got.dWx, got.start.dWx), vecmat(dJdU, dUdWx)],
    ['dWc', minus(got.dWc, got.start.dWc), vecmat(dJdU, dUdWc)],
    ['dbx', minus(got.dbx, got.start.dbx), vecmat(dJdU, dUdb)],
    ['dbc', minus(got.dbc, got.start.dbc), vecmat(dJdU, dUdb)],
    ['dX', minus(got.dX, got.start.dX), vecmat(dJdU, dUdx)],
    ['dh0', got.dh0, vecmat(dJdU, dUdh0)],
    ['dc0', got.dc0, dJdc0],
  ];
  for (const [label, closed, oracle] of pairs) {
    expect(closed.length, label).to.equal(oracle.length);
    for (let K = 0; K < oracle.length; K++) {
      const e = Math.abs(closed[K] - oracle[K]) / Math.max(1, Math.abs(oracle[K]));
      expect(e, `${label}[${K}]: closed form ${closed[K]}, Jacobian ${oracle[K]}`).to.be.at.most(1e-12);
    }
  }
}
