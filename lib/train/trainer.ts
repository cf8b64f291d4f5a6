// The BPTT trainer. Each step is two recorded programs run by the backend without blocking
// the event loop (a worker thread on native, a yield first on ts):
//   1. forward, loss, backward (full BPTT through the chunk), Σ grad² — then JavaScript checks
//      the loss and the gradient norm are finite, so a diverging run stops with the parameters
//      of the last good step;
//   2. clipping and the optimizer update.
// A token stream trains char-rnn style: m parallel streams cut into chunks of seqLength, the
// hidden state carried from chunk to chunk with the gradient cut at the boundary.
import { invalidRange, invalidType } from '../backend/errors';
import type { FloatArray, Op } from '../backend/types';
import { allocate } from '../tensor';
import type { ModelInput, ModelTarget, RNNModel, Workspace } from '../nn/model';
import { checkOptions, keysOf, positiveInt } from '../nn/predicates';
import { parseStateName, stateName } from '../nn/workspace';
import { createOptimizer, Optimizer, OPTIMIZER_ALIASES, OPTIMIZER_OPTION_KEYS, type OptimizerName, type OptimizerOptions } from './optimizer';
import { createSchedule, type Schedule, type ScheduleSpec } from './schedule';
import { TokenStreams } from './streams';

export { TokenStreams } from './streams';

export interface Batch {
  input: ModelInput;
  target: ModelTarget;
}

/** A token stream (Int32Array, next-token targets) or a list of independent batches. */
export type TrainingData = Int32Array | readonly Batch[];

export interface TrainerOptions extends OptimizerOptions {
  optimizer?: OptimizerName | Optimizer;
  schedule?: ScheduleSpec | Schedule;
  /** Clip the gradient's global L2 norm to this value. */
  clipNorm?: number;
  /** Clip every gradient element to [−clipValue, clipValue]. */
  clipValue?: number;
}

export interface StepInfo {
  step: number;
  epoch: number;
  loss: number;
  gradNorm: number;
  lr: number;
  tokens: number;
  tokensPerSecond: number;
  elapsedMs: number;
}

export interface EvalResult {
  loss: number;
  /** loss / ln 2: bits per token (per character for character models) */
  bpc: number;
  tokens: number;
}

export interface FitOptions {
  /** Stop after this many steps in total (counted across fit calls of this trainer). */
  steps?: number;
  /** Or after this many passes over the data (from this call). */
  epochs?: number;
  /** Parallel streams m (token streams). */
  batchSize?: number;
  /** Steps per chunk T (token streams). */
  seqLength?: number;
  /** Carry the hidden state between chunks of a stream (default true). */
  stateful?: boolean;
  validation?: TrainingData;
  /** Evaluate on the validation data every N steps (and at the end). */
  evalEvery?: number;
  signal?: AbortSignal;
  onStep?: (info: StepInfo) => void | Promise<void>;
  onEpoch?: (info: { epoch: number; step: number; loss: number }) => void | Promise<void>;
  onEvaluate?: (info: EvalResult & { step: number; epoch: number }) => void | Promise<void>;
}

export interface EvaluateOptions {
  /** Parallel streams m (token streams; default 32, fewer when the data is short). */
  batchSize?: number;
  /** Steps per chunk T (token streams; default 32). */
  seqLength?: number;
}

const TRAINER_OWN_KEYS = keysOf<Omit<TrainerOptions, keyof OptimizerOptions>>({ optimizer: true, schedule: true, clipNorm: true, clipValue: true });
export const TRAINER_OPTION_KEYS: readonly string[] = [...TRAINER_OWN_KEYS, ...OPTIMIZER_OPTION_KEYS];
export const FIT_OPTION_KEYS = keysOf<FitOptions>({
  steps: true, epochs: true, batchSize: true, seqLength: true, stateful: true, validation: true, evalEvery: true, signal: true,
  onStep: true, onEpoch: true, onEvaluate: true,
});
export const EVALUATE_OPTION_KEYS = keysOf<EvaluateOptions>({ batchSize: true, seqLength: true });
/** Names users bring from other libraries (snake_case folds by itself: batch_size → batchSize). */
const FIT_ALIASES: Readonly<Record<string, string>> = { maxSteps: 'steps', iterations: 'steps', bptt: 'seqLength', seqLen: 'seqLength', callbacks: 'onStep' };
const TRAINER_ALIASES: Readonly<Record<string, string>> = { ...OPTIMIZER_ALIASES, maxGradNorm: 'clipNorm', max_grad_norm: 'clipNorm', gradClip: 'clipNorm' };

export interface FitResult {
  steps: number;
  epoch: number;
  loss: number;
  validation: EvalResult | null;
  aborted: boolean;
  elapsedMs: number;
}

