// The BPTT trainer: learning shown on a task with a known answer and on text (against the
// bigram baseline), determinism, truncated BPTT and its carried state, snapshot/restore,
// the fit API (Promise, callbacks, abort, one fit per model), divergence, the event loop
// during training, and GC safety of an in-flight native step.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { backends, RNNModel, Trainer, TrainingDivergedError, Vocabulary } from '../lib';
import type { Batch, BackendName, StepInfo } from '../lib';
import { builtinNamesText } from '../lib/data/names';
import { splitTrainValidation } from '../lib/data/split';
import { measuredLog, Rng } from './helpers/check';

const BACKENDS: BackendName[] = backends.available();
const HAS_NATIVE = BACKENDS.includes('native');

const measured = measuredLog('42');

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the promise to reject, it resolved');
}

/** A token stream with some structure (so a model has something to learn). */
function stream(n: number, V: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  const out = new Int32Array(n);
  for (let k = 0; k < n; k++) out[k] = k > 0 && rng.next() < 0.6 ? (out[k - 1] * 3 + 1) % V : rng.int(V);
  return out;
}

// ---------------------------------------------------------------------------------------
// Learning, shown
// ---------------------------------------------------------------------------------------

/** "Echo the token seen k steps ago": target at t is the input at t − k, ignored (−1) for t < k. */
function echoBatch(rng: Rng, V: number, k: number, T: number, m: number): Batch {
  const ids = new Int32Array(T * m), target = new Int32Array(T * m);
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < m; j++) {
      ids[t * m + j] = rng.int(V);
      target[t * m + j] = t < k ? -1 : ids[(t - k) * m + j];
    }
  }
  return { input: { ids, steps: T, batch: m }, target };
}

describe('42 learning, shown', () => {
  for (const name of BACKENDS) {
    it(`[${name}] echo the token seen 3 steps ago (V = 8): held-out loss < 0.1 nats (chance ln 8 = 2.08) within 600 steps`, async () => {
      const V = 8, k = 3, T = 10, m = 16;
      const rng = new Rng(7);
      const train = Array.from({ length: 64 }, () => echoBatch(rng, V, k, T, m));
      const heldOut = Array.from({ length: 8 }, () => echoBatch(rng, V, k, T, m));
      const model = new RNNModel({ vocabSize: V, hiddenSize: 32, dtype: 'float32', backend: name, seed: 1 });
      const trainer = new Trainer(model, { optimizer: 'adam', lr: 0.01, clipNorm: 5 });
      const start = await trainer.evaluate(heldOut);
      expect(start.loss).to.be.within(Math.log(V) - 0.3, Math.log(V) + 0.3);
      let reached = -1, loss = NaN;
      const t0 = Date.now();
      for (let steps = 25; steps <= 600; steps += 25) {
        await trainer.fit(train, { steps });
        loss = (await trainer.evaluate(heldOut)).loss;
        if (loss < 0.1) { reached = trainer.step; break; }
      }
      measured.push(`echo k=3 V=8 [${name}]: held-out loss ${loss.toFixed(4)} (start ${start.loss.toFixed(3)}) after ${reached} steps, ${Date.now() - t0} ms`);
      expect(reached, `held-out loss still ${loss} after 600 steps`).to.be.greaterThan(0);
    });
  }

  // The names data, split by line; the bigram model (add-one smoothing) is fitted on the
  // training part and scored on the validation part, over the same (previous, next) pairs
  // the RNN is scored on: every adjacent pair of the validation stream.
  const text = builtinNamesText();
  const split = splitTrainValidation(text, 0.1, 1);
  const vocab = Vocabulary.fromText(text);
  const trainIds = vocab.encode(split.train), valIds = vocab.encode(split.validation);
  const bigram = (() => {
    const V = vocab.size, counts = new Float64Array(V * V).fill(1), rows = new Float64Array(V).fill(V);
    for (let i = 0; i + 1 < trainIds.length; i++) { counts[trainIds[i] * V + trainIds[i + 1]]++; rows[trainIds[i]]++; }
    let nll = 0;
    for (let i = 0; i + 1 < valIds.length; i++) nll -= Math.log(counts[valIds[i] * V + valIds[i + 1]] / rows[valIds[i]]);
    return nll / (valIds.length - 1);
  })();

  const charRuns: Record<BackendName, { hidden: number; steps: number; batchSize: number }> = {
    native: { hidden: 64, steps: 120, batchSize: 32 },
    ts: { hidden: 32, steps: 150, batchSize: 16 },
  };
  for (const name of BACKENDS) {
    const run = charRuns[name];
    it(`[${name}] a char model on the built-in names ends with validation loss below the bigram baseline`, async () => {
      expect(bigram).to.be.within(2, 3); // sanity: unigram would be ~3, chance ln 54 ≈ 4
      const model = new RNNModel({ vocabSize: vocab.size, hiddenSize: run.hidden, dtype: 'float32', backend: name, seed: 1 });
      const trainer = new Trainer(model, { optimizer: 'adam', lr: 0.02, clipNorm: 5 });
      const t0 = Date.now();
      const r = await trainer.fit(trainIds, { steps: run.steps, batchSize: run.batchSize, seqLength: 32, validation: valIds });
      const ms = Date.now() - t0;
      // the same pairs as the bigram: one stream over the whole validation text from zero state
      const n = valIds.length - 1;
      const val = model.loss({ ids: valIds.subarray(0, n), steps: n, batch: 1 }, valIds.slice(1));
      measured.push(`names [${name}] H=${run.hidden}, ${run.steps} steps of ${run.batchSize}x32 in ${ms} ms: ` +
        `validation ${val.toFixed(4)} nats (trainer.evaluate ${r.validation!.loss.toFixed(4)}, ${r.validation!.bpc.toFixed(3)} bpc) ` +
        `vs bigram ${bigram.toFixed(4)}`);
      expect(r.validation!.bpc).to.be.closeTo(r.validation!.loss / Math.LN2, 1e-12);
      expect(val, 'validation loss vs bigram').to.be.lessThan(bigram - 0.05);
      expect(r.validation!.loss).to.be.lessThan(bigram);
    });
  }
});

