// The hand-off to PyTorch's DistributedDataParallel (examples/torch/ddp_continue.py): a run of
// `native-rnn train` is continued by 2 processes (gloo over 127.0.0.1) and comes back as a
// checkpoint that `native-rnn sample` reads and `native-rnn train --resume` continues. For every
// cell kind the DDP steps must give the losses `native-rnn train --resume` gives on one process
// (the same data, streams, optimizer state, schedule and clipping: float32 rounding apart), and
// the run resumed after the hand-off must go on as the one-process run does.
// Skipped when /usr/bin/python3 cannot import torch. Only loopback addresses are used.
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { builtinNamesText } from '../lib/data/names';
import { loadCheckpoint } from '../lib/io/checkpoint';
import { decodeSafetensors } from '../lib/io/safetensors';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'lib', 'cli', 'main.js');
const SCRIPT = path.join(ROOT, 'examples', 'torch', 'ddp_continue.py');
const PYTHON = '/usr/bin/python3';
const CELLS = ['rnn', 'lstm', 'gru'] as const;
const FIRST = 20, MORE = 20, AFTER = 4;
/** float32 on both sides, summed in other orders: measured differences are ~1e-7. */
const LOSS_TOL = 2e-4;

function hasTorch(): boolean {
  if (!fs.existsSync(PYTHON)) return false;
  const r = spawnSync(PYTHON, ['-c', 'import torch, torch.distributed'], { encoding: 'utf8', timeout: 60000 });
  return r.status === 0;
}

interface Ran { status: number | null; stdout: string; stderr: string }

