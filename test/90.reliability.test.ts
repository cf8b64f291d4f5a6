// Reliability (issue 6): what the other suites do not already show.
//   - leaks: every kernel, calls that throw, async programs and training steps, repeated in
//     child processes (--expose-gc) with resident memory measured after forced GCs;
//   - SIGKILL in the middle of saveCheckpoint leaves a checkpoint that loads, whole;
//   - bad text through `native-rnn train --data`, and a vocabulary of one symbol;
//   - models and batches too big for memory are refused with a RangeError before allocating;
//   - async programs survive GC of every input and changes to their op list.
//
// The quick pass (npm test) makes NATIVE_RNN_LEAK_CALLS = 10,000 calls of each kernel and of
// each throwing call; `npm run leaks` makes 100,000 (see package.json). The figures measured
// are printed after the suite.
import { expect } from 'chai';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { backends, RNNCell, RNNModel, Trainer, Vocabulary } from '../lib';
import type { Backend, FloatArray, Op } from '../lib/backend/types';
import { KERNEL_NAMES } from '../lib/backend/validate';
import { tempFilePattern } from '../lib/io/atomic';
import { loadCheckpoint, saveCheckpoint } from '../lib/io/checkpoint';
import { Random } from '../lib/random';
import { memoryLimit } from '../lib/tensor';
import { weightsHash } from './fixtures/checkpoint-writer';

const HAS_NATIVE = backends.available().includes('native');
const MAIN = path.join(__dirname, '..', 'lib', 'cli', 'main.js');
const FIXTURES = path.join(__dirname, 'fixtures');
const MiB = 1024 * 1024;
const measured: string[] = [];

function envCount(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && v > 0 ? v : fallback;
}

interface Run { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number }

function run(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Run> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 }));
  });
}

after(() => {
  if (measured.length > 0) console.log(`\n    66 reliability, measured:\n${measured.map((m) => `      ${m}`).join('\n')}`);
});

