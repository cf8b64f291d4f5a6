// A stacked recurrent model with a linear head: L layers of one cell kind (the seed's cell
// c_t^l = f(Wc^l c_{t−1}^l + Wx^l c_t^{l−1} + b^l) by default, or any registered kind), then
// logits y_t = Wy c_t^L + by. Inputs are token ids (character models: Wx^0·onehot is a column
// gather) or dense Sequences.
//
// The class ties the parts together, one job a file: the configuration and flat parameter
// layout (layout.ts), the buffers of each batch shape (workspace.ts), batch checks (batch.ts),
// the recorded programs of a step (recording.ts), inference (inference.ts) and sampling
// (sampling.ts). None of them names a cell: they loop over the cell kind's declaration.
import * as backends from '../backend';
import type { Backend, FloatArray, Op } from '../backend/types';
import { Random } from '../random';
import { invalidRange, invalidType } from '../backend/errors';
import { allocate, bytesPerElement, checkAllocation, checkSequence, dtypeOf, type Sequence } from '../tensor';
import { checkBatch, checkInput, type ModelInput, type ModelTarget } from './batch';
import type { CellKind, LayerParams } from './cells/types';
import * as inference from './inference';
import type { ForwardResult, ModelState } from './inference';
import {
  buildLayout, initialize, layerViews, resolveConfig, type ModelLayout, type ParamEntry, type RNNModelConfig, type RNNModelOptions,
} from './layout';
import { checkOptions, isNonNegativeInt, keysOf } from './predicates';
import * as recording from './recording';
import { sample, type SampleOptions } from './sampling';
import { makeWorkspace, workspaceBytes, type Workspace } from './workspace';

export type { ModelInput, ModelTarget } from './batch';
export type { ForwardResult, LayerState, ModelState } from './inference';
export { MAX_LAYERS, type LossKind, type ParamEntry, type RNNModelConfig, type RNNModelOptions } from './layout';
export type { SampleOptions } from './sampling';
export type { LayerWorkspace, Workspace } from './workspace';

export interface LossOptions {
  /** Apply the dropout masks of this training step (see RNNModel.lossAndGradients). */
  dropoutStep?: number;
}

const LOSS_OPTION_KEYS = keysOf<LossOptions>({ dropoutStep: true });

export class RNNModel {
  readonly config: RNNModelConfig;
  /** The cell kind of every layer. */
  readonly cell: CellKind;
  readonly backend: Backend;
  /** Where every parameter sits in `params` and `grads`. */
  readonly layout: ModelLayout;
  /** Every parameter, flat, in the order of `entries`. */
  readonly params: FloatArray;
  /** Their gradients, same layout. */
  readonly grads: FloatArray;
  readonly entries: readonly ParamEntry[];
  /** Training workspaces by 'TxM' (their state is what a Trainer carries and snapshots). */
  private readonly workspaces = new Map<string, Workspace>();
  /** Inference workspaces by 'TxM', and those an unfinished call holds. */
  private readonly inferenceWorkspaces = new Map<string, Workspace>();
  private readonly busy = new Set<Workspace>();

