// `native-rnn train`: reads text (built-in names or --data), trains a character model with
// BPTT, writes checkpoints every --save-every steps and at the end, and prints the final
// losses beside the bigram baseline with lines the model invented (names, on the built-in data).
// Each validation that beats every earlier one also writes <name>.best.safetensors.
//
// Resuming is exact: the checkpoint holds the weights, the optimizer state, the step/epoch/
// position counters and the carried hidden states, and its `run` metadata holds the settings
// and a hash of the data, so `--resume` rebuilds the very same run and refuses a different one.
import * as fs from 'fs';
import * as path from 'path';
import * as backends from '../backend';
import { BackendUnavailableError } from '../backend/errors';
import type { Backend } from '../backend/types';
import type { Vocabulary } from '../data/vocabulary';
import { loadCheckpoint, saveCheckpoint, type LoadedCheckpoint } from '../io/checkpoint';
import { CheckpointError } from '../io/errors';
import { DEFAULT_CELL } from '../nn/cells/registry';
import { RNNModel } from '../nn/model';
import { Random } from '../random';
import type { OptimizerName } from '../train/optimizer';
import type { ScheduleSpec } from '../train/schedule';
import { TokenStreams, Trainer, TrainingDivergedError, type EvalResult, type TrainerSnapshot } from '../train/trainer';
import { bigramBaseline } from './baseline';
import { describeSource, loadCorpus, SPLIT_SEED, sourceFromFlag, type DataSource } from './data';
import { CliError } from './errors';
import { readMetrics, writeRecord, companionPaths, type MetricsRow, type ValidationRow } from './metrics';
import { duration, Reporter, type ReportMode } from './report';
import { sampleLines } from './sampling';

export type BackendChoice = 'native' | 'ts' | 'auto';
export type ScheduleName = 'constant' | 'cosine';

/**
 * The flags whose defaults depend on the cell (undefined: not given, the cell's default).
 * `train` fills them in from CELL_DEFAULTS before anything reads them.
 */
export interface TrainFlags {
  data?: string;
  cell: string;
  hidden?: number;
  layers?: number;
  dropout?: number;
  headDropout?: number;
  seqLength?: number;
  batch?: number;
  steps?: number;
  epochs?: number;
  lr?: number;
  optimizer: OptimizerName;
  weightDecay?: number;
  lrSchedule?: ScheduleName;
  warmup?: number;
  clip: number;
  backend: BackendChoice;
  threads?: number;
  seed: number;
  save?: string;
  resume?: string;
  valFraction: number;
  valData?: string;
  sampleEvery: number;
  evalEvery: number;
  saveEvery: number;
  logEvery?: number;
  json: boolean;
}

/** The run's settings, stored in the checkpoint (metadata `run`) so --resume repeats them. */
export interface RunSettings {
  data: DataSource;
  sha256: string;
  valFraction: number;
  splitSeed: number;
  /** The cell kind (absent in runs from before cells were plug-ins: 'rnn'). */
  cell?: string;
  hidden: number;
  layers: number;
  /** Dropout between the layers and on the head's input (absent in runs from before dropout: 0). */
  dropout: number;
  headDropout: number;
  batch: number;
  seqLength: number;
  optimizer: OptimizerName;
  lr: number;
  /** Decoupled (AdamW) for adam, an L2 term added to the gradient for the others; 0: none. */
  weightDecay: number;
  /** The learning-rate schedule; cosine anneals over the run's steps (after the warm-up). */
  schedule: ScheduleName;
  /** Steps of linear warm-up in front of the schedule. */
  warmup: number;
  /** The separate validation file (--val-data) and the sha256 of its text; null: held out by valFraction. */
  valData: { path: string; sha256: string } | null;
  clip: number;
  seed: number;
  steps: number | null;
  epochs: number | null;
  evalEvery: number;
  saveEvery: number;
  sampleEvery: number;
}

