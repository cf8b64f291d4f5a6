import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { backends } from '../lib';
import type { BackendName, FloatArray } from '../lib/backend/types';
import { builtinNamesText } from '../lib/data/names';
import { Vocabulary } from '../lib/data/vocabulary';
import { CHECKPOINT_FORMAT, decodeCheckpoint, encodeCheckpoint, loadCheckpoint, saveCheckpoint } from '../lib/io/checkpoint';
import { CheckpointError } from '../lib/io/errors';
import { decodeSafetensors, encodeSafetensors, type SafeTensor } from '../lib/io/safetensors';
import { RNNModel } from '../lib/nn/model';
import { Random } from '../lib/random';
import { Trainer } from '../lib/train/trainer';

const TEXT = builtinNamesText().split('\n').slice(0, 40).join('\n') + '\n';

function bytesOf(a: FloatArray): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

function expectCheckpointError(f: () => unknown, code: string, message: RegExp): void {
  let caught: unknown;
  try { f(); } catch (err) { caught = err; }
  expect(caught, 'expected a CheckpointError').to.be.instanceOf(CheckpointError);
  expect((caught as CheckpointError).code).to.equal(code);
  expect((caught as Error).message).to.match(message);
}

/** The tensors and metadata of a checkpoint, for tampering with. */
function parts(bytes: Uint8Array): { tensors: Record<string, SafeTensor>; metadata: Record<string, string> } {
  const decoded = decodeSafetensors(bytes);
  return { tensors: Object.fromEntries(decoded.tensors), metadata: decoded.metadata };
}

async function trainedModel(backend: BackendName, numLayers = 2) {
  const vocabulary = Vocabulary.fromText(TEXT);
  const model = new RNNModel({ vocabSize: vocabulary.size, hiddenSize: 12, numLayers, backend, seed: 3 });
  const trainer = new Trainer(model, { optimizer: 'adam', lr: 1e-2, clipNorm: 5 });
  await trainer.fit(vocabulary.encode(TEXT), { steps: 4, batchSize: 4, seqLength: 8 });
  return { vocabulary, model, trainer };
}

