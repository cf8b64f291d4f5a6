// Lines of text from a character model: each sample starts after a newline (the start of a
// name, for line-structured data), continues the prime, and stops at the next newline.
import type { Vocabulary } from '../data/vocabulary';
import type { RNNModel } from '../nn/model';
import { checkOptions, keysOf } from '../nn/predicates';
import type { Random } from '../random';
import { CliError } from './errors';

export interface SampleLinesOptions {
  count: number;
  temperature: number;
  /** Text every sample begins with (it is part of the returned line). */
  prime: string;
  rng: Random;
  /** Longest sample, in characters after the prime; data without newlines always gives this many. */
  maxLength: number;
}

const SAMPLE_LINES_KEYS = keysOf<SampleLinesOptions>({ count: true, temperature: true, prime: true, rng: true, maxLength: true });

export function sampleLines(model: RNNModel, vocabulary: Vocabulary, options: SampleLinesOptions): string[] {
  checkOptions('sampleLines', options, SAMPLE_LINES_KEYS, { optional: false });
  const newline = vocabulary.idOf('\n');
  const prime: number[] = [];
  if (newline >= 0) prime.push(newline);
  for (const ch of options.prime) {
    const id = vocabulary.idOf(ch);
    if (id < 0) throw new CliError(`--prime: the character ${JSON.stringify(ch)} is not in the model's vocabulary`);
    prime.push(id);
  }
  // Without a newline symbol and without a prime there is no natural start; the first symbol is.
  if (prime.length === 0) prime.push(0);
  const lines: string[] = [];
  // An empty line (a newline drawn at once) is not a sample worth printing; draw again, within reason.
  for (let attempts = 0; lines.length < options.count && attempts < options.count * 20; attempts++) {
    const ids = model.sample({
      length: options.maxLength, temperature: options.temperature, prime, rng: options.rng,
      stopAt: newline >= 0 ? newline : undefined,
    });
    const body = ids[ids.length - 1] === newline ? ids.subarray(0, ids.length - 1) : ids;
    const line = options.prime + vocabulary.decode(body);
    if (line.length > 0) lines.push(line);
  }
  return lines;
}