/** `npm start`'s run: about two minutes on 2 cores with the native backend (see README). */
export const DEFAULT_STEPS = 1200;
/**
 * What `train` uses for a flag that is not given, per cell: the run settings of those flags
 * (dropout between layers applies only with 2 or more), and adamLr, the lr for adam only (the
 * other optimizers take the library's default lr).
 */
export type CellDefaults = Pick<RunSettings, 'hidden' | 'layers' | 'dropout' | 'headDropout' | 'batch' | 'seqLength' |
  'schedule' | 'warmup' | 'weightDecay'> & { adamLr: number };

/**
 * Per-cell defaults, chosen by measuring test loss on a names-like split of 31,000 words
 * (bench/make-names-split.js, bench/tune-run.sh; the table and the figures are in the README,
 * "Defaults"). rnn keeps the settings `npm start` has always had (adam at 2e-3 trains these
 * small models faster than the library's 1e-3 default). A cell kind a program registers and
 * that is not in this table gets rnn's.
 */
export const CELL_DEFAULTS: Readonly<Record<string, Readonly<CellDefaults>>> = {
  rnn: { hidden: 128, layers: 1, dropout: 0, headDropout: 0, batch: 32, seqLength: 32, adamLr: 2e-3, schedule: 'constant', warmup: 0, weightDecay: 0 },
  lstm: { hidden: 224, layers: 2, dropout: 0, headDropout: 0, batch: 8, seqLength: 32, adamLr: 3e-3, schedule: 'cosine', warmup: 0, weightDecay: 0 },
  gru: { hidden: 256, layers: 2, dropout: 0, headDropout: 0, batch: 8, seqLength: 32, adamLr: 3e-3, schedule: 'cosine', warmup: 0, weightDecay: 0 },
};

export function cellDefaults(cell: string): Readonly<CellDefaults> {
  return Object.prototype.hasOwnProperty.call(CELL_DEFAULTS, cell) ? CELL_DEFAULTS[cell] : CELL_DEFAULTS[DEFAULT_CELL];
}

/** The flags with every cell-dependent one that was not given set to the cell's default. */
export function withCellDefaults(flags: TrainFlags): TrainFlags & Required<Pick<TrainFlags, 'hidden' | 'layers' | 'dropout' | 'headDropout' | 'batch' | 'seqLength' | 'lrSchedule' | 'warmup' | 'weightDecay'>> {
  const d = cellDefaults(flags.cell);
  return {
    ...flags,
    hidden: flags.hidden ?? d.hidden, layers: flags.layers ?? d.layers,
    dropout: flags.dropout ?? d.dropout, headDropout: flags.headDropout ?? d.headDropout, batch: flags.batch ?? d.batch, seqLength: flags.seqLength ?? d.seqLength,
    lr: flags.lr ?? (flags.optimizer === 'adam' ? d.adamLr : undefined),
    lrSchedule: flags.lrSchedule ?? d.schedule, warmup: flags.warmup ?? d.warmup, weightDecay: flags.weightDecay ?? d.weightDecay,
  };
}
const NAMES_SHOWN = 10;
/** What runs written before a setting existed used: their `run` lacks the key. */
const RUN_DEFAULTS = { weightDecay: 0, schedule: 'constant', warmup: 0, valData: null, dropout: 0, headDropout: 0 } as const;

/** The library's optimizer for the CLI's: adam with weight decay is AdamW (decay decoupled from the gradient). */
function libraryOptimizer(run: RunSettings): OptimizerName {
  return run.optimizer === 'adam' && run.weightDecay > 0 ? 'adamw' : run.optimizer;
}

function scheduleSpec(run: RunSettings, totalSteps: number): ScheduleSpec {
  return run.schedule === 'cosine' ? { kind: 'cosine', totalSteps, warmup: run.warmup } : { kind: 'constant', warmup: run.warmup };
}

