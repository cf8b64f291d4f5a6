// Dropout (lib/nn/dropout.ts, recorded in lib/nn/recording.ts): PyTorch's semantics on the
// outputs of every layer but the last (and, with headDropout, on the head's input), training
// steps only; gradients of the masked model against central differences with the mask fixed;
// native = ts; masks that depend only on (seed, step, slot), so resumed runs are exact; the
// options' checks, checkpoints and the CLI's --dropout / --head-dropout.
import { expect } from 'chai';
import { cli, type Result } from './helpers/cli';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { backends, RNNModel, Trainer } from '../lib';
import type { BackendName, FloatArray, Op } from '../lib';
import { builtinNamesText } from '../lib/data/names';
import { Vocabulary } from '../lib/data/vocabulary';
import { CheckpointError } from '../lib/io/errors';
import { decodeCheckpoint, encodeCheckpoint, loadCheckpoint } from '../lib/io/checkpoint';
import { decodeSafetensors, encodeSafetensors } from '../lib/io/safetensors';
import { maskGenerator, maskState } from '../lib/nn/dropout';
import type { ModelInput, RNNModelOptions, Workspace } from '../lib/nn/model';
import { measuredLog, Rng } from './helpers/check';
import { central4, perParameterFd, worstRelative } from './helpers/model-fd';

const BACKENDS: BackendName[] = backends.available();

/** mask[0, n) for (seed, step, slot), as a training step draws it (the ts backend's dropoutMask). */
function drawMask(mask: FloatArray, n: number, p: number, seed: number, step: number, slot: number): void {
  const [s0, s1, s2, s3] = maskState(seed, step, slot);
  backends.get('ts').dropoutMask(n, p, s0, s1, s2, s3, mask, 0);
}

function tokenBatch(rng: Rng, V: number, T: number, m: number): { input: ModelInput; target: Int32Array } {
  const ids = new Int32Array(T * m).map(() => rng.int(V));
  const target = new Int32Array(T * m).map(() => rng.int(V));
  return { input: { ids, steps: T, batch: m }, target };
}

/** The output C^l of layer l in a workspace, as a contiguous n_c × T·m copy. */
function outputCopy(model: RNNModel, ws: Workspace, l: number): Float64Array {
  const { hiddenSize: nc } = model.config;
  const TM = ws.steps * ws.batch;
  const view = model.cell.output(model.layout.layers[l].sizes, ws.steps, ws.batch);
  const src = ws.layers[l].buffers[view.buffer];
  const out = new Float64Array(nc * TM);
  for (let i = 0; i < nc; i++) for (let j = 0; j < TM; j++) out[i * TM + j] = src[view.offset + i * view.ld + j];
  return out;
}

/** Runs the forward of one batch (no loss), with or without the masks of `step`. */
function forwardOnly(model: RNNModel, input: ModelInput, step: number | null): Workspace {
  const ws = model.workspace(input.steps, input.batch);
  const ops: Op[] = [];
  model.recordForward(ops, ws, input, null, 0, true, step);
  model.runSync(ops);
  return ws;
}

/** Every kept value is x·(1/(1 − p)) (≈ x/(1 − p)), every dropped one 0; returns the fraction dropped. */
function checkMasked(label: string, got: ArrayLike<number>, x: ArrayLike<number>, p: number): number {
  const scale = 1 / (1 - p);
  let dropped = 0;
  for (let i = 0; i < x.length; i++) {
    if (got[i] === 0 && x[i] !== 0) { dropped++; continue; }
    expect(got[i], `${label}[${i}]`).to.equal(x[i] * scale);
    expect(Math.abs(got[i] - x[i] / (1 - p)), `${label}[${i}] vs x/(1 − p)`).to.be.at.most(1e-15 * Math.abs(x[i] / (1 - p)));
  }
  return dropped / x.length;
}

