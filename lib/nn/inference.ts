// Inference: the logits of a batch from a given (or zero) state, and the state after it, for any
// cell kind. The state is per layer, keyed by the cell's state names (the vanilla cell: { h }),
// each a hiddenSize × m Matrix, so a long sequence can be fed in chunks: forward(chunk, state)
// with the state the previous chunk returned gives what one long forward gives.
//
// Inference runs in workspaces of its own, so it never disturbs the state a Trainer carries in
// the training workspaces of the same shape.
import { invalidType } from '../backend/errors';
import type { Backend, Op } from '../backend/types';
import { checkMatrix, zeros, type Matrix, type Sequence } from '../tensor';
import { checkInput, type ModelInput } from './batch';
import { checkKnownKeys, positiveInt } from './predicates';
import { recordCarry, recordForward, type RecordingModel } from './recording';
import type { Workspace } from './workspace';

/** One layer's state by the cell's state names, each hiddenSize × m. */
export type LayerState = Record<string, Matrix>;
/** The state of every layer, from the input up. */
export type ModelState = LayerState[];

export interface ForwardResult {
  /** outputSize × T·m, column t·m + j for example j at step t: a fresh copy */
  logits: Sequence;
  /** the state after the last step: fresh copies */
  state: ModelState;
}

/** What inference reads of a model. */
export interface InferenceModel extends RecordingModel {
  readonly backend: Backend;
  /** A workspace of (T, m) for inference, and the function that gives it back. */
  inferenceWorkspace(T: number, m: number): { ws: Workspace; release: () => void };
}

/** Zero state for a batch of m. */
export function initialState(model: InferenceModel, batch: number): ModelState {
  const m = positiveInt('RNNModel.initialState', 'batch', batch);
  const { numLayers: L, hiddenSize: nc, dtype } = model.config;
  return Array.from({ length: L }, () => Object.fromEntries(model.cell.states.map((s) => [s, zeros(nc, m, dtype)])));
}

/** Checks a state argument for a batch of m and copies it into the workspace; false when absent (start from zeros). */
function loadState(fn: string, model: InferenceModel, ws: Workspace, state: ModelState | undefined, m: number): boolean {
  if (state === undefined) return false;
  const { numLayers: L, hiddenSize: nc, dtype } = model.config;
  const names = model.cell.states;
  if (!Array.isArray(state) || state.length !== L) {
    throw invalidType(fn, 'state', `an array of ${L} layer states (as forward or initialState returns)`, state);
  }
  state.forEach((layer, l) => {
    if (typeof layer !== 'object' || layer === null) throw invalidType(fn, `state[${l}]`, `an object of ${names.join(', ')}`, layer);
    checkKnownKeys(fn, layer, names, {}, `state[${l}] key`);
    for (const s of names) checkMatrix(fn, `state[${l}].${s}`, layer[s], nc, m, dtype);
  });
  state.forEach((layer, l) => { for (const s of names) ws.state[l][s].set(layer[s].data); });
  return true;
}

function prepare(fn: string, model: InferenceModel, input: ModelInput, state: ModelState | undefined) {
  const { T, m } = checkInput(fn, model.config, input);
  const held = model.inferenceWorkspace(T, m);
  try {
    const given = loadState(fn, model, held.ws, state, m);
    const ops: Op[] = [];
    recordForward(model, ops, held.ws, input, null, 0, !given);
    recordCarry(model, ops, held.ws);
    return { ops, held, T, m };
  } catch (err) {
    held.release();
    throw err;
  }
}

function result(model: InferenceModel, ws: Workspace, T: number, m: number): ForwardResult {
  const { outputSize: V, hiddenSize: nc } = model.config;
  return {
    logits: { rows: V, steps: T, batch: m, data: ws.logits.slice() },
    state: ws.state.map((layer) => Object.fromEntries(model.cell.states.map((s) => [s, { rows: nc, cols: m, data: layer[s].slice() }]))),
  };
}

/** The logits of `input` and the state after it, on this thread. */
export function forward(model: InferenceModel, input: ModelInput, state?: ModelState): ForwardResult {
  const { ops, held, T, m } = prepare('RNNModel.forward', model, input, state);
  try {
    const k = model.backend as unknown as Record<string, (...a: unknown[]) => unknown>;
    for (const op of ops) k[op[0]](...op.slice(1));
    return result(model, held.ws, T, m);
  } finally {
    held.release();
  }
}

/** forward, run by backend.run: off the main thread on the native backend. */
export async function forwardAsync(model: InferenceModel, input: ModelInput, state?: ModelState): Promise<ForwardResult> {
  const { ops, held, T, m } = prepare('RNNModel.forwardAsync', model, input, state);
  try {
    await model.backend.run(ops);
    return result(model, held.ws, T, m);
  } finally {
    held.release();
  }
}
