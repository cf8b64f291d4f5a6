// The buffers of one batch shape (T steps of m sequences), made once and reused by every step
// of that shape: each layer's cell buffers and carried state, the input copy of the layers above
// the first, the logits and the two scalars a step reports. Also the names of carried states in
// snapshots and checkpoints, built and parsed here only.
import type { DType, FloatArray } from '../backend/types';
import { allocate, bytesPerElement, checkAllocation } from '../tensor';
import type { CellKind } from './cells/types';
import { dropoutOf, type ModelLayout, type RNNModelConfig } from './layout';
import { positiveInt } from './predicates';

export interface LayerWorkspace {
  /** The cell's buffers for (T, m), by the names it declared. */
  readonly buffers: Readonly<Record<string, FloatArray>>;
  /** The state carried between chunks, by the cell's state names, each n_c × m. */
  readonly state: Readonly<Record<string, FloatArray>>;
  /** The input of a layer above the first: the output of the layer below, copied contiguous (n_c × T·m); empty for layer 0. */
  readonly X: FloatArray;
  /**
   * The dropout mask of this layer's output (0 or 1/(1 − p), n_c × T·m), drawn for each training
   * step: in training workspaces of a layer whose output is dropped (see dropoutOf), else empty.
   */
  readonly mask: FloatArray;
}

/** Buffers for one (T, m) shape. */
export interface Workspace {
  readonly steps: number;
  readonly batch: number;
  readonly layers: readonly LayerWorkspace[];
  /** layers[l].state, per layer */
  readonly state: ReadonlyArray<Readonly<Record<string, FloatArray>>>;
  /** logits, then ∂J/∂logits in place, outputSize × T·m */
  readonly logits: FloatArray;
  /** [0] loss sum, [1] Σ grad² */
  readonly scalars: Float64Array;
  /** The head's input under dropout: the last layer's output, copied and masked (n_c × T·m); empty without headDropout. */
  readonly headInput: FloatArray;
  /**
   * The training step whose dropout masks the last recorded forward drew (null: none), so the
   * backward recorded after it applies the same masks.
   */
  dropoutStep: number | null;
}

function sum(values: Readonly<Record<string, number>>): number {
  let n = 0;
  for (const v of Object.values(values)) n += v;
  return n;
}

/** Layers whose output a training step drops (a mask each), and whether the head reads a masked copy. */
function dropped(config: RNNModelConfig, training: boolean): { masks: boolean[]; head: boolean } {
  const masks = Array.from({ length: config.numLayers }, (_, l) => training && dropoutOf(config, l) > 0);
  return { masks, head: masks[config.numLayers - 1] };
}

/** The bytes one workspace of (T, m) takes (a training one holds the dropout masks too). */
export function workspaceBytes(cell: CellKind, config: RNNModelConfig, layout: ModelLayout, T: number, m: number,
  training = true): number {
  const { numLayers: L, hiddenSize: nc, outputSize: V, dtype } = config;
  const drop = dropped(config, training);
  let elements = (L - 1) * nc * T * m + V * T * m;
  for (const layer of layout.layers) elements += sum(cell.buffers(layer.sizes, T, m)) + cell.states.length * nc * m;
  elements += (drop.masks.filter(Boolean).length + (drop.head ? 1 : 0)) * nc * T * m;
  return elements * bytesPerElement(dtype) + 16;
}

/**
 * Allocates the workspace of (T, m) after checking it fits the memory limit. Only a training
 * workspace holds dropout masks (inference never drops).
 */
export function makeWorkspace(fn: string, cell: CellKind, config: RNNModelConfig, layout: ModelLayout, T: number, m: number,
  training = true): Workspace {
  positiveInt(fn, 'T', T);
  positiveInt(fn, 'm', m);
  checkAllocation(workspaceBytes(cell, config, layout, T, m, training), `the buffers of a batch of ${m} sequences of ${T} steps`);
  const drop = dropped(config, training);
  const { hiddenSize: nc, outputSize: V, dtype } = config;
  const record = (sizes: Readonly<Record<string, number>>, dt: DType) =>
    Object.fromEntries(Object.entries(sizes).map(([name, n]) => [name, allocate(dt, n)])) as Record<string, FloatArray>;
  const layers = layout.layers.map((layer, l): LayerWorkspace => ({
    buffers: record(cell.buffers(layer.sizes, T, m), dtype),
    state: record(Object.fromEntries(cell.states.map((s) => [s, nc * m])), dtype),
    X: allocate(dtype, l === 0 ? 0 : nc * T * m),
    mask: allocate(dtype, drop.masks[l] ? nc * T * m : 0),
  }));
  return {
    steps: T, batch: m, layers, state: layers.map((w) => w.state),
    logits: allocate(dtype, V * T * m), scalars: new Float64Array(2),
    headInput: allocate(dtype, drop.head ? nc * T * m : 0), dropoutStep: null,
  };
}

// ---------------------------------------------------------------------------------------------
// Names of carried states in snapshots and checkpoints: state.<T>x<m>.l<k> for a layer's first
// state (the only one of the vanilla cell, so files from before cells were plug-ins keep their
// names) and state.<T>x<m>.l<k>.<name> for the others (an LSTM's c).

const STATE_PREFIX = 'state.';
const STATE_NAME = /^state\.([1-9]\d*)x([1-9]\d*)\.l(\d+)(?:\.([A-Za-z]\w*))?$/;

/** Whether a tensor name is in the carried-state namespace (valid or not). */
export function isStateName(name: string): boolean {
  return name.startsWith(STATE_PREFIX);
}

/** The name of state `state` of layer `layer` in the workspace of (T, m). */
export function stateName(cell: CellKind, T: number, m: number, layer: number, state: string): string {
  const base = `${STATE_PREFIX}${T}x${m}.l${layer}`;
  return state === cell.states[0] ? base : `${base}.${state}`;
}

/** The parts of a state name, or null when it is not one of this cell's (a stray or misspelled name). */
export function parseStateName(cell: CellKind, name: string): { T: number; m: number; layer: number; state: string } | null {
  const match = STATE_NAME.exec(name);
  if (!match) return null;
  const state = match[4] === undefined ? cell.states[0] : match[4];
  // The first state has no suffix: 'state.8x2.l0.h' would be a second name for it.
  if (match[4] !== undefined && (state === cell.states[0] || !cell.states.includes(state))) return null;
  return { T: Number(match[1]), m: Number(match[2]), layer: Number(match[3]), state };
}

/** How state names read, for error messages. */
export function stateNamePattern(cell: CellKind): string {
  return `${STATE_PREFIX}<T>x<m>.l<k>` + cell.states.slice(1).map((s) => ` or ${STATE_PREFIX}<T>x<m>.l<k>.${s}`).join('');
}
