// LSTM and GRU checkpoints against PyTorch itself (DESIGN §10: PyTorch's definitions exactly):
//   - models trained here (float32 and float64, 1 and 2 layers, tokens and dense), saved with
//     their trainer state, load into nn.LSTM / nn.GRU + nn.Linear (as `rnn` / `head`) and PyTorch
//     gives our logits and final state, from a non-zero initial state (h0, and c0 for the LSTM);
//     in float64 it also gives our loss and the gradient of every tensor;
//   - a state_dict PyTorch wrote (no metadata) loads here with the cell kind, sizes and layer
//     count inferred from the shapes, and gives PyTorch's logits.
// The PyTorch side is test/fixtures/torch_interop_gated.py. Skipped when /usr/bin/python3 cannot
// import torch.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { backends, decodeSafetensors, loadCheckpoint, RNNModel, saveCheckpoint, Trainer, Vocabulary } from '../lib';
import type { BackendName, DType, FloatArray, ModelState, Sequence } from '../lib';
import { builtinNamesText } from '../lib/data/names';
import type { ModelInput, ModelTarget } from '../lib/nn/model';
import { Rng } from './helpers/check';
import { readmeSnippet, torchSuiteDir, writeSafetensorsShim } from './helpers/pytorch';

const ROOT = path.resolve(__dirname, '..', '..');
const SCRIPT = path.join(ROOT, 'test', 'fixtures', 'torch_interop_gated.py');
const PYTHON = '/usr/bin/python3';
const TEXT = builtinNamesText().split('\n').slice(0, 60).join('\n') + '\n';
const CELLS = ['lstm', 'gru'] as const;
type CellName = (typeof CELLS)[number];
/** max |logit(PyTorch) − logit(ours)| allowed */
const TOL: Record<DType, number> = { float32: 1e-5, float64: 1e-10 };
/** largest |a − b| / max(|a|, |b|, GRAD_FLOOR) allowed for the float64 gradients */
const GRAD_TOL = 1e-10;
const GRAD_FLOOR = 1e-8;

interface TorchAnswer {
  cell?: string; dtype?: string; logits: number[]; hT?: number[]; cT?: number[] | null;
  loss?: number; grads?: Record<string, number[]>; ids?: number[]; x?: number[]; T?: number; m?: number;
}

/** One python process for a list of jobs; answers in order. */
function torch(jobs: object[]): TorchAnswer[] {
  const r = spawnSync(PYTHON, [SCRIPT], {
    input: JSON.stringify(jobs), encoding: 'utf8', timeout: 120000, maxBuffer: 64 << 20,
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
  expect(r.error, String(r.error)).to.equal(undefined);
  expect(r.status, `python3 ${SCRIPT}\n${r.stderr}`).to.equal(0);
  const answers = JSON.parse(r.stdout) as TorchAnswer[];
  expect(answers).to.have.length(jobs.length);
  return answers;
}

function ourBackends(): BackendName[] {
  return backends.available();
}

/** Our (out × T·m, column t·m + j) as PyTorch's (T, m, out) flattened. */
function toTorchOrder(s: Sequence): number[] {
  const { rows, steps: T, batch: m, data } = s, Tm = T * m, out: number[] = [];
  for (let t = 0; t < T; t++) for (let j = 0; j < m; j++) for (let v = 0; v < rows; v++) out.push(data[v * Tm + t * m + j]);
  return out;
}

/** A model state (per layer, H × m) as PyTorch's (L, m, H) flattened. */
function stateToTorch(state: ModelState, key: string): number[] {
  const out: number[] = [];
  for (const layer of state) {
    const { rows: H, cols: m, data } = layer[key];
    for (let j = 0; j < m; j++) for (let i = 0; i < H; i++) out.push(data[i * m + j]);
  }
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length, 'lengths').to.equal(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length, 'lengths').to.equal(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]) / Math.max(Math.abs(a[i]), Math.abs(b[i]), GRAD_FLOOR));
  return max;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

interface Case { cell: CellName; dtype: DType; numLayers: number; input: 'tokens' | 'dense' }
const CASES: Case[] = [];
for (const cell of CELLS) {
  for (const dtype of ['float32', 'float64'] as DType[]) for (const numLayers of [1, 2]) CASES.push({ cell, dtype, numLayers, input: 'tokens' });
  CASES.push({ cell, dtype: 'float64', numLayers: 2, input: 'dense' });
}
const label = (c: Case) => `${c.cell}, ${c.dtype}, ${c.numLayers} layer${c.numLayers > 1 ? 's' : ''}, ${c.input}`;

