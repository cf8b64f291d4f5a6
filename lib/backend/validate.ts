// Argument checks for every kernel, run before either backend: the same rules, in the same
// order, as native/addon/ops.cc (which checks again as the last line of defence).
import { describe, invalidRange, invalidType } from './errors';
import type { Activation, FloatArray, Kernels, Op } from './types';

const MAX_DIM = 2 ** 31 - 1;
const MAX_INDEX = Number.MAX_SAFE_INTEGER;

type AnyArray = FloatArray | Int32Array;

function num(fn: string, name: string, v: unknown): number {
  if (typeof v !== 'number') throw invalidType(fn, name, 'a number', v);
  if (!Number.isFinite(v)) throw invalidRange(fn, name, 'a finite number', v);
  return v;
}

function dim(fn: string, name: string, v: unknown): number {
  const d = num(fn, name, v);
  if (d < 0 || !Number.isInteger(d) || d > MAX_DIM) throw invalidRange(fn, name, `an integer in [0, ${MAX_DIM}]`, d);
  return d;
}

function offset(fn: string, name: string, v: unknown): number {
  const d = num(fn, name, v);
  if (d < 0 || !Number.isInteger(d) || d > MAX_INDEX) throw invalidRange(fn, name, 'a non-negative integer', d);
  return d;
}

function bool(fn: string, name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw invalidType(fn, name, 'a boolean', v);
  return v;
}

function activation(fn: string, name: string, v: unknown): Activation {
  if (v !== 'tanh' && v !== 'relu' && v !== 'sigmoid') throw invalidType(fn, name, "'tanh', 'relu' or 'sigmoid'", v);
  return v;
}

/** A view of a detached (transferred) buffer reads as empty; constructing on it throws. */
function isDetached(a: ArrayBufferView): boolean {
  if (a.byteLength !== 0) return false;
  try {
    new Uint8Array(a.buffer, 0, 0);
    return false;
  } catch {
    return true;
  }
}

function floats(fn: string, name: string, v: unknown): FloatArray;
function floats(fn: string, name: string, v: unknown, nullable: true): FloatArray | null;
function floats(fn: string, name: string, v: unknown, nullable = false): FloatArray | null {
  // Only null: the kernels test `=== null`, so an undefined let through would be used as an array.
  if (nullable && v === null) return null;
  if (!(v instanceof Float32Array) && !(v instanceof Float64Array)) {
    throw invalidType(fn, name, `a Float32Array or Float64Array${nullable ? ' or null' : ''}`, v);
  }
  if (isDetached(v)) throw new TypeError(`${fn}: ${name} is backed by a detached ArrayBuffer`);
  return v;
}

function int32s(fn: string, name: string, v: unknown): Int32Array {
  if (!(v instanceof Int32Array)) throw invalidType(fn, name, 'an Int32Array', v);
  if (isDetached(v)) throw new TypeError(`${fn}: ${name} is backed by a detached ArrayBuffer`);
  return v;
}

function float64s(fn: string, name: string, v: unknown): Float64Array {
  if (!(v instanceof Float64Array)) throw invalidType(fn, name, 'a Float64Array', v);
  if (isDetached(v)) throw new TypeError(`${fn}: ${name} is backed by a detached ArrayBuffer`);
  return v;
}

function floatsOrIds(fn: string, name: string, v: unknown): FloatArray | Int32Array {
  if (v instanceof Int32Array) return int32s(fn, name, v);
  if (!(v instanceof Float32Array) && !(v instanceof Float64Array)) {
    throw invalidType(fn, name, 'a Float32Array, Float64Array or Int32Array (token ids)', v);
  }
  return floats(fn, name, v);
}

function ld(fn: string, name: string, v: unknown, width: number, widthName: string): number {
  const d = offset(fn, name, v);
  const least = Math.max(1, width);
  if (d < least) throw invalidRange(fn, name, `>= ${least} (${widthName})`, d);
  return d;
}

function dtypeName(a: FloatArray): string {
  return a instanceof Float32Array ? 'Float32Array' : 'Float64Array';
}

function sameDType(fn: string, a: FloatArray, aName: string, b: FloatArray | null, bName: string): void {
  if (b !== null && a.constructor !== b.constructor) {
    throw new TypeError(`${fn}: ${bName} must be a ${dtypeName(a)} like ${aName}, got a ${dtypeName(b)}`);
  }
}

function product(fn: string, a: number, b: number, what: string): number {
  const r = a * b;
  if (r > MAX_INDEX) throw new RangeError(`${fn}: the size of ${what} overflows (${a} x ${b})`);
  return r;
}

/** Elements a (rows, cols, ld) view spans: 0 when empty, else (rows − 1)·ld + cols. */
function span(fn: string, rows: number, cols: number, ldv: number, what: string): number {
  if (rows === 0 || cols === 0) return 0;
  const r = product(fn, rows - 1, ldv, what) + cols;
  if (r > MAX_INDEX) throw new RangeError(`${fn}: the size of ${what} overflows`);
  return r;
}

