// LSTMCell and GRUCell: one layer of PyTorch's nn.LSTM / nn.GRU on mini-batches with one example
// per column (DESIGN §10). A whole sequence is one fused kernel call each way; the backward is
// the seed's eq. 8 applied per gate (dU = dGate ⊙ f'(gate) from the saved gate outputs, then
// one matrix product per parameter over the whole sequence). A single step is a sequence of 1.
import * as backends from '../backend';
import { invalidRange, invalidType } from '../backend/errors';
import type { Backend, BackendName, DType, FloatArray } from '../backend/types';
import { Random } from '../random';
import {
  allocate, bytesPerElement, checkAllocation, checkMatrix, checkSequence, checkTokens, dtypeOf, zeros, type Matrix,
  type Sequence, type TokenSequence,
} from '../tensor';
import { gruCell, lstmCell } from './cells/gated';
import type { CellKind } from './cells/types';
import { checkInitKind, type InitKind } from './init';
import { checkDType, checkOptions, keysOf, positiveInt } from './predicates';

export interface GatedCellOptions {
  inputSize: number;
  hiddenSize: number;
  dtype?: DType;
  backend?: BackendName | 'auto' | Backend;
  seed?: number;
  init?: InitKind;
}

/** Wx (G·n_c × n_x), Wc (G·n_c × n_c), bx, bc (G·n_c × 1): PyTorch's weight_ih, weight_hh, bias_ih, bias_hh. */
export interface GatedCellParams { Wx: Matrix; Wc: Matrix; bx: Matrix; bc: Matrix }
export interface GatedCellGrads { dWx: Matrix; dWc: Matrix; dbx: Matrix; dbc: Matrix }
/** The state of a layer: h (n_c × m) and, for an LSTM, the cell state c (n_c × m). */
export interface CellState { h: Matrix; c?: Matrix }

/** What backward needs from forward: the input, H = [h0 | h_1..h_T], S = [c0 | c_1..c_T] (LSTM), the gates G. */
export interface GatedCache {
  readonly input: FloatArray | Int32Array;
  readonly H: FloatArray;
  readonly S: FloatArray | null;
  readonly G: FloatArray;
  readonly steps: number;
  readonly batch: number;
}

const OPTION_KEYS = keysOf<GatedCellOptions>({ inputSize: true, hiddenSize: true, dtype: true, backend: true, seed: true, init: true });

class GatedCell {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly dtype: DType;
  readonly backend: Backend;
  /** Writable: replace data of the same shape and dtype. */
  readonly params: GatedCellParams;
  private readonly G: number;
  private readonly lstm: boolean;

  protected constructor(kind: CellKind, private readonly fn: string, options: GatedCellOptions) {
    checkOptions(`new ${fn}`, options, OPTION_KEYS, { optional: false });
    const ctor = `new ${fn}`;
    this.inputSize = positiveInt(ctor, 'inputSize', options.inputSize);
    this.hiddenSize = positiveInt(ctor, 'hiddenSize', options.hiddenSize);
    this.dtype = checkDType(ctor, options.dtype ?? 'float64');
    this.backend = backends.resolve(options.backend);
    const seed = options.seed ?? 0;
    if (!Number.isInteger(seed)) throw invalidType(ctor, 'seed', 'an integer', seed);
    const init = checkInitKind(ctor, options.init ?? 'uniform');
    this.G = kind.gates;
    this.lstm = kind.states.includes('c');
    const nx = this.inputSize, nc = this.hiddenSize, gn = this.G * nc;
    checkAllocation((gn * (nx + nc + 2)) * bytesPerElement(this.dtype), `an ${fn} of ${nx} inputs and ${nc} hidden units`);
    this.params = { Wx: zeros(gn, nx, this.dtype), Wc: zeros(gn, nc, this.dtype), bx: zeros(gn, 1, this.dtype), bc: zeros(gn, 1, this.dtype) };
    const p = this.params;
    kind.init(new Random(seed), init, { inputSize: nx, hiddenSize: nc, layer: 0 }, { Wx: p.Wx.data, Wc: p.Wc.data, bx: p.bx.data, bc: p.bc.data });
  }

