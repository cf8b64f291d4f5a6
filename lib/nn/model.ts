// A stacked RNN with a linear head: L layers of the seed's cell, c_t^l = f(Wc^l c_{t−1}^l +
// Wx^l c_t^{l−1} + b^l), then logits y_t = Wy c_t^L + by. Inputs are token ids (character
// models: Wx^0·onehot is a column gather) or dense Sequences.
//
// All parameters live in ONE flat array (and all gradients in another), laid out in PyTorch's
// state_dict order, so zeroing the gradients, the gradient norm, clipping and the optimizer
// update are each one kernel call. A training step is recorded as a list of kernel calls
// (a program) and run by the backend in one go: off the main thread on the native backend.
import * as backends from '../backend';
import { invalidRange, invalidType } from '../backend/errors';
import type { Activation, Backend, BackendName, DType, FloatArray, Op } from '../backend/types';
import { Random } from '../random';
import { allocate, bytesPerElement, checkAllocation, type Sequence, type TokenSequence } from '../tensor';
import { checkActivation, checkDType } from './cell';
import { checkInitKind, initRnnLayer, uniformInit, type InitKind } from './init';

export type LossKind = 'cross-entropy' | 'mse';

export interface RNNModelOptions {
  /** Token inputs: the vocabulary size (n_x of the first layer). Give this or inputSize. */
  vocabSize?: number;
  /** Dense inputs: the width of each input column. */
  inputSize?: number;
  hiddenSize: number;
  /** Stacked layers, 1 to MAX_LAYERS (default 1). */
  numLayers?: number;
  /** Width of the head's output; defaults to vocabSize. */
  outputSize?: number;
  activation?: Activation;
  dtype?: DType;
  backend?: BackendName | 'auto' | Backend;
  seed?: number;
  init?: InitKind;
  /** 'cross-entropy' (targets are class ids) or 'mse' (targets are a dense Sequence). */
  loss?: LossKind;
}

/** The resolved configuration, as stored in checkpoints. */
export interface RNNModelConfig {
  vocabSize: number | null;
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  outputSize: number;
  activation: Activation;
  dtype: DType;
  loss: LossKind;
  init: InitKind;
  seed: number;
}

/** One named parameter: a rows×cols block of the flat parameter array. */
export interface ParamEntry {
  name: string;
  rows: number;
  cols: number;
  offset: number;
  size: number;
}

export type ModelInput = TokenSequence | Sequence;
export type ModelTarget = Int32Array | Sequence;

/** Buffers for one (T, m) shape, made once and reused by every step of that shape. */
export interface Workspace {
  readonly steps: number;
  readonly batch: number;
  /** H^l = [c0 | C_1 … C_T], n_c × (T+1)·m, per layer */
  readonly H: FloatArray[];
  /** ∂J/∂C^l then ∂J/∂U^l in place, n_c × T·m, per layer */
  readonly dC: FloatArray[];
  /** the input of layers l ≥ 1: C^{l−1} copied out of H^{l−1}, n_c × T·m */
  readonly Xin: FloatArray[];
  /** the hidden state carried between chunks, n_c × m, per layer */
  readonly state: FloatArray[];
  /** dc0 per layer (discarded: truncated BPTT cuts the gradient at the chunk boundary) */
  readonly dc0: FloatArray[];
  /** logits, then ∂J/∂logits in place, outputSize × T·m */
  readonly logits: FloatArray;
  /** [0] loss sum, [1] Σ grad² */
  readonly scalars: Float64Array;
}

/**
 * Most stacked layers a model may have. Every layer costs JavaScript objects (parameter
 * entries, workspace arrays, ops of every step) that the byte guard does not count, so a huge
 * count must be refused up front: 10^8 layers of 2 units fit the byte limit but exhausted
 * the JavaScript heap (a fatal crash, not an error) while the layout was still being built.
 */
export const MAX_LAYERS = 1024;