describe('49 dropout: PyTorch semantics', () => {
  it('between layers: the next layer reads C·mask (kept values x/(1 − p), dropped 0, a fraction ≈ p dropped); the last layer is not dropped', () => {
    const p = 0.3;
    const model = new RNNModel({ vocabSize: 7, hiddenSize: 32, numLayers: 3, dropout: p, dtype: 'float64', backend: 'ts', seed: 4 });
    const { input } = tokenBatch(new Rng(1), 7, 16, 16);
    const ws = forwardOnly(model, input, 5);
    const n = 32 * 16 * 16;
    for (const l of [0, 1]) {
      const frac = checkMasked(`X of layer ${l + 1}`, ws.layers[l + 1].X, outputCopy(model, ws, l), p);
      // binomial: sd = sqrt(p(1 − p)/n) ≈ 0.005; 5 sd
      expect(frac, `layer ${l}`).to.be.closeTo(p, 5 * Math.sqrt(p * (1 - p) / n));
    }
    // the two layers' masks differ (each slot has its own generator)
    let same = 0;
    for (let i = 0; i < n; i++) if (ws.layers[0].mask[i] === ws.layers[1].mask[i]) same++;
    expect(same / n).to.be.below(0.7);
    // the head reads the top layer's output in place: logits = Wy·C^L + by exactly
    expect(ws.layers[2].mask.length).to.equal(0);
    expect(ws.headInput.length).to.equal(0);
    const logits = ws.logits.slice();
    const top = outputCopy(model, ws, 2);
    const noDrop = forwardOnly(new RNNModel({ vocabSize: 7, hiddenSize: 32, numLayers: 3, dtype: 'float64', backend: 'ts', seed: 4 }), input, null);
    // the same weights without dropout give other logits (the lower layers were dropped) …
    expect(Buffer.from(noDrop.logits.buffer).equals(Buffer.from(logits.buffer))).to.equal(false);
    // … and the head is Wy·C^L + by of this run's C^L
    const W = model.view('head.weight'), b = model.view('head.bias'), TM = 256;
    for (const [v, j] of [[0, 0], [3, 17], [6, 255]]) {
      let s = 0;
      for (let k = 0; k < 32; k++) s += W[v * 32 + k] * top[k * TM + j];
      expect(logits[v * TM + j]).to.be.closeTo(s + b[v], 1e-12);
    }
  });

  it('headDropout: the head reads a masked copy of the top output; with one layer `dropout` alone drops nothing', () => {
    const q = 0.5;
    const model = new RNNModel({ cell: 'gru', vocabSize: 5, hiddenSize: 24, numLayers: 1, headDropout: q, dtype: 'float64', backend: 'ts', seed: 2 });
    const { input } = tokenBatch(new Rng(2), 5, 12, 20);
    const ws = forwardOnly(model, input, 9);
    const frac = checkMasked('head input', ws.headInput, outputCopy(model, ws, 0), q);
    expect(frac).to.be.closeTo(q, 5 * Math.sqrt(q * (1 - q) / (24 * 240)));

    const one = new RNNModel({ vocabSize: 5, hiddenSize: 6, numLayers: 1, dropout: 0.5, dtype: 'float64', backend: 'ts', seed: 2 });
    const { input: x, target } = tokenBatch(new Rng(3), 5, 4, 3);
    const plain = one.lossAndGradients(x, target);
    const g = one.grads.slice();
    expect(one.lossAndGradients(x, target, { dropoutStep: 3 })).to.equal(plain);
    expect(Buffer.from(one.grads.buffer).equals(Buffer.from(g.buffer))).to.equal(true);
  });

  it('float32: kept values are x·fl32(1/(1 − p)) in float32', () => {
    const p = 0.2;
    const model = new RNNModel({ cell: 'lstm', vocabSize: 6, hiddenSize: 16, numLayers: 2, dropout: p, backend: 'ts', seed: 7 });
    const { input } = tokenBatch(new Rng(4), 6, 8, 8);
    const ws = forwardOnly(model, input, 1);
    const x = outputCopy(model, ws, 0), got = ws.layers[1].X;
    const scale = Math.fround(1 / (1 - p));
    let dropped = 0;
    for (let i = 0; i < x.length; i++) {
      if (got[i] === 0) dropped++;
      else expect(got[i]).to.equal(Math.fround(x[i] * scale));
    }
    expect(dropped).to.be.above(0);
    expect(ws.layers[0].mask).to.be.instanceOf(Float32Array);
  });

  it('the masks: drawMask is xoshiro128** from (seed, step, slot), p = 0 keeps all, and different steps, slots or seeds differ', () => {
    const a = new Float64Array(5000);
    drawMask(a, a.length, 0.37, -5, 123456789012, 7);
    const g = maskGenerator(-5, 123456789012, 7);
    const threshold = Math.round(0.37 * 2 ** 32);
    for (let i = 0; i < a.length; i++) expect(a[i], `[${i}]`).to.equal(g.nextUint32() < threshold ? 0 : 1 / 0.63);
    const zero = new Float32Array(1000);
    drawMask(zero, zero.length, 0, 1, 1, 0);
    expect(zero.every((v) => v === 1)).to.equal(true);
    const draw = (seed: number, step: number, slot: number) => { const m = new Float64Array(256); drawMask(m, 256, 0.5, seed, step, slot); return m; };
    const base = draw(1, 10, 0);
    expect(draw(1, 10, 0)).to.deep.equal(base);
    for (const other of [draw(1, 11, 0), draw(1, 10, 1), draw(2, 10, 0), draw(1, 10 + 2 ** 32, 0)]) {
      let same = 0;
      for (let i = 0; i < 256; i++) if (other[i] === base[i]) same++;
      expect(same).to.be.below(180); // ≈ 128 for independent masks
    }
  });

  it('the dropoutMask kernel: every backend draws the bits of maskGenerator, at an offset, in both dtypes, with the dropped share ≈ p', () => {
    const state = maskState(987654321, 42, 3);
    for (const name of BACKENDS) {
      const k = backends.get(name);
      for (const p of [0, 1e-9, 0.1, 0.5, 0.9, 0.999999]) {
        for (const Ctor of [Float32Array, Float64Array]) {
          const n = 20000, off = 5;
          const mask = new Ctor(n + off + 3).fill(-7);
          k.dropoutMask(n, p, state[0], state[1], state[2], state[3], mask, off);
          const g = maskGenerator(987654321, 42, 3);
          const threshold = Math.round(p * 2 ** 32);
          const keep = Ctor === Float32Array ? Math.fround(1 / (1 - p)) : 1 / (1 - p);
          let dropped = 0;
          for (let i = 0; i < n; i++) {
            const want = g.nextUint32() < threshold ? 0 : keep;
            if (mask[off + i] !== want) expect(mask[off + i], `${name} p ${p} ${Ctor.name}[${i}]`).to.equal(want);
            if (want === 0) dropped++;
          }
          // untouched outside [off, off + n)
          for (const i of [0, 4, n + off, n + off + 2]) expect(mask[i], `${name} ${Ctor.name}[${i}]`).to.equal(-7);
          expect(Math.abs(dropped / n - p), `${name} p ${p}: dropped ${dropped} of ${n}`).to.be.below(0.012);
        }
      }
      expect(() => k.dropoutMask(4, 1, 1, 2, 3, 4, new Float32Array(4), 0)).to.throw(RangeError, /dropoutMask: p must be in \[0, 1\), got 1/);
      expect(() => k.dropoutMask(4, 0.5, 2 ** 32, 2, 3, 4, new Float32Array(4), 0)).to.throw(RangeError, /dropoutMask: s0 must be in \[0, 4294967296\), got 4294967296/);
      expect(() => k.dropoutMask(5, 0.5, 1, 2, 3, 4, new Float32Array(4), 0)).to.throw(RangeError, /dropoutMask: mask is too short/);
    }
  });

  it('p = 0 records no extra op (existing runs are unchanged), and dropout records mulInPlace only in training steps', () => {
    const { input, target } = tokenBatch(new Rng(5), 5, 4, 2);
    const record = (options: Partial<RNNModelOptions>, step: number | null) => {
      const model = new RNNModel({ vocabSize: 5, hiddenSize: 4, numLayers: 3, backend: 'ts', ...options });
      const ws = model.workspace(4, 2);
      const ops: Op[] = [];
      model.recordForward(ops, ws, input, target, 8, true, step);
      model.recordBackward(ops, ws, input);
      return ops.map((op) => op[0]);
    };
    const plain = record({}, null);
    expect(record({}, 7)).to.deep.equal(plain);
    expect(record({ dropout: 0.5, headDropout: 0.5 }, null)).to.deep.equal(plain);
    const dropping = record({ dropout: 0.5, headDropout: 0.5 }, 7);
    // 2 between layers + 1 on the head, forward and backward; one copy more for the head's input
    expect(dropping.filter((k) => k === 'mulInPlace').length).to.equal(6);
    expect(dropping.filter((k) => k === 'copyMatrix').length).to.equal(plain.filter((k) => k === 'copyMatrix').length + 1);
    // no masks are allocated without dropout, nor in inference workspaces
    const m0 = new RNNModel({ vocabSize: 5, hiddenSize: 4, numLayers: 3, backend: 'ts' });
    const m1 = new RNNModel({ vocabSize: 5, hiddenSize: 4, numLayers: 3, dropout: 0.1, backend: 'ts' });
    expect(m0.workspace(4, 2).layers.map((w) => w.mask.length)).to.deep.equal([0, 0, 0]);
    expect(m1.workspace(4, 2).layers.map((w) => w.mask.length)).to.deep.equal([32, 32, 0]);
    expect(m1.workspaceBytes(4, 2) - m0.workspaceBytes(4, 2)).to.equal(2 * 32 * 4);
    expect(m1.inferenceWorkspace(4, 2).ws.layers.map((w) => w.mask.length)).to.deep.equal([0, 0, 0]);
  });
});