  private checkParams(fn: string): void {
    const nx = this.inputSize, nc = this.hiddenSize, gn = this.G * nc;
    checkMatrix(fn, 'params.Wx', this.params.Wx, gn, nx, this.dtype);
    checkMatrix(fn, 'params.Wc', this.params.Wc, gn, nc, this.dtype);
    checkMatrix(fn, 'params.bx', this.params.bx, gn, 1, this.dtype);
    checkMatrix(fn, 'params.bc', this.params.bc, gn, 1, this.dtype);
  }

  private input(fn: string, X: Sequence | TokenSequence): { input: FloatArray | Int32Array; T: number; m: number } {
    if (typeof X === 'object' && X !== null && (X as TokenSequence).ids instanceof Int32Array) {
      const t = checkTokens(fn, 'X', X, this.inputSize);
      return { input: t.ids, T: t.steps, m: t.batch };
    }
    const s = checkSequence(fn, 'X', X, this.inputSize, this.dtype);
    return { input: s.data, T: s.steps, m: s.batch };
  }

  private checkState(fn: string, name: string, state: unknown, m: number): CellState | null {
    if (state === undefined) return null;
    if (typeof state !== 'object' || state === null) throw invalidType(fn, name, `a state { h${this.lstm ? ', c' : ''} }`, state);
    const allowed = this.lstm ? ['h', 'c'] : ['h'];
    for (const k of Object.keys(state)) if (!allowed.includes(k)) throw new TypeError(`${fn}: ${name}.${k} is not a state of this cell (it has ${allowed.join(', ')})`);
    const s = state as CellState;
    if (s.h !== undefined) checkMatrix(fn, `${name}.h`, s.h, this.hiddenSize, m, this.dtype);
    if (s.c !== undefined) checkMatrix(fn, `${name}.c`, s.c, this.hiddenSize, m, this.dtype);
    return s;
  }

  /** T steps at once: X (n_x × T·m) or token ids; state0 (each n_c × m) defaults to zeros. */
  forwardSequence(X: Sequence | TokenSequence, state0?: CellState): { H: Sequence; state: CellState; cache: GatedCache } {
    const fn = `${this.fn}.forwardSequence`;
    this.checkParams(fn);
    const { input, T, m } = this.input(fn, X);
    return this.run(fn, input, T, m, this.checkState(fn, 'state0', state0, m));
  }

  /** BPTT through the whole sequence: dH = ∂J/∂h_t for every step; dState = ∂J/∂(final state), zero when absent. */
  backwardSequence(dH: Sequence, cache: GatedCache, dState?: Partial<CellState>): GatedCellGrads & { dX: Sequence | null; dState0: CellState } {
    const fn = `${this.fn}.backwardSequence`;
    this.checkParams(fn);
    this.checkCache(fn, cache, null);
    const s = checkSequence(fn, 'dH', dH, this.hiddenSize, this.dtype);
    if (s.steps !== cache.steps || s.batch !== cache.batch) {
      throw invalidRange(fn, 'dH', `${cache.steps} steps of batch ${cache.batch} (as in forward)`, `${s.steps} steps of batch ${s.batch}`);
    }
    const g = this.back(fn, cache, s.data, this.checkState(fn, 'dState', dState, cache.batch));
    return { ...g.grads, dX: g.dX ? { rows: this.inputSize, steps: cache.steps, batch: cache.batch, data: g.dX } : null, dState0: g.dState0 };
  }

  /** One step: x is (n_x × m) or m token ids; state defaults to zeros. */
  forward(x: Matrix | Int32Array, state?: CellState): { h: Matrix; state: CellState; cache: GatedCache } {
    const fn = `${this.fn}.forward`;
    this.checkParams(fn);
    let input: FloatArray | Int32Array, m: number;
    if (x instanceof Int32Array) {
      m = positiveInt(fn, 'x.length', x.length);
      checkTokens(fn, 'x', { ids: x, steps: 1, batch: m }, this.inputSize);
      input = x;
    } else {
      const checked = checkMatrix(fn, 'x', x, this.inputSize, null, this.dtype);
      m = positiveInt(fn, 'x.cols', checked.cols);
      input = checked.data;
    }
    const r = this.run(fn, input, 1, m, this.checkState(fn, 'state', state, m));
    return { h: { rows: this.hiddenSize, cols: m, data: r.H.data }, state: r.state, cache: r.cache };
  }