function matrixFits(fn: string, name: string, a: AnyArray, off: number, rows: number, cols: number, ldv: number): void {
  const need = span(fn, rows, cols, ldv, name);
  if (need === 0) return;
  if (off + need > a.length) {
    throw new RangeError(`${fn}: ${name} is too short for a ${rows}x${cols} view with ld ${ldv} at offset ${off}: ` +
      `needs ${off} + ${need} elements, has ${a.length}`);
  }
}

function vectorFits(fn: string, name: string, a: AnyArray, off: number, n: number): void {
  if (n === 0) return;
  if (off + n > a.length) {
    throw new RangeError(`${fn}: ${name} is too short: needs ${off} + ${n} elements, has ${a.length}`);
  }
}

interface Span { name: string; a: AnyArray | null; off: number; len: number }

function overlaps(o: Span, i: Span): 'no' | 'same' | 'partial' {
  if (o.a === null || i.a === null || o.len === 0 || i.len === 0) return 'no';
  if (o.a.buffer !== i.a.buffer) return 'no';
  const o0 = o.a.byteOffset + o.off * o.a.BYTES_PER_ELEMENT;
  const o1 = o0 + o.len * o.a.BYTES_PER_ELEMENT;
  const i0 = i.a.byteOffset + i.off * i.a.BYTES_PER_ELEMENT;
  const i1 = i0 + i.len * i.a.BYTES_PER_ELEMENT;
  if (o0 >= i1 || i0 >= o1) return 'no';
  return o0 === i0 && o1 === i1 ? 'same' : 'partial';
}

/** No output overlaps an input or another output, except the (output, input) pairs in `same`. */
function disjoint(fn: string, outs: Span[], ins: Span[], same: Array<[string, string]> = []): void {
  for (let k = 0; k < outs.length; k++) {
    const o = outs[k];
    for (const i of ins) {
      const allowSame = same.some(([a, b]) => a === o.name && b === i.name);
      const r = overlaps(o, i);
      if (r === 'partial' || (r === 'same' && !allowSame)) {
        throw new RangeError(`${fn}: ${o.name} overlaps ${i.name}${allowSame ? ' (only the very same view is allowed)' : ' (not allowed)'}`);
      }
    }
    for (let q = k + 1; q < outs.length; q++) {
      if (overlaps(outs[q], o) !== 'no') throw new RangeError(`${fn}: ${outs[q].name} overlaps ${o.name} (not allowed)`);
    }
  }
}

function idsInRange(fn: string, name: string, ids: Int32Array, off: number, n: number, lo: number, hi: number, what: string): void {
  for (let j = 0; j < n; j++) {
    const v = ids[off + j];
    if (v < lo || v >= hi) throw new RangeError(`${fn}: ${name}[${off + j}] must be in [${lo}, ${hi}) (${what}), got ${v}`);
  }
}

function nonNegative(fn: string, name: string, v: number): void {
  if (v < 0) throw invalidRange(fn, name, '>= 0', v);
}

function unitInterval(fn: string, name: string, v: number): void {
  if (v < 0 || v >= 1) throw invalidRange(fn, name, 'in [0, 1)', v);
}

/**
 * The flat arrays of an optimizer update: p (updated), g (read) and its state arrays (updated;
 * a null one is skipped): one dtype, n elements each from their offsets, no two overlapping.
 */
function checkUpdateArrays(fn: string, n: number, p: FloatArray, offp: number, g: FloatArray, offg: number,
  states: Array<[FloatArray | null, string, number]>): void {
  sameDType(fn, p, 'p', g, 'g');
  for (const [a, name] of states) sameDType(fn, p, 'p', a, name);
  vectorFits(fn, 'p', p, offp, n);
  vectorFits(fn, 'g', g, offg, n);
  for (const [a, name, off] of states) if (a !== null) vectorFits(fn, name, a, off, n);
  disjoint(fn, [{ name: 'p', a: p, off: offp, len: n }, ...states.map(([a, name, off]) => ({ name, a, off, len: a !== null ? n : 0 }))],
    [{ name: 'g', a: g, off: offg, len: n }]);
}

function count(fn: string, args: ArrayLike<unknown>, expected: number): void {
  if (args.length !== expected) throw new TypeError(`${fn}: expected ${expected} arguments, got ${args.length}`);
}

type Validators = { [K in keyof Kernels]: (...args: Parameters<Kernels[K]>) => void };

