// The TypeScript argument checks, read off the kernel declarations (table.ts). The C++ checker
// (native/addon/checker.cc) runs the same phases over the same table, so a call is accepted or
// rejected — with the same error class naming the same argument — by both sides alike
// (test/07 asserts it on random calls).
//
// Phases, in order: (1) each argument's kind, in argument order (an ld also against its width);
// (2) the declared checks; (3) one dtype for every float array; (4) every array holds its view;
// (5) token ids in range; (6) no output overlaps another array, except the very same view of an
// input it declares in `same`.
import { describe, invalidRange, invalidType } from '../errors';
import { MAX_INDEX, OVERFLOW } from './expr';
import { isOutput, type ArgDecl, type KernelDecl } from './table';

const MAX_DIM = 2 ** 31 - 1;

type AnyArray = Float32Array | Float64Array | Int32Array;

function num(fn: string, name: string, v: unknown): number {
  if (typeof v !== 'number') throw invalidType(fn, name, 'a number', v);
  if (!Number.isFinite(v)) throw invalidRange(fn, name, 'a finite number', v);
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

function notDetached(fn: string, name: string, v: ArrayBufferView): void {
  if (isDetached(v)) throw new TypeError(`${fn}: ${name} is backed by a detached ArrayBuffer`);
}

const isFloats = (v: unknown): v is Float32Array | Float64Array => v instanceof Float32Array || v instanceof Float64Array;

/** Phase 1 for one argument. */
function checkKind(fn: string, d: ArgDecl, a: ArrayLike<unknown>): void {
  const v = a[d.index];
  switch (d.kind) {
    case 'bool':
      if (typeof v !== 'boolean') throw invalidType(fn, d.name, 'a boolean', v);
      return;
    case 'number':
      num(fn, d.name, v);
      return;
    case 'dim': {
      const x = num(fn, d.name, v);
      if (x < 0 || !Number.isInteger(x) || x > MAX_DIM) throw invalidRange(fn, d.name, `an integer in [0, ${MAX_DIM}]`, x);
      return;
    }
    case 'offset':
    case 'ld': {
      const x = num(fn, d.name, v);
      if (x < 0 || !Number.isInteger(x) || x > MAX_INDEX) throw invalidRange(fn, d.name, 'a non-negative integer', x);
      if (d.kind === 'ld') {
        const least = Math.max(1, d.widthShape!.fn(a));
        if (x < least) {
          const label = typeof d.widthName === 'string' ? d.widthName : (d.widthName(a) as unknown as string);
          throw invalidRange(fn, d.name, `>= ${least} (${label})`, x);
        }
      }
      return;
    }
    case 'activation':
      if (v !== 'tanh' && v !== 'relu' && v !== 'sigmoid') throw invalidType(fn, d.name, "'tanh', 'relu' or 'sigmoid'", v);
      return;
    case 'floats':
      // Only null: the kernels test `=== null`, so an undefined let through would be used as an array.
      if (d.nullable && v === null) return;
      if (!isFloats(v)) throw invalidType(fn, d.name, `a Float32Array or Float64Array${d.nullable ? ' or null' : ''}`, v);
      notDetached(fn, d.name, v);
      return;
    case 'float64s':
      if (!(v instanceof Float64Array)) throw invalidType(fn, d.name, 'a Float64Array', v);
      notDetached(fn, d.name, v);
      return;
    case 'ids':
      if (!(v instanceof Int32Array)) throw invalidType(fn, d.name, 'an Int32Array', v);
      notDetached(fn, d.name, v);
      return;
    case 'input':
      if (!(v instanceof Int32Array) && !isFloats(v)) {
        throw invalidType(fn, d.name, 'a Float32Array, Float64Array or Int32Array (token ids)', v);
      }
      notDetached(fn, d.name, v);
      return;
  }
}

const dtypeName = (a: AnyArray): string => (a instanceof Float32Array ? 'Float32Array' : 'Float64Array');

function overflow(fn: string, what: string): RangeError {
  return new RangeError(`${fn}: the size of ${what} overflows`);
}

/** Elements a (rows, cols, ld) view spans: 0 when empty, else (rows − 1)·ld + cols. */
function span(fn: string, rows: number, cols: number, ld: number, what: string): number {
  if (rows >= OVERFLOW || cols >= OVERFLOW || ld >= OVERFLOW) throw overflow(fn, what);
  if (rows === 0 || cols === 0) return 0;
  const r = (rows - 1) * ld + cols;
  if (r > MAX_INDEX) throw overflow(fn, what);
  return r;
}

/** Phase 4 for one present array: its span (0 when empty), after checking it fits. */
function fits(fn: string, d: ArgDecl, a: ArrayLike<unknown>, v: AnyArray, off: number): number {
  const vector = d.kind === 'input' ? v instanceof Int32Array : d.lenShape !== null;
  if (vector) {
    const n = d.lenShape!.fn(a);
    if (n > MAX_INDEX) throw overflow(fn, d.name);
    if (n > 0 && off + n > v.length) {
      throw new RangeError(`${fn}: ${d.name} is too short: needs ${off} + ${n} elements, has ${v.length}`);
    }
    return n;
  }
  const rows = d.rowsShape!.fn(a), cols = d.colsShape!.fn(a), ld = d.ldShape!.fn(a);
  const need = span(fn, rows, cols, ld, d.name);
  if (need > 0 && off + need > v.length) {
    throw new RangeError(`${fn}: ${d.name} is too short for a ${rows}x${cols} view with ld ${ld} at offset ${off}: ` +
      `needs ${off} + ${need} elements, has ${v.length}`);
  }
  return need;
}

function overlaps(o: AnyArray, oOff: number, oLen: number, i: AnyArray, iOff: number, iLen: number): 'no' | 'same' | 'partial' {
  if (oLen === 0 || iLen === 0 || o.buffer !== i.buffer) return 'no';
  const o0 = o.byteOffset + oOff * o.BYTES_PER_ELEMENT, o1 = o0 + oLen * o.BYTES_PER_ELEMENT;
  const i0 = i.byteOffset + iOff * i.BYTES_PER_ELEMENT, i1 = i0 + iLen * i.BYTES_PER_ELEMENT;
  if (o0 >= i1 || i0 >= o1) return 'no';
  return o0 === i0 && o1 === i1 ? 'same' : 'partial';
}

export type Validator = (args: ArrayLike<unknown>) => void;

/** The checks of one kernel as a function of its argument list (an array or `arguments`). */
export function makeValidator(decl: KernelDecl): Validator {
  const fn = decl.name;
  const argc = decl.args.length;
  const args = decl.args;
  const arrays = decl.arrays.map((i) => args[i]);
  const floatArrays = arrays.filter((d) => d.kind === 'floats' || d.kind === 'input');
  const idArrays = arrays.filter((d) => d.rangeShapes !== null);
  const outputs = arrays.filter(isOutput);
  const inputs = arrays.filter((d) => !isOutput(d));
  const spans = new Float64Array(argc);
  return function validate(a: ArrayLike<unknown>): void {
    if (a.length !== argc) throw new TypeError(`${fn}: expected ${argc} arguments, got ${a.length}`);
    for (let i = 0; i < argc; i++) checkKind(fn, args[i], a);
    for (const c of decl.checks) {
      if (c.kind === 'atLeast') {
        const v = a[c.index] as number;
        if (v < c.min) throw invalidRange(fn, c.arg, `>= ${c.min}`, v);
      } else if (c.kind === 'in') {
        const v = a[c.index] as number;
        if (v < c.lo || v >= c.hi) throw invalidRange(fn, c.arg, `in [${c.lo}, ${c.hi})`, v);
      } else if (!c.shape.fn(a)) {
        throw c.error === 'TypeError' ? new TypeError(`${fn}: ${c.message}`) : new RangeError(`${fn}: ${c.message}`);
      }
    }
    let ref: AnyArray | null = null, refName = '';
    for (const d of floatArrays) {
      const v = a[d.index];
      if (!isFloats(v)) continue;
      if (ref === null) {
        ref = v;
        refName = d.name;
      } else if (v.constructor !== ref.constructor) {
        throw new TypeError(`${fn}: ${d.name} must be a ${dtypeName(ref)} like ${refName}, got a ${dtypeName(v)}`);
      }
    }
    for (const d of arrays) {
      const v = a[d.index] as AnyArray | null;
      spans[d.index] = v === null ? 0 : fits(fn, d, a, v, a[d.offsetIndex] as number);
    }
    for (const d of idArrays) {
      const v = a[d.index];
      if (!(v instanceof Int32Array) || (d.whenShape !== null && !d.whenShape.fn(a))) continue;
      const lo = d.rangeShapes![0].fn(a), hi = d.rangeShapes![1].fn(a);
      const off = a[d.offsetIndex] as number, n = spans[d.index];
      for (let j = 0; j < n; j++) {
        const id = v[off + j];
        if (id < lo || id >= hi) throw new RangeError(`${fn}: ${d.name}[${off + j}] must be in [${lo}, ${hi}) (${d.what}), got ${id}`);
      }
    }
    for (let k = 0; k < outputs.length; k++) {
      const o = outputs[k], ov = a[o.index] as AnyArray | null;
      if (ov === null) continue;
      const oOff = a[o.offsetIndex] as number, oLen = spans[o.index];
      for (const i of inputs) {
        const iv = a[i.index] as AnyArray | null;
        if (iv === null) continue;
        const r = overlaps(ov, oOff, oLen, iv, a[i.offsetIndex] as number, spans[i.index]);
        if (r === 'no') continue;
        const allowSame = o.sameIndex.includes(i.index);
        if (r === 'partial' || !allowSame) {
          throw new RangeError(`${fn}: ${o.name} overlaps ${i.name}${allowSame ? ' (only the very same view is allowed)' : ' (not allowed)'}`);
        }
      }
      for (let q = k + 1; q < outputs.length; q++) {
        const p = outputs[q], pv = a[p.index] as AnyArray | null;
        if (pv === null) continue;
        if (overlaps(pv, a[p.offsetIndex] as number, spans[p.index], ov, oOff, oLen) !== 'no') {
          throw new RangeError(`${fn}: ${p.name} overlaps ${o.name} (not allowed)`);
        }
      }
    }
  };
}

/** The argument a check failure names: the text between "<fn>: " and the next space. */
export function namedArgument(fn: string, message: string): string | null {
  if (!message.startsWith(`${fn}: `)) return null;
  const rest = message.slice(fn.length + 2);
  const m = /^(?:the size of )?([A-Za-z_][A-Za-z0-9_]*)/.exec(rest);
  return m ? m[1] : null;
}

export { describe };