// ---------------------------------------------------------------------------------------------
describe('90 leaks: repeated native calls and training steps keep resident memory bounded', function () {
  this.timeout(300000);
  const CALLS = envCount('NATIVE_RNN_LEAK_CALLS', 10000);
  const PROGRAMS = envCount('NATIVE_RNN_LEAK_PROGRAMS', 10000);
  const STEPS = envCount('NATIVE_RNN_LEAK_STEPS', 2000);
  // Bounds with a wide margin over what is measured (about 0-6 MiB): allocator and JIT noise
  // stay far below them, a leak of a reference or a buffer per call goes far above.
  const CALL_BOUND_MiB = 32;
  const TRAIN_BOUND_MiB = 64;

  interface LeakReport { mode: string; count: number; warmup: number; rssWarm: number; rssEnd: number; growthMiB: number; cases: Record<string, number> }
  const runs = new Map<string, Promise<Run>>();
  const child = (mode: string, count: number, env: NodeJS.ProcessEnv = {}) =>
    run(['--expose-gc', path.join(FIXTURES, 'leak-child.js'), mode, String(count)], { env });

  before(function () {
    if (!HAS_NATIVE) this.skip();
    // All at once: each child measures only its own memory, and 2 cores finish them sooner.
    runs.set('kernels', child('kernels', CALLS));
    runs.set('throws', child('throws', CALLS));
    runs.set('programs', child('programs', PROGRAMS));
    runs.set('training', child('training', STEPS));
    runs.set('inject', child('kernels', 400, { NATIVE_RNN_LEAK_INJECT: '1' }));
  });

  async function report(key: string): Promise<LeakReport> {
    const r = await runs.get(key)!;
    expect(r.code, r.stderr).to.equal(0);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as LeakReport;
  }
  const fmt = (x: number) => `${x.toFixed(2)} MiB`;
  const worst = (cases: Record<string, number>) => Object.entries(cases).sort((a, b) => b[1] - a[1])[0];

  it(`every kernel of Kernels, ${CALLS.toLocaleString('en-US')} calls each with fresh arrays: RSS growth < ${CALL_BOUND_MiB} MiB`, async () => {
    const out = await report('kernels');
    expect(Object.keys(out.cases).sort()).to.deep.equal([...KERNEL_NAMES].sort());
    expect(out.count).to.equal(CALLS);
    const [name, most] = worst(out.cases);
    measured.push(`leaks, ${KERNEL_NAMES.length} kernels x ${CALLS} calls (after ${out.warmup} warm-up calls each): RSS growth ${fmt(out.growthMiB)} ` +
      `(bound ${CALL_BOUND_MiB} MiB; largest single kernel ${name} ${fmt(most)}), RSS at end ${fmt(out.rssEnd / MiB)}`);
    expect(out.growthMiB).to.be.lessThan(CALL_BOUND_MiB);
  });

  it(`calls that throw (TS checks and raw addon, incl. a refused run()), ${CALLS.toLocaleString('en-US')} each: RSS growth < ${CALL_BOUND_MiB} MiB`, async () => {
    const out = await report('throws');
    expect(Object.keys(out.cases)).to.have.length(8);
    const [name, most] = worst(out.cases);
    measured.push(`leaks, ${Object.keys(out.cases).length} throwing calls x ${CALLS}: RSS growth ${fmt(out.growthMiB)} (largest: ${name} ${fmt(most)})`);
    expect(out.growthMiB).to.be.lessThan(CALL_BOUND_MiB);
  });

  it(`${PROGRAMS.toLocaleString('en-US')} async run(program) of 9 ops, then as many refused programs: RSS growth < ${CALL_BOUND_MiB} MiB`, async () => {
    const out = await report('programs');
    measured.push(`leaks, run(program): ${Object.entries(out.cases).map(([k, v]) => `${k} ${fmt(v)}`).join('; ')}; total ${fmt(out.growthMiB)} over ${out.count} programs each`);
    expect(out.growthMiB).to.be.lessThan(CALL_BOUND_MiB);
  });

  it(`${STEPS.toLocaleString('en-US')} training steps (Trainer.fit, native): RSS growth < ${TRAIN_BOUND_MiB} MiB`, async () => {
    const out = await report('training');
    measured.push(`leaks, training: ${STEPS} steps after ${out.warmup} warm-up steps: RSS growth ${fmt(out.growthMiB)} (bound ${TRAIN_BOUND_MiB} MiB)`);
    expect(out.growthMiB).to.be.lessThan(TRAIN_BOUND_MiB);
  });

  it('the measurement catches a leak: the same kernel loop keeping its arrays and 2 KiB per call (400 calls each) grows past the bound', async () => {
    const out = await report('inject');
    measured.push(`leaks, sensitivity: a deliberate leak of each call's arrays + 2 KiB, 21 x 400 calls, grew RSS by ${fmt(out.growthMiB)} (> ${CALL_BOUND_MiB} MiB)`);
    expect(out.growthMiB).to.be.greaterThan(CALL_BOUND_MiB);
  });
});

