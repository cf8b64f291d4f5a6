// The shape expressions of the kernel declarations (native/kernels.json): a tiny language of
// integers, argument names, + * ?: comparisons && || ! and the array tests present(a), ids(a).
//
// One parser, two back ends: closures for the TypeScript checks, and reverse-Polish code that
// scripts/gen-kernels.js writes into native/addon/kernel_table.inc for the C++ checks. Both
// evaluate in IEEE doubles with one rule for sizes: a result above 2^53 − 1 saturates to 2^53
// (an overflow, reported by whoever uses the value), so the two sides agree on every input.

export const MAX_INDEX = Number.MAX_SAFE_INTEGER;
/** The value every overflowing size becomes. */
export const OVERFLOW = 2 ** 53;

export type Expr =
  | { op: 'num'; value: number }
  | { op: 'arg'; name: string; index: number }
  | { op: 'present' | 'ids'; name: string; index: number }
  | { op: 'not'; a: Expr }
  | { op: '+' | '*' | '==' | '!=' | '<' | '<=' | '>' | '>=' | '&&' | '||'; a: Expr; b: Expr }
  | { op: '?'; c: Expr; a: Expr; b: Expr };

type Token = { t: 'num'; v: number } | { t: 'id'; v: string } | { t: 'op'; v: string };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  const re = /\s*(?:(-?\d+)|([A-Za-z_][A-Za-z0-9_]*)|(==|!=|<=|>=|&&|\|\||[-+*()?:<>!]))/y;
  let pos = 0;
  while (pos < src.length) {
    if (/^\s*$/.test(src.slice(pos))) break;
    re.lastIndex = pos;
    const m = re.exec(src);
    if (!m) throw new SyntaxError(`expression '${src}': unexpected '${src.slice(pos)}'`);
    pos = re.lastIndex;
    if (m[1] !== undefined) out.push({ t: 'num', v: Number(m[1]) });
    else if (m[2] !== undefined) out.push({ t: 'id', v: m[2] });
    else out.push({ t: 'op', v: m[3] });
  }
  return out;
}

/** Parses `src`; names resolve to argument positions through `indexOf` (which throws for unknown ones). */
export function parseExpr(src: string, indexOf: (name: string) => number): Expr {
  const tokens = tokenize(src);
  let k = 0;
  const peek = (v: string) => k < tokens.length && tokens[k].t === 'op' && tokens[k].v === v;
  const expect = (v: string) => {
    if (!peek(v)) throw new SyntaxError(`expression '${src}': expected '${v}'`);
    k++;
  };
  const binary = (next: () => Expr, ops: string[]) => (): Expr => {
    let a = next();
    for (;;) {
      const t = tokens[k];
      if (!t || t.t !== 'op' || !ops.includes(t.v)) return a;
      k++;
      a = { op: t.v as '+', a, b: next() };
    }
  };
  const primary = (): Expr => {
    const t = tokens[k++];
    if (!t) throw new SyntaxError(`expression '${src}': unexpected end`);
    if (t.t === 'num') return { op: 'num', value: t.v };
    if (t.t === 'id') {
      if ((t.v === 'present' || t.v === 'ids') && peek('(')) {
        k++;
        const name = tokens[k++];
        if (!name || name.t !== 'id') throw new SyntaxError(`expression '${src}': ${t.v}() takes an argument name`);
        expect(')');
        return { op: t.v, name: name.v, index: indexOf(name.v) };
      }
      return { op: 'arg', name: t.v, index: indexOf(t.v) };
    }
    if (t.v === '(') {
      const e = ternary();
      expect(')');
      return e;
    }
    if (t.v === '!') return { op: 'not', a: primary() };
    throw new SyntaxError(`expression '${src}': unexpected '${t.v}'`);
  };
  const product = binary(primary, ['*']);
  const sum = binary(product, ['+']);
  const compare = binary(sum, ['==', '!=', '<', '<=', '>', '>=']);
  const and = binary(compare, ['&&']);
  const or = binary(and, ['||']);
  function ternary(): Expr {
    const c = or();
    if (!peek('?')) return c;
    k++;
    const a = ternary();
    expect(':');
    return { op: '?', c, a, b: ternary() };
  }
  const e = ternary();
  if (k !== tokens.length) throw new SyntaxError(`expression '${src}': trailing tokens`);
  return e;
}

