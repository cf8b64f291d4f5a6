// The seed's RNN cell, c_t = f(Wc c_{t−1} + Wx x_t + b), on mini-batches with one example
// per column. Forward and backward for one step and for a whole sequence; every pass is one
// kernel call (one N-API crossing on the native backend), and the backward pass is the
// seed's closed form: dU = dC ⊙ f'(C), dWx = dU·Xᵀ, dWc = dU·C_prevᵀ, db = rowsum(dU).
import * as backends from '../backend';
import { invalidRange, invalidType } from '../backend/errors';
import type { Activation, Backend, BackendName, DType, FloatArray } from '../backend/types';
import { Random } from '../random';
import {
  allocate, bytesPerElement, checkAllocation, checkMatrix, checkSequence, checkTokens, dtypeOf, zeros, type Matrix,
  type Sequence, type TokenSequence,
} from '../tensor';
import { checkInitKind, initRnnLayer, type InitKind } from './init';
import { checkActivation, checkDType, checkOptions, keysOf, positiveInt } from './predicates';

export interface RNNCellOptions {
  inputSize: number;
  hiddenSize: number;
  activation?: Activation;
  dtype?: DType;
  backend?: BackendName | 'auto' | Backend;
  seed?: number;
  init?: InitKind;
}

export interface RNNCellParams {
  /** (n_c × n_x) */
  Wx: Matrix;
  /** (n_c × n_c) */
  Wc: Matrix;
  /** (n_c × 1) */
  b: Matrix;
}

export interface RNNCellGrads {
  dWx: Matrix;
  dWc: Matrix;
  db: Matrix;
}

/** What backward needs from forward: the input and H = [c_prev | c] (or [c0 | C_1..C_T]). */
export interface RNNCache {
  readonly input: FloatArray | Int32Array;
  readonly H: FloatArray;
  readonly steps: number;
  readonly batch: number;
}

export const CELL_OPTION_KEYS = keysOf<RNNCellOptions>({
  inputSize: true, hiddenSize: true, activation: true, dtype: true, backend: true, seed: true, init: true,
});

export class RNNCell {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly activation: Activation;
  readonly dtype: DType;
  readonly backend: Backend;
  /** Wx, Wc and b in the seed's shapes; writable (replace data of the same shape and dtype). */
  readonly params: RNNCellParams;

  constructor(options: RNNCellOptions) {
    const fn = 'new RNNCell';
    checkOptions(fn, options, CELL_OPTION_KEYS, { optional: false });
    this.inputSize = positiveInt(fn, 'inputSize', options.inputSize);
    this.hiddenSize = positiveInt(fn, 'hiddenSize', options.hiddenSize);
    this.activation = checkActivation(fn, options.activation ?? 'tanh');
    this.dtype = checkDType(fn, options.dtype ?? 'float64');
    this.backend = backends.resolve(options.backend);
    const seed = options.seed ?? 0;
    if (!Number.isInteger(seed)) throw invalidType(fn, 'seed', 'an integer', seed);
    const init = checkInitKind(fn, options.init ?? 'uniform');
    const nx = this.inputSize, nc = this.hiddenSize;
    // All three at once, before any: each alone may fit the limit while together they do not.
    checkAllocation((nc * nx + nc * nc + nc) * bytesPerElement(this.dtype), `an RNNCell of ${nx} inputs and ${nc} hidden units`);
    this.params = { Wx: zeros(nc, nx, this.dtype), Wc: zeros(nc, nc, this.dtype), b: zeros(nc, 1, this.dtype) };
    initRnnLayer(new Random(seed), init, nx, nc, this.params.Wx.data, 0, this.params.Wc.data, 0, this.params.b.data, 0);
  }

  private checkParams(fn: string): void {
    const nx = this.inputSize, nc = this.hiddenSize;
    checkMatrix(fn, 'params.Wx', this.params.Wx, nc, nx, this.dtype);
    checkMatrix(fn, 'params.Wc', this.params.Wc, nc, nc, this.dtype);
    checkMatrix(fn, 'params.b', this.params.b, nc, 1, this.dtype);
  }

