// The checks every public entry point shares: small predicates, and throwing forms of them that
// word their errors through the one error factory (backend/errors), so "positive integer" or
// "unknown option" reads the same in the cell, the model, the trainer, the checkpoint code and
// the CLI.
import { invalidRange, invalidType } from '../backend/errors';
import type { Activation, DType } from '../backend/types';

/** The largest size a kernel takes (the addon's sizes are 32-bit). */
export const MAX_INT32 = 2 ** 31 - 1;

export const ACTIVATIONS: readonly Activation[] = ['tanh', 'relu', 'sigmoid'];
export const DTYPES: readonly DType[] = ['float32', 'float64'];

export function isPositiveInt(v: unknown, max = MAX_INT32): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= max;
}

export function isNonNegativeInt(v: unknown, max = Number.MAX_SAFE_INTEGER): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An integer in [1, max]: TypeError for a non-number, RangeError for a wrong number. */
export function positiveInt(fn: string, name: string, v: unknown, max = MAX_INT32): number {
  if (typeof v !== 'number') throw invalidType(fn, name, 'a positive integer', v);
  if (!isPositiveInt(v, max)) throw invalidRange(fn, name, 'a positive integer', v);
  return v;
}

/** "'a', 'b' or 'c'" */
export function listOf(values: readonly string[]): string {
  const q = values.map((v) => `'${v}'`);
  return q.length <= 1 ? q.join('') : `${q.slice(0, -1).join(', ')} or ${q[q.length - 1]}`;
}

export function checkActivation(fn: string, v: unknown): Activation {
  if ((ACTIVATIONS as readonly unknown[]).includes(v)) return v as Activation;
  throw invalidType(fn, 'activation', listOf(ACTIVATIONS), v);
}

export function checkDType(fn: string, v: unknown): DType {
  if ((DTYPES as readonly unknown[]).includes(v)) return v as DType;
  throw invalidType(fn, 'dtype', listOf(DTYPES), v);
}

/**
 * Optimal string alignment distance (Levenshtein plus the swap of two neighbours, the commonest
 * typo: 'hiddenSzie'). Small strings only; this runs on option names.
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * The known name a misspelling most likely meant, or null when none is close: the same letters
 * up to case, '_' and '-' ('batch_size' → 'batchSize'), else the one known name it begins
 * ('vocab' → 'vocabulary'), else the nearest by edit distance when that is at most a third of
 * the name (at least 1).
 */
export function nearest(word: string, known: readonly string[]): string | null {
  const fold = (s: string) => s.toLowerCase().replace(/[_-]/g, '');
  const folded = known.find((k) => fold(k) === fold(word));
  if (folded !== undefined) return folded;
  const extended = fold(word).length >= 3 ? known.filter((k) => fold(k).startsWith(fold(word))) : [];
  if (extended.length === 1) return extended[0];
  let best: string | null = null, bestDistance = Infinity;
  for (const k of known) {
    const dist = editDistance(fold(word), fold(k));
    if (dist < bestDistance) { best = k; bestDistance = dist; }
  }
  return bestDistance <= Math.max(1, Math.floor(word.length / 3)) ? best : null;
}

/**
 * Refuses a key no one reads (as better-sqlite3 refuses a misspelled option): a TypeError naming
 * it, with the nearest known key when one is close. `aliases` maps names users bring from other
 * libraries to ours ({ learningRate: 'lr' }). Undefined values count: the key was still written.
 */
export function checkKnownKeys(fn: string, options: object, known: readonly string[],
  aliases: Readonly<Record<string, string>> = {}, what = 'option'): void {
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const guess = Object.prototype.hasOwnProperty.call(aliases, key) ? aliases[key] : nearest(key, known);
    throw new TypeError(`${fn}: unknown ${what} '${key}'${guess !== null ? ` (did you mean '${guess}'?)` : ''}`);
  }
}

/**
 * An options argument: undefined gives {} when `optional`, anything but a plain object is a
 * TypeError, and every key must be known.
 */
export function checkOptions<T extends object>(fn: string, options: T | undefined, known: readonly string[],
  { optional = true, name = 'options', aliases = {} }: { optional?: boolean; name?: string; aliases?: Readonly<Record<string, string>> } = {}): T {
  if (options === undefined && optional) return {} as T;
  if (!isRecord(options)) throw invalidType(fn, name, 'an object', options);
  checkKnownKeys(fn, options, known, aliases);
  return options;
}

/** The keys of an options interface, checked by the compiler to be exactly its keys. */
export function keysOf<T extends object>(keys: { [K in keyof Required<T>]: true }): readonly (keyof T & string)[] {
  return Object.keys(keys) as (keyof T & string)[];
}
