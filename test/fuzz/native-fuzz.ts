// A seeded fuzzer of the native surface: every kernel of the Kernels interface, run(program),
// setNumThreads and setIsa, called with arguments derived by mutating a VALID argument list
// (so the deep checks — lengths, overlaps, ids — are reached, not only the first type check).
//
// Rules it enforces:
// - every call succeeds or throws (rejects, for run) a TypeError or RangeError; anything else
//   is a failure (a crash kills the process: run the raw target in a child process);
// - every array is surrounded by guard regions of random bytes; after a successful call no
//   byte outside the declared output views may have changed, and after a failed call no byte
//   may have changed at all.
//
// It depends on the library only for the 'native' and 'ts' targets (backends.get) and for the
// default addon path; its own code (generators, RNG, guards) stands alone.
import type { Kernels } from '../../lib/backend/types';
import { makeValidator, namedArgument } from '../../lib/backend/decl/check';
import { validators } from '../../lib/backend/validate';
import { DECLS, isArrayKind, isOutput, type ArgDecl, type KernelDecl } from '../../lib/backend/decl/table';

export type FuzzTarget = 'raw' | 'native' | 'ts';

export interface CallInfo {
  index: number;
  target: FuzzTarget;
  fn: string;
  mutation: string;
}

export interface FuzzOptions {
  seed: number;
  iterations: number;
  target: FuzzTarget;
  /** Called before every call (a trace to find the call that crashed a child process). */
  onCall?: (info: CallInfo) => void;
  /** The addon file for the 'raw' target (default: NATIVE_RNN_ADDON, else the loader's). */
  addonPath?: string;
  /** Wraps every function before it is called (the fuzz's own self-test plants bugs with it). */
  wrap?: (name: string, fn: (...a: unknown[]) => unknown) => (...a: unknown[]) => unknown;
}

export interface FuzzFailure {
  index: number;
  fn: string;
  mutation: string;
  kind: 'unexpected error' | 'guard violation' | 'changed on error' | 'uncovered export';
  detail: string;
}

export interface FuzzReport {
  target: FuzzTarget;
  seed: number;
  calls: number;
  succeeded: number;
  /** Thrown errors by constructor name (TypeError, RangeError, and any unexpected one). */
  errors: Record<string, number>;
  /** Calls per function name (every kernel, run, setNumThreads, setIsa, ...). */
  byFunction: Record<string, number>;
  guardChecks: number;
  guardViolations: number;
  unexpectedErrors: number;
  /** Error messages that do not start with "<fn>: " (reported, not a failure). */
  unprefixedMessages: number;
  unprefixedSamples: string[];
  /** Calls that took over 1 s (reported, not a failure), and the slowest one. */
  slowCalls: number;
  slowest: { ms: number; fn: string; mutation: string };
  failures: FuzzFailure[];
  failureCount: number;
}

// ---- RNG ----------------------------------------------------------------------------------
class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = (seed >>> 0) ^ 0x9e3779b9;
    if (this.s === 0) this.s = 1;
  }
  /** mulberry32 */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(a: readonly T[]): T {
    return a[Math.floor(this.next() * a.length)];
  }
}

// ---- guarded arrays -------------------------------------------------------------------------
type Kind = 'f32' | 'f64' | 'i32';
type AnyView = Float32Array | Float64Array | Int32Array;

const CTOR = { f32: Float32Array, f64: Float64Array, i32: Int32Array } as const;

function kindOf(a: unknown): Kind | null {
  if (a instanceof Float32Array) return 'f32';
  if (a instanceof Float64Array) return 'f64';
  if (a instanceof Int32Array) return 'i32';
  return null;
}

/** A view of `len` elements with 0..3 guard elements before and 1..3 after, all random bytes. */
function alloc(rng: Rng, kind: Kind, len: number, shared = rng.chance(0.08), preMin = 0): AnyView {
  const C = CTOR[kind];
  const pre = rng.int(preMin, 3), post = rng.int(1, 3);
  const bytes = (pre + len + post) * C.BYTES_PER_ELEMENT;
  const buf: ArrayBufferLike = shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
  const all = new Uint8Array(buf);
  for (let i = 0; i < all.length; i++) all[i] = rng.int(0, 255);
  const view = new C(buf as ArrayBuffer, pre * C.BYTES_PER_ELEMENT, len);
  if (kind !== 'i32') for (let i = 0; i < len; i++) view[i] = rng.next() * 4 - 2;
  else view.fill(0);
  return view;
}

function copyOf(rng: Rng, a: AnyView, kind: Kind, shared?: boolean): AnyView {
  const b = alloc(rng, kind, a.length, shared);
  for (let i = 0; i < a.length; i++) b[i] = Number(a[i]);
  return b;
}

// ---- kernel specs -------------------------------------------------------------------------
/** A region a call may write: rows×cols at off with leading dimension ld, in array `a`. */
interface OutView { a: unknown; off: unknown; rows: unknown; cols: unknown; ld: unknown }

