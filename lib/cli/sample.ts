// `native-rnn sample`: lines (names, for the built-in data) from a checkpoint.
import { Random } from '../random';
import { CliError } from './errors';
import { sampleLines } from './sampling';
import { loadCheckpointFile, resolveBackend, type BackendChoice } from './train';

export interface SampleFlags {
  checkpoint: string;
  count: number;
  temperature: number;
  prime: string;
  seed: number;
  maxLength: number;
  backend: BackendChoice;
  threads?: number;
  json: boolean;
}

export async function sample(flags: SampleFlags): Promise<number> {
  const backend = resolveBackend(flags.backend, flags.threads);
  const loaded = await loadCheckpointFile(flags.checkpoint, backend);
  if (loaded.vocabulary === null) {
    throw new CliError(`checkpoint ${flags.checkpoint} has no vocabulary (metadata 'vocabulary'), so its ids cannot be turned into text`);
  }
  const lines = sampleLines(loaded.model, loaded.vocabulary, {
    count: flags.count, temperature: flags.temperature, prime: flags.prime, rng: new Random(flags.seed), maxLength: flags.maxLength,
  });
  if (flags.json) {
    process.stdout.write(JSON.stringify({ event: 'samples', checkpoint: flags.checkpoint, seed: flags.seed, temperature: flags.temperature, samples: lines }) + '\n');
  } else {
    process.stdout.write(lines.map((l) => l + '\n').join(''));
  }
  return 0;
}
