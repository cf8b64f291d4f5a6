// Sampling from a token model: prime the state with `prime`, then draw each next token from
// softmax(logits / temperature) with a seeded generator, one step (one recorded program) at a time.
import { invalidRange } from '../backend/errors';
import type { Op } from '../backend/types';
import { Random } from '../random';
import type { InferenceModel } from './inference';
import { checkOptions, isNonNegativeInt, keysOf } from './predicates';
import { recordCarry, recordForward } from './recording';

export interface SampleOptions {
  /** Tokens to draw. */
  length: number;
  /** Softmax temperature (default 1): lower is safer, higher is wilder. */
  temperature?: number;
  /** Token ids fed first, from zero state (default: token 0). */
  prime?: ArrayLike<number>;
  /** A generator the caller owns and continues; otherwise a new Random(seed). */
  rng?: Random;
  seed?: number;
  /** Stop after drawing this token (it is included). */
  stopAt?: number;
}

export const SAMPLE_OPTION_KEYS = keysOf<SampleOptions>({ length: true, temperature: true, prime: true, rng: true, seed: true, stopAt: true });

export function sample(model: InferenceModel, raw: SampleOptions): Int32Array {
  const fn = 'RNNModel.sample';
  const options = checkOptions(fn, raw, SAMPLE_OPTION_KEYS, { optional: false });
  if (model.config.vocabSize === null) throw new TypeError(`${fn}: sampling needs a token model (vocabSize)`);
  const length = options.length;
  if (!isNonNegativeInt(length)) throw invalidRange(fn, 'length', 'a non-negative integer', length);
  const temperature = options.temperature ?? 1;
  if (typeof temperature !== 'number' || !(temperature > 0) || !Number.isFinite(temperature)) {
    throw invalidRange(fn, 'temperature', 'a positive number', temperature);
  }
  const rng = options.rng ?? new Random(options.seed ?? 0);
  const V = model.config.outputSize, vocab = model.config.inputSize;
  const prime = Array.from(options.prime ?? []);
  for (const id of prime) {
    if (!isNonNegativeInt(id) || id >= vocab) throw invalidRange(fn, 'prime', `token ids in [0, ${vocab})`, id);
  }
  const { ws, release } = model.inferenceWorkspace(1, 1);
  try {
    const kernels = model.backend as unknown as Record<string, (...a: unknown[]) => unknown>;
    const ids = new Int32Array(1);
    const probs = new Float64Array(V);
    const out = new Int32Array(length);
    const step = (id: number, first: boolean) => {
      ids[0] = id;
      const ops: Op[] = [];
      recordForward(model, ops, ws, { ids, steps: 1, batch: 1 }, null, 0, first);
      recordCarry(model, ops, ws);
      for (const op of ops) kernels[op[0]](...op.slice(1));
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
  } finally {
    release();
  }
}