interface Spec {
  /** A valid argument list (small random shapes, random dtype, random slack and offsets). */
  make(rng: Rng, g: Gen): unknown[];
  /** What a successful call with these arguments may write. */
  outputs(a: unknown[]): OutView[];
}

/** Helpers that build valid views. */
class Gen {
  constructor(private rng: Rng, readonly kind: 'f32' | 'f64') {}
  dim(min = 0): number {
    return this.rng.chance(0.1) ? min : this.rng.int(Math.max(min, 1), 4);
  }
  /** [array, off, ld] for a rows×cols view */
  mat(rows: number, cols: number, kind: Kind = this.kind): [AnyView, number, number] {
    const off = this.rng.int(0, 2);
    const ld = Math.max(1, cols) + (this.rng.chance(0.5) ? 0 : this.rng.int(1, 2));
    const span = rows === 0 || cols === 0 ? 0 : (rows - 1) * ld + cols;
    return [alloc(this.rng, kind, off + span + this.rng.int(0, 1)), off, ld];
  }
  /** [array, off] for n elements */
  vec(n: number, kind: Kind = this.kind): [AnyView, number] {
    const off = this.rng.int(0, 2);
    return [alloc(this.rng, kind, off + n + this.rng.int(0, 1)), off];
  }
  ids(n: number, lo: number, hi: number): [AnyView, number] {
    const [a, off] = this.vec(n, 'i32');
    for (let j = 0; j < n; j++) a[off + j] = hi > lo ? this.rng.int(lo, hi - 1) : 0;
    return [a, off];
  }
  act(): string {
    return this.rng.pick(['tanh', 'relu', 'sigmoid']);
  }
}

const num = (v: unknown) => v as number;

// The specs follow from the kernel declarations (native/kernels.json): a valid call picks small
// dims, an ld of its width plus slack for each matrix, arrays that hold their views at small
// offsets, token ids in their declared range, numbers inside their declared checks, and (now
// and then) an output that is the very same view as an input it may alias. A draw that the
// declared checks still refuse (e.g. nesterov without momentum) is drawn again.
function specOf(decl: KernelDecl): Spec {
  const validate = makeValidator(decl);
  const args = decl.args;
  const ev = (sh: { fn: (a: ArrayLike<unknown>) => number } | null, a: unknown[]): number => (sh ? sh.fn(a) : 0);
  const draw = (r: Rng, g: Gen): unknown[] => {
    const a: unknown[] = new Array(args.length).fill(0);
    const minOf = (d: ArgDecl): number => {
      let min = 0;
      for (const c of decl.checks) if (c.kind === 'atLeast' && c.index === d.index) min = c.min;
      return min;
    };
    for (const d of args) {
      if (d.kind === 'dim') a[d.index] = g.dim(r.chance(0.5) ? 1 : 0);
      else if (d.kind === 'bool') a[d.index] = r.chance(0.5);
      else if (d.kind === 'activation') a[d.index] = g.act();
      else if (d.kind === 'offset' && !isArrayKind(args[d.index - 1]?.kind ?? 'dim')) a[d.index] = r.int(Math.max(1, minOf(d)), 5);
      else if (d.kind === 'number') {
        const range = decl.checks.find((c) => c.index === d.index && c.kind === 'in');
        if (range && range.kind === 'in') a[d.index] = range.lo + r.next() * (range.hi - range.lo) * 0.99;
        else a[d.index] = r.chance(0.3) ? r.pick([0, 1, 0.5]) : minOf(d) + r.next();
      }
    }
    for (const d of args) if (d.kind === 'ld') a[d.index] = Math.max(1, ev(d.widthShape, a)) + (r.chance(0.5) ? 0 : r.int(1, 2));
    for (const d of args) {
      if (!isArrayKind(d.kind)) continue;
      const alias = d.sameIndex.length > 0 && r.chance(0.3) ? r.pick(d.sameIndex) : -1;
      if (alias >= 0 && a[alias] !== null) {
        a[d.index] = a[alias];
        a[d.offsetIndex] = a[alias + 1];
        // the same view: the same leading dimension too, when both have an ld argument
        const myLd = d.ldShape?.argIndex ?? -1, theirLd = args[alias].ldShape?.argIndex ?? -1;
        if (myLd >= 0 && theirLd >= 0) a[myLd] = a[theirLd];
        continue;
      }
      if (d.nullable && r.chance(0.3)) {
        a[d.index] = null;
        a[d.offsetIndex] = 0;
        continue;
      }
      const ids = d.kind === 'ids' || (d.kind === 'input' && r.chance(0.5));
      if (ids) {
        const n = ev(d.lenShape, a), lo = ev(d.rangeShapes![0], a), hi = ev(d.rangeShapes![1], a);
        const [arr, off] = g.ids(n, lo === -1 && r.chance(0.7) ? 0 : lo, hi);
        a[d.index] = arr;
        a[d.offsetIndex] = off;
        continue;
      }
      const kind: Kind = d.kind === 'float64s' ? 'f64' : g.kind;
      const vector = d.kind !== 'input' && d.lenShape !== null;
      const off = r.int(0, 2);
      const rows = vector ? 1 : ev(d.rowsShape, a), cols = vector ? ev(d.lenShape, a) : ev(d.colsShape, a);
      const ld = vector ? cols : ev(d.ldShape, a);
      const span = rows === 0 || cols === 0 ? 0 : (rows - 1) * ld + cols;
      a[d.index] = alloc(r, kind, off + span + r.int(0, 1));
      a[d.offsetIndex] = off;
    }
    return a;
  };
  return {
    make(r, g) {
      let a = draw(r, g);
      for (let tries = 0; tries < 30; tries++) {
        try {
          validate(a);
          return a;
        } catch {
          a = draw(r, g);
        }
      }
      return a;
    },
    outputs(a) {
      const views: OutView[] = [];
      for (const d of args) {
        if (!isArrayKind(d.kind) || !isOutput(d) || a[d.index] === null) continue;
        if (d.lenShape !== null && d.kind !== 'input') {
          const n = ev(d.lenShape, a);
          views.push({ a: a[d.index], off: a[d.offsetIndex], rows: 1, cols: n, ld: n });
        } else {
          views.push({ a: a[d.index], off: a[d.offsetIndex], rows: ev(d.rowsShape, a), cols: ev(d.colsShape, a), ld: ev(d.ldShape, a) });
        }
      }
      return views;
    },
  };
}

