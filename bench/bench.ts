// `npm run bench`: native vs pure-TypeScript vs peers, measured in one run on this machine.
// Prints one table per section and writes bench/results/bench-<time>.json with the machine,
// CPU flags, versions and thread counts. Medians of several runs; nothing here is asserted.
//
//   npm run bench                      everything (several minutes)
//   npm run bench -- --quick           fewer sizes and repetitions
//   npm run bench -- --only gemm,step,cell,cells,overhead,memory
//
// GEMM figures are also given as a fraction of the FMA peak measured on this machine (a plain
// FMA loop per ISA, type and thread count, from the C++ bench). Thread rows: "native 2t" is the
// default thread count of a 2-core machine; the 2t/1t columns are medians of paired runs (one
// thread and two alternating), so machine load hits both alike.
//
// Peers measured when present: OpenBLAS cblas_?gemm (apt-get install libopenblas-dev; built by
// CMake as gemm_bench), PyTorch (apt-get install python3-torch; run with /usr/bin/python3),
// TF.js with its wasm backend (a dev dependency).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { backends, GRUCell, LSTMCell, RNNCell, RNNModel, Trainer } from '../lib';
import type { Backend, FloatArray } from '../lib';

const ROOT = path.resolve(__dirname, '..', '..');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyArg = args.find((a) => a.startsWith('--only'));
const only = onlyArg ? (onlyArg.includes('=') ? onlyArg.split('=')[1] : args[args.indexOf(onlyArg) + 1]).split(',') : null;
const want = (section: string) => only === null || only.includes(section);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** After one warm-up call of fn: how many calls make a timed sample last ~minMs (at most 2^20). */
function callsFor(fn: () => void, minMs: number): number {
  fn();
  let calls = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) fn();
    const ms = performance.now() - t0;
    if (ms >= minMs || calls >= 1 << 20) return calls;
    calls *= ms > 0 ? Math.min(16, Math.max(2, Math.ceil(minMs / ms))) : 16;
  }
}

/** Median seconds per call of fn, each sample timing enough calls to last ~minMs. */
function timeIt(fn: () => void, samples: number, minMs: number): number {
  const calls = callsFor(fn, minMs);
  const out: number[] = [];
  for (let s = 0; s < samples; s++) {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) fn();
    out.push((performance.now() - t0) / 1000 / calls);
  }
  return median(out);
}

/**
 * Two variants timed alternately (a, b, a, b, ...): medians of each and the median of the
 * per-pair ratios b/a. setup() runs before each variant's sample (e.g. sets the thread count).
 */
function pairedTimes(a: () => void, b: () => void, setupA: () => void, setupB: () => void, samples: number, minMs: number):
  { a: number; b: number; ratio: number } {
  const calls = (fn: () => void, setup: () => void): number => {
    setup();
    return callsFor(fn, minMs);
  };
  const na = calls(a, setupA), nb = calls(b, setupB);
  const ta: number[] = [], tb: number[] = [], ratios: number[] = [];
  for (let s = 0; s < samples; s++) {
    setupA();
    let t0 = performance.now();
    for (let i = 0; i < na; i++) a();
    ta.push((performance.now() - t0) / 1000 / na);
    setupB();
    t0 = performance.now();
    for (let i = 0; i < nb; i++) b();
    tb.push((performance.now() - t0) / 1000 / nb);
    ratios.push(tb[s] / ta[s]);
  }
  return { a: median(ta), b: median(tb), ratio: median(ratios) };
}

