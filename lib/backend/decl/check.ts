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
import { isOutput, type ArgDecl, type KernelDecl, type Shape } from './table';

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

type Check = (a: ArrayLike<unknown>) => void;

const DIM = 1, OFFSET = 2, NUMBER = 3, BOOL = 4, FLOATS = 5, LD = 6, OTHER = 0;
const KIND_CODES: Record<string, number> = { dim: DIM, offset: OFFSET, number: NUMBER, bool: BOOL, floats: FLOATS, ld: LD };
for (const k of ['activation', 'float64s', 'ids', 'input']) KIND_CODES[k] = OTHER;

/** A shape's value: a plain argument read at once, anything else through its closure. */
function ev(s: Shape, a: ArrayLike<unknown>): number {
  return s.argIndex >= 0 ? (a[s.argIndex] as number) : s.fn(a);
}

/** Phase 1 for one argument, as a closure specialized to its kind. */
function kindCheck(fn: string, d: ArgDecl): Check {
  const i = d.index, name = d.name;
  switch (d.kind) {
    case 'bool':
      return (a) => { if (typeof a[i] !== 'boolean') throw invalidType(fn, name, 'a boolean', a[i]); };
    case 'number':
      return (a) => { num(fn, name, a[i]); };
    case 'dim':
      return (a) => {
        const x = a[i];
        if (typeof x === 'number' && x >= 0 && x <= MAX_DIM && Number.isInteger(x)) return;
        const y = num(fn, name, x);
        throw invalidRange(fn, name, `an integer in [0, ${MAX_DIM}]`, y);
      };
    case 'offset':
      return (a) => {
        const x = a[i];
        if (typeof x === 'number' && x >= 0 && x <= MAX_INDEX && Number.isInteger(x)) return;
        throw invalidRange(fn, name, 'a non-negative integer', num(fn, name, x));
      };
    case 'ld': {
      const width = d.widthShape!.fn, label = d.widthName;
      return (a) => {
        const x = a[i];
        if (!(typeof x === 'number' && x >= 0 && x <= MAX_INDEX && Number.isInteger(x))) {
          throw invalidRange(fn, name, 'a non-negative integer', num(fn, name, x));
        }
        const least = Math.max(1, width(a));
        if (x < least) {
          const text = typeof label === 'string' ? label : (label(a) as unknown as string);
          throw invalidRange(fn, name, `>= ${least} (${text})`, x);
        }
      };
    }
    case 'activation':
      return (a) => {
        const v = a[i];
        if (v !== 'tanh' && v !== 'relu' && v !== 'sigmoid') throw invalidType(fn, name, "'tanh', 'relu' or 'sigmoid'", v);
      };
    case 'floats': {
      const nullable = d.nullable === true;
      return (a) => {
        const v = a[i];
        // Only null: the kernels test `=== null`, so an undefined let through would be used as an array.
        if (nullable && v === null) return;
        if (!isFloats(v)) throw invalidType(fn, name, `a Float32Array or Float64Array${nullable ? ' or null' : ''}`, v);
        if (v.byteLength === 0) notDetached(fn, name, v);
      };
    }
    case 'float64s':
      return (a) => {
        const v = a[i];
        if (!(v instanceof Float64Array)) throw invalidType(fn, name, 'a Float64Array', v);
        if (v.byteLength === 0) notDetached(fn, name, v);
      };
    case 'ids':
      return (a) => {
        const v = a[i];
        if (!(v instanceof Int32Array)) throw invalidType(fn, name, 'an Int32Array', v);
        if (v.byteLength === 0) notDetached(fn, name, v);
      };
    case 'input':
      return (a) => {
        const v = a[i];
        if (!(v instanceof Int32Array) && !isFloats(v)) {
          throw invalidType(fn, name, 'a Float32Array, Float64Array or Int32Array (token ids)', v);
        }
        if (v.byteLength === 0) notDetached(fn, name, v);
      };
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

/** Phase 4 for one array, as a closure: checks that a present array holds its view; returns its span. */
function fitsCheck(fn: string, d: ArgDecl): (a: ArrayLike<unknown>, v: AnyArray) => number {
  const name = d.name, offsetIndex = d.offsetIndex;
  const vector = (a: ArrayLike<unknown>, v: AnyArray, n: number): number => {
    const off = a[offsetIndex] as number;
    if (n > MAX_INDEX) throw overflow(fn, name);
    if (n > 0 && off + n > v.length) {
      throw new RangeError(`${fn}: ${name} is too short: needs ${off} + ${n} elements, has ${v.length}`);
    }
    return n;
  };
  const matrix = (a: ArrayLike<unknown>, v: AnyArray, rows: number, cols: number, ld: number): number => {
    const off = a[offsetIndex] as number;
    const need = span(fn, rows, cols, ld, name);
    if (need > 0 && off + need > v.length) {
      throw new RangeError(`${fn}: ${name} is too short for a ${rows}x${cols} view with ld ${ld} at offset ${off}: ` +
        `needs ${off} + ${need} elements, has ${v.length}`);
    }
    return need;
  };
  const len = d.lenShape, rows = d.rowsShape!, cols = d.colsShape!, ld = d.ldShape!;
  if (d.kind === 'input') {
    return (a, v) => (v instanceof Int32Array ? vector(a, v, ev(len!, a)) : matrix(a, v, ev(rows, a), ev(cols, a), ev(ld, a)));
  }
  if (len) return (a, v) => vector(a, v, ev(len, a));
  return (a, v) => matrix(a, v, ev(rows, a), ev(cols, a), ev(ld, a));
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
  // Phase 1 runs inline on the common path (a number that is a valid dim, an array of the
  // right type): one loop over small integer codes, no call per argument. The closures
  // (kindCheck) make the error or check what the fast path does not cover.
  const kinds = args.map((d) => kindCheck(fn, d));
  const codes = Uint8Array.from(args.map((d) => KIND_CODES[d.kind]));
  const widths = args.map((d) => d.widthShape);
  const checks: Check[] = decl.checks.map((c): Check => {
    const i = c.index, name = c.arg;
    if (c.kind === 'atLeast') {
      const min = c.min;
      return (a) => { if ((a[i] as number) < min) throw invalidRange(fn, name, `>= ${min}`, a[i]); };
    }
    if (c.kind === 'in') {
      const lo = c.lo, hi = c.hi;
      return (a) => {
        const v = a[i] as number;
        if (v < lo || v >= hi) throw invalidRange(fn, name, `in [${lo}, ${hi})`, v);
      };
    }
    const test = c.shape.fn, message = `${fn}: ${c.message}`, range = c.error === 'RangeError';
    return (a) => { if (!test(a)) throw range ? new RangeError(message) : new TypeError(message); };
  });
  const arrays = decl.arrays.map((i) => args[i]);
  const floatIndex = arrays.filter((d) => d.kind === 'floats' || d.kind === 'input').map((d) => d.index);
  const floatNames = floatIndex.map((i) => args[i].name);
  const fitIndex = arrays.map((d) => d.index);
  const fitChecks = arrays.map((d) => fitsCheck(fn, d));
  const idArrays = arrays.filter((d) => d.rangeShapes !== null);
  const outputs = arrays.filter(isOutput);
  const inputs = arrays.filter((d) => !isOutput(d));
  const spans = new Float64Array(argc);
  return function validate(a: ArrayLike<unknown>): void {
    if (a.length !== argc) throw new TypeError(`${fn}: expected ${argc} arguments, got ${a.length}`);
    for (let i = 0; i < argc; i++) {
      const v = a[i];
      switch (codes[i]) {
        case DIM: if (typeof v === 'number' && v >= 0 && v <= MAX_DIM && (v | 0) === v) continue; break;
        case OFFSET: if (typeof v === 'number' && v >= 0 && v <= MAX_INDEX && Math.floor(v) === v) continue; break;
        case NUMBER: if (typeof v === 'number' && v - v === 0) continue; break;
        case BOOL: if (typeof v === 'boolean') continue; break;
        case LD: {
          if (typeof v === 'number' && v <= MAX_INDEX && Math.floor(v) === v) {
            const w = ev(widths[i]!, a);
            if (v >= 1 && v >= w) continue;
          }
          break;
        }
        case FLOATS: if ((v instanceof Float32Array || v instanceof Float64Array) && v.byteLength > 0) continue; break;
      }
      kinds[i](a);
    }
    for (let i = 0; i < checks.length; i++) checks[i](a);
    let ref: AnyArray | null = null, refName = '';
    for (let k = 0; k < floatIndex.length; k++) {
      const v = a[floatIndex[k]];
      if (!isFloats(v)) continue;
      if (ref === null) {
        ref = v;
        refName = floatNames[k];
      } else if (v.constructor !== ref.constructor) {
        throw new TypeError(`${fn}: ${floatNames[k]} must be a ${dtypeName(ref)} like ${refName}, got a ${dtypeName(v)}`);
      }
    }
    for (let k = 0; k < fitIndex.length; k++) {
      const v = a[fitIndex[k]] as AnyArray | null;
      spans[fitIndex[k]] = v === null ? 0 : fitChecks[k](a, v);
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
      for (let q = 0; q < inputs.length; q++) {
        const i = inputs[q], iv = a[i.index] as AnyArray | null;
        if (iv === null || iv.buffer !== ov.buffer) continue;
        const r = overlaps(ov, oOff, oLen, iv, a[i.offsetIndex] as number, spans[i.index]);
        if (r === 'no') continue;
        const allowSame = o.sameIndex.includes(i.index);
        if (r === 'partial' || !allowSame) {
          throw new RangeError(`${fn}: ${o.name} overlaps ${i.name}${allowSame ? ' (only the very same view is allowed)' : ' (not allowed)'}`);
        }
      }
      for (let q = k + 1; q < outputs.length; q++) {
        const p = outputs[q], pv = a[p.index] as AnyArray | null;
        if (pv === null || pv.buffer !== ov.buffer) continue;
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