/** One validator per kernel, taking exactly the kernel's arguments. */
export const validators: Validators = {
  // Written with named parameters (no rest array, no destructuring): the hot path of tiny calls.
  gemm(transA, transB, M_, N_, K_, alpha, A_, offA_, lda_, B_, offB_, ldb_, beta, C_, offC_, ldc_) {
    const fn = 'gemm';
    // eslint-disable-next-line prefer-rest-params
    if (arguments.length !== 16) count(fn, arguments, 16);
    const tA = bool(fn, 'transA', transA), tB = bool(fn, 'transB', transB);
    const M = dim(fn, 'M', M_), N = dim(fn, 'N', N_), K = dim(fn, 'K', K_);
    num(fn, 'alpha', alpha);
    const A = floats(fn, 'A', A_), offA = offset(fn, 'offA', offA_);
    const lda = ld(fn, 'lda', lda_, tA ? M : K, tA ? 'M, as transA is set' : 'K');
    const B = floats(fn, 'B', B_), offB = offset(fn, 'offB', offB_);
    const ldb = ld(fn, 'ldb', ldb_, tB ? K : N, tB ? 'K, as transB is set' : 'N');
    num(fn, 'beta', beta);
    const C = floats(fn, 'C', C_), offC = offset(fn, 'offC', offC_);
    const ldc = ld(fn, 'ldc', ldc_, N, 'N');
    sameDType(fn, A, 'A', B, 'B');
    sameDType(fn, A, 'A', C, 'C');
    const rowsA = tA ? K : M, colsA = tA ? M : K, rowsB = tB ? N : K, colsB = tB ? K : N;
    matrixFits(fn, 'A', A, offA, rowsA, colsA, lda);
    matrixFits(fn, 'B', B, offB, rowsB, colsB, ldb);
    matrixFits(fn, 'C', C, offC, M, N, ldc);
    // The overlap check builds spans only when C shares a buffer with an input (rare).
    if (C.buffer === A.buffer || C.buffer === B.buffer) disjoint(fn, [{ name: 'C', a: C, off: offC, len: span(fn, M, N, ldc, 'C') }], [
      { name: 'A', a: A, off: offA, len: span(fn, rowsA, colsA, lda, 'A') },
      { name: 'B', a: B, off: offB, len: span(fn, rowsB, colsB, ldb, 'B') },
    ]);
  },

  activationForward(...args) {
    const fn = 'activationForward';
    count(fn, args, 9);
    const [act, rows_, cols_, U_, offU_, ldu_, C_, offC_, ldc_] = args;
    activation(fn, 'act', act);
    const rows = dim(fn, 'rows', rows_), cols = dim(fn, 'cols', cols_);
    const U = floats(fn, 'U', U_), offU = offset(fn, 'offU', offU_), ldu = ld(fn, 'ldu', ldu_, cols, 'cols');
    const C = floats(fn, 'C', C_), offC = offset(fn, 'offC', offC_), ldc = ld(fn, 'ldc', ldc_, cols, 'cols');
    sameDType(fn, U, 'U', C, 'C');
    matrixFits(fn, 'U', U, offU, rows, cols, ldu);
    matrixFits(fn, 'C', C, offC, rows, cols, ldc);
    disjoint(fn, [{ name: 'C', a: C, off: offC, len: span(fn, rows, cols, ldc, 'C') }],
      [{ name: 'U', a: U, off: offU, len: span(fn, rows, cols, ldu, 'U') }], [['C', 'U']]);
  },

  activationBackward(...args) {
    const fn = 'activationBackward';
    count(fn, args, 12);
    const [act, rows_, cols_, dC_, offdC_, lddC_, C_, offC_, ldc_, dU_, offdU_, lddU_] = args;
    activation(fn, 'act', act);
    const rows = dim(fn, 'rows', rows_), cols = dim(fn, 'cols', cols_);
    const dC = floats(fn, 'dC', dC_), offdC = offset(fn, 'offdC', offdC_), lddC = ld(fn, 'lddC', lddC_, cols, 'cols');
    const C = floats(fn, 'C', C_), offC = offset(fn, 'offC', offC_), ldc = ld(fn, 'ldc', ldc_, cols, 'cols');
    const dU = floats(fn, 'dU', dU_), offdU = offset(fn, 'offdU', offdU_), lddU = ld(fn, 'lddU', lddU_, cols, 'cols');
    sameDType(fn, dC, 'dC', C, 'C');
    sameDType(fn, dC, 'dC', dU, 'dU');
    matrixFits(fn, 'dC', dC, offdC, rows, cols, lddC);
    matrixFits(fn, 'C', C, offC, rows, cols, ldc);
    matrixFits(fn, 'dU', dU, offdU, rows, cols, lddU);
    disjoint(fn, [{ name: 'dU', a: dU, off: offdU, len: span(fn, rows, cols, lddU, 'dU') }], [
      { name: 'dC', a: dC, off: offdC, len: span(fn, rows, cols, lddC, 'dC') },
      { name: 'C', a: C, off: offC, len: span(fn, rows, cols, ldc, 'C') },
    ], [['dU', 'dC'], ['dU', 'C']]);
  },

  addBias(...args) {
    const fn = 'addBias';
    count(fn, args, 7);
    const [rows_, cols_, b_, offb_, X_, offX_, ldx_] = args;
    const rows = dim(fn, 'rows', rows_), cols = dim(fn, 'cols', cols_);
    const b = floats(fn, 'b', b_), offb = offset(fn, 'offb', offb_);
    const X = floats(fn, 'X', X_), offX = offset(fn, 'offX', offX_), ldx = ld(fn, 'ldx', ldx_, cols, 'cols');
    sameDType(fn, X, 'X', b, 'b');
    vectorFits(fn, 'b', b, offb, rows);
    matrixFits(fn, 'X', X, offX, rows, cols, ldx);
    disjoint(fn, [{ name: 'X', a: X, off: offX, len: span(fn, rows, cols, ldx, 'X') }], [{ name: 'b', a: b, off: offb, len: rows }]);
  },

  rowSum(...args) {
    const fn = 'rowSum';
    count(fn, args, 7);
    const [rows_, cols_, X_, offX_, ldx_, y_, offy_] = args;
    const rows = dim(fn, 'rows', rows_), cols = dim(fn, 'cols', cols_);
    const X = floats(fn, 'X', X_), offX = offset(fn, 'offX', offX_), ldx = ld(fn, 'ldx', ldx_, cols, 'cols');
    const y = floats(fn, 'y', y_), offy = offset(fn, 'offy', offy_);
    sameDType(fn, X, 'X', y, 'y');
    matrixFits(fn, 'X', X, offX, rows, cols, ldx);
    vectorFits(fn, 'y', y, offy, rows);
    disjoint(fn, [{ name: 'y', a: y, off: offy, len: rows }], [{ name: 'X', a: X, off: offX, len: span(fn, rows, cols, ldx, 'X') }]);
  },

  axpy(...args) {
    const fn = 'axpy';
    count(fn, args, 6);
    const [n_, alpha, x_, offx_, y_, offy_] = args;
    const n = dim(fn, 'n', n_);
    num(fn, 'alpha', alpha);
    const x = floats(fn, 'x', x_), offx = offset(fn, 'offx', offx_);
    const y = floats(fn, 'y', y_), offy = offset(fn, 'offy', offy_);
    sameDType(fn, x, 'x', y, 'y');
    vectorFits(fn, 'x', x, offx, n);
    vectorFits(fn, 'y', y, offy, n);
    disjoint(fn, [{ name: 'y', a: y, off: offy, len: n }], [{ name: 'x', a: x, off: offx, len: n }], [['y', 'x']]);
  },

  scale(...args) {
    const fn = 'scale';
    count(fn, args, 4);
    const [n_, alpha, x_, offx_] = args;
    const n = dim(fn, 'n', n_);
    num(fn, 'alpha', alpha);
    const x = floats(fn, 'x', x_);
    vectorFits(fn, 'x', x, offset(fn, 'offx', offx_), n);
  },

  fill(...args) {
    const fn = 'fill';
    count(fn, args, 4);
    const [n_, value, x_, offx_] = args;
    const n = dim(fn, 'n', n_);
    num(fn, 'value', value);
    const x = floats(fn, 'x', x_);
    vectorFits(fn, 'x', x, offset(fn, 'offx', offx_), n);
  },

  copy(...args) {
    const fn = 'copy';
    count(fn, args, 5);
    const [n_, x_, offx_, y_, offy_] = args;
    const n = dim(fn, 'n', n_);
    const x = floats(fn, 'x', x_), offx = offset(fn, 'offx', offx_);
    const y = floats(fn, 'y', y_), offy = offset(fn, 'offy', offy_);
    sameDType(fn, x, 'x', y, 'y');
    vectorFits(fn, 'x', x, offx, n);
    vectorFits(fn, 'y', y, offy, n);
    disjoint(fn, [{ name: 'y', a: y, off: offy, len: n }], [{ name: 'x', a: x, off: offx, len: n }], [['y', 'x']]);
  },

  copyMatrix(...args) {
    const fn = 'copyMatrix';
    count(fn, args, 8);
    const [rows_, cols_, X_, offX_, ldx_, Y_, offY_, ldy_] = args;
    const rows = dim(fn, 'rows', rows_), cols = dim(fn, 'cols', cols_);
    const X = floats(fn, 'X', X_), offX = offset(fn, 'offX', offX_), ldx = ld(fn, 'ldx', ldx_, cols, 'cols');
    const Y = floats(fn, 'Y', Y_), offY = offset(fn, 'offY', offY_), ldy = ld(fn, 'ldy', ldy_, cols, 'cols');
    sameDType(fn, X, 'X', Y, 'Y');
    matrixFits(fn, 'X', X, offX, rows, cols, ldx);
    matrixFits(fn, 'Y', Y, offY, rows, cols, ldy);
    disjoint(fn, [{ name: 'Y', a: Y, off: offY, len: span(fn, rows, cols, ldy, 'Y') }],
      [{ name: 'X', a: X, off: offX, len: span(fn, rows, cols, ldx, 'X') }]);
  },

  sumSquares(...args) {
    const fn = 'sumSquares';
    count(fn, args, 5);
    const [n_, x_, offx_, out_, offOut_] = args;
    const n = dim(fn, 'n', n_);
    const x = floats(fn, 'x', x_), offx = offset(fn, 'offx', offx_);
    const out = float64s(fn, 'out', out_), offOut = offset(fn, 'offOut', offOut_);
    vectorFits(fn, 'x', x, offx, n);
    vectorFits(fn, 'out', out, offOut, 1);
    disjoint(fn, [{ name: 'out', a: out, off: offOut, len: 1 }], [{ name: 'x', a: x, off: offx, len: n }]);
  },

  clipByValue(...args) {
    const fn = 'clipByValue';
    count(fn, args, 4);
    const [n_, limit, x_, offx_] = args;
    const n = dim(fn, 'n', n_);
    nonNegative(fn, 'limit', num(fn, 'limit', limit));
    const x = floats(fn, 'x', x_);
    vectorFits(fn, 'x', x, offset(fn, 'offx', offx_), n);
  },

  softmaxCrossEntropy(...args) {
    const fn = 'softmaxCrossEntropy';
    count(fn, args, 13);
    const [V_, N_, L_, offL_, ldl_, t_, offT_, scale, D_, offD_, ldd_, loss_, offLoss_] = args;
    const V = dim(fn, 'V', V_), N = dim(fn, 'N', N_);
    const L = floats(fn, 'logits', L_), offL = offset(fn, 'offL', offL_), ldl = ld(fn, 'ldl', ldl_, N, 'N');
    const targets = int32s(fn, 'targets', t_), offT = offset(fn, 'offT', offT_);
    num(fn, 'scale', scale);
    const D = floats(fn, 'dLogits', D_), offD = offset(fn, 'offD', offD_), ldd = ld(fn, 'ldd', ldd_, N, 'N');
    const loss = float64s(fn, 'loss', loss_), offLoss = offset(fn, 'offLoss', offLoss_);
    if (V === 0 && N > 0) throw new RangeError(`${fn}: V must be >= 1 when N > 0, got 0`);
    if (V > MAX_DIM - 1) throw new RangeError(`${fn}: V is too large`);
    sameDType(fn, L, 'logits', D, 'dLogits');
    matrixFits(fn, 'logits', L, offL, V, N, ldl);
    vectorFits(fn, 'targets', targets, offT, N);
    matrixFits(fn, 'dLogits', D, offD, V, N, ldd);
    vectorFits(fn, 'loss', loss, offLoss, 1);
    idsInRange(fn, 'targets', targets, offT, N, -1, V, 'a class, or -1 to ignore');
    disjoint(fn, [
      { name: 'dLogits', a: D, off: offD, len: span(fn, V, N, ldd, 'dLogits') },
      { name: 'loss', a: loss, off: offLoss, len: 1 },
    ], [
      { name: 'logits', a: L, off: offL, len: span(fn, V, N, ldl, 'logits') },
      { name: 'targets', a: targets, off: offT, len: N },
    ], [['dLogits', 'logits']]);
  },

  gatherColumns(...args) {
    const fn = 'gatherColumns';
    count(fn, args, 12);
    const [rows_, V_, n_, W_, offW_, ldw_, ids_, offIds_, out_, offOut_, ldo_, accumulate] = args;
    const rows = dim(fn, 'rows', rows_), V = dim(fn, 'V', V_), n = dim(fn, 'n', n_);
    const W = floats(fn, 'W', W_), offW = offset(fn, 'offW', offW_), ldw = ld(fn, 'ldw', ldw_, V, 'V');
    const ids = int32s(fn, 'ids', ids_), offIds = offset(fn, 'offIds', offIds_);
    const out = floats(fn, 'out', out_), offOut = offset(fn, 'offOut', offOut_), ldo = ld(fn, 'ldo', ldo_, n, 'n');
    bool(fn, 'accumulate', accumulate);
    sameDType(fn, W, 'W', out, 'out');
    matrixFits(fn, 'W', W, offW, rows, V, ldw);
    vectorFits(fn, 'ids', ids, offIds, n);
    matrixFits(fn, 'out', out, offOut, rows, n, ldo);
    if (rows > 0) idsInRange(fn, 'ids', ids, offIds, n, 0, V, 'a column of W');
    disjoint(fn, [{ name: 'out', a: out, off: offOut, len: span(fn, rows, n, ldo, 'out') }], [
      { name: 'W', a: W, off: offW, len: span(fn, rows, V, ldw, 'W') },
      { name: 'ids', a: ids, off: offIds, len: n },
    ]);
  },

  scatterAddColumns(...args) {
    const fn = 'scatterAddColumns';
    count(fn, args, 11);
    const [rows_, V_, n_, dU_, offdU_, lddU_, ids_, offIds_, dW_, offdW_, lddW_] = args;
    const rows = dim(fn, 'rows', rows_), V = dim(fn, 'V', V_), n = dim(fn, 'n', n_);
    const dU = floats(fn, 'dU', dU_), offdU = offset(fn, 'offdU', offdU_), lddU = ld(fn, 'lddU', lddU_, n, 'n');
    const ids = int32s(fn, 'ids', ids_), offIds = offset(fn, 'offIds', offIds_);
    const dW = floats(fn, 'dW', dW_), offdW = offset(fn, 'offdW', offdW_), lddW = ld(fn, 'lddW', lddW_, V, 'V');
    sameDType(fn, dU, 'dU', dW, 'dW');
    matrixFits(fn, 'dU', dU, offdU, rows, n, lddU);
    vectorFits(fn, 'ids', ids, offIds, n);
    matrixFits(fn, 'dW', dW, offdW, rows, V, lddW);
    if (rows > 0) idsInRange(fn, 'ids', ids, offIds, n, 0, V, 'a column of dW');
    disjoint(fn, [{ name: 'dW', a: dW, off: offdW, len: span(fn, rows, V, lddW, 'dW') }], [
      { name: 'dU', a: dU, off: offdU, len: span(fn, rows, n, lddU, 'dU') },
      { name: 'ids', a: ids, off: offIds, len: n },
    ]);
  },

  rnnForward(...args) {
    const fn = 'rnnForward';
    count(fn, args, 15);
    const [act, nx_, nc_, T_, m_, X_, offX_, Wx_, offWx_, Wc_, offWc_, b_, offb_, H_, offH_] = args;
    activation(fn, 'act', act);
    const nx = dim(fn, 'nx', nx_), nc = dim(fn, 'nc', nc_), T = dim(fn, 'T', T_), m = dim(fn, 'm', m_);
    const X = floatsOrIds(fn, 'X', X_), offX = offset(fn, 'offX', offX_);
    const Wx = floats(fn, 'Wx', Wx_), offWx = offset(fn, 'offWx', offWx_);
    const Wc = floats(fn, 'Wc', Wc_), offWc = offset(fn, 'offWc', offWc_);
    const b = floats(fn, 'b', b_), offb = offset(fn, 'offb', offb_);
    const H = floats(fn, 'H', H_), offH = offset(fn, 'offH', offH_);
    const TM = product(fn, T, m, 'T*m'), T1M = product(fn, T + 1, m, '(T+1)*m');
    const isIds = X instanceof Int32Array;
    sameDType(fn, Wx, 'Wx', Wc, 'Wc');
    sameDType(fn, Wx, 'Wx', b, 'b');
    sameDType(fn, Wx, 'Wx', H, 'H');
    if (!isIds) sameDType(fn, Wx, 'Wx', X, 'X');
    if (isIds) {
      vectorFits(fn, 'X', X, offX, TM);
      if (nc > 0) idsInRange(fn, 'X', X, offX, TM, 0, nx, 'a token id below nx');
    } else {
      matrixFits(fn, 'X', X, offX, nx, TM, TM);
    }
    matrixFits(fn, 'Wx', Wx, offWx, nc, nx, nx);
    matrixFits(fn, 'Wc', Wc, offWc, nc, nc, nc);
    vectorFits(fn, 'b', b, offb, nc);
    matrixFits(fn, 'H', H, offH, nc, T1M, T1M);
    disjoint(fn, [{ name: 'H', a: H, off: offH, len: span(fn, nc, T1M, T1M, 'H') }], [
      { name: 'X', a: X, off: offX, len: isIds ? TM : span(fn, nx, TM, TM, 'X') },
      { name: 'Wx', a: Wx, off: offWx, len: span(fn, nc, nx, nx, 'Wx') },
      { name: 'Wc', a: Wc, off: offWc, len: span(fn, nc, nc, nc, 'Wc') },
      { name: 'b', a: b, off: offb, len: nc },
    ]);
  },

  rnnBackward(...args) {
    const fn = 'rnnBackward';
    count(fn, args, 27);
    const [act, nx_, nc_, T_, m_, X_, offX_, H_, offH_, Wx_, offWx_, Wc_, offWc_, dC_, offdC_, dU_, offdU_,
      dWx_, offdWx_, dWc_, offdWc_, db_, offdb_, dX_, offdX_, dc0_, offdc0_] = args;
    activation(fn, 'act', act);
    const nx = dim(fn, 'nx', nx_), nc = dim(fn, 'nc', nc_), T = dim(fn, 'T', T_), m = dim(fn, 'm', m_);
    const X = floatsOrIds(fn, 'X', X_), offX = offset(fn, 'offX', offX_);
    const H = floats(fn, 'H', H_), offH = offset(fn, 'offH', offH_);
    const Wx = floats(fn, 'Wx', Wx_), offWx = offset(fn, 'offWx', offWx_);
    const Wc = floats(fn, 'Wc', Wc_), offWc = offset(fn, 'offWc', offWc_);
    const dC = floats(fn, 'dC', dC_), offdC = offset(fn, 'offdC', offdC_);
    const dU = floats(fn, 'dU', dU_), offdU = offset(fn, 'offdU', offdU_);
    const dWx = floats(fn, 'dWx', dWx_), offdWx = offset(fn, 'offdWx', offdWx_);
    const dWc = floats(fn, 'dWc', dWc_), offdWc = offset(fn, 'offdWc', offdWc_);
    const db = floats(fn, 'db', db_), offdb = offset(fn, 'offdb', offdb_);
    const dX = floats(fn, 'dX', dX_, true), offdX = offset(fn, 'offdX', offdX_);
    const dc0 = floats(fn, 'dc0', dc0_), offdc0 = offset(fn, 'offdc0', offdc0_);
    const TM = product(fn, T, m, 'T*m'), T1M = product(fn, T + 1, m, '(T+1)*m');
    const isIds = X instanceof Int32Array;
    if (isIds && dX !== null) throw new TypeError(`${fn}: dX must be null when X holds token ids (Int32Array)`);
    const named: Array<[FloatArray | null, string]> = [[H, 'H'], [Wc, 'Wc'], [dC, 'dC'], [dU, 'dU'], [dWx, 'dWx'],
      [dWc, 'dWc'], [db, 'db'], [dX, 'dX'], [dc0, 'dc0']];
    for (const [a, name] of named) sameDType(fn, Wx, 'Wx', a, name);
    if (!isIds) sameDType(fn, Wx, 'Wx', X, 'X');
    if (isIds) {
      vectorFits(fn, 'X', X, offX, TM);
      if (nc > 0) idsInRange(fn, 'X', X, offX, TM, 0, nx, 'a token id below nx');
    } else {
      matrixFits(fn, 'X', X, offX, nx, TM, TM);
    }
    matrixFits(fn, 'H', H, offH, nc, T1M, T1M);
    matrixFits(fn, 'Wx', Wx, offWx, nc, nx, nx);
    matrixFits(fn, 'Wc', Wc, offWc, nc, nc, nc);
    matrixFits(fn, 'dC', dC, offdC, nc, TM, TM);
    matrixFits(fn, 'dU', dU, offdU, nc, TM, TM);
    matrixFits(fn, 'dWx', dWx, offdWx, nc, nx, nx);
    matrixFits(fn, 'dWc', dWc, offdWc, nc, nc, nc);
    vectorFits(fn, 'db', db, offdb, nc);
    if (dX !== null) matrixFits(fn, 'dX', dX, offdX, nx, TM, TM);
    matrixFits(fn, 'dc0', dc0, offdc0, nc, m, m);
    const sWx = span(fn, nc, nx, nx, 'Wx'), sWc = span(fn, nc, nc, nc, 'Wc'), sSeq = span(fn, nc, TM, TM, 'dC');
    disjoint(fn, [
      { name: 'dU', a: dU, off: offdU, len: sSeq },
      { name: 'dWx', a: dWx, off: offdWx, len: sWx },
      { name: 'dWc', a: dWc, off: offdWc, len: sWc },
      { name: 'db', a: db, off: offdb, len: nc },
      { name: 'dX', a: dX, off: offdX, len: dX !== null ? span(fn, nx, TM, TM, 'dX') : 0 },
      { name: 'dc0', a: dc0, off: offdc0, len: nc * m },
    ], [
      { name: 'X', a: X, off: offX, len: isIds ? TM : span(fn, nx, TM, TM, 'X') },
      { name: 'H', a: H, off: offH, len: span(fn, nc, T1M, T1M, 'H') },
      { name: 'Wx', a: Wx, off: offWx, len: sWx },
      { name: 'Wc', a: Wc, off: offWc, len: sWc },
      { name: 'dC', a: dC, off: offdC, len: sSeq },
    ], [['dU', 'dC']]);
  },

  sgdUpdate(...args) {
    const fn = 'sgdUpdate';
    count(fn, args, 11);
    const [n_, p_, offp_, g_, offg_, v_, offv_, lr, momentum, nesterov, wd] = args;
    const n = dim(fn, 'n', n_);
    const p = floats(fn, 'p', p_), offp = offset(fn, 'offp', offp_);
    const g = floats(fn, 'g', g_), offg = offset(fn, 'offg', offg_);
    const v = floats(fn, 'velocity', v_, true), offv = offset(fn, 'offv', offv_);
    nonNegative(fn, 'lr', num(fn, 'lr', lr));
    const mom = num(fn, 'momentum', momentum);
    const nest = bool(fn, 'nesterov', nesterov);
    nonNegative(fn, 'weightDecay', num(fn, 'weightDecay', wd));
    nonNegative(fn, 'momentum', mom);
    if (mom !== 0 && v === null) throw new TypeError(`${fn}: velocity must be a float array when momentum != 0, got null`);
    if (nest && mom === 0) throw new RangeError(`${fn}: nesterov needs momentum > 0, got 0`);
    checkUpdateArrays(fn, n, p, offp, g, offg, [[v, 'velocity', offv]]);
  },

  adamUpdate(...args) {
    const fn = 'adamUpdate';
    count(fn, args, 16);
    const [n_, p_, offp_, g_, offg_, m_, offm_, v_, offv_, lr, beta1, beta2, eps, wd, decoupled, step] = args;
    const n = dim(fn, 'n', n_);
    const p = floats(fn, 'p', p_), offp = offset(fn, 'offp', offp_);
    const g = floats(fn, 'g', g_), offg = offset(fn, 'offg', offg_);
    const m = floats(fn, 'm', m_), offm = offset(fn, 'offm', offm_);
    const v = floats(fn, 'v', v_), offv = offset(fn, 'offv', offv_);
    nonNegative(fn, 'lr', num(fn, 'lr', lr));
    unitInterval(fn, 'beta1', num(fn, 'beta1', beta1));
    unitInterval(fn, 'beta2', num(fn, 'beta2', beta2));
    nonNegative(fn, 'eps', num(fn, 'eps', eps));
    nonNegative(fn, 'weightDecay', num(fn, 'weightDecay', wd));
    bool(fn, 'decoupled', decoupled);
    if (offset(fn, 'step', step) < 1) throw new RangeError(`${fn}: step must be >= 1, got 0`);
    checkUpdateArrays(fn, n, p, offp, g, offg, [[m, 'm', offm], [v, 'v', offv]]);
  },

  adagradUpdate(...args) {
    const fn = 'adagradUpdate';
    count(fn, args, 10);
    const [n_, p_, offp_, g_, offg_, h_, offh_, lr, eps, wd] = args;
    const n = dim(fn, 'n', n_);
    const p = floats(fn, 'p', p_), offp = offset(fn, 'offp', offp_);
    const g = floats(fn, 'g', g_), offg = offset(fn, 'offg', offg_);
    const h = floats(fn, 'h', h_), offh = offset(fn, 'offh', offh_);
    nonNegative(fn, 'lr', num(fn, 'lr', lr));
    nonNegative(fn, 'eps', num(fn, 'eps', eps));
    nonNegative(fn, 'weightDecay', num(fn, 'weightDecay', wd));
    checkUpdateArrays(fn, n, p, offp, g, offg, [[h, 'h', offh]]);
  },

  rmspropUpdate(...args) {
    const fn = 'rmspropUpdate';
    count(fn, args, 11);
    const [n_, p_, offp_, g_, offg_, s_, offs_, lr, alpha, eps, wd] = args;
    const n = dim(fn, 'n', n_);
    const p = floats(fn, 'p', p_), offp = offset(fn, 'offp', offp_);
    const g = floats(fn, 'g', g_), offg = offset(fn, 'offg', offg_);
    const s = floats(fn, 's', s_), offs = offset(fn, 'offs', offs_);
    nonNegative(fn, 'lr', num(fn, 'lr', lr));
    unitInterval(fn, 'alpha', num(fn, 'alpha', alpha));
    nonNegative(fn, 'eps', num(fn, 'eps', eps));
    nonNegative(fn, 'weightDecay', num(fn, 'weightDecay', wd));
    checkUpdateArrays(fn, n, p, offp, g, offg, [[s, 's', offs]]);
  },
};

