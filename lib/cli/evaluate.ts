// `native-rnn eval`: the loss of a checkpoint on text, beside the bigram baseline of the same
// text. The text (the checkpoint's own data, or --data FILE) is split as `train` splits it: the
// model is scored on the validation part, and the bigram is fitted on the training part and
// scored on the same validation part. With nothing held out, both are scored on all of it.
import { Trainer } from '../train/trainer';
import { bigramBaseline } from './baseline';
import { loadCorpus, sourceFromFlag, type DataSource } from './data';
import { CliError } from './errors';
import { loadCheckpointFile, readRunSettings, resolveBackend, type BackendChoice } from './train';

export interface EvalFlags {
  checkpoint: string;
  data?: string;
  valFraction?: number;
  backend: BackendChoice;
  threads?: number;
  json: boolean;
}

export async function evaluate(flags: EvalFlags): Promise<number> {
  const backend = resolveBackend(flags.backend, flags.threads);
  const loaded = await loadCheckpointFile(flags.checkpoint, backend);
  if (loaded.vocabulary === null) {
    throw new CliError(`checkpoint ${flags.checkpoint} has no vocabulary (metadata 'vocabulary'); text cannot be encoded for it`);
  }
  const run = readRunSettings(loaded);
  let source: DataSource;
  if (flags.data !== undefined) source = sourceFromFlag(flags.data);
  else if (run !== null) source = run.data;
  else throw new CliError(`checkpoint ${flags.checkpoint} does not say what data it was trained on; give --data FILE`);
  const valFraction = flags.valFraction ?? run?.valFraction ?? 0.1;

  const corpus = await loadCorpus(source, valFraction, loaded.vocabulary);
  const heldOut = corpus.validation.length >= 2;
  const scored = heldOut ? corpus.validation : corpus.train;
  if (scored.length < 2) throw new CliError(`${corpus.label}: too little text to evaluate (${scored.length} characters)`);
  const trainer = new Trainer(loaded.model);
  const model = await trainer.evaluate(scored, { batchSize: run?.batch ?? 32, seqLength: run?.seqLength ?? 32 });
  const bigram = bigramBaseline(corpus.train, scored, loaded.vocabulary.size);
  const part = heldOut ? `validation part (${corpus.validationLines.toLocaleString('en-US')} lines, ${corpus.validation.length.toLocaleString('en-US')} characters)`
    : `whole text (${corpus.trainLines.toLocaleString('en-US')} lines, ${corpus.train.length.toLocaleString('en-US')} characters; nothing held out, so the bigram is scored on its own training text)`;
  if (flags.json) {
    process.stdout.write(JSON.stringify({
      event: 'eval', checkpoint: flags.checkpoint, data: corpus.label, part: heldOut ? 'validation' : 'all', characters: scored.length,
      loss: model.loss, bpc: model.bpc, tokens: model.tokens, bigramLoss: bigram.loss, bigramBpc: bigram.bpc,
    }) + '\n');
  } else {
    process.stdout.write([
      `${corpus.label}, ${part}`,
      `  ${''.padEnd(10)}loss     bits/char`,
      `  ${'model'.padEnd(10)}${model.loss.toFixed(4)}   ${model.bpc.toFixed(3)}`,
      `  ${'bigram'.padEnd(10)}${bigram.loss.toFixed(4)}   ${bigram.bpc.toFixed(3)}`,
    ].join('\n') + '\n');
  }
  return 0;
}