  constructor(options: RNNModelOptions) {
    const fn = 'new RNNModel';
    const { config, cell } = resolveConfig(fn, options);
    this.config = config;
    this.cell = cell;
    this.backend = backends.resolve(options.backend);
    this.layout = buildLayout(cell, config);
    this.entries = this.layout.entries;
    const n = this.layout.size;
    checkAllocation(2 * n * bytesPerElement(config.dtype), `a model of ${n} parameters (with gradients)`);
    this.params = allocate(config.dtype, n);
    this.grads = allocate(config.dtype, n);
    initialize(new Random(config.seed), cell, config, this.layout, this.params);
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

  /** Copy-free views of layer k's parameters (or gradients) by the cell's keys ({ Wx, Wc, b } for the vanilla cell). */
  layerParams(layer: number, which: 'params' | 'grads' = 'params'): LayerParams {
    const l = this.layout.layers[layer];
    if (!l) throw new RangeError(`RNNModel.layerParams: layer must be in [0, ${this.config.numLayers}), got ${layer}`);
    return layerViews(this.cell, l, which === 'params' ? this.params : this.grads);
  }

  /** The bytes one workspace of (T, m) takes. */
  workspaceBytes(T: number, m: number): number {
    return workspaceBytes(this.cell, this.config, this.layout, T, m);
  }

  /** The training buffers for (T, m), made on first use and kept. */
  workspace(T: number, m: number): Workspace {
    const key = `${T}x${m}`;
    let ws = this.workspaces.get(key);
    if (!ws) {
      ws = makeWorkspace('RNNModel.workspace', this.cell, this.config, this.layout, T, m);
      this.workspaces.set(key, ws);
    }
    return ws;
  }

  /** The training workspaces made so far, keyed 'TxM'. */
  workspacesByShape(): Array<[string, Workspace]> {
    return [...this.workspaces.entries()];
  }

  /** Drops cached workspaces (their memory is freed once no step uses them). */
  releaseWorkspaces(): void {
    this.workspaces.clear();
    this.inferenceWorkspaces.clear();
  }

  /**
   * An inference workspace of (T, m), apart from the training ones; the cached one unless an
   * unfinished call (forwardAsync) holds it, then a fresh one for this call.
   */
  inferenceWorkspace(T: number, m: number): { ws: Workspace; release: () => void } {
    const key = `${T}x${m}`;
    let ws = this.inferenceWorkspaces.get(key);
    if (!ws || this.busy.has(ws)) {
      const fresh = makeWorkspace('RNNModel.workspace', this.cell, this.config, this.layout, T, m, false);
      if (!ws) this.inferenceWorkspaces.set(key, fresh);
      ws = fresh;
    }
    const held = ws;
    this.busy.add(held);
    return { ws: held, release: () => { this.busy.delete(held); } };
  }

  /** Checks a batch against the model; returns T, m and the loss normalizer. */
  checkBatch(fn: string, input: ModelInput, target: ModelTarget): { T: number; m: number; count: number } {
    return checkBatch(fn, this.config, input, target);
  }

  /**
   * Records the forward pass and the loss: every layer (from the carried state, or zeros when
   * resetState), logits, and — given a target — the loss sum into scalars[0] with ∂J/∂logits
   * left in ws.logits. `count` normalizes the loss (mean per token / per element).
   * `dropoutStep` (training steps only): draw and apply the dropout masks of that step; null or
   * absent: no dropout.
   */
  recordForward(ops: Op[], ws: Workspace, input: ModelInput, target: ModelTarget | null, count: number, resetState: boolean,
    dropoutStep: number | null = null): void {
    recording.recordForward(this, ops, ws, input, target, count, resetState, dropoutStep);
  }

  /**
   * Records the backward pass after recordForward: zeroes the gradients, then the head, then
   * BPTT through every layer, Σ grad² into scalars[1], and finally carries every layer's last
   * state into ws.state for the next chunk.
   */
  recordBackward(ops: Op[], ws: Workspace, input: ModelInput): void {
    recording.recordBackward(this, ops, ws, input);
  }

  /** Every layer's last state into ws.state, for the next chunk of a stream. */
  recordCarry(ops: Op[], ws: Workspace): void {
    recording.recordCarry(this, ops, ws);
  }

  /** Runs recorded ops now, on this thread (small programs: sampling, one-off evaluation). */
  runSync(ops: readonly Op[]): void {
    const k = this.backend as unknown as Record<string, (...a: unknown[]) => unknown>;
    for (const op of ops) k[op[0]](...op.slice(1));
  }

  /**
   * Loss and gradients of one batch, synchronously (the gradients land in `grads`). Starts
   * from zero state. For checks and small experiments; training uses the Trainer.
   * `dropoutStep: k` applies the dropout masks training step k draws (the same every call, so a
   * gradient check sees one fixed mask); without it nothing is dropped.
   */
  lossAndGradients(input: ModelInput, target: ModelTarget, options: LossOptions = {}): number {
    const fn = 'RNNModel.lossAndGradients';
    const { T, m, count } = this.checkBatch(fn, input, target);
    const { dropoutStep } = checkOptions(fn, options, LOSS_OPTION_KEYS);
    if (dropoutStep !== undefined && !isNonNegativeInt(dropoutStep)) throw invalidRange(fn, 'dropoutStep', 'a non-negative integer', dropoutStep);
    const ws = this.workspace(T, m);
    const ops: Op[] = [];
    this.recordForward(ops, ws, input, target, count, true, dropoutStep ?? null);
    this.recordBackward(ops, ws, input);
    this.runSync(ops);
    return count > 0 ? ws.scalars[0] / count : 0;
  }

  /**
   * The gradients of a loss of the user's own on forward's logits, synchronously: given
   * dLogits = ∂J/∂logits (outputSize × T·m, as forward returns the logits), runs the forward
   * pass from zero state and back-propagates dLogits through the head and every layer; the
   * gradients land in `grads` (overwritten, as by lossAndGradients). Returns Σ grad².
   */
  gradientsFromLogits(input: ModelInput, dLogits: Sequence | FloatArray): number {
    const fn = 'RNNModel.gradientsFromLogits';
    const { T, m } = checkInput(fn, this.config, input);
    const { outputSize: V, dtype } = this.config;
    let data: FloatArray;
    if (dLogits instanceof Float32Array || dLogits instanceof Float64Array) {
      if (dtypeOf(dLogits) !== dtype) throw invalidType(fn, 'dLogits', `${dtype} data`, dLogits);
      data = dLogits;
    } else {
      const s = checkSequence(fn, 'dLogits', dLogits, V, dtype);
      if (s.steps !== T || s.batch !== m) {
        throw invalidRange(fn, 'dLogits', `${T} steps of batch ${m} (as the input)`, `${s.steps} steps of batch ${s.batch}`);
      }
      data = s.data;
    }
    if (data.length !== V * T * m) throw invalidRange(fn, 'dLogits', `${V * T * m} values (outputSize × T·m)`, `${data.length}`);
    const ws = this.workspace(T, m);
    const ops: Op[] = [];
    this.recordForward(ops, ws, input, null, 0, true);
    // recordBackward reads ∂J/∂logits from ws.logits, where the built-in losses leave it.
    ops.push(['copy', V * T * m, data, 0, ws.logits, 0]);
    this.recordBackward(ops, ws, input);
    this.runSync(ops);
    return ws.scalars[1];
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
   * Inference: the logits of `input` (outputSize × T·m, a fresh copy) and the state after its
   * last step, from `state` (per layer, by the cell's state names) or zeros. Feeding a long
   * sequence in chunks with the returned state gives what one long forward gives.
   */
  forward(input: ModelInput, state?: ModelState): ForwardResult {
    return inference.forward(this, input, state);
  }

  /** forward off the main thread (backend.run: a worker thread on the native backend). */
  forwardAsync(input: ModelInput, state?: ModelState): Promise<ForwardResult> {
    return inference.forwardAsync(this, input, state);
  }

  /** Zero state for a batch of `batch` sequences, in forward's shape. */
  initialState(batch: number): ModelState {
    return inference.initialState(this, batch);
  }

  /**
   * Samples `length` tokens: primes the state with `prime`, then draws each next token from
   * softmax(logits / temperature) with the seeded generator. Token models only.
   */
  sample(options: SampleOptions): Int32Array {
    return sample(this, options);
  }
}
