// Training text, from the built-in names or a user's file, by one path:
//   text → splitTrainValidation (by line) → Vocabulary (of the whole text) → ids.
// The vocabulary covers both parts, so the validation text always encodes; a resumed run or an
// evaluation passes the checkpoint's vocabulary instead, and a character outside it is an error
// that names the character and its line in the file.
//
// With a separate validation file (train --val-data) nothing is held out: the vocabulary is the
// training file's, and the validation file must not use a character outside it.
import { createHash } from 'crypto';
import * as path from 'path';
import { builtinNamesText } from '../data/names';
import { splitTrainValidation } from '../data/split';
import { readTextFile } from '../data/text';
import { Vocabulary } from '../data/vocabulary';
import { CliError } from './errors';

/** The seed of the train/validation split, fixed so every run of one file splits it alike. */
export const SPLIT_SEED = 1;

/** Where text comes from: the built-in names, or a file path. */
export type DataSource = { kind: 'builtin' } | { kind: 'file'; path: string };

export interface Corpus {
  source: DataSource;
  /** For messages: 'built-in names' or the file path. */
  label: string;
  /** sha256 of the whole text, so a resumed run can tell it is reading the same data. */
  sha256: string;
  vocabulary: Vocabulary;
  train: Int32Array;
  validation: Int32Array;
  trainLines: number;
  validationLines: number;
  /** The separate validation file (--val-data) and the sha256 of its text, or null when held out. */
  validationSource: DataSource | null;
  validationSha256: string | null;
}

/** A whole file encoded for scoring (eval --text). */
export interface EncodedText {
  label: string;
  sha256: string;
  /** Every line of the text, each ending in '\n', as ids. */
  ids: Int32Array;
  lines: number;
}

export function sourceFromFlag(file: string | undefined): DataSource {
  return file === undefined ? { kind: 'builtin' } : { kind: 'file', path: path.resolve(file) };
}

export function describeSource(source: DataSource): string {
  return source.kind === 'builtin' ? 'built-in names' : source.path;
}

async function readSource(source: DataSource): Promise<string> {
  if (source.kind === 'builtin') return builtinNamesText();
  try {
    return await readTextFile(source.path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CliError(`cannot read ${source.path}: no such file`);
    if (code === 'EISDIR') throw new CliError(`cannot read ${source.path}: it is a directory`);
    if (code === 'EACCES') throw new CliError(`cannot read ${source.path}: permission denied`);
    throw err;
  }
}

function describeCharacter(ch: string): string {
  return `${JSON.stringify(ch)} (U+${(ch.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0')})`;
}

/** The first character of `text` outside the vocabulary, with its line and column (from 1), or null. */
export function unknownCharacter(vocabulary: Vocabulary, text: string): { ch: string; line: number; column: number } | null {
  let line = 1, column = 1;
  for (const ch of text) {
    if (!vocabulary.has(ch)) return { ch, line, column };
    if (ch === '\n') {
      line += 1;
      column = 1;
    } else {
      column += 1;
    }
  }
  return null;
}

/**
 * Ids of `text`, or an error naming the first unknown character and where it is in `original`
 * (the file as read: `text` may be a reordered part of it, whose line numbers mean nothing).
 */
function encode(vocabulary: Vocabulary, text: string, label: string, original: string, whose: string): Int32Array {
  try {
    return vocabulary.encode(text);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    // The original always holds the character, except the '\n' that ends a last line without one.
    const at = unknownCharacter(vocabulary, original) ?? unknownCharacter(vocabulary, text);
    if (at === null) throw err;
    throw new CliError(`${label}, line ${at.line}, column ${at.column}: the character ${describeCharacter(at.ch)} ` +
      `is not in ${whose} vocabulary (${vocabulary.size} symbols)`);
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * Reads, splits and encodes; `vocabulary` (from a checkpoint) replaces the one built from the
 * text. With `validationSource` nothing is held out (valFraction is ignored): that file is the
 * validation text, encoded with the training vocabulary.
 */
export async function loadCorpus(source: DataSource, valFraction: number, vocabulary?: Vocabulary,
  validationSource?: DataSource | null): Promise<Corpus> {
  const text = await readSource(source);
  const label = describeSource(source);
  const separate = validationSource !== undefined && validationSource !== null;
  const split = splitTrainValidation(text, separate ? 0 : valFraction, SPLIT_SEED);
  // From the split text, which is what gets encoded: it ends every line with '\n', also the
  // last line of a file without a final newline ("abc" alone once failed: '\n' not in the
  // vocabulary). For every other file the symbols are those of the text itself.
  const vocab = vocabulary ?? Vocabulary.fromText(split.train + split.validation);
  const whose = vocabulary ? "the checkpoint's" : "the training text's";
  const corpus: Corpus = {
    source, label,
    sha256: sha256(text),
    vocabulary: vocab,
    train: encode(vocab, split.train, label, text, whose),
    validation: encode(vocab, split.validation, label, text, whose),
    trainLines: split.trainLines,
    validationLines: split.validationLines,
    validationSource: null,
    validationSha256: null,
  };
  if (separate) {
    const held = await loadText(validationSource, vocab, whose);
    corpus.validation = held.ids;
    corpus.validationLines = held.lines;
    corpus.validationSource = validationSource;
    corpus.validationSha256 = held.sha256;
  }
  return corpus;
}

/** A whole file, every line in order, encoded with `vocabulary` (whose: for the error, e.g. "the checkpoint's"). */
export async function loadText(source: DataSource, vocabulary: Vocabulary, whose = "the checkpoint's"): Promise<EncodedText> {
  const text = await readSource(source);
  const label = describeSource(source);
  // The split with nothing held out: the lines in file order, each ending in '\n'.
  const lines = splitTrainValidation(text, 0, SPLIT_SEED);
  return { label, sha256: sha256(text), ids: encode(vocabulary, lines.train, label, text, whose), lines: lines.trainLines };
}