export const KERNEL_NAMES = Object.keys(validators) as Array<keyof Kernels>;

/**
 * `validate` then `kernel`, as a function of the kernel's own arity: no rest parameters or
 * spread on the hot path (a tiny native call then costs little more than its checks). A call
 * with another argument count goes through validate with all its arguments, which rejects it.
 */
export function checkedKernel(name: keyof Kernels, validate: (...a: unknown[]) => void, kernel: (...a: unknown[]) => unknown): (...a: unknown[]) => unknown {
  const arity = ARG_COUNTS[name];
  const params = Array.from({ length: arity }, (_, i) => `a${i}`).join(', ');
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const make = new Function('validate', 'kernel', `return function ${name}(${params}) {
    if (arguments.length !== ${arity}) return validate.apply(undefined, arguments);
    validate(${params});
    return kernel(${params});
  };`) as (v: typeof validate, k: typeof kernel) => (...a: unknown[]) => unknown;
  return make(validate, kernel);
}

/** How many arguments each kernel takes (the count() of its validator). */
export const ARG_COUNTS: { readonly [K in keyof Kernels]: Parameters<Kernels[K]>['length'] } = {
  gemm: 16, activationForward: 9, activationBackward: 12, addBias: 7, rowSum: 7, axpy: 6, scale: 4, fill: 4,
  copy: 5, copyMatrix: 8, sumSquares: 5, clipByValue: 4, softmaxCrossEntropy: 13, gatherColumns: 12,
  scatterAddColumns: 11, rnnForward: 15, rnnBackward: 27, sgdUpdate: 11, adamUpdate: 16, adagradUpdate: 10,
  rmspropUpdate: 11,
};

/** Checks every op of a recorded program, so nothing runs unless all of it is valid. */
export function validateProgram(program: unknown): asserts program is readonly Op[] {
  if (!Array.isArray(program)) throw new TypeError('run: program must be an Array of [name, ...args] ops');
  for (let k = 0; k < program.length; k++) {
    const op: unknown = program[k];
    if (!Array.isArray(op) || typeof op[0] !== 'string' || !Object.prototype.hasOwnProperty.call(validators, op[0])) {
      throw new TypeError(`run: program[${k}] must be [kernelName, ...args], got ${Array.isArray(op) ? describe(op[0]) : describe(op)}`);
    }
    const name = op[0] as keyof Kernels;
    // Count before copying: an op of length 2^32 - 1 would otherwise be spread element by element.
    if (op.length - 1 !== ARG_COUNTS[name]) throw new TypeError(`${name}: expected ${ARG_COUNTS[name]} arguments, got ${op.length - 1}`);
    (validators[name] as (...args: unknown[]) => void)(...op.slice(1));
  }
}