function positiveInt(fn: string, name: string, v: unknown): number {
  if (typeof v !== 'number') throw invalidType(fn, name, 'a positive integer', v);
  if (!Number.isInteger(v) || v < 1 || v > 2 ** 31 - 1) throw invalidRange(fn, name, 'a positive integer', v);
  return v;
}

export class RNNModel {
  readonly config: RNNModelConfig;
  readonly backend: Backend;
  /** Every parameter, flat, in the order of `entries`. */
  readonly params: FloatArray;
  /** Their gradients, same layout. */
  readonly grads: FloatArray;
  readonly entries: readonly ParamEntry[];
  private readonly workspaces = new Map<string, Workspace>();

  constructor(options: RNNModelOptions) {
    const fn = 'new RNNModel';
    if (typeof options !== 'object' || options === null) throw invalidType(fn, 'options', 'an object', options);
    const tokens = options.vocabSize !== undefined;
    if (tokens === (options.inputSize !== undefined)) {
      throw new TypeError(`${fn}: give exactly one of vocabSize (token inputs) or inputSize (dense inputs)`);
    }
    const inputSize = positiveInt(fn, tokens ? 'vocabSize' : 'inputSize', tokens ? options.vocabSize : options.inputSize);
    const hiddenSize = positiveInt(fn, 'hiddenSize', options.hiddenSize);
    const numLayers = positiveInt(fn, 'numLayers', options.numLayers ?? 1);
    if (numLayers > MAX_LAYERS) throw invalidRange(fn, 'numLayers', `an integer in [1, ${MAX_LAYERS}]`, numLayers);
    if (!tokens && options.outputSize === undefined) throw new TypeError(`${fn}: outputSize is required with dense inputs`);
    const outputSize = positiveInt(fn, 'outputSize', options.outputSize ?? inputSize);
    const loss = options.loss ?? 'cross-entropy';
    if (loss !== 'cross-entropy' && loss !== 'mse') throw invalidType(fn, 'loss', "'cross-entropy' or 'mse'", loss);
    const seed = options.seed ?? 0;
    if (!Number.isInteger(seed)) throw invalidType(fn, 'seed', 'an integer', seed);
    this.config = {
      vocabSize: tokens ? inputSize : null,
      inputSize,
      hiddenSize,
      numLayers,
      outputSize,
      activation: checkActivation(fn, options.activation ?? 'tanh'),
      dtype: checkDType(fn, options.dtype ?? 'float32'),
      loss,
      init: checkInitKind(fn, options.init ?? 'uniform'),
      seed,
    };
    this.backend = backends.resolve(options.backend);

    const entries: ParamEntry[] = [];
    let offset = 0;
    const add = (name: string, rows: number, cols: number) => {
      entries.push({ name, rows, cols, offset, size: rows * cols });
      offset += rows * cols;
    };
    for (let l = 0; l < numLayers; l++) {
      add(`rnn.weight_ih_l${l}`, hiddenSize, l === 0 ? inputSize : hiddenSize);
      add(`rnn.weight_hh_l${l}`, hiddenSize, hiddenSize);
      add(`rnn.bias_l${l}`, hiddenSize, 1);
    }
    add('head.weight', outputSize, hiddenSize);
    add('head.bias', outputSize, 1);
    this.entries = entries;
    checkAllocation(2 * offset * bytesPerElement(this.config.dtype), `a model of ${offset} parameters (with gradients)`);
    this.params = allocate(this.config.dtype, offset);
    this.grads = allocate(this.config.dtype, offset);
    this.initialize(new Random(seed));
  }

  /** Number of parameters. */
  get size(): number {
    return this.params.length;
  }

  get isTokenModel(): boolean {
    return this.config.vocabSize !== null;
  }

  entry(name: string): ParamEntry {
    const e = this.entries.find((x) => x.name === name);
    if (!e) throw new RangeError(`no parameter named '${name}'`);
    return e;
  }