// ---------------------------------------------------------------------------------------
// Determinism, truncated BPTT, snapshot/restore
// ---------------------------------------------------------------------------------------
describe('42 determinism and truncated BPTT', () => {
  const V = 9;
  const tokens = stream(1500, V, 3);
  // 1500 tokens / 4 streams = 375 per stream → floor(374 / 12) = 31 chunks per epoch
  const fo = { batchSize: 4, seqLength: 12 };

  for (const name of BACKENDS) {
    it(`[${name}] same seed → the same loss curve and parameters, bit for bit (two fresh models)`, async () => {
      const curve = async () => {
        const model = new RNNModel({ vocabSize: V, hiddenSize: 24, numLayers: 2, dtype: 'float32', backend: name, seed: 42 });
        const trainer = new Trainer(model, { optimizer: 'adam', lr: 5e-3, clipNorm: 1 });
        const losses: number[] = [], norms: number[] = [];
        await trainer.fit(tokens, { ...fo, steps: 40, onStep: (s) => { losses.push(s.loss); norms.push(s.gradNorm); } });
        return { losses, norms, params: Buffer.from(model.params.slice().buffer) };
      };
      const a = await curve(), b = await curve();
      expect(a.losses).to.have.length(40);
      expect(a.losses).to.deep.equal(b.losses);
      expect(a.norms).to.deep.equal(b.norms);
      expect(Buffer.compare(a.params, b.params)).to.equal(0);
      expect(a.losses[39]).to.be.lessThan(a.losses[0]); // it trained
    });
  }

  for (const name of BACKENDS) {
    // lr = 0 keeps the parameters fixed, so differences come from the carried state alone.
    const frozen = async (stateful: boolean, steps: number) => {
      const model = new RNNModel({ vocabSize: V, hiddenSize: 16, numLayers: 2, dtype: 'float64', backend: name, seed: 5 });
      const trainer = new Trainer(model, { optimizer: 'sgd', lr: 0 });
      const losses: number[] = [], grads: Float64Array[] = [];
      await trainer.fit(tokens, { ...fo, steps, stateful, onStep: (s) => { losses.push(s.loss); grads.push(Float64Array.from(model.grads)); } });
      return { model, losses, grads };
    };

    it(`[${name}] stateful carries the hidden state between chunks; stateful: false resets it`, async () => {
      const on = await frozen(true, 6), off = await frozen(false, 6);
      expect(on.losses[0]).to.equal(off.losses[0]); // chunk 0 starts from zero state either way
      for (let k = 1; k < 6; k++) expect(on.losses[k], `chunk ${k}`).to.not.equal(off.losses[k]);
      // stateful: false is each chunk on its own from zero state
      const model = off.model, T = fo.seqLength, m = fo.batchSize, L = Math.floor(tokens.length / m);
      const chunk = (k: number) => {
        const ids = new Int32Array(T * m), tg = new Int32Array(T * m);
        for (let t = 0; t < T; t++) for (let j = 0; j < m; j++) { ids[t * m + j] = tokens[j * L + k * T + t]; tg[t * m + j] = tokens[j * L + k * T + t + 1]; }
        return { ids, tg };
      };
      const c3 = chunk(3);
      expect(model.lossAndGradients({ ids: c3.ids, steps: T, batch: m }, c3.tg)).to.be.closeTo(off.losses[3], 1e-12);
      // stateful chunk k is exactly the tail of one long run over chunks 0..k, with the
      // earlier targets ignored (−1): the carried state is C_T of the previous chunk
      for (const k of [1, 4]) {
        const n = (k + 1) * T;
        const ids = new Int32Array(n * m), tg = new Int32Array(n * m);
        for (let t = 0; t < n; t++) {
          for (let j = 0; j < m; j++) {
            ids[t * m + j] = tokens[j * L + t];
            tg[t * m + j] = t < k * T ? -1 : tokens[j * L + t + 1];
          }
        }
        const full = model.lossAndGradients({ ids, steps: n, batch: m }, tg);
        expect(on.losses[k], `chunk ${k} vs one long run`).to.be.closeTo(full, 1e-12);
        // ...but its gradient is truncated at the chunk boundary: full BPTT differs
        let diff = 0;
        for (let i = 0; i < model.size; i++) diff = Math.max(diff, Math.abs(model.grads[i] - on.grads[k][i]));
        expect(diff, 'truncated vs full BPTT gradient').to.be.greaterThan(1e-6);
      }
    });

    it(`[${name}] the state is reset at each epoch start (frozen weights → every epoch has the same losses)`, async () => {
      const chunks = 31;
      const { losses } = await frozen(true, 2 * chunks + 2);
      expect(losses.slice(chunks, 2 * chunks)).to.deep.equal(losses.slice(0, chunks));
      expect(losses[2 * chunks]).to.equal(losses[0]);
    });

    it(`[${name}] snapshot/restore resumes exactly: 2N steps == N + restore + N (adam, mid-epoch, carried state)`, async () => {
      const N = 20; // 31 chunks per epoch: the snapshot is mid-epoch with a carried state
      const make = () => new RNNModel({ vocabSize: V, hiddenSize: 16, numLayers: 2, dtype: 'float32', backend: name, seed: 9 });
      const opts = { optimizer: 'adam' as const, lr: 1e-2, schedule: { kind: 'cosine' as const, totalSteps: 2 * N } };
      // straight through
      const a = make(), ta = new Trainer(a, opts);
      await ta.fit(tokens, { ...fo, steps: 2 * N });
      // N steps, snapshot, and this trainer goes on (the snapshot must not follow it)
      const b = make(), tb = new Trainer(b, opts);
      await tb.fit(tokens, { ...fo, steps: N });
      const snap = tb.snapshot(), params = b.params.slice();
      expect(snap).to.deep.include({ step: N, epoch: 0, position: N });
      await tb.fit(tokens, { ...fo, steps: 2 * N });
      expect(Buffer.compare(Buffer.from(b.params.buffer), Buffer.from(a.params.buffer)), 'N + N in one trainer').to.equal(0);
      // a fresh model and trainer, restored from the snapshot taken at step N
      const c = make(), tc = new Trainer(c, opts);
      c.params.set(params);
      tc.restore(snap);
      expect(tc.step).to.equal(N);
      const r = await tc.fit(tokens, { ...fo, steps: 2 * N });
      expect(r.steps).to.equal(2 * N);
      expect(tc.epoch).to.equal(1);
      expect(Buffer.compare(Buffer.from(c.params.buffer), Buffer.from(a.params.buffer)), 'N + restore + N').to.equal(0);
      expect(Buffer.compare(Buffer.from(tc.optimizer.state.exp_avg.buffer), Buffer.from(ta.optimizer.state.exp_avg.buffer))).to.equal(0);
    });
  }

  it('a snapshot is a copy: training on afterwards does not change it (regression: it aliased the live arrays)', async () => {
    const model = new RNNModel({ vocabSize: V, hiddenSize: 8, backend: 'ts', seed: 1 });
    const trainer = new Trainer(model, { optimizer: 'adam', lr: 1e-2 });
    await trainer.fit(tokens, { ...fo, steps: 3 });
    const snap = trainer.snapshot();
    const frozen = JSON.stringify(snap, (_, v) => (ArrayBuffer.isView(v) ? Array.from(v as Float32Array) : v));
    await trainer.fit(tokens, { ...fo, steps: 6 });
    expect(JSON.stringify(snap, (_, v) => (ArrayBuffer.isView(v) ? Array.from(v as Float32Array) : v))).to.equal(frozen);
    for (const [k, arr] of Object.entries(snap.optimizerState)) expect(arr, k).to.not.equal(trainer.optimizer.state[k]);
    expect(Object.keys(snap.hiddenStates)).to.deep.equal(['state.12x4.l0']);
    expect(snap.hiddenStates['state.12x4.l0']).to.not.equal(model.workspace(12, 4).state[0].h);
    // (the live array it is compared with is the carried state itself, not some other object)
    expect(model.workspace(12, 4).state[0].h).to.be.instanceOf(Float32Array).with.length(snap.hiddenStates['state.12x4.l0'].length);
  });

  it('restore refuses a snapshot that does not fit the model, naming the piece', async () => {
    const small = new RNNModel({ vocabSize: V, hiddenSize: 4, backend: 'ts' });
    const big = new RNNModel({ vocabSize: V, hiddenSize: 8, backend: 'ts' });
    const ts = new Trainer(small, { optimizer: 'adam' });
    await ts.fit(tokens, { ...fo, steps: 1 });
    expect(() => new Trainer(big, { optimizer: 'adam' }).restore(ts.snapshot())).to.throw(RangeError, /optimizer state 'exp_avg' does not fit/);
    const s = ts.snapshot();
    expect(() => new Trainer(small, { optimizer: 'adam' }).restore({ ...s, hiddenStates: { bogus: new Float32Array(4) } }))
      .to.throw(RangeError, /unknown hidden state 'bogus'/);
  });
});

