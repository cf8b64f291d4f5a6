// A seeded pseudo-random generator: xoshiro128** (Blackman & Vigna) over four 32-bit words.
//
// Why this generator: every step is 32-bit integer arithmetic (Math.imul, shifts, >>> 0), which
// JavaScript defines exactly, so the same seed gives the same stream bit for bit on every
// platform and Node version. Math.random cannot be seeded; a 64-bit generator would need BigInt
// in the hot path. The state is four uint32 words (plus the cached Box–Muller value), small
// enough to store in checkpoint metadata so a resumed run continues the very same stream.
//
// normal() uses Math.log/cos/sin; V8 implements them with its own fdlibm port (not the C
// library), so they too agree across platforms for one V8.

const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;

/** The generator's full state: four uint32 words, whether a normal is cached, and that value. */
export type RandomState = readonly number[];

/** Anything indexable and writable with a length: arrays and typed arrays. */
export interface MutableArrayLike<T> {
  readonly length: number;
  [index: number]: T;
}

/** splitmix32 finalizer: spreads a 32-bit input over all output bits (seeding only). */
export function mix32(z: number): number {
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

export class Random {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  // Box–Muller yields two independent normals per pair of uniforms; the second is kept here.
  private hasSpare = false;
  private spare = 0;

  /** @param seed any safe integer (negative ones included); the same seed gives the same stream. */
  constructor(seed: number = 0) {
    if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
      throw new TypeError(`Random: seed must be a safe integer, got ${String(seed)}`);
    }
    // Both 32-bit halves of the seed's 64-bit two's complement feed the state, so seeds that
    // differ only above bit 31 still give different streams.
    const wide = BigInt.asUintN(64, BigInt(seed));
    const lo = Number(wide & 0xffffffffn);
    const hi = Number(wide >> 32n);
    // splitmix32 sequence: state advances by the golden-ratio constant, each output mixed.
    let x = (lo ^ mix32(hi ^ 0x6a09e667)) >>> 0;
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      words.push(mix32(x));
    }
    // xoshiro's one forbidden state is all zeros (it would stay zero forever).
    if ((words[0] | words[1] | words[2] | words[3]) === 0) words[0] = 1;
    [this.s0, this.s1, this.s2, this.s3] = words;
  }

  /** The next uint32 in [0, 2^32): xoshiro128** output and state update. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** An integer uniform in [0, 2^53): 27 + 26 bits from two outputs. */
  private next53(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return a * 67108864 + b;
  }

  /** A double uniform in [0, 1), on the grid k·2^-53 (every representable step is reachable). */
  next(): number {
    return this.next53() / TWO_POW_53;
  }

  /** A double uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi < lo) {
      throw new RangeError(`Random.uniform: need finite lo <= hi, got lo=${lo}, hi=${hi}`);
    }
    return lo + (hi - lo) * this.next();
  }

  /** A standard normal N(0, 1) by Box–Muller; every second call returns the cached twin. */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    // u1 in (0, 1] so log(u1) is finite; r = sqrt(−2 ln u1), θ = 2π u2.
    const u1 = 1 - this.next();
    const u2 = this.next();
    const r = Math.sqrt(-2 * Math.log(u1));
    const theta = 2 * Math.PI * u2;
    this.spare = r * Math.sin(theta);
    this.hasSpare = true;
    return r * Math.cos(theta);
  }

  /** An integer uniform in [0, n), without modulo bias (rejection sampling). */
  int(n: number): number {
    if (!Number.isSafeInteger(n) || n <= 0) {
      throw new RangeError(`Random.int: n must be a positive safe integer, got ${String(n)}`);
    }
    if (n <= TWO_POW_32) {
      // Reject the top partial block so each residue has exactly floor(2^32 / n) preimages.
      const limit = TWO_POW_32 - (TWO_POW_32 % n);
      for (;;) {
        const x = this.nextUint32();
        if (x < limit) return x % n;
      }
    }
    const limit = TWO_POW_53 - (TWO_POW_53 % n);
    for (;;) {
      const x = this.next53();
      if (x < limit) return x % n;
    }
  }

  /** Shuffles in place (Fisher–Yates, from the end) and returns the same array. */
  shuffle<A extends MutableArrayLike<unknown>>(array: A): A {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = array[i];
      array[i] = array[j];
      array[j] = tmp;
    }
    return array;
  }

  /**
   * Samples an index from a categorical distribution. The weights need not sum to 1 (they are
   * normalized by their sum), but must be finite, non-negative, and not all zero.
   */
  choice(probabilities: ArrayLike<number>): number {
    const n = probabilities.length;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const p = probabilities[i];
      if (!(p >= 0) || !Number.isFinite(p)) {
        throw new RangeError(`Random.choice: probabilities[${i}] must be finite and >= 0, got ${p}`);
      }
      total += p;
    }
    if (!(total > 0) || !Number.isFinite(total)) {
      throw new RangeError(`Random.choice: probabilities must have a positive finite sum, got ${total}`);
    }
    const u = this.next() * total;
    let cumulative = 0;
    let lastPositive = -1;
    for (let i = 0; i < n; i++) {
      const p = probabilities[i];
      if (p > 0) lastPositive = i;
      cumulative += p;
      if (u < cumulative) return i;
    }
    // Rounding can leave u just above the final cumulative sum; the answer is then the last
    // index that has any mass (never a zero-probability one).
    return lastPositive;
  }

  /** The full state, for checkpoints: [s0, s1, s2, s3, hasSpare (0|1), spare]. */
  state(): RandomState {
    return [this.s0, this.s1, this.s2, this.s3, this.hasSpare ? 1 : 0, this.hasSpare ? this.spare : 0];
  }

  /** Restores a state from state(); the stream then continues exactly where it was. */
  setState(state: RandomState): void {
    if (!Array.isArray(state) || state.length !== 6) {
      throw new TypeError('Random.setState: state must be an array of 6 numbers, as state() returns');
    }
    for (let i = 0; i < 4; i++) {
      const w: unknown = state[i];
      if (typeof w !== 'number' || !Number.isInteger(w) || w < 0 || w >= TWO_POW_32) {
        throw new RangeError(`Random.setState: state[${i}] must be a uint32, got ${String(w)}`);
      }
    }
    if ((state[0] | state[1] | state[2] | state[3]) === 0) {
      throw new RangeError('Random.setState: the all-zero state is not a valid xoshiro128** state');
    }
    if (state[4] !== 0 && state[4] !== 1) {
      throw new RangeError(`Random.setState: state[4] must be 0 or 1, got ${String(state[4])}`);
    }
    if (typeof state[5] !== 'number' || !Number.isFinite(state[5])) {
      throw new RangeError(`Random.setState: state[5] must be a finite number, got ${String(state[5])}`);
    }
    [this.s0, this.s1, this.s2, this.s3] = state;
    this.hasSpare = state[4] === 1;
    this.spare = this.hasSpare ? state[5] : 0;
  }
}
