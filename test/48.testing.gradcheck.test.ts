// native-rnn/testing: gradCheck on every cell kind and model (passes on the library's own
// gradients, catches a planted wrong one and names it by its PyTorch name and index), fast
// mode, throw vs return, seeded reproducibility, the chai plugin's messages, and the model's
// backward from a user's dLogits (gradientsFromLogits) that a user loss on the logits needs.
import * as chai from 'chai';
import { expect } from 'chai';
import { backends, GRUCell, LSTMCell, RNNCell, RNNModel, type BackendName, type Sequence } from '../lib';
import { compareClose, formatNumber, gradCheck, GradCheckError, nativeRnnChai, type GradCheckResult } from '../lib/testing';

chai.use(nativeRnnChai);

const BACKENDS: BackendName[] = backends.available();
const CELLS = ['rnn', 'lstm', 'gru'] as const;

function tokenModel(cell: string, backend: BackendName, numLayers = 2): RNNModel {
  return new RNNModel({ cell, vocabSize: 5, hiddenSize: 4, numLayers, dtype: 'float64', backend, seed: 3 });
}

function denseModel(cell: string, backend: BackendName, loss: 'mse' | 'cross-entropy' = 'mse'): RNNModel {
  return new RNNModel({ cell, inputSize: 3, outputSize: 2, hiddenSize: 4, dtype: 'float64', backend, seed: 5, loss });
}

/** Adds `delta` to one element of one parameter's gradient after every lossAndGradients: a planted bug. */
function plant(model: RNNModel, entry: string, index: number, delta: number): void {
  const e = model.entry(entry);
  const original = model.lossAndGradients.bind(model);
  model.lossAndGradients = (input, target) => {
    const loss = original(input, target);
    model.grads[e.offset + index] += delta;
    return loss;
  };
}

/** Σ w ⊙ y² over the logits, with its gradient: a loss of the user's own. */
function squareLoss(n: number): (y: Sequence) => { loss: number; grad: Float64Array } {
  const w = Float64Array.from({ length: n }, (_, i) => Math.cos(i + 1));
  return (y) => {
    let s = 0;
    const grad = new Float64Array(n);
    for (let i = 0; i < n; i++) { s += w[i] * y.data[i] * y.data[i]; grad[i] = 2 * w[i] * y.data[i]; }
    return { loss: s, grad };
  };
}

