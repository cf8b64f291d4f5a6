// RNNModel: gradients of the whole stacked model against finite differences for every
// parameter, native against ts, float32 against float64, initialization, argument errors,
// the memory guard and sampling (against a sampler written here from the definitions).
import { expect } from 'chai';
import { backends, Random, RNNModel } from '../lib';
import type { BackendName, DType, FloatArray } from '../lib';
import type { ModelInput, ModelTarget, RNNModelOptions } from '../lib/nn/model';
import { orthogonalInit } from '../lib/nn/init';
import { checkClose, measuredLog, Rng } from './helpers/check';
import {
  central4, expectEveryEntryHasGradient, expectMetricFlagsOneOff, minAbs, paramName, perParameterFd,
  worstRelative as worstRelativeFloored,
} from './helpers/model-fd';

const BACKENDS: BackendName[] = backends.available();

// ---------------------------------------------------------------------------------------
// Finite differences.
//
// Metric: err_i = |a_i − n_i| / max(|a_i|, |n_i|, FLOOR), a = analytic, n = numeric;
// pass when max_i err_i ≤ 1e-7.
//
// Stencil: the fourth-order central difference
//   n_i = (−J(θ+2h) + 8J(θ+h) − 8J(θ−h) + J(θ−2h)) / (12h),  h = 1e-3.
// Why not the two-point central difference at h = 1e-5: it is rounding-limited. J is O(1)
// and a float64 loss summed over the batch carries ~1e-15 of rounding noise, so n_i has
// noise ≈ 1e-15/h ≈ 1e-10 — measured 3.6e-11 absolute, i.e. 1.3e-7 relative on the
// smallest gradient (2e-4) of the 2-layer model, above the bar. Its truncation error
// h²·J'''/6 forbids a larger h (h = 1e-4: 7e-10 absolute). The 4th-order stencil has
// truncation h⁴·J⁽⁵⁾/30 ≈ 1e-13 and noise ≈ 1.5·1e-15/h ≈ 1e-12 at h = 1e-3, so both terms
// sit ~3 orders below what the bar allows (measured worst ≈ 1e-9 relative).
// FLOOR = 1e-4: below it a component counts absolutely, err ≤ 1e-7 meaning ≤ 1e-11 absolute
// — still ~10× the stencil's noise, and 1e-4 is below every gradient these models have
// (smallest seen 2e-4), so in practice the bar is purely relative. A check that the metric
// flags a 1e-6 relative perturbation of one gradient keeps the test honest.
// ---------------------------------------------------------------------------------------
const FD_H = 1e-3;
const FD_FLOOR = 1e-4;
const FD_TOL = 1e-7;

interface FdCase {
  label: string;
  options: Omit<RNNModelOptions, 'backend' | 'dtype'>;
  T: number;
  m: number;
  batch(rng: Rng, model: RNNModel): { input: ModelInput; target: ModelTarget };
}

function tokenBatch(V: number, T: number, m: number, ignoreEvery: number) {
  return (rng: Rng, model: RNNModel) => {
    const ids = new Int32Array(T * m).map(() => rng.int(V));
    const target = new Int32Array(T * m).map((_, k) => (k % ignoreEvery === 2 ? -1 : rng.int(model.config.outputSize)));
    return { input: { ids, steps: T, batch: m }, target };
  };
}

function denseBatch(nx: number, ny: number, T: number, m: number) {
  return (rng: Rng, model: RNNModel) => {
    const mk = (n: number) => { const a = new Float64Array(n); for (let k = 0; k < n; k++) a[k] = rng.uniform(-1, 1); return a; };
    void model;
    return {
      input: { rows: nx, steps: T, batch: m, data: mk(nx * T * m) },
      target: { rows: ny, steps: T, batch: m, data: mk(ny * T * m) },
    };
  };
}