const NX = 3, NY = 2, T = 9, M = 3;

/** A model trained a few steps here, and a batch with a non-zero initial state to compare on. */
async function trained(c: Case, vocabulary: Vocabulary, rng: Rng) {
  const common = { cell: c.cell, hiddenSize: 8, numLayers: c.numLayers, dtype: c.dtype, seed: 11 };
  let model: RNNModel, input: ModelInput, target: ModelTarget;
  const mk = (n: number) => (c.dtype === 'float64' ? new Float64Array(n) : new Float32Array(n)).map(() => rng.uniform(-1, 1));
  const trainer = (m: RNNModel) => new Trainer(m, { optimizer: 'adam', lr: 2e-2, clipNorm: 5 });
  let t: Trainer;
  if (c.input === 'tokens') {
    model = new RNNModel({ ...common, vocabSize: vocabulary.size });
    t = trainer(model);
    await t.fit(vocabulary.encode(TEXT), { steps: 10, batchSize: 4, seqLength: 12 });
    input = { ids: new Int32Array(T * M).map(() => rng.int(vocabulary.size)), steps: T, batch: M };
    target = new Int32Array(T * M).map((_, k) => (k % 4 === 1 ? -1 : rng.int(vocabulary.size)));
  } else {
    model = new RNNModel({ ...common, inputSize: NX, outputSize: NY, loss: 'mse' });
    t = trainer(model);
    const batches = Array.from({ length: 4 }, () => ({ input: { rows: NX, steps: 6, batch: 2, data: mk(NX * 12) }, target: { rows: NY, steps: 6, batch: 2, data: mk(NY * 12) } }));
    await t.fit(batches, { steps: 10 });
    input = { rows: NX, steps: T, batch: M, data: mk(NX * T * M) };
    target = { rows: NY, steps: T, batch: M, data: mk(NY * T * M) };
  }
  const state = model.initialState(M);
  for (const layer of state) for (const s of Object.values(layer)) for (let i = 0; i < s.data.length; i++) s.data[i] = rng.uniform(-0.8, 0.8);
  return { model, trainer: t, input, target, state };
}

/** The job that has PyTorch run the same input, state and target. */
function loadJob(file: string, input: ModelInput, target: ModelTarget, state: ModelState, cell: CellName, withGrads: boolean): object {
  const job: Record<string, unknown> = { op: 'load', path: file, T, m: M, h0: stateToTorch(state, 'h') };
  if (cell === 'lstm') job.c0 = stateToTorch(state, 'c');
  if ('ids' in input) job.ids = Array.from(input.ids);
  else job.x = toTorchOrder(input);
  if (withGrads) job.target = target instanceof Int32Array ? Array.from(target) : toTorchOrder(target as Sequence);
  return job;
}

