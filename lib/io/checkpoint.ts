// Checkpoints: a model (and optionally everything needed to resume its training) as one
// safetensors file that PyTorch reads directly (docs/ARCHITECTURE.md §4).
//
// Tensors, named and shaped as the state_dict of PyTorch's recurrent module under 'rnn.' and an
// nn.Linear under 'head.', so `load_state_dict` takes them. The cell kind says which tensors a
// layer has and how they map to its parameters (cells/types.ts, CellTorchMapping); the vanilla
// cell writes
//   rnn.weight_ih_l{k}  [H, n_x]   Wx of layer k (n_x = vocabulary size for k = 0, else H)
//   rnn.weight_hh_l{k}  [H, H]     Wc
//   rnn.bias_ih_l{k}    [H]        b   (our one bias)
//   rnn.bias_hh_l{k}    [H]        zeros: PyTorch adds two biases, b_ih + b_hh, where we keep one
// and every model
//   head.weight         [V, H]     Wy
//   head.bias           [V]        by
// and, for resuming, tensors PyTorch can ignore:
//   optim.<state>       [P]        optimizer state (Adam's exp_avg, exp_avg_sq; …), flat in the
//                                  model's parameter order (RNNModel.entries)
//   state.<T>x<m>.l{k}  [H, m]     the state carried between chunks of a token stream (a cell
//                                  with more than one state adds state.<T>x<m>.l{k}.<name>)
//
// __metadata__ (strings): format, config (JSON, with the cell kind's name; absent in files from
// before cells were plug-ins, which are vanilla), vocabulary (JSON), trainer counters, optimizer
// settings, rng state, metrics, plus caller-chosen keys (the CLI stores its run options).
//
// On load the cell maps PyTorch's tensors back (the vanilla cell: b = b_ih + b_hh), so a file
// written by PyTorch loads too; every tensor the config needs must be present with its shape
// and the model's dtype, and nothing unexpected may be.
import { promises as fsp } from 'fs';
import type { Backend, BackendName, DType, FloatArray } from '../backend/types';
import { Vocabulary } from '../data/vocabulary';
import { checkCellKind, DEFAULT_CELL, findCell, inferableNames, inferCell } from '../nn/cells/registry';
import type { CellKind } from '../nn/cells/types';
import { MAX_LAYERS, RNNModel, type RNNModelConfig } from '../nn/model';
import { checkOptions, isNonNegativeInt, isPositiveInt, isRecord, keysOf } from '../nn/predicates';
import { isStateName, parseStateName, stateNamePattern } from '../nn/workspace';
import { HEAD_BIAS, HEAD_WEIGHT, layerSizes } from '../nn/layout';
import type { RandomState } from '../random';
import type { TrainerSnapshot } from '../train/trainer';
import { writeFileAtomic } from './atomic';
import { CheckpointError } from './errors';
import { decodeSafetensors, encodeSafetensors, type SafeTensor } from './safetensors';

/** The value of the `format` metadata key this code writes and reads. */
export const CHECKPOINT_FORMAT = 'native-rnn-checkpoint/1';

/** Metadata keys this module owns; callers' extra keys must not reuse them. */
const RESERVED_KEYS = ['format', 'config', 'vocabulary', 'trainer', 'optimizer', 'rng', 'metrics'] as const;

/** A JSON value, for the free-form metrics of a run. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface CheckpointContents {
  model: RNNModel;
  vocabulary?: Vocabulary | null;
  /** Trainer.snapshot(): counters, optimizer settings and state, carried hidden states. */
  trainer?: TrainerSnapshot | null;
  /** The state of a generator the caller wants to continue (e.g. the sampler of a run). */
  rng?: RandomState | null;
  /** Summary numbers of the run (losses, baselines), stored as JSON. */
  metrics?: { [key: string]: JsonValue } | null;
  /** Further metadata strings (keys other than the reserved ones). */
  extra?: Readonly<Record<string, string>>;
}

