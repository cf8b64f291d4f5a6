#!/usr/bin/env node
// The `native-rnn` command: train | sample | eval | bench. Parsing and flag validation live here;
// each command is its own module. Every failure a user can cause ends as one line on stderr
// ("native-rnn: error: ...") and exit code 1, never a stack trace.
import { Command, InvalidArgumentError, Option } from 'commander';
import { BackendUnavailableError } from '../backend/errors';
import { TextDataError } from '../data/errors';
import { CheckpointError } from '../io/errors';
import { cellNames, DEFAULT_CELL } from '../nn/cells/registry';
import { isNonNegativeInt, isPositiveInt } from '../nn/predicates';
import type { OptimizerName } from '../train/optimizer';
import { bench } from './bench';
import { availableCells } from './cells';
import { CliError } from './errors';
import { evaluate } from './evaluate';
import { sample } from './sample';
import { CELL_DEFAULTS, DEFAULT_STEPS, train, type BackendChoice, type CellDefaults, type ScheduleName, type TrainFlags } from './train';

// Flags are strings: each parser reads the digits, then asks the library's predicate.
function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !isPositiveInt(n, Number.MAX_SAFE_INTEGER)) throw new InvalidArgumentError('expected a positive integer.');
  return n;
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !isNonNegativeInt(n)) throw new InvalidArgumentError('expected an integer >= 0.');
  return n;
}

function integer(value: string): number {
  const n = Number(value);
  if (!/^\s*-?\d+\s*$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected an integer.');
  return n;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number.');
  return n;
}

function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number >= 0.');
  return n;
}

function fraction(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n >= 0 && n < 1)) throw new InvalidArgumentError('expected a number in [0, 1).');
  return n;
}

function threads(value: string): number {
  const n = positiveInt(value);
  if (n > 1024) throw new InvalidArgumentError('expected at most 1024.');
  return n;
}

/** "(default: rnn 128, lstm 256, gru 256)": a per-cell default for the help, from the table train uses. */
function perCell(key: keyof CellDefaults, show: (v: CellDefaults[keyof CellDefaults]) => string = String): string {
  const values = Object.entries(CELL_DEFAULTS).map(([cell, d]) => [cell, show(d[key])]);
  return new Set(values.map(([, v]) => v)).size === 1 ? `(default ${values[0][1]})` : `(default: ${values.map(([c, v]) => `${c} ${v}`).join(', ')})`;
}

const backendOption = () => new Option('--backend <name>', 'kernels: native (C++ addon) or ts (pure TypeScript); auto picks native when built')
  .choices(['native', 'ts', 'auto']).default('auto');
const threadsOption = () => new Option('--threads <n>', 'threads of the native kernels').argParser(threads);

// How sample, eval and bench end: --backend (not for bench, which times both), --threads, --json
// (one JSON object), and the action, run with the parsed options as its flags.
function endCommand<F>(cmd: Command, action: (flags: F) => Promise<number>, withBackend = true): Command {
  if (withBackend) cmd.addOption(backendOption());
  return cmd.addOption(threadsOption())
    .option('--json', 'print one JSON object', false)
    .action(async (opts: Record<string, unknown>) => {
      await run(() => action(opts as unknown as F));
    });
}

async function run(action: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await action();
  } catch (err) {
    process.exitCode = 1;
    const known = err instanceof CliError || err instanceof TextDataError || err instanceof CheckpointError ||
      err instanceof BackendUnavailableError || err instanceof RangeError || err instanceof TypeError;
    if (known && !process.env.NATIVE_RNN_DEBUG) process.stderr.write(`native-rnn: error: ${(err as Error).message}\n`);
    else process.stderr.write(`native-rnn: ${(err as Error)?.stack ?? String(err)}\n`);
  }
}

