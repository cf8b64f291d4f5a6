// A character vocabulary: the model's symbols are Unicode code points, numbered 0..size−1.
//
// Strings are iterated by code point (for...of), never by UTF-16 unit, so an astral character
// such as '😀' is one symbol, not two unpaired surrogates the model could emit separately.
// Built from text, the symbols are sorted by code point: the ids then depend only on the set
// of characters, not on the order they first appear in.

export interface VocabularyJSON {
  /** The symbols in id order; each is one code point. */
  symbols: string[];
}

function codePointOrder(a: string, b: string): number {
  // The default sort compares UTF-16 units, which puts astral characters (surrogates
  // D800–DFFF) before U+E000–U+FFFF; comparing code points gives true Unicode order.
  return (a.codePointAt(0) as number) - (b.codePointAt(0) as number);
}

function describe(symbol: string): string {
  const cp = symbol.codePointAt(0) as number;
  return `${JSON.stringify(symbol)} (U+${cp.toString(16).toUpperCase().padStart(4, '0')})`;
}

export class Vocabulary {
  /** The symbols in id order. */
  readonly symbols: readonly string[];
  private readonly ids: Map<string, number>;

  /** @param symbols distinct single code points, in id order (at least one). */
  constructor(symbols: Iterable<string>) {
    const list = Array.from(symbols);
    if (list.length === 0) throw new RangeError('Vocabulary: needs at least one symbol');
    const ids = new Map<string, number>();
    list.forEach((s, i) => {
      if (typeof s !== 'string' || s.length === 0 || s.length > 2 || Array.from(s).length !== 1) {
        throw new TypeError(`Vocabulary: symbol ${i} must be a single code point, got ${JSON.stringify(s)}`);
      }
      if (ids.has(s)) throw new RangeError(`Vocabulary: symbol ${describe(s)} appears twice (ids ${ids.get(s)} and ${i})`);
      ids.set(s, i);
    });
    this.symbols = Object.freeze(list);
    this.ids = ids;
  }

  /** The sorted distinct code points of `text`. */
  static fromText(text: string): Vocabulary {
    if (typeof text !== 'string') throw new TypeError('Vocabulary.fromText: text must be a string');
    if (text.length === 0) throw new RangeError('Vocabulary.fromText: text is empty, so there are no symbols');
    return new Vocabulary(Array.from(new Set(text)).sort(codePointOrder));
  }

  /** Restores a vocabulary from toJSON()'s value (e.g. parsed from checkpoint metadata). */
  static fromJSON(value: unknown): Vocabulary {
    if (typeof value !== 'object' || value === null || !Array.isArray((value as { symbols?: unknown }).symbols)) {
      throw new TypeError('Vocabulary.fromJSON: expected an object { symbols: string[] }');
    }
    return new Vocabulary((value as { symbols: unknown[] }).symbols as string[]);
  }

  get size(): number {
    return this.symbols.length;
  }

  has(symbol: string): boolean {
    return this.ids.has(symbol);
  }

  /** The id of one symbol, or -1. */
  idOf(symbol: string): number {
    return this.ids.get(symbol) ?? -1;
  }

  /** Ids of each code point of `text`; throws a RangeError naming the first unknown character. */
  encode(text: string): Int32Array {
    // text.length (UTF-16 units) bounds the number of code points.
    const out = new Int32Array(text.length);
    let n = 0;
    for (const ch of text) {
      const id = this.ids.get(ch);
      if (id === undefined) {
        throw new RangeError(`Vocabulary.encode: character ${describe(ch)} at code point ${n} is not in the vocabulary`);
      }
      out[n++] = id;
    }
    return n === out.length ? out : out.slice(0, n);
  }

  /** The text of a sequence of ids; throws a RangeError naming the first id out of range. */
  decode(ids: ArrayLike<number>): string {
    const parts = new Array<string>(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!Number.isInteger(id) || id < 0 || id >= this.symbols.length) {
        throw new RangeError(`Vocabulary.decode: ids[${i}] = ${id} is not in [0, ${this.symbols.length})`);
      }
      parts[i] = this.symbols[id];
    }
    return parts.join('');
  }

  toJSON(): VocabularyJSON {
    return { symbols: this.symbols.slice() };
  }
}
