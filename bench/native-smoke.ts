// Valid calls of every native kernel (sync on the raw addon and through the native backend, then
// all of them as one async program), for the sanitizer smoke run (scripts/asan-smoke.sh): the
// fuzz mostly exercises rejections, this makes sure each kernel's real work runs under ASan.
import * as path from 'node:path';
import { backends } from '../lib';
import type { Kernels } from '../lib/backend/types';
import { FUZZ_KERNELS, validArgs } from '../test/fuzz/native-fuzz';

type Fn = (...a: unknown[]) => unknown;

async function main(): Promise<void> {
  const file = backends.nativeFile();
  if (!file) throw new Error(`native-smoke: the native addon did not load: ${backends.nativeError()}`);
  const raw = require(path.resolve(file)) as Record<string, Fn>;
  const native = backends.get('native') as unknown as Record<string, Fn>;
  let calls = 0;
  const program: unknown[][] = [];
  for (const name of FUZZ_KERNELS) {
    for (let seed = 1; seed <= 12; seed++) {
      for (const dtype of ['float32', 'float64'] as const) {
        raw[name](...validArgs(name as keyof Kernels, seed, dtype));
        native[name](...validArgs(name as keyof Kernels, seed, dtype));
        program.push([name, ...validArgs(name as keyof Kernels, seed + 100, dtype)]);
        calls += 2;
      }
    }
  }
  await (raw.run(program) as Promise<void>);
  await (native.run(program) as Promise<void>);
  for (const n of [1, 2]) {
    raw.setNumThreads(n);
    await (raw.run(program) as Promise<void>);
  }
  const info = raw.cpuInfo() as { detected: string };
  for (const isa of ['generic', 'avx2', 'avx512', info.detected]) raw.setIsa(isa);
  console.log(`native-smoke: ${calls} valid sync calls of ${FUZZ_KERNELS.length} kernels and 4 programs of ${program.length} ops ran (${file})`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