export interface LoadedCheckpoint {
  model: RNNModel;
  config: RNNModelConfig;
  vocabulary: Vocabulary | null;
  trainer: TrainerSnapshot | null;
  rng: RandomState | null;
  metrics: { [key: string]: JsonValue } | null;
  /** The metadata keys this module does not interpret. */
  extra: Record<string, string>;
}

export interface LoadCheckpointOptions {
  backend?: BackendName | 'auto' | Backend;
  /** Cell kinds to resolve config.cell with besides the registered ones (registerCell). */
  cells?: readonly CellKind[];
}

export const CONTENTS_KEYS = keysOf<CheckpointContents>({ model: true, vocabulary: true, trainer: true, rng: true, metrics: true, extra: true });
export const LOAD_OPTION_KEYS = keysOf<LoadCheckpointOptions>({ backend: true, cells: true });

function bad(code: 'BAD_VALUE' | 'MISSING_TENSOR' | 'BAD_METADATA', message: string): never {
  throw new CheckpointError(code, `checkpoint: ${message}`);
}

/** Prefix of the optimizer's state tensors. */
const OPTIM_PREFIX = 'optim.';

function safetensorsDType(dtype: DType): 'F32' | 'F64' {
  return dtype === 'float32' ? 'F32' : 'F64';
}

// ---------------------------------------------------------------------------------------------
// Writing

/** The checkpoint as safetensors bytes. Weights are copied, never aliased. */
export function encodeCheckpoint(contents: CheckpointContents): Buffer {
  const fn = 'encodeCheckpoint';
  checkOptions(fn, contents, CONTENTS_KEYS, { optional: false, name: 'contents' });
  const { model } = contents;
  if (!(model instanceof RNNModel)) throw new TypeError('encodeCheckpoint: contents.model must be an RNNModel');
  const { config, cell, layout } = model;
  const dtype = safetensorsDType(config.dtype);
  const tensors: Record<string, SafeTensor> = {};
  const put = (name: string, shape: readonly number[], copy: FloatArray) => { tensors[name] = { dtype, shape: [...shape], data: copy }; };

  for (let l = 0; l < config.numLayers; l++) {
    const sizes = layout.layers[l].sizes;
    const data = cell.torch.save(sizes, model.layerParams(l));
    for (const { name, shape } of cell.torch.tensors(sizes)) {
      const t = data[name];
      // A plug-in cell's two halves of the mapping must agree; say so here rather than write a bad file.
      if (!(t instanceof Float32Array || t instanceof Float64Array) || t.length !== shape.reduce((a, b) => a * b, 1)) {
        throw new TypeError(`${fn}: cell '${cell.name}': torch.save gave no ${shape.join('x')} array for '${name}' (torch.tensors lists it)`);
      }
      put(name, shape, t);
    }
  }
  const { weight: hw, bias: hb } = layout.head;
  put(hw.name, [hw.rows, hw.cols], model.view(hw.name).slice());
  put(hb.name, [hb.rows], model.view(hb.name).slice());

  const metadata: Record<string, string> = { format: CHECKPOINT_FORMAT, config: JSON.stringify(config) };
  const vocabulary = contents.vocabulary ?? null;
  if (vocabulary !== null) {
    if (config.vocabSize === null || vocabulary.size !== config.vocabSize) {
      throw new RangeError(`encodeCheckpoint: the vocabulary has ${vocabulary.size} symbols but the model's vocabSize is ${config.vocabSize}`);
    }
    metadata.vocabulary = JSON.stringify(vocabulary.toJSON());
  }
  const trainer = contents.trainer ?? null;
  if (trainer !== null) {
    metadata.trainer = JSON.stringify({ step: trainer.step, epoch: trainer.epoch, position: trainer.position });
    metadata.optimizer = JSON.stringify(trainer.optimizer);
    for (const [name, arr] of Object.entries(trainer.optimizerState)) put(`${OPTIM_PREFIX}${name}`, [arr.length], arr.slice());
    for (const [name, arr] of Object.entries(trainer.hiddenStates)) {
      const at = parseStateName(cell, name);
      if (!at) throw new RangeError(`encodeCheckpoint: hidden state name '${name}' is not ${stateNamePattern(cell)}`);
      put(name, [config.hiddenSize, at.m], arr.slice());
    }
  }
  if (contents.rng) metadata.rng = JSON.stringify(contents.rng);
  if (contents.metrics) metadata.metrics = JSON.stringify(contents.metrics);
  for (const [key, value] of Object.entries(contents.extra ?? {})) {
    if ((RESERVED_KEYS as readonly string[]).includes(key)) throw new RangeError(`encodeCheckpoint: extra metadata key '${key}' is reserved`);
    metadata[key] = value;
  }
  return encodeSafetensors(tensors, metadata);
}

