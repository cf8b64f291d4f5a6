// Checkpoints: a model (and optionally everything needed to resume its training) as one
// safetensors file that PyTorch reads directly (docs/ARCHITECTURE.md §4).
//
// Tensors, named and shaped as nn.RNN / nn.Linear state_dicts so `load_state_dict` takes them:
//   rnn.weight_ih_l{k}  [H, n_x]   Wx of layer k (n_x = vocabulary size for k = 0, else H)
//   rnn.weight_hh_l{k}  [H, H]     Wc
//   rnn.bias_ih_l{k}    [H]        b   (our one bias)
//   rnn.bias_hh_l{k}    [H]        zeros: PyTorch adds two biases, b_ih + b_hh, where we keep one
//   head.weight         [V, H]     Wy
//   head.bias           [V]        by
// and, for resuming, tensors PyTorch can ignore:
//   optim.<state>       [P]        optimizer state (Adam's exp_avg, exp_avg_sq; …), flat in the
//                                  parameter order above with one bias per layer
//   state.<T>x<m>.l{k}  [H, m]     the hidden state carried between chunks of a token stream
//
// __metadata__ (strings): format, config (JSON), vocabulary (JSON), trainer counters, optimizer
// settings, rng state, metrics, plus caller-chosen keys (the CLI stores its run options).
//
// On load b = b_ih + b_hh, so a file written by PyTorch loads too; every tensor the config
// needs must be present with its shape and the model's dtype, and nothing unexpected may be.
import { promises as fsp } from 'fs';
import type { Backend, BackendName, DType, FloatArray } from '../backend/types';
import { Vocabulary } from '../data/vocabulary';
import { MAX_LAYERS, RNNModel, type RNNModelConfig } from '../nn/model';
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
}

function bad(code: 'BAD_VALUE' | 'MISSING_TENSOR' | 'BAD_METADATA', message: string): never {
  throw new CheckpointError(code, `checkpoint: ${message}`);
}

function safetensorsDType(dtype: DType): 'F32' | 'F64' {
  return dtype === 'float32' ? 'F32' : 'F64';
}

// ---------------------------------------------------------------------------------------------
// Writing

