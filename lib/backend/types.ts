// The backend interface: one method per kernel, with BLAS-style flat arguments
// (typed array + element offset + leading dimension), identical for the native addon and
// the pure-TypeScript backend. Layers above build on this and never know which backend runs.
//
// Conventions (the same as native/kernels/kernels.h):
// - row-major views (data, offset, rows, cols, ld) with ld >= cols;
// - the dtype is the typed array's: every float array of one call is Float32Array, or every
//   one is Float64Array;
// - gradient outputs accumulate (+=); scalar results (loss, sum of squares) are added into a
//   Float64Array slot and also returned, so a recorded program can carry them.

export type FloatArray = Float32Array | Float64Array;
export type DType = 'float32' | 'float64';
export type Activation = 'tanh' | 'relu' | 'sigmoid';
export type BackendName = 'native' | 'ts';

export interface Kernels {
  /** C = alpha·op(A)·op(B) + beta·C; op(A) is M×K, op(B) is K×N. beta = 0 never reads C. */
  gemm(transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
    A: FloatArray, offA: number, lda: number, B: FloatArray, offB: number, ldb: number,
    beta: number, C: FloatArray, offC: number, ldc: number): void;

  /** C = f(U) over a rows×cols view; C may be exactly U. */
  activationForward(act: Activation, rows: number, cols: number,
    U: FloatArray, offU: number, ldu: number, C: FloatArray, offC: number, ldc: number): void;

  /** dU = dC ⊙ f'(C) from the saved output C (tanh: 1 − C²); dU may be exactly dC. */
  activationBackward(act: Activation, rows: number, cols: number,
    dC: FloatArray, offdC: number, lddC: number, C: FloatArray, offC: number, ldc: number,
    dU: FloatArray, offdU: number, lddU: number): void;

  /** X[i, j] += b[i] */
  addBias(rows: number, cols: number, b: FloatArray, offb: number,
    X: FloatArray, offX: number, ldx: number): void;

  /** y[i] += Σ_j X[i, j] */
  rowSum(rows: number, cols: number, X: FloatArray, offX: number, ldx: number,
    y: FloatArray, offy: number): void;

  /** y += alpha·x */
  axpy(n: number, alpha: number, x: FloatArray, offx: number, y: FloatArray, offy: number): void;
  /** x *= alpha */
  scale(n: number, alpha: number, x: FloatArray, offx: number): void;
  /** x[:] = value */
  fill(n: number, value: number, x: FloatArray, offx: number): void;
  /** y[:] = x[:] (no overlap) */
  copy(n: number, x: FloatArray, offx: number, y: FloatArray, offy: number): void;
  /** Y = X over a rows×cols view (no overlap): moves a column block of a Sequence. */
  copyMatrix(rows: number, cols: number, X: FloatArray, offX: number, ldx: number,
    Y: FloatArray, offY: number, ldy: number): void;
  /** out[offOut] += Σ x²; returns Σ x² */
  sumSquares(n: number, x: FloatArray, offx: number, out: Float64Array, offOut: number): number;
  /** x = clamp(x, −limit, limit) */
  clipByValue(n: number, limit: number, x: FloatArray, offx: number): void;

  /**
   * Per column j of logits (V×N): loss_j = −log softmax(logits[:, j])[targets[j]],
   * dLogits[:, j] = scale·(softmax − onehot). Target −1 ignores the column.
   * loss[offLoss] += Σ loss_j; returns Σ loss_j. dLogits may be exactly logits.
   */
  softmaxCrossEntropy(V: number, N: number, logits: FloatArray, offL: number, ldl: number,
    targets: Int32Array, offT: number, scale: number,
    dLogits: FloatArray, offD: number, ldd: number, loss: Float64Array, offLoss: number): number;

  /** out[:, j] = W[:, ids[j]] (+= when accumulate); W is rows×V. */
  gatherColumns(rows: number, V: number, n: number, W: FloatArray, offW: number, ldw: number,
    ids: Int32Array, offIds: number, out: FloatArray, offOut: number, ldo: number,
    accumulate: boolean): void;

  /** dW[:, ids[j]] += dU[:, j]; dW is rows×V. */
  scatterAddColumns(rows: number, V: number, n: number, dU: FloatArray, offdU: number,
    lddU: number, ids: Int32Array, offIds: number, dW: FloatArray, offdW: number,
    lddW: number): void;

  /**
   * Whole-sequence forward. X is n_x×(T·m) dense, or Int32Array token ids of length T·m
   * (then n_x is the vocabulary size). H is n_c×((T+1)·m) with c0 in its first m columns.
   */
  rnnForward(act: Activation, nx: number, nc: number, T: number, m: number,
    X: FloatArray | Int32Array, offX: number, Wx: FloatArray, offWx: number,
    Wc: FloatArray, offWc: number, b: FloatArray, offb: number,
    H: FloatArray, offH: number): void;

  /**
   * Whole-sequence backward. dC (n_c×T·m) from above; dU (n_c×T·m) written, may be exactly
   * dC. Accumulates dWx, dWc, db, dX (null for ids, or when not wanted) and dc0 (n_c×m).
   */
  rnnBackward(act: Activation, nx: number, nc: number, T: number, m: number,
    X: FloatArray | Int32Array, offX: number, H: FloatArray, offH: number,
    Wx: FloatArray, offWx: number, Wc: FloatArray, offWc: number,
    dC: FloatArray, offdC: number, dU: FloatArray, offdU: number,
    dWx: FloatArray, offdWx: number, dWc: FloatArray, offdWc: number,
    db: FloatArray, offdb: number, dX: FloatArray | null, offdX: number,
    dc0: FloatArray, offdc0: number): void;

  /** SGD with momentum (PyTorch form); velocity may be null when momentum is 0. */
  sgdUpdate(n: number, p: FloatArray, offp: number, g: FloatArray, offg: number,
    velocity: FloatArray | null, offv: number, lr: number, momentum: number,
    nesterov: boolean, weightDecay: number): void;

  /** Adam / AdamW (decoupled) with bias correction; step counts from 1. */
  adamUpdate(n: number, p: FloatArray, offp: number, g: FloatArray, offg: number,
    m: FloatArray, offm: number, v: FloatArray, offv: number, lr: number, beta1: number,
    beta2: number, eps: number, weightDecay: number, decoupled: boolean, step: number): void;

  /** Adagrad: h += g²; p −= lr·g/(√h + eps) */
  adagradUpdate(n: number, p: FloatArray, offp: number, g: FloatArray, offg: number,
    h: FloatArray, offh: number, lr: number, eps: number, weightDecay: number): void;

  /** RMSProp: s = alpha·s + (1 − alpha)·g²; p −= lr·g/(√s + eps) */
  rmspropUpdate(n: number, p: FloatArray, offp: number, g: FloatArray, offg: number,
    s: FloatArray, offs: number, lr: number, alpha: number, eps: number,
    weightDecay: number): void;
}

export type KernelName = keyof Kernels;

/** One recorded kernel call: its name and exactly the arguments the method takes. */
export type Op = { [K in KernelName]: [K, ...Parameters<Kernels[K]>] }[KernelName];

export interface Backend extends Kernels {
  readonly name: BackendName;
  /**
   * Runs a recorded list of kernel calls in order. The native backend validates every call
   * first, then runs them all off the main thread (one N-API crossing, the typed arrays held
   * alive until the Promise settles); the ts backend runs them after yielding to the loop.
   */
  run(program: readonly Op[]): Promise<void>;
  /** Threads the kernels use (always 1 on the ts backend). */
  getNumThreads(): number;
  setNumThreads(n: number): void;
}