// ---------------------------------------------------------------------------------------------
describe('90 SIGKILL during saveCheckpoint', function () {
  this.timeout(120000);
  let dir: string;
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'native-rnn-kill-')); });
  after(() => { fs.rmSync(dir, { recursive: true, force: true }); });

  it('kills at random delays always leave a whole checkpoint that loads, finite, and training resumes from it past stale temp files', async () => {
    const target = path.join(dir, 'run.safetensors');
    // A stale temp file (garbage bytes) of a writer that died long ago: it must not matter.
    fs.writeFileSync(path.join(dir, '.run.safetensors.99999.0123456789ab.tmp'), Buffer.alloc(1000, 0xff));
    const rng = new Random(66);
    const KILLS = 12;
    let lastStep = 0, midSave = 0;
    const steps: number[] = [];
    for (let round = 0; round < KILLS; round++) {
      const proc = spawn(process.execPath, [path.join(FIXTURES, 'checkpoint-writer.js'), target, '256'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      proc.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.on('exit', (_code, signal) => resolve(signal)));
      const ready = await new Promise<number>((resolve, reject) => {
        proc.stdout.once('data', (d: Buffer) => resolve(Number(/ready (\d+)/.exec(d.toString())?.[1])));
        proc.once('exit', (code) => reject(new Error(`writer exited with code ${code}: ${stderr}`)));
      });
      // the first save of this process resumed from the one before
      expect(ready).to.equal(lastStep + 1);
      await new Promise((resolve) => setTimeout(resolve, 1 + rng.int(80)));
      proc.kill('SIGKILL');
      expect(await exited).to.equal('SIGKILL');
      // its temp file is still there when the kill landed between creating it and the rename
      if (fs.readdirSync(dir).some((f) => f.startsWith(`.run.safetensors.${proc.pid}.`))) midSave++;

      const loaded = await loadCheckpoint(target);
      const step = loaded.trainer!.step;
      expect(loaded.metrics).to.deep.equal({ step });
      // The weights are the very ones that save wrote: nothing torn or mixed between saves.
      expect(weightsHash(loaded.model.params)).to.equal(loaded.extra['weights-sha256']);
      expect(loaded.model.params.every(Number.isFinite)).to.equal(true);
      for (const state of Object.values(loaded.trainer!.optimizerState)) expect((state as FloatArray).every(Number.isFinite)).to.equal(true);
      expect(step).to.be.at.least(ready);
      lastStep = step;
      steps.push(step);
    }
    const stale = fs.readdirSync(dir).filter((f) => tempFilePattern(target).test(f));
    measured.push(`SIGKILL during saveCheckpoint: ${KILLS} kills, ${midSave} of them mid-save (temp file left); checkpoint steps on disk after each kill: ` +
      `${steps.join(', ')}; ${stale.length} stale temp files (incl. 1 planted) never disturbed a save or a load`);
    expect(midSave, 'at least one kill landed inside a save').to.be.greaterThan(0);
    expect(stale.length).to.be.at.least(1);
  });
});