  /** One step back from dh = ∂J/∂h (and dState = ∂J/∂ of the state after the step). */
  backward(dh: Matrix, cache: GatedCache, dState?: Partial<CellState>): GatedCellGrads & { dx: Matrix | null; dStatePrev: CellState } {
    const fn = `${this.fn}.backward`;
    this.checkParams(fn);
    this.checkCache(fn, cache, 1);
    checkMatrix(fn, 'dh', dh, this.hiddenSize, cache.batch, this.dtype);
    const g = this.back(fn, cache, dh.data, this.checkState(fn, 'dState', dState, cache.batch));
    return { ...g.grads, dx: g.dX ? { rows: this.inputSize, cols: cache.batch, data: g.dX } : null, dStatePrev: g.dState0 };
  }

  private checkCache(fn: string, cache: GatedCache, steps: number | null): void {
    const c = cache as GatedCache | undefined;
    const nc = this.hiddenSize;
    if (typeof c !== 'object' || c === null || !(c.H instanceof Float32Array || c.H instanceof Float64Array) ||
      !(c.G instanceof Float32Array || c.G instanceof Float64Array) || (this.lstm && !(c.S instanceof Float32Array || c.S instanceof Float64Array)) ||
      // an LSTM's cache has the GRU's buffer sizes too: without this a GRU would read i, f, g, o as r, z, n
      (!this.lstm && c.S !== null)) {
      throw invalidType(fn, 'cache', `the cache of a forward call of this ${this.fn}`, cache);
    }
    if (!Number.isInteger(c.steps) || c.steps < 1 || !Number.isInteger(c.batch) || c.batch < 1) {
      throw invalidRange(fn, 'cache', 'the cache a forward call returned', `steps ${c.steps}, batch ${c.batch}`);
    }
    if (steps !== null && c.steps !== steps) throw invalidRange(fn, 'cache', 'the cache of a single step', `${c.steps} steps`);
    const Tm = c.steps * c.batch;
    for (const a of [c.H, c.G, c.S]) if (a !== null && dtypeOf(a) !== this.dtype) throw invalidType(fn, 'cache', `the cache of a ${this.dtype} cell`, a);
    if (c.H.length !== nc * (Tm + c.batch) || c.G.length !== 4 * nc * Tm || (this.lstm && c.S!.length !== nc * (Tm + c.batch))) {
      throw invalidRange(fn, 'cache', 'a cache of this cell', 'another shape');
    }
    const ids = c.input instanceof Int32Array;
    if (ids ? c.input.length !== Tm : !(c.input instanceof Float32Array || c.input instanceof Float64Array) || c.input.length !== this.inputSize * Tm) {
      throw invalidRange(fn, 'cache', 'a cache of this cell (its input)', 'another input');
    }
    if (ids) {
      for (let k = 0; k < Tm; k++) {
        const id = (c.input as Int32Array)[k];
        if (id < 0 || id >= this.inputSize) throw invalidRange(fn, 'cache', `token ids in [0, ${this.inputSize}) in cache.input`, `id ${id} at ${k}`);
      }
    } else if (dtypeOf(c.input as FloatArray) !== this.dtype) {
      throw invalidType(fn, 'cache', `the cache of a ${this.dtype} cell`, c.input);
    }
  }