const SPECS = Object.fromEntries(DECLS.map((d) => [d.name, specOf(d)])) as { [K in keyof Kernels]: Spec };

export const FUZZ_KERNELS = Object.keys(SPECS) as Array<keyof Kernels>;

/** A valid argument list for a kernel (random small shapes from the seed), unmutated. */
export function validArgs(name: keyof Kernels, seed: number, dtype: 'float32' | 'float64' = 'float32'): unknown[] {
  const rng = new Rng(seed);
  return SPECS[name].make(rng, new Gen(rng, dtype === 'float32' ? 'f32' : 'f64'));
}

// ---- mutations -------------------------------------------------------------------------------
const EDGE_NUMBERS = [NaN, Infinity, -Infinity, -0, 2 ** 31, 2 ** 31 - 1, 2 ** 32, 2 ** 53, 2 ** 53 + 2,
  -(2 ** 53), -1, -(2 ** 31), 0.5, 1.5, 1e-300, Number.MAX_VALUE, Number.MIN_VALUE, 2 ** 63, 2 ** 62];

function detachedArray(kind: Kind): AnyView {
  const a = new CTOR[kind](8);
  structuredClone(a.buffer, { transfer: [a.buffer] });
  return a;
}

function adversarialValue(rng: Rng): unknown {
  switch (rng.int(0, 9)) {
    case 0: case 1: case 2: return rng.pick(EDGE_NUMBERS);
    case 3: return rng.pick([null, undefined, true, false, '1', '', 'tanh', 'tanh\0x', 'TANH', 'relu ']);
    case 4: return rng.pick([{}, [], [1, 2, 3], () => 1, Symbol('x'), 1n, new Date(0), { length: 4 }]);
    case 5: return rng.pick([new Uint8Array(16), new Int16Array(8), new Uint32Array(4), new BigInt64Array(2),
      new Uint8ClampedArray(4), new DataView(new ArrayBuffer(16)), new ArrayBuffer(16), new Float32Array(0)]);
    case 6: return detachedArray(rng.pick(['f32', 'f64', 'i32'] as const));
    case 7: return new (rng.pick([Float32Array, Float64Array, Int32Array]))(new SharedArrayBuffer(32) as unknown as ArrayBuffer);
    case 8: return new Uint8Array(new ArrayBuffer(17), 1, 15); // odd byte offset, wrong type
    default: return rng.int(-3, 70000);
  }
}

type Mut = (rng: Rng, a: unknown[], kinds: Array<Kind | null>) => string | null;

const numericPositions = (a: unknown[]) => a.map((v, i) => (typeof v === 'number' ? i : -1)).filter((i) => i >= 0);
const arrayPositions = (a: unknown[]) => a.map((v, i) => (kindOf(v) ? i : -1)).filter((i) => i >= 0);

function label(v: unknown): string {
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'symbol') return 'Symbol';
  if (typeof v === 'bigint') return `${v}n`;
  if (v === null || v === undefined || typeof v === 'boolean') return String(v);
  if (ArrayBuffer.isView(v)) {
    const buf = v.buffer as ArrayBufferLike;
    const shared = typeof SharedArrayBuffer !== 'undefined' && buf instanceof SharedArrayBuffer;
    return `${v.constructor.name}(${(v as { length?: number }).length ?? v.byteLength}@${v.byteOffset}${shared ? ',shared' : ''})`;
  }
  return Array.isArray(v) ? 'Array' : typeof v;
}