/** For people: "adam lr 0.002 (cosine over 1200 steps after 50 warm-up steps), weight decay 0.1 (decoupled)". */
function describeOptimizer(run: RunSettings, totalSteps: number): string {
  const warm = run.warmup > 0 ? `${run.warmup} warm-up steps` : '';
  const schedule = run.schedule === 'cosine' ? ` (cosine to 0 over ${totalSteps} steps${warm ? ` after ${warm}` : ''})` : warm ? ` (after ${warm})` : '';
  const decay = run.weightDecay > 0 ? `, weight decay ${run.weightDecay} (${run.optimizer === 'adam' ? 'decoupled' : 'L2'})` : '';
  return `${run.optimizer} lr ${run.lr}${schedule}${decay}`;
}

/** ", dropout 0.2 between layers, 0.1 on the head's input", or nothing without dropout. */
function describeDropout(config: { dropout: number; headDropout: number }): string {
  const parts = [
    ...(config.dropout > 0 ? [`${config.dropout} between layers`] : []),
    ...(config.headDropout > 0 ? [`${config.headDropout} on the head's input`] : []),
  ];
  return parts.length > 0 ? `, dropout ${parts.join(', ')}` : '';
}

export function resolveBackend(choice: BackendChoice, threads: number | undefined): Backend {
  let backend: Backend;
  try {
    backend = backends.get(choice);
  } catch (err) {
    if (err instanceof BackendUnavailableError) throw new CliError(`${err.message}; use --backend ts`);
    throw err;
  }
  if (threads !== undefined) backend.setNumThreads(threads);
  return backend;
}

export async function loadCheckpointFile(file: string, backend: Backend): Promise<LoadedCheckpoint> {
  try {
    return await loadCheckpoint(file, { backend });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CliError(`checkpoint ${file}: no such file`);
    if (err instanceof CheckpointError) throw new CliError(`checkpoint ${file}: ${err.message} [${err.code}]`);
    throw err;
  }
}

/** The `run` metadata of a checkpoint written by this command, or null. */
export function readRunSettings(loaded: LoadedCheckpoint): RunSettings | null {
  const text = loaded.extra.run;
  if (text === undefined) return null;
  try {
    const run = JSON.parse(text) as RunSettings;
    if (typeof run === 'object' && run !== null && typeof run.data === 'object' && typeof run.batch === 'number') return { ...RUN_DEFAULTS, ...run };
  } catch {
    // fall through: an unreadable `run` is treated like none
  }
  return null;
}

/** The `best` metadata of a best checkpoint (which step of which run it holds), or null. */
export function readBestOf(loaded: LoadedCheckpoint): { step: number; loss: number; checkpoint: string } | null {
  if (loaded.extra.best === undefined) return null;
  try {
    const b = JSON.parse(loaded.extra.best) as { step: number; loss: number; checkpoint: string };
    if (typeof b === 'object' && b !== null && typeof b.step === 'number' && typeof b.checkpoint === 'string') return b;
  } catch {
    // fall through: an unreadable `best` is treated like none
  }
  return null;
}

/** The best validation a resumed checkpoint recorded (its metrics), or null. */
function resumedBest(resumed: LoadedCheckpoint | null): { step: number; loss: number; path: string } | null {
  const m = resumed?.metrics;
  if (!m || typeof m.bestValidationLoss !== 'number' || typeof m.bestStep !== 'number' || typeof m.bestCheckpoint !== 'string') return null;
  return { step: m.bestStep, loss: m.bestValidationLoss, path: m.bestCheckpoint };
}

function defaultSavePath(data: DataSource): string {
  const stem = data.kind === 'builtin' ? 'names' : path.basename(data.path).replace(/\.[^.]*$/, '') || 'model';
  return path.join('checkpoints', `${stem}.safetensors`);
}

