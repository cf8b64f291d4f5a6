import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { builtinNamesText } from '../lib/data/names';
import { loadCheckpoint } from '../lib/io/checkpoint';
import { bytesOf, cli, cliInterruptedAtFirstStep, jsonLines, SMALL } from './helpers/cli';

describe('70 cli: native-rnn train | sample | eval', function () {
  this.timeout(60000);
  let dir: string;
  let data: string;
  let trained: string;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'native-rnn-cli-'));
    data = path.join(dir, 'names.txt');
    fs.writeFileSync(data, builtinNamesText().split('\n').slice(0, 300).join('\n') + '\n');
  });
  after(() => { fs.rmSync(dir, { recursive: true, force: true }); });

  it('train --json prints one JSON object per line and writes the checkpoint, the SVG and the metrics', async () => {
    trained = path.join(dir, 'run', 'model.safetensors');
    const r = await cli(['train', '--data', data, ...SMALL, '--steps', '12', '--eval-every', '5', '--save-every', '5',
      '--sample-every', '6', '--save', trained, '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const events = jsonLines(r.stdout);
    const kinds = new Set(events.map((e) => e.event));
    for (const k of ['start', 'step', 'eval', 'sample', 'checkpoint', 'done']) expect(kinds.has(k), `event ${k}`).to.equal(true);
    const done = events[events.length - 1];
    expect(done).to.include({ event: 'done', aborted: false, step: 12, checkpoint: trained });
    // finite and positive (a bare a('number') let NaN through)
    expect(done.validationLoss).to.be.a('number').and.be.finite.and.greaterThan(0);
    expect(done.bigramLoss).to.be.a('number').and.be.finite.and.greaterThan(0);
    expect((done.samples as string[]).length).to.equal(10);

    const loaded = await loadCheckpoint(trained);
    expect(loaded.trainer?.step).to.equal(12);
    const svg = fs.readFileSync(path.join(dir, 'run', 'model.loss.svg'), 'utf8');
    expect(svg.startsWith('<svg')).to.equal(true);
    expect(svg).to.include('validation');
    const rows = jsonLines(fs.readFileSync(path.join(dir, 'run', 'model.metrics.jsonl'), 'utf8'));
    expect(rows.filter((x) => x.kind === 'train').map((x) => x.step)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(rows.filter((x) => x.kind === 'validation').map((x) => x.step)).to.deep.equal([5, 10, 12]);
  });

  it('sample prints --count lines, reproducible by --seed, starting with --prime', async () => {
    const a = await cli(['sample', '--checkpoint', trained, '--count', '7', '--seed', '3']);
    expect(a.code, a.stderr).to.equal(0);
    const lines = a.stdout.split('\n').filter((l) => l !== '');
    expect(lines).to.have.length(7);
    const b = await cli(['sample', '--checkpoint', trained, '--count', '7', '--seed', '3']);
    expect(b.stdout).to.equal(a.stdout);
    const p = await cli(['sample', '--checkpoint', trained, '--count', '4', '--prime', 'Ma', '--json']);
    expect(p.code, p.stderr).to.equal(0);
    const samples = (JSON.parse(p.stdout) as { samples: string[] }).samples;
    expect(samples).to.have.length(4);
    for (const s of samples) expect(s.startsWith('Ma')).to.equal(true);
  });

  it('eval prints loss and bits per character beside the bigram baseline', async () => {
    const j = await cli(['eval', '--checkpoint', trained, '--json']);
    expect(j.code, j.stderr).to.equal(0);
    const e = JSON.parse(j.stdout) as Record<string, number>;
    expect(e.loss).to.be.a('number').and.be.finite.and.greaterThan(0);
    expect(e.bpc).to.be.closeTo(e.loss / Math.LN2, 1e-12);
    expect(e.bigramLoss).to.be.a('number').and.be.finite.and.greaterThan(0);
    const t = await cli(['eval', '--checkpoint', trained, '--data', data]);
    expect(t.code, t.stderr).to.equal(0);
    expect(t.stdout).to.match(/model\s+\d\.\d{4}\s+\d\.\d{3}/);
    expect(t.stdout).to.match(/bigram\s+\d\.\d{4}\s+\d\.\d{3}/);
  });

  it('bad flags and bad files give one clear error line and a nonzero exit', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['train', '--hidden', '0'], /--hidden <n>' argument '0' is invalid\. expected a positive integer/],
      [['train', '--val-fraction', '1.5'], /expected a number in \[0, 1\)/],
      [['train', '--steps', '5', '--epochs', '2'], /cannot be used with option '--epochs/],
      [['train', '--optimizer', 'lbfgs'], /Allowed choices are adam, sgd, adagrad, rmsprop/],
      [['train', '--cell', 'nope'], /option '--cell <kind>' argument 'nope' is invalid\. Allowed choices are rnn/],
      [['train', '--bogus'], /unknown option '--bogus'/],
      [['sample'], /required option '--checkpoint <path>' not specified/],
      [['eval', '--checkpoint', path.join(dir, 'none.safetensors')], /none\.safetensors: no such file/],
      [['train', '--data', path.join(dir, 'missing.txt')], /missing\.txt: no such file/],
      [['sample', '--checkpoint', data], /checkpoint .*names\.txt: safetensors: .*\[HEADER_TOO_LARGE\]/],
      [['sample', '--checkpoint', trained, '--prime', '#'], /--prime: the character "#" is not in the model's vocabulary/],
      [['train', '--resume', trained, '--hidden', '32'], /--hidden 32 differs from the checkpoint's 16/],
      [['train', '--data', data, '--batch', '500'], /too few for --batch 500/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args, dir);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).to.equal(1);
      expect(r.stderr, args.join(' ')).to.match(message);
      expect(r.stderr, args.join(' ')).not.to.match(/\n\s+at /); // no stack trace
    }
  });

  it('--resume continues exactly: 2N steps = N steps, then resume to 2N (same final loss and weights)', async () => {
    // 300 names ≈ 2,000 characters: 4 streams × chunks of 8 give ~60 chunks an epoch, so N = 40
    // makes the 2N-step run cross an epoch boundary.
    const N = 40;
    const common = ['train', '--data', data, ...SMALL, '--eval-every', '15', '--save-every', '0', '--json'];
    const whole = path.join(dir, 'whole.safetensors'), half = path.join(dir, 'half.safetensors');
    const a = await cli([...common, '--steps', String(2 * N), '--save', whole]);
    expect(a.code, a.stderr).to.equal(0);
    const b1 = await cli([...common, '--steps', String(N), '--save', half]);
    expect(b1.code, b1.stderr).to.equal(0);
    const b2 = await cli(['train', '--resume', half, '--steps', String(2 * N), '--json']);
    expect(b2.code, b2.stderr).to.equal(0);
    const doneA = jsonLines(a.stdout).pop()!, doneB = jsonLines(b2.stdout).pop()!;
    expect(doneB.step).to.equal(2 * N);
    expect(doneB.loss).to.equal(doneA.loss);
    expect(doneB.validationLoss).to.equal(doneA.validationLoss);
    expect(doneB.trainLoss).to.equal(doneA.trainLoss);
    const ca = await loadCheckpoint(whole), cb = await loadCheckpoint(half);
    expect(bytesOf(cb.model.params).equals(bytesOf(ca.model.params))).to.equal(true);
    expect(bytesOf(cb.trainer!.optimizerState.exp_avg_sq).equals(bytesOf(ca.trainer!.optimizerState.exp_avg_sq))).to.equal(true);
    // The resumed run's record continues the first half's.
    const rows = jsonLines(fs.readFileSync(path.join(dir, 'half.metrics.jsonl'), 'utf8')).filter((x) => x.kind === 'train');
    expect(rows.map((x) => x.step)).to.deep.equal(Array.from({ length: 2 * N }, (_, i) => i + 1));
  });

  it('Ctrl-C (SIGINT) during train saves a checkpoint and exits 0', async () => {
    const file = path.join(dir, 'interrupted.safetensors');
    const { code, stdout, stderr } = await cliInterruptedAtFirstStep(['train', '--data', data, ...SMALL, '--steps', '1000000', '--save-every', '0',
      '--eval-every', '1000', '--log-every', '1', '--save', file, '--json']);
    expect(code, stderr).to.equal(0);
    const done = jsonLines(stdout).pop()!;
    expect(done).to.include({ event: 'done', aborted: true, checkpoint: file });
    const loaded = await loadCheckpoint(file);
    expect(loaded.trainer!.step).to.be.within(1, 999999);
    expect(loaded.trainer!.step).to.equal(done.step);
  });

  it('a diverging run stops with an error naming the step; the checkpoint saved before it loads, NaN-free', async () => {
    const file = path.join(dir, 'diverged.safetensors');
    // tanh bounds the hidden state and the softmax is computed stably, so only a step size that
    // overflows float32 outright makes the loss non-finite.
    const r = await cli(['train', '--data', data, ...SMALL, '--optimizer', 'sgd', '--lr', '1e38', '--steps', '50',
      '--save-every', '1', '--save', file]);
    expect(r.code).to.equal(1);
    const m = /training diverged at step (\d+): the loss is (NaN|Infinity|-Infinity)/.exec(r.stderr);
    expect(m, r.stderr).to.not.equal(null);
    const failed = Number(m![1]);
    expect(r.stderr).to.include(`from step ${failed - 1} is intact`);
    const loaded = await loadCheckpoint(file); // loading checks every weight is finite
    expect(loaded.trainer!.step).to.equal(failed - 1);
    expect([...loaded.model.params].every(Number.isFinite)).to.equal(true);
  });
});