const FD_CASES: FdCase[] = [
  { label: '1 layer, tokens, cross-entropy, ignored columns', options: { vocabSize: 5, hiddenSize: 4, seed: 3 }, T: 4, m: 3,
    batch: tokenBatch(5, 4, 3, 5) },
  { label: '2 layers, tokens, cross-entropy, ignored columns', options: { vocabSize: 5, hiddenSize: 4, numLayers: 2, seed: 3 }, T: 4, m: 3,
    batch: tokenBatch(5, 4, 3, 5) },
  { label: '2 layers, tokens, outputSize ≠ vocabSize, m = 1', options: { vocabSize: 6, outputSize: 3, hiddenSize: 3, numLayers: 2, seed: 8 },
    T: 5, m: 1, batch: tokenBatch(6, 5, 1, 4) },
  { label: '1 layer, dense, MSE', options: { inputSize: 3, outputSize: 2, hiddenSize: 4, loss: 'mse', seed: 5 }, T: 4, m: 2,
    batch: denseBatch(3, 2, 4, 2) },
  { label: '2 layers, dense, MSE', options: { inputSize: 3, outputSize: 2, hiddenSize: 4, numLayers: 2, loss: 'mse', seed: 5 }, T: 3, m: 2,
    batch: denseBatch(3, 2, 3, 2) },
];

/** Numeric gradients of model.loss for every parameter: 4th-order and (for the record) 2-point. */
function numericGradients(model: RNNModel, input: ModelInput, target: ModelTarget): { fd4: Float64Array; fd2: Float64Array } {
  const loss = () => model.loss(input, target);
  return { fd4: perParameterFd(model, loss, central4(FD_H)), fd2: perParameterFd(model, loss, (J) => (J(1e-5) - J(-1e-5)) / 2e-5) };
}

const worstRelative = (a: ArrayLike<number>, n: ArrayLike<number>) => worstRelativeFloored(a, n, FD_FLOOR);

const measured = measuredLog('40');

describe('40 RNNModel gradients vs finite differences (float64, every parameter)', () => {
  for (const name of BACKENDS) {
    for (const c of FD_CASES) {
      it(`[${name}] ${c.label}`, () => {
        const model = new RNNModel({ ...c.options, dtype: 'float64', backend: name });
        const { input, target } = c.batch(new Rng(11), model);
        const loss = model.lossAndGradients(input, target);
        expect(Number.isFinite(loss)).to.equal(true);
        const analytic = model.grads.slice();
        // the loss with gradients equals the loss alone
        expect(model.loss(input, target)).to.equal(loss);
        const { fd4, fd2 } = numericGradients(model, input, target);
        const w4 = worstRelative(analytic, fd4), w2 = worstRelative(analytic, fd2);
        const minG = minAbs(analytic);
        measured.push(`FD [${name}] ${c.label}: ${model.size} params, loss ${loss.toFixed(4)}, max rel err ` +
          `${w4.err.toExponential(2)} (4th-order, h=1e-3); 2-point h=1e-5 would give ${w2.err.toExponential(2)}; min |g| ${minG.toExponential(1)}`);
        expect(w4.err, `worst at ${paramName(model, w4.index)}: analytic ${analytic[w4.index]}, numeric ${fd4[w4.index]}`)
          .to.be.at.most(FD_TOL);
        // every parameter has a gradient that matters (nothing silently dropped)
        expectEveryEntryHasGradient(model, analytic);
      });
    }
  }

  it('the metric flags one gradient off by a relative 1e-6 (the check can fail)', () => {
    const c = FD_CASES[1];
    const model = new RNNModel({ ...c.options, dtype: 'float64', backend: 'ts' });
    const { input, target } = c.batch(new Rng(11), model);
    model.lossAndGradients(input, target);
    const analytic = model.grads.slice();
    const { fd4 } = numericGradients(model, input, target);
    expectMetricFlagsOneOff(analytic, fd4, model.entry('rnn.weight_hh_l0').offset + 5, FD_TOL, worstRelative);
  });

  it('ignored targets (−1) contribute nothing: same loss and gradients as the batch without those columns', () => {
    // m = 2, the second example fully ignored → equals the m = 1 batch of the first example.
    for (const name of BACKENDS) {
      const model = new RNNModel({ vocabSize: 5, hiddenSize: 4, numLayers: 2, dtype: 'float64', backend: name, seed: 2 });
      const T = 4, rng = new Rng(4);
      const ids2 = new Int32Array(T * 2).map(() => rng.int(5));
      const tg2 = new Int32Array(T * 2).map((_, k) => (k % 2 === 1 ? -1 : rng.int(5)));
      const ids1 = ids2.filter((_, k) => k % 2 === 0), tg1 = tg2.filter((_, k) => k % 2 === 0);
      const l2 = model.lossAndGradients({ ids: ids2, steps: T, batch: 2 }, tg2);
      const g2 = model.grads.slice();
      const l1 = model.lossAndGradients({ ids: ids1, steps: T, batch: 1 }, tg1);
      checkClose(`${name} loss`, [l2], [l1], 1e-14);
      checkClose(`${name} grads`, g2, model.grads, 1e-14);
      // all ignored → loss 0, gradients 0
      expect(model.lossAndGradients({ ids: ids2, steps: T, batch: 2 }, new Int32Array(T * 2).fill(-1))).to.equal(0);
      expect(model.grads.every((g) => g === 0)).to.equal(true);
    }
  });
});