/** On --resume, a flag given explicitly must agree with the checkpoint's run. */
function checkAgrees(given: (flag: keyof TrainFlags) => boolean, flags: TrainFlags, run: RunSettings): void {
  const pairs: Array<[keyof TrainFlags, string, unknown, unknown]> = [
    ['cell', '--cell', flags.cell, run.cell ?? DEFAULT_CELL],
    ['hidden', '--hidden', flags.hidden, run.hidden],
    ['layers', '--layers', flags.layers, run.layers],
    ['dropout', '--dropout', flags.dropout, run.dropout],
    ['headDropout', '--head-dropout', flags.headDropout, run.headDropout],
    ['seqLength', '--seq-length', flags.seqLength, run.seqLength],
    ['batch', '--batch', flags.batch, run.batch],
    ['optimizer', '--optimizer', flags.optimizer, run.optimizer],
    ['lr', '--lr', flags.lr, run.lr],
    ['weightDecay', '--weight-decay', flags.weightDecay, run.weightDecay],
    ['lrSchedule', '--lr-schedule', flags.lrSchedule, run.schedule],
    ['warmup', '--warmup', flags.warmup, run.warmup],
    ['clip', '--clip', flags.clip, run.clip],
    ['seed', '--seed', flags.seed, run.seed],
    ['valFraction', '--val-fraction', flags.valFraction, run.valFraction],
  ];
  if (run.valData !== null && given('valFraction')) {
    throw new CliError(`--val-fraction: the checkpoint's run validates on ${run.valData.path} (--val-data), not on a held-out fraction`);
  }
  for (const [key, flag, mine, theirs] of pairs) {
    if (given(key) && mine !== theirs) {
      throw new CliError(`${flag} ${String(mine)} differs from the checkpoint's ${String(theirs)}; a resumed run keeps the checkpoint's settings (drop the flag, or start a new run without --resume)`);
    }
  }
  if (given('data')) {
    const mine = sourceFromFlag(flags.data);
    if (describeSource(mine) !== describeSource(run.data)) {
      throw new CliError(`--data ${describeSource(mine)} is not the checkpoint's data (${describeSource(run.data)})`);
    }
  }
  if (given('valData')) {
    const mine = path.resolve(flags.valData as string);
    if (run.valData === null) throw new CliError(`--val-data: the checkpoint's run validates on a held-out fraction (${run.valFraction}) of its data, not on a file`);
    if (mine !== run.valData.path) throw new CliError(`--val-data ${mine} is not the checkpoint's validation file (${run.valData.path})`);
  }
}

/** The steps a run makes in all. */
function runLength(run: RunSettings, chunks: number): number {
  return run.epochs !== null ? run.epochs * chunks : (run.steps as number);
}