// ---------------------------------------------------------------------------------------
// The fit API
// ---------------------------------------------------------------------------------------
describe('42 fit: Promise, progress, validation, abort, one fit per model', () => {
  const V = 7;
  const tokens = stream(3000, V, 5);
  const val = stream(400, V, 6);
  const fo = { batchSize: 8, seqLength: 16 }; // 375 per stream → 23 chunks per epoch

  for (const name of BACKENDS) {
    const make = () => new RNNModel({ vocabSize: V, hiddenSize: 16, dtype: 'float32', backend: name, seed: 2 });

    it(`[${name}] fit returns a Promise; onStep/onEpoch/onEvaluate carry loss, tokens/s, gradient norm, lr`, async () => {
      const model = make();
      const trainer = new Trainer(model, { optimizer: 'adam', lr: 1e-2, schedule: { kind: 'constant', warmup: 5 } });
      const steps: StepInfo[] = [], epochs: Array<{ epoch: number; step: number; loss: number }> = [], evals: Array<{ step: number; loss: number; bpc: number }> = [];
      const started = Date.now();
      const p = trainer.fit(tokens, {
        ...fo, steps: 30, validation: val, evalEvery: 10,
        onStep: (s) => { steps.push(s); },
        onEpoch: (e) => { epochs.push(e); },
        onEvaluate: (e) => { evals.push(e); },
      });
      expect(p).to.be.instanceOf(Promise);
      expect(steps, 'nothing ran synchronously').to.have.length(0);
      const r = await p;
      const wall = Date.now() - started;
      expect(r).to.include({ steps: 30, epoch: 1, aborted: false });
      expect(steps.map((s) => s.step)).to.deep.equal(Array.from({ length: 30 }, (_, i) => i + 1));
      for (const s of steps) {
        expect(Number.isFinite(s.loss) && s.loss > 0, 'loss').to.equal(true);
        expect(Number.isFinite(s.tokensPerSecond) && s.tokensPerSecond > 0, 'tokens/s').to.equal(true);
        expect(s.gradNorm, 'gradNorm').to.be.greaterThan(0);
        expect(s.tokens).to.equal(8 * 16);
        expect(s.elapsedMs).to.be.at.least(0);
      }
      // elapsedMs is the time since fit started: it never decreases, and never exceeds the wall
      // time around the whole call (nor does the result's)
      steps.forEach((s, i) => { if (i > 0) expect(s.elapsedMs, `elapsedMs at step ${s.step}`).to.be.at.least(steps[i - 1].elapsedMs); });
      expect(steps[29].elapsedMs).to.be.at.most(r.elapsedMs);
      expect(r.elapsedMs).to.be.at.most(wall);
      [0.002, 0.004, 0.006, 0.008, 0.01, 0.01, 0.01].forEach((lr, i) => expect(steps[i].lr, `lr at step ${i + 1}`).to.be.closeTo(lr, 1e-15));
      expect(steps[22].epoch).to.equal(0);
      expect(steps[23].epoch).to.equal(1);
      expect(epochs).to.deep.equal([{ epoch: 1, step: 23, loss: steps[22].loss }]);
      expect(evals.map((e) => e.step)).to.deep.equal([10, 20, 30]);
      for (const e of evals) expect(e.bpc).to.be.closeTo(e.loss / Math.LN2, 1e-12);
      expect(r.validation).to.deep.include({ loss: evals[2].loss });
      expect(r.loss).to.equal(steps[29].loss);
      // evaluate changes neither the parameters nor the carried state
      const before = model.params.slice();
      const e1 = await trainer.evaluate(val, fo), e2 = await trainer.evaluate(val, fo);
      expect(e1).to.deep.equal(e2);
      expect(Array.from(model.params)).to.deep.equal(Array.from(before));
    });

    it(`[${name}] an AbortSignal stops between steps: result.aborted, the step count stops, and fit can go on`, async () => {
      const model = make();
      const trainer = new Trainer(model);
      const ac = new AbortController();
      let last = 0;
      const r = await trainer.fit(tokens, { ...fo, steps: 50, signal: ac.signal, onStep: (s) => { last = s.step; if (s.step === 3) ac.abort(); } });
      expect(r).to.include({ aborted: true, steps: 3 });
      expect(last).to.equal(3);
      expect(trainer.step).to.equal(3);
      const params = model.params.slice();
      // an already aborted signal: no step at all
      const r0 = await trainer.fit(tokens, { ...fo, steps: 50, signal: ac.signal });
      expect(r0).to.include({ aborted: true, steps: 3 });
      expect(Array.from(model.params)).to.deep.equal(Array.from(params));
      // aborted from a timer while the steps run
      const ac2 = new AbortController();
      const timer = setTimeout(() => ac2.abort(), 30);
      const r2 = await trainer.fit(tokens, { ...fo, steps: 100000, signal: ac2.signal });
      clearTimeout(timer);
      expect(r2.aborted).to.equal(true);
      expect(r2.steps).to.be.greaterThan(3).and.lessThan(100000);
      // and the model is free again
      expect((await trainer.fit(tokens, { ...fo, steps: r2.steps + 1 })).steps).to.equal(r2.steps + 1);
    });

    it(`[${name}] two concurrent fits on one model: the second rejects clearly, the first finishes normally`, async () => {
      const model = make();
      const t1 = new Trainer(model), t2 = new Trainer(model);
      const first = t1.fit(tokens, { ...fo, steps: 5 });
      const sameTrainer = await rejection(t1.fit(tokens, { ...fo, steps: 5 }));
      const otherTrainer = await rejection(t2.fit(tokens, { ...fo, steps: 5 }));
      for (const e of [sameTrainer, otherTrainer]) expect(e.message).to.match(/Trainer\.fit: this model is already training; wait for the running fit to finish/);
      const r = await first;
      expect(r).to.include({ steps: 5, aborted: false });
      expect(t2.step).to.equal(0);
      // released after it finished
      expect((await t2.fit(tokens, { ...fo, steps: 2 })).steps).to.equal(2);
      // a different model trains alongside without trouble
      const other = new Trainer(make());
      const [ra, rb] = await Promise.all([t1.fit(tokens, { ...fo, steps: 8 }), other.fit(tokens, { ...fo, steps: 3 })]);
      expect([ra.steps, rb.steps]).to.deep.equal([8, 3]);
    });

    it(`[${name}] lr 1e6 diverges: TrainingDivergedError names the step; the parameters are those of the last good step`, async () => {
      const nx = 3, ny = 2, T = 5, m = 4;
      const model = new RNNModel({ inputSize: nx, outputSize: ny, loss: 'mse', hiddenSize: 8, dtype: 'float32', backend: name, seed: 2 });
      const x = new Float32Array(nx * T * m).map((_, k) => Math.sin(k)), y = new Float32Array(ny * T * m).map((_, k) => Math.cos(k));
      const trainer = new Trainer(model, { optimizer: 'sgd', lr: 1e6 });
      let good = model.params.slice(), lastStep = 0;
      const err = await rejection(trainer.fit([{ input: { rows: nx, steps: T, batch: m, data: x }, target: { rows: ny, steps: T, batch: m, data: y } }],
        { steps: 1000, onStep: (s) => { good = model.params.slice(); lastStep = s.step; } }));
      expect(err).to.be.instanceOf(TrainingDivergedError);
      const e = err as TrainingDivergedError;
      expect(e.name).to.equal('TrainingDivergedError');
      expect(e.step).to.equal(lastStep + 1);
      expect(e.message).to.match(new RegExp(`^training diverged at step ${lastStep + 1}: the (loss|gradient norm) is (NaN|Infinity|-Infinity)`));
      expect(lastStep).to.be.within(1, 100);
      expect(trainer.step).to.equal(lastStep);
      expect(model.params.every(Number.isFinite), 'params finite').to.equal(true);
      expect(Buffer.compare(Buffer.from(model.params.buffer), Buffer.from(good.buffer)), 'params of the last good step').to.equal(0);
      measured.push(`lr 1e6 [${name}]: ${e.message}`);
      // the model is not left marked busy: another fit runs (and meets the same divergence at once)
      const again = await rejection(new Trainer(model, { optimizer: 'sgd', lr: 0 })
        .fit([{ input: { rows: nx, steps: T, batch: m, data: x }, target: { rows: ny, steps: T, batch: m, data: y } }], { steps: 1 }));
      expect(again).to.be.instanceOf(TrainingDivergedError);
      expect((again as TrainingDivergedError).step).to.equal(1);
    });

    // In float32 an update of finite gradients can overflow the parameters (sgd, lr 1e20 on
    // this MSE task); that update is the failing step, and the parameters are put back.
    it(`[${name}] an update that overflows the parameters is itself the failing step (params stay finite)`, async () => {
      const nx = 3, ny = 2, T = 5, m = 4;
      const model = new RNNModel({ inputSize: nx, outputSize: ny, loss: 'mse', hiddenSize: 8, dtype: 'float32', backend: name, seed: 2 });
      const x = new Float32Array(nx * T * m).map((_, k) => Math.sin(k)), y = new Float32Array(ny * T * m).map((_, k) => Math.cos(k));
      const trainer = new Trainer(model, { optimizer: 'sgd', lr: 1e20 });
      const finiteAtStep: boolean[] = [];
      const err = await rejection(trainer.fit([{ input: { rows: nx, steps: T, batch: m, data: x }, target: { rows: ny, steps: T, batch: m, data: y } }],
        { steps: 100, onStep: () => { finiteAtStep.push(model.params.every(Number.isFinite)); } }));
      expect(err).to.be.instanceOf(TrainingDivergedError);
      expect(finiteAtStep.every((f) => f), 'every step reported good left finite parameters').to.equal(true);
      expect(model.params.every(Number.isFinite), 'params finite after the error').to.equal(true);
    });

    it(`[${name}] a NaN injected into a parameter stops the next step with an error naming it`, async () => {
      const model = make();
      const trainer = new Trainer(model);
      const err = await rejection(trainer.fit(tokens, { ...fo, steps: 10, onStep: (s) => { if (s.step === 2) model.params[model.entry('rnn.weight_hh_l0').offset] = NaN; } }));
      expect(err).to.be.instanceOf(TrainingDivergedError);
      expect((err as TrainingDivergedError).step).to.equal(3);
      expect(err.message).to.match(/^training diverged at step 3: the loss is NaN/);
      expect(trainer.step).to.equal(2);
      // the update of step 3 did not run: only the injected value is not finite
      expect(model.params.filter((p) => !Number.isFinite(p))).to.have.length(1);
    });
  }

  it('fit argument errors name the argument', async () => {
    const model = new RNNModel({ vocabSize: V, hiddenSize: 4, backend: 'ts' });
    const trainer = new Trainer(model);
    const f = (data: unknown, o: object) => rejection(trainer.fit(data as Int32Array, o));
    expect((await f(tokens, {})).message).to.match(/give steps or epochs/);
    expect((await f(tokens, { steps: 0 })).message).to.match(/steps must be a positive integer/);
    expect((await f(tokens, { steps: 1, batchSize: 2.5 })).message).to.match(/batchSize/);
    expect((await f(tokens, { steps: 1, seqLength: -1 })).message).to.match(/seqLength/);
    expect((await f(tokens, { steps: 1, evalEvery: 0 })).message).to.match(/evalEvery/);
    expect((await f(tokens, { steps: 1, signal: {} })).message).to.match(/signal must be an AbortSignal/);
    expect((await f(tokens.subarray(0, 100), { steps: 1, batchSize: 32, seqLength: 32 })).message).to.match(/100 tokens are too few for 32 streams/);
    expect((await f(Int32Array.of(0, 1, 9, 2, 3, 4, 5, 6, 0, 1, 2, 3), { steps: 1, batchSize: 1, seqLength: 4 })).message)
      .to.match(/Trainer\.fit: data\[2\] must be a token id in \[0, 7\), got 9/);
    expect((await f([], { steps: 1 })).message).to.match(/data must be an Int32Array token stream or a non-empty array of batches/);
    expect((await f([{ input: { ids: new Int32Array(4), steps: 2, batch: 2 }, target: new Int32Array(3) }], { steps: 1 })).message)
      .to.match(/Trainer\.fit \(batch 0\): target must be 4 class ids/);
    expect(trainer.step).to.equal(0);
  });
});