// ---------------------------------------------------------------------------------------
// Gradients with the mask fixed: every evaluation uses the masks of one step (dropoutStep), so
// J is a smooth function of the parameters. Stencil and metric as test/40: 4th-order central
// difference at h = 1e-3, err = |a − n| / max(|a|, |n|, 1e-4), bar 1e-7.
const FD_H = 1e-3, FD_FLOOR = 1e-4, FD_TOL = 1e-7;

function numeric(model: RNNModel, input: ModelInput, target: Int32Array, step: number): Float64Array {
  return perParameterFd(model, () => model.lossAndGradients(input, target, { dropoutStep: step }), central4(FD_H));
}

const worst = (a: ArrayLike<number>, n: ArrayLike<number>) => worstRelative(a, n, FD_FLOOR);


const measured = measuredLog('49');

describe('49 dropout: gradients vs central differences with the mask fixed (float64, 2 layers, every parameter)', () => {
  for (const cell of ['rnn', 'lstm', 'gru']) {
    for (const name of BACKENDS) {
      it(`[${name}] ${cell}: dropout 0.3 between the layers and 0.25 on the head's input`, () => {
        const model = new RNNModel({ cell, vocabSize: 5, hiddenSize: 4, numLayers: 2, dropout: 0.3, headDropout: 0.25,
          dtype: 'float64', backend: name, seed: 3 });
        const { input, target } = tokenBatch(new Rng(11), 5, 4, 3);
        const step = 5;
        const loss = model.lossAndGradients(input, target, { dropoutStep: step });
        const analytic = model.grads.slice();
        const ws = model.workspace(4, 3);
        const dropped = [0, 1].map((l) => ws.layers[l].mask.filter((v) => v === 0).length);
        expect(dropped[0]).to.be.above(0);
        expect(dropped[1]).to.be.above(0);
        const fd = numeric(model, input, target, step);
        const w = worst(analytic, fd);
        measured.push(`FD [${name}] ${cell}: ${model.size} params, loss ${loss.toFixed(4)}, ${dropped.join(' and ')} of 48 dropped, ` +
          `max rel err ${w.err.toExponential(2)}`);
        expect(w.err, `worst at ${w.index}: analytic ${analytic[w.index]}, numeric ${fd[w.index]}`).to.be.at.most(FD_TOL);
        // the check can fail: the gradient without dropout, or with another step's masks, is far off
        model.lossAndGradients(input, target);
        expect(worst(model.grads, fd).err).to.be.above(1e-3);
        model.lossAndGradients(input, target, { dropoutStep: step + 1 });
        expect(worst(model.grads, fd).err).to.be.above(1e-3);
      });
    }
  }
});