  /** A copy-free view of one parameter (or its gradient). */
  view(name: string, which: 'params' | 'grads' = 'params'): FloatArray {
    const e = this.entry(name);
    return (which === 'params' ? this.params : this.grads).subarray(e.offset, e.offset + e.size);
  }

  private initialize(rng: Random): void {
    const { numLayers, hiddenSize: nc, inputSize, init } = this.config;
    for (let l = 0; l < numLayers; l++) {
      const wx = this.entry(`rnn.weight_ih_l${l}`), wc = this.entry(`rnn.weight_hh_l${l}`), b = this.entry(`rnn.bias_l${l}`);
      initRnnLayer(rng, init, l === 0 ? inputSize : nc, nc, this.params, wx.offset, this.params, wc.offset, this.params, b.offset);
    }
    // nn.Linear's default: U(±1/√fanIn) for weight and bias.
    const k = 1 / Math.sqrt(nc);
    uniformInit(rng, this.params, k, this.entry('head.weight').offset, this.entry('head.weight').size);
    uniformInit(rng, this.params, k, this.entry('head.bias').offset, this.entry('head.bias').size);
  }

  /** The bytes one workspace of (T, m) takes. */
  workspaceBytes(T: number, m: number): number {
    const { numLayers: L, hiddenSize: nc, outputSize: V, dtype } = this.config;
    const elements = L * (nc * (T + 1) * m + nc * T * m + nc * m * 2) + (L - 1) * nc * T * m + V * T * m;
    return elements * bytesPerElement(dtype) + 16;
  }

  /** The buffers for (T, m), made on first use and kept. */
  workspace(T: number, m: number): Workspace {
    const key = `${T}x${m}`;
    const found = this.workspaces.get(key);
    if (found) return found;
    positiveInt('RNNModel.workspace', 'T', T);
    positiveInt('RNNModel.workspace', 'm', m);
    checkAllocation(this.workspaceBytes(T, m), `the buffers of a batch of ${m} sequences of ${T} steps`);
    const { numLayers: L, hiddenSize: nc, outputSize: V, dtype } = this.config;
    const per = (n: number) => Array.from({ length: L }, () => allocate(dtype, n));
    const ws: Workspace = {
      steps: T,
      batch: m,
      H: per(nc * (T + 1) * m),
      dC: per(nc * T * m),
      Xin: Array.from({ length: L }, (_, l) => (l === 0 ? allocate(dtype, 0) : allocate(dtype, nc * T * m))),
      state: per(nc * m),
      dc0: per(nc * m),
      logits: allocate(dtype, V * T * m),
      scalars: new Float64Array(2),
    };
    this.workspaces.set(key, ws);
    return ws;
  }

  /** The workspaces made so far, keyed 'TxM'. */
  workspacesByShape(): Array<[string, Workspace]> {
    return [...this.workspaces.entries()];
  }

  /** Drops cached workspaces (their memory is freed once no step uses them). */
  releaseWorkspaces(): void {
    this.workspaces.clear();
  }