/** The checkpoint as safetensors bytes. Weights are copied, never aliased. */
export function encodeCheckpoint(contents: CheckpointContents): Buffer {
  const { model } = contents;
  if (!(model instanceof RNNModel)) throw new TypeError('encodeCheckpoint: contents.model must be an RNNModel');
  const { config } = model;
  const dtype = safetensorsDType(config.dtype);
  const tensors: Record<string, SafeTensor> = {};
  const put = (name: string, shape: number[], data: FloatArray) => { tensors[name] = { dtype, shape, data: data.slice() }; };

  for (let l = 0; l < config.numLayers; l++) {
    const wx = model.entry(`rnn.weight_ih_l${l}`), wc = model.entry(`rnn.weight_hh_l${l}`);
    put(wx.name, [wx.rows, wx.cols], model.view(wx.name));
    put(wc.name, [wc.rows, wc.cols], model.view(wc.name));
    const b = model.view(`rnn.bias_l${l}`);
    put(`rnn.bias_ih_l${l}`, [b.length], b);
    put(`rnn.bias_hh_l${l}`, [b.length], b.slice().fill(0));
  }
  const hw = model.entry('head.weight');
  put('head.weight', [hw.rows, hw.cols], model.view('head.weight'));
  put('head.bias', [config.outputSize], model.view('head.bias'));

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
    for (const [name, arr] of Object.entries(trainer.optimizerState)) put(`optim.${name}`, [arr.length], arr);
    for (const [name, arr] of Object.entries(trainer.hiddenStates)) {
      const m = /^state\.(\d+)x(\d+)\.l(\d+)$/.exec(name);
      if (!m) throw new RangeError(`encodeCheckpoint: hidden state name '${name}' is not state.<T>x<m>.l<k>`);
      put(name, [config.hiddenSize, Number(m[2])], arr);
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
  await writeFileAtomic(file, bytes, {
    verify: async (temp) => { decodeCheckpoint(await fsp.readFile(temp), { backend: 'ts' }); },
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

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function positiveIntField(where: string, obj: Record<string, unknown>, key: string): number {
  const v = obj[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) bad('BAD_VALUE', `${where}.${key} must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

function nonNegIntField(where: string, obj: Record<string, unknown>, key: string): number {
  const v = obj[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) bad('BAD_VALUE', `${where}.${key} must be an integer >= 0, got ${JSON.stringify(v)}`);
  return v;
}

/** The config from metadata, or (a file from PyTorch) inferred from the tensor shapes. */
function readConfig(metadata: Record<string, string>, tensors: Map<string, SafeTensor>, hasVocabulary: boolean): RNNModelConfig {
  if (metadata.config === undefined) {
    // nn.RNN's defaults: tanh; no seed or init matter once weights are loaded.
    const hh = tensors.get('rnn.weight_hh_l0'), ih = tensors.get('rnn.weight_ih_l0'), head = tensors.get('head.weight');
    if (!hh || !ih || !head) bad('MISSING_TENSOR', `no 'config' metadata, and rnn.weight_ih_l0, rnn.weight_hh_l0 and head.weight are needed to infer it`);
    if (hh.shape.length !== 2 || ih.shape.length !== 2 || head.shape.length !== 2) bad('BAD_VALUE', 'rnn.weight_ih_l0, rnn.weight_hh_l0 and head.weight must be 2-D');
    let numLayers = 0;
    while (tensors.has(`rnn.weight_hh_l${numLayers}`)) numLayers++;
    if (hh.dtype !== 'F32' && hh.dtype !== 'F64') bad('BAD_VALUE', `rnn.weight_hh_l0 has dtype ${hh.dtype}; only F32 and F64 load`);
    const inputSize = ih.shape[1], outputSize = head.shape[0];
    // A character model reads and predicts the same symbols.
    const tokens = hasVocabulary || inputSize === outputSize;
    return {
      vocabSize: tokens ? inputSize : null, inputSize, hiddenSize: hh.shape[0], numLayers, outputSize,
      activation: 'tanh', dtype: hh.dtype === 'F32' ? 'float32' : 'float64', loss: tokens ? 'cross-entropy' : 'mse',
      init: 'uniform', seed: 0,
    };
  }
  const raw = parseJson('config', metadata.config);
  if (!isRecord(raw)) bad('BAD_VALUE', `metadata 'config' must be a JSON object`);
  const where = 'config';
  const vocabSize = raw.vocabSize === null ? null : positiveIntField(where, raw, 'vocabSize');
  const config: RNNModelConfig = {
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
  };
  // Checked before anything loops over the layers: a file claiming 10^9 layers spun building
  // names of tensors it does not hold until the heap ran out.
  if (config.numLayers > MAX_LAYERS) bad('BAD_VALUE', `config.numLayers must be at most ${MAX_LAYERS}, got ${config.numLayers}`);
  if (vocabSize !== null && vocabSize !== config.inputSize) bad('BAD_VALUE', `config.vocabSize ${vocabSize} differs from config.inputSize ${config.inputSize}`);
  if (config.dtype !== 'float32' && config.dtype !== 'float64') bad('BAD_VALUE', `config.dtype must be 'float32' or 'float64', got ${JSON.stringify(raw.dtype)}`);
  return config;
}

function readTrainer(metadata: Record<string, string>, tensors: Map<string, SafeTensor>, config: RNNModelConfig, size: number): TrainerSnapshot | null {
  if (metadata.trainer === undefined) {
    const stray = [...tensors.keys()].find((n) => n.startsWith('optim.') || n.startsWith('state.'));
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
    if (name.startsWith('optim.')) {
      if (t.dtype !== dtype || t.shape.length !== 1 || t.shape[0] !== size) {
        bad('BAD_VALUE', `tensor '${name}' must be ${dtype} [${size}] (one value per parameter), got ${t.dtype} [${t.shape.join(', ')}]`);
      }
      optimizerState[name.slice('optim.'.length)] = t.data as FloatArray;
    } else if (name.startsWith('state.')) {
      const m = /^state\.([1-9]\d*)x([1-9]\d*)\.l(\d+)$/.exec(name);
      if (!m || Number(m[3]) >= config.numLayers) bad('BAD_VALUE', `unexpected tensor '${name}' (hidden states are state.<T>x<m>.l<k>, k < ${config.numLayers})`);
      const want = [config.hiddenSize, Number(m[2])];
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
  const config = readConfig(metadata, tensors, vocabulary !== null);
  const { numLayers: L, hiddenSize: H, inputSize, outputSize: V } = config;
  const dtype = safetensorsDType(config.dtype);

  // Every tensor the config needs, with its shape, before anything is built.
  const expected = new Map<string, number[]>();
  for (let l = 0; l < L; l++) {
    expected.set(`rnn.weight_ih_l${l}`, [H, l === 0 ? inputSize : H]);
    expected.set(`rnn.weight_hh_l${l}`, [H, H]);
    expected.set(`rnn.bias_ih_l${l}`, [H]);
    expected.set(`rnn.bias_hh_l${l}`, [H]);
  }
  expected.set('head.weight', [V, H]);
  expected.set('head.bias', [V]);
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
    if (!expected.has(name) && !name.startsWith('optim.') && !name.startsWith('state.')) {
      bad('BAD_VALUE', `unexpected tensor '${name}' for a ${L}-layer model`);
    }
  }
  if (vocabulary !== null) {
    if (config.vocabSize === null) bad('BAD_VALUE', 'the checkpoint has a vocabulary but the model reads dense inputs');
    if (vocabulary.size !== V || vocabulary.size !== inputSize) {
      bad('BAD_VALUE', `the vocabulary has ${vocabulary.size} symbols but head.weight has ${V} rows and rnn.weight_ih_l0 has ${inputSize} columns`);
    }
  }

  let model: RNNModel;
  try {
    model = new RNNModel({
      ...(config.vocabSize !== null ? { vocabSize: config.vocabSize } : { inputSize }),
      hiddenSize: H, numLayers: L, outputSize: V, activation: config.activation, dtype: config.dtype,
      loss: config.loss, init: config.init, seed: config.seed, backend: options.backend,
    });
  } catch (err) {
    if (err instanceof TypeError || err instanceof RangeError) bad('BAD_VALUE', `the config does not describe a model: ${err.message}`);
    throw err;
  }
  for (let l = 0; l < L; l++) {
    model.view(`rnn.weight_ih_l${l}`).set(tensors.get(`rnn.weight_ih_l${l}`)!.data as FloatArray);
    model.view(`rnn.weight_hh_l${l}`).set(tensors.get(`rnn.weight_hh_l${l}`)!.data as FloatArray);
    // PyTorch: h_t = tanh(W_ih x + b_ih + W_hh h + b_hh); ours has b = b_ih + b_hh.
    const b = model.view(`rnn.bias_l${l}`);
    const bih = tensors.get(`rnn.bias_ih_l${l}`)!.data as FloatArray, bhh = tensors.get(`rnn.bias_hh_l${l}`)!.data as FloatArray;
    // Adding a zero b_hh is skipped so our own files round-trip bit for bit (−0 + 0 is +0).
    for (let i = 0; i < H; i++) b[i] = bhh[i] === 0 ? bih[i] : bih[i] + bhh[i];
  }
  model.view('head.weight').set(tensors.get('head.weight')!.data as FloatArray);
  model.view('head.bias').set(tensors.get('head.bias')!.data as FloatArray);

  const trainer = readTrainer(metadata, tensors, config, model.size);
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

/** Reads a checkpoint file (see decodeCheckpoint). */
export async function loadCheckpoint(file: string, options: LoadCheckpointOptions = {}): Promise<LoadedCheckpoint> {
  return decodeCheckpoint(await fsp.readFile(file), options);
}
