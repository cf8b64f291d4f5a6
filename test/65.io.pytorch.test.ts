// Checkpoints against PyTorch itself (docs/ARCHITECTURE.md §4): a model trained here, saved, loads into
// nn.RNN + nn.Linear and gives our logits; a state_dict PyTorch wrote (non-zero bias_hh, no
// metadata) loads here and gives PyTorch's; and README.md's PyTorch snippet runs as written,
// with a stand-in for the `safetensors` package built on test/fixtures/torch_interop.py.
// Skipped when /usr/bin/python3 cannot import torch.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { backends } from '../lib';
import type { Activation, BackendName, DType, Op } from '../lib/backend/types';
import { builtinNamesText } from '../lib/data/names';
import { Vocabulary } from '../lib/data/vocabulary';
import { decodeCheckpoint, loadCheckpoint, saveCheckpoint } from '../lib/io/checkpoint';
import { decodeSafetensors, encodeSafetensors, type SafeTensor } from '../lib/io/safetensors';
import { RNNModel } from '../lib/nn/model';
import { Trainer } from '../lib/train/trainer';
import { readmeSnippet, torchSuiteDir, writeSafetensorsShim } from './helpers/pytorch';

const ROOT = path.resolve(__dirname, '..', '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures');
const SCRIPT = path.join(FIXTURES, 'torch_interop.py');
const PYTHON = '/usr/bin/python3';
const TEXT = builtinNamesText().split('\n').slice(0, 60).join('\n') + '\n';
/** What both sides run, from zero state: a few names, newlines included. */
const PROBE = '\nEmma\nOlivia\nAva\n';
const TOL: Record<DType, number> = { float32: 1e-5, float64: 1e-12 };

function python(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  // No __pycache__ left in test/fixtures.
  const env = { ...(options.env ?? process.env), PYTHONDONTWRITEBYTECODE: '1' };
  const r = spawnSync(PYTHON, args, { encoding: 'utf8', timeout: 60000, cwd: options.cwd, env });
  expect(r.error, String(r.error)).to.equal(undefined);
  expect(r.status, `python3 ${args.join(' ')}\n${r.stderr}`).to.equal(0);
  return r.stdout;
}

/** Our logits of `ids` from zero state, [T][V], on the model's backend (no lib helper returns them). */
function logitsOf(model: RNNModel, ids: Int32Array): number[][] {
  const T = ids.length, V = model.config.outputSize;
  const ws = model.workspace(T, 1);
  const ops: Op[] = [];
  model.recordForward(ops, ws, { ids, steps: T, batch: 1 }, null, 0, true);
  model.runSync(ops);
  // ws.logits is V × T·m, column t·m + j; here m = 1.
  return Array.from({ length: T }, (_, t) => Array.from({ length: V }, (_, v) => ws.logits[v * T + t]));
}

/** Mean cross-entropy of logits [T][V] against targets: checks logitsOf's layout against model.loss. */
function crossEntropy(logits: number[][], targets: Int32Array): number {
  let sum = 0;
  logits.forEach((row, t) => {
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
    sum += lse - row[targets[t]];
  });
  return sum / logits.length;
}

function maxAbsDiff(a: number[][], b: number[][]): number {
  expect(a.length, 'steps').to.equal(b.length);
  let max = 0;
  a.forEach((row, t) => {
    expect(row.length, `width of step ${t}`).to.equal(b[t].length);
    row.forEach((x, v) => { max = Math.max(max, Math.abs(x - b[t][v])); });
  });
  return max;
}

function maxAbs(a: number[][]): number {
  return Math.max(...a.map((row) => Math.max(...row.map(Math.abs))));
}

function ourBackends(): BackendName[] {
  return backends.available().includes('native') ? ['ts', 'native'] : ['ts'];
}

interface Case { dtype: DType; numLayers: number; activation: Activation }
const CASES: Case[] = [
  { dtype: 'float32', numLayers: 1, activation: 'tanh' },
  { dtype: 'float32', numLayers: 2, activation: 'tanh' },
  { dtype: 'float64', numLayers: 1, activation: 'tanh' },
  { dtype: 'float64', numLayers: 2, activation: 'tanh' },
  { dtype: 'float64', numLayers: 2, activation: 'relu' },
];
const label = (c: Case) => `${c.dtype}, ${c.numLayers} layer${c.numLayers > 1 ? 's' : ''}, ${c.activation}`;

async function trained(c: Case, vocabulary: Vocabulary): Promise<{ model: RNNModel; trainer: Trainer }> {
  const model = new RNNModel({ vocabSize: vocabulary.size, hiddenSize: 16, numLayers: c.numLayers, activation: c.activation, dtype: c.dtype, seed: 11 });
  const trainer = new Trainer(model, { optimizer: 'adam', lr: 2e-2, clipNorm: 5 });
  await trainer.fit(vocabulary.encode(TEXT), { steps: 12, batchSize: 4, seqLength: 16 });
  return { model, trainer };
}

