// Training text, from the built-in names or a user's file, by one path:
//   text → splitTrainValidation (by line) → Vocabulary (of the whole text) → ids.
// The vocabulary covers both parts, so the validation text always encodes; a resumed run or an
// evaluation passes the checkpoint's vocabulary instead, and a character outside it is an error
// that names the character.
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

function encode(vocabulary: Vocabulary, text: string, label: string): Int32Array {
  try {
    return vocabulary.encode(text);
  } catch (err) {
    if (err instanceof RangeError) {
      throw new CliError(`${label}: ${err.message.replace(/^Vocabulary\.encode: /, '')} of the checkpoint (${vocabulary.size} symbols)`);
    }
    throw err;
  }
}

/** Reads, splits and encodes; `vocabulary` (from a checkpoint) replaces the one built from the text. */
export async function loadCorpus(source: DataSource, valFraction: number, vocabulary?: Vocabulary): Promise<Corpus> {
  const text = await readSource(source);
  const label = describeSource(source);
  const split = splitTrainValidation(text, valFraction, SPLIT_SEED);
  // From the split text, which is what gets encoded: it ends every line with '\n', also the
  // last line of a file without a final newline ("abc" alone once failed: '\n' not in the
  // vocabulary). For every other file the symbols are those of the text itself.
  const vocab = vocabulary ?? Vocabulary.fromText(split.train + split.validation);
  return {
    source, label,
    sha256: createHash('sha256').update(text, 'utf8').digest('hex'),
    vocabulary: vocab,
    train: encode(vocab, split.train, label),
    validation: encode(vocab, split.validation, label),
    trainLines: split.trainLines,
    validationLines: split.validationLines,
  };
}
