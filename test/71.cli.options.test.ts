// The second round of CLI options: train --weight-decay, --lr-schedule/--warmup, --val-data and
// the best checkpoint; eval --text; the end-of-run wording; `native-rnn bench`. Each spawns the
// CLI as a user would, with tiny models and few steps.
import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { FloatArray } from '../lib/backend/types';
import { builtinNamesText } from '../lib/data/names';
import { loadCheckpoint } from '../lib/io/checkpoint';
import { Trainer } from '../lib/train/trainer';
import { bytesOf, cli, cliInterruptedAtFirstStep, type Json, jsonLines, SMALL } from './helpers/cli';

function metricsOf(checkpoint: string): Json[] {
  return jsonLines(fs.readFileSync(checkpoint.replace(/\.safetensors$/, '.metrics.jsonl'), 'utf8'));
}

function norm(a: FloatArray): number {
  let s = 0;
  for (const v of a) s += v * v;
  return Math.sqrt(s);
}

describe('71 cli: train --weight-decay/--lr-schedule/--warmup/--val-data, best checkpoint, eval --text, bench', function () {
  this.timeout(60000);
  let dir: string;
  let trainFile: string, valFile: string, badVal: string;
  let valRun: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'native-rnn-cli53-'));
    const names = builtinNamesText().split('\n');
    const train = names.slice(0, 300);
    const chars = new Set(train.join(''));
    trainFile = path.join(dir, 'train.txt');
    valFile = path.join(dir, 'val.txt');
    badVal = path.join(dir, 'bad-val.txt');
    fs.writeFileSync(trainFile, train.join('\n') + '\n');
    // Later names whose characters the training names all have: about 400 characters.
    const val = names.slice(300, 600).filter((l) => [...l].every((c) => chars.has(c))).slice(0, 60);
    fs.writeFileSync(valFile, val.join('\n') + '\n');
    expect(chars.has('#')).to.equal(false);
    fs.writeFileSync(badVal, `${val[0]}\n${val[1]}\nAb#c\n${val[2]}\n`);
  });
  after(() => { fs.rmSync(dir, { recursive: true, force: true }); });

  it('--val-data validates on the file (all of --data trains); eval of the checkpoint scores that file the same way', async () => {
    valRun = path.join(dir, 'val', 'run.safetensors');
    const r = await cli(['train', '--data', trainFile, '--val-data', valFile, ...SMALL, '--steps', '30', '--eval-every', '10',
      '--save', valRun, '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const events = jsonLines(r.stdout);
    const start = events.find((e) => e.event === 'start')!;
    const done = events[events.length - 1];
    expect(start.validationData).to.equal(valFile);
    expect(start.validationCharacters).to.equal(fs.readFileSync(valFile, 'utf8').length);
    expect(start.trainCharacters).to.equal(fs.readFileSync(trainFile, 'utf8').length);
    const loaded = await loadCheckpoint(valRun);
    const run = JSON.parse(loaded.extra.run) as Json;
    expect(run.valData).to.deep.include({ path: valFile });
    expect((run.valData as { sha256: string }).sha256).to.match(/^[0-9a-f]{64}$/);

    const e = await cli(['eval', '--checkpoint', valRun, '--json']);
    expect(e.code, e.stderr).to.equal(0);
    const ev = JSON.parse(e.stdout) as Json;
    expect(ev.part).to.equal('validation file');
    expect(ev.validationData).to.equal(valFile);
    expect(ev.loss).to.equal(done.validationLoss);
  });

  it('--val-data with a character outside the training vocabulary names it, its line and column; nothing is saved', async () => {
    const save = path.join(dir, 'badval.safetensors');
    const r = await cli(['train', '--data', trainFile, '--val-data', badVal, ...SMALL, '--steps', '5', '--save', save]);
    expect(r.code).to.equal(1);
    expect(r.stderr.trim().split('\n')).to.have.length(1);
    expect(r.stderr).to.include(`native-rnn: error: ${badVal}, line 3, column 3: the character "#" (U+0023) is not in the training text's vocabulary`);
    expect(fs.existsSync(save)).to.equal(false);
  });

  it('best checkpoint: written exactly when the validation loss beats every earlier one; holds the minimum; sample and eval take it', async () => {
    const save = path.join(dir, 'best', 'run.safetensors');
    const best = path.join(dir, 'best', 'run.best.safetensors');
    // A high learning rate makes the validation loss go up as well as down.
    const r = await cli(['train', '--data', trainFile, ...SMALL, '--lr', '0.03', '--steps', '60', '--eval-every', '4',
      '--save-every', '8', '--save', save]);
    expect(r.code, r.stderr).to.equal(0);
    const rows = metricsOf(save).filter((x) => x.kind === 'validation') as Array<{ step: number; loss: number; bestCheckpoint?: string }>;
    expect(rows.length).to.equal(15);
    let lowest = Infinity;
    for (const row of rows) {
      expect(row.bestCheckpoint, `step ${row.step}`).to.equal(row.loss < lowest ? best : undefined);
      lowest = Math.min(lowest, row.loss);
    }
    // The run is seeded: some validation does not improve (step 56), so both branches are exercised.
    expect(rows.some((x) => x.bestCheckpoint === undefined), 'a validation that did not improve').to.equal(true);
    const minRow = rows.find((x) => x.loss === lowest)!;
    const loaded = await loadCheckpoint(best);
    expect(loaded.metrics!.validationLoss).to.equal(lowest);
    expect(loaded.metrics!.step).to.equal(minRow.step);
    expect(loaded.trainer).to.equal(null);
    expect(r.stdout).to.include(`best:       ${best} (step ${minRow.step}, validation loss ${lowest.toFixed(4)})`);
    // The main checkpoint records the best too (a resumed run continues from it).
    const main = await loadCheckpoint(save);
    expect(main.metrics).to.include({ bestValidationLoss: lowest, bestStep: minRow.step, bestCheckpoint: best });

    const e = await cli(['eval', '--checkpoint', best, '--json']);
    expect(e.code, e.stderr).to.equal(0);
    expect((JSON.parse(e.stdout) as Json).loss).to.equal(lowest);
    const s = await cli(['sample', '--checkpoint', best, '--count', '3']);
    expect(s.code, s.stderr).to.equal(0);
    expect(s.stdout.trim().split('\n')).to.have.length(3);
    const again = await cli(['train', '--resume', best]);
    expect(again.code).to.equal(1);
    expect(again.stderr).to.include(`is the best checkpoint of a run (its weights at step ${minRow.step})`);
    expect(again.stderr).to.include(`resumes from its main checkpoint, ${save}`);
  });

  it('--lr-schedule cosine with --warmup: the lr of every step in the metrics follows the documented formula', async () => {
    const S = 40, W = 6, lr = 0.01;
    const cosine = path.join(dir, 'cosine.safetensors'), constant = path.join(dir, 'constant.safetensors');
    const a = await cli(['train', '--data', trainFile, ...SMALL, '--steps', String(S), '--lr', String(lr), '--lr-schedule', 'cosine',
      '--warmup', String(W), '--save', cosine, '--json']);
    expect(a.code, a.stderr).to.equal(0);
    const b = await cli(['train', '--data', trainFile, ...SMALL, '--steps', String(S), '--lr', String(lr), '--warmup', String(W),
      '--save', constant, '--json']);
    expect(b.code, b.stderr).to.equal(0);
    const lrs = (file: string) => metricsOf(file).filter((x) => x.kind === 'train').map((x) => x.lr as number);
    const got = lrs(cosine), flat = lrs(constant);
    expect(got).to.have.length(S);
    for (let k = 1; k <= S; k++) {
      const warm = k <= W ? k / W : 1;
      const want = lr * warm * (k <= W ? 1 : 0.5 * (1 + Math.cos((Math.PI * (k - 1 - W)) / (S - W))));
      expect(got[k - 1], `cosine step ${k}`).to.be.closeTo(want, 1e-15);
      expect(flat[k - 1], `constant step ${k}`).to.be.closeTo(lr * warm, 1e-15);
    }
    expect(got[S - 1]).to.be.above(0).and.below(lr * 0.01);
    const run = JSON.parse((await loadCheckpoint(cosine)).extra.run) as Json;
    expect(run).to.include({ schedule: 'cosine', warmup: W });
  });

  it('--weight-decay: adam decays decoupled (AdamW), sgd adds the L2 term; both shrink the weights; stored in the run', async () => {
    const files: Record<string, string> = {};
    for (const [name, args] of Object.entries({
      adam0: ['--optimizer', 'adam'], adamWd: ['--optimizer', 'adam', '--weight-decay', '20'],
      sgd0: ['--optimizer', 'sgd'], sgdWd: ['--optimizer', 'sgd', '--weight-decay', '2'],
    })) {
      files[name] = path.join(dir, `wd-${name}.safetensors`);
      const r = await cli(['train', '--data', trainFile, ...SMALL, '--steps', '20', ...args, '--save', files[name], '--json']);
      expect(r.code, `${name}: ${r.stderr}`).to.equal(0);
    }
    const ck = Object.fromEntries(await Promise.all(Object.entries(files).map(async ([k, f]) => [k, await loadCheckpoint(f)] as const)));
    expect(ck.adam0.trainer!.optimizer).to.include({ name: 'adam', weightDecay: 0 });
    expect(ck.adamWd.trainer!.optimizer).to.include({ name: 'adamw', weightDecay: 20 });
    expect(ck.sgdWd.trainer!.optimizer).to.include({ name: 'sgd', weightDecay: 2 });
    expect(JSON.parse(ck.adamWd.extra.run)).to.include({ optimizer: 'adam', weightDecay: 20 });
    // lr·wd = 0.04 a step (decoupled): 20 steps leave 0.96^20 ≈ 0.44 of the weights, plus Adam's moves.
    expect(norm(ck.adamWd.model.params)).to.be.below(0.7 * norm(ck.adam0.model.params));
    expect(norm(ck.sgdWd.model.params)).to.be.below(0.9 * norm(ck.sgd0.model.params));
  });

  it('--resume stays exact with a cosine schedule, warm-up, weight decay and --val-data (Ctrl-C midway, then resume)', async () => {
    const S = 3000;
    const common = ['train', '--data', trainFile, '--val-data', valFile, ...SMALL, '--steps', String(S), '--lr-schedule', 'cosine',
      '--warmup', '50', '--weight-decay', '0.1', '--eval-every', '500', '--save-every', '0', '--json'];
    const whole = path.join(dir, 'exact-whole.safetensors'), parts = path.join(dir, 'exact-parts.safetensors');
    const a = await cli([...common, '--save', whole]);
    expect(a.code, a.stderr).to.equal(0);

    const { code, stdout, stderr } = await cliInterruptedAtFirstStep([...common, '--log-every', '1', '--save', parts]);
    expect(code, stderr).to.equal(0);
    const stopped = jsonLines(stdout).pop()!;
    expect(stopped).to.include({ event: 'done', aborted: true });
    expect(stopped.step).to.be.below(S);

    // Contradicting settings are refused; the run's own continue it.
    for (const [flag, value, message] of [
      ['--weight-decay', '0.2', /--weight-decay 0\.2 differs from the checkpoint's 0\.1/],
      ['--lr-schedule', 'constant', /--lr-schedule constant differs from the checkpoint's cosine/],
      ['--warmup', '10', /--warmup 10 differs from the checkpoint's 50/],
      ['--val-data', trainFile, /--val-data .*train\.txt is not the checkpoint's validation file/],
      ['--val-fraction', '0.2', /the checkpoint's run validates on .*val\.txt \(--val-data\)/],
      ['--steps', String(2 * S), /--steps 6000 would change the length of a cosine-schedule run/],
    ] as Array<[string, string, RegExp]>) {
      const r = await cli(['train', '--resume', parts, flag, value]);
      expect(r.code, `${flag} ${value}`).to.equal(1);
      expect(r.stderr, `${flag} ${value}`).to.match(message);
    }
    const b = await cli(['train', '--resume', parts, '--json']);
    expect(b.code, b.stderr).to.equal(0);
    const doneA = jsonLines(a.stdout).pop()!, doneB = jsonLines(b.stdout).pop()!;
    expect(doneB.step).to.equal(S);
    expect(doneB.loss).to.equal(doneA.loss);
    expect(doneB.trainLoss).to.equal(doneA.trainLoss);
    expect(doneB.validationLoss).to.equal(doneA.validationLoss);
    const ca = await loadCheckpoint(whole), cb = await loadCheckpoint(parts);
    expect(bytesOf(cb.model.params).equals(bytesOf(ca.model.params))).to.equal(true);
    const lrs = (file: string) => metricsOf(file).filter((x) => x.kind === 'train').map((x) => x.lr);
    expect(lrs(parts)).to.deep.equal(lrs(whole));

    // A changed validation file is refused by its sha256.
    const copy = path.join(dir, 'exact-copy.safetensors');
    fs.copyFileSync(parts, copy);
    const original = fs.readFileSync(valFile);
    try {
      fs.writeFileSync(valFile, Buffer.concat([original, original]));
      const r = await cli(['train', '--resume', copy]);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.match(/val\.txt is not the validation text .* was validated on \(its sha256 differs\)/);
    } finally {
      fs.writeFileSync(valFile, original);
    }
  });

  it('eval --text scores every character of a file, as the library evaluates it in one stream', async () => {
    const text = fs.readFileSync(valFile, 'utf8');
    for (const backend of ['ts', 'native']) {
      const r = await cli(['eval', '--checkpoint', valRun, '--text', valFile, '--backend', backend, '--json']);
      if (backend === 'native' && r.code === 1 && /native' is not available/.test(r.stderr)) continue;
      expect(r.code, r.stderr).to.equal(0);
      const e = JSON.parse(r.stdout) as Json;
      const loaded = await loadCheckpoint(valRun, { backend: backend as 'ts' | 'native' });
      // Every character, the first one predicted after a newline as a line of the training text is.
      const ids = loaded.vocabulary!.encode('\n' + text);
      const library = await new Trainer(loaded.model).evaluate(ids, { batchSize: 1, seqLength: ids.length - 1 });
      expect(library.tokens).to.equal(text.length);
      expect(e).to.include({ part: 'text', characters: text.length, tokens: text.length, lines: 60, data: valFile });
      // Only the order of the chunk sums differs (measured: equal on native, 3e-16 relative on ts).
      expect(e.loss as number, backend).to.be.closeTo(library.loss, 1e-12 * library.loss);
      expect(e.bigramLoss).to.be.a('number');
    }
    const t = await cli(['eval', '--checkpoint', valRun, '--text', valFile]);
    expect(t.code, t.stderr).to.equal(0);
    expect(t.stdout).to.include(`${valFile}, every character (60 lines, ${text.length} characters, scored as one stream)`);
    expect(t.stdout).to.match(/model\s+\d\.\d{4}\s+\d\.\d{3}/);
    const bad = await cli(['eval', '--checkpoint', valRun, '--text', badVal]);
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.include(`${badVal}, line 3, column 3: the character "#" (U+0023) is not in the checkpoint's vocabulary`);
  });

  it('the end-of-run text says "names" for the built-in names and "samples" for other data', async () => {
    const builtin = await cli(['train', ...SMALL, '--steps', '2', '--save', path.join(dir, 'words-names.safetensors')]);
    expect(builtin.code, builtin.stderr).to.equal(0);
    expect(builtin.stdout).to.match(/\n10 names the model invented:\n/);
    expect(builtin.stdout).not.to.include('samples from the model');
    const file = await cli(['train', '--data', trainFile, ...SMALL, '--steps', '2', '--save', path.join(dir, 'words-file.safetensors')]);
    expect(file.code, file.stderr).to.equal(0);
    expect(file.stdout).to.match(/\n10 samples from the model:\n/);
    expect(file.stdout).not.to.include('names the model invented');
  });

  it('bench --json prints the shape, native and ts timings and their ratio; the text form says when a run was time-boxed', async () => {
    const r = await cli(['bench', '--hidden', '8', '--layers', '2', '--batch', '2', '--seq-length', '4', '--vocab', '5', '--steps', '3', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const b = JSON.parse(r.stdout) as Json;
    expect(b).to.include({ event: 'bench', cell: 'rnn', hidden: 8, layers: 2, batch: 2, seqLength: 4, vocab: 5, dtype: 'float32', tokensPerStep: 8 });
    expect(b.parameters).to.equal((8 * 5 + 8 * 8 + 8) + (8 * 8 + 8 * 8 + 8) + (5 * 8 + 5)); // layer 0, layer 1, head
    const ts = b.ts as Json;
    expect(ts).to.include({ backend: 'ts', steps: 3, timeBoxed: false });
    expect(ts.ms).to.be.above(0);
    expect(ts.tokensPerSecond as number).to.be.closeTo(8000 / (ts.ms as number), 1e-6);
    if (b.native !== null) {
      expect((b.native as Json).ms).to.be.above(0);
      expect(b.ratio).to.be.a('number').and.above(0);
      expect(b.ratio).to.be.closeTo((ts.ms as number) / ((b.native as Json).ms as number), 1e-9);
    }
    expect(r.stderr).to.include('native-rnn bench: ts: warm-up step'); // the progress lines go to stderr

    const boxed = await cli(['bench', '--hidden', '8', '--batch', '2', '--seq-length', '4', '--vocab', '5', '--dtype', 'float64',
      '--steps', '100000', '--max-seconds', '0.05']);
    expect(boxed.code, boxed.stderr).to.equal(0);
    expect(boxed.stdout).to.include('float64');
    expect(boxed.stdout).to.match(/\n {2}ts +[\d.]+ +[\d,]+ +\d+ \(of 100000 asked: time-boxed to 0\.05 s\)/);
    expect(boxed.stdout).to.match(/ts\/native: [\d.]+x|ts\/native: - \(no native backend\)/);
  });

  it('bad values of the new flags: one clear native-rnn: error line, exit code 1', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['train', '--weight-decay', '-1'], /--weight-decay <w>' argument '-1' is invalid\. expected a number >= 0/],
      [['train', '--weight-decay', 'lots'], /--weight-decay <w>' argument 'lots' is invalid/],
      [['train', '--lr-schedule', 'linear'], /Allowed choices are constant, cosine/],
      [['train', '--warmup', '-3'], /--warmup <n>' argument '-3' is invalid\. expected an integer >= 0/],
      [['train', '--warmup', '2.5'], /--warmup <n>' argument '2\.5' is invalid/],
      [['train', '--data', trainFile, ...SMALL, '--steps', '10', '--warmup', '10'], /--warmup 10 is not shorter than the run \(10 steps\)/],
      [['train', '--val-data', valFile, '--val-fraction', '0.2'], /'--val-data <file>' cannot be used with option '--val-fraction <f>'/],
      [['train', '--data', trainFile, '--val-data', path.join(dir, 'nope.txt')], /nope\.txt: no such file/],
      [['train', '--resume', valRun, '--val-data', trainFile], /is not the checkpoint's validation file/],
      [['eval', '--checkpoint', valRun, '--text', path.join(dir, 'nope.txt')], /nope\.txt: no such file/],
      [['eval', '--checkpoint', valRun, '--text', valFile, '--data', trainFile], /'--text <file>' cannot be used with option '--data <file>'/],
      [['bench', '--cell', 'transformer'], /--cell "transformer" is not a cell this version knows \(available: rnn, lstm, gru\)/],
      [['bench', '--vocab', '0'], /--vocab <n>' argument '0' is invalid\. expected a positive integer/],
      [['bench', '--dtype', 'float16'], /Allowed choices are float32, float64/],
      [['bench', '--steps', '0'], /--steps <n>' argument '0' is invalid/],
      [['bench', '--max-seconds', '0'], /--max-seconds <s>' argument '0' is invalid\. expected a positive number/],
      [['bench', '--hidden', '100000000'], /this shape does not fit/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args, dir);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).to.equal(1);
      expect(r.stderr, args.join(' ')).to.match(/^native-rnn: error: /);
      expect(r.stderr, args.join(' ')).to.match(message);
      expect(r.stderr, args.join(' ')).not.to.match(/\n\s+at /);
    }
  });
});
