// The long fuzz of the native surface:
//   npm run fuzz -- --iterations N [--seed S] [--target raw|native|ts|all]
// Each target runs in its own child process, so a crash is reported (with its signal and the
// call that was running) instead of ending the run silently. Prints calls made, errors by type
// and guard checks; exits 1 on any unexpected error, guard violation or crash.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runDifferential, runFuzz, type DifferentialReport, type FuzzReport, type FuzzTarget } from '../test/fuzz/native-fuzz';

type Target = FuzzTarget | 'diff';
interface Cli { iterations: number; seed: number; targets: Target[]; child: boolean; traceFile: string | null }

function usage(message: string): never {
  console.error(`fuzz: ${message}\nusage: npm run fuzz -- --iterations N [--seed S] [--target raw|native|ts|diff|all]`);
  process.exit(2);
}

function parse(argv: string[]): Cli {
  const cli: Cli = { iterations: 100000, seed: Date.now() % 2 ** 31, targets: ['raw', 'native', 'ts', 'diff'], child: false, traceFile: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) usage(`${a} needs a value`);
      return v;
    };
    if (a === '--iterations' || a === '-n') {
      cli.iterations = Number(value());
      if (!Number.isInteger(cli.iterations) || cli.iterations < 1) usage('--iterations must be a positive integer');
    } else if (a === '--seed') {
      cli.seed = Number(value());
      if (!Number.isInteger(cli.seed)) usage('--seed must be an integer');
    } else if (a === '--target') {
      const t = value();
      if (t === 'all') cli.targets = ['raw', 'native', 'ts', 'diff'];
      else if (t === 'raw' || t === 'native' || t === 'ts' || t === 'diff') cli.targets = [t];
      else usage(`--target must be raw, native, ts, diff or all, got ${t}`);
    } else if (a === '--child') {
      cli.child = true;
    } else if (a === '--trace-file') {
      cli.traceFile = value();
    } else {
      usage(`unknown argument ${a}`);
    }
  }
  return cli;
}

/** In the child: one target; the current call is kept in the trace file for a post-mortem. */
async function child(cli: Cli): Promise<void> {
  const target = cli.targets[0];
  if (target === 'diff') {
    // The TypeScript checks against the raw addon's C++ checks, call by call.
    process.stdout.write(`\n${JSON.stringify(runDifferential({ seed: cli.seed, iterations: cli.iterations }))}\n`);
    return;
  }
  const fd = cli.traceFile ? fs.openSync(cli.traceFile, 'w') : null;
  const buf = Buffer.alloc(2048);
  const progressEvery = Math.max(1, Math.floor(cli.iterations / 10));
  const report = await runFuzz({
    seed: cli.seed,
    iterations: cli.iterations,
    target,
    onCall: (c) => {
      if (fd !== null) {
        buf.fill(32);
        buf.write(`call ${c.index}: ${c.fn} (${c.mutation})`.slice(0, 2000));
        fs.writeSync(fd, buf, 0, buf.length, 0);
      }
      if (c.index > 0 && c.index % progressEvery === 0) process.stderr.write(`  ${c.target}: ${c.index} calls\n`);
    },
  });
  process.stdout.write(`\n${JSON.stringify(report)}\n`);
}

function print(r: FuzzReport, seconds: number): void {
  const errors = Object.entries(r.errors).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  console.log(`${r.target}: ${r.calls} calls in ${seconds.toFixed(1)} s (seed ${r.seed})`);
  console.log(`  succeeded ${r.succeeded}; errors by type: ${errors}`);
  console.log(`  guard checks ${r.guardChecks}, violations ${r.guardViolations}; unexpected errors ${r.unexpectedErrors}`);
  console.log(`  slowest call ${r.slowest.ms} ms (${r.slowest.fn}); calls over 1 s: ${r.slowCalls}`);
  if (r.unprefixedMessages > 0) console.log(`  messages without the "<fn>: " prefix: ${r.unprefixedMessages}, e.g. ${r.unprefixedSamples[0]}`);
  for (const f of r.failures.slice(0, 10)) console.log(`  FAIL #${f.index} ${f.fn} [${f.kind}] ${f.detail}\n       mutation: ${f.mutation}`);
  if (r.failureCount > 10) console.log(`  ... and ${r.failureCount - 10} more failures`);
}

function parent(cli: Cli): number {
  let failed = false;
  let total = 0;
  for (const target of cli.targets) {
    const traceFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nrnn-fuzz-')), 'current-call.txt');
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [__filename, '--child', '--target', target, '--iterations', String(cli.iterations),
      '--seed', String(cli.seed), '--trace-file', traceFile], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
    const seconds = (Date.now() - t0) / 1000;
    const last = fs.existsSync(traceFile) ? fs.readFileSync(traceFile, 'utf8').trim() : '';
    fs.rmSync(path.dirname(traceFile), { recursive: true, force: true });
    if (r.status !== 0 || r.signal) {
      failed = true;
      console.log(`${target}: CRASHED after ${seconds.toFixed(1)} s: status ${r.status}, signal ${r.signal}`);
      console.log(`  last call: ${last || '(none recorded)'}`);
      console.log(`  reproduce: npm run fuzz -- --target ${target} --seed ${cli.seed} --iterations ${cli.iterations}`);
      continue;
    }
    if (target === 'diff') {
      const d = JSON.parse(r.stdout.trim().split('\n').pop() as string) as DifferentialReport;
      console.log(`diff: ${d.calls} calls in ${seconds.toFixed(1)} s (seed ${d.seed}): ${d.accepted} accepted by both, ` +
        `rejected ${JSON.stringify(d.rejected)}, ${d.mismatchCount} verdicts that differ between TypeScript and C++`);
      for (const m of d.mismatches.slice(0, 10)) console.log(`  DIFF #${m.index} ${m.fn} (${m.mutation}): ts ${JSON.stringify(m.ts)} vs C++ ${JSON.stringify(m.cpp)}`);
      total += d.calls;
      if (d.mismatchCount > 0) failed = true;
      continue;
    }
    const report = JSON.parse(r.stdout.trim().split('\n').pop() as string) as FuzzReport;
    print(report, seconds);
    total += report.calls;
    if (report.failureCount > 0) failed = true;
  }
  console.log(`total: ${total} calls over ${cli.targets.join(', ')}; ${failed ? 'FAILED' : 'clean: only TypeError / RangeError, no guard violations, no crash'}`);
  return failed ? 1 : 0;
}

const cli = parse(process.argv.slice(2));
if (cli.child) {
  child(cli).catch((e) => {
    console.error(e);
    process.exit(3);
  });
} else {
  process.exitCode = parent(cli);
}