export function buildProgram(): Command {
  const program = new Command('native-rnn')
    .description('Train character-level recurrent networks, sample from them and evaluate them.')
    .showHelpAfterError('(add --help for usage)')
    // commander's own messages (a bad value, an unknown option) in the form of ours; set before
    // the subcommands are made, which copy it.
    .configureOutput({ outputError: (text, write) => write(text.startsWith('error: ') ? `native-rnn: ${text}` : text) });

  const trainCmd = program.command('train')
    .description('train a character model on the built-in names or on a text file, saving checkpoints')
    .option('--data <file>', 'UTF-8 text file, one example a line (default: the built-in names)')
    .addOption(new Option('--cell <kind>', 'the recurrent cell of every layer').choices(cellNames()).default(DEFAULT_CELL))
    .option('--hidden <n>', `hidden units per layer ${perCell('hidden')}`, positiveInt)
    .option('--layers <n>', `stacked recurrent layers ${perCell('layers')}`, positiveInt)
    .option('--dropout <p>', `dropout probability on the output of every layer but the last, in training (PyTorch's nn.RNN dropout) ${perCell('dropout')}`, fraction)
    .option('--head-dropout <p>', `dropout probability on the last layer's output (the head's input), in training ${perCell('headDropout')}`, fraction)
    .option('--seq-length <n>', `BPTT steps per chunk ${perCell('seqLength')}`, positiveInt)
    .option('--batch <n>', `parallel streams per step ${perCell('batch')}`, positiveInt)
    .addOption(new Option('--steps <n>', `optimizer steps in all, counted from the start of the run (default ${DEFAULT_STEPS})`).argParser(positiveInt).conflicts('epochs'))
    .addOption(new Option('--epochs <n>', 'passes over the training text in all, instead of --steps').argParser(positiveInt))
    .option('--lr <rate>', `learning rate (default: adam ${perCell('adamLr').replace(/^\(default:? |\)$/g, '')}; sgd 0.1, adagrad 0.1, rmsprop 1e-2)`, positiveNumber)
    .addOption(new Option('--optimizer <name>', 'optimizer').choices(['adam', 'sgd', 'adagrad', 'rmsprop']).default('adam'))
    .option('--weight-decay <w>', `weight decay: decoupled (AdamW: weights shrink by lr*w a step) for adam, an L2 term w*weight added to the gradient for the others ${perCell('weightDecay')}`, nonNegativeNumber)
    .addOption(new Option('--lr-schedule <name>', `learning rate schedule: constant, or cosine from --lr down to 0 over the run ${perCell('schedule')}`).choices(['constant', 'cosine']))
    .option('--warmup <n>', `steps of linear warm-up from lr/n to lr, in front of the schedule ${perCell('warmup')}`, nonNegativeInt)
    .option('--clip <norm>', 'clip the gradient norm to this', positiveNumber, 5)
    .addOption(backendOption())
    .addOption(threadsOption())
    .option('--seed <n>', 'seed of the weights and of the samples', integer, 1)
    .option('--save <path>', 'checkpoint file (default: checkpoints/<data>.safetensors, or the --resume file)')
    .option('--resume <path>', 'continue the run saved in this checkpoint exactly where it stopped')
    .option('--val-fraction <f>', 'share of lines held out for validation', fraction, 0.1)
    .addOption(new Option('--val-data <file>', 'validate on this text file instead of held-out lines (all of --data trains)').conflicts('valFraction'))
    .option('--sample-every <n>', 'print samples every n steps (0: never)', nonNegativeInt, 500)
    .option('--eval-every <n>', 'validate every n steps', positiveInt, 100)
    .option('--save-every <n>', 'write the checkpoint every n steps (0: only at the end)', nonNegativeInt, 250)
    .option('--log-every <n>', 'print a progress line every n steps when not on a terminal', positiveInt)
    .option('--json', 'print one JSON object per report (for scripts)', false)
    .action(async (opts: Record<string, unknown>) => {
      const flags = { ...opts, optimizer: opts.optimizer as OptimizerName, backend: opts.backend as BackendChoice,
        lrSchedule: opts.lrSchedule as ScheduleName } as unknown as TrainFlags;
      await run(() => train(flags, (flag) => trainCmd.getOptionValueSource(flag) === 'cli'));
    });

  endCommand(program.command('sample')
    .description('print lines (names, for the built-in data) sampled from a checkpoint')
    .requiredOption('--checkpoint <path>', 'checkpoint file')
    .option('--count <n>', 'how many lines', positiveInt, 20)
    .option('--temperature <t>', 'softmax temperature: lower is safer, higher is wilder', positiveNumber, 0.8)
    .option('--prime <text>', 'text every line starts with', '')
    .option('--seed <n>', 'seed of the sampler (same seed, same lines)', integer, 0)
    .option('--max-length <n>', 'longest line, in characters after the prime', positiveInt, 100),
  sample);

  endCommand(program.command('eval')
    .description('loss and bits per character of a checkpoint, beside the bigram baseline of the same text')
    .requiredOption('--checkpoint <path>', 'checkpoint file')
    .option('--data <file>', "text file to split as train does and score the held-out part of (default: the checkpoint's own data)")
    .option('--val-fraction <f>', "share held out, as in train (default: the checkpoint's)", fraction)
    .addOption(new Option('--text <file>', 'score every character of this file, as one stream').conflicts(['data', 'valFraction'])),
  evaluate);

  endCommand(program.command('bench')
    .description('time a training step of your shape on the native and the pure-TypeScript backend')
    .option('--cell <kind>', `recurrent cell (this version: ${availableCells().join(', ')})`, 'rnn')
    .option('--hidden <n>', 'hidden units per layer', positiveInt, 128)
    .option('--layers <n>', 'stacked layers', positiveInt, 1)
    .option('--batch <n>', 'parallel streams per step', positiveInt, 32)
    .option('--seq-length <n>', 'BPTT steps per chunk', positiveInt, 32)
    .option('--vocab <n>', 'symbols (input and output classes)', positiveInt, 65)
    .addOption(new Option('--dtype <type>', 'floating-point type').choices(['float32', 'float64']).default('float32'))
    .option('--steps <n>', 'timed steps per backend, after one warm-up step', positiveInt, 20)
    .option('--max-seconds <s>', 'time box of each backend: fewer steps are timed when a step is slow', positiveNumber, 10),
  bench, false);

  return program;
}

if (require.main === module) {
  // `native-rnn sample | head`: the reader left, so nothing more can be shown; stop quietly
  // instead of dying on an unhandled EPIPE.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  buildProgram().parseAsync(process.argv).catch((err: unknown) => {
    process.stderr.write(`native-rnn: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  });
}
