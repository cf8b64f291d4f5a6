// Every public options object refuses a key no one reads (a misspelling would otherwise be
// ignored without a word): a TypeError naming the key, with the nearest known key when one is
// close, as better-sqlite3 does for a misspelled option.
import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  decodeCheckpoint, encodeCheckpoint, loadCheckpoint, Optimizer, RNNCell, RNNModel, saveCheckpoint, Trainer,
} from '../lib';
import { checkKnownKeys, editDistance, nearest } from '../lib/nn/predicates';

async function rejection(p: () => Promise<unknown>): Promise<Error> {
  try {
    await p();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('47 unknown option keys are TypeErrors naming the key', () => {
  const model = () => new RNNModel({ vocabSize: 5, hiddenSize: 4, backend: 'ts' });
  const tokens = new Int32Array(100).map((_, i) => i % 5);

  const sync: Array<[string, () => unknown, RegExp]> = [
    ['new RNNModel', () => new RNNModel({ vocabSize: 5, hiddenSize: 4, hiddenSzie: 8 } as never),
      /^new RNNModel: unknown option 'hiddenSzie' \(did you mean 'hiddenSize'\?\)$/],
    ['new RNNModel (numLayer)', () => new RNNModel({ vocabSize: 5, hiddenSize: 4, numLayer: 2 } as never),
      /new RNNModel: unknown option 'numLayer' \(did you mean 'numLayers'\?\)/],
    ['new RNNModel (a key set to undefined still counts)', () => new RNNModel({ vocabSize: 5, hiddenSize: 4, dtyp: undefined } as never),
      /new RNNModel: unknown option 'dtyp' \(did you mean 'dtype'\?\)/],
    ['new RNNModel (nothing close)', () => new RNNModel({ vocabSize: 5, hiddenSize: 4, banana: 1 } as never),
      /^new RNNModel: unknown option 'banana'$/],
    ['new RNNCell', () => new RNNCell({ inputSize: 3, hiddenSize: 4, activaton: 'relu' } as never),
      /^new RNNCell: unknown option 'activaton' \(did you mean 'activation'\?\)$/],
    ['new Trainer (learningRate)', () => new Trainer(model(), { learningRate: 0.1 } as never),
      /^new Trainer: unknown option 'learningRate' \(did you mean 'lr'\?\)$/],
    ['new Trainer (clip_norm)', () => new Trainer(model(), { clip_norm: 1 } as never),
      /new Trainer: unknown option 'clip_norm' \(did you mean 'clipNorm'\?\)/],
    ['new Trainer (schedule spec)', () => new Trainer(model(), { schedule: { kind: 'step', step_size: 3 } } as never),
      /schedule 'step': unknown option 'step_size' \(did you mean 'stepSize'\?\)/],
    ['new Trainer (lr beside an Optimizer instance)', () => new Trainer(model(), { optimizer: new Optimizer('sgd'), lr: 0.5 }),
      /new Trainer: lr cannot be given beside an Optimizer instance/],
    ['new Optimizer', () => new Optimizer('adam', { beta1: 0.8 } as never),
      /^new Optimizer: unknown option 'beta1' \(did you mean 'betas'\?\)$/],
    ['RNNModel.sample', () => model().sample({ length: 3, temprature: 0.5 } as never),
      /^RNNModel\.sample: unknown option 'temprature' \(did you mean 'temperature'\?\)$/],
    ['encodeCheckpoint', () => encodeCheckpoint({ model: model(), vocab: null } as never),
      /^encodeCheckpoint: unknown option 'vocab' \(did you mean 'vocabulary'\?\)$/],
    ['decodeCheckpoint', () => decodeCheckpoint(encodeCheckpoint({ model: model() }), { backnd: 'ts' } as never),
      /^decodeCheckpoint: unknown option 'backnd' \(did you mean 'backend'\?\)$/],
  ];
  for (const [label, f, re] of sync) {
    it(label, () => {
      expect(f).to.throw(TypeError, re);
    });
  }

  it('Trainer.fit and Trainer.evaluate', async () => {
    const trainer = new Trainer(model());
    const fit = await rejection(() => trainer.fit(tokens, { steps: 1, batch_size: 4 } as never));
    expect(fit).to.be.instanceOf(TypeError);
    expect(fit.message).to.equal("Trainer.fit: unknown option 'batch_size' (did you mean 'batchSize'?)");
    const seq = await rejection(() => trainer.fit(tokens, { steps: 1, seqLen: 4 } as never));
    expect(seq.message).to.equal("Trainer.fit: unknown option 'seqLen' (did you mean 'seqLength'?)");
    const ev = await rejection(() => trainer.evaluate(tokens, { batchsize: 2 } as never));
    expect(ev).to.be.instanceOf(TypeError);
    expect(ev.message).to.equal("Trainer.evaluate: unknown option 'batchsize' (did you mean 'batchSize'?)");
    expect(trainer.step, 'nothing ran').to.equal(0);
  });

  it('saveCheckpoint and loadCheckpoint', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'native-rnn-opts-'));
    try {
      const file = path.join(dir, 'm.safetensors');
      const save = await rejection(() => saveCheckpoint(file, { model: model(), trainr: null } as never));
      expect(save).to.be.instanceOf(TypeError);
      expect(save.message).to.equal("encodeCheckpoint: unknown option 'trainr' (did you mean 'trainer'?)");
      expect(fs.existsSync(file)).to.equal(false);
      await saveCheckpoint(file, { model: model() });
      const load = await rejection(() => loadCheckpoint(file, { cell: [] } as never));
      expect(load).to.be.instanceOf(TypeError);
      expect(load.message).to.equal("loadCheckpoint: unknown option 'cell' (did you mean 'cells'?)");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the known keys still work, and the suggestion helpers behave', () => {
    expect(() => new RNNModel({ vocabSize: 5, hiddenSize: 4, numLayers: 2, dtype: 'float64', backend: 'ts', seed: 1, init: 'xavier', loss: 'cross-entropy', activation: 'relu', cell: 'rnn', outputSize: 5 })).to.not.throw();
    expect(editDistance('hiddenSzie', 'hiddenSize')).to.equal(1); // a swap of neighbours is one edit
    expect(editDistance('kitten', 'sitting')).to.equal(3);
    expect(nearest('batch_size', ['batchSize', 'seqLength'])).to.equal('batchSize');
    expect(nearest('xyz', ['batchSize', 'seqLength'])).to.equal(null);
    expect(() => checkKnownKeys('f', { a: 1, b: 2 }, ['a', 'b'])).to.not.throw();
  });
});
