// RNNModel.forward / forwardAsync / initialState: the logits are the ones the loss is computed
// from, feeding a sequence in chunks with the returned state equals one long forward, and
// inference leaves a trainer's carried state alone.
import { expect } from 'chai';
import { backends, RNNModel, Trainer } from '../lib';
import type { BackendName, ForwardResult, ModelState, Sequence } from '../lib';
import { checkClose, Rng } from './helpers/check';
import { crossEntropy } from './helpers/reference';

const BACKENDS: BackendName[] = backends.available();

/** Columns [from, to) of steps of a V × T·m Sequence, as a plain array in step order. */
function steps(s: Sequence, from: number, to: number): number[] {
  const N = s.steps * s.batch, out: number[] = [];
  for (let v = 0; v < s.rows; v++) for (let j = from * s.batch; j < to * s.batch; j++) out.push(s.data[v * N + j]);
  return out;
}

const flatState = (state: ModelState) => state.flatMap((layer) => Object.keys(layer).sort().flatMap((k) => Array.from(layer[k].data)));

describe('43 RNNModel inference: forward, forwardAsync, initialState', () => {
  for (const name of BACKENDS) {
    const tokenModel = () => new RNNModel({ vocabSize: 7, hiddenSize: 6, numLayers: 2, dtype: 'float64', backend: name, seed: 4 });

    it(`[${name}] forward's logits are the loss path's: cross-entropy from them equals model.loss`, () => {
      const model = tokenModel();
      const rng = new Rng(3), T = 5, m = 3;
      const ids = new Int32Array(T * m).map(() => rng.int(7));
      const target = new Int32Array(T * m).map((_, k) => (k % 4 === 1 ? -1 : rng.int(7)));
      const { logits, state } = model.forward({ ids, steps: T, batch: m });
      expect(logits).to.include({ rows: 7, steps: T, batch: m });
      expect(logits.data).to.be.instanceOf(Float64Array).with.length(7 * T * m);
      const loss = model.loss({ ids, steps: T, batch: m }, target);
      expect(Math.abs(crossEntropy(logits, target) - loss), `CE(forward) ${crossEntropy(logits, target)} vs loss ${loss}`).to.be.below(1e-12);
      expect(state).to.have.length(2);
      for (const layer of state) {
        expect(Object.keys(layer)).to.deep.equal(['h']);
        expect(layer.h).to.include({ rows: 6, cols: m });
      }
    });

    it(`[${name}] dense MSE: the mean squared error of forward's logits equals model.loss`, () => {
      const model = new RNNModel({ inputSize: 3, outputSize: 2, hiddenSize: 5, numLayers: 2, loss: 'mse', dtype: 'float64', backend: name, seed: 2 });
      const rng = new Rng(8), T = 4, m = 2;
      const input = { rows: 3, steps: T, batch: m, data: Float64Array.from({ length: 3 * T * m }, () => rng.uniform(-1, 1)) };
      const target = { rows: 2, steps: T, batch: m, data: Float64Array.from({ length: 2 * T * m }, () => rng.uniform(-1, 1)) };
      const { logits } = model.forward(input);
      let sum = 0;
      for (let i = 0; i < logits.data.length; i++) sum += (logits.data[i] - target.data[i]) ** 2;
      expect(Math.abs(sum / logits.data.length - model.loss(input, target))).to.be.below(1e-12);
    });

    it(`[${name}] chunked forward with the carried state equals one long forward (logits and final state)`, () => {
      const model = tokenModel();
      const rng = new Rng(5), T = 12, m = 2;
      const ids = new Int32Array(T * m).map(() => rng.int(7));
      const whole = model.forward({ ids, steps: T, batch: m });
      // chunks of 5, 1 and 6 steps: three shapes, three workspaces
      let state: ModelState | undefined;
      let t0 = 0;
      for (const len of [5, 1, 6]) {
        const part = model.forward({ ids: ids.slice(t0 * m, (t0 + len) * m), steps: len, batch: m }, state);
        checkClose(`logits of steps ${t0}..${t0 + len}`, steps(part.logits, 0, len), steps(whole.logits, t0, t0 + len), 1e-13);
        state = part.state;
        t0 += len;
      }
      checkClose('final state', flatState(state!), flatState(whole.state), 1e-13);
      // and the carried state matters: restarting each chunk from zeros gives other logits
      const cold = model.forward({ ids: ids.slice(5 * m), steps: 7, batch: m });
      let differs = 0;
      steps(cold.logits, 0, 7).forEach((x, i) => { if (Math.abs(x - steps(whole.logits, 5, 12)[i]) > 1e-9) differs++; });
      expect(differs).to.be.greaterThan(0);
    });

    it(`[${name}] initialState is zeros in forward's shape; forward from it equals forward without a state`, () => {
      const model = tokenModel();
      const s0 = model.initialState(3);
      expect(s0).to.have.length(2);
      for (const layer of s0) {
        expect(layer.h).to.include({ rows: 6, cols: 3 });
        expect(Array.from(layer.h.data).every((x) => x === 0)).to.equal(true);
      }
      const input = { ids: Int32Array.of(1, 2, 3, 4, 5, 6), steps: 2, batch: 3 };
      expect(Array.from(model.forward(input, s0).logits.data)).to.deep.equal(Array.from(model.forward(input).logits.data));
    });

    it(`[${name}] results are fresh copies: changing them changes nothing inside the model`, () => {
      const model = tokenModel();
      const input = { ids: Int32Array.of(1, 2, 3, 4), steps: 2, batch: 2 };
      const a = model.forward(input);
      const keep = Array.from(a.logits.data);
      a.logits.data.fill(99);
      a.state[0].h.data.fill(99);
      const b = model.forward(input);
      expect(Array.from(b.logits.data)).to.deep.equal(keep);
      expect(b.logits.data).to.not.equal(a.logits.data);
    });

    it(`[${name}] forwardAsync returns a Promise of the same result; concurrent calls of one shape do not mix`, async () => {
      const model = tokenModel();
      const rng = new Rng(6);
      const inputs = [0, 1, 2].map(() => ({ ids: new Int32Array(8).map(() => rng.int(7)), steps: 4, batch: 2 }));
      const sync = inputs.map((x) => model.forward(x));
      const p = model.forwardAsync(inputs[0]);
      expect(p).to.be.instanceOf(Promise);
      const all: ForwardResult[] = await Promise.all([p, model.forwardAsync(inputs[1]), model.forwardAsync(inputs[2], sync[0].state)]);
      expect(Array.from(all[0].logits.data)).to.deep.equal(Array.from(sync[0].logits.data));
      expect(Array.from(all[1].logits.data)).to.deep.equal(Array.from(sync[1].logits.data));
      expect(flatState(all[1].state)).to.deep.equal(flatState(sync[1].state));
      expect(Array.from(all[2].logits.data)).to.deep.equal(Array.from(model.forward(inputs[2], sync[0].state).logits.data));
    });

    it(`[${name}] inference leaves the state a Trainer carries (and snapshots) untouched`, async () => {
      const model = new RNNModel({ vocabSize: 7, hiddenSize: 6, backend: name, seed: 1 });
      const trainer = new Trainer(model, { optimizer: 'adam', lr: 1e-2 });
      const tokens = new Int32Array(200).map((_, i) => (i * 5 + (i >> 3)) % 7);
      await trainer.fit(tokens, { steps: 3, batchSize: 2, seqLength: 8 });
      const before = trainer.snapshot().hiddenStates;
      model.forward({ ids: tokens.slice(0, 16), steps: 8, batch: 2 });
      await model.forwardAsync({ ids: tokens.slice(0, 16), steps: 8, batch: 2 });
      model.sample({ length: 5, seed: 1 });
      const after = trainer.snapshot().hiddenStates;
      expect(Object.keys(after)).to.deep.equal(Object.keys(before));
      for (const k of Object.keys(before)) expect(Array.from(after[k]), k).to.deep.equal(Array.from(before[k]));
    });
  }

  it('argument errors name the argument', async () => {
    const model = new RNNModel({ vocabSize: 5, hiddenSize: 3, numLayers: 2, dtype: 'float64', backend: 'ts' });
    const input = { ids: Int32Array.of(0, 1, 2, 3), steps: 2, batch: 2 };
    const good = model.initialState(2);
    expect(() => model.forward({ ids: new Float64Array(4), steps: 2, batch: 2 } as never)).to.throw(TypeError, /RNNModel\.forward: input must be a TokenSequence/);
    expect(() => model.forward(input, [good[0]])).to.throw(TypeError, /RNNModel\.forward: state must be an array of 2 layer states/);
    expect(() => model.forward(input, [good[0], { ...good[1], c: good[1].h }])).to.throw(TypeError, /RNNModel\.forward: unknown state\[1\] key 'c'/);
    expect(() => model.forward(input, [good[0], { hh: good[1].h }])).to.throw(TypeError, /unknown state\[1\] key 'hh' \(did you mean 'h'\?\)/);
    expect(() => model.forward(input, model.initialState(3))).to.throw(RangeError, /state\[0\]\.h must be a 3x2 Matrix, got 3x3/);
    const f32 = new RNNModel({ vocabSize: 5, hiddenSize: 3, numLayers: 2, dtype: 'float32', backend: 'ts' }).initialState(2);
    expect(() => model.forward(input, f32)).to.throw(TypeError, /state\[0\]\.h must be float64 data/);
    expect(() => model.initialState(0)).to.throw(RangeError, /RNNModel\.initialState: batch must be a positive integer, got 0/);
    let caught: unknown;
    try { await model.forwardAsync(input, [good[0]]); } catch (err) { caught = err; }
    expect(caught).to.be.instanceOf(TypeError);
    expect((caught as Error).message).to.match(/RNNModel\.forwardAsync: state must be an array/);
  });
});