describe('49 dropout: native = ts, resume exactness, inference unaffected, options, checkpoints', () => {
  const text = 'hello world\nhello there\nhow are you\nwho are we\n'.repeat(12);
  const vocab = Vocabulary.fromText(text);
  const tokens = vocab.encode(text);
  const make = (backend: BackendName, options: Partial<RNNModelOptions> = {}) => new RNNModel({
    cell: 'lstm', vocabSize: vocab.size, hiddenSize: 12, numLayers: 2, dropout: 0.3, headDropout: 0.2, dtype: 'float64', backend, seed: 9, ...options,
  });
  const fitOptions = { batchSize: 4, seqLength: 8 };

  it('native = ts: the same masks bit for bit; loss and gradients of a dropout step, and 8 sgd steps, within 1e-12', async function () {
    if (!BACKENDS.includes('native')) this.skip();
    const relative = (a: ArrayLike<number>, b: ArrayLike<number>) => {
      let e = 0;
      for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), 1e-3));
      return e;
    };
    const { input, target } = tokenBatch(new Rng(8), vocab.size, 8, 4);
    const one: Record<string, { loss: number; grads: FloatArray; masks: FloatArray[] }> = {};
    const params: Record<string, FloatArray> = {};
    for (const name of ['native', 'ts'] as BackendName[]) {
      const model = make(name);
      const loss = model.lossAndGradients(input, target, { dropoutStep: 4 });
      one[name] = { loss, grads: model.grads.slice(), masks: model.workspace(8, 4).layers.map((w) => w.mask.slice()) };
      const trainer = new Trainer(model, { optimizer: 'sgd', lr: 0.5, clipNorm: 5 });
      await trainer.fit(tokens, { steps: 8, ...fitOptions });
      params[name] = model.params.slice();
    }
    one.native.masks.forEach((m, l) => {
      expect(m.length, `mask ${l}`).to.equal(12 * 32);
      expect(Buffer.from(m.buffer).equals(Buffer.from(one.ts.masks[l].buffer)), `mask ${l}`).to.equal(true);
    });
    expect(Math.abs(one.native.loss - one.ts.loss) / one.ts.loss).to.be.at.most(1e-12);
    const gradErr = relative(one.native.grads, one.ts.grads), paramErr = relative(params.native, params.ts);
    measured.push(`native vs ts with dropout: gradients of one step ${gradErr.toExponential(2)}, parameters after 8 sgd steps ${paramErr.toExponential(2)} (max rel difference)`);
    expect(gradErr).to.be.at.most(1e-12);
    expect(paramErr).to.be.at.most(1e-12);
  });

  for (const name of BACKENDS) {
    it(`[${name}] 2N steps == N steps, snapshot/restore (and a checkpoint), N more — bit for bit; dropout changes the run`, async () => {
      const N = 6;
      const whole = make(name);
      const t1 = new Trainer(whole, { optimizer: 'adam', lr: 1e-2, clipNorm: 5 });
      const r1 = await t1.fit(tokens, { steps: 2 * N, ...fitOptions });

      const first = make(name);
      const t2 = new Trainer(first, { optimizer: 'adam', lr: 1e-2, clipNorm: 5 });
      await t2.fit(tokens, { steps: N, ...fitOptions });
      // through snapshot/restore into a fresh model and trainer
      const second = make(name, { seed: 9 });
      second.params.set(first.params);
      const t3 = new Trainer(second, { optimizer: 'adam', lr: 1e-2, clipNorm: 5 });
      t3.restore(t2.snapshot());
      const r3 = await t3.fit(tokens, { steps: 2 * N, ...fitOptions });
      expect(r3.loss).to.equal(r1.loss);
      expect(Buffer.from(second.params.buffer).equals(Buffer.from(whole.params.buffer))).to.equal(true);
      // through a checkpoint (which carries the config's dropout and seed)
      const loaded = decodeCheckpoint(encodeCheckpoint({ model: first, vocabulary: vocab, trainer: t2.snapshot() }), { backend: name });
      expect(loaded.model.config).to.include({ dropout: 0.3, headDropout: 0.2, seed: 9 });
      const t4 = new Trainer(loaded.model, { optimizer: 'adam', lr: 1e-2, clipNorm: 5 });
      t4.restore(loaded.trainer!);
      const r4 = await t4.fit(tokens, { steps: 2 * N, ...fitOptions });
      expect(r4.loss).to.equal(r1.loss);
      expect(Buffer.from(loaded.model.params.buffer).equals(Buffer.from(whole.params.buffer))).to.equal(true);
      // without dropout the same run ends elsewhere
      const plain = make(name, { dropout: 0, headDropout: 0 });
      const r5 = await new Trainer(plain, { optimizer: 'adam', lr: 1e-2, clipNorm: 5 }).fit(tokens, { steps: 2 * N, ...fitOptions });
      expect(r5.loss).to.not.equal(r1.loss);
    });
  }

  it('evaluate, loss, forward and sample never drop: a dropout model gives what the same weights without dropout give', async () => {
    for (const name of BACKENDS) {
      const dropping = make(name);
      await new Trainer(dropping, { optimizer: 'adam', lr: 1e-2 }).fit(tokens, { steps: 5, ...fitOptions });
      const plain = make(name, { dropout: 0, headDropout: 0 });
      plain.params.set(dropping.params);
      const ta = new Trainer(dropping), tb = new Trainer(plain);
      const ea = await ta.evaluate(tokens, fitOptions), eb = await tb.evaluate(tokens, fitOptions);
      expect(ea.loss).to.equal(eb.loss);
      const { input, target } = tokenBatch(new Rng(6), vocab.size, 8, 4);
      expect(dropping.loss(input, target)).to.equal(plain.loss(input, target));
      expect(dropping.lossAndGradients(input, target)).to.equal(plain.lossAndGradients(input, target));
      expect(Buffer.from(dropping.forward(input).logits.data.buffer).equals(Buffer.from(plain.forward(input).logits.data.buffer))).to.equal(true);
      const fa = await dropping.forwardAsync(input), fb = await plain.forwardAsync(input);
      expect(Buffer.from(fa.logits.data.buffer).equals(Buffer.from(fb.logits.data.buffer))).to.equal(true);
      const sa = dropping.sample({ length: 30, prime: vocab.encode('h'), seed: 3 }), sb = plain.sample({ length: 30, prime: vocab.encode('h'), seed: 3 });
      expect(Array.from(sa)).to.deep.equal(Array.from(sb));
      // while a training step's loss is a dropped one
      expect(dropping.lossAndGradients(input, target, { dropoutStep: 1 })).to.not.equal(plain.loss(input, target));
    }
  });

  it('bad values of dropout, headDropout and dropoutStep: RangeError (TypeError for a non-number) naming them; a misspelling is caught', () => {
    const base = { vocabSize: 5, hiddenSize: 4, backend: 'ts' as const };
    for (const key of ['dropout', 'headDropout'] as const) {
      for (const v of [-0.1, 1, 1.5, NaN, Infinity, -Infinity]) {
        expect(() => new RNNModel({ ...base, [key]: v }), `${key} ${v}`).to.throw(RangeError, new RegExp(`new RNNModel: ${key} must be a number in \\[0, 1\\)`));
      }
      expect(() => new RNNModel({ ...base, [key]: '0.5' as unknown as number })).to.throw(TypeError, new RegExp(key));
    }
    expect(new RNNModel({ ...base, dropout: 0.999, headDropout: 0 }).config).to.include({ dropout: 0.999, headDropout: 0 });
    expect(new RNNModel(base).config).to.include({ dropout: 0, headDropout: 0 });
    expect(() => new RNNModel({ ...base, dropuot: 0.2 } as RNNModelOptions)).to.throw(TypeError, /unknown option 'dropuot' \(did you mean 'dropout'\?\)/);
    const model = new RNNModel({ ...base, dropout: 0.2 });
    const { input, target } = tokenBatch(new Rng(1), 5, 3, 2);
    for (const v of [-1, 1.5, NaN]) expect(() => model.lossAndGradients(input, target, { dropoutStep: v })).to.throw(RangeError, /dropoutStep/);
    expect(() => model.lossAndGradients(input, target, { step: 1 } as never)).to.throw(TypeError, /unknown option 'step'/);
  });

  it('checkpoints: dropout is in the config; a file without it loads as 0; a bad value is refused', () => {
    const model = make('ts');
    const bytes = encodeCheckpoint({ model, vocabulary: vocab });
    const { tensors, metadata } = decodeSafetensors(bytes);
    const config = JSON.parse(metadata.config) as Record<string, unknown>;
    expect(config).to.include({ dropout: 0.3, headDropout: 0.2 });
    const rewrite = (edit: (c: Record<string, unknown>) => void) => {
      const c = { ...config };
      edit(c);
      return encodeSafetensors(Object.fromEntries(tensors), { ...metadata, config: JSON.stringify(c) });
    };
    const old = decodeCheckpoint(rewrite((c) => { delete c.dropout; delete c.headDropout; }), { backend: 'ts' });
    expect(old.model.config).to.include({ dropout: 0, headDropout: 0 });
    for (const [key, v] of [['dropout', 1], ['headDropout', -0.5], ['dropout', '0.2']] as const) {
      expect(() => decodeCheckpoint(rewrite((c) => { c[key] = v; }), { backend: 'ts' }), `${key} ${v}`)
        .to.throw(CheckpointError, new RegExp(`config\\.${key} must be a number in \\[0, 1\\)`));
    }
  });
});

