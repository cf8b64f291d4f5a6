// RNNCell, one step: c = f(Wc·cPrev + Wx·x + b) with its closed-form backward
// (seed eq. 8: dWx = (dC ⊙ f'(C))·xᵀ and likewise for Wc, b, cPrev, x), checked two ways:
//   1. central finite differences in float64 for every element of Wx, Wc, b, cPrev and x;
//   2. the seed's generalized Jacobian built explicitly for n_x=3, n_c=4, m=2 — the
//      (n_c·m)×(n_c·m) matrix ∂c/∂u and the ∂u/∂(Wx, Wc, b, cPrev, x) tensors chained by
//      plain sums over every index (the slow path the seed warns about; a test oracle only).
// Every check runs on each available backend ('native' and 'ts').
import { expect } from 'chai';
import { backends, RNNCell, type Matrix } from '../lib';
import type { Activation, BackendName } from '../lib/backend/types';
import { Rng } from './helpers/check';
import {
  ErrorSummary, FD_TOL, fdCheck, fill, linearLoss, type Loss, printAfter, randomVec, reluPattern, squareLoss,
} from './helpers/gradcheck';

const BACKENDS: BackendName[] = backends.available();
const ACTS: Activation[] = ['tanh', 'relu', 'sigmoid'];
const SHAPES = [
  { nx: 3, nc: 4, m: 2 },
  { nx: 5, nc: 3, m: 1 }, // m = 1
  { nx: 4, nc: 4, m: 3 },
];

/** A float64 cell with O(1) random parameters (larger than the default init, so f' varies). */
function makeCell(backend: BackendName, act: Activation, nx: number, nc: number, rng: Rng): RNNCell {
  const cell = new RNNCell({ inputSize: nx, hiddenSize: nc, activation: act, dtype: 'float64', backend, seed: 7 });
  fill(cell.params.Wx.data, rng, -0.8, 0.8);
  fill(cell.params.Wc.data, rng, -0.8, 0.8);
  fill(cell.params.b.data, rng, -0.5, 0.5);
  return cell;
}

function matrix(rows: number, cols: number, values: Float64Array): Matrix {
  return { rows, cols, data: values };
}

type StepGrads = ReturnType<RNNCell['backward']>;

/**
 * The FD setup both input kinds share: a random cPrev and R (in this order from rng), and for
 * each test loss J(c) the gradients of one step, with run() the output fdCheck perturbs.
 */
function eachLoss(cell: RNNCell, input: Matrix | Int32Array, rng: Rng,
  body: (loss: Loss, g: StepGrads, run: () => ArrayLike<number>, cPrev: Matrix) => void): void {
  const nc = cell.hiddenSize, m = input instanceof Int32Array ? input.length : input.cols;
  const cPrev = matrix(nc, m, randomVec(nc * m, rng, -0.9, 0.9));
  const R = randomVec(nc * m, rng);
  const run = () => cell.forward(input, cPrev).c.data;
  for (const loss of [linearLoss(R), squareLoss(R)] as Loss[]) {
    const { c, cache } = cell.forward(input, cPrev);
    body(loss, cell.backward(matrix(nc, m, loss.grad(c.data)), cache), run, cPrev);
  }
}

const summary = new ErrorSummary('20.cell.step: largest FD relative error |a−b|/max(|a|,|b|,1e-6); FD = central at h = 1e-3 and 5e-4, Richardson-extrapolated');
const jacSummary = new ErrorSummary('20.cell.step: generalized Jacobian vs closed form, largest |a−b|/max(1,|b|)');