describe('66 io: LSTM and GRU checkpoints against PyTorch (needs python3-torch)', function () {
  const vocabulary = Vocabulary.fromText(builtinNamesText());

  const tmp = torchSuiteDir(PYTHON, 'native-rnn-torch-gated-');

  it('models trained here load into nn.LSTM / nn.GRU + nn.Linear: PyTorch gives our logits, final state, loss and gradients', async () => {
    const rng = new Rng(3);
    const jobs: object[] = [];
    const ours: Array<{ c: Case; logits: number[]; hT: number[]; cT: number[] | null; loss: number; grads: Record<string, FloatArray> }> = [];
    for (const [k, c] of CASES.entries()) {
      const { model, trainer, input, target, state } = await trained(c, vocabulary, rng);
      const file = path.join(tmp(), `ours-${k}.safetensors`);
      // with the trainer's state (optim.*, state.* tensors PyTorch leaves out) and the vocabulary
      await saveCheckpoint(file, { model, vocabulary: c.input === 'tokens' ? vocabulary : null, trainer: trainer.snapshot() });
      const f = model.forward(input, state);
      const loss = model.lossAndGradients(input, target);
      const grads = Object.fromEntries(model.entries.map((e) => [e.name, model.view(e.name, 'grads').slice()]));
      ours.push({ c, logits: toTorchOrder(f.logits), hT: stateToTorch(f.state, 'h'), cT: c.cell === 'lstm' ? stateToTorch(f.state, 'c') : null, loss, grads });
      jobs.push(loadJob(file, input, target, state, c.cell, c.dtype === 'float64'));
      // the file reads back here to the same logits on every backend
      for (const backend of ourBackends()) {
        const loaded = await loadCheckpoint(file, { backend });
        expect(loaded.model.config.cell).to.equal(c.cell);
        expect(maxAbsDiff(toTorchOrder(loaded.model.forward(input, state).logits), ours[k].logits), `${label(c)} reloaded on ${backend}`).to.be.below(TOL[c.dtype]);
      }
    }
    const answers = torch(jobs);
    const report: string[] = [];
    const gradReport: Record<CellName, number> = { lstm: 0, gru: 0 };
    for (const [k, a] of answers.entries()) {
      const { c, logits, hT, cT, loss, grads } = ours[k];
      expect(a.cell).to.equal(c.cell);
      expect(a.dtype).to.equal(`torch.${c.dtype}`);
      expect(maxAbs(logits), `${label(c)}: logits far enough from zero to compare`).to.be.above(0.1);
      const dl = maxAbsDiff(a.logits, logits), dh = maxAbsDiff(a.hT!, hT), dc = cT ? maxAbsDiff(a.cT!, cT) : 0;
      let line = `${label(c)}: logits ${dl.toExponential(2)}, h_T ${dh.toExponential(2)}${cT ? `, c_T ${dc.toExponential(2)}` : ''}`;
      expect(dl, `${label(c)} logits`).to.be.below(TOL[c.dtype]);
      expect(dh, `${label(c)} h_T`).to.be.below(TOL[c.dtype]);
      expect(dc, `${label(c)} c_T`).to.be.below(TOL[c.dtype]);
      if (c.dtype === 'float64') {
        expect(Math.abs(a.loss! - loss) / Math.abs(loss), `${label(c)} loss`).to.be.below(1e-12);
        expect(Object.keys(a.grads!).sort()).to.deep.equal(Object.keys(grads).sort());
        let worst = 0;
        for (const [name, g] of Object.entries(grads)) {
          const e = maxRelDiff(g, a.grads![name]);
          expect(e, `${label(c)} ∂J/∂${name}`).to.be.at.most(GRAD_TOL);
          worst = Math.max(worst, e);
        }
        gradReport[c.cell] = Math.max(gradReport[c.cell], worst);
        line += `, gradients ${worst.toExponential(2)} relative`;
      }
      report.push(line);
    }
    console.log(`      max |PyTorch − ours| (absolute for logits and states; relative, floor ${GRAD_FLOOR}, for float64 gradients):\n        ${report.join('\n        ')}`);
    console.log(`      largest gradient relative error vs PyTorch: lstm ${gradReport.lstm.toExponential(2)}, gru ${gradReport.gru.toExponential(2)}`);
  });

  it("state_dicts PyTorch wrote (no metadata) load with the cell kind inferred from the shapes and give PyTorch's logits", async () => {
    const jobs: Array<Record<string, unknown>> = [];
    for (const cell of CELLS) {
      for (const dtype of ['float32', 'float64']) {
        for (const layers of [1, 2]) jobs.push({ op: 'save', path: path.join(tmp(), `torch-${cell}-${dtype}-${layers}.safetensors`), cell, dtype, layers, V: 7, H: 6 });
      }
      jobs.push({ op: 'save', path: path.join(tmp(), `torch-${cell}-dense.safetensors`), cell, dtype: 'float64', layers: 2, V: 4, H: 5, out: 3 });
    }
    const answers = torch(jobs);
    const report: string[] = [];
    for (const [k, job] of jobs.entries()) {
      const a = answers[k], cell = job.cell as CellName, dtype = job.dtype as DType, dense = job.out !== undefined;
      const { tensors } = decodeSafetensors(fs.readFileSync(job.path as string));
      expect([...tensors.keys()].some((n) => n.startsWith('state.') || n.startsWith('optim.'))).to.equal(false);
      const input: ModelInput = dense
        ? (() => {
          const Tm = a.T! * a.m!, nx = job.V as number, data = dtype === 'float64' ? new Float64Array(nx * Tm) : new Float32Array(nx * Tm);
          // PyTorch's (T, m, n_x) into our (n_x, T·m)
          for (let t = 0; t < a.T!; t++) for (let j = 0; j < a.m!; j++) for (let i = 0; i < nx; i++) data[i * Tm + t * a.m! + j] = a.x![(t * a.m! + j) * nx + i];
          return { rows: nx, steps: a.T!, batch: a.m!, data };
        })()
        : { ids: Int32Array.from(a.ids!), steps: a.T!, batch: a.m! };
      for (const backend of ourBackends()) {
        const loaded = await loadCheckpoint(job.path as string, { backend });
        expect(loaded.config).to.include({
          cell, dtype, numLayers: job.layers, hiddenSize: job.H, inputSize: job.V, outputSize: dense ? job.out : job.V,
          vocabSize: dense ? null : job.V, loss: dense ? 'mse' : 'cross-entropy',
        });
        expect(loaded.vocabulary).to.equal(null);
        const ours = toTorchOrder(loaded.model.forward(input).logits);
        expect(maxAbs(ours), 'logits far enough from zero to compare').to.be.above(0.1);
        const diff = maxAbsDiff(ours, a.logits);
        report.push(`${cell} ${dtype} L=${job.layers}${dense ? ' dense' : ''} [${backend}] ${diff.toExponential(2)}`);
        expect(diff, `${cell} ${dtype} ${job.layers} layers${dense ? ' dense' : ''} on ${backend}`).to.be.below(TOL[dtype]);
      }
    }
    console.log(`      PyTorch-written files: max |logit(PyTorch) − logit(ours)|: ${report.join('; ')}`);
  });
  for (const cell of CELLS) {
    it(`README.md's PyTorch snippet runs as written with ${cell === 'lstm' ? 'an LSTM' : 'a GRU'} checkpoint (safetensors stood in for) and agrees with us`, async () => {
      const { snippet, file, prime } = readmeSnippet(ROOT);

      // a model like the CLI's (float32) on the names, saved where the snippet looks
      const { model, trainer } = await trained({ cell, dtype: 'float32', numLayers: 2, input: 'tokens' }, vocabulary, new Rng(1));
      const cwd = fs.mkdtempSync(path.join(tmp(), `readme-${cell}-`));
      const target = path.join(cwd, file);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      await saveCheckpoint(target, { model, vocabulary, trainer: trainer.snapshot() });

      // the `safetensors` API the snippet uses, on the fixture's reader (as test 52 does)
      const shim = writeSafetensorsShim(cwd);
      const program = `${snippet}\nimport json as _json\nprint(_json.dumps([type(model.rnn).__name__, logits[:, 0].tolist()]))\n`;
      const env = { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONPATH: [shim, path.dirname(SCRIPT)].join(path.delimiter) };
      const r = spawnSync(PYTHON, ['-c', program], { cwd, env, encoding: 'utf8', timeout: 60000 });
      expect(r.status, r.stderr).to.equal(0);
      // stdout: the predicted character (maybe itself a newline), a newline, then the JSON line
      const stdout = r.stdout.replace(/\n$/, ''), cut = stdout.lastIndexOf('\n');
      const printed = stdout.slice(0, cut);
      const [module, logits] = JSON.parse(stdout.slice(cut + 1)) as [string, number[][]];
      expect(module).to.equal(cell === 'lstm' ? 'LSTM' : 'GRU');

      const ids = vocabulary.encode(prime);
      const ours = model.forward({ ids, steps: ids.length, batch: 1 }).logits;
      const V = vocabulary.size, n = ids.length;
      const flatOurs = toTorchOrder(ours);
      const diff = maxAbsDiff(logits.flat(), flatOurs);
      expect(diff).to.be.below(TOL.float32);
      let best = 0;
      for (let v = 1; v < V; v++) if (ours.data[v * n + n - 1] > ours.data[best * n + n - 1]) best = v;
      expect(printed, 'the most likely next character').to.equal(vocabulary.toJSON().symbols[best]);
      console.log(`      README snippet, ${cell}, ${JSON.stringify(prime)}: max |logit(PyTorch) − logit(ours)| ${diff.toExponential(2)}`);
    });
  }
});