// ---------------------------------------------------------------------------------------
// Against PyTorch: the same weights as two one-layer nn.LSTM/nn.GRU and an nn.Linear, with our
// masks multiplied in where nn.LSTM(num_layers=2, dropout=p) and a head nn.Dropout would drop
// (the output sequence of layer 0 — not its carried state — and the head's input); loss and
// every gradient compared. Skipped when /usr/bin/python3 cannot import torch.
const TORCH_SCRIPT = `
import json, sys, torch
d = json.load(sys.stdin)
torch.set_default_dtype(torch.float64)
T, m, H, V, G = d['T'], d['m'], d['H'], d['V'], d['cell']
Cls = torch.nn.LSTM if G == 'lstm' else torch.nn.GRU
layers = [Cls(V, H), Cls(H, H)]
head = torch.nn.Linear(H, V)
p = {k: torch.tensor(v, dtype=torch.float64) for k, v in d['params'].items()}
with torch.no_grad():
  for l, layer in enumerate(layers):
    for kind in ['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh']:
      w = getattr(layer, kind + '_l0'); w.copy_(p['rnn.%s_l%d' % (kind, l)].reshape(w.shape))
  head.weight.copy_(p['head.weight'].reshape(V, H)); head.bias.copy_(p['head.bias'])
ids = torch.tensor(d['ids']).reshape(T, m)
x = torch.nn.functional.one_hot(ids, V).to(torch.float64)          # (T, m, V)
mask = lambda k: torch.tensor(d[k]).reshape(H, T, m).permute(1, 2, 0)  # ours is H x (T*m)
y0, _ = layers[0](x)
y1, _ = layers[1](y0 * mask('mask0'))
logits = head(y1 * mask('mask1'))
loss = torch.nn.functional.cross_entropy(logits.reshape(T * m, V), torch.tensor(d['target']))
loss.backward()
grads = {}
for l, layer in enumerate(layers):
  for kind in ['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh']:
    grads['rnn.%s_l%d' % (kind, l)] = getattr(layer, kind + '_l0').grad.reshape(-1).tolist()
grads['head.weight'] = head.weight.grad.reshape(-1).tolist(); grads['head.bias'] = head.bias.grad.tolist()
print(json.dumps({'loss': loss.item(), 'grads': grads}))
`;