describe('20 RNNCell single step', function () {
  printAfter(summary, jacSummary);

  for (const be of BACKENDS) {
    describe(`backend ${be}`, () => {
      describe('finite differences (float64, central, every element of Wx, Wc, b, cPrev, x)', () => {
        for (const { nx, nc, m } of SHAPES) {
          for (const act of ACTS) {
            it(`dense x, (n_x, n_c, m) = (${nx}, ${nc}, ${m}), ${act}, J = Σ R⊙c and Σ R⊙c²`, () => {
              const rng = new Rng(1000 * nx + 100 * nc + 10 * m + ACTS.indexOf(act));
              const cell = makeCell(be, act, nx, nc, rng);
              const x = matrix(nx, m, randomVec(nx * m, rng));
              eachLoss(cell, x, rng, (loss, g, run, cPrev) => {
                expect(g.dx, 'dx of a dense input').to.not.equal(null);
                expect([g.dx!.rows, g.dx!.cols]).to.deep.equal([nx, m]);
                expect([g.dcPrev.rows, g.dcPrev.cols]).to.deep.equal([nc, m]);
                const pattern = act === 'relu' ? reluPattern : undefined;
                const checks = [
                  fdCheck('dWx', cell.params.Wx.data, g.dWx.data, run, loss, pattern),
                  fdCheck('dWc', cell.params.Wc.data, g.dWc.data, run, loss, pattern),
                  fdCheck('db', cell.params.b.data, g.db.data, run, loss, pattern),
                  fdCheck('dcPrev', cPrev.data, g.dcPrev.data, run, loss, pattern),
                  fdCheck('dx', x.data, g.dx!.data, run, loss, pattern),
                ];
                let checked = 0, skipped = 0;
                for (const r of checks) {
                  summary.record(`dense ${act}`, be, r.maxErr);
                  summary.record('all step FD', be, r.maxErr);
                  summary.record('all step FD, plain central h = 1e-5 (info, not asserted)', be, r.plainMaxErr);
                  expect(r.maxErr, `${loss.name}: ${r.where}`).to.be.at.most(FD_TOL);
                  checked += r.checked;
                  skipped += r.skipped;
                }
                // relu: at most a few elements may sit within h of a kink; all others compared
                if (act === 'relu') summary.add('relu: elements skipped at a kink (count)', be, skipped);
                expect(skipped, 'elements skipped at a relu kink').to.be.at.most(2);
                expect(checked).to.equal(nc * nx + nc * nc + nc + nc * m + nx * m - skipped);
              });
            });
          }
        }

        for (const { nx, nc, m } of SHAPES) {
          it(`token ids, (vocab, n_c, m) = (${nx}, ${nc}, ${m}), tanh: dWx by columns (unused columns exactly 0), dWc, db, dcPrev`, () => {
            const rng = new Rng(77 + nx + nc + m);
            const cell = makeCell(be, 'tanh', nx, nc, rng);
            const ids = new Int32Array(m);
            for (let j = 0; j < m; j++) ids[j] = rng.int(nx);
            if (m >= 2) ids[m - 1] = ids[0]; // a repeated id: its column's gradient is a sum
            eachLoss(cell, ids, rng, (loss, g, run, cPrev) => {
              expect(g.dx, 'dx of token ids').to.equal(null);
              const used = new Set(ids);
              for (let l = 0; l < nx; l++) {
                if (used.has(l)) continue;
                for (let k = 0; k < nc; k++) expect(g.dWx.data[k * nx + l], `dWx[${k}, ${l}] (unused id)`).to.equal(0);
              }
              for (const r of [
                fdCheck('dWx', cell.params.Wx.data, g.dWx.data, run, loss),
                fdCheck('dWc', cell.params.Wc.data, g.dWc.data, run, loss),
                fdCheck('db', cell.params.b.data, g.db.data, run, loss),
                fdCheck('dcPrev', cPrev.data, g.dcPrev.data, run, loss),
              ]) {
                summary.record('token ids tanh', be, r.maxErr);
                summary.record('all step FD', be, r.maxErr);
                summary.record('all step FD, plain central h = 1e-5 (info, not asserted)', be, r.plainMaxErr);
                expect(r.maxErr, `${loss.name}: ${r.where}`).to.be.at.most(FD_TOL);
              }
            });
          });
        }
      });

      describe("the seed's generalized Jacobian, built explicitly (n_x=3, n_c=4, m=2)", () => {
        for (const act of ACTS) {
          it(`${act}: ∂J/∂c · ∂c/∂u · ∂u/∂(Wx, Wc, b, cPrev, x) by plain sums equals backward's closed form`, () => {
            const err = jacobianOracle(be, act);
            jacSummary.record(`${act}`, be, err);
          });
        }

        it('∂c/∂u is diagonal: perturbing u^(p,q) leaves every other c^(i,j) bit-identical', () => {
          for (const act of ACTS) activationJacobianIsDiagonal(be, act);
        });
      });
    });
  }
});

// ---------------------------------------------------------------------------------------
// The oracle. Indices follow the seed: u, c ∈ R^{n_c×m} flattened row-major, so entry (i, j)
// is I = i·m + j; Wx ∈ R^{n_c×n_x} entry (k, l) is k·n_x + l; and so on.

function fPrime(act: Activation, u: number): number {
  if (act === 'tanh') {
    const t = Math.tanh(u);
    return 1 - t * t; // the seed's eq. 4, from u
  }
  if (act === 'relu') return u > 0 ? 1 : 0;
  const s = 1 / (1 + Math.exp(-u));
  return s * (1 - s);
}

