// `native-rnn train`'s per-cell defaults (CELL_DEFAULTS in lib/cli/train.ts): a flag not given
// takes the chosen cell's value, a flag given wins, the values land in the checkpoint's run so
// --resume keeps them, and the help shows them. Spawns the CLI as a user would, a few steps each.
import { expect } from 'chai';
import { cli } from './helpers/cli';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadCheckpoint } from '../lib/io/checkpoint';
import { RNNModel } from '../lib/nn/model';
import { CELL_DEFAULTS, cellDefaults, readRunSettings, withCellDefaults, type TrainFlags } from '../lib/cli/train';
import { cellNames } from '../lib/nn/cells/registry';



type Json = Record<string, unknown>;

function startEvent(stdout: string): Json {
  const start = stdout.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Json).find((e) => e.event === 'start');
  expect(start, stdout).to.not.equal(undefined);
  return start as Json;
}

/** Parameters of the model the defaults of `cell` make on the built-in names (54 symbols). */
function parametersOf(cell: string, vocabSize: number): number {
  const d = cellDefaults(cell);
  return new RNNModel({ cell, vocabSize, hiddenSize: d.hidden, numLayers: d.layers, dtype: 'float32', backend: 'ts' }).size;
}

describe('72 cli: per-cell defaults of train', function () {
  this.timeout(120000);
  let dir: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'native-rnn-cli55-'));
  });
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('every cell the CLI offers has its defaults, and the vanilla cell keeps the settings npm start always had', () => {
    // The built-in kinds (other tests register more in this process).
    for (const cell of cellNames().filter((c) => ['rnn', 'lstm', 'gru'].includes(c))) expect(CELL_DEFAULTS, cell).to.have.property(cell);
    expect(Object.keys(CELL_DEFAULTS)).to.have.members(['rnn', 'lstm', 'gru']);
    expect(CELL_DEFAULTS.rnn).to.include({ hidden: 128, layers: 1, dropout: 0, headDropout: 0, batch: 32, seqLength: 32, adamLr: 2e-3, schedule: 'constant', warmup: 0, weightDecay: 0 });
    // A kind registered by a program and unknown to the table trains with the vanilla cell's.
    expect(cellDefaults('my-cell')).to.equal(CELL_DEFAULTS.rnn);
  });

  it('fills in only the flags not given; lr only for adam', () => {
    const base = { cell: 'gru', optimizer: 'adam' } as TrainFlags;
    const d = CELL_DEFAULTS.gru;
    expect(withCellDefaults(base)).to.include({ hidden: d.hidden, layers: d.layers, dropout: d.dropout, headDropout: d.headDropout, batch: d.batch, seqLength: d.seqLength,
      lr: d.adamLr, lrSchedule: d.schedule, warmup: d.warmup, weightDecay: d.weightDecay });
    expect(withCellDefaults({ ...base, hidden: 7, lr: 0.5, warmup: 0, lrSchedule: 'constant', weightDecay: 0 }))
      .to.include({ hidden: 7, lr: 0.5, warmup: 0, lrSchedule: 'constant', weightDecay: 0, layers: d.layers });
    expect(withCellDefaults({ ...base, optimizer: 'sgd' }).lr).to.equal(undefined);
  });

  for (const cell of ['lstm', 'gru']) {
    it(`train --cell ${cell} with nothing else set uses ${cell}'s defaults, stores them, and --resume keeps them`, async () => {
      const d = CELL_DEFAULTS[cell];
      const save = path.join(dir, `${cell}.safetensors`);
      const steps = d.warmup + 2;
      const r = await cli(['train', '--cell', cell, '--steps', String(steps), '--sample-every', '0', '--eval-every', '1000', '--save', save, '--json']);
      expect(r.code, r.stderr).to.equal(0);
      const start = startEvent(r.stdout);
      expect(start).to.include({ cell, hidden: d.hidden, layers: d.layers, dropout: d.dropout, headDropout: d.headDropout, batch: d.batch, seqLength: d.seqLength,
        lr: d.adamLr, schedule: d.schedule, warmup: d.warmup, weightDecay: d.weightDecay,
        optimizer: d.weightDecay > 0 ? 'adamw' : 'adam' });
      expect(start.parameters).to.equal(parametersOf(cell, start.vocabularySize as number));
      const run = readRunSettings(await loadCheckpoint(save, { backend: 'ts' }));
      expect(run).to.include({ cell, hidden: d.hidden, layers: d.layers, dropout: d.dropout, headDropout: d.headDropout, batch: d.batch, seqLength: d.seqLength, lr: d.adamLr,
        schedule: d.schedule, warmup: d.warmup, weightDecay: d.weightDecay });

      // Resumed without --cell (whose own default is rnn): the run is the checkpoint's, not rnn's.
      // The run is complete (and a cosine run's length is fixed), so it only validates again.
      const resumed = await cli(['train', '--resume', save, '--json']);
      expect(resumed.code, resumed.stderr).to.equal(0);
      const again = startEvent(resumed.stdout);
      expect(again).to.include({ step: steps, cell, hidden: d.hidden, layers: d.layers, dropout: d.dropout, headDropout: d.headDropout, batch: d.batch, seqLength: d.seqLength,
        lr: d.adamLr, schedule: d.schedule, warmup: d.warmup, weightDecay: d.weightDecay });
      // A flag given on --resume is still checked against the run (here against the cell's default).
      const other = await cli(['train', '--resume', save, '--hidden', String(d.hidden + 1)]);
      expect(other.code).to.equal(1);
      expect(other.stderr).to.include(`--hidden ${d.hidden + 1} differs from the checkpoint's ${d.hidden}`);
    });
  }

  it('a flag given wins over the cell default', async () => {
    const save = path.join(dir, 'given.safetensors');
    const r = await cli(['train', '--cell', 'gru', '--hidden', '8', '--layers', '1', '--batch', '4', '--seq-length', '8', '--lr', '0.01',
      '--lr-schedule', 'constant', '--warmup', '0', '--weight-decay', '0', '--dropout', '0', '--head-dropout', '0', '--steps', '2', '--sample-every', '0', '--save', save, '--json']);
    expect(r.code, r.stderr).to.equal(0);
    expect(startEvent(r.stdout)).to.include({ cell: 'gru', hidden: 8, layers: 1, batch: 4, seqLength: 8, lr: 0.01, schedule: 'constant', warmup: 0, weightDecay: 0, dropout: 0, headDropout: 0 });
  });

  it('the help shows the per-cell defaults from the same table', async () => {
    const r = await cli(['train', '--help']);
    expect(r.code).to.equal(0);
    const help = r.stdout.replace(/\s+/g, ' ');
    const hidden = Object.entries(CELL_DEFAULTS).map(([c, d]) => `${c} ${d.hidden}`).join(', ');
    if (new Set(Object.values(CELL_DEFAULTS).map((d) => d.hidden)).size > 1) expect(help).to.include(`hidden units per layer (default: ${hidden})`);
    else expect(help).to.include(`hidden units per layer (default ${CELL_DEFAULTS.rnn.hidden})`);
  });
});
