// A model's configuration and its flat parameter layout. Every parameter lives in ONE flat
// array (and every gradient in another), so zeroing the gradients, the gradient norm, clipping
// and the optimizer update are each one kernel call over it, and the optimizer's state is flat
// in the same order. The order: for each layer k, the cell's parameters as it declares them
// (the vanilla cell: rnn.weight_ih_l{k}, rnn.weight_hh_l{k}, rnn.bias_l{k}), then the head's
// weight and bias.
import { invalidRange, invalidType } from '../backend/errors';
import type { Activation, Backend, BackendName, DType, FloatArray } from '../backend/types';
import type { Random } from '../random';
import { layerName } from './cells/torch';
import { DEFAULT_CELL, resolveCell } from './cells/registry';
import type { CellKind, LayerParams, LayerSizes } from './cells/types';
import { checkDropout } from './dropout';
import { checkInitKind, uniformInit, type InitKind } from './init';
import { checkActivation, checkDType, checkOptions, keysOf, positiveInt } from './predicates';

export type LossKind = 'cross-entropy' | 'mse';

export interface RNNModelOptions {
  /** The cell kind of every layer: 'rnn' (default), another registered name, or a CellKind object. */
  cell?: string | CellKind;
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
  /**
   * Dropout probability p in [0, 1) on the output of every layer but the last, in training steps
   * only (PyTorch's nn.RNN/LSTM/GRU `dropout`): each element zeroed with probability p, the kept
   * ones scaled by 1/(1 − p). Default 0. With one layer it drops nothing (PyTorch warns).
   */
  dropout?: number;
  /** Dropout probability in [0, 1) on the head's input (the last layer's output), training steps only. Default 0. */
  headDropout?: number;
}

export const MODEL_OPTION_KEYS = keysOf<RNNModelOptions>({
  cell: true, vocabSize: true, inputSize: true, hiddenSize: true, numLayers: true, outputSize: true, activation: true,
  dtype: true, backend: true, seed: true, init: true, loss: true, dropout: true, headDropout: true,
});

/** The resolved configuration, as stored in checkpoints. */
export interface RNNModelConfig {
  /** The cell kind's name (absent in checkpoints from before cells were plug-ins: 'rnn'). */
  cell: string;
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
  /** Dropout between layers (absent in checkpoints from before dropout: 0). */
  dropout: number;
  /** Dropout on the head's input (absent in older checkpoints: 0). */
  headDropout: number;
}

/** One named parameter: a rows×cols block of the flat parameter array. */
export interface ParamEntry {
  name: string;
  rows: number;
  cols: number;
  offset: number;
  size: number;
}

/** One layer's part of the layout: its sizes and where each of its cell's parameters sits. */
export interface LayerLayout {
  readonly sizes: LayerSizes;
  readonly entries: readonly ParamEntry[];
  /** CellParam.key → offset in the flat arrays */
  readonly offsets: Readonly<Record<string, number>>;
}

export interface ModelLayout {
  readonly layers: readonly LayerLayout[];
  /** The linear head, logits y_t = Wy·C_t^L + by. */
  readonly head: { readonly weight: ParamEntry; readonly bias: ParamEntry };
  /** Every entry in layout order. */
  readonly entries: readonly ParamEntry[];
  /** Number of parameters. */
  readonly size: number;
}

/** The head's entry names (nn.Linear's state_dict names under 'head.'). */
export const HEAD_WEIGHT = 'head.weight';
export const HEAD_BIAS = 'head.bias';

/**
 * Most stacked layers a model may have. Every layer costs JavaScript objects (parameter
 * entries, workspace arrays, ops of every step) that the byte guard does not count, so a huge
 * count must be refused up front: 10^8 layers of 2 units fit the byte limit but exhausted
 * the JavaScript heap (a fatal crash, not an error) while the layout was still being built.
 */
export const MAX_LAYERS = 1024;

/** Checks the options of new RNNModel and resolves the defaults. */
export function resolveConfig(fn: string, raw: RNNModelOptions): { config: RNNModelConfig; cell: CellKind } {
  const options = checkOptions(fn, raw, MODEL_OPTION_KEYS, { optional: false });
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
  const cell = resolveCell(fn, options.cell ?? DEFAULT_CELL);
  const config: RNNModelConfig = {
    cell: cell.name,
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
    dropout: checkDropout(fn, 'dropout', options.dropout ?? 0),
    headDropout: checkDropout(fn, 'headDropout', options.headDropout ?? 0),
  };
  cell.checkConfig?.(fn, config);
  return { config, cell };
}

/**
 * The dropout probability on the output of layer l (slot l, see dropout.ts): `dropout` below the
 * last layer, `headDropout` on the last one's (the head's input).
 */
export function dropoutOf(config: RNNModelConfig, l: number): number {
  return l < config.numLayers - 1 ? config.dropout : config.headDropout;
}

/** The sizes of layer k: the first reads the model's input, the others the layer below. */
export function layerSizes(config: RNNModelConfig, layer: number): LayerSizes {
  return { inputSize: layer === 0 ? config.inputSize : config.hiddenSize, hiddenSize: config.hiddenSize, layer };
}

/** Where every parameter of the model sits in the flat arrays. */
export function buildLayout(cell: CellKind, config: RNNModelConfig): ModelLayout {
  const entries: ParamEntry[] = [];
  let offset = 0;
  const add = (name: string, rows: number, cols: number): ParamEntry => {
    const e = { name, rows, cols, offset, size: rows * cols };
    entries.push(e);
    offset += rows * cols;
    return e;
  };
  const layers: LayerLayout[] = [];
  for (let l = 0; l < config.numLayers; l++) {
    const sizes = layerSizes(config, l);
    const mine: ParamEntry[] = [];
    const offsets: Record<string, number> = {};
    for (const p of cell.params) {
      const e = add(layerName(p.name, l), p.rows(sizes), p.cols(sizes));
      mine.push(e);
      offsets[p.key] = e.offset;
    }
    layers.push({ sizes, entries: mine, offsets });
  }
  const weight = add(HEAD_WEIGHT, config.outputSize, config.hiddenSize);
  const bias = add(HEAD_BIAS, config.outputSize, 1);
  return { layers, head: { weight, bias }, entries, size: offset };
}

/** Views of one layer's parameters in `flat` (the parameters or the gradients), by the cell's keys. */
export function layerViews(cell: CellKind, layer: LayerLayout, flat: FloatArray): LayerParams {
  const views: Record<string, FloatArray> = {};
  cell.params.forEach((p, i) => {
    const e = layer.entries[i];
    views[p.key] = flat.subarray(e.offset, e.offset + e.size);
  });
  return views;
}

/** Every layer from rng in order (the cell's init), then the head: nn.Linear's U(±1/√fanIn) for weight and bias. */
export function initialize(rng: Random, cell: CellKind, config: RNNModelConfig, layout: ModelLayout, params: FloatArray): void {
  for (const layer of layout.layers) cell.init(rng, config.init, layer.sizes, layerViews(cell, layer, params));
  const k = 1 / Math.sqrt(config.hiddenSize);
  const { weight, bias } = layout.head;
  uniformInit(rng, params, k, weight.offset, weight.size);
  uniformInit(rng, params, k, bias.offset, bias.size);
}