  /** Checks a batch against the model; returns T, m and the loss normalizer. */
  checkBatch(fn: string, input: ModelInput, target: ModelTarget): { T: number; m: number; count: number } {
    const { inputSize, outputSize, dtype } = this.config;
    let T: number, m: number;
    if (this.isTokenModel) {
      const t = input as TokenSequence;
      if (typeof input !== 'object' || input === null || !(t.ids instanceof Int32Array)) {
        throw invalidType(fn, 'input', 'a TokenSequence { ids: Int32Array, steps, batch }', input);
      }
      T = positiveInt(fn, 'input.steps', t.steps);
      m = positiveInt(fn, 'input.batch', t.batch);
      if (t.ids.length !== T * m) throw invalidRange(fn, 'input.ids', `${T * m} ids (steps·batch)`, `${t.ids.length}`);
      for (let k = 0; k < t.ids.length; k++) {
        if (t.ids[k] < 0 || t.ids[k] >= inputSize) throw invalidRange(fn, `input.ids[${k}]`, `a token id in [0, ${inputSize})`, t.ids[k]);
      }
    } else {
      const s = input as Sequence;
      if (typeof input !== 'object' || input === null || !(s.data instanceof Float32Array || s.data instanceof Float64Array)) {
        throw invalidType(fn, 'input', 'a Sequence { rows, steps, batch, data }', input);
      }
      if ((s.data instanceof Float32Array ? 'float32' : 'float64') !== dtype) throw invalidType(fn, 'input.data', `${dtype} data`, s.data);
      if (s.rows !== inputSize) throw invalidRange(fn, 'input.rows', `${inputSize}`, s.rows);
      T = positiveInt(fn, 'input.steps', s.steps);
      m = positiveInt(fn, 'input.batch', s.batch);
      if (s.data.length !== inputSize * T * m) throw invalidRange(fn, 'input.data', `${inputSize * T * m} values`, `${s.data.length}`);
    }
    let count: number;
    if (this.config.loss === 'cross-entropy') {
      if (!(target instanceof Int32Array)) throw invalidType(fn, 'target', 'an Int32Array of class ids (-1 to ignore)', target);
      if (target.length !== T * m) throw invalidRange(fn, 'target', `${T * m} class ids (steps·batch)`, `${target.length}`);
      count = 0;
      for (let k = 0; k < target.length; k++) {
        const y = target[k];
        if (y < -1 || y >= outputSize) throw invalidRange(fn, `target[${k}]`, `a class in [0, ${outputSize}) or -1`, y);
        if (y >= 0) count++;
      }
    } else {
      const s = target as Sequence;
      if (typeof target !== 'object' || target === null || target instanceof Int32Array ||
        !(s.data instanceof Float32Array || s.data instanceof Float64Array)) {
        throw invalidType(fn, 'target', 'a Sequence of outputs', target);
      }
      if ((s.data instanceof Float32Array ? 'float32' : 'float64') !== dtype) throw invalidType(fn, 'target.data', `${dtype} data`, s.data);
      if (s.rows !== outputSize || s.steps !== T || s.batch !== m || s.data.length !== outputSize * T * m) {
        throw invalidRange(fn, 'target', `a ${outputSize} x (${T}·${m}) Sequence`, `${s.rows} x (${s.steps}·${s.batch})`);
      }
      count = outputSize * T * m;
    }
    return { T, m, count };
  }

  private inputArray(input: ModelInput): FloatArray | Int32Array {
    return this.isTokenModel ? (input as TokenSequence).ids : (input as Sequence).data;
  }

  /**
   * Records the forward pass and the loss: H^l for every layer (from the carried state, or
   * zeros when resetState), logits, and — given a target — the loss sum into scalars[0] with
   * ∂J/∂logits left in ws.logits. `count` normalizes the loss (mean per token / per element).
   */
  recordForward(ops: Op[], ws: Workspace, input: ModelInput, target: ModelTarget | null, count: number, resetState: boolean): void {
    const { numLayers: L, hiddenSize: nc, inputSize, outputSize: V, activation: act } = this.config;
    const T = ws.steps, m = ws.batch, TM = T * m, ld = (T + 1) * m;
    const p = this.params;
    ops.push(['fill', 2, 0, ws.scalars, 0]);
    for (let l = 0; l < L; l++) {
      if (resetState) ops.push(['fill', nc * m, 0, ws.state[l], 0]);
      // c0 of this chunk = the state carried from the previous one.
      ops.push(['copyMatrix', nc, m, ws.state[l], 0, m, ws.H[l], 0, ld]);
      let X: FloatArray | Int32Array;
      if (l === 0) {
        X = this.inputArray(input);
      } else {
        ops.push(['copyMatrix', nc, TM, ws.H[l - 1], m, ld, ws.Xin[l], 0, TM]);
        X = ws.Xin[l];
      }
      const wx = this.entries[3 * l], wc = this.entries[3 * l + 1], b = this.entries[3 * l + 2];
      ops.push(['rnnForward', act, l === 0 ? inputSize : nc, nc, T, m, X, 0, p, wx.offset, p, wc.offset, p, b.offset, ws.H[l], 0]);
    }
    const hw = this.entries[3 * L], hb = this.entries[3 * L + 1];
    // logits = Wy·C^L + by, reading C^L in place from H^L (offset m, leading dimension (T+1)·m)
    ops.push(['gemm', false, false, V, TM, nc, 1, p, hw.offset, nc, ws.H[L - 1], m, ld, 0, ws.logits, 0, TM]);
    ops.push(['addBias', V, TM, p, hb.offset, ws.logits, 0, TM]);
    // Without a target the logits stay in ws.logits (sampling).
    if (target === null) return;
    const inv = count > 0 ? 1 / count : 0;
    if (this.config.loss === 'cross-entropy') {
      ops.push(['softmaxCrossEntropy', V, TM, ws.logits, 0, TM, target as Int32Array, 0, inv, ws.logits, 0, TM, ws.scalars, 0]);
    } else {
      // J = mean (y − target)²: d = y − target; J·count = Σ d²; ∂J/∂y = 2d/count
      const t = (target as Sequence).data;
      ops.push(['axpy', V * TM, -1, t, 0, ws.logits, 0]);
      ops.push(['sumSquares', V * TM, ws.logits, 0, ws.scalars, 0]);
      ops.push(['scale', V * TM, 2 * inv, ws.logits, 0]);
    }
  }