  /** The batch size of a step input: x (n_x × m) or m token ids. */
  private stepInput(fn: string, x: Matrix | Int32Array): { input: FloatArray | Int32Array; m: number } {
    if (x instanceof Int32Array) {
      const m = positiveInt(fn, 'x.length', x.length);
      checkTokens(fn, 'x', { ids: x, steps: 1, batch: m }, this.inputSize);
      return { input: x, m };
    }
    const checked = checkMatrix(fn, 'x', x, this.inputSize, null, this.dtype);
    positiveInt(fn, 'x.cols', checked.cols);
    return { input: checked.data, m: checked.cols };
  }

  /** One step: c = f(Wc·cPrev + Wx·x + b); x is (n_x × m) or m token ids; cPrev defaults to 0. */
  forward(x: Matrix | Int32Array, cPrev?: Matrix): { c: Matrix; cache: RNNCache } {
    const fn = 'RNNCell.forward';
    this.checkParams(fn);
    const { input, m } = this.stepInput(fn, x);
    const C = this.run(fn, input, 1, m, 'cPrev', cPrev);
    return { c: { rows: this.hiddenSize, cols: m, data: C.data }, cache: C.cache };
  }

  /** One step back: the gradients of the loss w.r.t. Wx, Wc, b, x and cPrev, given dc = ∂J/∂c. */
  backward(dc: Matrix, cache: RNNCache): RNNCellGrads & { dx: Matrix | null; dcPrev: Matrix } {
    const fn = 'RNNCell.backward';
    this.checkParams(fn);
    this.checkCache(fn, cache, 1);
    checkMatrix(fn, 'dc', dc, this.hiddenSize, cache.batch, this.dtype);
    const g = this.back(cache, dc.data);
    return {
      dWx: g.dWx, dWc: g.dWc, db: g.db,
      dx: g.dX ? { rows: this.inputSize, cols: cache.batch, data: g.dX } : null,
      dcPrev: g.dc0,
    };
  }

  /** T steps at once: X is a Sequence (n_x × T·m) or token ids; c0 (n_c × m) defaults to 0. */
  forwardSequence(X: Sequence | TokenSequence, c0?: Matrix): { C: Sequence; cache: RNNCache } {
    const fn = 'RNNCell.forwardSequence';
    this.checkParams(fn);
    let input: FloatArray | Int32Array, T: number, m: number;
    if (typeof X === 'object' && X !== null && (X as TokenSequence).ids instanceof Int32Array) {
      const t = checkTokens(fn, 'X', X, this.inputSize);
      input = t.ids; T = t.steps; m = t.batch;
    } else {
      const s = checkSequence(fn, 'X', X, this.inputSize, this.dtype);
      input = s.data; T = s.steps; m = s.batch;
    }
    const r = this.run(fn, input, T, m, 'c0', c0);
    return { C: { rows: this.hiddenSize, steps: T, batch: m, data: r.data }, cache: r.cache };
  }

  /** BPTT through the whole sequence given dC = ∂J/∂C_t for every step. */
  backwardSequence(dC: Sequence, cache: RNNCache): RNNCellGrads & { dX: Sequence | null; dc0: Matrix } {
    const fn = 'RNNCell.backwardSequence';
    this.checkParams(fn);
    this.checkCache(fn, cache, null);
    const s = checkSequence(fn, 'dC', dC, this.hiddenSize, this.dtype);
    if (s.steps !== cache.steps || s.batch !== cache.batch) {
      throw invalidRange(fn, 'dC', `${cache.steps} steps of batch ${cache.batch} (as in forward)`, `${s.steps} steps of batch ${s.batch}`);
    }
    const g = this.back(cache, s.data);
    return {
      dWx: g.dWx, dWc: g.dWc, db: g.db,
      dX: g.dX ? { rows: this.inputSize, steps: cache.steps, batch: cache.batch, data: g.dX } : null,
      dc0: g.dc0,
    };
  }