// The ts backend loops over the empty dimension's partner (2^31 − 1 rows of nothing take
// ~25 s there), so its fuzz uses smaller "huge" partners; the native kernels return at once.
let zeroBigValues = [2 ** 31 - 1, 2 ** 30, 1e6];

const MUTATIONS: Array<[number, string, Mut]> = [
  [6, 'value', (r, a) => {
    if (a.length === 0) return null;
    const i = r.int(0, a.length - 1);
    a[i] = adversarialValue(r);
    return `[${i}]=${label(a[i])}`;
  }],
  [5, 'tweak', (r, a) => {
    const ps = numericPositions(a);
    if (ps.length === 0) return null;
    const i = r.pick(ps), v = a[i] as number;
    a[i] = r.pick([v + 1, v - 1, v * 2, 0, v + 2 ** 31, -v, v + 0.5]);
    return `[${i}]=${label(a[i])}`;
  }],
  [4, 'short', (r, a) => {
    const ps = arrayPositions(a).filter((i) => (a[i] as AnyView).length > 0);
    if (ps.length === 0) return null;
    const i = r.pick(ps), v = a[i] as AnyView;
    a[i] = v.subarray(0, v.length - 1);
    return `[${i}] one short`;
  }],
  [3, 'dtype', (r, a, kinds) => {
    const ps = arrayPositions(a);
    if (ps.length === 0) return null;
    const i = r.pick(ps), k = kindOf(a[i]) as Kind;
    const to = r.pick((['f32', 'f64', 'i32'] as const).filter((x) => x !== k));
    a[i] = copyOf(r, a[i] as AnyView, to);
    void kinds;
    return `[${i}] ${k}->${to}`;
  }],
  [5, 'alias', (r, a) => {
    const ps = arrayPositions(a).filter((i) => typeof a[i + 1] === 'number');
    if (ps.length < 2) return null;
    const o = r.pick(ps), i = r.pick(ps.filter((x) => x !== o));
    a[o] = a[i];
    a[o + 1] = Math.max(0, (a[i + 1] as number) + r.int(-2, 2));
    return `[${o}] aliases [${i}] at offset ${a[o + 1]}`;
  }],
  [4, 'ids', (r, a) => {
    const ps = arrayPositions(a).filter((i) => kindOf(a[i]) === 'i32' && (a[i] as AnyView).length > 0);
    if (ps.length === 0) return null;
    const i = r.pick(ps), v = a[i] as Int32Array, j = r.int(0, v.length - 1);
    v[j] = r.pick([-1, -2, 2 ** 31 - 1, -(2 ** 31), 5, 4, 3, 1e6]);
    return `[${i}][${j}]=${v[j]}`;
  }],
  [3, 'overflow', (r, a) => {
    const ps = numericPositions(a);
    if (ps.length < 2) return null;
    const picked: number[] = [];
    for (let k = r.int(2, 4); k > 0; k--) {
      const i = r.pick(ps);
      a[i] = r.pick([2 ** 31 - 1, 2 ** 30, 2 ** 31 - 2, 65536, 2 ** 52, 2 ** 53 - 1, 46341]);
      picked.push(i);
    }
    return picked.map((i) => `[${i}]=${a[i]}`).join(' ');
  }],
  [3, 'zeroBig', (r, a) => {
    // One dimension 0, another huge: spans are 0, so deep checks pass; kernels must loop nothing.
    const ps = numericPositions(a);
    if (ps.length < 2) return null;
    const z = r.pick(ps), b = r.pick(ps);
    a[z] = 0;
    a[b] = r.pick(zeroBigValues);
    return `[${z}]=0 [${b}]=${a[b]}`;
  }],
  [2, 'detach', (r, a) => {
    const ps = arrayPositions(a).filter((i) => !((a[i] as AnyView).buffer instanceof SharedArrayBuffer));
    if (ps.length === 0) return null;
    const i = r.pick(ps);
    const buf = (a[i] as AnyView).buffer as ArrayBuffer;
    if (buf.byteLength === 0) return null;
    structuredClone(buf, { transfer: [buf] });
    return `[${i}] detached`;
  }],
  [2, 'zeroLength', (r, a) => {
    const ps = arrayPositions(a);
    if (ps.length === 0) return null;
    const i = r.pick(ps), k = kindOf(a[i]) as Kind;
    a[i] = r.chance(0.5) ? new CTOR[k](0) : alloc(r, k, 0);
    return `[${i}] zero-length`;
  }],
  [2, 'shared', (r, a) => {
    const ps = arrayPositions(a);
    if (ps.length === 0) return null;
    const i = r.pick(ps);
    a[i] = copyOf(r, a[i] as AnyView, kindOf(a[i]) as Kind, true);
    return `[${i}] on a SharedArrayBuffer`;
  }],
  [2, 'oddView', (r, a) => {
    // Float32 at byte offset 4 (not 8/16/32-aligned), or a Uint8 view at an odd offset.
    const ps = arrayPositions(a);
    if (ps.length === 0) return null;
    const i = r.pick(ps), v = a[i] as AnyView;
    if (r.chance(0.7) && kindOf(v) !== 'f64') {
      const c = alloc(r, kindOf(v) as Kind, v.length, false, 1);
      for (let k = 0; k < v.length; k++) c[k] = v[k];
      a[i] = c;
      return `[${i}] at byte offset ${c.byteOffset}`;
    }
    a[i] = new Uint8Array(new ArrayBuffer(v.byteLength + 2), 1, v.byteLength);
    return `[${i}] Uint8Array at byte offset 1`;
  }],
  [2, 'count', (r, a) => {
    const c = r.int(0, 3);
    if (c === 0) a.pop();
    else if (c === 1) a.push(0);
    else if (c === 2) a.push(undefined);
    else a.length = 0;
    return `length ${a.length}`;
  }],
  [2, 'null', (r, a) => {
    const ps = arrayPositions(a);
    if (ps.length === 0) return null;
    const i = r.pick(ps);
    a[i] = r.chance(0.7) ? null : undefined;
    return `[${i}]=${a[i]}`;
  }],
];
const MUT_TOTAL = MUTATIONS.reduce((s, m) => s + m[0], 0);