/** Training met NaN or Infinity; the parameters are those before the failing step. */
export class TrainingDivergedError extends Error {
  readonly step: number;
  constructor(step: number, what: string) {
    super(`training diverged at step ${step}: ${what} (lower the learning rate or clip the gradients)`);
    this.name = 'TrainingDivergedError';
    this.step = step;
  }
}

const busyModels = new WeakSet<RNNModel>();

/** Counts of steps have no kernel's 32-bit limit. */
const MAX_COUNT = Number.MAX_SAFE_INTEGER;

function optionalPositive(fn: string, name: string, v: unknown): number | null {
  if (v === undefined) return null;
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw invalidRange(fn, name, 'a positive number', v);
  return v;
}

export class Trainer {
  readonly model: RNNModel;
  readonly optimizer: Optimizer;
  readonly schedule: Schedule;
  readonly clipNorm: number | null;
  readonly clipValue: number | null;
  /** Optimizer steps taken so far. */
  step = 0;
  /** Completed passes over the training data. */
  epoch = 0;
  /** The next chunk of the current epoch (token streams) or batch index. */
  position = 0;
  private backup: FloatArray | null = null;
  private readonly paramCheck = new Float64Array(1);

  constructor(model: RNNModel, options: TrainerOptions = {}) {
    const fn = 'new Trainer';
    checkOptions(fn, options, TRAINER_OPTION_KEYS, { aliases: TRAINER_ALIASES });
    this.model = model;
    const optimizerOptions: OptimizerOptions = {};
    for (const key of OPTIMIZER_OPTION_KEYS) {
      if (options[key] !== undefined) (optimizerOptions as Record<string, unknown>)[key] = options[key];
    }
    if (options.optimizer instanceof Optimizer && Object.keys(optimizerOptions).length > 0) {
      // They would be ignored: the instance has its settings already.
      throw new TypeError(`${fn}: ${Object.keys(optimizerOptions).join(', ')} cannot be given beside an Optimizer instance (set them on the Optimizer)`);
    }
    this.optimizer = createOptimizer(options.optimizer, optimizerOptions);
    this.optimizer.attach(model.size, model.config.dtype);
    this.schedule = createSchedule(options.schedule);
    this.clipNorm = optionalPositive(fn, 'clipNorm', options.clipNorm);
    this.clipValue = optionalPositive(fn, 'clipValue', options.clipValue);
  }

  /** The learning rate of the next step. */
  get lr(): number {
    return this.optimizer.lr * this.schedule(this.step);
  }

  /**
   * One training step on one batch: returns the mean loss and the gradient norm (before
   * clipping). resetState starts the chunk from zero state instead of the carried one.
   */
  async trainStep(input: ModelInput, target: ModelTarget, resetState = true): Promise<{ loss: number; gradNorm: number }> {
    const { T, m, count } = this.model.checkBatch('Trainer.trainStep', input, target);
    return this.runStep(this.model.workspace(T, m), input, target, count, resetState);
  }

  private async runStep(ws: Workspace, input: ModelInput, target: ModelTarget, count: number, resetState: boolean) {
    const model = this.model;
    const pass: Op[] = [];
    const stepNo = this.step + 1;
    // Dropout masks are those of this step number (the model's seed and stepNo), so a resumed
    // run draws what the uninterrupted one drew.
    model.recordForward(pass, ws, input, target, count, resetState, stepNo);
    model.recordBackward(pass, ws, input);
    await model.backend.run(pass);
    const loss = count > 0 ? ws.scalars[0] / count : 0;
    const gradNorm = Math.sqrt(ws.scalars[1]);
    if (!Number.isFinite(loss)) throw new TrainingDivergedError(stepNo, `the loss is ${loss}`);
    if (!Number.isFinite(gradNorm)) throw new TrainingDivergedError(stepNo, `the gradient norm is ${gradNorm}`);
    // The update keeps a copy of the parameters: finite gradients times a huge learning rate
    // can still overflow them, and then the step fails with the parameters put back.
    const update: Op[] = [];
    const n = model.grads.length;
    if (this.backup === null || this.backup.length !== n) this.backup = allocate(model.config.dtype, n);
    update.push(['copy', n, model.params, 0, this.backup, 0]);
    if (this.clipNorm !== null && gradNorm > this.clipNorm) update.push(['scale', n, this.clipNorm / gradNorm, model.grads, 0]);
    if (this.clipValue !== null) update.push(['clipByValue', n, this.clipValue, model.grads, 0]);
    this.optimizer.record(update, model.params, model.grads, this.lr);
    update.push(['fill', 1, 0, this.paramCheck, 0], ['sumSquares', n, model.params, 0, this.paramCheck, 0]);
    await model.backend.run(update);
    if (!Number.isFinite(this.paramCheck[0])) {
      model.params.set(this.backup);
      throw new TrainingDivergedError(stepNo, 'the update made the parameters overflow (they are restored; the optimizer state is not)');
    }
    this.step = stepNo;
    return { loss, gradNorm };
  }