describe('49 dropout against PyTorch (needs python3-torch)', function () {
  before(function () {
    const r = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8', timeout: 60000 });
    if (r.error || r.status !== 0) this.skip();
  });

  for (const cell of ['lstm', 'gru']) {
    it(`${cell}: 2 layers, dropout 0.4 and headDropout 0.3 with our masks: the loss within 1e-12 and every gradient within 1e-11 (relative)`, () => {
      const T = 5, m = 3, H = 6, V = 7;
      const model = new RNNModel({ cell, vocabSize: V, hiddenSize: H, numLayers: 2, dropout: 0.4, headDropout: 0.3, dtype: 'float64', backend: 'ts', seed: 12 });
      const { input, target } = tokenBatch(new Rng(21), V, T, m);
      const loss = model.lossAndGradients(input, target, { dropoutStep: 3 });
      const ws = model.workspace(T, m);
      const params: Record<string, number[]> = {};
      for (const e of model.entries) params[e.name] = Array.from(model.view(e.name));
      const r = spawnSync('/usr/bin/python3', ['-c', TORCH_SCRIPT], {
        encoding: 'utf8', timeout: 60000, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
        input: JSON.stringify({ T, m, H, V, cell, params, ids: Array.from((input as { ids: Int32Array }).ids), target: Array.from(target),
          mask0: Array.from(ws.layers[0].mask), mask1: Array.from(ws.layers[1].mask) }),
      });
      expect(r.status, r.stderr).to.equal(0);
      const torch = JSON.parse(r.stdout) as { loss: number; grads: Record<string, number[]> };
      expect(Math.abs(loss - torch.loss)).to.be.at.most(1e-12 * torch.loss);
      let worstErr = 0;
      for (const e of model.entries) {
        const ours = model.view(e.name, 'grads'), theirs = torch.grads[e.name];
        expect(theirs.length, e.name).to.equal(ours.length);
        for (let i = 0; i < ours.length; i++) worstErr = Math.max(worstErr, Math.abs(ours[i] - theirs[i]) / Math.max(Math.abs(theirs[i]), 1e-6));
      }
      measured.push(`PyTorch ${cell} with our masks: loss ${loss.toFixed(6)} (torch ${torch.loss.toFixed(6)}), gradients max rel difference ${worstErr.toExponential(2)}`);
      expect(worstErr).to.be.at.most(1e-11);
      // the masks did drop (the comparison is of a dropped model)
      expect(ws.layers[0].mask.some((v) => v === 0) && ws.layers[1].mask.some((v) => v === 0)).to.equal(true);
    });
  }
});