function mutate(rng: Rng, args: unknown[]): string {
  const roll = rng.next();
  const n = roll < 0.08 ? 0 : roll < 0.8 ? 1 : rng.int(2, 3);
  const done: string[] = [];
  for (let k = 0; k < n; k++) {
    for (let attempt = 0; attempt < 4; attempt++) {
      let w = rng.next() * MUT_TOTAL;
      let m = MUTATIONS[0];
      for (const cand of MUTATIONS) {
        w -= cand[0];
        if (w < 0) { m = cand; break; }
      }
      const what = m[2](rng, args, []);
      if (what !== null) { done.push(`${m[1]} ${what}`); break; }
    }
  }
  return done.length ? done.join('; ') : 'valid';
}

// ---- guards ----------------------------------------------------------------------------------
interface Snapshot { buf: ArrayBufferLike; before: Uint8Array }

function collectViews(v: unknown, out: Set<ArrayBufferView>, depth = 0): void {
  if (ArrayBuffer.isView(v)) out.add(v);
  else if (Array.isArray(v) && depth < 2) {
    // Programs and ops of length 2^32 - 1 are sparse: look at the first elements only.
    for (let i = 0; i < Math.min(v.length, 64); i++) collectViews(v[i], out, depth + 1);
  }
}

function snapshot(args: unknown): Snapshot[] {
  const views = new Set<ArrayBufferView>();
  collectViews(args, views);
  const bufs = new Set<ArrayBufferLike>();
  for (const v of views) if (v.buffer.byteLength > 0) bufs.add(v.buffer);
  return [...bufs].map((buf) => ({ buf, before: new Uint8Array(buf).slice() }));
}

/** Byte ranges [start, end) of a declared output view, or null when it is not a typed array. */
function outRanges(o: OutView): Array<[ArrayBufferLike, number, number]> {
  const k = kindOf(o.a);
  if (!k || o.a === null) return [];
  const a = o.a as AnyView, bpe = a.BYTES_PER_ELEMENT;
  if ([o.off, o.rows, o.cols, o.ld].some((v) => typeof v !== 'number')) return [];
  const off = num(o.off), rows = num(o.rows), cols = num(o.cols), ld = num(o.ld);
  if (!(rows > 0 && cols > 0)) return [];
  const r: Array<[ArrayBufferLike, number, number]> = [];
  for (let i = 0; i < rows; i++) {
    const s = a.byteOffset + (off + i * ld) * bpe;
    r.push([a.buffer, s, s + cols * bpe]);
  }
  return r;
}

/** First changed byte outside the allowed ranges, as text, or null. */
function verify(snaps: Snapshot[], allowed: OutView[]): string | null {
  const ranges = allowed.flatMap(outRanges);
  for (const s of snaps) {
    const now = new Uint8Array(s.buf);
    if (now.length !== s.before.length) continue; // detached during the call by the fuzz itself
    const mine = ranges.filter((r) => r[0] === s.buf);
    for (let i = 0; i < now.length; i++) {
      if (now[i] === s.before[i]) continue;
      if (mine.some(([, a, b]) => i >= a && i < b)) continue;
      return `byte ${i} of a ${now.length}-byte buffer changed (${s.before[i]} -> ${now[i]}); allowed: ` +
        (mine.map(([, a, b]) => `[${a},${b})`).join(' ') || 'none');
    }
  }
  return null;
}