describe('63 io: checkpoints', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'native-rnn-ckpt-')); });
  afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }); });

  it('writes PyTorch state_dict names and shapes, bias_hh zero, metadata strings', async () => {
    const { vocabulary, model, trainer } = await trainedModel('ts');
    const V = vocabulary.size;
    const { tensors, metadata } = parts(encodeCheckpoint({ model, vocabulary, trainer: trainer.snapshot() }));
    const shapes = Object.fromEntries(Object.entries(tensors).filter(([n]) => /^(rnn|head)\./.test(n)).map(([n, t]) => [n, t.shape]));
    expect(shapes).to.deep.equal({
      'rnn.weight_ih_l0': [12, V], 'rnn.weight_hh_l0': [12, 12], 'rnn.bias_ih_l0': [12], 'rnn.bias_hh_l0': [12],
      'rnn.weight_ih_l1': [12, 12], 'rnn.weight_hh_l1': [12, 12], 'rnn.bias_ih_l1': [12], 'rnn.bias_hh_l1': [12],
      'head.weight': [V, 12], 'head.bias': [V],
    });
    expect(Object.values(tensors).every((t) => t.dtype === 'F32')).to.equal(true);
    expect([...tensors['rnn.bias_hh_l1'].data].every((x) => x === 0)).to.equal(true);
    expect(tensors['optim.exp_avg'].shape).to.deep.equal([model.size]);
    expect(tensors['state.8x4.l1'].shape).to.deep.equal([12, 4]);
    expect(metadata.format).to.equal(CHECKPOINT_FORMAT);
    expect(JSON.parse(metadata.config)).to.deep.equal(model.config);
    expect(JSON.parse(metadata.trainer)).to.deep.equal({ step: 4, epoch: 0, position: 4 });
    expect(JSON.parse(metadata.optimizer).name).to.equal('adam');
  });

  for (const backend of backends.available()) {
    it(`round trip through a file (${backend}): weights and optimizer state bitwise, config, vocabulary, counters, rng`, async () => {
      const { vocabulary, model, trainer } = await trainedModel(backend);
      const rng = new Random(9);
      rng.normal();
      const file = path.join(dir, 'model.safetensors');
      await saveCheckpoint(file, { model, vocabulary, trainer: trainer.snapshot(), rng: rng.state(), metrics: { loss: 1.5 }, extra: { note: 'hi' } });
      expect(fs.readdirSync(dir)).to.deep.equal(['model.safetensors']); // no temp file left
      const loaded = await loadCheckpoint(file, { backend });
      expect(bytesOf(loaded.model.params).equals(bytesOf(model.params))).to.equal(true);
      expect(loaded.config).to.deep.equal(model.config);
      expect(loaded.vocabulary?.symbols).to.deep.equal(vocabulary.symbols);
      const snap = trainer.snapshot();
      expect(loaded.trainer?.step).to.equal(4);
      expect(loaded.trainer?.position).to.equal(snap.position);
      expect(loaded.trainer?.optimizer).to.deep.equal(snap.optimizer);
      for (const name of ['exp_avg', 'exp_avg_sq']) {
        expect(bytesOf(loaded.trainer!.optimizerState[name]).equals(bytesOf(snap.optimizerState[name]))).to.equal(true);
      }
      for (const [name, arr] of Object.entries(snap.hiddenStates)) {
        expect(bytesOf(loaded.trainer!.hiddenStates[name]).equals(bytesOf(arr))).to.equal(true);
      }
      expect(loaded.rng).to.deep.equal(rng.state());
      expect(loaded.metrics).to.deep.equal({ loss: 1.5 });
      expect(loaded.extra).to.deep.equal({ note: 'hi' });
    });
  }

  it('float64 models write F64 tensors and round-trip', () => {
    const model = new RNNModel({ vocabSize: 5, hiddenSize: 3, dtype: 'float64', backend: 'ts', seed: 1 });
    const bytes = encodeCheckpoint({ model });
    expect(parts(bytes).tensors['head.weight'].dtype).to.equal('F64');
    const loaded = decodeCheckpoint(bytes, { backend: 'ts' });
    expect(bytesOf(loaded.model.params).equals(bytesOf(model.params))).to.equal(true);
    expect(loaded.vocabulary).to.equal(null);
    expect(loaded.trainer).to.equal(null);
  });

  it('folds a non-zero bias_hh into b (b = bias_ih + bias_hh), as in a file written by PyTorch', async () => {
    const { vocabulary, model } = await trainedModel('ts', 1);
    const { tensors, metadata } = parts(encodeCheckpoint({ model, vocabulary }));
    const bih = tensors['rnn.bias_ih_l0'].data as Float32Array;
    const bhh = Float32Array.from({ length: 12 }, (_, i) => 0.25 * (i - 6));
    tensors['rnn.bias_hh_l0'] = { dtype: 'F32', shape: [12], data: bhh };
    const loaded = decodeCheckpoint(encodeSafetensors(tensors, metadata), { backend: 'ts' });
    const b = loaded.model.view('rnn.bias_l0');
    for (let i = 0; i < 12; i++) expect(b[i]).to.equal(Math.fround(bih[i] + bhh[i]));
    expect(bytesOf(loaded.model.view('head.weight')).equals(bytesOf(model.view('head.weight')))).to.equal(true);

    // Only tensors, no metadata at all (safetensors.torch.save_file(model.state_dict())): the
    // config is read off the shapes.
    const bare = decodeCheckpoint(encodeSafetensors(tensors), { backend: 'ts' });
    expect(bare.config).to.include({ vocabSize: vocabulary.size, hiddenSize: 12, numLayers: 1, outputSize: vocabulary.size, dtype: 'float32' });
    expect(bytesOf(bare.model.params).equals(bytesOf(loaded.model.params))).to.equal(true);
  });

  it('rejects a vocabulary that disagrees with head.weight and rnn.weight_ih_l0', async () => {
    const { vocabulary, model } = await trainedModel('ts', 1);
    const { tensors, metadata } = parts(encodeCheckpoint({ model, vocabulary }));
    const bigger = { symbols: [...vocabulary.symbols, '\u00e9'] };
    expectCheckpointError(() => decodeCheckpoint(encodeSafetensors(tensors, { ...metadata, vocabulary: JSON.stringify(bigger) }), { backend: 'ts' }),
      'BAD_VALUE', /vocabulary has \d+ symbols but head\.weight has \d+ rows/);
  });

  it('rejects a missing tensor, a wrong shape, a wrong dtype, NaN weights, stray tensors and bad metadata', async () => {
    const { vocabulary, model, trainer } = await trainedModel('ts', 1);
    const good = parts(encodeCheckpoint({ model, vocabulary, trainer: trainer.snapshot() }));
    const tamper = (edit: (t: Record<string, SafeTensor>, m: Record<string, string>) => void) => {
      const t = { ...good.tensors }, m = { ...good.metadata };
      edit(t, m);
      return () => decodeCheckpoint(encodeSafetensors(t, m), { backend: 'ts' });
    };
    expectCheckpointError(tamper((t) => { delete t['rnn.weight_hh_l0']; }), 'MISSING_TENSOR', /'rnn\.weight_hh_l0' \[12, 12\] is missing/);
    expectCheckpointError(tamper((t) => { delete t['head.bias']; }), 'MISSING_TENSOR', /head\.bias/);
    expectCheckpointError(tamper((t) => { t['head.bias'] = { dtype: 'F32', shape: [3], data: new Float32Array(3) }; }), 'BAD_VALUE', /head\.bias' has shape \[3\]/);
    expectCheckpointError(tamper((t) => {
      t['rnn.bias_hh_l0'] = { dtype: 'F64', shape: [12], data: new Float64Array(12) };
    }), 'BAD_VALUE', /is F64 but the model is float32/);
    expectCheckpointError(tamper((t) => {
      const w = (t['rnn.weight_hh_l0'].data as Float32Array).slice();
      w[5] = NaN;
      t['rnn.weight_hh_l0'] = { dtype: 'F32', shape: [12, 12], data: w };
    }), 'BAD_VALUE', /holds NaN at index 5/);
    expectCheckpointError(tamper((t) => { t['rnn.weight_ih_l1'] = t['rnn.weight_hh_l0']; }), 'BAD_VALUE', /unexpected tensor 'rnn\.weight_ih_l1'/);
    expectCheckpointError(tamper((t) => {
      t['optim.exp_avg'] = { dtype: 'F32', shape: [7], data: new Float32Array(7) };
    }), 'BAD_VALUE', /optim\.exp_avg' must be F32 \[\d+\]/);
    expectCheckpointError(tamper((_t, m) => { m.config = '{"hiddenSize": 12'; }), 'BAD_METADATA', /'config' is not valid JSON/);
    expectCheckpointError(tamper((_t, m) => { m.format = 'other/9'; }), 'BAD_VALUE', /format 'other\/9'/);
    expectCheckpointError(() => decodeCheckpoint(Buffer.from('not a checkpoint at all'), { backend: 'ts' }), 'HEADER_TOO_LARGE', /header length/);
  });

  it('a failing verification leaves the previous checkpoint in place', async () => {
    const { vocabulary, model } = await trainedModel('ts', 1);
    const file = path.join(dir, 'keep.safetensors');
    await saveCheckpoint(file, { model, vocabulary });
    const before = fs.readFileSync(file);
    model.params[0] = NaN; // the verifying read refuses non-finite weights
    let caught: unknown;
    try { await saveCheckpoint(file, { model, vocabulary }); } catch (err) { caught = err; }
    expect(caught).to.be.instanceOf(CheckpointError);
    expect(fs.readFileSync(file).equals(before)).to.equal(true);
    expect(fs.readdirSync(dir)).to.deep.equal(['keep.safetensors']);
  });

  for (const backend of backends.available()) {
    it(`resume is exact (${backend}): 2N steps in one run = N steps, checkpoint, reload, N more`, async () => {
      const vocabulary = Vocabulary.fromText(TEXT);
      const ids = vocabulary.encode(TEXT);
      const validation = ids.subarray(0, 60);
      const make = () => new RNNModel({ vocabSize: vocabulary.size, hiddenSize: 10, numLayers: 2, backend, seed: 5 });
      const options = { optimizer: 'adam' as const, lr: 5e-3, clipNorm: 1 };
      // 4 streams of chunks of 8 over ~300 ids: ~9 chunks an epoch, so 2N = 14 crosses an epoch.
      const fit = { batchSize: 4, seqLength: 8, validation, evalEvery: 3 };
      const N = 7;

      const whole = new Trainer(make(), options);
      const one = await whole.fit(ids, { ...fit, steps: 2 * N });

      const first = new Trainer(make(), options);
      await first.fit(ids, { ...fit, steps: N });
      const bytes = encodeCheckpoint({ model: first.model, vocabulary, trainer: first.snapshot() });
      const loaded = decodeCheckpoint(bytes, { backend });
      const second = new Trainer(loaded.model, options);
      second.restore(loaded.trainer!);
      const two = await second.fit(ids, { ...fit, steps: 2 * N });

      expect(two.steps).to.equal(2 * N);
      expect(two.epoch).to.equal(one.epoch);
      expect(two.loss).to.equal(one.loss);
      expect(two.validation?.loss).to.equal(one.validation?.loss);
      expect(bytesOf(second.model.params).equals(bytesOf(whole.model.params))).to.equal(true);
    });
  }
});
