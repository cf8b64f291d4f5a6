// The kernel declarations (native/kernels.json), loaded and resolved once: every argument's
// kind, role and shape, with its expressions parsed. The TypeScript checks (check.ts), the
// generated C++ table (scripts/gen-kernels.js) and the fuzzer's generators all read this.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { compileExpr, parseExpr, widthLabel, type Compiled, type Expr } from './expr';

export type ArgKind = 'bool' | 'dim' | 'offset' | 'number' | 'ld' | 'activation' | 'floats' | 'float64s' | 'ids' | 'input';
export type Role = 'read' | 'write' | 'accumulate' | 'update';

/** An argument as written in the JSON. */
export interface RawArg {
  name: string;
  kind: ArgKind;
  role?: Role;
  nullable?: boolean;
  rows?: string;
  cols?: string;
  ld?: string;
  len?: string;
  width?: string;
  same?: string[];
  range?: [string, string];
  what?: string;
  when?: string;
}

export type RawCheck =
  | { arg: string; atLeast: number }
  | { arg: string; in: [number, number] }
  | { arg: string; require: string; error: 'TypeError' | 'RangeError'; message: string };

export interface RawKernel {
  name: string;
  doc: string;
  returns?: 'void' | 'number';
  args: RawArg[];
  checks?: RawCheck[];
}

/** A parsed expression with its source text. */
export interface Shape {
  src: string;
  expr: Expr;
  fn: Compiled;
  /** The shape is this numeric argument as it is (-1 otherwise): read without a call. */
  argIndex: number;
}

export interface ArgDecl extends RawArg {
  index: number;
  /** For arrays: the position of their element offset (the next argument). */
  offsetIndex: number;
  /** For arrays: a vector of `lenShape` elements, or a (rows, cols, ld) matrix; `input` has both (ids, dense). */
  lenShape: Shape | null;
  rowsShape: Shape | null;
  colsShape: Shape | null;
  ldShape: Shape | null;
  widthShape: Shape | null;
  widthName: Compiled | string;
  rangeShapes: [Shape, Shape] | null;
  whenShape: Shape | null;
  /** Positions of the inputs this output may be the very same view of. */
  sameIndex: number[];
}

export type CheckDecl =
  | { kind: 'atLeast'; index: number; arg: string; min: number }
  | { kind: 'in'; index: number; arg: string; lo: number; hi: number }
  | { kind: 'require'; index: number; arg: string; shape: Shape; error: 'TypeError' | 'RangeError'; message: string };

export interface KernelDecl {
  name: string;
  doc: string;
  returns: 'void' | 'number';
  args: ArgDecl[];
  checks: CheckDecl[];
  /** Positions of the array arguments, in order. */
  arrays: number[];
}

const NUMERIC_KINDS: ReadonlySet<ArgKind> = new Set(['dim', 'offset', 'number', 'ld']);
const ARRAY_KINDS: ReadonlySet<ArgKind> = new Set(['floats', 'float64s', 'ids', 'input']);
export const isArrayKind = (k: ArgKind): boolean => ARRAY_KINDS.has(k);
/** Arrays a kernel may write: everything but read-only ones (ids and inputs are read). */
export const isOutput = (a: ArgDecl): boolean => a.role !== undefined && a.role !== 'read';

export const DECLARATIONS_FILE = path.resolve(__dirname, '..', '..', '..', '..', 'native', 'kernels.json');

function fail(kernel: string, message: string): never {
  throw new Error(`native/kernels.json: ${kernel}: ${message}`);
}