describe('40 RNNModel across backends and dtypes', () => {
  const batchFor = (V: number, T: number, m: number, seed: number) => {
    const rng = new Rng(seed);
    return {
      input: { ids: new Int32Array(T * m).map(() => rng.int(V)), steps: T, batch: m },
      target: new Int32Array(T * m).map((_, k) => (k % 7 === 3 ? -1 : rng.int(V))),
    };
  };

  it('native equals ts for the same seed (float64: params identical, loss and gradients ~1e-12)', function () {
    if (!BACKENDS.includes('native')) this.skip();
    for (const layers of [1, 2]) {
      const opts = { vocabSize: 11, hiddenSize: 24, numLayers: layers, dtype: 'float64' as DType, seed: 7 };
      const a = new RNNModel({ ...opts, backend: 'native' }), b = new RNNModel({ ...opts, backend: 'ts' });
      expect(Buffer.compare(Buffer.from(a.params.buffer), Buffer.from(b.params.buffer))).to.equal(0);
      const { input, target } = batchFor(11, 9, 5, 1);
      const la = a.lossAndGradients(input, target), lb = b.lossAndGradients(input, target);
      checkClose(`L=${layers} loss`, [la], [lb], 1e-12);
      checkClose(`L=${layers} grads`, a.grads, b.grads, 1e-12);
    }
    // dense + MSE
    const dOpts = { inputSize: 4, outputSize: 3, hiddenSize: 16, numLayers: 2, loss: 'mse' as const, dtype: 'float64' as DType, seed: 1 };
    const a = new RNNModel({ ...dOpts, backend: 'native' }), b = new RNNModel({ ...dOpts, backend: 'ts' });
    const { input, target } = denseBatch(4, 3, 6, 3)(new Rng(2), a);
    checkClose('mse loss', [a.lossAndGradients(input, target)], [b.lossAndGradients(input, target)], 1e-12);
    checkClose('mse grads', a.grads, b.grads, 1e-12);
  });

  for (const name of BACKENDS) {
    it(`[${name}] float32 agrees with float64 to float32 accuracy`, () => {
      const opts = { vocabSize: 9, hiddenSize: 32, numLayers: 2, seed: 4, backend: name };
      const m32 = new RNNModel({ ...opts, dtype: 'float32' }), m64 = new RNNModel({ ...opts, dtype: 'float64' });
      // float32 params are the float64 ones rounded once
      checkClose('params', m32.params, Float32Array.from(m64.params), 0);
      const { input, target } = batchFor(9, 12, 6, 3);
      const l32 = m32.lossAndGradients(input, target), l64 = m64.lossAndGradients(input, target);
      checkClose('loss', [l32], [l64], 1e-5);
      // gradients are O(1e-2); float32 accumulation over T·m = 72 columns and 2 layers
      checkClose('grads', m32.grads, m64.grads, 2e-5);
      expect(Math.abs(l32 - l64)).to.be.greaterThan(0); // really two dtypes
    });
  }
});