describe('65 io: checkpoints against PyTorch (needs python3-torch)', function () {
  const vocabulary = Vocabulary.fromText(builtinNamesText());
  const probe = vocabulary.encode(PROBE);

  const tmp = torchSuiteDir(PYTHON, 'native-rnn-torch-');

  it('our logits helper agrees with model.loss (so the comparisons below read the right numbers)', async () => {
    const { model } = await trained(CASES[1], vocabulary);
    const input = probe.subarray(0, probe.length - 1), target = probe.subarray(1);
    const ce = crossEntropy(logitsOf(model, input), target);
    expect(Math.abs(ce - model.loss({ ids: input, steps: input.length, batch: 1 }, target))).to.be.below(1e-5);
  });

  it('models trained here load into nn.RNN + nn.Linear and give our logits (f32 and f64, 1 and 2 layers, tanh and relu)', async () => {
    const files: string[] = [];
    const ours: number[][][] = [];
    for (const [k, c] of CASES.entries()) {
      const { model, trainer } = await trained(c, vocabulary);
      const file = path.join(tmp(), `trained-${k}.safetensors`);
      // With the trainer's state too: optim.* and state.* tensors PyTorch has to leave out.
      await saveCheckpoint(file, { model, vocabulary, trainer: trainer.snapshot() });
      files.push(file);
      ours.push(logitsOf(model, probe));
      // The file reads back here to the same logits on every backend.
      for (const backend of ourBackends()) {
        const loaded = await loadCheckpoint(file, { backend });
        expect(maxAbsDiff(logitsOf(loaded.model, probe), ours[k]), `${label(c)}, reloaded on ${backend}`).to.be.below(TOL[c.dtype]);
      }
    }
    const lines = python([SCRIPT, 'load', ...files.flatMap((f) => [f, PROBE])]).trim().split('\n');
    expect(lines).to.have.length(CASES.length);
    const report: string[] = [];
    for (const [k, c] of CASES.entries()) {
      const torch = JSON.parse(lines[k]) as { symbols: string[]; dtype: string; logits: number[][] };
      expect(torch.symbols).to.deep.equal(vocabulary.toJSON().symbols);
      expect(torch.dtype).to.equal(`torch.${c.dtype}`);
      expect(maxAbs(ours[k]), 'logits far enough from zero to compare').to.be.above(0.5);
      const diff = maxAbsDiff(torch.logits, ours[k]);
      report.push(`${label(c)}: ${diff.toExponential(2)}`);
      expect(diff, label(c)).to.be.below(TOL[c.dtype]);
    }
    console.log(`      max |logit(PyTorch) − logit(ours)| over ${probe.length} steps × ${vocabulary.size}: ${report.join('; ')}`);
  });

  for (const dtype of ['float32', 'float64'] as const) {
    it(`a ${dtype} state_dict PyTorch wrote (non-zero bias_hh, no metadata) loads and gives PyTorch's logits`, async () => {
      const file = path.join(tmp(), `torch-${dtype}.safetensors`);
      const torch = JSON.parse(python([SCRIPT, 'save', file, dtype, '2'])) as { ids: number[]; logits: number[][] };
      const ids = Int32Array.from(torch.ids);
      const report: string[] = [];
      for (const backend of ourBackends()) {
        const loaded = await loadCheckpoint(file, { backend });
        expect(loaded.config).to.include({ dtype, numLayers: 2, activation: 'tanh', vocabSize: 7, outputSize: 7 });
        expect(loaded.vocabulary).to.equal(null);
        const ours = logitsOf(loaded.model, ids);
        const diff = maxAbsDiff(ours, torch.logits);
        report.push(`${backend} ${diff.toExponential(2)}`);
        expect(diff, backend).to.be.below(TOL[dtype]);
      }
      // bias_hh matters: the same file with bias_hh zeroed gives logits far from PyTorch's.
      const { tensors, metadata } = decodeSafetensors(fs.readFileSync(file));
      for (const l of [0, 1]) ((tensors.get(`rnn.bias_hh_l${l}`) as SafeTensor).data as Float32Array | Float64Array).fill(0);
      const dropped = decodeCheckpoint(encodeSafetensors(Object.fromEntries(tensors), metadata), { backend: 'ts' });
      expect(maxAbsDiff(logitsOf(dropped.model, ids), torch.logits)).to.be.above(0.05);
      console.log(`      ${dtype}: max |logit(PyTorch) − logit(ours)|: ${report.join(', ')}`);
    });
  }

  it("README.md's PyTorch snippet runs as written (safetensors stood in for) and agrees with us", async () => {
    const { snippet, file, prime } = readmeSnippet(ROOT);

    // A model like the CLI's (float32, tanh) on the names, saved where the snippet looks.
    const { model, trainer } = await trained({ dtype: 'float32', numLayers: 2, activation: 'tanh' }, vocabulary);
    const cwd = fs.mkdtempSync(path.join(tmp(), 'readme-'));
    const target = path.join(cwd, file);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    await saveCheckpoint(target, { model, vocabulary, trainer: trainer.snapshot() });

    // The `safetensors` API the snippet uses, on the fixture's reader.
    const shim = writeSafetensorsShim(cwd);
    const program = `${snippet}\nimport json as _json\nprint(_json.dumps(logits[:, 0].tolist()))\n`;
    const env = { ...process.env, PYTHONPATH: [shim, FIXTURES].join(path.delimiter) };
    // stdout: the predicted character (maybe itself a newline), a newline, the logits as JSON.
    const stdout = python(['-c', program], { cwd, env }).replace(/\n$/, '');
    const cut = stdout.lastIndexOf('\n');
    const printed = stdout.slice(0, cut), torch = JSON.parse(stdout.slice(cut + 1)) as number[][];

    const ours = logitsOf(model, vocabulary.encode(prime));
    const diff = maxAbsDiff(torch, ours);
    expect(diff).to.be.below(TOL.float32);
    const last = ours[ours.length - 1];
    expect(printed, 'the most likely next character').to.equal(vocabulary.toJSON().symbols[last.indexOf(Math.max(...last))]);
    console.log(`      README snippet, ${JSON.stringify(prime)}: max |logit(PyTorch) − logit(ours)| ${diff.toExponential(2)}`);
  });
});