// ---------------------------------------------------------------------------------------
// The event loop and GC
// ---------------------------------------------------------------------------------------
describe('42 training does not block the event loop; in-flight native steps survive GC', () => {
  /** Runs fit (up to `steps`, or until maxMs) while a 10 ms interval measures its worst extra delay. */
  async function timedFit(name: BackendName, hidden: number, steps: number, seqLength = 32, maxMs = Infinity) {
    const V = 64;
    const tokens = stream(Math.max(40000, 32 * (seqLength + 1) + 1), V, 9);
    const model = new RNNModel({ vocabSize: V, hiddenSize: hidden, dtype: 'float32', backend: name, seed: 4 });
    const trainer = new Trainer(model, { optimizer: 'adam', lr: 1e-3 });
    // two steps first: the workspace is allocated and the code warm before measuring
    await trainer.fit(tokens, { steps: 2, batchSize: 32, seqLength });
    let gcPause = 0;
    const gcObserver = new PerformanceObserver((list) => { for (const e of list.getEntries()) gcPause = Math.max(gcPause, e.duration); });
    gcObserver.observe({ entryTypes: ['gc'] });
    let worst = 0, ticks = 0, ticksBetweenSteps = 0, last = performance.now();
    let stepsSeen = 0, stepsAtTick = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      worst = Math.max(worst, now - last - 10);
      last = now;
      ticks++;
      if (stepsSeen > stepsAtTick) { ticksBetweenSteps++; stepsAtTick = stepsSeen; }
    }, 10);
    const ac = new AbortController();
    const stop = Number.isFinite(maxMs) ? setTimeout(() => ac.abort(), maxMs) : null;
    const t0 = performance.now();
    let done = 0;
    try {
      done = (await trainer.fit(tokens, { steps: steps + 2, batchSize: 32, seqLength, signal: ac.signal, onStep: () => { stepsSeen++; } })).steps - 2;
    } finally {
      clearInterval(timer);
      if (stop) clearTimeout(stop);
    }
    const ms = performance.now() - t0;
    await new Promise((resolve) => setTimeout(resolve, 20)); // GC entries arrive asynchronously
    gcObserver.disconnect();
    return { worst, ticks, ticksBetweenSteps, ms, steps: done, perStep: ms / done, seqLength, gcPause };
  }

  // A step that blocked the main thread would delay the timer by about a whole step on every
  // run, so the bound is min(100 ms, half a step) and the step must be long: with the blocked
  // gemm a 256-wide 32x32 step takes ~25 ms, which a blocking fit would pass under 100 ms, so
  // the chunks are 512 steps long (128 were ~100 ms a step on that build; the AVX-512 gemm made them ~25 ms,
  // which put the bound at 12 ms, inside this machine's jitter). 30 steps (after 2 unmeasured
  // ones that allocate the workspace), or as many as fit in 4 s on a slower build. Measured here: ~10-50 ms of jitter on this shared 2-core
  // machine, 0.3 ms of main-thread work per step. One re-run is allowed when the first
  // measurement is over (a blocking step fails both).
  it('[native] hidden 256, batch 32, seq 512, ≤ 30 steps: the worst extra delay of a 10 ms interval stays < 100 ms', async function () {
    if (!HAS_NATIVE) this.skip();
    let r = await timedFit('native', 256, 30, 512, 6000);
    const report = (x: typeof r) => `${x.steps} steps of 32x${x.seqLength} in ${x.ms.toFixed(0)} ms (${x.perStep.toFixed(0)} ms/step): ` +
      `worst extra timer delay ${x.worst.toFixed(1)} ms over ${x.ticks} ticks (longest GC pause ${x.gcPause.toFixed(1)} ms)`;
    const bound = (x: typeof r) => Math.min(100, x.perStep / 2);
    let text = `${report(r)} (bound ${bound(r).toFixed(0)} ms)`;
    if (r.worst >= bound(r)) {
      r = await timedFit('native', 256, 30, 512, 6000);
      text += `; over the bound, re-run: ${report(r)}`;
    }
    measured.push(`event loop [native] H=256: ${text}`);
    expect(r.steps).to.be.at.least(2);
    expect(r.worst, `worst extra delay (ms), ${r.perStep.toFixed(0)} ms per step`).to.be.lessThan(bound(r));
    expect(r.ticks).to.be.greaterThan(r.ms / 10 / 3);
  });

  it('[ts] timers run between steps', async () => {
    const r = await timedFit('ts', 64, 10);
    measured.push(`event loop [ts] H=64 32x32, 10 steps in ${r.ms.toFixed(0)} ms: ${r.ticks} timer ticks, ` +
      `${r.ticksBetweenSteps} of them between steps, worst delay ${r.worst.toFixed(1)} ms (one step's work)`);
    expect(r.ticks).to.be.greaterThan(0);
    expect(r.ticksBetweenSteps).to.be.greaterThan(0);
  });

  it('[native] a step whose model and inputs are dropped completes under repeated GC (child process, --expose-gc)', function () {
    if (!HAS_NATIVE) this.skip();
    const lib = path.resolve(__dirname, '..', 'lib');
    const script = `
      const { RNNModel, Trainer } = require(${JSON.stringify(lib)});
      if (typeof global.gc !== 'function') throw new Error('no gc');
      const V = 32, T = 256, m = 32;
      const mkIds = () => new Int32Array(T * m).map((_, k) => (k * 7 + (k >> 3)) % V);
      const mkTg = () => new Int32Array(T * m).map((_, k) => (k * 5 + 1) % V);
      const opts = { vocabSize: V, hiddenSize: 256, dtype: 'float32', backend: 'native', seed: 9 };
      const want = new RNNModel(opts).loss({ ids: mkIds(), steps: T, batch: m }, mkTg());
      let model = new RNNModel(opts);
      let trainer = new Trainer(model, { optimizer: 'sgd', lr: 0.1 });
      let done = false, gcs = 0;
      // the inputs exist only inside the call; the model, its workspace map and the trainer are dropped
      const p = trainer.trainStep({ ids: mkIds(), steps: T, batch: m }, mkTg());
      model.releaseWorkspaces();
      model = null; trainer = null;
      const churn = () => {
        if (done) return;
        const junk = [];
        for (let i = 0; i < 20; i++) junk.push(new Float32Array(50000).fill(i));
        global.gc(); gcs++;
        setImmediate(churn);
      };
      churn();
      p.then((r) => { done = true; console.log(JSON.stringify({ loss: r.loss, want, gradNorm: r.gradNorm, gcs })); },
        (e) => { done = true; console.error(e); process.exit(2); });
    `;
    const r = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8', timeout: 60000 });
    expect(r.status, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    measured.push(`GC [native]: step finished with loss ${out.loss} (expected ${out.want}) after ${out.gcs} forced GCs`);
    expect(Number.isFinite(out.loss)).to.equal(true);
    expect(out.loss).to.equal(out.want);
    expect(out.gradNorm).to.be.greaterThan(0);
    expect(out.gcs, 'GC ran while the step was in flight').to.be.greaterThan(1);
  });
});
