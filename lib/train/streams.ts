// A token stream cut for truncated BPTT, char-rnn style: m parallel streams over the tokens,
// each read in chunks of T steps, so chunk k of every stream follows chunk k − 1 and the hidden
// state can be carried from one to the next.

/** m parallel streams over a token array, cut into chunks of T steps. */
export class TokenStreams {
  readonly tokens: Int32Array;
  readonly batch: number;
  readonly steps: number;
  /** tokens per stream */
  readonly length: number;
  /** chunks per epoch */
  readonly chunks: number;
  readonly input: Int32Array;
  readonly target: Int32Array;

  constructor(fn: string, tokens: Int32Array, batch: number, steps: number) {
    this.tokens = tokens;
    this.batch = batch;
    this.steps = steps;
    this.length = Math.floor(tokens.length / batch);
    this.chunks = Math.floor((this.length - 1) / steps);
    if (this.chunks < 1) {
      throw new RangeError(`${fn}: ${tokens.length} tokens are too few for ${batch} streams of chunks of ${steps} ` +
        `(need at least ${batch * (steps + 1)}); lower batchSize or seqLength`);
    }
    this.input = new Int32Array(steps * batch);
    this.target = new Int32Array(steps * batch);
  }

  /** Fills input/target with chunk k: column t·m + j is stream j at position k·T + t. */
  load(k: number): void {
    const { batch: m, steps: T, length: L, tokens } = this;
    for (let t = 0; t < T; t++) {
      for (let j = 0; j < m; j++) {
        const at = j * L + k * T + t;
        this.input[t * m + j] = tokens[at];
        this.target[t * m + j] = tokens[at + 1];
      }
    }
  }
}
