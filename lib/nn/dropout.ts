// Dropout with PyTorch's semantics (nn.RNN/LSTM/GRU's `dropout`, nn.Dropout): in a training
// step each element of a dropped output is zeroed with probability p and the kept ones are
// scaled by 1/(1 − p) (inverted dropout), so inference needs no rescaling and never drops.
//
// A mask is a buffer of 0 and 1/(1 − p) in the model's dtype, multiplied into the layer's output
// (the contiguous copy the layer above reads, or the head's copy) and, in the backward, into
// ∂J/∂output — the same mask, so the gradient is that of the masked function.
//
// Masks are drawn by the dropoutMask kernel, bit for bit the same on every backend. Each
// (model seed, training step, slot) has its own generator, so the masks of step k do not
// depend on what ran before it: a run resumed from a checkpoint at step N draws exactly the
// masks the uninterrupted run drew, and a gradient check that repeats one step sees one fixed
// mask. Slot l is the output of layer l
// (l < L − 1 between layers; l = L − 1 is the head's input).
import { invalidRange, invalidType } from '../backend/errors';
import type { FloatArray, Op } from '../backend/types';
import { mix32, Random } from '../random';

const TWO_POW_32 = 4294967296;
/** Keys of the four state words; each word hashes all inputs under its own key. */
const WORD_KEYS = [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344] as const;

/** A probability in [0, 1): TypeError for a non-number, RangeError for a number outside. */
export function checkDropout(fn: string, name: string, v: unknown): number {
  if (typeof v !== 'number') throw invalidType(fn, name, 'a number in [0, 1)', v);
  if (!(v >= 0 && v < 1)) throw invalidRange(fn, name, 'a number in [0, 1)', v);
  return v;
}

/**
 * The starting state of one mask's generator (xoshiro128**): four words, each a hash of
 * (seed, step, slot) — the seed's two 32-bit halves, the step's low 32 and high 21 bits with the
 * slot (< 2^11) above them — through chained mix32 under its own key, so neighbouring steps or
 * slots start from unrelated states.
 */
export function maskState(seed: number, step: number, slot: number): number[] {
  const wide = BigInt.asUintN(64, BigInt(seed));
  const inputs = [Number(wide & 0xffffffffn), Number(wide >> 32n), step % TWO_POW_32,
    ((Math.floor(step / TWO_POW_32) & 0x1fffff) | (slot << 21)) >>> 0];
  const words = WORD_KEYS.map((key): number => {
    let h: number = key;
    for (const v of inputs) h = mix32((h ^ v) >>> 0);
    return h;
  });
  if ((words[0] | words[1] | words[2] | words[3]) === 0) words[0] = 1;
  return words;
}

/** The generator of one mask, as a Random (the stream the dropoutMask op draws from; tests compare the two). */
export function maskGenerator(seed: number, step: number, slot: number): Random {
  const rng = new Random(0);
  rng.setState([...maskState(seed, step, slot), 0, 0]);
  return rng;
}

/**
 * The op that fills mask[0, n) for (seed, step, slot) on the backend running the program: each
 * element 0 with probability p (a uint32 of the generator below round(p·2^32)), else 1/(1 − p)
 * rounded to the mask's dtype, as PyTorch's kept values x·1/(1 − p). The native backend draws
 * it in C++ (off the main thread in an async step), the ts one in TypeScript: the same bits.
 */
export function maskOp(mask: FloatArray, n: number, p: number, seed: number, step: number, slot: number): Op {
  const [s0, s1, s2, s3] = maskState(seed, step, slot);
  return ['dropoutMask', n, p, s0, s1, s2, s3, mask, 0];
}