// ---------------------------------------------------------------------------------------

describe('49 cli: train --dropout / --head-dropout', function () {
  let dir = '';
  let data = '';
  const SMALL = ['--hidden', '16', '--layers', '2', '--batch', '4', '--seq-length', '8', '--sample-every', '0', '--eval-every', '10', '--save-every', '0'];
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'native-rnn-dropout-'));
    data = path.join(dir, 'names.txt');
    fs.writeFileSync(data, builtinNamesText().split('\n').slice(0, 300).join('\n') + '\n');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('stores the probabilities in the model and the run, changes the training, and a resume keeps them (and refuses others)', async () => {
    const drop = path.join(dir, 'drop.safetensors'), plain = path.join(dir, 'plain.safetensors');
    const a = await cli(['train', '--data', data, ...SMALL, '--steps', '20', '--dropout', '0.25', '--head-dropout', '0.1', '--save', drop, '--json']);
    expect(a.code, a.stderr).to.equal(0);
    const start = JSON.parse(a.stdout.split('\n')[0]) as Record<string, unknown>;
    expect(start).to.include({ event: 'start', dropout: 0.25, headDropout: 0.1 });
    const b = await cli(['train', '--data', data, ...SMALL, '--steps', '20', '--save', plain, '--json']);
    expect(b.code, b.stderr).to.equal(0);
    const ck = await loadCheckpoint(drop);
    expect(ck.model.config).to.include({ dropout: 0.25, headDropout: 0.1 });
    expect(JSON.parse(ck.extra.run)).to.include({ dropout: 0.25, headDropout: 0.1 });
    expect((await loadCheckpoint(plain)).model.config).to.include({ dropout: 0, headDropout: 0 });
    const last = (r: Result) => JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
    expect(last(a).loss).to.not.equal(last(b).loss);
    const text = await cli(['train', '--data', data, ...SMALL, '--steps', '2', '--dropout', '0.25', '--save', path.join(dir, 't.safetensors')]);
    expect(text.stdout).to.match(/parameters, dropout 0\.25 between layers;/);

    for (const [flag, value, message] of [
      ['--dropout', '0.5', /--dropout 0\.5 differs from the checkpoint's 0\.25/],
      ['--head-dropout', '0', /--head-dropout 0 differs from the checkpoint's 0\.1/],
    ] as Array<[string, string, RegExp]>) {
      const r = await cli(['train', '--resume', drop, '--steps', '30', flag, value]);
      expect(r.code, `${flag} ${value}`).to.equal(1);
      expect(r.stderr).to.match(message);
    }
    const c = await cli(['train', '--resume', drop, '--steps', '30', '--dropout', '0.25', '--json']);
    expect(c.code, c.stderr).to.equal(0);
    expect(last(c)).to.include({ event: 'done', step: 30 });
  });

  it('2N steps == N + resume N with dropout, bit for bit', async () => {
    const whole = path.join(dir, 'whole.safetensors'), parts = path.join(dir, 'parts.safetensors');
    const common = ['train', '--data', data, ...SMALL, '--dropout', '0.3', '--head-dropout', '0.2', '--json'];
    const a = await cli([...common, '--steps', '24', '--save', whole]);
    expect(a.code, a.stderr).to.equal(0);
    const b1 = await cli([...common, '--steps', '12', '--save', parts]);
    expect(b1.code, b1.stderr).to.equal(0);
    const b2 = await cli(['train', '--resume', parts, '--steps', '24', '--json']);
    expect(b2.code, b2.stderr).to.equal(0);
    const done = (r: Result) => JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
    expect(done(b2).loss).to.equal(done(a).loss);
    expect(done(b2).validationLoss).to.equal(done(a).validationLoss);
    const pa = (await loadCheckpoint(whole)).model.params, pb = (await loadCheckpoint(parts)).model.params;
    expect(Buffer.from(pb.buffer).equals(Buffer.from(pa.buffer))).to.equal(true);
  });

  it('bad values: one clear native-rnn: error line, exit code 1', async () => {
    for (const [args, message] of [
      [['train', '--dropout', '1'], /--dropout <p>' argument '1' is invalid\. expected a number in \[0, 1\)/],
      [['train', '--dropout', '-0.1'], /--dropout <p>' argument '-0\.1' is invalid/],
      [['train', '--dropout', 'half'], /--dropout <p>' argument 'half' is invalid/],
      [['train', '--head-dropout', '2'], /--head-dropout <p>' argument '2' is invalid/],
    ] as Array<[string[], RegExp]>) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).to.equal(1);
      expect(r.stderr, args.join(' ')).to.match(message);
      expect(r.stderr).to.match(/^native-rnn: error: /);
    }
  });
});