  /**
   * Records the backward pass after recordForward: zeroes the gradients, then the head, then
   * BPTT through every layer (one fused call each), Σ grad² into scalars[1], and finally
   * carries C_T of every layer into the state for the next chunk.
   */
  recordBackward(ops: Op[], ws: Workspace, input: ModelInput): void {
    const { numLayers: L, hiddenSize: nc, inputSize, outputSize: V, activation: act } = this.config;
    const T = ws.steps, m = ws.batch, TM = T * m, ld = (T + 1) * m;
    const p = this.params, g = this.grads;
    ops.push(['fill', g.length, 0, g, 0]);
    const hw = this.entries[3 * L], hb = this.entries[3 * L + 1];
    // dWy += dY·C^Lᵀ, dby += rowsum(dY), dC^L = Wyᵀ·dY
    ops.push(['gemm', false, true, V, nc, TM, 1, ws.logits, 0, TM, ws.H[L - 1], m, ld, 1, g, hw.offset, nc]);
    ops.push(['rowSum', V, TM, ws.logits, 0, TM, g, hb.offset]);
    ops.push(['gemm', true, false, nc, TM, V, 1, p, hw.offset, nc, ws.logits, 0, TM, 0, ws.dC[L - 1], 0, TM]);
    for (let l = L - 1; l >= 0; l--) {
      const wx = this.entries[3 * l], wc = this.entries[3 * l + 1], b = this.entries[3 * l + 2];
      const X = l === 0 ? this.inputArray(input) : ws.Xin[l];
      const dX = l === 0 ? null : ws.dC[l - 1];
      if (dX) ops.push(['fill', nc * TM, 0, dX, 0]);
      ops.push(['fill', nc * m, 0, ws.dc0[l], 0]);
      ops.push(['rnnBackward', act, l === 0 ? inputSize : nc, nc, T, m, X, 0, ws.H[l], 0, p, wx.offset, p, wc.offset,
        ws.dC[l], 0, ws.dC[l], 0, g, wx.offset, g, wc.offset, g, b.offset, dX, 0, ws.dc0[l], 0]);
    }
    ops.push(['sumSquares', g.length, g, 0, ws.scalars, 1]);
    this.recordCarry(ops, ws);
  }

  /** state^l = C_T^l: the last m columns of H^l, for the next chunk of a stream. */
  recordCarry(ops: Op[], ws: Workspace): void {
    const { numLayers: L, hiddenSize: nc } = this.config;
    const T = ws.steps, m = ws.batch, ld = (T + 1) * m;
    for (let l = 0; l < L; l++) ops.push(['copyMatrix', nc, m, ws.H[l], T * m, ld, ws.state[l], 0, m]);
  }