describe('40 RNNModel initialization', () => {
  const H = 64;
  for (const name of BACKENDS) {
    it(`[${name}] PyTorch default: weights and head U(±1/√H); bias = b_ih + b_hh in (±2/√H)`, () => {
      const model = new RNNModel({ vocabSize: 20, hiddenSize: H, numLayers: 2, dtype: 'float64', backend: name, seed: 1 });
      const k = 1 / Math.sqrt(H);
      for (const e of model.entries) {
        const v = model.view(e.name);
        const bound = e.name.startsWith('rnn.bias') ? 2 * k : k;
        let max = 0, sum = 0;
        for (const x of v) { max = Math.max(max, Math.abs(x)); sum += x; }
        expect(max, `${e.name} max |w|`).to.be.at.most(bound);
        // the whole range is used (a wrong scale such as k/2 or 1/H would fail here)
        if (e.size >= 1000) expect(max, `${e.name} max |w|`).to.be.greaterThan(0.95 * bound);
        if (e.size >= 1000) expect(Math.abs(sum / e.size), `${e.name} mean`).to.be.lessThan(0.1 * k);
        if (e.name.startsWith('rnn.bias')) expect(max, `${e.name} exceeds 1/√H somewhere`).to.be.greaterThan(k);
      }
      // a layer-1 input matrix is H×H, the layer-0 one H×vocab
      expect(model.entry('rnn.weight_ih_l0')).to.include({ rows: H, cols: 20 });
      expect(model.entry('rnn.weight_ih_l1')).to.include({ rows: H, cols: H });
      expect(model.entry('head.weight')).to.include({ rows: 20, cols: H });
    });
  }

  it('same seed → identical params (on every backend and dtype); different seed → different', () => {
    const make = (seed: number, backend: BackendName, dtype: DType = 'float64') =>
      new RNNModel({ vocabSize: 7, hiddenSize: 16, numLayers: 2, dtype, backend, seed }).params;
    const ref = make(5, 'ts');
    for (const name of BACKENDS) {
      expect(Array.from(make(5, name))).to.deep.equal(Array.from(ref));
      const other = make(6, name);
      let same = 0;
      for (let i = 0; i < other.length; i++) if (other[i] === ref[i]) same++;
      expect(same, 'coinciding values between seeds 5 and 6').to.be.lessThan(3);
    }
    // the default seed is 0, stated and reproducible
    expect(Array.from(new RNNModel({ vocabSize: 7, hiddenSize: 16, numLayers: 2, dtype: 'float64', backend: 'ts' }).params))
      .to.deep.equal(Array.from(make(0, 'ts')));
  });

  it("init: 'xavier' bounds √(6/(fanIn+fanOut)); 'orthogonal' gives WcᵀWc = I", () => {
    const nx = 12;
    const x = new RNNModel({ vocabSize: nx, hiddenSize: H, dtype: 'float64', backend: 'ts', seed: 2, init: 'xavier' });
    for (const [pname, fanIn] of [['rnn.weight_ih_l0', nx], ['rnn.weight_hh_l0', H]] as const) {
      const bound = Math.sqrt(6 / (fanIn + H));
      let max = 0;
      for (const v of x.view(pname)) max = Math.max(max, Math.abs(v));
      expect(max, pname).to.be.at.most(bound).and.greaterThan(0.95 * bound);
    }
    const o = new RNNModel({ vocabSize: nx, hiddenSize: H, numLayers: 2, dtype: 'float64', backend: 'ts', seed: 2, init: 'orthogonal' });
    for (const l of [0, 1]) {
      const W = o.view(`rnn.weight_hh_l${l}`);
      let worst = 0;
      for (let i = 0; i < H; i++) {
        for (let j = 0; j < H; j++) {
          let s = 0;
          for (let r = 0; r < H; r++) s += W[r * H + i] * W[r * H + j];
          worst = Math.max(worst, Math.abs(s - (i === j ? 1 : 0)));
        }
      }
      expect(worst, `layer ${l} |WcᵀWc − I|`).to.be.lessThan(1e-12);
    }
    expect(Array.from(o.view('rnn.weight_hh_l0'))).to.not.deep.equal(Array.from(x.view('rnn.weight_hh_l0')));
    // non-square: a tall matrix gets orthonormal columns, a wide one orthonormal rows
    for (const [rows, cols] of [[7, 3], [3, 7]]) {
      const a = new Float64Array(rows * cols);
      orthogonalInit(new Random(1), a, rows, cols);
      const n = Math.min(rows, cols);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          if (rows > cols) for (let r = 0; r < rows; r++) s += a[r * cols + i] * a[r * cols + j];
          else for (let c = 0; c < cols; c++) s += a[i * cols + c] * a[j * cols + c];
          expect(Math.abs(s - (i === j ? 1 : 0)), `${rows}x${cols} (${i},${j})`).to.be.lessThan(1e-12);
        }
      }
    }
  });
});