/**
 * Writes a checkpoint atomically: temp file, fsync, decode the temp file back (so a file that
 * does not load never replaces a good one), rename.
 */
export async function saveCheckpoint(file: string, contents: CheckpointContents): Promise<void> {
  const bytes = encodeCheckpoint(contents);
  // The model's own cell kind reads it back, registered or not.
  await writeFileAtomic(file, bytes, {
    verify: async (temp) => { decodeCheckpoint(await fsp.readFile(temp), { backend: 'ts', cells: [contents.model.cell] }); },
  });
}

// ---------------------------------------------------------------------------------------------
// Reading

function parseJson(key: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    return bad('BAD_METADATA', `metadata '${key}' is not valid JSON (${(err as Error).message})`);
  }
}

function positiveIntField(where: string, obj: Record<string, unknown>, key: string): number {
  const v = obj[key];
  if (!isPositiveInt(v, Number.MAX_SAFE_INTEGER)) bad('BAD_VALUE', `${where}.${key} must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

function nonNegIntField(where: string, obj: Record<string, unknown>, key: string): number {
  const v = obj[key];
  if (!isNonNegativeInt(v)) bad('BAD_VALUE', `${where}.${key} must be an integer >= 0, got ${JSON.stringify(v)}`);
  return v;
}

/** The cell kind a config names: one of options.cells, else a registered one. */
function cellNamed(name: string, options: LoadCheckpointOptions): CellKind {
  const given = (options.cells ?? []).find((c) => c.name === name);
  const kind = given ?? findCell(name);
  if (!kind) bad('BAD_VALUE', `config.cell '${name}' is not a known cell kind (register it with registerCell, or pass it in options.cells)`);
  return kind;
}

/** A dropout probability of the config: absent is 0, else a number in [0, 1). */
function dropoutField(raw: Record<string, unknown>, key: string): number {
  const v = raw[key];
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !(v >= 0 && v < 1)) bad('BAD_VALUE', `config.${key} must be a number in [0, 1), got ${JSON.stringify(v)}`);
  return v;
}

/** The config and cell kind from metadata, or (a file from PyTorch) inferred from the tensor shapes. */
function readConfig(metadata: Record<string, string>, tensors: Map<string, SafeTensor>, hasVocabulary: boolean,
  options: LoadCheckpointOptions): { config: RNNModelConfig; cell: CellKind } {
  if (metadata.config === undefined) {
    // The kind is the one whose gate count matches W_hh; nn.RNN's defaults: tanh; no seed or
    // init matter once weights are loaded.
    const found = inferCell((name) => tensors.get(name)?.shape);
    const head = tensors.get(HEAD_WEIGHT);
    if (!found || !head) bad('MISSING_TENSOR', `no 'config' metadata, and the W_ih (G·H x n_x) and W_hh (G·H x H) of layer 0 of a known cell kind (${inferableNames()}) and ${HEAD_WEIGHT} are needed to infer it`);
    if (head.shape.length !== 2) bad('BAD_VALUE', `${HEAD_WEIGHT} must be 2-D`);
    const hh = tensors.get(found.recurrentWeight)!;
    if (hh.dtype !== 'F32' && hh.dtype !== 'F64') bad('BAD_VALUE', `${found.recurrentWeight} has dtype ${hh.dtype}; only F32 and F64 load`);
    const { inputSize, hiddenSize, numLayers } = found;
    const outputSize = head.shape[0];
    // A character model reads and predicts the same symbols.
    const tokens = hasVocabulary || inputSize === outputSize;
    return {
      cell: found.kind,
      config: {
        cell: found.kind.name, vocabSize: tokens ? inputSize : null, inputSize, hiddenSize, numLayers, outputSize,
        activation: 'tanh', dtype: hh.dtype === 'F32' ? 'float32' : 'float64', loss: tokens ? 'cross-entropy' : 'mse',
        init: 'uniform', seed: 0, dropout: 0, headDropout: 0,
      },
    };
  }
  const raw = parseJson('config', metadata.config);
  if (!isRecord(raw)) bad('BAD_VALUE', `metadata 'config' must be a JSON object`);
  const where = 'config';
  if (raw.cell !== undefined && typeof raw.cell !== 'string') bad('BAD_VALUE', `config.cell must be a cell kind's name, got ${JSON.stringify(raw.cell)}`);
  // Files from before cells were plug-ins have no cell: they are all vanilla.
  const cell = cellNamed(raw.cell ?? DEFAULT_CELL, options);
  const vocabSize = raw.vocabSize === null ? null : positiveIntField(where, raw, 'vocabSize');
  const config: RNNModelConfig = {
    cell: cell.name,
    vocabSize,
    inputSize: positiveIntField(where, raw, 'inputSize'),
    hiddenSize: positiveIntField(where, raw, 'hiddenSize'),
    numLayers: positiveIntField(where, raw, 'numLayers'),
    outputSize: positiveIntField(where, raw, 'outputSize'),
    activation: raw.activation as RNNModelConfig['activation'],
    dtype: raw.dtype as DType,
    loss: raw.loss as RNNModelConfig['loss'],
    init: raw.init as RNNModelConfig['init'],
    seed: typeof raw.seed === 'number' && Number.isInteger(raw.seed) ? raw.seed : bad('BAD_VALUE', `config.seed must be an integer, got ${JSON.stringify(raw.seed)}`),
    // Files from before dropout have neither: 0.
    dropout: dropoutField(raw, 'dropout'),
    headDropout: dropoutField(raw, 'headDropout'),
  };
  // Checked before anything loops over the layers: a file claiming 10^9 layers spun building
  // names of tensors it does not hold until the heap ran out.
  if (config.numLayers > MAX_LAYERS) bad('BAD_VALUE', `config.numLayers must be at most ${MAX_LAYERS}, got ${config.numLayers}`);
  if (vocabSize !== null && vocabSize !== config.inputSize) bad('BAD_VALUE', `config.vocabSize ${vocabSize} differs from config.inputSize ${config.inputSize}`);
  if (config.dtype !== 'float32' && config.dtype !== 'float64') bad('BAD_VALUE', `config.dtype must be 'float32' or 'float64', got ${JSON.stringify(raw.dtype)}`);
  return { config, cell };
}

function readTrainer(metadata: Record<string, string>, tensors: Map<string, SafeTensor>, config: RNNModelConfig, cell: CellKind,
  size: number): TrainerSnapshot | null {
  if (metadata.trainer === undefined) {
    const stray = [...tensors.keys()].find((n) => n.startsWith(OPTIM_PREFIX) || isStateName(n));
    if (stray) bad('BAD_VALUE', `tensor '${stray}' needs the 'trainer' metadata, which is absent`);
    return null;
  }
  const counters = parseJson('trainer', metadata.trainer);
  if (!isRecord(counters)) bad('BAD_VALUE', `metadata 'trainer' must be a JSON object`);
  const optimizer = metadata.optimizer === undefined ? bad('BAD_METADATA', `metadata 'optimizer' is missing (it goes with 'trainer')`) : parseJson('optimizer', metadata.optimizer);
  if (!isRecord(optimizer) || typeof optimizer.name !== 'string') bad('BAD_VALUE', `metadata 'optimizer' must be a JSON object with a name`);
  const dtype = safetensorsDType(config.dtype);
  const optimizerState: Record<string, FloatArray> = {};
  const hiddenStates: Record<string, FloatArray> = {};
  for (const [name, t] of tensors) {
    if (name.startsWith(OPTIM_PREFIX)) {
      if (t.dtype !== dtype || t.shape.length !== 1 || t.shape[0] !== size) {
        bad('BAD_VALUE', `tensor '${name}' must be ${dtype} [${size}] (one value per parameter), got ${t.dtype} [${t.shape.join(', ')}]`);
      }
      optimizerState[name.slice(OPTIM_PREFIX.length)] = t.data as FloatArray;
    } else if (isStateName(name)) {
      const at = parseStateName(cell, name);
      if (!at || at.layer >= config.numLayers) bad('BAD_VALUE', `unexpected tensor '${name}' (hidden states are ${stateNamePattern(cell)}, k < ${config.numLayers})`);
      const want = [config.hiddenSize, at.m];
      if (t.dtype !== dtype || t.shape.length !== 2 || t.shape[0] !== want[0] || t.shape[1] !== want[1]) {
        bad('BAD_VALUE', `tensor '${name}' must be ${dtype} [${want.join(', ')}], got ${t.dtype} [${t.shape.join(', ')}]`);
      }
      hiddenStates[name] = t.data as FloatArray;
    }
  }
  return {
    step: nonNegIntField('trainer', counters, 'step'),
    epoch: nonNegIntField('trainer', counters, 'epoch'),
    position: nonNegIntField('trainer', counters, 'position'),
    optimizer, optimizerState, hiddenStates,
  };
}

function readRng(metadata: Record<string, string>): RandomState | null {
  if (metadata.rng === undefined) return null;
  const v = parseJson('rng', metadata.rng);
  if (!Array.isArray(v) || v.length !== 6 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    bad('BAD_VALUE', `metadata 'rng' must be an array of 6 numbers`);
  }
  return v as number[];
}

/** Decodes and validates a checkpoint, building the model on `backend` (default 'auto'). */
export function decodeCheckpoint(bytes: Uint8Array, options: LoadCheckpointOptions = {}): LoadedCheckpoint {
  checkLoadOptions('decodeCheckpoint', options);
  const { tensors, metadata } = decodeSafetensors(bytes);
  if (metadata.format !== undefined && metadata.format !== CHECKPOINT_FORMAT) {
    bad('BAD_VALUE', `format '${metadata.format}' is not one this version reads (${CHECKPOINT_FORMAT})`);
  }
  let vocabulary: Vocabulary | null = null;
  if (metadata.vocabulary !== undefined) {
    try {
      vocabulary = Vocabulary.fromJSON(parseJson('vocabulary', metadata.vocabulary));
    } catch (err) {
      if (err instanceof CheckpointError) throw err;
      bad('BAD_VALUE', `metadata 'vocabulary' is not a vocabulary: ${(err as Error).message}`);
    }
  }
  const { config, cell } = readConfig(metadata, tensors, vocabulary !== null, options);
  const { numLayers: L, hiddenSize: H, inputSize, outputSize: V } = config;
  const dtype = safetensorsDType(config.dtype);

  // Every tensor the config needs, with its shape, before anything is built.
  const expected = new Map<string, readonly number[]>();
  for (let l = 0; l < L; l++) {
    for (const { name, shape } of cell.torch.tensors(layerSizes(config, l))) expected.set(name, shape);
  }
  expected.set(HEAD_WEIGHT, [V, H]);
  expected.set(HEAD_BIAS, [V]);
  for (const [name, shape] of expected) {
    const t = tensors.get(name);
    if (!t) bad('MISSING_TENSOR', `tensor '${name}' [${shape.join(', ')}] is missing`);
    if (t.dtype !== dtype) bad('BAD_VALUE', `tensor '${name}' is ${t.dtype} but the model is ${config.dtype} (${dtype})`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      bad('BAD_VALUE', `tensor '${name}' has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
    }
    const data = t.data as FloatArray;
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) bad('BAD_VALUE', `tensor '${name}' holds ${data[i]} at index ${i}`);
    }
  }
  for (const name of tensors.keys()) {
    if (!expected.has(name) && !name.startsWith(OPTIM_PREFIX) && !isStateName(name)) {
      bad('BAD_VALUE', `unexpected tensor '${name}' for a ${L}-layer model`);
    }
  }
  if (vocabulary !== null) {
    if (config.vocabSize === null) bad('BAD_VALUE', 'the checkpoint has a vocabulary but the model reads dense inputs');
    if (vocabulary.size !== V || vocabulary.size !== inputSize) {
      bad('BAD_VALUE', `the vocabulary has ${vocabulary.size} symbols but ${HEAD_WEIGHT} has ${V} rows and the first layer reads ${inputSize} inputs`);
    }
  }

  let model: RNNModel;
  try {
    model = new RNNModel({
      ...(config.vocabSize !== null ? { vocabSize: config.vocabSize } : { inputSize }),
      cell, hiddenSize: H, numLayers: L, outputSize: V, activation: config.activation, dtype: config.dtype,
      loss: config.loss, init: config.init, seed: config.seed, dropout: config.dropout, headDropout: config.headDropout,
      backend: options.backend,
    });
  } catch (err) {
    if (err instanceof TypeError || err instanceof RangeError) bad('BAD_VALUE', `the config does not describe a model: ${err.message}`);
    throw err;
  }
  for (let l = 0; l < L; l++) {
    const sizes = model.layout.layers[l].sizes;
    const data: Record<string, FloatArray> = {};
    for (const { name } of cell.torch.tensors(sizes)) data[name] = tensors.get(name)!.data as FloatArray;
    cell.torch.load(sizes, data, model.layerParams(l));
  }
  model.view(HEAD_WEIGHT).set(tensors.get(HEAD_WEIGHT)!.data as FloatArray);
  model.view(HEAD_BIAS).set(tensors.get(HEAD_BIAS)!.data as FloatArray);

  const trainer = readTrainer(metadata, tensors, config, cell, model.size);
  let metrics: { [key: string]: JsonValue } | null = null;
  if (metadata.metrics !== undefined) {
    const m = parseJson('metrics', metadata.metrics);
    if (!isRecord(m)) bad('BAD_VALUE', `metadata 'metrics' must be a JSON object`);
    metrics = m as { [key: string]: JsonValue };
  }
  const extra: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata)) {
    if (!(RESERVED_KEYS as readonly string[]).includes(key)) extra[key] = value;
  }
  return { model, config: model.config, vocabulary, trainer, rng: readRng(metadata), metrics, extra };
}

function checkLoadOptions(fn: string, options: LoadCheckpointOptions): void {
  checkOptions(fn, options, LOAD_OPTION_KEYS);
  if (options.cells !== undefined) {
    if (!Array.isArray(options.cells)) throw new TypeError(`${fn}: options.cells must be an array of CellKind objects`);
    options.cells.forEach((c) => checkCellKind(fn, c));
  }
}

/** Reads a checkpoint file (see decodeCheckpoint). */
export async function loadCheckpoint(file: string, options: LoadCheckpointOptions = {}): Promise<LoadedCheckpoint> {
  checkLoadOptions('loadCheckpoint', options);
  return decodeCheckpoint(await fsp.readFile(file), options);
}