function table(title: string, header: string[], rows: Array<Array<string | number>>): void {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => String(r[i] ?? '').length)));
  console.log(`\n${title}`);
  for (const [k, r] of cells.entries()) {
    console.log(r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  '));
    if (k === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return '-';
  if (Math.abs(x) >= 100) return x.toFixed(0);
  if (Math.abs(x) >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

function randomArray(n: number, f32: boolean, seed: number): FloatArray {
  const a = f32 ? new Float32Array(n) : new Float64Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 32 - 0.5;
  }
  return a;
}

const report: Record<string, unknown> = {};

function machine(): Record<string, unknown> {
  const cpuinfo = fs.existsSync('/proc/cpuinfo') ? fs.readFileSync('/proc/cpuinfo', 'utf8') : '';
  const flags = (/^flags\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? '').split(' ');
  const simd = flags.filter((f) => /^(avx|avx2|fma|avx512f|avx512vl|avx512bw|avx512dq|sse4_2)$/.test(f));
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, memoryBytes: os.totalmem(), simdFlags: simd,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`, node: process.version,
    nativeCpu: backends.cpuInfo(), backends: backends.available(),
  };
}

// ---- GEMM ------------------------------------------------------------------------------------
type GemmShape = { name: string; M: number; N: number; K: number; tA: boolean; tB: boolean };

function gemmShapes(): GemmShape[] {
  const square = (quick ? [64, 256, 512, 1024] : [64, 128, 256, 512, 1024, 2048]).map((n) => ({ name: `${n}³`, M: n, N: n, K: n, tA: false, tB: false }));
  // The recurrence's products at n_c = 256, m = 64 (forward Wc·c, backward Wcᵀ·dU, and
  // the weight gradient dU·Hᵀ over T·m = 2048 columns), and n_c = 1024.
  const rnn: GemmShape[] = [];
  for (const [nc, m] of [[256, 64], [1024, 64]]) {
    for (const [tA, tB] of [[false, false], [true, false], [false, true]]) {
      rnn.push({ name: `rnn ${nc}x${m}x${nc} ${tA ? 'T' : 'N'}${tB ? 'T' : 'N'}`, M: nc, N: m, K: nc, tA, tB });
    }
  }
  rnn.push({ name: 'rnn 256x256x2048 NT', M: 256, N: 256, K: 2048, tA: false, tB: true });
  return [...square, ...rnn];
}

function gemmCall(k: Backend, s: GemmShape, f32: boolean): () => void {
  const A = randomArray(s.M * s.K, f32, 1), B = randomArray(s.K * s.N, f32, 2), C = f32 ? new Float32Array(s.M * s.N) : new Float64Array(s.M * s.N);
  const lda = s.tA ? s.M : s.K, ldb = s.tB ? s.K : s.N;
  return () => k.gemm(s.tA, s.tB, s.M, s.N, s.K, 1, A, 0, lda, B, 0, ldb, 0, C, 0, s.N);
}

function gemmGflops(k: Backend, s: GemmShape, f32: boolean, samples: number): number {
  const sec = timeIt(gemmCall(k, s, f32), samples, quick ? 60 : 150);
  return (2 * s.M * s.N * s.K) / sec / 1e9;
}

/**
 * OpenBLAS figures from the C++ bench (native/bench/gemm_bench.cc, built by CMake when
 * libopenblas-dev is installed): our gemm and cblas_?gemm timed in the same process, with the
 * paired ratio ours/OpenBLAS. Keyed "s|d MxNxK NN|NT|TN|TT".
 */
type BlasRow = {
  openblas1: number; openblas2: number; ratio1: number; ratio2: number; ours1: number; ours2: number;
  // Fractions of the FMA peak measured in the same repetition (C++ bench, our gemm and OpenBLAS).
  ofPeak1: number; ofPeak2: number; blasOfPeak1: number; blasOfPeak2: number;
};
/** FMA peaks (GFLOP/s) of the detected ISA from the C++ bench, keyed "s1", "s2", "d1", "d2". */
const fmaPeak = new Map<string, number>();
function openblasGemm(): Map<string, BlasRow> | null {
  const dir = path.join(ROOT, 'build-bench');
  const exe = path.join(dir, 'gemm_bench');
  // Configured once; built every run (an up-to-date build is a no-op), so the figures never
  // come from a gemm_bench older than the kernels beside it.
  if (!fs.existsSync(path.join(dir, 'CMakeCache.txt'))) {
    const conf = spawnSync('cmake', ['-S', ROOT, '-B', dir, '-DCMAKE_BUILD_TYPE=Release', '-DNRNN_TESTS=OFF'], { encoding: 'utf8' });
    if (conf.status !== 0) return null;
  }
  const build = spawnSync('cmake', ['--build', dir, '-j2', '--target', 'gemm_bench'], { encoding: 'utf8' });
  if (build.status !== 0 || !fs.existsSync(exe)) {
    console.error(`gemm_bench did not build: ${(build.stderr || '').trim().split('\n').slice(-3).join(' ')}`);
    return null;
  }
  const r = spawnSync(exe, ['--json', ...(quick ? ['--quick', '--reps', '5'] : [])], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) return null;
  type Entry = {
    M: number; N: number; K: number; transA: boolean; transB: boolean; dtype: string; threads: number; ours: number;
    openblas: number | null; ratio: number | null; of_peak?: number; openblas_of_peak?: number;
  };
  type Peak = { isa: string; dtype: string; threads: number; gflops: number };
  let parsed: { openblas: string | null; openblas_core?: string; openblas_core_note?: string; machine: { detected_isa: string }; fma_peak?: Peak[]; results: Entry[] };
  try {
    parsed = JSON.parse(r.stdout) as typeof parsed;
  } catch {
    return null;
  }
  for (const p of parsed.fma_peak ?? []) {
    fmaPeak.set(`${p.isa} ${p.dtype === 'float' ? 's' : 'd'}${p.threads}`, p.gflops);
    if (p.isa === parsed.machine.detected_isa) fmaPeak.set(`${p.dtype === 'float' ? 's' : 'd'}${p.threads}`, p.gflops);
  }
  report.fmaPeak = parsed.fma_peak ?? null;
  if (parsed.openblas === null) return null;
  report.openblas = parsed.openblas;
  report.openblasCore = { core: parsed.openblas_core ?? null, note: parsed.openblas_core_note ?? null };
  const out = new Map<string, BlasRow>();
  for (const e of parsed.results) {
    // Rows of other CPU paths (e.g. the portable one) carry no OpenBLAS figure: skip them.
    if (e.openblas === null) continue;
    const key = `${e.dtype === 'float' || e.dtype === 'f32' || e.dtype === 'float32' ? 's' : 'd'} ${e.M}x${e.N}x${e.K} ${e.transA ? 'T' : 'N'}${e.transB ? 'T' : 'N'}`;
    const row = out.get(key) ?? { openblas1: NaN, openblas2: NaN, ratio1: NaN, ratio2: NaN, ours1: NaN, ours2: NaN,
      ofPeak1: NaN, ofPeak2: NaN, blasOfPeak1: NaN, blasOfPeak2: NaN };
    if (e.threads === 1) {
      Object.assign(row, { openblas1: e.openblas ?? NaN, ratio1: e.ratio ?? NaN, ours1: e.ours,
        ofPeak1: e.of_peak ?? NaN, blasOfPeak1: e.openblas_of_peak ?? NaN });
    }
    if (e.threads === 2) {
      Object.assign(row, { openblas2: e.openblas ?? NaN, ratio2: e.ratio ?? NaN, ours2: e.ours,
        ofPeak2: e.of_peak ?? NaN, blasOfPeak2: e.openblas_of_peak ?? NaN });
    }
    out.set(key, row);
  }
  return out;
}

function benchGemm(): void {
  const hasNative = backends.available().includes('native');
  const native = hasNative ? backends.get('native') : null;
  const ts = backends.get('ts');
  const samples = quick ? 3 : 5;
  const results: Array<Record<string, unknown>> = [];
  const blas = openblasGemm();
  // Without the C++ bench, the one-thread peak the addon measured for its threading policy.
  const info = backends.cpuInfo() as { detected?: string; fmaPeakGflops?: { float32: number; float64: number } } | null;
  if (!fmaPeak.has('s1') && info?.fmaPeakGflops) {
    fmaPeak.set('s1', info.fmaPeakGflops.float32);
    fmaPeak.set('d1', info.fmaPeakGflops.float64);
  }
  if (fmaPeak.size > 0) {
    // Every path the CPU has, from the C++ bench (else the addon's one-thread figure).
    const isas = ['avx512', 'avx2', 'generic'].filter((i) => fmaPeak.has(`${i} s1`));
    const line = (isa: string, key: (k: string) => string) => `${isa}: float 1t ${fmt(fmaPeak.get(key('s1')) ?? NaN)}, 2t ${fmt(fmaPeak.get(key('s2')) ?? NaN)}; ` +
      `double 1t ${fmt(fmaPeak.get(key('d1')) ?? NaN)}, 2t ${fmt(fmaPeak.get(key('d2')) ?? NaN)}`;
    console.log('\nFMA peak (plain FMA loop), GFLOP/s');
    if (isas.length === 0) console.log(`  ${line(info?.detected ?? '?', (k) => k)}`);
    for (const isa of isas) console.log(`  ${line(isa, (k) => `${isa} ${k}`)}`);
    const core = report.openblasCore as { core: string | null; note: string | null } | undefined;
    if (core?.core) console.log(`OpenBLAS kernels: ${core.core} (${core.note ?? ''})`);
  }
  for (const f32 of [true, false]) {
    const rows: Array<Array<string | number>> = [];
    for (const s of gemmShapes()) {
      const r: Record<string, number> = {};
      if (native) {
        // One thread and two alternating: the 2t/1t ratio is a median of pairs.
        const call = gemmCall(native, s, f32);
        const t = pairedTimes(call, call, () => native.setNumThreads(1), () => native.setNumThreads(2), samples, quick ? 60 : 150);
        const flop = 2 * s.M * s.N * s.K;
        r.native1 = flop / t.a / 1e9;
        r.native2 = flop / t.b / 1e9;
        r.speedup2 = 1 / t.ratio;
      }
      const dt = f32 ? 's' : 'd';
      // The pure-TS gemm takes seconds at 1024³ and up: measured up to 512³ and the RNN shapes.
      r.ts = s.M * s.N * s.K <= 512 ** 3 * 2 ? gemmGflops(ts, s, f32, quick ? 1 : 3) : NaN;
      const key = `${f32 ? 's' : 'd'} ${s.M}x${s.N}x${s.K} ${s.tA ? 'T' : 'N'}${s.tB ? 'T' : 'N'}`;
      const b = blas?.get(key);
      r.blas1 = b?.openblas1 ?? NaN;
      r.blas2 = b?.openblas2 ?? NaN;
      // The paired ratio from the C++ bench (ours and OpenBLAS alternating in one process) is
      // steadier than the ratio of medians taken minutes apart.
      r.paired1 = (b?.ratio1 ?? NaN) * 100;
      r.paired2 = (b?.ratio2 ?? NaN) * 100;
      // % of the FMA peak: the C++ bench's, taken within each repetition (ours and OpenBLAS
      // against a peak measured beside them); without it, the addon's figure over the peak.
      r.peak1 = b ? 100 * b.ofPeak1 : 100 * (r.native1 ?? NaN) / (fmaPeak.get(`${dt}1`) ?? NaN);
      r.peak2 = b ? 100 * b.ofPeak2 : 100 * (r.native2 ?? NaN) / (fmaPeak.get(`${dt}2`) ?? NaN);
      r.blasPeak1 = 100 * (b?.blasOfPeak1 ?? NaN);
      r.blasPeak2 = 100 * (b?.blasOfPeak2 ?? NaN);
      results.push({ dtype: f32 ? 'float32' : 'float64', shape: s, gflops: r });
      rows.push([s.name, r.native1 ?? NaN, r.native2 ?? NaN, r.speedup2 ?? NaN, r.peak1, r.peak2, r.ts, r.blas1, r.blas2, r.blasPeak1, r.blasPeak2,
        r.paired1, r.paired2, r.native1 / r.ts]);
    }
    table(`GEMM ${f32 ? 'float32' : 'float64'} GFLOP/s (median; % peak = of the FMA peak, measured beside each figure)${blas ? '' : ' — OpenBLAS not measured: apt-get install libopenblas-dev'}`,
      ['shape', 'native 1t', 'native 2t', '2t/1t', '% peak 1t', '% peak 2t', 'ts', 'OpenBLAS 1t', 'OpenBLAS 2t', 'BLAS % peak 1t', 'BLAS % peak 2t',
        'ours/BLAS 1t %', 'ours/BLAS 2t %', 'native/ts'], rows);
  }
  native?.setNumThreads(os.cpus().length);
  report.gemm = results;
}

// ---- training step -----------------------------------------------------------------------------
const CONFIGS: Array<[number, number, number, number]> = [[64, 32, 32, 64], [128, 32, 64, 65], [256, 64, 32, 65], [512, 64, 32, 65], [1024, 32, 16, 65]];

async function stepMs(backendName: 'native' | 'ts', threads: number, [nc, m, T, V]: [number, number, number, number], reps: number, cell = 'rnn'): Promise<number> {
  return (await stepsMs(backendName, [threads], [nc, m, T, V], reps, cell)).ms[0];
}

/**
 * Median ms of a training step for each thread count, the counts alternating step by step
 * (so that machine load hits them alike), and the median of the per-round ratios to the first.
 */
async function stepsMs(backendName: 'native' | 'ts', threads: number[], [nc, m, T, V]: [number, number, number, number], reps: number,
  cell = 'rnn'): Promise<{ ms: number[]; ratio: number[] }> {
  const model = new RNNModel({ cell, inputSize: nc, outputSize: V, hiddenSize: nc, dtype: 'float32', backend: backendName, seed: 1 });
  const trainer = new Trainer(model, { optimizer: 'adam', lr: 1e-3 });
  const input = { rows: nc, steps: T, batch: m, data: randomArray(nc * T * m, true, 3) };
  const target = Int32Array.from({ length: T * m }, (_, k) => (k * 7919) % V);
  const times = threads.map(() => [] as number[]);
  const ratios = threads.map(() => [] as number[]);
  for (const t of threads) {
    model.backend.setNumThreads(t);
    await trainer.trainStep(input, target);
  }
  for (let r = 0; r < reps; r++) {
    for (const [i, t] of threads.entries()) {
      model.backend.setNumThreads(t);
      const t0 = performance.now();
      await trainer.trainStep(input, target);
      times[i].push(performance.now() - t0);
      ratios[i].push(times[i][r] / times[0][r]);
    }
  }
  model.backend.setNumThreads(os.cpus().length);
  return { ms: times.map(median), ratio: ratios.map(median) };
}

function torchSteps(configs: number[][], reps: number, extra: string[] = []): Map<string, { ms: Record<string, number>; version: string }> | null {
  const py = '/usr/bin/python3';
  if (!fs.existsSync(py)) return null;
  const probe = spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) return null;
  const r = spawnSync(py, [path.join(ROOT, 'bench', 'torch_step.py'), '--configs', ...configs.map((c) => c.join(',')),
    '--threads', '1', '2', '--reps', String(reps), ...extra], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) {
    console.error('PyTorch bench failed:', r.stderr.slice(-2000));
    return null;
  }
  const out = new Map<string, { ms: Record<string, number>; version: string }>();
  for (const line of r.stdout.trim().split('\n').filter((l) => l.startsWith('{'))) {
    const o = JSON.parse(line) as { config: number[]; ms: Record<string, number>; torch: string };
    out.set(o.config.join(','), { ms: o.ms, version: o.torch });
  }
  return out;
}

function tfjsSteps(configs: typeof CONFIGS): Map<string, number> | null {
  const script = path.join(ROOT, 'dist', 'bench', 'tfjs-step.js');
  try {
    require.resolve('@tensorflow/tfjs-backend-wasm');
  } catch {
    return null;
  }
  const r = spawnSync(process.execPath, [script, ...configs.map((c) => c.join(','))], {
    encoding: 'utf8', maxBuffer: 1 << 24, env: { ...process.env, BENCH_REPS: quick ? '2' : '3' },
  });
  if (r.status !== 0) {
    console.error('TF.js bench failed:', r.stderr.slice(-2000));
    return null;
  }
  const out = new Map<string, number>();
  for (const line of r.stdout.trim().split('\n').filter((l) => l.startsWith('{'))) {
    const o = JSON.parse(line) as { config: number[]; ms: number };
    out.set(o.config.join(','), o.ms);
  }
  return out;
}

async function benchSteps(): Promise<void> {
  const hasNative = backends.available().includes('native');
  const reps = quick ? 3 : 7;
  const torch = torchSteps(CONFIGS, reps);
  const tfjs = tfjsSteps(CONFIGS);
  const rows: Array<Array<string | number>> = [];
  const results: Array<Record<string, unknown>> = [];
  for (const c of CONFIGS) {
    const key = c.join(',');
    const r: Record<string, number> = {};
    if (hasNative) {
      const p = await stepsMs('native', [1, 2], c, reps);
      r.native1 = p.ms[0];
      r.native2 = p.ms[1];
      r.ratio2 = p.ratio[1];
    }
    r.ts = await stepMs('ts', 1, c, c[0] >= 512 ? 1 : quick ? 1 : 3);
    const t = torch?.get(key);
    r.torch1 = t?.ms['1'] ?? NaN;
    r.torch2 = t?.ms['2'] ?? NaN;
    r.tfjs = tfjs?.get(key) ?? NaN;
    const best = Math.min(r.native1 ?? Infinity, r.native2 ?? Infinity);
    const torchBest = Math.min(r.torch1, r.torch2);
    const tokens = c[1] * c[2];
    results.push({ config: { hidden: c[0], batch: c[1], steps: c[2], classes: c[3] }, ms: r, tokensPerSecondNative: tokens / best * 1000 });
    rows.push([`(${key})`, r.native1 ?? NaN, r.native2 ?? NaN, r.ratio2 ?? NaN, r.ts, r.torch1, r.torch2, r.tfjs,
      tokens / best * 1000, torchBest / best, r.tfjs / best, r.ts / best]);
  }
  table('Training step, ms (median; float32, dense inputs n_x = n_c, Adam)' +
    (torch ? '' : ' — PyTorch not measured: apt-get install python3-torch') + (tfjs ? '' : ' — TF.js wasm not measured'),
  ['(n_c,m,T,V)', 'native 1t', 'native 2t', '2t/1t', 'ts', 'torch 1t', 'torch 2t', 'tfjs wasm', 'tokens/s', 'torch/native', 'tfjs/native', 'ts/native'], rows);
  report.trainingStep = { results, torch: torch ? [...torch.values()][0]?.version : null };
}

// ---- one RNNCell, forward and backward over a sequence ------------------------------------------
// The synchronous cell API (forwardSequence + backwardSequence) at small sizes, where a second
// thread has the least work to share: the default thread count must not be slower than one.
function benchCell(): void {
  if (!backends.available().includes('native')) return;
  const native = backends.get('native');
  const rows: Array<Array<string | number>> = [];
  const results: Array<Record<string, unknown>> = [];
  for (const [nc, m, T] of [[64, 32, 32], [256, 32, 32]] as Array<[number, number, number]>) {
    for (const dtype of ['float64', 'float32'] as const) {
      const f32 = dtype === 'float32';
      const cell = new RNNCell({ inputSize: nc, hiddenSize: nc, dtype, backend: 'native', seed: 1 });
      const X = { rows: nc, steps: T, batch: m, data: randomArray(nc * T * m, f32, 5) };
      const dC = { rows: nc, steps: T, batch: m, data: randomArray(nc * T * m, f32, 6) };
      const once = (): void => {
        const f = cell.forwardSequence(X);
        cell.backwardSequence(dC, f.cache);
      };
      const t = pairedTimes(once, once, () => native.setNumThreads(1), () => native.setNumThreads(os.cpus().length), quick ? 5 : 9, quick ? 50 : 100);
      results.push({ config: { hidden: nc, batch: m, steps: T, dtype }, ms1: t.a * 1e3, msDefault: t.b * 1e3, ratio: t.ratio });
      rows.push([`(${nc},${m},${T}) ${dtype}`, t.a * 1e3, t.b * 1e3, t.ratio]);
    }
  }
  native.setNumThreads(os.cpus().length);
  table(`RNNCell forwardSequence + backwardSequence, ms (median; default = ${os.cpus().length} threads; ratio = median of paired runs)`,
    ['(n_c,m,T) dtype', 'native 1t', 'native default', 'default/1t'], rows);
  report.cell = results;
}

// ---- the cells against PyTorch: bare forward + backward, and the gated cells' training step ------
// forwardSequence + backwardSequence with the input gradient (float32, dense n_x = n_c), beside
// nn.RNN / nn.LSTM / nn.GRU doing the same work (out.backward(dH) with x.requires_grad), at the
// best of PyTorch's 1 and 2 threads; and the training step of a model of each gated cell.
const CELL_CONFIGS: Record<string, Array<[number, number, number]>> = {
  rnn: [[64, 32, 32], [256, 64, 32], [512, 64, 32]],
  lstm: [[128, 32, 32], [256, 64, 32], [512, 64, 32]],
  gru: [[128, 32, 32], [256, 64, 32], [512, 64, 32]],
};

async function benchCells(): Promise<void> {
  if (!backends.available().includes('native')) return;
  const native = backends.get('native');
  const reps = quick ? 3 : 7;
  const rows: Array<Array<string | number>> = [];
  const stepRows: Array<Array<string | number>> = [];
  const results: Array<Record<string, unknown>> = [];
  for (const [kind, configs] of Object.entries(CELL_CONFIGS)) {
    const torch = torchSteps(configs, reps, ['--mode', 'cell', '--cell', kind]);
    for (const [nc, m, T] of configs) {
      const X = { rows: nc, steps: T, batch: m, data: randomArray(nc * T * m, true, 5) };
      const dH = { rows: nc, steps: T, batch: m, data: randomArray(nc * T * m, true, 6) };
      let once: () => void;
      if (kind === 'rnn') {
        const cell = new RNNCell({ inputSize: nc, hiddenSize: nc, dtype: 'float32', backend: 'native', seed: 1 });
        once = () => { cell.backwardSequence(dH, cell.forwardSequence(X).cache); };
      } else {
        const cell = kind === 'lstm' ? new LSTMCell({ inputSize: nc, hiddenSize: nc, dtype: 'float32', backend: 'native', seed: 1 })
          : new GRUCell({ inputSize: nc, hiddenSize: nc, dtype: 'float32', backend: 'native', seed: 1 });
        once = () => { cell.backwardSequence(dH, cell.forwardSequence(X).cache); };
      }
      const t = pairedTimes(once, once, () => native.setNumThreads(1), () => native.setNumThreads(os.cpus().length), quick ? 5 : 9, quick ? 50 : 100);
      const tt = torch?.get([nc, m, T].join(','));
      const torchBest = tt ? Math.min(tt.ms['1'], tt.ms['2']) : NaN;
      const nativeDefault = t.b * 1e3;
      rows.push([`${kind} (${nc},${m},${T})`, t.a * 1e3, nativeDefault, t.ratio, tt?.ms['1'] ?? NaN, tt?.ms['2'] ?? NaN, torchBest / nativeDefault]);
      results.push({ cell: kind, config: { hidden: nc, batch: m, steps: T }, ms1: t.a * 1e3, msDefault: nativeDefault, torch: tt?.ms ?? null });
    }
    if (kind === 'rnn') continue;
    const stepConfigs = configs.map(([nc, m, T]) => [nc, m, T, 65] as [number, number, number, number]);
    const torchStep = torchSteps(stepConfigs, reps, ['--cell', kind]);
    for (const c of stepConfigs) {
      const p = await stepsMs('native', [1, 2], c, reps, kind);
      const tt = torchStep?.get(c.join(','));
      const best = Math.min(p.ms[0], p.ms[1]);
      const torchBest = tt ? Math.min(tt.ms['1'], tt.ms['2']) : NaN;
      stepRows.push([`${kind} (${c.join(',')})`, p.ms[0], p.ms[1], tt?.ms['1'] ?? NaN, tt?.ms['2'] ?? NaN, c[1] * c[2] / best * 1000, torchBest / best]);
      results.push({ cell: kind, step: { hidden: c[0], batch: c[1], steps: c[2], classes: c[3] }, ms: p.ms, torch: tt?.ms ?? null });
    }
  }
  native.setNumThreads(os.cpus().length);
  table('Cell forwardSequence + backwardSequence (input gradient included), ms (median; float32; torch = nn.RNN/LSTM/GRU, same work)',
    ['cell (n_c,m,T)', 'native 1t', 'native default', 'default/1t', 'torch 1t', 'torch 2t', 'torch best/native'], rows);
  table('Gated cells: training step, ms (median; float32, dense n_x = n_c, V = 65, Adam)',
    ['cell (n_c,m,T,V)', 'native 1t', 'native 2t', 'torch 1t', 'torch 2t', 'tokens/s', 'torch best/native best'], stepRows);
  report.cells = results;
}

// ---- per-call overhead -------------------------------------------------------------------------
function benchOverhead(): void {
  if (!backends.available().includes('native')) return;
  // The native backend's kernels are the addon's functions (its C++ checks are the only ones);
  // the ts backend checks in TypeScript, then runs its loops.
  const native = backends.get('native');
  const A = new Float32Array(16).fill(1), B = new Float32Array(16).fill(1), C = new Float32Array(16);
  const through = timeIt(() => native.gemm(false, false, 4, 4, 4, 1, A, 0, 4, B, 0, 4, 0, C, 0, 4), 7, 100) * 1e6;
  const ts = timeIt(() => backends.get('ts').gemm(false, false, 4, 4, 4, 1, A, 0, 4, B, 0, 4, 0, C, 0, 4), 7, 100) * 1e6;
  table('Per-call overhead of a 4x4x4 sgemm, µs per call (median)', ['path', 'µs'], [
    ['native backend (N-API call, C++ checks, kernel)', through], ['ts backend (TypeScript checks, loops)', ts]]);
  report.overhead = { nativeBackendUs: through, tsBackendUs: ts };
}

// ---- peak memory -------------------------------------------------------------------------------
function benchMemory(): void {
  if (!backends.available().includes('native')) return;
  const [nc, m, T, V] = [1024, 64, 64, 65];
  const steps = quick ? 2 : 4;
  const script = `
    const base = process.memoryUsage().rss;
    const { RNNModel, Trainer } = require(${JSON.stringify(path.join(ROOT, 'dist', 'lib'))});
    (async () => {
      const model = new RNNModel({ inputSize: ${nc}, outputSize: ${V}, hiddenSize: ${nc}, dtype: 'float32', backend: 'native', seed: 1 });
      const trainer = new Trainer(model, { optimizer: 'adam' });
      const input = { rows: ${nc}, steps: ${T}, batch: ${m}, data: new Float32Array(${nc * T * m}).fill(0.01) };
      const target = new Int32Array(${T * m});
      for (let s = 0; s < ${steps}; s++) await trainer.trainStep(input, target);
      console.log(JSON.stringify({ base, peak: process.resourceUsage().maxRSS * 1024, params: model.size }));
    })();`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  if (r.status !== 0) {
    console.error('memory bench failed:', r.stderr.slice(-2000));
    return;
  }
  const o = JSON.parse(r.stdout) as { base: number; peak: number; params: number };
  const bytes = 4;
  const P = o.params;
  // parameters + gradients + Adam's two moments + the input batch + activations: H (n_c×(T+1)m),
  // dC/dU (n_c×T·m), logits (V×T·m), targets.
  const needed = P * bytes * 4 + nc * T * m * bytes + (nc * (T + 1) * m + nc * T * m + V * T * m) * bytes + T * m * 4;
  const used = o.peak - o.base;
  table(`Peak memory, training (n_c,m,T,V) = (${nc},${m},${T},${V}), float32`, ['what', 'MiB'], [
    ['needed: params, grads, Adam state, batch, activations', needed / 2 ** 20],
    ['peak RSS of the run', o.peak / 2 ** 20],
    ["Node's own (RSS before loading the library)", o.base / 2 ** 20],
    ['peak − Node\'s own', used / 2 ** 20],
    ['ratio (peak − Node\'s own) / needed', used / needed],
  ]);
  report.memory = { neededBytes: needed, peakRssBytes: o.peak, nodeBaseRssBytes: o.base, ratio: used / needed };
}

async function main(): Promise<void> {
  report.machine = machine();
  report.date = new Date().toISOString();
  console.log(`native-rnn bench — ${JSON.stringify(report.machine)}`);
  if (want('gemm')) benchGemm();
  if (want('step')) await benchSteps();
  if (want('cell')) benchCell();
  if (want('cells')) await benchCells();
  if (want('overhead')) benchOverhead();
  if (want('memory')) benchMemory();
  const dir = path.join(ROOT, 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `bench-${String(report.date).replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, JSON.stringify(report, null, 2));
  console.log(`\nwrote ${path.relative(ROOT, file)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