// ---------------------------------------------------------------------------------------------
describe('90 text input through `native-rnn train --data`', function () {
  this.timeout(60000);
  let dir: string;
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'native-rnn-text-')); });
  after(() => { fs.rmSync(dir, { recursive: true, force: true }); });
  const SMALL = ['--hidden', '8', '--batch', '1', '--seq-length', '2', '--steps', '3', '--sample-every', '0', '--json'];
  const file = (name: string, bytes: Buffer | string) => { const p = path.join(dir, name); fs.writeFileSync(p, bytes); return p; };

  it('empty, whitespace-only, binary and invalid UTF-8 files: one clear error line, exit 1, nothing saved', async () => {
    const random = Buffer.from(Array.from({ length: 2000 }, (_, i) => (i * 131 + 7) % 256));
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('names\nof\npeople\n', 'utf16le')]);
    const cases: Array<[string, Buffer | string, RegExp]> = [
      ['empty.txt', '', /empty\.txt: the file is empty \(0 bytes\); training needs text/],
      ['blank.txt', ' \n\t\n\r\n', /blank\.txt: the file holds only whitespace/],
      ['random.bin', random, /random\.bin: looks binary: NUL byte at byte offset 211/],
      ['utf16.txt', utf16, /utf16\.txt: looks binary: NUL byte at byte offset 3/],
      ['controls.txt', Buffer.from('ab\x01\x02\x03\x04cd\n'), /controls\.txt: looks binary: 4 of 9 characters .* are control characters, the first at byte offset 2/],
      ['latin1.txt', Buffer.from('caf\xe9\nna\xefve\n', 'latin1'), /latin1\.txt: is not valid UTF-8 at byte offset 3 \(0xe9\); save it as UTF-8/],
      ['cut.txt', Buffer.from([0x61, 0x62, 0x0a, 0xe2, 0x82]), /cut\.txt: is not valid UTF-8 at byte offset 3 \(0xe2\)/],
      ['surrogate.txt', Buffer.from([0x61, 0xed, 0xa0, 0x80, 0x0a]), /surrogate\.txt: is not valid UTF-8 at byte offset 1 \(0xed\)/],
    ];
    for (const [name, bytes, message] of cases) {
      const save = path.join(dir, `${name}.safetensors`);
      const r = await run([MAIN, 'train', '--data', file(name, bytes), '--save', save, ...SMALL], { cwd: dir });
      expect(r.code, `${name}: ${r.stderr}`).to.equal(1);
      expect(r.stderr.trim().split('\n'), name).to.have.length(1);
      expect(r.stderr, name).to.match(message);
      expect(r.stderr, name).to.match(/^native-rnn: error: /);
      expect(fs.existsSync(save), name).to.equal(false);
    }
  });

  it('a single line without a final newline trains (regression: "\\n" was missing from its vocabulary)', async () => {
    const save = path.join(dir, 'line.safetensors');
    const r = await run([MAIN, 'train', '--data', file('line.txt', 'abcabcabcabc'), '--save', save, ...SMALL], { cwd: dir });
    expect(r.code, r.stderr).to.equal(0);
    const loaded = await loadCheckpoint(save);
    expect(loaded.vocabulary!.symbols).to.deep.equal(['\n', 'a', 'b', 'c']);
  });

  it('a file of one character ("aaaa\\n"): too short for the default batch is a clear error; small settings train, sample and eval', async () => {
    const data = file('one.txt', 'aaaa\n');
    const tooShort = await run([MAIN, 'train', '--data', data, '--save', path.join(dir, 'x.safetensors')], { cwd: dir });
    expect(tooShort.code).to.equal(1);
    expect(tooShort.stderr).to.match(/one\.txt: the training part is 5 characters, too few for --batch 32 streams of --seq-length 32 \(need at least 1056\); lower them/);

    const save = path.join(dir, 'one.safetensors');
    const r = await run([MAIN, 'train', '--data', data, '--save', save, ...SMALL], { cwd: dir });
    expect(r.code, r.stderr).to.equal(0);
    const done = r.stdout.trim().split('\n').map((l) => JSON.parse(l)).find((e) => e.event === 'done');
    expect(Number.isFinite(done.loss)).to.equal(true);
    // Every line ends in a newline, so the text has two symbols: '\n' and 'a'.
    expect((await loadCheckpoint(save)).vocabulary!.symbols).to.deep.equal(['\n', 'a']);
    const s = await run([MAIN, 'sample', '--checkpoint', save, '--count', '3', '--max-length', '20'], { cwd: dir });
    expect(s.code, s.stderr).to.equal(0);
    expect(s.stdout.trim().split('\n')).to.have.length(3);
    expect(s.stdout.trim().split('\n').every((l) => /^a{1,20}$/.test(l))).to.equal(true);
    const e = await run([MAIN, 'eval', '--checkpoint', save, '--json'], { cwd: dir });
    expect(e.code, e.stderr).to.equal(0);
  });

  it('a vocabulary of exactly one symbol (library): trains with loss 0, checkpoints, and `sample` prints lines of it', async () => {
    const vocabulary = new Vocabulary(['a']);
    for (const backend of backends.available()) {
      const model = new RNNModel({ vocabSize: 1, hiddenSize: 4, backend, seed: 1 });
      const trainer = new Trainer(model, { optimizer: 'adam' });
      const ids = vocabulary.encode('a'.repeat(64));
      const r = await trainer.fit(ids, { steps: 5, batchSize: 2, seqLength: 4, validation: ids });
      expect(r.loss, backend).to.equal(0); // one class: p = 1
      expect(r.validation!.loss, backend).to.equal(0);
      expect(model.params.every(Number.isFinite)).to.equal(true);
      expect(vocabulary.decode(model.sample({ length: 6 }))).to.equal('aaaaaa');
      const save = path.join(dir, `v1-${backend}.safetensors`);
      await saveCheckpoint(save, { model, vocabulary, trainer: trainer.snapshot() });
      expect((await loadCheckpoint(save)).vocabulary!.symbols).to.deep.equal(['a']);
      // No newline symbol: a sample runs to --max-length.
      const s = await run([MAIN, 'sample', '--checkpoint', save, '--count', '2', '--max-length', '7', '--backend', backend], { cwd: dir });
      expect(s.code, s.stderr).to.equal(0);
      expect(s.stdout).to.equal('aaaaaaa\naaaaaaa\n');
    }
  });
});