describe('48 testing: gradCheck', () => {
  for (const backend of BACKENDS) {
    describe(`on ${backend}`, () => {
      for (const cell of CELLS) {
        it(`passes on a 2-layer ${cell} token model (built-in loss, every element) and leaves params and grads as they were`, () => {
          const model = tokenModel(cell, backend);
          const params = model.params.slice();
          model.grads.fill(0.25);
          const r = gradCheck(model, { seed: 1 });
          expect(r.passed, r.report).to.equal(true);
          expect(r.mode).to.equal('full');
          expect(r.checked).to.equal(model.size);
          expect(r.parameters.map((p) => p.entry)).to.deep.equal(model.entries.map((e) => e.name));
          // the check measured something: the largest gradient is far above the tolerance
          expect(Math.max(...r.parameters.map((p) => Math.abs(p.worst!.numeric)))).to.be.above(1e-3);
          expect(Buffer.from(model.params.buffer).equals(Buffer.from(params.buffer))).to.equal(true);
          expect([...model.grads].every((g) => g === 0.25)).to.equal(true);
        });

        it(`passes on a dense ${cell} model: mse, a user loss with its gradient, a scalar user loss`, () => {
          const model = denseModel(cell, backend);
          const input: Sequence = { rows: 3, steps: 4, batch: 2, data: Float64Array.from({ length: 24 }, (_, i) => Math.sin(i)) };
          const target: Sequence = { rows: 2, steps: 4, batch: 2, data: Float64Array.from({ length: 16 }, (_, i) => Math.cos(3 * i)) };
          expect(gradCheck(model, { input, target }).passed).to.equal(true);
          const loss = squareLoss(16);
          const withGrad = gradCheck(model, { input, loss });
          expect(withGrad.passed, withGrad.report).to.equal(true);
          expect(withGrad.loss).to.equal('user loss on the logits');
          // a scalar loss: its dLogits are taken numerically, the parameters' gradients still by backprop
          const scalar = gradCheck(model, { input, loss: (y) => loss(y).loss });
          expect(scalar.passed, scalar.report).to.equal(true);
        });
      }

      it('passes on RNNCell (tanh, sigmoid), LSTMCell and GRUCell: default loss, user loss, token inputs, a given state', () => {
        for (const activation of ['tanh', 'sigmoid'] as const) {
          const cell = new RNNCell({ inputSize: 3, hiddenSize: 4, activation, dtype: 'float64', backend, seed: 2 });
          const r = gradCheck(cell);
          expect(r.passed, r.report).to.equal(true);
          expect(r.parameters.map((p) => p.parameter)).to.deep.equal(['weight_ih', 'weight_hh', 'bias_ih (= bias_hh)']);
        }
        for (const Cell of [LSTMCell, GRUCell]) {
          const cell = new Cell({ inputSize: 3, hiddenSize: 4, dtype: 'float64', backend, seed: 2 });
          const r = gradCheck(cell, { seed: 4 });
          expect(r.passed, r.report).to.equal(true);
          expect(r.subject).to.equal(Cell.name);
          expect(r.parameters.map((p) => p.parameter)).to.deep.equal(['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh']);
          expect(r.checked).to.equal(2 * 4 * (Cell === LSTMCell ? 4 : 3) * (3 + 4 + 2) / 2);
          const tokens = { ids: Int32Array.from([0, 2, 1, 1, 2, 0]), steps: 3, batch: 2 };
          const h = { rows: 4, cols: 2, data: Float64Array.from({ length: 8 }, (_, i) => 0.1 * i - 0.3) };
          const state = Cell === LSTMCell ? { h, c: { rows: 4, cols: 2, data: h.data.map((v) => -v) } } : { h };
          const user = gradCheck(cell, { input: tokens, state, loss: squareLoss(4 * 6) });
          expect(user.passed, user.report).to.equal(true);
        }
      });
    });
  }

  it('catches a planted wrong gradient and names the parameter by its PyTorch name, the index and both values', () => {
    for (const cell of CELLS) {
      const model = tokenModel(cell, 'ts');
      plant(model, 'rnn.weight_hh_l1', 5, 0.01);
      const r = gradCheck(model, { throwOnFailure: false });
      expect(r.passed).to.equal(false);
      expect(r.failures).to.equal(1);
      const w = r.worst!;
      expect(w.parameter).to.equal('rnn.weight_hh_l1');
      expect(w.index).to.equal(5);
      expect(w.position).to.deep.equal([1, 1]); // weight_hh is (G·4) × 4: element 5 is row 1, column 1
      expect(w.analytic - w.numeric).to.be.closeTo(0.01, 1e-6);
      expect(w.absError).to.be.above(w.tolerance);
      expect(r.report).to.include('FAILED').and.to.include('rnn.weight_hh_l1').and.to.include('index 5 [1, 1]');
      expect(r.report).to.include(`analytic ${formatNumber(w.analytic)}, numeric ${formatNumber(w.numeric)}`);
      expect(r.parameters.filter((p) => p.failures > 0).map((p) => p.parameter)).to.deep.equal(['rnn.weight_hh_l1']);
    }
  });

  it("names the vanilla cell's single bias by PyTorch's two (its gradient is both bias_ih's and bias_hh's)", () => {
    const model = tokenModel('rnn', 'ts', 1);
    plant(model, 'rnn.bias_l0', 2, -0.003);
    const r = gradCheck(model, { throwOnFailure: false });
    expect(r.worst!.parameter).to.equal('rnn.bias_ih_l0 (= rnn.bias_hh_l0)');
    expect(r.worst!.entry).to.equal('rnn.bias_l0');
    expect(r.worst!.index).to.equal(2);
    // a planted error below atol + rtol·|n| is, by the criterion, not an error
    const small = tokenModel('rnn', 'ts', 1);
    plant(small, 'rnn.bias_l0', 2, 1e-6);
    expect(gradCheck(small).passed).to.equal(true);
  });

  it('catches a wrong cell backward', () => {
    const cell = new GRUCell({ inputSize: 2, hiddenSize: 3, dtype: 'float64', backend: 'ts', seed: 1 });
    const original = cell.backwardSequence.bind(cell);
    cell.backwardSequence = (dH, cache, dState) => {
      const g = original(dH, cache, dState);
      g.dbc.data[7] *= 1.5;
      return g;
    };
    const r = gradCheck(cell, { throwOnFailure: false });
    expect(r.passed).to.equal(false);
    expect([r.worst!.parameter, r.worst!.index]).to.deep.equal(['bias_hh', 7]);
  });

  it('throws a GradCheckError carrying the result by default, returns it with throwOnFailure: false', () => {
    const model = tokenModel('lstm', 'ts', 1);
    plant(model, 'head.weight', 0, 0.05);
    let caught: unknown = null;
    try {
      gradCheck(model);
    } catch (e) {
      caught = e;
    }
    expect(caught).to.be.instanceOf(GradCheckError);
    const err = caught as GradCheckError;
    expect(err.message).to.equal(err.result.report);
    expect(err.result.worst!.parameter).to.equal('head.weight');
    const returned = gradCheck(model, { throwOnFailure: false });
    expect(returned.passed).to.equal(false);
    expect(returned.report).to.equal(err.result.report);
  });

  it('fast mode: one random direction per parameter, passes on correct gradients and names the wrong parameter', () => {
    for (const cell of CELLS) {
      const model = tokenModel(cell, 'ts');
      const ok = gradCheck(model, { fast: true, seed: 2 });
      expect(ok.passed, ok.report).to.equal(true);
      expect(ok.mode).to.equal('fast');
      expect(ok.checked).to.equal(model.entries.length);
      const three = gradCheck(model, { fast: true, projections: 3 });
      expect(three.checked).to.equal(3 * model.entries.length);
      plant(model, 'rnn.weight_ih_l0', 3, 0.05);
      const bad = gradCheck(model, { fast: true, throwOnFailure: false });
      expect(bad.passed).to.equal(false);
      expect(bad.worst!.parameter).to.equal('rnn.weight_ih_l0');
      expect(bad.worst!.index).to.equal(null);
      expect(bad.report).to.include('a random direction').and.to.include('fast: false');
    }
  });

  it('is seeded: the same seed gives the same result, another seed other data', () => {
    const model = tokenModel('gru', 'ts', 1);
    const strip = (r: GradCheckResult) => JSON.stringify(r.parameters);
    expect(strip(gradCheck(model, { seed: 9 }))).to.equal(strip(gradCheck(model, { seed: 9 })));
    expect(strip(gradCheck(model, { seed: 9, fast: true }))).to.equal(strip(gradCheck(model, { seed: 9, fast: true })));
    expect(strip(gradCheck(model, { seed: 9, fast: true }))).to.not.equal(strip(gradCheck(model, { seed: 10, fast: true })));
    const cell = new LSTMCell({ inputSize: 2, hiddenSize: 2, dtype: 'float64', backend: 'ts' });
    expect(strip(gradCheck(cell, { seed: 1 }))).to.equal(strip(gradCheck(cell, { seed: 1 })));
    expect(strip(gradCheck(cell, { seed: 1 }))).to.not.equal(strip(gradCheck(cell, { seed: 2 })));
  });

  it('checks only the parameters asked for, by our name or PyTorch name', () => {
    const model = tokenModel('rnn', 'ts', 1);
    const r = gradCheck(model, { parameters: ['head.bias', 'rnn.bias_ih_l0'] });
    expect(r.parameters.map((p) => p.entry)).to.deep.equal(['rnn.bias_l0', 'head.bias']);
    expect(() => gradCheck(model, { parameters: ['rnn.weight_ih'] })).to.throw(RangeError, /parameters must be names among/);
  });

  it('refuses float32 subjects, bad options and bad losses with clear errors', () => {
    const m32 = new RNNModel({ vocabSize: 3, hiddenSize: 2, backend: 'ts' });
    expect(() => gradCheck(m32)).to.throw(TypeError, /the model is float32; central differences need float64.*dtype: 'float64'/);
    const c32 = new LSTMCell({ inputSize: 2, hiddenSize: 2, dtype: 'float32', backend: 'ts' });
    expect(() => gradCheck(c32)).to.throw(TypeError, /the LSTMCell is float32.*dtype: 'float64'/);
    const model = tokenModel('rnn', 'ts', 1);
    expect(() => gradCheck(model, { atoll: 1 } as never)).to.throw(TypeError, /unknown option 'atoll' \(did you mean 'atol'\?\)/);
    expect(() => gradCheck(model, { eps: 0 })).to.throw(RangeError, /eps must be a finite number > 0/);
    expect(() => gradCheck(model, { rtol: -1 })).to.throw(RangeError, /rtol/);
    expect(() => gradCheck({} as never)).to.throw(TypeError, /subject must be an RNNModel, RNNCell, LSTMCell or GRUCell/);
    expect(() => gradCheck(model, { target: new Int32Array(6), loss: () => 0 })).to.throw(TypeError, /not both/);
    const cell = new GRUCell({ inputSize: 2, hiddenSize: 2, backend: 'ts' });
    expect(() => gradCheck(cell, { loss: () => ({ loss: 1, grad: new Float64Array(3) }) })).to.throw(RangeError, /12 values/);
    expect(() => gradCheck(cell, { loss: () => NaN })).to.throw(RangeError, /returned NaN/);
  });
});