describe('40 RNNModel argument errors name the argument', () => {
  const base = { vocabSize: 5, hiddenSize: 4, backend: 'ts' as const };
  const cases: Array<[string, unknown, ErrorConstructor | RangeErrorConstructor | TypeErrorConstructor, RegExp]> = [
    ['no options', undefined, TypeError, /options/],
    ['vocabSize 0', { ...base, vocabSize: 0 }, RangeError, /new RNNModel: vocabSize must be a positive integer, got 0/],
    ['vocabSize 2.5', { ...base, vocabSize: 2.5 }, RangeError, /vocabSize/],
    ['hiddenSize missing', { vocabSize: 5 }, TypeError, /hiddenSize/],
    ['hiddenSize "4"', { ...base, hiddenSize: '4' }, TypeError, /hiddenSize must be a positive integer, got the string '4'/],
    ['numLayers 0', { ...base, numLayers: 0 }, RangeError, /numLayers/],
    ['vocabSize and inputSize', { ...base, inputSize: 3 }, TypeError, /exactly one of vocabSize .* or inputSize/],
    ['neither vocabSize nor inputSize', { hiddenSize: 4 }, TypeError, /exactly one of vocabSize/],
    ['dense without outputSize', { inputSize: 3, hiddenSize: 4 }, TypeError, /outputSize is required/],
    ['outputSize -1', { ...base, outputSize: -1 }, RangeError, /outputSize/],
    ['loss', { ...base, loss: 'hinge' }, TypeError, /loss must be/],
    ['activation', { ...base, activation: 'gelu' }, TypeError, /activation must be/],
    ['dtype', { ...base, dtype: 'float16' }, TypeError, /dtype must be 'float32' or 'float64'/],
    ['init', { ...base, init: 'he' }, TypeError, /init must be/],
    ['seed', { ...base, seed: 1.5 }, TypeError, /seed must be an integer/],
    ['backend', { ...base, backend: 'gpu' }, TypeError, /backend must be/],
  ];
  for (const [label, options, type, re] of cases) {
    it(`new RNNModel: ${label}`, () => {
      expect(() => new RNNModel(options as RNNModelOptions)).to.throw(type as ErrorConstructor, re);
    });
  }

  it('batches: each wrong piece is named (tokens + cross-entropy)', () => {
    const model = new RNNModel({ ...base, dtype: 'float64' });
    const ids = new Int32Array(6), tg = new Int32Array(6);
    const f = (input: unknown, target: unknown) => () => model.lossAndGradients(input as ModelInput, target as ModelTarget);
    expect(f({ ids: new Float64Array(6), steps: 3, batch: 2 }, tg)).to.throw(TypeError, /lossAndGradients: input must be a TokenSequence/);
    expect(f({ ids, steps: 0, batch: 2 }, tg)).to.throw(RangeError, /input\.steps/);
    expect(f({ ids, steps: 3, batch: 1.5 }, tg)).to.throw(RangeError, /input\.batch/);
    expect(f({ ids, steps: 4, batch: 2 }, tg)).to.throw(RangeError, /input\.ids must be 8 ids/);
    expect(f({ ids: Int32Array.of(0, 1, 5, 0, 0, 0), steps: 3, batch: 2 }, tg)).to.throw(RangeError, /input\.ids\[2\] must be a token id in \[0, 5\), got 5/);
    expect(f({ ids, steps: 3, batch: 2 }, new Float32Array(6))).to.throw(TypeError, /target must be an Int32Array/);
    expect(f({ ids, steps: 3, batch: 2 }, new Int32Array(5))).to.throw(RangeError, /target must be 6 class ids/);
    expect(f({ ids, steps: 3, batch: 2 }, Int32Array.of(0, 0, 0, -2, 0, 0))).to.throw(RangeError, /target\[3\]/);
    expect(() => model.loss({ ids, steps: 3, batch: 2 }, Int32Array.of(0, 0, 0, 0, 0, 5))).to.throw(RangeError, /RNNModel\.loss: target\[5\]/);
  });

  it('batches: each wrong piece is named (dense + MSE)', () => {
    const model = new RNNModel({ inputSize: 3, outputSize: 2, hiddenSize: 4, loss: 'mse', dtype: 'float64', backend: 'ts' });
    const seq = (rows: number, T: number, m: number, A: typeof Float64Array | typeof Float32Array = Float64Array) =>
      ({ rows, steps: T, batch: m, data: new A(rows * T * m) });
    const f = (input: unknown, target: unknown) => () => model.lossAndGradients(input as ModelInput, target as ModelTarget);
    expect(f({ ids: new Int32Array(4), steps: 2, batch: 2 }, seq(2, 2, 2))).to.throw(TypeError, /input must be a Sequence/);
    expect(f(seq(3, 2, 2, Float32Array), seq(2, 2, 2))).to.throw(TypeError, /input\.data must be float64 data/);
    expect(f(seq(4, 2, 2), seq(2, 2, 2))).to.throw(RangeError, /input\.rows must be 3, got 4/);
    expect(f({ ...seq(3, 2, 2), data: new Float64Array(11) }, seq(2, 2, 2))).to.throw(RangeError, /input\.data must be 12 values/);
    expect(f(seq(3, 2, 2), new Int32Array(4))).to.throw(TypeError, /target must be a Sequence/);
    expect(f(seq(3, 2, 2), seq(2, 2, 2, Float32Array))).to.throw(TypeError, /target\.data must be float64 data/);
    expect(f(seq(3, 2, 2), seq(2, 3, 2))).to.throw(RangeError, /target must be a 2 x \(2·2\) Sequence, got 2 x \(3·2\)/);
    expect(f(seq(3, 2, 2), seq(3, 2, 2))).to.throw(RangeError, /target must be a 2 x/);
  });
});