  /** Runs recorded ops now, on this thread (small programs: sampling, one-off evaluation). */
  runSync(ops: readonly Op[]): void {
    const k = this.backend as unknown as Record<string, (...a: unknown[]) => unknown>;
    for (const op of ops) k[op[0]](...op.slice(1));
  }

  /**
   * Loss and gradients of one batch, synchronously (the gradients land in `grads`). Starts
   * from zero state. For checks and small experiments; training uses the Trainer.
   */
  lossAndGradients(input: ModelInput, target: ModelTarget): number {
    const { T, m, count } = this.checkBatch('RNNModel.lossAndGradients', input, target);
    const ws = this.workspace(T, m);
    const ops: Op[] = [];
    this.recordForward(ops, ws, input, target, count, true);
    this.recordBackward(ops, ws, input);
    this.runSync(ops);
    return count > 0 ? ws.scalars[0] / count : 0;
  }

  /** Mean loss of one batch from zero state, without touching gradients. */
  loss(input: ModelInput, target: ModelTarget): number {
    const { T, m, count } = this.checkBatch('RNNModel.loss', input, target);
    const ws = this.workspace(T, m);
    const ops: Op[] = [];
    this.recordForward(ops, ws, input, target, count, true);
    this.runSync(ops);
    return count > 0 ? ws.scalars[0] / count : 0;
  }

  /**
   * Samples `length` tokens: primes the state with `prime`, then draws each next token from
   * softmax(logits / temperature) with the seeded generator. Token models only.
   */
  sample(options: { length: number; temperature?: number; prime?: ArrayLike<number>; rng?: Random; seed?: number; stopAt?: number }): Int32Array {
    const fn = 'RNNModel.sample';
    if (!this.isTokenModel) throw new TypeError(`${fn}: sampling needs a token model (vocabSize)`);
    const length = options.length;
    if (!Number.isInteger(length) || length < 0) throw invalidRange(fn, 'length', 'a non-negative integer', length);
    const temperature = options.temperature ?? 1;
    if (typeof temperature !== 'number' || !(temperature > 0) || !Number.isFinite(temperature)) {
      throw invalidRange(fn, 'temperature', 'a positive number', temperature);
    }
    const rng = options.rng ?? new Random(options.seed ?? 0);
    const V = this.config.outputSize, vocab = this.config.inputSize;
    const prime = Array.from(options.prime ?? []);
    for (const id of prime) {
      if (!Number.isInteger(id) || id < 0 || id >= vocab) throw invalidRange(fn, 'prime', `token ids in [0, ${vocab})`, id);
    }
    const ws = this.workspace(1, 1);
    const ids = new Int32Array(1);
    const probs = new Float64Array(V);
    const out = new Int32Array(length);
    const step = (id: number, first: boolean) => {
      ids[0] = id;
      const ops: Op[] = [];
      this.recordForward(ops, ws, { ids, steps: 1, batch: 1 }, null, 0, first);
      this.recordCarry(ops, ws);
      this.runSync(ops);
    };
    // Start from zero state; the first input is the prime's first token, or token 0.
    const seq = prime.length > 0 ? prime : [0];
    for (let k = 0; k < seq.length; k++) step(seq[k], k === 0);
    for (let n = 0; n < length; n++) {
      let max = -Infinity;
      for (let v = 0; v < V; v++) max = Math.max(max, ws.logits[v] / temperature);
      let sum = 0;
      for (let v = 0; v < V; v++) sum += probs[v] = Math.exp(ws.logits[v] / temperature - max);
      for (let v = 0; v < V; v++) probs[v] /= sum;
      const next = rng.choice(probs);
      out[n] = next;
      if (options.stopAt !== undefined && next === options.stopAt) return out.slice(0, n + 1);
      if (n + 1 < length) step(next, false);
    }
    return out;
  }
}