describe('48 testing: RNNModel.gradientsFromLogits', () => {
  for (const backend of BACKENDS) {
    it(`on ${backend}: the built-in loss's dLogits give lossAndGradients' gradients, for every cell`, () => {
      for (const cell of CELLS) {
        const model = tokenModel(cell, backend);
        const input = { ids: Int32Array.from([1, 4, 0, 2, 3, 3]), steps: 3, batch: 2 };
        const target = Int32Array.from([4, 0, 2, 3, 3, 1]);
        model.lossAndGradients(input, target);
        const expected = model.grads.slice();
        // ∂(mean CE)/∂logits = (softmax − onehot) / count
        const { logits } = model.forward(input);
        const V = 5, TM = 6, d = new Float64Array(V * TM);
        for (let j = 0; j < TM; j++) {
          let max = -Infinity, sum = 0;
          for (let v = 0; v < V; v++) max = Math.max(max, logits.data[v * TM + j]);
          for (let v = 0; v < V; v++) sum += Math.exp(logits.data[v * TM + j] - max);
          for (let v = 0; v < V; v++) d[v * TM + j] = (Math.exp(logits.data[v * TM + j] - max) / sum - (v === target[j] ? 1 : 0)) / TM;
        }
        model.grads.fill(7);
        const norm2 = model.gradientsFromLogits(input, { rows: V, steps: 3, batch: 2, data: d });
        expect(model.grads).to.be.allClose(expected, { atol: 1e-14, rtol: 1e-10 });
        expect(norm2).to.be.closeTo(Array.from(expected).reduce((s, g) => s + g * g, 0), 1e-12);
        model.gradientsFromLogits(input, d);
        expect(model.grads).to.be.allClose(expected, { atol: 1e-14, rtol: 1e-10 });
      }
    });
  }

  it('refuses dLogits of the wrong shape or dtype', () => {
    const model = tokenModel('rnn', 'ts', 1);
    const input = { ids: Int32Array.from([1, 2]), steps: 1, batch: 2 };
    expect(() => model.gradientsFromLogits(input, new Float64Array(9))).to.throw(RangeError, /dLogits must be 10 values/);
    expect(() => model.gradientsFromLogits(input, new Float32Array(10))).to.throw(TypeError, /dLogits must be float64 data/);
    expect(() => model.gradientsFromLogits(input, { rows: 5, steps: 2, batch: 1, data: new Float64Array(10) }))
      .to.throw(RangeError, /1 steps of batch 2/);
    expect(() => model.gradientsFromLogits(input, { rows: 4, steps: 1, batch: 2, data: new Float64Array(8) })).to.throw(RangeError, /dLogits.rows/);
  });
});

