// `native-rnn eval`: the loss of a checkpoint on text, beside the bigram baseline of the same
// text. The text (the checkpoint's own data, or --data FILE) is split as `train` splits it: the
// model is scored on the validation part, and the bigram is fitted on the training part and
// scored on the same validation part. With nothing held out, both are scored on all of it. A run
// trained with --val-data is scored on that file, as train validated it.
//
// `eval --text FILE` scores every character of FILE instead: one stream through the whole file
// with the hidden state carried from chunk to chunk, starting after a newline (as sampling does),
// so each character is predicted from everything before it. The bigram beside it is fitted on
// the checkpoint's training text when that is still readable.
import type { Op } from '../backend/types';
import type { RNNModel } from '../nn/model';
import { Trainer } from '../train/trainer';
import { bigramBaseline, type BaselineResult } from './baseline';
import { describeSource, loadCorpus, loadText, sourceFromFlag, type DataSource } from './data';
import { CliError } from './errors';
import { loadCheckpointFile, readRunSettings, resolveBackend, type BackendChoice, type RunSettings } from './train';
import type { LoadedCheckpoint } from '../io/checkpoint';
import type { Vocabulary } from '../data/vocabulary';

export interface EvalFlags {
  checkpoint: string;
  data?: string;
  valFraction?: number;
  text?: string;
  backend: BackendChoice;
  threads?: number;
  json: boolean;
}

/** Columns of one chunk of `eval --text`: the result does not depend on it (the state is carried), only the speed. */
const TEXT_CHUNK = 256;

/**
 * Mean −ln p(seq[i+1] | seq[0..i]) over i = 0 .. n−2: one stream from zero state, chunks of
 * `chunk` steps with the state carried, the last chunk padded with ignored targets (−1).
 */
export async function scoreStream(model: RNNModel, seq: Int32Array, chunk: number): Promise<{ loss: number; tokens: number }> {
  const n = seq.length - 1;
  if (n < 1) throw new RangeError(`scoreStream: needs at least 2 tokens, got ${seq.length}`);
  const T = Math.min(chunk, n);
  const ws = model.workspace(T, 1);
  const input = new Int32Array(T), target = new Int32Array(T);
  let sum = 0;
  for (let start = 0; start < n; start += T) {
    const len = Math.min(T, n - start);
    input.fill(0);
    target.fill(-1);
    input.set(seq.subarray(start, start + len));
    target.set(seq.subarray(start + 1, start + 1 + len));
    const ops: Op[] = [];
    // count 1: scalars[0] is the sum of the chunk's losses
    model.recordForward(ops, ws, { ids: input, steps: T, batch: 1 }, target, 1, start === 0);
    model.recordCarry(ops, ws);
    await model.backend.run(ops);
    sum += ws.scalars[0];
  }
  return { loss: sum / n, tokens: n };
}

function table(rows: Array<[string, BaselineResult | { loss: number; bpc: number } | null]>, notes: string[]): string {
  return [
    `  ${''.padEnd(10)}loss     bits/char`,
    ...rows.map(([label, r]) => `  ${label.padEnd(10)}${r ? `${r.loss.toFixed(4)}   ${r.bpc.toFixed(3)}` : '-'}`),
    ...notes,
  ].join('\n') + '\n';
}

