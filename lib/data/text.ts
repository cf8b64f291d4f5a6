// Reading training text. A user's file and the built-in names take the same path:
// bytes → decodeTrainingText → string → Vocabulary → ids.
//
// Handling, documented for users:
// - a zero-byte or whitespace-only file is refused (there is nothing to learn);
// - a file with a NUL byte, or with more than 5% control characters (other than tab, LF, CR,
//   form feed), is refused as binary;
// - bytes that are not well-formed UTF-8 are refused, naming the offset of the first bad byte;
// - a leading UTF-8 byte order mark is dropped; CRLF and lone CR become LF.

import * as fs from 'fs';
import * as fsp from 'fs/promises';
import { TextDataError } from './errors';

export { Vocabulary, type VocabularyJSON } from './vocabulary';
export { splitTrainValidation, splitLines, type TrainValidationSplit } from './split';

const MAX_CONTROL_RATIO = 0.05;

/**
 * Offset of the first byte that does not start a well-formed UTF-8 sequence (Unicode 15,
 * table 3-7: no overlongs, no surrogates, nothing past U+10FFFF), or -1 if all are well formed.
 */
export function findInvalidUtf8(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b0 = bytes[i];
    if (b0 < 0x80) { i++; continue; }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b0 >= 0xc2 && b0 <= 0xdf) need = 1;
    else if (b0 >= 0xe0 && b0 <= 0xef) {
      need = 2;
      if (b0 === 0xe0) lo = 0xa0; // overlong below U+0800
      if (b0 === 0xed) hi = 0x9f; // surrogates D800–DFFF
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      need = 3;
      if (b0 === 0xf0) lo = 0x90; // overlong below U+10000
      if (b0 === 0xf4) hi = 0x8f; // past U+10FFFF
    } else return i;
    if (i + need >= n) return i; // the sequence is cut off by the end of the file
    const b1 = bytes[i + 1];
    if (b1 < lo || b1 > hi) return i;
    for (let k = 2; k <= need; k++) {
      const b = bytes[i + k];
      if (b < 0x80 || b > 0xbf) return i;
    }
    i += need + 1;
  }
  return -1;
}

function isControl(cp: number): boolean {
  if (cp === 0x09 || cp === 0x0a || cp === 0x0c || cp === 0x0d) return false;
  return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

/**
 * Validates and decodes the bytes of a training text. `source` names the file in errors.
 * Returns the text with line endings normalized to LF.
 */
export function decodeTrainingText(bytes: Uint8Array, source: string): string {
  if (bytes.length === 0) throw new TextDataError('EMPTY', source, 'the file is empty (0 bytes); training needs text');
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw new TextDataError('BINARY', source, `looks binary: NUL byte at byte offset ${nul}`, nul);

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const offset = findInvalidUtf8(bytes);
    const at = offset >= 0 ? ` at byte offset ${offset} (0x${bytes[offset].toString(16).padStart(2, '0')})` : '';
    throw new TextDataError('INVALID_UTF8', source, `is not valid UTF-8${at}; save it as UTF-8`, offset >= 0 ? offset : undefined);
  }

  let total = 0;
  let controls = 0;
  let firstControl = -1;
  for (const ch of text) {
    const cp = ch.codePointAt(0) as number;
    if (isControl(cp)) {
      if (firstControl < 0) firstControl = total;
      controls++;
    }
    total++;
  }
  if (controls > MAX_CONTROL_RATIO * total) {
    const before = Array.from(text).slice(0, firstControl).join('');
    // TextDecoder dropped a leading byte order mark; count its 3 bytes back in.
    const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
    const offset = bom + Buffer.byteLength(before, 'utf8');
    throw new TextDataError('BINARY', source,
      `looks binary: ${controls} of ${total} characters (${(100 * controls / total).toFixed(1)}%) are control characters, the first at byte offset ${offset}`, offset);
  }

  const normalized = text.replace(/\r\n?/g, '\n');
  if (normalized.trim().length === 0) {
    throw new TextDataError('EMPTY', source, 'the file holds only whitespace; training needs text');
  }
  return normalized;
}

/** Reads and validates a UTF-8 training text file (see the handling above). */
export async function readTextFile(path: string): Promise<string> {
  return decodeTrainingText(await fsp.readFile(path), path);
}

/** The synchronous twin of readTextFile. */
export function readTextFileSync(path: string): string {
  return decodeTrainingText(fs.readFileSync(path), path);
}