// ---- targets -------------------------------------------------------------------------------
type Fn = (...a: unknown[]) => unknown;
interface Surface {
  kernels: Record<string, Fn>;
  run: Fn;
  setNumThreads: Fn;
  getNumThreads: Fn;
  setIsa: Fn | null;
  cpuInfo: (() => { detected: string } | null) | null;
  /** Exported functions of the raw addon, for the coverage check. */
  exported: string[] | null;
}

function surfaceFor(target: FuzzTarget, addonPath?: string): Surface {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const lib = require('../../lib') as typeof import('../../lib');
  if (target === 'raw') {
    const file = addonPath ?? process.env.NATIVE_RNN_ADDON ?? lib.backends.nativeFile();
    if (!file) throw new Error(`fuzz: no native addon to load (${lib.backends.nativeError()})`);
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const addon = require(require('node:path').resolve(file)) as Record<string, Fn>;
    return {
      kernels: addon, run: addon.run, setNumThreads: addon.setNumThreads, getNumThreads: addon.getNumThreads,
      setIsa: addon.setIsa, cpuInfo: addon.cpuInfo as () => { detected: string },
      exported: Object.keys(addon).filter((k) => typeof addon[k] === 'function'),
    };
  }
  const b = lib.backends.get(target) as unknown as Record<string, Fn>;
  return {
    kernels: b, run: b.run, setNumThreads: b.setNumThreads, getNumThreads: b.getNumThreads,
    setIsa: target === 'native' ? (lib.backends.setIsa as Fn) : null,
    cpuInfo: target === 'native' ? lib.backends.cpuInfo : null,
    exported: null,
  };
}

// ---- the loop --------------------------------------------------------------------------------
function errorName(e: unknown): string {
  if (e instanceof TypeError) return 'TypeError';
  if (e instanceof RangeError) return 'RangeError';
  if (e instanceof Error) return e.constructor.name || 'Error';
  return `non-Error ${typeof e}`;
}

function isPromise(v: unknown): v is Promise<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as Promise<unknown>).then === 'function';
}

const RUN_WEIGHT = 4;

