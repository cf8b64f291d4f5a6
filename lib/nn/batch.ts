// A batch against a model: the input (token ids or a dense Sequence) and the target (class ids
// or a dense Sequence, by the loss), each wrong piece named, before anything is recorded.
import { invalidRange, invalidType } from '../backend/errors';
import type { FloatArray } from '../backend/types';
import { dtypeOf, type Sequence, type TokenSequence } from '../tensor';
import type { RNNModelConfig } from './layout';
import { positiveInt } from './predicates';

export type ModelInput = TokenSequence | Sequence;
export type ModelTarget = Int32Array | Sequence;

function isFloatArray(v: unknown): v is FloatArray {
  return v instanceof Float32Array || v instanceof Float64Array;
}

/** Checks an input against the model; returns its steps T and batch m. */
export function checkInput(fn: string, config: RNNModelConfig, input: ModelInput): { T: number; m: number } {
  const { inputSize, dtype } = config;
  let T: number, m: number;
  if (config.vocabSize !== null) {
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
    if (typeof input !== 'object' || input === null || !isFloatArray(s.data)) {
      throw invalidType(fn, 'input', 'a Sequence { rows, steps, batch, data }', input);
    }
    if (dtypeOf(s.data) !== dtype) throw invalidType(fn, 'input.data', `${dtype} data`, s.data);
    if (s.rows !== inputSize) throw invalidRange(fn, 'input.rows', `${inputSize}`, s.rows);
    T = positiveInt(fn, 'input.steps', s.steps);
    m = positiveInt(fn, 'input.batch', s.batch);
    if (s.data.length !== inputSize * T * m) throw invalidRange(fn, 'input.data', `${inputSize * T * m} values`, `${s.data.length}`);
  }
  return { T, m };
}

/** Checks a target for an input of T steps of m; returns the loss normalizer (targets counted). */
export function checkTarget(fn: string, config: RNNModelConfig, target: ModelTarget, T: number, m: number): number {
  const { outputSize, dtype } = config;
  if (config.loss === 'cross-entropy') {
    if (!(target instanceof Int32Array)) throw invalidType(fn, 'target', 'an Int32Array of class ids (-1 to ignore)', target);
    if (target.length !== T * m) throw invalidRange(fn, 'target', `${T * m} class ids (steps·batch)`, `${target.length}`);
    let count = 0;
    for (let k = 0; k < target.length; k++) {
      const y = target[k];
      if (y < -1 || y >= outputSize) throw invalidRange(fn, `target[${k}]`, `a class in [0, ${outputSize}) or -1`, y);
      if (y >= 0) count++;
    }
    return count;
  }
  const s = target as Sequence;
  if (typeof target !== 'object' || target === null || target instanceof Int32Array || !isFloatArray(s.data)) {
    throw invalidType(fn, 'target', 'a Sequence of outputs', target);
  }
  if (dtypeOf(s.data) !== dtype) throw invalidType(fn, 'target.data', `${dtype} data`, s.data);
  if (s.rows !== outputSize || s.steps !== T || s.batch !== m || s.data.length !== outputSize * T * m) {
    throw invalidRange(fn, 'target', `a ${outputSize} x (${T}·${m}) Sequence`, `${s.rows} x (${s.steps}·${s.batch})`);
  }
  return outputSize * T * m;
}

/** Checks a batch against the model; returns T, m and the loss normalizer. */
export function checkBatch(fn: string, config: RNNModelConfig, input: ModelInput, target: ModelTarget): { T: number; m: number; count: number } {
  const { T, m } = checkInput(fn, config, input);
  return { T, m, count: checkTarget(fn, config, target, T, m) };
}

/** The array the first layer reads: the ids of a token input, the data of a dense one. */
export function inputArray(config: RNNModelConfig, input: ModelInput): FloatArray | Int32Array {
  return config.vocabSize !== null ? (input as TokenSequence).ids : (input as Sequence).data;
}
