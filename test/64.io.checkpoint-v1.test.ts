// A checkpoint written by the code before the cell interface (format native-rnn-checkpoint/1,
// no `cell` in its config; see test/fixtures/make-checkpoint-v1.ts) still loads, and resuming
// its training gives the very losses and weights that code computed, bit for bit.
import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';
import { backends } from '../lib';
import { decodeSafetensors } from '../lib/io/safetensors';
import { loadCheckpoint } from '../lib/io/checkpoint';
import { Trainer } from '../lib/train/trainer';
import { FIXTURE_FIT, FIXTURE_TEXT, FIXTURE_TRAINER, MORE_STEPS, paramsHash } from './fixtures/make-checkpoint-v1';

const FIXTURES = path.resolve(__dirname, '..', '..', 'test', 'fixtures');
const FILE = path.join(FIXTURES, 'checkpoint-v1.safetensors');

interface Expected {
  vocabulary: string[];
  savedAtStep: number;
  position: number;
  moreSteps: number;
  losses: number[];
  paramsSha256AfterMoreSteps: string;
}

describe('64 io: a checkpoint of format /1 from before the cell interface', () => {
  const expected = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'checkpoint-v1.json'), 'utf8')) as Expected;

  it('is the old file: no cell in its config, the vanilla tensor names', () => {
    const { tensors, metadata } = decodeSafetensors(fs.readFileSync(FILE));
    expect(metadata.format).to.equal('native-rnn-checkpoint/1');
    expect(JSON.parse(metadata.config)).to.not.have.property('cell');
    expect([...tensors.keys()].sort()).to.deep.equal([
      'head.bias', 'head.weight', 'optim.exp_avg', 'optim.exp_avg_sq',
      'rnn.bias_hh_l0', 'rnn.bias_hh_l1', 'rnn.bias_ih_l0', 'rnn.bias_ih_l1',
      'rnn.weight_hh_l0', 'rnn.weight_hh_l1', 'rnn.weight_ih_l0', 'rnn.weight_ih_l1',
      'state.8x2.l0', 'state.8x2.l1',
    ]);
  });

  it('loads on ts and resumes: the next steps give the recorded losses and weights bit for bit', async () => {
    const loaded = await loadCheckpoint(FILE, { backend: 'ts' });
    expect(loaded.vocabulary?.symbols).to.deep.equal(expected.vocabulary);
    expect(loaded.model.config).to.include({ vocabSize: 6, hiddenSize: 8, numLayers: 2, dtype: 'float32' });
    expect(loaded.trainer).to.include({ step: expected.savedAtStep, position: expected.position });
    const trainer = new Trainer(loaded.model, { ...FIXTURE_TRAINER });
    trainer.restore(loaded.trainer!);
    const losses: number[] = [];
    const ids = loaded.vocabulary!.encode(FIXTURE_TEXT);
    await trainer.fit(ids, { ...FIXTURE_FIT, steps: expected.savedAtStep + MORE_STEPS, onStep: (s) => { losses.push(s.loss); } });
    expect(losses).to.have.length(expected.moreSteps);
    expect(losses).to.deep.equal(expected.losses);
    expect(paramsHash(loaded.model.params)).to.equal(expected.paramsSha256AfterMoreSteps);
  });

  it('loads on native too and resumes to the same losses within float32 rounding', async function () {
    if (!backends.available().includes('native')) this.skip();
    const loaded = await loadCheckpoint(FILE, { backend: 'native' });
    const trainer = new Trainer(loaded.model, { ...FIXTURE_TRAINER });
    trainer.restore(loaded.trainer!);
    const losses: number[] = [];
    await trainer.fit(loaded.vocabulary!.encode(FIXTURE_TEXT), {
      ...FIXTURE_FIT, steps: expected.savedAtStep + MORE_STEPS, onStep: (s) => { losses.push(s.loss); },
    });
    expect(losses).to.have.length(expected.moreSteps);
    losses.forEach((loss, i) => expect(loss, `step ${expected.savedAtStep + i + 1}`).to.be.closeTo(expected.losses[i], 1e-4));
  });
});