export async function runFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const rng = new Rng(opts.seed);
  zeroBigValues = opts.target === 'ts' ? [1e5, 65536] : [2 ** 31 - 1, 2 ** 30, 1e6];
  const s = surfaceFor(opts.target, opts.addonPath);
  if (opts.wrap) {
    const w = opts.wrap;
    const k: Record<string, Fn> = {};
    for (const name of FUZZ_KERNELS) if (typeof s.kernels[name] === 'function') k[name] = w(name, s.kernels[name]);
    s.kernels = k;
    s.run = w('run', s.run);
    s.setNumThreads = w('setNumThreads', s.setNumThreads);
    if (s.setIsa) s.setIsa = w('setIsa', s.setIsa);
  }
  const report: FuzzReport = {
    target: opts.target, seed: opts.seed, calls: 0, succeeded: 0, errors: {}, byFunction: {},
    guardChecks: 0, guardViolations: 0, unexpectedErrors: 0, unprefixedMessages: 0, unprefixedSamples: [],
    slowCalls: 0, slowest: { ms: 0, fn: '', mutation: '' }, failures: [], failureCount: 0,
  };
  const fail = (f: FuzzFailure) => {
    report.failureCount++;
    if (report.failures.length < 50) report.failures.push(f);
  };

  // Coverage: every function the raw addon exports must be one the fuzz calls.
  const covered = new Set<string>([...FUZZ_KERNELS, 'run', 'setNumThreads', 'setIsa', 'getNumThreads', 'cpuInfo']);
  for (const name of s.exported ?? []) {
    if (!covered.has(name)) fail({ index: -1, fn: name, mutation: '', kind: 'uncovered export', detail: `the addon exports ${name}, which the fuzz does not call` });
  }
  for (const name of FUZZ_KERNELS) {
    if (typeof s.kernels[name] !== 'function') fail({ index: -1, fn: name, mutation: '', kind: 'uncovered export', detail: `the target has no function ${name}` });
  }

  const threads0 = s.getNumThreads() as number;
  const isa0 = s.cpuInfo?.()?.detected ?? null;
  const entries: string[] = [...FUZZ_KERNELS];
  for (let k = 0; k < RUN_WEIGHT; k++) entries.push('run');
  entries.push('setNumThreads', 'getNumThreads');
  if (s.setIsa) entries.push('setIsa', 'cpuInfo');

  for (let index = 0; index < opts.iterations; index++) {
    const fn = rng.pick(entries);
    const g = new Gen(rng, rng.chance(0.5) ? 'f32' : 'f64');
    let args: unknown[];
    let mutation: string;
    let allowed: () => OutView[] = () => [];
    let call: () => unknown;
    let after: (() => void) | null = null;
    let prefix = `${fn}: `;

    if (fn === 'run') {
      prefix = '';
      const built = buildProgram(rng, g, opts.target);
      args = [built.program];
      mutation = built.mutation;
      allowed = built.allowed;
      after = built.afterCall;
      call = () => (s.run as Fn)(...args);
      if (built.ids.length) {
        const inner = call;
        call = () => {
          const r = inner();
          built.mutateIds();
          return r;
        };
      }
    } else if (fn === 'setNumThreads') {
      args = [rng.int(1, 2)];
      mutation = mutate(rng, args);
      call = () => s.setNumThreads(...args);
      after = () => s.setNumThreads(threads0);
    } else if (fn === 'getNumThreads' || fn === 'cpuInfo') {
      args = rng.chance(0.5) ? [] : [adversarialValue(rng)];
      mutation = `args ${args.map(label).join(', ')}`;
      const f = fn === 'getNumThreads' ? s.getNumThreads : (s.cpuInfo as Fn);
      call = () => f(...args);
      prefix = '';
    } else if (fn === 'setIsa') {
      args = [rng.pick(['generic', 'avx2', 'avx512'])];
      if (rng.chance(0.8)) {
        if (rng.chance(0.5)) args[0] = rng.pick(['AVX2', '', 'avx2\0', 'avx2 ', 'sse', 'generic'.repeat(20)]);
        else mutation = mutate(rng, args);
      }
      mutation = `isa ${args.map(label).join(', ')} (${args.length} args)`;
      call = () => (s.setIsa as Fn)(...args);
      after = () => { if (isa0) (s.setIsa as Fn)(isa0); };
    } else {
      const spec = SPECS[fn as keyof Kernels];
      args = spec.make(rng, g);
      mutation = mutate(rng, args);
      allowed = () => spec.outputs(args);
      call = () => s.kernels[fn](...args);
    }

    opts.onCall?.({ index, target: opts.target, fn, mutation });
    report.calls++;
    report.byFunction[fn] = (report.byFunction[fn] ?? 0) + 1;
    const snaps = snapshot(args);
    let error: unknown = null;
    let threw = false;
    const t0 = Date.now();
    try {
      const r = call();
      if (isPromise(r)) await r;
    } catch (e) {
      error = e;
      threw = true;
    }
    const ms = Date.now() - t0;
    if (ms > 1000) report.slowCalls++;
    if (ms > report.slowest.ms) report.slowest = { ms, fn, mutation };
    try {
      after?.();
    } catch (e) {
      fail({ index, fn, mutation, kind: 'unexpected error', detail: `restoring state after the call threw ${errorName(e)}: ${String(e)}` });
    }

    if (threw) {
      const name = errorName(error);
      report.errors[name] = (report.errors[name] ?? 0) + 1;
      if (name !== 'TypeError' && name !== 'RangeError') {
        report.unexpectedErrors++;
        fail({ index, fn, mutation, kind: 'unexpected error', detail: `${name}: ${error instanceof Error ? error.message : String(error)}` });
      } else if (prefix && !(error as Error).message.startsWith(prefix)) {
        report.unprefixedMessages++;
        if (report.unprefixedSamples.length < 5) report.unprefixedSamples.push(`${fn} (${mutation}): ${(error as Error).message}`);
      }
      report.guardChecks++;
      const bad = verify(snaps, []);
      if (bad) {
        report.guardViolations++;
        fail({ index, fn, mutation, kind: 'changed on error', detail: bad });
      }
    } else {
      report.succeeded++;
      report.guardChecks++;
      const bad = verify(snaps, allowed());
      if (bad) {
        report.guardViolations++;
        fail({ index, fn, mutation, kind: 'guard violation', detail: bad });
      }
    }
  }
  s.setNumThreads(threads0);
  if (isa0 && s.setIsa) s.setIsa(isa0);
  return report;
}

interface BuiltProgram {
  program: unknown;
  mutation: string;
  allowed: () => OutView[];
  ids: Int32Array[];
  /** Scribbles over the programs's token ids right after run() returns (raw / native only). */
  mutateIds: () => void;
  afterCall: () => void;
}