describe('48 testing: the chai plugin', () => {
  it('validGradients passes on correct gradients and fails with the report naming the parameter and index', () => {
    const model = tokenModel('lstm', 'ts', 1);
    const batch = { input: { ids: Int32Array.from([0, 1, 2, 3]), steps: 2, batch: 2 }, target: Int32Array.from([1, 2, 3, 4]) };
    expect(model).to.have.validGradients(batch, { atol: 1e-5, rtol: 1e-3 });
    expect(new GRUCell({ inputSize: 2, hiddenSize: 3, backend: 'ts' })).to.have.validGradients();
    plant(model, 'rnn.weight_ih_l0', 9, 0.02);
    let message = '';
    try {
      expect(model).to.have.validGradients(batch);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).to.match(/^expected valid gradients, but gradCheck FAILED/);
    expect(message).to.include('rnn.weight_ih_l0 at index 9 [1, 4]: analytic ');
    expect(model).to.not.have.validGradients(batch);
    expect(() => expect(model).to.have.validGradients(batch, { fast: true })).to.throw(/rnn\.weight_ih_l0.*a random direction/);
  });

  it('allClose compares element by element with atol + rtol·|e| and names the worst index', () => {
    const a = Float64Array.from([1, 2, 3, 4]);
    expect(a).to.be.allClose(Float64Array.from([1, 2, 3 + 1e-6, 4]), { atol: 0, rtol: 1e-6 });
    expect(Float32Array.from([0.1, 0.2])).to.be.allClose([0.1, 0.2], { rtol: 1e-7 });
    let message = '';
    try {
      expect(a).to.be.allClose(Float64Array.from([1, 2.01, 3, 4.0005]), { atol: 1e-3, rtol: 0 });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).to.include('1 of 4 elements not close').and.to.include('worst at index 1: actual 2, expected 2.01');
    expect(() => expect(a).to.be.allClose([1, 2, 3])).to.throw(/4 elements to be close to 3 elements: the lengths differ/);
    expect(() => expect(Float64Array.from([NaN])).to.be.allClose([NaN])).to.throw(/worst at index 0/);
    expect(Float64Array.from([NaN, Infinity])).to.be.allClose([NaN, Infinity], { equalNaN: true });
    expect(a).to.not.be.allClose([1, 2, 3, 5]);
    expect(compareClose(a, [1, 2, 3, 4.1], { atol: 0.2 }).worst!.index).to.equal(3);
    expect(() => compareClose(a, 'x' as never)).to.throw(TypeError, /expected must be a Float32Array/);
  });
});
