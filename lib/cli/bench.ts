// `native-rnn bench`: one training step of the user's shape, timed on the native backend and on
// the pure-TypeScript one, as `npm run bench` times its fixed shapes (bench/bench.ts): a warm-up
// step, then several timed steps, the median. The step is the Trainer's (forward, loss, full
// BPTT, clipping check, Adam update) on synthetic token data of the given vocabulary, so the
// numbers are what `native-rnn train` would see for that shape.
//
// The ts backend can be tens of times slower, so each backend is time-boxed: timing stops once
// the timed steps have taken --max-seconds (after at least one), and the output says when that
// left fewer steps than asked.
import * as backends from '../backend';
import type { Backend, BackendName, DType } from '../backend/types';
import { RNNModel } from '../nn/model';
import { Random } from '../random';
import { Trainer } from '../train/trainer';
import { checkCell } from './cells';
import { CliError } from './errors';

export interface BenchFlags {
  cell: string;
  hidden: number;
  layers: number;
  batch: number;
  seqLength: number;
  vocab: number;
  dtype: DType;
  steps: number;
  maxSeconds: number;
  threads?: number;
  json: boolean;
}

export interface BenchTiming {
  backend: BackendName;
  threads: number;
  /** median milliseconds of one training step */
  ms: number;
  tokensPerSecond: number;
  warmupMs: number;
  /** steps timed, and whether the time box made them fewer than asked */
  steps: number;
  timeBoxed: boolean;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** One status line on stderr (stdout stays for the result): rewritten in place on a terminal. */
class Progress {
  private readonly tty = process.stderr.isTTY === true;
  private shown = false;

  /** A step of a phase: on a terminal only (a log would get a line per step). */
  update(text: string): void {
    if (!this.tty) return;
    process.stderr.write(`\r\x1b[K${text}`);
    this.shown = true;
  }

  /** The start of a phase: on a terminal in place, elsewhere as a line. */
  phase(text: string): void {
    if (this.tty) this.update(text);
    else process.stderr.write(`${text}\n`);
  }

  clear(): void {
    if (this.shown) process.stderr.write('\r\x1b[K');
    this.shown = false;
  }
}

/** The model of the shape (checkCell has admitted a registered cell kind). */
function buildModel(flags: BenchFlags, backend: Backend): RNNModel {
  return new RNNModel({ cell: flags.cell, vocabSize: flags.vocab, hiddenSize: flags.hidden, numLayers: flags.layers, dtype: flags.dtype, backend, seed: 1 });
}

async function timeBackend(name: BackendName, flags: BenchFlags, progress: Progress): Promise<BenchTiming> {
  const backend = backends.get(name);
  if (name === 'native' && flags.threads !== undefined) backend.setNumThreads(flags.threads);
  const model = buildModel(flags, backend);
  const trainer = new Trainer(model, { optimizer: 'adam', lr: 1e-3 });
  const T = flags.seqLength, m = flags.batch, tokens = T * m;
  const rng = new Random(7);
  const input = { ids: Int32Array.from({ length: tokens }, () => rng.int(flags.vocab)), steps: T, batch: m };
  const target = Int32Array.from({ length: tokens }, () => rng.int(flags.vocab));
  const label = `native-rnn bench: ${name}${name === 'native' ? ` (${backend.getNumThreads()} thread${backend.getNumThreads() > 1 ? 's' : ''})` : ''}`;

  progress.phase(`${label}: warm-up step`);
  let t0 = performance.now();
  await trainer.trainStep(input, target);
  const warmupMs = performance.now() - t0;
  progress.phase(`${label}: timing ${flags.steps} step${flags.steps > 1 ? 's' : ''} (at most about ${flags.maxSeconds} s)`);
  // The time box: stop once the timed steps have taken --max-seconds, after at least one.
  const budget = flags.maxSeconds * 1000;
  const times: number[] = [];
  let spent = 0;
  while (times.length < flags.steps && (times.length === 0 || spent < budget)) {
    t0 = performance.now();
    await trainer.trainStep(input, target);
    const ms = performance.now() - t0;
    times.push(ms);
    spent += ms;
    progress.update(`${label}: step ${times.length}/${flags.steps}, ${formatMs(median(times))} ms a step`);
  }
  model.releaseWorkspaces();
  const ms = median(times);
  return {
    backend: name, threads: backend.getNumThreads(), ms, tokensPerSecond: (tokens * 1000) / ms, warmupMs,
    steps: times.length, timeBoxed: times.length < flags.steps,
  };
}

function formatMs(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
}

export async function bench(flags: BenchFlags): Promise<number> {
  const cell = checkCell(flags.cell);
  const progress = new Progress();
  const nativeMissing = backends.available().includes('native') ? null : backends.nativeError();
  const shape = {
    cell, hidden: flags.hidden, layers: flags.layers, batch: flags.batch, seqLength: flags.seqLength, vocab: flags.vocab, dtype: flags.dtype,
  };
  let parameters: number;
  try {
    parameters = buildModel(flags, backends.get('ts')).size;
  } catch (err) {
    if (err instanceof RangeError) throw new CliError(`this shape does not fit: ${err.message}`);
    throw err;
  }
  let native: BenchTiming | null = null, ts: BenchTiming;
  try {
    if (nativeMissing === null) native = await timeBackend('native', flags, progress);
    ts = await timeBackend('ts', flags, progress);
  } finally {
    progress.clear();
  }
  const ratio = native ? ts.ms / native.ms : null;
  const tokens = flags.batch * flags.seqLength;
  if (flags.json) {
    process.stdout.write(JSON.stringify({
      event: 'bench', ...shape, parameters, tokensPerStep: tokens, requestedSteps: flags.steps, maxSeconds: flags.maxSeconds,
      native, ts, ratio, nativeError: nativeMissing,
    }) + '\n');
    return 0;
  }
  const row = (t: BenchTiming) => {
    const name = t.backend === 'native' ? `native ${t.threads}t` : 'ts';
    const note = t.timeBoxed ? ` (of ${flags.steps} asked: time-boxed to ${flags.maxSeconds} s)` : '';
    return `  ${name.padEnd(10)}${formatMs(t.ms).padStart(10)}${Math.round(t.tokensPerSecond).toLocaleString('en-US').padStart(14)}${String(t.steps).padStart(8)}${note}`;
  };
  process.stdout.write([
    `training step: ${cell} cell, hidden ${flags.hidden} x ${flags.layers} layer${flags.layers > 1 ? 's' : ''}, batch ${flags.batch} x seq ${flags.seqLength}, ` +
      `vocab ${flags.vocab}, ${flags.dtype}; ${parameters.toLocaleString('en-US')} parameters, ${tokens.toLocaleString('en-US')} tokens a step; Adam`,
    `  ${'backend'.padEnd(10)}${'ms/step'.padStart(10)}${'tokens/s'.padStart(14)}${'steps'.padStart(8)}`,
    ...(native ? [row(native)] : [`  native    not available: ${nativeMissing}`]),
    row(ts),
    ratio !== null ? `ts/native: ${ratio.toFixed(1)}x (median step times, one warm-up step each)` : 'ts/native: - (no native backend)',
  ].join('\n') + '\n');
  return 0;
}