function buildProgram(rng: Rng, g: Gen, target: FuzzTarget): BuiltProgram {
  const ops: unknown[][] = [];
  const notes: string[] = [];
  const count = rng.int(1, 3);
  const mutated = rng.chance(0.6) ? rng.int(0, count - 1) : -1;
  for (let k = 0; k < count; k++) {
    const name = rng.pick(FUZZ_KERNELS);
    const args = SPECS[name].make(rng, g);
    if (k === mutated) notes.push(`op ${k} ${name}: ${mutate(rng, args)}`);
    else notes.push(`op ${k} ${name}`);
    ops.push([name, ...args]);
  }
  let program: unknown = ops;
  if (rng.chance(0.25)) {
    switch (rng.int(0, 9)) {
      case 0: program = adversarialValue(rng); notes.push(`program=${label(program)}`); break;
      case 1: ops[0] = adversarialValue(rng) as unknown[]; notes.push('op 0 not an array'); break;
      case 2: ops[0] = []; notes.push('op 0 empty'); break;
      case 3: ops[0][0] = adversarialValue(rng); notes.push(`op 0 name ${label(ops[0][0])}`); break;
      case 4: ops[0][0] = rng.pick(['nope', 'gemm\0', 'GEMM', 'run', 'setNumThreads', 'constructor', '__proto__', 'x'.repeat(100)]); notes.push(`op 0 name ${label(ops[0][0])}`); break;
      case 5: ops[0].length = 2 ** 32 - 1; notes.push('op 0 of length 2^32-1'); break;
      case 6: { const p: unknown[] = []; p.length = 2 ** 32 - 1; p[0] = ops[0]; program = p; notes.push('program of length 2^32-1'); break; }
      case 7: { const p: unknown[] = []; p.length = rng.int(2, 5); p[p.length - 1] = ops[0]; program = p; notes.push('program with holes'); break; }
      case 8: ops[0].length = rng.int(1, 40); notes.push(`op 0 of length ${ops[0].length}`); break;
      default: program = [...ops, ...ops]; notes.push('the same ops twice'); break;
    }
  }
  const ids = target === 'ts' ? [] : ops.flatMap((op) => (Array.isArray(op) ? op.slice(0, 64).filter((v): v is Int32Array => v instanceof Int32Array) : []));
  const saved: Array<[Int32Array, Int32Array]> = [];
  return {
    program,
    mutation: notes.join(' | '),
    // What the program actually passed (it may have been replaced by an empty Array, which runs).
    allowed: () => (Array.isArray(program) ? program.slice(0, 64) : []).flatMap((op: unknown) => {
      if (!Array.isArray(op) || op.length > 64 || typeof op[0] !== 'string' || !Object.prototype.hasOwnProperty.call(SPECS, op[0])) return [];
      return SPECS[op[0] as keyof Kernels].outputs(op.slice(1));
    }),
    ids,
    mutateIds: () => {
      // The worker must use the ids that were checked, not what the caller writes afterwards.
      for (const a of ids) {
        if (a.length === 0) continue;
        saved.push([a, a.slice()]);
        a.fill(rng.pick([1e9, -5, 2 ** 31 - 1]));
      }
    },
    afterCall: () => {
      for (const [a, copy] of saved) a.set(copy);
    },
  };
}

// ---- the differential check ----------------------------------------------------------------
// The TypeScript checks and the addon's C++ checks read one declaration table: on any call,
// valid or mutated, they must reach the same verdict — accepted, or the same error class
// naming the same argument (the word after "<fn>: ", past "the size of").

export interface Verdict {
  accepted: boolean;
  error: string | null;
  argument: string | null;
  message: string | null;
}

export interface DifferentialReport {
  seed: number;
  calls: number;
  /** Calls both sides accepted (and the addon ran). */
  accepted: number;
  /** Calls the TypeScript checks refused, by error class. */
  rejected: Record<string, number>;
  /** Calls per kernel. */
  byKernel: Record<string, number>;
  /** The first disagreements (at most 20), with both verdicts, and how many there were in all. */
  mismatches: Array<{ index: number; fn: string; mutation: string; ts: Verdict; cpp: Verdict }>;
  mismatchCount: number;
}

function verdictOf(fn: string, call: () => unknown): Verdict {
  try {
    call();
    return { accepted: true, error: null, argument: null, message: null };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return { accepted: false, error: errorName(e), argument: namedArgument(fn, message), message };
  }
}

export function runDifferential(opts: { seed: number; iterations: number; addonPath?: string }): DifferentialReport {
  const rng = new Rng(opts.seed);
  const raw = surfaceFor('raw', opts.addonPath).kernels;
  const report: DifferentialReport = { seed: opts.seed, calls: 0, accepted: 0, rejected: {}, byKernel: {}, mismatches: [], mismatchCount: 0 };
  for (let index = 0; index < opts.iterations; index++) {
    const fn = rng.pick(FUZZ_KERNELS);
    const g = new Gen(rng, rng.chance(0.5) ? 'f32' : 'f64');
    const args = SPECS[fn].make(rng, g);
    const mutation = mutate(rng, args);
    // zeroBig leaves spans empty, but the ts validator is all that runs on the TS side, so
    // huge partners cost nothing here.
    const ts = verdictOf(fn, () => validators[fn](args));
    const cpp = verdictOf(fn, () => raw[fn](...args));
    report.calls++;
    report.byKernel[fn] = (report.byKernel[fn] ?? 0) + 1;
    if (ts.accepted) report.accepted++;
    else report.rejected[ts.error as string] = (report.rejected[ts.error as string] ?? 0) + 1;
    // The same message word for word (then the same class and argument too, both kept for the report).
    const same = ts.accepted === cpp.accepted && ts.error === cpp.error && ts.argument === cpp.argument && ts.message === cpp.message;
    if (!same) {
      report.mismatchCount++;
      if (report.mismatches.length < 20) report.mismatches.push({ index, fn, mutation, ts, cpp });
    }
  }
  return report;
}