function run(cmd: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, PYTHONDONTWRITEBYTECODE: '1', ...(options.env ?? {}) };
    const child = spawn(cmd, args, { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 120000);
    child.on('error', reject);
    child.on('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The step events of a --json output, step → loss. */
function stepLosses(out: string): Map<number, number> {
  const losses = new Map<number, number>();
  for (const line of out.split('\n')) {
    if (!line.startsWith('{')) continue;
    const e = JSON.parse(line) as { event: string; step: number; loss: number };
    if (e.event === 'step') losses.set(e.step, e.loss);
  }
  return losses;
}

function expectOk(r: Ran, what: string): void {
  expect(r.status, `${what}\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-4000)}`).to.equal(0);
}

function maxDiff(a: Map<number, number>, b: Map<number, number>, from: number, to: number): number {
  let worst = 0;
  for (let s = from; s <= to; s++) {
    expect(a.has(s) && b.has(s), `step ${s} in both runs`).to.equal(true);
    worst = Math.max(worst, Math.abs((a.get(s) as number) - (b.get(s) as number)));
  }
  return worst;
}

/** Reporting flags: a --json step event every step, no validation or samples until the end. */
const REPORT_FLAGS = ['--json', '--log-every', '1', '--eval-every', '1000', '--sample-every', '1000'];
// Every flag whose default depends on the cell is pinned (lib/cli/train.ts, CELL_DEFAULTS): the
// runs are extended with --steps, which a cosine run (lstm's and gru's default) refuses.
const TRAIN_FLAGS = ['--hidden', '16', '--layers', '1', '--batch', '4', '--seq-length', '16', '--lr', '0.01', '--lr-schedule', 'constant', ...REPORT_FLAGS];

describe('67 io: continuing a run with PyTorch DistributedDataParallel (2 processes, gloo, 127.0.0.1)', function () {
  this.timeout(180000);
  let dir = '';
  const measured: string[] = [];

  before(function () {
    if (!hasTorch()) this.skip();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'native-rnn-ddp-'));
    fs.writeFileSync(path.join(dir, 'names.txt'), builtinNamesText().split('\n').slice(0, 600).join('\n') + '\n');
  });

  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    if (measured.length) console.log(`    67 measured:\n${measured.map((m) => `      ${m}`).join('\n')}`);
  });

  it('every cell kind: the DDP steps are the steps of native-rnn --resume, and the returned file samples and resumes', async () => {
    const cli = (args: string[]) => run(process.execPath, [CLI, ...args], { cwd: dir });
    await Promise.all(CELLS.map(async (cell) => {
      const a = `${cell}.a.safetensors`;
      const first = await cli(['train', '--data', 'names.txt', '--cell', cell, '--steps', String(FIRST), '--save', a, ...TRAIN_FLAGS]);
      expectOk(first, `native-rnn train --cell ${cell}`);
      fs.copyFileSync(path.join(dir, a), path.join(dir, `${cell}.ref.safetensors`));
      const port = await freePort();
      const [reference, ddp] = await Promise.all([
        // one process: native-rnn resumes the run for MORE steps
        cli(['train', '--resume', `${cell}.ref.safetensors`, '--steps', String(FIRST + MORE), '--save', `${cell}.ref.safetensors`, ...REPORT_FLAGS]),
        // two processes: the same steps under DDP
        run(PYTHON, [SCRIPT, a, `${cell}.b.safetensors`, '--steps', String(MORE), '--nprocs', '2',
          '--init-method', `tcp://127.0.0.1:${port}`, '--json'], { cwd: dir }),
      ]);
      expectOk(reference, `native-rnn train --resume (${cell})`);
      expectOk(ddp, `ddp_continue.py (${cell})`);
      const before = stepLosses(first.stdout), refLosses = stepLosses(reference.stdout), ddpLosses = stepLosses(ddp.stdout);
      expect([...ddpLosses.keys()]).to.deep.equal(Array.from({ length: MORE }, (_, i) => FIRST + 1 + i));
      const diff = maxDiff(ddpLosses, refLosses, FIRST + 1, FIRST + MORE);
      expect(diff, `${cell}: DDP losses vs native-rnn's`).to.be.below(LOSS_TOL);
      // it went on from where it was: the first DDP step is near the last native ones, far below the start
      const lastNative = before.get(FIRST) as number, startLoss = before.get(1) as number;
      const firstDdp = ddpLosses.get(FIRST + 1) as number;
      expect(Math.abs(firstDdp - lastNative)).to.be.below(0.3 * (startLoss - lastNative));
      const done = JSON.parse(ddp.stdout.trim().split('\n').pop() as string) as { event: string; step: number; processes: number };
      expect(done).to.include({ event: 'done', step: FIRST + MORE, processes: 2 });

      // The returned file: native-rnn's names, metadata and optimizer state.
      const bytes = fs.readFileSync(path.join(dir, `${cell}.b.safetensors`));
      const { tensors, metadata } = decodeSafetensors(bytes);
      const original = decodeSafetensors(fs.readFileSync(path.join(dir, a)));
      expect([...tensors.keys()].filter((k) => k.startsWith('module.'))).to.deep.equal([]);
      expect([...tensors.keys()].sort()).to.deep.equal([...original.tensors.keys()].sort());
      for (const key of ['format', 'config', 'vocabulary', 'rng']) expect(metadata[key], key).to.equal(original.metadata[key]);
      expect(JSON.parse(metadata.trainer).step).to.equal(FIRST + MORE);
      expect(JSON.parse(metadata.optimizer).step).to.equal(FIRST + MORE);
      if (cell === 'rnn') expect([...(tensors.get('rnn.bias_hh_l0')!.data as Float32Array)].every((v) => v === 0)).to.equal(true);
      const loaded = await loadCheckpoint(path.join(dir, `${cell}.b.safetensors`), { backend: 'ts' });
      expect(loaded.config.cell).to.equal(cell);
      expect(loaded.trainer!.optimizerState.exp_avg.length).to.equal(loaded.model.size);
      expect(loaded.trainer!.optimizerState.exp_avg.some((v) => v !== 0)).to.equal(true);
      const refFile = await loadCheckpoint(path.join(dir, `${cell}.ref.safetensors`), { backend: 'ts' });
      let wdiff = 0;
      for (let i = 0; i < loaded.model.size; i++) wdiff = Math.max(wdiff, Math.abs(loaded.model.params[i] - refFile.model.params[i]));
      expect(wdiff, `${cell}: weights after DDP vs after native-rnn`).to.be.below(1e-3);

      // native-rnn samples from it, and resumes it as it resumes its own run.
      const sample = await cli(['sample', '--checkpoint', `${cell}.b.safetensors`, '--count', '3', '--seed', '1']);
      expectOk(sample, `native-rnn sample (${cell})`);
      expect(sample.stdout.trim().split('\n')).to.have.length(3);
      const total = String(FIRST + MORE + AFTER);
      const [resumed, refResumed] = await Promise.all([
        cli(['train', '--resume', `${cell}.b.safetensors`, '--steps', total, '--save', `${cell}.c.safetensors`, ...REPORT_FLAGS]),
        cli(['train', '--resume', `${cell}.ref.safetensors`, '--steps', total, '--save', `${cell}.ref2.safetensors`, ...REPORT_FLAGS]),
      ]);
      expectOk(resumed, `native-rnn train --resume (${cell}) after DDP`);
      expectOk(refResumed, `native-rnn train --resume (${cell})`);
      const after = stepLosses(resumed.stdout);
      expect([...after.keys()]).to.deep.equal(Array.from({ length: AFTER }, (_, i) => FIRST + MORE + 1 + i));
      const afterDiff = maxDiff(after, stepLosses(refResumed.stdout), FIRST + MORE + 1, FIRST + MORE + AFTER);
      expect(afterDiff).to.be.below(LOSS_TOL);
      measured.push(`${cell}: loss ${startLoss.toFixed(4)} at step 1, ${lastNative.toFixed(4)} at ${FIRST} (native), ` +
        `${firstDdp.toFixed(4)} at ${FIRST + 1} (DDP); DDP vs native-rnn --resume: max |Δloss| ${diff.toExponential(2)} over ${MORE} steps, ` +
        `max |Δweight| ${wdiff.toExponential(2)}; resumed after the hand-off: max |Δloss| ${afterDiff.toExponential(2)}`);
    }));
  });

  it("runs from torchrun's environment (RANK, WORLD_SIZE, MASTER_ADDR=127.0.0.1, MASTER_PORT) as from spawn", async () => {
    const a = 'gru.a.safetensors';
    expect(fs.existsSync(path.join(dir, a))).to.equal(true);
    const port = await freePort();
    const ranks = await Promise.all([0, 1].map((rank) => run(PYTHON, [SCRIPT, a, 'gru.env.safetensors', '--steps', String(MORE), '--json'], {
      cwd: dir,
      env: { RANK: String(rank), LOCAL_RANK: String(rank), WORLD_SIZE: '2', LOCAL_WORLD_SIZE: '2', MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), GLOO_SOCKET_IFNAME: 'lo' },
    })));
    ranks.forEach((r, i) => expectOk(r, `rank ${i}`));
    expect(ranks[1].stdout.trim()).to.equal(''); // only rank 0 reports and writes
    const spawned = decodeSafetensors(fs.readFileSync(path.join(dir, 'gru.b.safetensors')));
    const env = decodeSafetensors(fs.readFileSync(path.join(dir, 'gru.env.safetensors')));
    for (const [name, t] of spawned.tensors) expect(Buffer.from((env.tensors.get(name)!.data as Float32Array).buffer).equals(Buffer.from((t.data as Float32Array).buffer)), name).to.equal(true);
  });

  it('under torchrun itself (skipped where Debian\'s torch 1.13 torchrun fails on Python 3.11)', async function () {
    if (!fs.existsSync('/usr/bin/torchrun')) this.skip();
    const port = await freePort();
    const r = await run('/usr/bin/torchrun', ['--nproc_per_node', '2', '--master_addr', '127.0.0.1', '--master_port', String(port),
      SCRIPT, 'rnn.a.safetensors', 'rnn.torchrun.safetensors', '--steps', '2', '--json'], { cwd: dir, env: { GLOO_SOCKET_IFNAME: 'lo' } });
    if (r.status !== 0 && /val_or_map\.get/.test(r.stderr)) {
      measured.push("torchrun: failed in its elastic agent (AttributeError at val_or_map.get: Debian's torch 1.13 on Python 3.11), test skipped");
      this.skip();
    }
    expectOk(r, 'torchrun');
    const loaded = await loadCheckpoint(path.join(dir, 'rnn.torchrun.safetensors'), { backend: 'ts' });
    expect(loaded.trainer!.step).to.equal(FIRST + 2);
  });

  it('refuses a checkpoint it cannot continue, and text that is not the run\'s', async () => {
    fs.writeFileSync(path.join(dir, 'other.txt'), 'not\nthe\nsame\ntext\n');
    const wrong = await run(PYTHON, [SCRIPT, 'lstm.a.safetensors', 'x.safetensors', '--steps', '1', '--data', 'other.txt'], { cwd: dir });
    expect(wrong.status).to.not.equal(0);
    expect(wrong.stderr).to.include('is not the one lstm.a.safetensors was trained on');
    const best = await run(PYTHON, [SCRIPT, 'lstm.c.best.safetensors', 'x.safetensors', '--steps', '1'], { cwd: dir });
    expect(best.status).to.not.equal(0);
    expect(best.stderr).to.match(/has no '(trainer|optimizer)' metadata/);
    expect(fs.existsSync(path.join(dir, 'x.safetensors'))).to.equal(false);
  });
});