  private checkCache(fn: string, cache: RNNCache, steps: number | null): void {
    const c = cache as RNNCache | undefined;
    if (typeof c !== 'object' || c === null || !(c.H instanceof Float32Array || c.H instanceof Float64Array)) {
      throw invalidType(fn, 'cache', 'the cache a forward call returned', cache);
    }
    if (dtypeOf(c.H) !== this.dtype) throw invalidType(fn, 'cache', `the cache of a ${this.dtype} cell`, c.H);
    if (!Number.isInteger(c.steps) || c.steps < 1 || !Number.isInteger(c.batch) || c.batch < 1) {
      throw invalidRange(fn, 'cache', 'the cache a forward call returned', `steps ${c.steps}, batch ${c.batch}`);
    }
    if (steps !== null && c.steps !== steps) throw invalidRange(fn, 'cache', 'the cache of a single step', `${c.steps} steps`);
    if (c.H.length !== this.hiddenSize * (c.steps + 1) * c.batch) throw invalidRange(fn, 'cache', 'a cache of this cell', 'another shape');
    // The input too: a cache of a cell with the same n_c but another n_x (or vocabulary) must
    // not reach the kernels, which would read a longer buffer as this cell's X without error.
    const Tm = c.steps * c.batch;
    if (c.input instanceof Int32Array) {
      if (c.input.length !== Tm) throw invalidRange(fn, 'cache', `${Tm} token ids in cache.input`, `${c.input.length}`);
      for (let k = 0; k < Tm; k++) {
        const id = c.input[k];
        if (id < 0 || id >= this.inputSize) {
          throw invalidRange(fn, 'cache', `token ids in [0, ${this.inputSize}) in cache.input (a cache of this cell)`, `id ${id} at ${k}`);
        }
      }
    } else if (c.input instanceof Float32Array || c.input instanceof Float64Array) {
      if (dtypeOf(c.input) !== this.dtype) throw invalidType(fn, 'cache', `the cache of a ${this.dtype} cell`, c.input);
      if (c.input.length !== this.inputSize * Tm) {
        throw invalidRange(fn, 'cache', `a cache of this cell (cache.input of ${this.inputSize}x${Tm} values)`, `${c.input.length} values`);
      }
    } else {
      throw invalidType(fn, 'cache', 'the cache a forward call returned', cache);
    }
  }

  // H = [c0 | C_1 … C_T] is n_c × (T+1)·m; C is copied out of it so the caller owns its result.
  private run(fn: string, input: FloatArray | Int32Array, T: number, m: number, c0Name: string,
    c0?: Matrix): { data: FloatArray; cache: RNNCache } {
    const nc = this.hiddenSize, nx = this.inputSize, ld = (T + 1) * m;
    checkAllocation((nc * ld + nc * T * m) * bytesPerElement(this.dtype), `the forward buffers of ${T} steps of a batch of ${m}`);
    const H = allocate(this.dtype, nc * ld);
    const k = this.backend;
    if (c0 !== undefined) {
      checkMatrix(fn, c0Name, c0, nc, m, this.dtype);
      k.copyMatrix(nc, m, c0.data, 0, m, H, 0, ld);
    }
    const { Wx, Wc, b } = this.params;
    k.rnnForward(this.activation, nx, nc, T, m, input, 0, Wx.data, 0, Wc.data, 0, b.data, 0, H, 0);
    const C = allocate(this.dtype, nc * T * m);
    k.copyMatrix(nc, T * m, H, m, ld, C, 0, T * m);
    return { data: C, cache: { input, H, steps: T, batch: m } };
  }

  private back(cache: RNNCache, dC: FloatArray) {
    const nc = this.hiddenSize, nx = this.inputSize, T = cache.steps, m = cache.batch;
    const dt = this.dtype;
    const elements = nc * nx + nc * nc + nc + nc * m + nc * T * m + (cache.input instanceof Int32Array ? 0 : nx * T * m);
    checkAllocation(elements * bytesPerElement(dt), `the backward buffers of ${T} steps of a batch of ${m}`);
    const dWx = zeros(nc, nx, dt), dWc = zeros(nc, nc, dt), db = zeros(nc, 1, dt), dc0 = zeros(nc, m, dt);
    const dU = allocate(dt, nc * T * m);
    const dX = cache.input instanceof Int32Array ? null : allocate(dt, nx * T * m);
    const { Wx, Wc } = this.params;
    this.backend.rnnBackward(this.activation, nx, nc, T, m, cache.input, 0, cache.H, 0, Wx.data, 0, Wc.data, 0,
      dC, 0, dU, 0, dWx.data, 0, dWc.data, 0, db.data, 0, dX, 0, dc0.data, 0);
    return { dWx, dWc, db, dX, dc0 };
  }
}