export async function train(rawFlags: TrainFlags, given: (flag: keyof TrainFlags) => boolean): Promise<number> {
  // On --resume the cell is the checkpoint's: a flag not given compares with nothing (see
  // checkAgrees), and the run's settings come from the checkpoint.
  const flags = withCellDefaults(rawFlags);
  const mode: ReportMode = flags.json ? 'json' : process.stdout.isTTY ? 'bar' : 'lines';
  const backend = resolveBackend(flags.backend, flags.threads);

  let resumed: LoadedCheckpoint | null = null;
  let snapshot: TrainerSnapshot | null = null;
  let run: RunSettings;
  let storedRun: RunSettings | null = null;
  if (flags.resume !== undefined) {
    resumed = await loadCheckpointFile(flags.resume, backend);
    const stored = readRunSettings(resumed);
    const bestOf = readBestOf(resumed);
    if (bestOf !== null) {
      throw new CliError(`${flags.resume} is the best checkpoint of a run (its weights at step ${bestOf.step}); it can be sampled or evaluated, ` +
        `but the run resumes from its main checkpoint, ${bestOf.checkpoint}`);
    }
    if (resumed.trainer === null || stored === null || resumed.vocabulary === null) {
      throw new CliError(`${flags.resume} holds no training run to resume (it was not written by \`native-rnn train\`); it can still be sampled or evaluated`);
    }
    checkAgrees(given, flags, stored);
    snapshot = resumed.trainer;
    storedRun = stored;
    const newLength = given('steps') || given('epochs');
    run = {
      ...stored,
      steps: newLength ? flags.steps ?? null : stored.steps,
      epochs: newLength ? flags.epochs ?? null : stored.epochs,
      evalEvery: given('evalEvery') ? flags.evalEvery : stored.evalEvery,
      saveEvery: given('saveEvery') ? flags.saveEvery : stored.saveEvery,
      sampleEvery: given('sampleEvery') ? flags.sampleEvery : stored.sampleEvery,
    };
  } else {
    run = {
      data: sourceFromFlag(flags.data), sha256: '', valFraction: flags.valFraction, splitSeed: SPLIT_SEED,
      cell: flags.cell, hidden: flags.hidden, layers: flags.layers, dropout: flags.dropout, headDropout: flags.headDropout,
      batch: flags.batch, seqLength: flags.seqLength,
      optimizer: flags.optimizer, lr: flags.lr ?? NaN,
      weightDecay: flags.weightDecay, schedule: flags.lrSchedule, warmup: flags.warmup,
      valData: flags.valData === undefined ? null : { path: path.resolve(flags.valData), sha256: '' },
      clip: flags.clip, seed: flags.seed,
      steps: flags.steps ?? (flags.epochs === undefined ? DEFAULT_STEPS : null), epochs: flags.epochs ?? null,
      evalEvery: flags.evalEvery, saveEvery: flags.saveEvery, sampleEvery: flags.sampleEvery,
    };
  }

  const valSource: DataSource | null = run.valData === null ? null : { kind: 'file', path: run.valData.path };
  const corpus = await loadCorpus(run.data, run.valFraction, resumed?.vocabulary ?? undefined, valSource);
  if (resumed !== null && corpus.sha256 !== run.sha256) {
    throw new CliError(`${corpus.label} is not the text ${flags.resume} was trained on (its sha256 differs); an exact resume needs the same data`);
  }
  if (resumed !== null && run.valData !== null && corpus.validationSha256 !== run.valData.sha256) {
    throw new CliError(`${run.valData.path} is not the validation text ${flags.resume} was validated on (its sha256 differs); an exact resume needs the same data`);
  }
  run.sha256 = corpus.sha256;
  if (run.valData !== null) run.valData = { path: run.valData.path, sha256: corpus.validationSha256 as string };
  const vocabulary: Vocabulary = corpus.vocabulary;

  let chunks: number;
  try {
    chunks = new TokenStreams('train', corpus.train, run.batch, run.seqLength).chunks;
  } catch (err) {
    if (err instanceof RangeError) throw new CliError(`${corpus.label}: the training part is ${corpus.train.length} characters, too few for --batch ${run.batch} streams of --seq-length ${run.seqLength} (need at least ${run.batch * (run.seqLength + 1)}); lower them`);
    throw err;
  }
  const totalSteps = runLength(run, chunks);
  if (storedRun !== null && run.schedule === 'cosine' && totalSteps !== runLength(storedRun, chunks)) {
    throw new CliError(`${given('steps') ? `--steps ${run.steps}` : `--epochs ${run.epochs}`} would change the length of a cosine-schedule run ` +
      `(its learning rate anneals over ${runLength(storedRun, chunks)} steps); resume without --steps/--epochs, or start a new run`);
  }
  if (run.warmup > 0 && run.warmup >= totalSteps) {
    throw new CliError(`--warmup ${run.warmup} is not shorter than the run (${totalSteps} steps); lower it`);
  }

  const model = resumed?.model ?? new RNNModel({
    cell: run.cell ?? DEFAULT_CELL, vocabSize: vocabulary.size, hiddenSize: run.hidden, numLayers: run.layers,
    dropout: run.dropout, headDropout: run.headDropout, dtype: 'float32', backend, seed: run.seed,
  });
  const trainer = new Trainer(model, {
    optimizer: libraryOptimizer(run), ...(Number.isNaN(run.lr) ? {} : { lr: run.lr }), clipNorm: run.clip,
    weightDecay: run.weightDecay, schedule: scheduleSpec(run, totalSteps),
  });
  run.lr = trainer.optimizer.lr;
  if (snapshot !== null) trainer.restore(snapshot);
  const startStep = trainer.step;

  const validation = corpus.validation.length >= 2 ? corpus.validation : null;
  const baseline = validation ? bigramBaseline(corpus.train, validation, vocabulary.size) : null;
  const savePath = flags.save ?? flags.resume ?? defaultSavePath(run.data);
  const bestPath = companionPaths(savePath).best;
  fs.mkdirSync(path.dirname(path.resolve(savePath)), { recursive: true });
  const rows: MetricsRow[] = flags.resume !== undefined ? readMetrics(companionPaths(flags.resume).metrics, startStep) : [];
  const sampler = new Random(run.seed + 1);
  if (resumed?.rng) sampler.setState(resumed.rng);
  const title = `native-rnn on ${run.data.kind === 'builtin' ? 'built-in names' : path.basename(run.data.path)}: ` +
    `hidden ${model.config.hiddenSize}, ${model.config.numLayers} layer${model.config.numLayers > 1 ? 's' : ''}`;

  const logEvery = flags.logEvery ?? Math.max(1, Math.min(100, Math.round(totalSteps / 40)));
  const reporter = new Reporter(mode, logEvery);
  const params = model.size;
  reporter.note(
    `${resumed ? `resuming ${flags.resume} at step ${startStep}` : 'training'} on ${corpus.label}: ` +
    `${corpus.trainLines.toLocaleString('en-US')} lines (${corpus.train.length.toLocaleString('en-US')} characters) to train, ` +
    `${corpus.validationLines.toLocaleString('en-US')}${run.valData ? ` of ${run.valData.path}` : ''} to validate; ${vocabulary.size} symbols\n` +
    `model: hidden ${model.config.hiddenSize}, ${model.config.numLayers} layer(s), ${params.toLocaleString('en-US')} parameters` +
    `${describeDropout(model.config)}; ` +
    `${describeOptimizer(run, totalSteps)}, clip ${run.clip}; batch ${run.batch} x seq ${run.seqLength}; ${totalSteps} steps; backend ${backend.name}` +
    (baseline ? `\nbigram baseline on the validation text: ${baseline.loss.toFixed(4)} (${baseline.bpc.toFixed(3)} bits/char)` : ''),
    { event: 'start', step: startStep, totalSteps, data: corpus.label, trainCharacters: corpus.train.length,
      validationCharacters: corpus.validation.length, validationData: run.valData?.path ?? null, vocabularySize: vocabulary.size,
      parameters: params, backend: backend.name, bigramLoss: baseline?.loss ?? null, checkpoint: savePath, bestCheckpoint: bestPath,
      cell: model.cell.name, hidden: model.config.hiddenSize, layers: model.config.numLayers, batch: run.batch, seqLength: run.seqLength,
      optimizer: libraryOptimizer(run), lr: run.lr, weightDecay: run.weightDecay, schedule: run.schedule, warmup: run.warmup,
      dropout: model.config.dropout, headDropout: model.config.headDropout },
  );

  // Set from the onEvaluate callback; the cast keeps TypeScript from narrowing it to null.
  let lastValidation = null as EvalResult | null;
  let lastSavedStep: number | null = null;
  // The lowest validation loss of the run and where its weights were written; a resumed run
  // continues from the checkpoint's, so it overwrites the best file only with a better one.
  let best = resumedBest(resumed);
  const summary = (trainLoss: number | null) => ({
    step: trainer.step, epoch: trainer.epoch, trainLoss, validationLoss: lastValidation?.loss ?? null,
    validationBpc: lastValidation?.bpc ?? null, bigramLoss: baseline?.loss ?? null,
    bestValidationLoss: best?.loss ?? null, bestStep: best?.step ?? null, bestCheckpoint: best?.path ?? null,
  });
  // A snapshot taken inside onStep sees the position already advanced past the last chunk of an
  // epoch (the trainer rolls it over right after the callback); roll it over here the same way.
  const snapshotNow = (): TrainerSnapshot => {
    const s = trainer.snapshot();
    return s.position >= chunks ? { ...s, position: 0, epoch: s.epoch + 1 } : s;
  };
  const save = async (trainLoss: number | null) => {
    const s = snapshotNow();
    await saveCheckpoint(savePath, {
      model, vocabulary, trainer: s, rng: sampler.state(), metrics: summary(trainLoss), extra: { run: JSON.stringify(run) },
    });
    const record = await writeRecord(savePath, rows, baseline?.loss ?? null, title);
    lastSavedStep = s.step;
    return record;
  };
  const bestFields = () => ({ bestCheckpoint: best?.path ?? null, bestStep: best?.step ?? null, bestValidationLoss: best?.loss ?? null });
  // A save due at a step that also validates waits for that validation (see onEvaluate).
  let savePending = false;
  const periodicSave = async (step: number) => {
    await save(null);
    reporter.note(`step ${step}: checkpoint saved to ${savePath}`, { event: 'checkpoint', step, path: savePath });
  };

  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts += 1;
    if (interrupts > 1) {
      reporter.end();
      process.stderr.write('native-rnn: second Ctrl-C, exiting without saving\n');
      process.exit(130);
    }
    controller.abort();
    reporter.note('Ctrl-C: stopping after this step to save a checkpoint (Ctrl-C again to quit without saving)',
      { event: 'interrupt', step: trainer.step });
  };
  process.on('SIGINT', onSigint);

  const started = performance.now();
  let tokensThisRun = 0;
  reporter.begin(startStep, totalSteps);
  try {
    const result = await trainer.fit(corpus.train, {
      steps: Math.max(totalSteps, 1), batchSize: run.batch, seqLength: run.seqLength,
      validation: validation ?? undefined, evalEvery: run.evalEvery, signal: controller.signal,
      onStep: async (s) => {
        rows.push({ kind: 'train', step: s.step, epoch: s.epoch, loss: s.loss, gradNorm: s.gradNorm, lr: s.lr,
          tokensPerSecond: s.tokensPerSecond, elapsedMs: s.elapsedMs });
        tokensThisRun += s.tokens;
        const seconds = (performance.now() - started) / 1000;
        const done = s.step - startStep;
        reporter.step({
          step: s.step, totalSteps, epoch: s.epoch, loss: s.loss, gradNorm: s.gradNorm, lr: s.lr,
          tokensPerSecond: tokensThisRun / seconds, validationLoss: lastValidation?.loss ?? null,
          etaSeconds: (seconds / done) * (totalSteps - s.step),
        });
        if (run.sampleEvery > 0 && s.step % run.sampleEvery === 0) {
          const names = sampleLines(model, vocabulary, { count: 5, temperature: 0.8, prime: '', rng: sampler, maxLength: 100 });
          reporter.note(`step ${s.step} samples: ${names.join(', ')}`, { event: 'sample', step: s.step, samples: names });
        }
        if (run.saveEvery > 0 && s.step % run.saveEvery === 0 && s.step < totalSteps) {
          // The trainer validates right after this callback when the step is a multiple of
          // --eval-every; saving after that validation puts it (and the best loss it may set)
          // in the checkpoint, which a resumed run does not repeat.
          if (validation !== null && s.step % run.evalEvery === 0) savePending = true;
          else await periodicSave(s.step);
        }
      },
      onEvaluate: async (e) => {
        lastValidation = e;
        // A resumed run that is already complete validates the step its checkpoint already recorded.
        let previous = rows.length - 1;
        while (previous >= 0 && rows[previous].kind !== 'validation') previous--;
        let bestBefore: string | undefined;
        if (previous >= 0 && rows[previous].step === e.step) bestBefore = (rows.splice(previous, 1)[0] as ValidationRow).bestCheckpoint;
        const row: ValidationRow = { kind: 'validation', step: e.step, epoch: e.epoch, loss: e.loss, bpc: e.bpc };
        if (bestBefore !== undefined) row.bestCheckpoint = bestBefore;
        // Strictly lower only: an equal loss keeps the earlier (shorter-trained) weights.
        const improved = Number.isFinite(e.loss) && (best === null || e.loss < best.loss);
        if (improved) {
          best = { step: e.step, loss: e.loss, path: bestPath };
          await saveCheckpoint(bestPath, {
            model, vocabulary, metrics: summary(null),
            extra: { run: JSON.stringify(run), best: JSON.stringify({ step: e.step, loss: e.loss, checkpoint: savePath }) },
          });
          row.bestCheckpoint = bestPath;
        }
        rows.push(row);
        if (mode !== 'bar') {
          reporter.note(`step ${e.step}: validation loss ${e.loss.toFixed(4)} (${e.bpc.toFixed(3)} bits/char)` +
            (baseline ? `, bigram ${baseline.loss.toFixed(4)}` : '') + (improved ? `; best so far, saved to ${bestPath}` : ''),
            { event: 'eval', step: e.step, epoch: e.epoch, loss: e.loss, bpc: e.bpc, bigramLoss: baseline?.loss ?? null,
              best: improved, ...bestFields() });
        }
        if (savePending) {
          savePending = false;
          await periodicSave(e.step);
        }
      },
    });
    reporter.end();
    const seconds = (performance.now() - started) / 1000;

    if (result.aborted) {
      const record = await save(null);
      reporter.note(`interrupted at step ${trainer.step}: checkpoint saved to ${savePath}\n` +
        `continue with: native-rnn train --resume ${savePath}`,
        { event: 'done', aborted: true, step: trainer.step, checkpoint: savePath, svg: record.svg, metrics: record.metrics,
          loss: result.loss, validationLoss: lastValidation?.loss ?? null, bigramLoss: baseline?.loss ?? null, ...bestFields() });
      return 0;
    }

    const trainEval = await trainer.evaluate(corpus.train, { batchSize: run.batch, seqLength: run.seqLength });
    const record = await save(trainEval.loss);
    const names = sampleLines(model, vocabulary, { count: NAMES_SHOWN, temperature: 0.8, prime: '', rng: new Random(run.seed), maxLength: 100 });
    const row = (label: string, r: { loss: number; bpc: number } | null) =>
      `  ${label.padEnd(22)}${r ? `${r.loss.toFixed(4)}   ${r.bpc.toFixed(3)}` : '-'}`;
    reporter.note([
      `done: step ${trainer.step} in ${duration(seconds)} (${Math.round(tokensThisRun / Math.max(seconds, 1e-9)).toLocaleString('en-US')} tok/s)`,
      `  ${''.padEnd(22)}loss     bits/char`,
      row('training', trainEval),
      row('validation', lastValidation),
      row('bigram (validation)', baseline),
      `checkpoint: ${savePath}`,
      ...(best ? [`best:       ${best.path} (step ${best.step}, validation loss ${best.loss.toFixed(4)})`] : []),
      `loss curve: ${record.svg}`,
      `metrics:    ${record.metrics}`,
      '',
      run.data.kind === 'builtin' ? `${names.length} names the model invented:` : `${names.length} samples from the model:`,
      ...names.map((n) => `  ${n}`),
    ].join('\n'), {
      event: 'done', aborted: false, step: trainer.step, seconds, loss: result.loss, trainLoss: trainEval.loss,
      validationLoss: lastValidation?.loss ?? null, validationBpc: lastValidation?.bpc ?? null,
      bigramLoss: baseline?.loss ?? null, bigramBpc: baseline?.bpc ?? null,
      checkpoint: savePath, svg: record.svg, metrics: record.metrics, samples: names, ...bestFields(),
    });
    return 0;
  } catch (err) {
    reporter.end();
    if (err instanceof TrainingDivergedError) {
      // The checkpoint on disk (if any) predates the failure and stays as it is.
      const record = await writeRecord(savePath, rows, baseline?.loss ?? null, title);
      const kept = lastSavedStep !== null ? `the checkpoint ${savePath} from step ${lastSavedStep} is intact`
        : resumed !== null ? `the checkpoint ${flags.resume} from step ${startStep} is intact` : 'no checkpoint was written in this run';
      reporter.event({ event: 'error', error: 'diverged', step: err.step, message: err.message, checkpoint: lastSavedStep !== null ? savePath : null, metrics: record.metrics });
      throw new CliError(`${err.message}; ${kept}`);
    }
    throw err;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}