async function evaluateText(flags: EvalFlags & { text: string }, loaded: LoadedCheckpoint, vocabulary: Vocabulary, run: RunSettings | null): Promise<number> {
  const text = await loadText(sourceFromFlag(flags.text), vocabulary);
  // Start after a newline, as a line of the training text does, so the first character counts too.
  const newline = vocabulary.idOf('\n');
  const seq = newline >= 0 ? Int32Array.from([newline, ...text.ids]) : text.ids;
  if (seq.length < 2) throw new CliError(`${text.label}: too little text to evaluate (${text.ids.length} characters)`);
  const scored = await scoreStream(loaded.model, seq, TEXT_CHUNK);
  const model = { loss: scored.loss, bpc: scored.loss / Math.LN2, tokens: scored.tokens };

  let bigram: BaselineResult | null = null;
  let bigramNote: string;
  if (run === null) {
    bigramNote = 'bigram not shown: the checkpoint does not say what data it was trained on';
  } else {
    const valSource: DataSource | null = run.valData === null ? null : { kind: 'file', path: run.valData.path };
    try {
      const corpus = await loadCorpus(run.data, run.valFraction, vocabulary, valSource);
      bigram = bigramBaseline(corpus.train, seq, vocabulary.size);
      bigramNote = `bigram fitted on the training part of ${corpus.label}`;
    } catch (err) {
      if (!(err instanceof CliError)) throw err;
      bigramNote = `bigram not shown: ${err.message}`;
    }
  }
  if (flags.json) {
    process.stdout.write(JSON.stringify({
      event: 'eval', checkpoint: flags.checkpoint, data: text.label, part: 'text', characters: text.ids.length, lines: text.lines,
      loss: model.loss, bpc: model.bpc, tokens: model.tokens, bigramLoss: bigram?.loss ?? null, bigramBpc: bigram?.bpc ?? null,
      bigramData: bigram && run ? describeSource(run.data) : null,
    }) + '\n');
  } else {
    process.stdout.write(`${text.label}, every character (${text.lines.toLocaleString('en-US')} lines, ` +
      `${text.ids.length.toLocaleString('en-US')} characters, scored as one stream)\n` +
      table([['model', model], ['bigram', bigram]], [`(${bigramNote})`]));
  }
  return 0;
}

export async function evaluate(flags: EvalFlags): Promise<number> {
  const backend = resolveBackend(flags.backend, flags.threads);
  const loaded = await loadCheckpointFile(flags.checkpoint, backend);
  if (loaded.vocabulary === null) {
    throw new CliError(`checkpoint ${flags.checkpoint} has no vocabulary (metadata 'vocabulary'); text cannot be encoded for it`);
  }
  const run = readRunSettings(loaded);
  if (flags.text !== undefined) return evaluateText({ ...flags, text: flags.text }, loaded, loaded.vocabulary, run);
  let source: DataSource;
  if (flags.data !== undefined) source = sourceFromFlag(flags.data);
  else if (run !== null) source = run.data;
  else throw new CliError(`checkpoint ${flags.checkpoint} does not say what data it was trained on; give --data FILE`);
  const valFraction = flags.valFraction ?? run?.valFraction ?? 0.1;
  // The run's own validation file, unless the text or the split is chosen here.
  const valSource: DataSource | null = flags.data === undefined && flags.valFraction === undefined && run?.valData
    ? { kind: 'file', path: run.valData.path } : null;

  const corpus = await loadCorpus(source, valFraction, loaded.vocabulary, valSource);
  const heldOut = corpus.validation.length >= 2;
  const scored = heldOut ? corpus.validation : corpus.train;
  if (scored.length < 2) throw new CliError(`${corpus.label}: too little text to evaluate (${scored.length} characters)`);
  const trainer = new Trainer(loaded.model);
  const model = await trainer.evaluate(scored, { batchSize: run?.batch ?? 32, seqLength: run?.seqLength ?? 32 });
  const bigram = bigramBaseline(corpus.train, scored, loaded.vocabulary.size);
  const part = valSource !== null ? `validation file ${describeSource(valSource)} (${corpus.validationLines.toLocaleString('en-US')} lines, ${corpus.validation.length.toLocaleString('en-US')} characters)`
    : heldOut ? `validation part (${corpus.validationLines.toLocaleString('en-US')} lines, ${corpus.validation.length.toLocaleString('en-US')} characters)`
      : `whole text (${corpus.trainLines.toLocaleString('en-US')} lines, ${corpus.train.length.toLocaleString('en-US')} characters; nothing held out, so the bigram is scored on its own training text)`;
  if (flags.json) {
    process.stdout.write(JSON.stringify({
      event: 'eval', checkpoint: flags.checkpoint, data: corpus.label, part: valSource !== null ? 'validation file' : heldOut ? 'validation' : 'all',
      validationData: valSource !== null ? describeSource(valSource) : null, characters: scored.length,
      loss: model.loss, bpc: model.bpc, tokens: model.tokens, bigramLoss: bigram.loss, bigramBpc: bigram.bpc,
    }) + '\n');
  } else {
    process.stdout.write(`${corpus.label}, ${part}\n` + table([['model', model], ['bigram', bigram]], []));
  }
  return 0;
}