function fOf(act: Activation, u: number): number {
  if (act === 'tanh') return Math.tanh(u);
  if (act === 'relu') return u > 0 ? u : 0;
  return 1 / (1 + Math.exp(-u));
}

/** rows×cols zero matrix as nested arrays (the generalized Jacobians, stored in full) */
function full(rows: number, cols: number): number[][] {
  return Array.from({ length: rows }, () => new Array<number>(cols).fill(0));
}

/**
 * (∂J/∂θ)^K = Σ_I Σ_P (∂J/∂c)^I · (∂c/∂u)^{I,P} · (∂u/∂θ)^{P,K}: every index summed, zeros
 * included, exactly the generalized matrix product of the seed's eq. 3.
 */
function chain(dJdc: ArrayLike<number>, dcdu: number[][], dudθ: number[][]): Float64Array {
  const nK = dudθ[0].length;
  const out = new Float64Array(nK);
  for (let K = 0; K < nK; K++) {
    let s = 0;
    for (let I = 0; I < dcdu.length; I++) {
      for (let P = 0; P < dcdu.length; P++) s += dJdc[I] * dcdu[I][P] * dudθ[P][K];
    }
    out[K] = s;
  }
  return out;
}

/** Returns the largest scaled difference |a − b| / max(1, |b|) between closed form and oracle. */
function jacobianOracle(be: BackendName, act: Activation): number {
  const nx = 3, nc = 4, m = 2, N = nc * m;
  const rng = new Rng(4242 + ACTS.indexOf(act));
  const cell = makeCell(be, act, nx, nc, rng);
  const Wx = cell.params.Wx.data, Wc = cell.params.Wc.data, b = cell.params.b.data;
  const x = randomVec(nx * m, rng);
  const cPrev = randomVec(nc * m, rng, -0.9, 0.9);
  const R = randomVec(N, rng);

  // u = Wc·cPrev + Wx·x + b, computed here from the definition
  const u = new Float64Array(N);
  for (let p = 0; p < nc; p++) {
    for (let q = 0; q < m; q++) {
      let s = b[p];
      for (let l = 0; l < nc; l++) s += Wc[p * nc + l] * cPrev[l * m + q];
      for (let l = 0; l < nx; l++) s += Wx[p * nx + l] * x[l * m + q];
      u[p * m + q] = s;
    }
  }
  const { c, cache } = cell.forward(matrix(nx, m, x), matrix(nc, m, cPrev));
  for (let I = 0; I < N; I++) expect(Math.abs(c.data[I] - fOf(act, u[I])), `c[${I}] = f(u)`).to.be.at.most(1e-14);

  // ∂c/∂u: (n_c·m)×(n_c·m); (∂c/∂u)^{(i,j),(p,q)} = ∂c^{(i,j)}/∂u^{(p,q)} = f'(u^{(i,j)}) if (i,j) = (p,q), else 0
  const dcdu = full(N, N);
  for (let I = 0; I < N; I++) dcdu[I][I] = fPrime(act, u[I]);
  // ∂u/∂Wx: (n_c·m)×(n_c·n_x); ∂u^{(p,q)}/∂Wx^{(k,l)} = x^{(l,q)} where p = k, else 0
  const dudWx = full(N, nc * nx);
  // ∂u/∂Wc: (n_c·m)×(n_c·n_c); ∂u^{(p,q)}/∂Wc^{(k,l)} = cPrev^{(l,q)} where p = k
  const dudWc = full(N, nc * nc);
  // ∂u/∂b: (n_c·m)×n_c; ∂u^{(p,q)}/∂b^{(k)} = 1 where p = k
  const dudb = full(N, nc);
  // ∂u/∂cPrev: (n_c·m)×(n_c·m); ∂u^{(p,q)}/∂cPrev^{(k,l)} = Wc^{(p,k)} where q = l
  const dudcPrev = full(N, nc * m);
  // ∂u/∂x: (n_c·m)×(n_x·m); ∂u^{(p,q)}/∂x^{(k,l)} = Wx^{(p,k)} where q = l
  const dudx = full(N, nx * m);
  for (let p = 0; p < nc; p++) {
    for (let q = 0; q < m; q++) {
      const P = p * m + q;
      for (let k = 0; k < nc; k++) {
        for (let l = 0; l < nx; l++) if (p === k) dudWx[P][k * nx + l] = x[l * m + q];
        for (let l = 0; l < nc; l++) if (p === k) dudWc[P][k * nc + l] = cPrev[l * m + q];
        dudb[P][k] = p === k ? 1 : 0;
        for (let l = 0; l < m; l++) if (q === l) dudcPrev[P][k * m + l] = Wc[p * nc + k];
      }
      for (let k = 0; k < nx; k++) {
        for (let l = 0; l < m; l++) if (q === l) dudx[P][k * m + l] = Wx[p * nx + k];
      }
    }
  }

  // The oracle itself is checked against the forward pass: ∂c/∂u·∂u/∂Wx (the full
  // generalized Jacobian ∂c/∂Wx, (n_c·m)×(n_c·n_x)) equals central differences of c.
  const dcdWx = full(N, nc * nx);
  for (let I = 0; I < N; I++) {
    for (let K = 0; K < nc * nx; K++) {
      let s = 0;
      for (let P = 0; P < N; P++) s += dcdu[I][P] * dudWx[P][K];
      dcdWx[I][K] = s;
    }
  }
  for (let K = 0; K < nc * nx; K++) {
    const v = Wx[K];
    Wx[K] = v + 1e-6;
    const cp = Array.from(cell.forward(matrix(nx, m, x), matrix(nc, m, cPrev)).c.data);
    Wx[K] = v - 1e-6;
    const cm = Array.from(cell.forward(matrix(nx, m, x), matrix(nc, m, cPrev)).c.data);
    Wx[K] = v;
    for (let I = 0; I < N; I++) {
      const fd = (cp[I] - cm[I]) / 2e-6;
      expect(Math.abs(fd - dcdWx[I][K]), `∂c[${I}]/∂Wx[${K}]: oracle ${dcdWx[I][K]}, FD ${fd}`).to.be.at.most(1e-8);
    }
  }

  let worst = 0;
  for (const loss of [linearLoss(R), squareLoss(R)]) {
    const dJdc = loss.grad(c.data);
    const g = cell.backward(matrix(nc, m, dJdc), cache);
    const pairs: Array<[string, ArrayLike<number>, number[][]]> = [
      ['dWx', g.dWx.data, dudWx], ['dWc', g.dWc.data, dudWc], ['db', g.db.data, dudb],
      ['dcPrev', g.dcPrev.data, dudcPrev], ['dx', g.dx!.data, dudx],
    ];
    for (const [name, closed, dudθ] of pairs) {
      const oracle = chain(dJdc, dcdu, dudθ);
      expect(closed.length, name).to.equal(oracle.length);
      for (let K = 0; K < oracle.length; K++) {
        const e = Math.abs(closed[K] - oracle[K]) / Math.max(1, Math.abs(oracle[K]));
        worst = Math.max(worst, e);
        expect(e, `${loss.name}, ${name}[${K}]: closed form ${closed[K]}, Jacobian ${oracle[K]}`).to.be.at.most(1e-12);
      }
    }
  }
  return worst;
}