describe('40 RNNModel memory guard', () => {
  let saved: string | undefined;
  beforeEach(() => { saved = process.env.NATIVE_RNN_MAX_BYTES; });
  afterEach(() => {
    if (saved === undefined) delete process.env.NATIVE_RNN_MAX_BYTES;
    else process.env.NATIVE_RNN_MAX_BYTES = saved;
  });

  it('a model whose params + grads exceed NATIVE_RNN_MAX_BYTES throws RangeError before allocating', () => {
    process.env.NATIVE_RNN_MAX_BYTES = String(64 * 1024);
    // 100·100 + 100·100 + 100 + 100·100 + 100 = 30 200 params → 2·30 200·4 = 241 600 bytes
    expect(() => new RNNModel({ vocabSize: 100, hiddenSize: 100, backend: 'ts' }))
      .to.throw(RangeError, /a model of 30200 parameters \(with gradients\) needs 235\.9 KiB, more than the 64\.0 KiB allowed \(set NATIVE_RNN_MAX_BYTES/);
    // just under the limit it is built
    expect(() => new RNNModel({ vocabSize: 10, hiddenSize: 20, backend: 'ts' })).to.not.throw();
    // a model that could never be allocated fails with the guard's message, not V8's
    // "Array buffer allocation failed" / "Invalid typed array length" (so nothing was tried)
    expect(() => new RNNModel({ vocabSize: 100, hiddenSize: 2 ** 30, backend: 'ts' }))
      .to.throw(RangeError, /parameters \(with gradients\) needs .* more than/);
  });

  it('the workspace of a too-large batch throws RangeError and is not kept', () => {
    process.env.NATIVE_RNN_MAX_BYTES = String(1024 * 1024);
    for (const name of BACKENDS) {
      const model = new RNNModel({ vocabSize: 10, hiddenSize: 32, backend: name });
      const T = 200, m = 64;
      const batch = { ids: new Int32Array(T * m), steps: T, batch: m };
      expect(() => model.lossAndGradients(batch, new Int32Array(T * m)))
        .to.throw(RangeError, /the buffers of a batch of 64 sequences of 200 steps needs .* more than the 1\.0 MiB allowed/);
      expect(model.workspacesByShape()).to.have.length(0);
      const small = { ids: new Int32Array(20), steps: 10, batch: 2 };
      expect(Number.isFinite(model.lossAndGradients(small, new Int32Array(20)))).to.equal(true);
    }
  });
});

// ---------------------------------------------------------------------------------------
// Sampling, against a sampler written here from the definitions: c_t^l = tanh(Wx^l x + Wc^l
// c_{t−1}^l + b^l) with x the one-hot token for l = 0, logits = Wy c^L + by, the next token
// drawn by Random.choice from softmax(logits / temperature); the prime is fed from zero
// state (token 0 when there is none) and the first draw follows its last token.
// ---------------------------------------------------------------------------------------
function referenceSample(model: RNNModel, o: { length: number; temperature?: number; prime?: number[]; seed?: number; stopAt?: number }): number[] {
  const { numLayers: L, hiddenSize: H, outputSize: V } = model.config;
  const get = (n: string): FloatArray => model.view(n);
  const state = Array.from({ length: L }, () => new Float64Array(H));
  let logits = new Float64Array(V);
  const feed = (id: number) => {
    let below: Float64Array | null = null;
    for (let l = 0; l < L; l++) {
      const Wx = get(`rnn.weight_ih_l${l}`), Wc = get(`rnn.weight_hh_l${l}`), b = get(`rnn.bias_l${l}`);
      const nx = l === 0 ? model.config.inputSize : H;
      const next = new Float64Array(H);
      for (let i = 0; i < H; i++) {
        let u = b[i] + (l === 0 ? Wx[i * nx + id] : 0);
        if (below) for (let j = 0; j < H; j++) u += Wx[i * nx + j] * below[j];
        for (let j = 0; j < H; j++) u += Wc[i * H + j] * state[l][j];
        next[i] = Math.tanh(u);
      }
      state[l] = next;
      below = next;
    }
    const Wy = get('head.weight'), by = get('head.bias');
    logits = new Float64Array(V);
    for (let v = 0; v < V; v++) {
      let s = by[v];
      for (let j = 0; j < H; j++) s += Wy[v * H + j] * state[L - 1][j];
      logits[v] = s;
    }
  };
  const temp = o.temperature ?? 1;
  const rng = new Random(o.seed ?? 0);
  for (const id of o.prime && o.prime.length ? o.prime : [0]) feed(id);
  const out: number[] = [];
  for (let n = 0; n < o.length; n++) {
    const z = Array.from(logits, (x) => x / temp);
    const mx = Math.max(...z);
    const e = z.map((x) => Math.exp(x - mx));
    const s = e.reduce((a, b) => a + b, 0);
    const next = rng.choice(e.map((x) => x / s));
    out.push(next);
    if (next === o.stopAt) break;
    feed(next);
  }
  return out;
}

describe('40 RNNModel.sample', () => {
  for (const name of BACKENDS) {
    // A model with some structure: weights scaled up so the distributions are far from uniform.
    const make = () => {
      const model = new RNNModel({ vocabSize: 6, hiddenSize: 8, numLayers: 2, dtype: 'float64', backend: name, seed: 12 });
      for (let i = 0; i < model.size; i++) model.params[i] *= 4;
      return model;
    };

    it(`[${name}] equals the reference sampler (prime, temperature, seed)`, () => {
      const model = make();
      for (const o of [
        { length: 40, seed: 1 },
        { length: 40, seed: 1, prime: [3, 1, 4] },
        { length: 40, seed: 2, prime: [3, 1, 4], temperature: 0.5 },
        { length: 40, seed: 2, prime: [5], temperature: 2 },
      ]) {
        const got = Array.from(model.sample(o));
        expect(got, JSON.stringify(o)).to.deep.equal(referenceSample(model, o));
      }
    });

    it(`[${name}] deterministic with a seed; seeds, primes and temperatures change the output`, () => {
      const model = make();
      const s = (o: object) => Array.from(model.sample({ length: 60, ...o }));
      expect(s({ seed: 3 })).to.deep.equal(s({ seed: 3 }));
      expect(s({ seed: 3 })).to.not.deep.equal(s({ seed: 4 }));
      expect(s({ seed: 3, prime: [1, 2] })).to.not.deep.equal(s({ seed: 3, prime: [2, 1] }));
      expect(s({ seed: 3, temperature: 0.3 })).to.not.deep.equal(s({ seed: 3, temperature: 3 }));
      // the rng option continues a generator the caller owns
      const r1 = new Random(9), r2 = new Random(9);
      expect(Array.from(model.sample({ length: 30, rng: r1 }))).to.deep.equal(Array.from(model.sample({ length: 30, rng: r2 })));
      expect(Array.from(model.sample({ length: 30, rng: r1 }))).to.not.deep.equal(s({ seed: 9 }).slice(0, 30));
    });

    it(`[${name}] temperature → 0 is greedy (the same for every seed); a high temperature is near uniform`, () => {
      const model = make();
      const greedy = Array.from(model.sample({ length: 30, temperature: 1e-3, seed: 1, prime: [2] }));
      expect(Array.from(model.sample({ length: 30, temperature: 1e-3, seed: 77, prime: [2] }))).to.deep.equal(greedy);
      const counts = new Array(6).fill(0);
      for (const id of model.sample({ length: 3000, temperature: 1000, seed: 5 })) counts[id]++;
      for (const c of counts) expect(c / 3000).to.be.within(1 / 6 - 0.04, 1 / 6 + 0.04);
      // at temperature 1 the same model is far from uniform
      const c1 = new Array(6).fill(0);
      for (const id of model.sample({ length: 3000, seed: 5 })) c1[id]++;
      expect(Math.max(...c1) / 3000).to.be.greaterThan(0.25);
    });

    it(`[${name}] stopAt ends at (and includes) the first stop token`, () => {
      const model = make();
      const full = Array.from(model.sample({ length: 200, seed: 6 }));
      const stop = full[10];
      const first = full.indexOf(stop);
      const got = Array.from(model.sample({ length: 200, seed: 6, stopAt: stop }));
      expect(got).to.deep.equal(full.slice(0, first + 1));
      expect(Array.from(model.sample({ length: 0, seed: 6 }))).to.deep.equal([]);
    });
  }

  it('sample argument errors', () => {
    const model = new RNNModel({ vocabSize: 4, hiddenSize: 3, backend: 'ts' });
    expect(() => model.sample({ length: -1 })).to.throw(RangeError, /length/);
    expect(() => model.sample({ length: 3, temperature: 0 })).to.throw(RangeError, /temperature must be a positive number/);
    expect(() => model.sample({ length: 3, temperature: NaN })).to.throw(RangeError, /temperature/);
    expect(() => model.sample({ length: 3, prime: [1, 4] })).to.throw(RangeError, /prime must be token ids in \[0, 4\), got 4/);
    const dense = new RNNModel({ inputSize: 2, outputSize: 2, hiddenSize: 3, backend: 'ts' });
    expect(() => dense.sample({ length: 3 })).to.throw(TypeError, /needs a token model/);
  });
});