// ---------------------------------------------------------------------------------------------
describe('90 too big for memory: a RangeError before anything is allocated', function () {
  this.timeout(60000);
  let savedLimit: string | undefined;
  beforeEach(() => { savedLimit = process.env.NATIVE_RNN_MAX_BYTES; });
  afterEach(() => {
    if (savedLimit === undefined) delete process.env.NATIVE_RNN_MAX_BYTES;
    else process.env.NATIVE_RNN_MAX_BYTES = savedLimit;
  });

  // RangeError with the message; array buffers allocated meanwhile (even untouched pages, which
  // RSS would not show) and RSS both stay small.
  async function refused(what: string, f: () => unknown | Promise<unknown>, message: RegExp, slackMiB = 16): Promise<void> {
    const before = process.memoryUsage();
    let caught: unknown = null;
    const t0 = Date.now();
    try { await f(); } catch (err) { caught = err; }
    const after = process.memoryUsage();
    expect(caught, what).to.be.instanceOf(RangeError);
    expect((caught as Error).message, what).to.match(message);
    const buffers = (after.arrayBuffers - before.arrayBuffers) / MiB, rss = (after.rss - before.rss) / MiB;
    measured.push(`refused ${what} in ${Date.now() - t0} ms: array buffers ${buffers >= 0 ? '+' : ''}${buffers.toFixed(1)} MiB, RSS ${rss >= 0 ? '+' : ''}${rss.toFixed(1)} MiB`);
    expect(buffers, what).to.be.lessThan(slackMiB);
    expect(rss, what).to.be.lessThan(slackMiB + 32);
  }

  it('RNNModel: hiddenSize 10^8, hiddenSize 2^31 - 1, and 10^8 layers (regression: the layer loop exhausted the heap)', async () => {
    await refused('RNNModel hiddenSize 1e8', () => new RNNModel({ vocabSize: 50, hiddenSize: 1e8 }),
      /a model of \d+ parameters \(with gradients\) needs [\d.]+ PiB, more than the [\d.]+ GiB allowed/);
    await refused('RNNModel 2^31-1 x 2^31-1 dense', () => new RNNModel({ inputSize: 2 ** 31 - 1, hiddenSize: 2 ** 31 - 1, outputSize: 1, dtype: 'float64' }),
      /parameters \(with gradients\) needs .* more than/);
    await refused('RNNModel numLayers 1e8', () => new RNNModel({ vocabSize: 50, hiddenSize: 2, numLayers: 1e8 }),
      /new RNNModel: numLayers must be an integer in \[1, 1024\], got 100000000/);
  });

  it('RNNCell: hiddenSize 10^8; Wx that fits beside a Wc that does not (regression: Wx was allocated first)', async () => {
    await refused('RNNCell hiddenSize 1e8', () => new RNNCell({ inputSize: 10, hiddenSize: 1e8 }),
      /an RNNCell of 10 inputs and 100000000 hidden units needs [\d.]+ PiB, more than/);
    process.env.NATIVE_RNN_MAX_BYTES = String(64 * MiB);
    // Wx 1000 x 4000 float64 = 30.5 MiB fits; Wc 4000 x 4000 = 122 MiB does not.
    await refused('RNNCell 1000 -> 4000 under a 64 MiB limit', () => new RNNCell({ inputSize: 1000, hiddenSize: 4000 }),
      /an RNNCell of 1000 inputs and 4000 hidden units needs 152\.6 MiB, more than the 64\.0 MiB allowed/, 8);
    // and the buffers of a long sequence, before H or C exist
    const cell = new RNNCell({ inputSize: 4, hiddenSize: 64 });
    const T = 1000, m = 200, ids = new Int32Array(T * m);
    await refused('RNNCell.forwardSequence 1000 x 200', () => cell.forwardSequence({ ids, steps: T, batch: m }),
      /the forward buffers of 1000 steps of a batch of 200 needs 195\.4 MiB, more than the 64\.0 MiB allowed/, 8);
  });

  it('Trainer.fit: a batch x seqLength whose buffers exceed the memory limit, and ones longer than the data', async () => {
    const model = new RNNModel({ vocabSize: 4, hiddenSize: 1024, seed: 2 });
    const trainer = new Trainer(model, { optimizer: 'sgd', lr: 0.1 });
    // Enough columns (T·m) that the workspace needs about 1.5x the limit (whatever this machine's is).
    const bytesPerColumn = model.workspaceBytes(1, 1) / 2;
    const m = 1000, T = Math.ceil((1.5 * memoryLimit()) / bytesPerColumn / m);
    const data = new Int32Array(m * (T + 1));
    await refused(`Trainer.fit batch ${m} x seq ${T} (${(data.length / 1e6).toFixed(1)}M tokens)`, () => trainer.fit(data, { steps: 1, batchSize: m, seqLength: T }),
      new RegExp(`the buffers of a batch of ${m} sequences of ${T} steps needs [\\d.]+ GiB, more than the [\\d.]+ GiB allowed`),
      16 + (2 * data.byteLength) / MiB); // the chunk's input and target ids are made first
    await refused('Trainer.fit batchSize 1e8', () => trainer.fit(data.subarray(0, 1000), { steps: 1, batchSize: 1e8, seqLength: 32 }),
      /1000 tokens are too few for 100000000 streams of chunks of 32/);
    await refused('Trainer.fit seqLength 2^31-1', () => trainer.fit(data.subarray(0, 1000), { steps: 1, batchSize: 1, seqLength: 2 ** 31 - 1 }),
      /too few for 1 streams of chunks of 2147483647/);
    expect(model.workspacesByShape()).to.deep.equal([]);
    // nothing left half-done: the model is not marked busy, and trains
    const r = await trainer.fit(data.subarray(0, 1000).map((_, k) => k % 4), { steps: 2, batchSize: 4, seqLength: 8 });
    expect(r.steps).to.equal(2);
    expect(Number.isFinite(r.loss)).to.equal(true);
  });

  it('a checkpoint whose config claims 10^9 layers is refused at once (regression: it spun building tensor names until the heap ran out)', async () => {
    const lib = path.resolve(__dirname, '..', 'lib');
    // In a child with a deadline, so the old behaviour fails the test instead of hanging it.
    const script = `
      const { RNNModel, encodeCheckpoint, decodeCheckpoint, decodeSafetensors, encodeSafetensors } = require(${JSON.stringify(lib)});
      const { tensors, metadata } = decodeSafetensors(encodeCheckpoint({ model: new RNNModel({ vocabSize: 4, hiddenSize: 2 }) }));
      const config = JSON.parse(metadata.config);
      config.numLayers = 1e9;
      const bytes = encodeSafetensors(Object.fromEntries(tensors), { ...metadata, config: JSON.stringify(config) });
      try { decodeCheckpoint(bytes); console.log('loaded'); } catch (e) { console.log(e.name + ' ' + e.code + ' ' + e.message); }
    `;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
    const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_c, s) => resolve(s)));
    clearTimeout(timer);
    expect(signal, 'the decode did not finish within 15 s').to.equal(null);
    expect(stdout.trim()).to.equal('CheckpointError BAD_VALUE checkpoint: config.numLayers must be at most 1024, got 1000000000');
  });

  it('the limit follows a container memory limit (process.constrainedMemory) when lower than the machine (regression)', () => {
    delete process.env.NATIVE_RNN_MAX_BYTES;
    const proc = process as unknown as { constrainedMemory?: () => number | undefined };
    const original = Object.getOwnPropertyDescriptor(process, 'constrainedMemory');
    try {
      Object.defineProperty(process, 'constrainedMemory', { value: () => 512 * MiB, configurable: true, writable: true });
      expect(memoryLimit()).to.equal(384 * MiB);
      expect(() => new RNNModel({ vocabSize: 10, hiddenSize: 8000 })).to.throw(RangeError, /a model of 64168010 parameters \(with gradients\) needs 489\.6 MiB, more than the 384\.0 MiB allowed/);
      proc.constrainedMemory = () => 2 ** 64; // unconstrained
      expect(memoryLimit()).to.equal(Math.floor(os.totalmem() * 0.75));
      proc.constrainedMemory = () => 0; // unknown
      expect(memoryLimit()).to.equal(Math.floor(os.totalmem() * 0.75));
    } finally {
      if (original) Object.defineProperty(process, 'constrainedMemory', original);
      else delete proc.constrainedMemory;
    }
  });

  it('the CLI: --hidden 100000000 and --layers 100000000 fail at once with one error line; peak RSS stays small', async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'native-rnn-big-'));
    try {
      const hook = path.join(dir, 'maxrss.js');
      fs.writeFileSync(hook, "process.on('exit', () => process.stderr.write('maxrss ' + process.resourceUsage().maxRSS + '\\n'));\n");
      const data = path.join(dir, 'd.txt');
      fs.writeFileSync(data, 'abcdefgh\n'.repeat(400));
      const cases: Array<[string[], RegExp]> = [
        [['--hidden', '100000000'], /a model of \d+ parameters \(with gradients\) needs [\d.]+ PiB, more than the [\d.]+ GiB allowed/],
        [['--layers', '100000000', '--hidden', '2'], /new RNNModel: numLayers must be an integer in \[1, 1024\], got 100000000/],
        [['--seq-length', '100000000'], /too few for --batch 32 streams of --seq-length 100000000/],
      ];
      for (const [flags, message] of cases) {
        const r = await run(['--require', hook, MAIN, 'train', '--data', data, '--steps', '2', '--save', path.join(dir, 'm.safetensors'), ...flags], { cwd: dir });
        const lines = r.stderr.trim().split('\n');
        const maxRssMiB = Number(/maxrss (\d+)/.exec(r.stderr)?.[1]) / 1024;
        measured.push(`CLI ${flags.join(' ')}: exit ${r.code} in ${r.ms} ms, peak RSS ${maxRssMiB.toFixed(0)} MiB: ${lines[0]}`);
        expect(r.code, r.stderr).to.equal(1);
        expect(lines[0]).to.match(/^native-rnn: error: /).and.match(message);
        expect(lines, 'one error line (and the hook\'s)').to.have.length(2);
        expect(maxRssMiB).to.be.lessThan(256);
        expect(r.ms).to.be.lessThan(20000);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------
describe('90 async programs: inputs dropped under GC, op list changed after the call', function () {
  this.timeout(60000);

  it('[native] programs whose typed arrays are reachable only from the (emptied) op list complete correctly under forced GC', async function () {
    if (!HAS_NATIVE) this.skip();
    const lib = path.resolve(__dirname, '..', 'lib');
    const script = `
      const { backends } = require(${JSON.stringify(lib)});
      if (typeof global.gc !== 'function') throw new Error('no gc');
      const b = backends.get('native');
      const n = 448, P = 8;
      const fillA = (a, s) => { for (let i = 0; i < a.length; i++) a[i] = ((i * 37 + s) % 101) / 101 - 0.5; return a; };
      // 4 rounds of C = A·B, D = tanh(C), E = Dᵀ·A, out += Σ E², every array but 'out' made here
      function build(s, out) {
        const ops = [];
        for (let k = 0; k < 4; k++) {
          const A = fillA(new Float32Array(n * n), s + k), B = fillA(new Float32Array(n * n), s + k + 1);
          const C = new Float32Array(n * n), D = new Float32Array(n * n), E = new Float32Array(n * n);
          ops.push(['gemm', false, false, n, n, n, 1, A, 0, n, B, 0, n, 0, C, 0, n],
            ['activationForward', 'tanh', n, n, C, 0, n, D, 0, n],
            ['gemm', true, false, n, n, n, 1, D, 0, n, A, 0, n, 0, E, 0, n],
            ['sumSquares', n * n, E, 0, out, 0]);
        }
        return ops;
      }
      const want = [];
      for (let s = 0; s < P; s++) { const out = new Float64Array(1); for (const op of build(s, out)) b[op[0]](...op.slice(1)); want.push(out[0]); }
      const outs = [], promises = [];
      for (let s = 0; s < P; s++) {
        const out = new Float64Array(1);
        let program = build(s, out);
        promises.push(b.run(program));
        program.length = 0; program = null; // the only references to A..E were in it
        outs.push(out);
      }
      let done = false, gcs = 0;
      // Collected at once, before any program can settle (that needs this thread), then on and on.
      global.gc(); global.gc(); gcs += 2;
      const churn = () => {
        if (done) return;
        const junk = [];
        for (let i = 0; i < 8; i++) junk.push(new Float32Array(n * n).fill(i));
        global.gc(); gcs++;
        setImmediate(churn);
      };
      churn();
      Promise.all(promises).then(() => {
        done = true;
        console.log(JSON.stringify({ got: outs.map((o) => o[0]), want, gcs }));
      }, (e) => { done = true; console.error(e); process.exit(2); });
    `;
    const r = await run(['--expose-gc', '-e', script]);
    expect(r.code, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { got: number[]; want: number[]; gcs: number };
    measured.push(`async GC: 8 programs (16 ops, 448x448) with every input dropped finished after ${out.gcs} forced GCs; results equal the sync calls bit for bit`);
    expect(out.want.every((v) => Number.isFinite(v) && v > 0)).to.equal(true);
    expect(out.got).to.deep.equal(out.want);
    expect(out.gcs, 'GC ran while the programs were in flight').to.be.at.least(3);
  });

  for (const name of backends.available()) {
    it(`[${name}] changing the op list right after run() does not change what runs (regression on ts: it ran the changed list, unvalidated)`, async () => {
      const b: Backend = backends.get(name);
      const x = new Float64Array([1, 2, 3, 4]), y = new Float64Array(4), other = new Float64Array(4);
      const program: Op[] = [['copy', 4, x, 0, y, 0], ['scale', 4, 2, y, 0], ['axpy', 4, 1, x, 0, y, 0]];
      const p = b.run(program);
      (program[1] as unknown[])[2] = 100;                  // an argument
      (program[2] as unknown[])[5] = other;                // an array
      program[0] = ['fill', 4, -1, y, 0];                  // a whole op
      program.push(['fill', 4, 7, y, 0]);                  // an extra op
      program.push(['copy', 4, x, 0, y, 1] as Op);          // an extra op that is out of range
      program.splice(1, 1);                                // one op less
      await p;
      expect(Array.from(y)).to.deep.equal([3, 6, 9, 12]);   // (x·2) + x
      expect(Array.from(other)).to.deep.equal([0, 0, 0, 0]);
      // and the list itself was not touched by run()
      expect(program).to.have.length(4);
    });
  }
});