const saturate = (v: number) => (v > MAX_INDEX ? OVERFLOW : v);

/** A value of an argument: numbers as they are, booleans as 1 / 0. */
function value(v: unknown): number {
  return typeof v === 'number' ? v : v === true ? 1 : 0;
}

export type Compiled = (args: ArrayLike<unknown>) => number;

/**
 * The expression as a closure over the call's argument list. `numeric(i)` says argument i is
 * known to be a number by the time the expression runs (checked dims, offsets), so it is read as is.
 */
export function compileExpr(e: Expr, numeric: (index: number) => boolean = () => false): Compiled {
  const compile = (x: Expr) => compileExpr(x, numeric);
  switch (e.op) {
    case 'num': { const v = e.value; return () => v; }
    case 'arg': {
      const i = e.index;
      return numeric(i) ? (a) => a[i] as number : (a) => value(a[i]);
    }
    case 'present': { const i = e.index; return (a) => (a[i] !== null ? 1 : 0); }
    case 'ids': { const i = e.index; return (a) => (a[i] instanceof Int32Array ? 1 : 0); }
    case 'not': { const x = compile(e.a); return (a) => (x(a) ? 0 : 1); }
    case '?': {
      const c = compile(e.c), x = compile(e.a), y = compile(e.b);
      return (a) => (c(a) ? x(a) : y(a));
    }
    default: {
      const x = compile(e.a), y = compile(e.b);
      switch (e.op) {
        case '+': return (a) => saturate(x(a) + y(a));
        case '*': return (a) => saturate(x(a) * y(a));
        case '==': return (a) => (x(a) === y(a) ? 1 : 0);
        case '!=': return (a) => (x(a) !== y(a) ? 1 : 0);
        case '<': return (a) => (x(a) < y(a) ? 1 : 0);
        case '<=': return (a) => (x(a) <= y(a) ? 1 : 0);
        case '>': return (a) => (x(a) > y(a) ? 1 : 0);
        case '>=': return (a) => (x(a) >= y(a) ? 1 : 0);
        case '&&': return (a) => (x(a) && y(a) ? 1 : 0);
        case '||': return (a) => (x(a) || y(a) ? 1 : 0);
      }
    }
  }
  throw new Error('unreachable');
}

/** The name a width expression reads as in a message: `K`, or `M, as transA is set`. */
export function widthLabel(e: Expr, src: string): Compiled | string {
  if (e.op === 'arg') return e.name;
  if (e.op === '?' && e.c.op === 'arg' && e.a.op === 'arg' && e.b.op === 'arg') {
    const c = e.c.index, yes = `${e.a.name}, as ${e.c.name} is set`, no = e.b.name;
    return ((a: ArrayLike<unknown>) => (value(a[c]) ? yes : no)) as unknown as Compiled;
  }
  return src;
}

// ---- reverse-Polish code for the C++ checker ---------------------------------------------------
// Each instruction is [opcode, operand]; the C++ interpreter (native/addon/checker.cc) keeps the
// same opcode numbers (the generated table carries them by name).
export const OPCODES = ['Num', 'Arg', 'Present', 'Ids', 'Not', 'Add', 'Mul', 'Eq', 'Ne', 'Lt', 'Le', 'Gt', 'Ge', 'And', 'Or', 'Select'] as const;
export type Opcode = typeof OPCODES[number];

export function toRpn(e: Expr, out: Array<[Opcode, number]> = []): Array<[Opcode, number]> {
  switch (e.op) {
    case 'num': out.push(['Num', e.value]); break;
    case 'arg': out.push(['Arg', e.index]); break;
    case 'present': out.push(['Present', e.index]); break;
    case 'ids': out.push(['Ids', e.index]); break;
    case 'not': toRpn(e.a, out); out.push(['Not', 0]); break;
    case '?': toRpn(e.c, out); toRpn(e.a, out); toRpn(e.b, out); out.push(['Select', 0]); break;
    default: {
      toRpn(e.a, out);
      toRpn(e.b, out);
      const names: Record<string, Opcode> = {
        '+': 'Add', '*': 'Mul', '==': 'Eq', '!=': 'Ne', '<': 'Lt', '<=': 'Le', '>': 'Gt', '>=': 'Ge', '&&': 'And', '||': 'Or',
      };
      out.push([names[e.op], 0]);
    }
  }
  return out;
}