  /** Mean loss over data (a token stream, or batches), without changing the model. */
  async evaluate(data: TrainingData, options: EvaluateOptions = {}): Promise<EvalResult> {
    const fn = 'Trainer.evaluate';
    checkOptions(fn, options, EVALUATE_OPTION_KEYS, { aliases: FIT_ALIASES });
    const model = this.model;
    let lossSum = 0, tokens = 0;
    if (data instanceof Int32Array) {
      const m = positiveInt(fn, 'batchSize', options.batchSize ?? 32);
      const T = positiveInt(fn, 'seqLength', options.seqLength ?? 32);
      // Fewer streams when the data is short, so small validation sets still evaluate.
      const mm = Math.max(1, Math.min(m, Math.floor((data.length - 1) / (T + 1)) || 1));
      const TT = Math.min(T, Math.max(1, Math.floor(data.length / mm) - 1));
      const streams = new TokenStreams(fn, data, mm, TT);
      const ws = model.workspace(TT, mm);
      const saved = ws.state.map((layer) => Object.entries(layer).map(([name, s]) => [name, s.slice()] as const));
      try {
        for (let k = 0; k < streams.chunks; k++) {
          streams.load(k);
          const ops: Op[] = [];
          model.recordForward(ops, ws, { ids: streams.input, steps: TT, batch: mm }, streams.target, 1, k === 0);
          model.recordCarry(ops, ws);
          await model.backend.run(ops);
          lossSum += ws.scalars[0];
          tokens += TT * mm;
        }
      } finally {
        saved.forEach((layer, l) => { for (const [name, s] of layer) ws.state[l][name].set(s); });
      }
    } else {
      if (!Array.isArray(data)) throw invalidType(fn, 'data', 'an Int32Array token stream or an array of batches', data);
      for (const b of data) {
        const { T, m, count } = model.checkBatch(fn, b.input, b.target);
        const ws = model.workspace(T, m);
        const ops: Op[] = [];
        model.recordForward(ops, ws, b.input, b.target, 1, true);
        await model.backend.run(ops);
        lossSum += ws.scalars[0];
        tokens += count;
      }
    }
    const loss = tokens > 0 ? lossSum / tokens : NaN;
    return { loss, bpc: loss / Math.LN2, tokens };
  }

  /**
   * Trains until `steps` (total) or `epochs` (this call) is reached, or the signal aborts
   * (between steps; the result then says aborted). Refuses to run twice at once on a model.
   */
  async fit(data: TrainingData, options: FitOptions = {}): Promise<FitResult> {
    const fn = 'Trainer.fit';
    checkOptions(fn, options, FIT_OPTION_KEYS, { aliases: FIT_ALIASES });
    const model = this.model;
    if (busyModels.has(model)) throw new Error(`${fn}: this model is already training; wait for the running fit to finish`);
    if (options.steps === undefined && options.epochs === undefined) throw new TypeError(`${fn}: give steps or epochs`);
    const maxSteps = options.steps === undefined ? Infinity : positiveInt(fn, 'steps', options.steps, MAX_COUNT);
    const epochs = options.epochs === undefined ? Infinity : positiveInt(fn, 'epochs', options.epochs, MAX_COUNT);
    const evalEvery = options.evalEvery === undefined ? null : positiveInt(fn, 'evalEvery', options.evalEvery, MAX_COUNT);
    const stateful = options.stateful ?? true;
    const signal = options.signal;
    if (signal !== undefined && (typeof signal !== 'object' || typeof signal.aborted !== 'boolean')) {
      throw invalidType(fn, 'signal', 'an AbortSignal', signal);
    }
    let streams: TokenStreams | null = null;
    let batches: readonly Batch[] = [];
    if (data instanceof Int32Array) {
      if (!model.isTokenModel) throw new TypeError(`${fn}: a token stream needs a token model (vocabSize)`);
      const m = positiveInt(fn, 'batchSize', options.batchSize ?? 32);
      const T = positiveInt(fn, 'seqLength', options.seqLength ?? 32);
      streams = new TokenStreams(fn, data, m, T);
      for (let k = 0; k < data.length; k++) {
        if (data[k] < 0 || data[k] >= model.config.inputSize) throw invalidRange(fn, `data[${k}]`, `a token id in [0, ${model.config.inputSize})`, data[k]);
      }
    } else if (Array.isArray(data) && data.length > 0) {
      batches = data;
      for (let i = 0; i < batches.length; i++) model.checkBatch(`${fn} (batch ${i})`, batches[i].input, batches[i].target);
    } else {
      throw invalidType(fn, 'data', 'an Int32Array token stream or a non-empty array of batches', data);
    }
    const perEpoch = streams ? streams.chunks : batches.length;
    if (this.position >= perEpoch) this.position = 0;

    busyModels.add(model);
    const started = Date.now();
    const startEpoch = this.epoch;
    let lastLoss = NaN;
    let validation: EvalResult | null = null;
    let aborted = false;
    const runEval = async () => {
      if (!options.validation) return;
      validation = await this.evaluate(options.validation, { batchSize: options.batchSize, seqLength: options.seqLength });
      await options.onEvaluate?.({ ...validation, step: this.step, epoch: this.epoch });
    };
    try {
      while (this.step < maxSteps && this.epoch - startEpoch < epochs) {
        if (signal?.aborted) {
          aborted = true;
          break;
        }
        const t0 = performance.now();
        let result: { loss: number; gradNorm: number };
        let tokens: number;
        const lr = this.lr;
        if (streams) {
          streams.load(this.position);
          const ws = model.workspace(streams.steps, streams.batch);
          const reset = this.position === 0 || !stateful;
          result = await this.runStep(ws, { ids: streams.input, steps: streams.steps, batch: streams.batch }, streams.target,
            streams.steps * streams.batch, reset);
          tokens = streams.steps * streams.batch;
        } else {
          const b = batches[this.position];
          const { T, m, count } = model.checkBatch(fn, b.input, b.target);
          result = await this.runStep(model.workspace(T, m), b.input, b.target, count, true);
          tokens = T * m;
        }
        lastLoss = result.loss;
        const ms = performance.now() - t0;
        this.position += 1;
        await options.onStep?.({
          step: this.step, epoch: this.epoch, loss: result.loss, gradNorm: result.gradNorm, lr, tokens,
          tokensPerSecond: ms > 0 ? (tokens * 1000) / ms : Infinity, elapsedMs: Date.now() - started,
        });
        if (this.position >= perEpoch) {
          this.position = 0;
          this.epoch += 1;
          await options.onEpoch?.({ epoch: this.epoch, step: this.step, loss: lastLoss });
        }
        if (evalEvery !== null && this.step % evalEvery === 0) await runEval();
      }
      if (options.validation && (evalEvery === null || this.step % evalEvery !== 0 || aborted)) await runEval();
    } finally {
      busyModels.delete(model);
    }
    return { steps: this.step, epoch: this.epoch, loss: lastLoss, validation, aborted, elapsedMs: Date.now() - started };
  }

