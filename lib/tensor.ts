// Matrices and Sequences in the layout every layer shares (docs/ARCHITECTURE.md §2): row-major, one
// example per column; a Sequence of T steps is rows × (T·m) with step t in columns
// [t·m, (t+1)·m).
import * as os from 'node:os';
import type { DType, FloatArray } from './backend/types';
import { invalidRange, invalidType } from './backend/errors';

export interface Matrix {
  rows: number;
  cols: number;
  data: FloatArray;
}

/** Dense inputs or outputs over T steps of a batch of m: rows × (steps·batch). */
export interface Sequence {
  rows: number;
  steps: number;
  batch: number;
  data: FloatArray;
}

/** Token-id inputs over T steps of a batch of m: ids[t·m + j] is example j at step t. */
export interface TokenSequence {
  ids: Int32Array;
  steps: number;
  batch: number;
}

export function bytesPerElement(dtype: DType): number {
  return dtype === 'float32' ? 4 : 8;
}

export function dtypeOf(a: FloatArray): DType {
  return a instanceof Float32Array ? 'float32' : 'float64';
}

/**
 * The most bytes one model or batch may allocate: NATIVE_RNN_MAX_BYTES, else 3/4 of the
 * machine's memory, or of the process's memory limit (a container's cgroup) when that is
 * lower. Checked before anything is allocated, so an impossible request is a RangeError
 * rather than an out-of-memory crash (or, in a container, an OOM kill).
 */
export function memoryLimit(): number {
  const env = Number(process.env.NATIVE_RNN_MAX_BYTES);
  if (Number.isFinite(env) && env > 0) return env;
  let total = os.totalmem();
  // 0 or undefined when unknown; 2^64 or more than the machine has when unconstrained.
  const constrained = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.();
  if (typeof constrained === 'number' && constrained > 0 && constrained < total) total = constrained;
  return Math.floor(total * 0.75);
}

export function checkAllocation(bytes: number, what: string): void {
  const limit = memoryLimit();
  if (!Number.isFinite(bytes) || bytes > limit) {
    throw new RangeError(`${what} needs ${formatBytes(bytes)}, more than the ${formatBytes(limit)} allowed ` +
      '(set NATIVE_RNN_MAX_BYTES to change the limit)');
  }
}

export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return String(n) + ' bytes';
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let u = 0;
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return `${u === 0 ? n : n.toFixed(1)} ${units[u]}`;
}

export function allocate(dtype: DType, n: number): FloatArray {
  if (!Number.isSafeInteger(n) || n < 0) throw invalidRange('allocate', 'n', 'a non-negative integer', n);
  checkAllocation(n * bytesPerElement(dtype), `an array of ${n} ${dtype} values`);
  return dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
}

export function zeros(rows: number, cols: number, dtype: DType): Matrix {
  return { rows, cols, data: allocate(dtype, rows * cols) };
}

export function sequenceZeros(rows: number, steps: number, batch: number, dtype: DType): Sequence {
  return { rows, steps, batch, data: allocate(dtype, rows * steps * batch) };
}

/** A Matrix over given values (copied into the dtype's array). */
export function matrixFrom(rows: number, cols: number, values: ArrayLike<number>, dtype: DType = 'float64'): Matrix {
  if (values.length !== rows * cols) throw invalidRange('matrixFrom', 'values', `${rows * cols} values`, `${values.length}`);
  const m = zeros(rows, cols, dtype);
  m.data.set(values);
  return m;
}

export function isMatrix(v: unknown): v is Matrix {
  const m = v as Matrix;
  return typeof v === 'object' && v !== null && Number.isInteger(m.rows) && Number.isInteger(m.cols) &&
    (m.data instanceof Float32Array || m.data instanceof Float64Array);
}

/** Checks a Matrix argument's type, dtype and shape; names it in the error. */
export function checkMatrix(fn: string, name: string, v: unknown, rows: number, cols: number | null, dtype: DType): Matrix {
  if (!isMatrix(v)) throw invalidType(fn, name, 'a Matrix { rows, cols, data }', v);
  if (dtypeOf(v.data) !== dtype) throw invalidType(fn, name, `${dtype} data`, v.data);
  if (v.rows !== rows || (cols !== null && v.cols !== cols)) {
    throw invalidRange(fn, name, `a ${rows}x${cols ?? 'm'} Matrix`, `${v.rows}x${v.cols}`);
  }
  if (v.data.length !== v.rows * v.cols) {
    throw invalidRange(fn, `${name}.data`, `${v.rows * v.cols} values (rows·cols)`, `${v.data.length}`);
  }
  return v;
}

/** Checks a Sequence argument; steps and batch must be positive integers. */
export function checkSequence(fn: string, name: string, v: unknown, rows: number, dtype: DType): Sequence {
  const s = v as Sequence;
  if (typeof v !== 'object' || v === null || !(s.data instanceof Float32Array || s.data instanceof Float64Array)) {
    throw invalidType(fn, name, 'a Sequence { rows, steps, batch, data }', v);
  }
  if (dtypeOf(s.data) !== dtype) throw invalidType(fn, name, `${dtype} data`, s.data);
  if (s.rows !== rows) throw invalidRange(fn, `${name}.rows`, `${rows}`, s.rows);
  for (const k of ['steps', 'batch'] as const) {
    if (!Number.isInteger(s[k]) || s[k] < 1) throw invalidRange(fn, `${name}.${k}`, 'a positive integer', s[k]);
  }
  if (s.data.length !== s.rows * s.steps * s.batch) {
    throw invalidRange(fn, `${name}.data`, `${s.rows * s.steps * s.batch} values (rows·steps·batch)`, `${s.data.length}`);
  }
  return s;
}

/** Checks token ids: an Int32Array of steps·batch ids, each in [0, vocabSize). */
export function checkTokens(fn: string, name: string, v: unknown, vocabSize: number): TokenSequence {
  const s = v as TokenSequence;
  if (typeof v !== 'object' || v === null || !(s.ids instanceof Int32Array)) {
    throw invalidType(fn, name, 'a TokenSequence { ids: Int32Array, steps, batch }', v);
  }
  for (const k of ['steps', 'batch'] as const) {
    if (!Number.isInteger(s[k]) || s[k] < 1) throw invalidRange(fn, `${name}.${k}`, 'a positive integer', s[k]);
  }
  if (s.ids.length !== s.steps * s.batch) throw invalidRange(fn, `${name}.ids`, `${s.steps * s.batch} ids (steps·batch)`, `${s.ids.length}`);
  for (let k = 0; k < s.ids.length; k++) {
    const id = s.ids[k];
    if (id < 0 || id >= vocabSize) throw invalidRange(fn, `${name}.ids[${k}]`, `a token id in [0, ${vocabSize})`, id);
  }
  return s;
}
