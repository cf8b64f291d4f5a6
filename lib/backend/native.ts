// The native backend: loads the addon (node-gyp's build, else cmake-js's) and forwards each
// kernel after the shared TypeScript validation. The addon checks again in C++.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkedKernel, validators, validateProgram, KERNEL_NAMES } from './validate';
import { invalidRange, invalidType } from './errors';
import { MAX_THREADS } from './limits';
import type { Backend, Kernels, Op } from './types';

/** What the compiled addon exports (the kernels plus runtime controls). */
export interface Addon extends Kernels {
  run(program: readonly Op[]): Promise<void>;
  getNumThreads(): number;
  setNumThreads(n: number): void;
  cpuInfo(): { detected: string; active: string; threads: number };
  setIsa(isa: 'generic' | 'avx2' | 'avx512'): boolean;
  napiVersion: number;
}

const PACKAGE_ROOT = path.resolve(__dirname, '..', '..', '..');

/** Where the loader looks for the addon, in order. */
export function addonCandidates(): string[] {
  const list: string[] = [];
  if (process.env.NATIVE_RNN_ADDON) list.push(path.resolve(process.env.NATIVE_RNN_ADDON));
  list.push(path.join(PACKAGE_ROOT, 'build', 'Release', 'native_rnn.node'));
  list.push(path.join(PACKAGE_ROOT, 'build-cmake', 'Release', 'native_rnn.node'));
  return list;
}

let loaded: { addon: Addon | null; error: string | null; file: string | null } | null = null;

/** Loads the addon once; returns null and records why when it is missing or broken. */
export function loadAddon(): { addon: Addon | null; error: string | null; file: string | null } {
  if (loaded) return loaded;
  if (process.env.NATIVE_RNN_DISABLE_NATIVE === '1') {
    loaded = { addon: null, error: 'the native backend is disabled by NATIVE_RNN_DISABLE_NATIVE=1', file: null };
    return loaded;
  }
  const problems: string[] = [];
  for (const file of addonCandidates()) {
    if (!fs.existsSync(file)) {
      problems.push(`${file}: not built`);
      continue;
    }
    try {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      const addon = require(file) as Addon;
      loaded = { addon, error: null, file };
      return loaded;
    } catch (e) {
      problems.push(`${file}: ${(e as Error).message}`);
    }
  }
  loaded = {
    addon: null,
    file: null,
    error: 'the native addon could not be loaded (' + problems.join('; ') + '). ' +
      'Build it with `npm run build:native` (needs a C++17 compiler, make and python3); ' +
      'until then the pure-TypeScript backend "ts" serves.',
  };
  return loaded;
}

/** Builds the native Backend around a loaded addon. */
export function createNativeBackend(addon: Addon): Backend & { addon: Addon } {
  const backend: Record<string, unknown> = {
    name: 'native',
    addon,
    async run(program: readonly Op[]): Promise<void> {
      validateProgram(program);
      return addon.run(program);
    },
    getNumThreads: () => addon.getNumThreads(),
    setNumThreads: (n: number) => {
      if (typeof n !== 'number') throw invalidType('setNumThreads', 'n', `an integer in [1, ${MAX_THREADS}]`, n);
      if (!Number.isInteger(n) || n < 1 || n > MAX_THREADS) throw invalidRange('setNumThreads', 'n', `an integer in [1, ${MAX_THREADS}]`, n);
      addon.setNumThreads(n);
    },
  };
  for (const name of KERNEL_NAMES) {
    const validate = validators[name];
    const kernel = addon[name] as (...args: unknown[]) => unknown;
    backend[name] = checkedKernel(name, validate, kernel);
  }
  return backend as unknown as Backend & { addon: Addon };
}