  /**
   * Everything needed to resume exactly: counters, optimizer state and carried hidden states,
   * as of now. The arrays are copies, so training on afterwards does not change the snapshot.
   */
  snapshot(): TrainerSnapshot {
    const { cell } = this.model;
    const states: Record<string, FloatArray> = {};
    for (const [, ws] of this.model.workspacesByShape()) {
      ws.state.forEach((layer, l) => {
        for (const s of cell.states) states[stateName(cell, ws.steps, ws.batch, l, s)] = layer[s].slice();
      });
    }
    const optimizerState: Record<string, FloatArray> = {};
    for (const [name, arr] of Object.entries(this.optimizer.state)) optimizerState[name] = arr.slice();
    return {
      step: this.step, epoch: this.epoch, position: this.position,
      optimizer: this.optimizer.toJSON(), optimizerState, hiddenStates: states,
    };
  }

  /** Restores a snapshot (arrays are copied in). */
  restore(s: TrainerSnapshot): void {
    this.step = s.step;
    this.epoch = s.epoch;
    this.position = s.position;
    this.optimizer.step = Number(s.optimizer.step ?? s.step);
    this.optimizer.attach(this.model.size, this.model.config.dtype);
    for (const [name, arr] of Object.entries(s.optimizerState)) {
      const dst = this.optimizer.state[name];
      if (!dst || dst.length !== arr.length) throw new RangeError(`restore: optimizer state '${name}' does not fit this model`);
      dst.set(arr);
    }
    for (const [name, arr] of Object.entries(s.hiddenStates)) {
      const at = parseStateName(this.model.cell, name);
      if (!at) throw new RangeError(`restore: unknown hidden state '${name}'`);
      const dst = at.layer < this.model.config.numLayers ? this.model.workspace(at.T, at.m).state[at.layer][at.state] : undefined;
      if (!dst || dst.length !== arr.length) throw new RangeError(`restore: hidden state '${name}' does not fit this model`);
      dst.set(arr);
    }
  }
}

/** Where a run is: steps done, epochs done, and the position in the token stream. */
export interface TrainerCounters {
  step: number;
  epoch: number;
  position: number;
}

/** TrainerCounters and what resuming needs besides the weights: the optimizer and the carried states. */
export interface TrainerSnapshot extends TrainerCounters {
  optimizer: Record<string, unknown>;
  optimizerState: Record<string, FloatArray>;
  hiddenStates: Record<string, FloatArray>;
}