/**
 * The seed's claim that ∂c^{(i,j)}/∂u^{(p,q)} = 0 for (i,j) ≠ (p,q), tested on the
 * backend's activation kernel itself (not assumed): perturbing one u^{(p,q)} must leave every
 * other output bit-identical — so every off-diagonal difference quotient is exactly 0 — for
 * small and large steps alike (a large step makes even a faint coupling change some bits),
 * while the diagonal difference quotient matches f'(u).
 */
function activationJacobianIsDiagonal(be: BackendName, act: Activation): void {
  const k = backends.get(be);
  const nc = 4, m = 2, N = nc * m;
  const rng = new Rng(99 + ACTS.indexOf(act));
  const U = randomVec(N, rng, -2, 2);
  const apply = (u: Float64Array) => {
    const out = new Float64Array(N);
    k.activationForward(act, nc, m, u, 0, m, out, 0, m);
    return out;
  };
  const c0 = apply(U);
  for (let P = 0; P < N; P++) {
    for (const h of [1e-6, 1e-3, 0.5]) {
      const up = Float64Array.from(U), um = Float64Array.from(U);
      up[P] += h;
      um[P] -= h;
      const cp = apply(up), cm = apply(um);
      for (let I = 0; I < N; I++) {
        if (I === P) {
          if (h !== 1e-6) continue;
          const fd = (cp[I] - cm[I]) / (up[P] - um[P]);
          expect(Math.abs(fd - fPrime(act, U[P])), `${act}: diagonal ${P}`).to.be.at.most(1e-8);
        } else {
          expect(cp[I], `${act}: c[${I}] after perturbing u[${P}] by +${h}`).to.equal(c0[I]);
          expect(cm[I], `${act}: c[${I}] after perturbing u[${P}] by −${h}`).to.equal(c0[I]);
          expect((cp[I] - cm[I]) / (2 * h), `${act}: off-diagonal (${I}, ${P})`).to.equal(0);
        }
      }
    }
  }
}