  private run(fn: string, input: FloatArray | Int32Array, T: number, m: number, state0: CellState | null) {
    const nc = this.hiddenSize, nx = this.inputSize, ld = (T + 1) * m, Tm = T * m, dt = this.dtype;
    checkAllocation(((this.lstm ? 2 : 1) * nc * ld + 4 * nc * Tm + nc * Tm + 2 * nc * m) * bytesPerElement(dt),
      `the forward buffers of ${T} steps of a batch of ${m}`);
    const H = allocate(dt, nc * ld), S = this.lstm ? allocate(dt, nc * ld) : null, G = allocate(dt, 4 * nc * Tm);
    const k = this.backend;
    if (state0?.h) k.copyMatrix(nc, m, state0.h.data, 0, m, H, 0, ld);
    if (S && state0?.c) k.copyMatrix(nc, m, state0.c.data, 0, m, S, 0, ld);
    const { Wx, Wc, bx, bc } = this.params;
    if (S) k.lstmForward(nx, nc, T, m, input, 0, Wx.data, 0, Wc.data, 0, bx.data, 0, bc.data, 0, H, 0, S, 0, G, 0);
    else k.gruForward(nx, nc, T, m, input, 0, Wx.data, 0, Wc.data, 0, bx.data, 0, bc.data, 0, H, 0, G, 0);
    const out = allocate(dt, nc * Tm);
    k.copyMatrix(nc, Tm, H, m, ld, out, 0, Tm);
    const last = (A: FloatArray): Matrix => {
      const s = zeros(nc, m, dt);
      k.copyMatrix(nc, m, A, Tm, ld, s.data, 0, m);
      return s;
    };
    const state: CellState = S ? { h: last(H), c: last(S) } : { h: last(H) };
    return { H: { rows: nc, steps: T, batch: m, data: out } as Sequence, state, cache: { input, H, S, G, steps: T, batch: m } };
  }

  private back(fn: string, cache: GatedCache, dHin: FloatArray, dState: Partial<CellState> | null) {
    const nc = this.hiddenSize, nx = this.inputSize, T = cache.steps, m = cache.batch, Tm = T * m, gn = this.G * nc, dt = this.dtype;
    const ids = cache.input instanceof Int32Array;
    checkAllocation((gn * (nx + nc + 2) + 5 * nc * Tm + 2 * nc * m + (ids ? 0 : nx * Tm)) * bytesPerElement(dt),
      `the backward buffers of ${T} steps of a batch of ${m}`);
    const grads: GatedCellGrads = { dWx: zeros(gn, nx, dt), dWc: zeros(gn, nc, dt), dbx: zeros(gn, 1, dt), dbc: zeros(gn, 1, dt) };
    const k = this.backend;
    // ∂J/∂h_T of the final state joins the last step's gradient from above.
    const dH = allocate(dt, nc * Tm);
    k.copy(nc * Tm, dHin, 0, dH, 0);
    if (dState?.h) for (let i = 0; i < nc; i++) k.axpy(m, 1, dState.h.data, i * m, dH, i * Tm + (T - 1) * m);
    const dG = allocate(dt, 4 * nc * Tm), dX = ids ? null : allocate(dt, nx * Tm);
    const dh0 = zeros(nc, m, dt), dc0 = zeros(nc, m, dt);
    const { Wx, Wc } = this.params;
    if (this.lstm) {
      k.lstmBackward(nx, nc, T, m, cache.input, 0, Wx.data, 0, Wc.data, 0, cache.H, 0, cache.S!, 0, cache.G, 0, dH, 0,
        dState?.c ? dState.c.data : null, 0, dG, 0, grads.dWx.data, 0, grads.dWc.data, 0, grads.dbx.data, 0, grads.dbc.data, 0,
        dX, 0, dh0.data, 0, dc0.data, 0);
    } else {
      k.gruBackward(nx, nc, T, m, cache.input, 0, Wx.data, 0, Wc.data, 0, cache.H, 0, cache.G, 0, dH, 0, dG, 0,
        grads.dWx.data, 0, grads.dWc.data, 0, grads.dbx.data, 0, grads.dbc.data, 0, dX, 0, dh0.data, 0);
    }
    void fn;
    return { grads, dX, dState0: (this.lstm ? { h: dh0, c: dc0 } : { h: dh0 }) as CellState };
  }
}

/** One layer of PyTorch's nn.LSTM: gates i, f, g, o; c_t = f ⊙ c_{t−1} + i ⊙ g, h_t = o ⊙ tanh(c_t). */
export class LSTMCell extends GatedCell {
  constructor(options: GatedCellOptions) {
    super(lstmCell, 'LSTMCell', options);
  }
}

/** One layer of PyTorch's nn.GRU: gates r, z, n; n = tanh(A_n + r ⊙ (Wc_n h + bc_n)), h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}. */
export class GRUCell extends GatedCell {
  constructor(options: GatedCellOptions) {
    super(gruCell, 'GRUCell', options);
  }
}