/** Resolves one kernel's declaration: names to positions, expressions parsed, the rules checked. */
export function resolveKernel(raw: RawKernel): KernelDecl {
  const k = raw.name;
  const byName = new Map<string, number>();
  raw.args.forEach((a, i) => {
    if (byName.has(a.name)) fail(k, `argument '${a.name}' declared twice`);
    byName.set(a.name, i);
  });
  const shape = (src: string | undefined, at: number, what: string): Shape | null => {
    if (src === undefined) return null;
    const indexOf = (name: string) => {
      const i = byName.get(name);
      if (i === undefined) fail(k, `${what} '${src}' names an unknown argument '${name}'`);
      if (i >= at && raw.args[i].kind !== 'ld') fail(k, `${what} '${src}' reads '${name}', which comes after it`);
      return i;
    };
    try {
      const expr = parseExpr(src, indexOf);
      const numeric = (i: number) => NUMERIC_KINDS.has(raw.args[i].kind);
      return { src, expr, fn: compileExpr(expr, numeric), argIndex: expr.op === 'arg' && numeric(expr.index) ? expr.index : -1 };
    } catch (e) {
      if (e instanceof SyntaxError) fail(k, `${what}: ${e.message}`);
      throw e;
    }
  };
  const args: ArgDecl[] = raw.args.map((a, i) => {
    const array = isArrayKind(a.kind);
    if (array) {
      const next = raw.args[i + 1];
      if (!next || next.kind !== 'offset') fail(k, `array '${a.name}' must be followed by its offset`);
      if (a.kind !== 'ids' && a.kind !== 'input' && !a.role) fail(k, `array '${a.name}' needs a role`);
      const hasLen = a.len !== undefined, hasMatrix = a.rows !== undefined;
      if (a.kind === 'input' ? !(hasLen && hasMatrix) : hasLen === hasMatrix) fail(k, `array '${a.name}' needs len or rows/cols/ld`);
      if (hasMatrix && (a.cols === undefined || a.ld === undefined)) fail(k, `array '${a.name}' needs rows, cols and ld`);
    }
    const width = shape(a.width, i, `width of ${a.name}`);
    return {
      ...a,
      role: a.kind === 'ids' || a.kind === 'input' ? 'read' : a.role,
      index: i,
      offsetIndex: array ? i + 1 : -1,
      // Shapes may read the ld argument that follows the array (its own leading dimension).
      lenShape: shape(a.len, raw.args.length, `len of ${a.name}`),
      rowsShape: shape(a.rows, i, `rows of ${a.name}`),
      colsShape: shape(a.cols, i, `cols of ${a.name}`),
      ldShape: shape(a.ld, raw.args.length, `ld of ${a.name}`),
      widthShape: width,
      widthName: width ? widthLabel(width.expr, width.src) : '',
      rangeShapes: a.range ? [shape(a.range[0], i, 'range')!, shape(a.range[1], i, 'range')!] : null,
      whenShape: shape(a.when, i, `when of ${a.name}`),
      sameIndex: (a.same ?? []).map((n) => {
        const j = byName.get(n);
        if (j === undefined) fail(k, `'${a.name}' may be the same view as unknown '${n}'`);
        return j;
      }),
    };
  });
  const checks: CheckDecl[] = (raw.checks ?? []).map((c) => {
    const index = byName.get(c.arg);
    if (index === undefined) fail(k, `a check names unknown argument '${c.arg}'`);
    if ('atLeast' in c) return { kind: 'atLeast', index, arg: c.arg, min: c.atLeast };
    if ('in' in c) return { kind: 'in', index, arg: c.arg, lo: c.in[0], hi: c.in[1] };
    return { kind: 'require', index, arg: c.arg, shape: shape(c.require, raw.args.length, 'require')!, error: c.error, message: c.message };
  });
  return {
    name: k,
    doc: raw.doc,
    returns: raw.returns ?? 'void',
    args,
    checks,
    arrays: args.filter((a) => isArrayKind(a.kind)).map((a) => a.index),
  };
}

/** Reads and resolves a declarations file. */
export function loadDeclarations(file = DECLARATIONS_FILE): KernelDecl[] {
  const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as { kernels: RawKernel[] };
  return raw.kernels.map(resolveKernel);
}

/** The declarations this package ships, by name, in file order. */
export const DECLS: readonly KernelDecl[] = loadDeclarations();
export const DECL_BY_NAME: ReadonlyMap<string, KernelDecl> = new Map(DECLS.map((d) => [d.name, d]));
