// The native backend: loads the addon (a build from source, else the prebuilt one) and
// forwards each kernel to it: the addon checks every argument in C++ (the same declarations and
// messages as the TypeScript checks of the ts backend).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KERNEL_NAMES } from './validate';
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

/** Where a loaded addon came from: which build made the file the loader found. */
export type AddonSource =
  | 'NATIVE_RNN_ADDON' // the file that environment variable names
  | 'node-gyp' //         built from source at install (or `npm run build:native`): build/Release
  | 'cmake-js' //         built from source with `npm run build:cmake`: build-cmake/Release
  | 'prebuild'; //        shipped in the package: prebuilds/<platform>-<arch>/

/** Which addon binary serves the native backend. */
export interface AddonInfo {
  /** The absolute path of the loaded `.node` file. */
  file: string;
  source: AddonSource;
  /** This process's platform, CPU architecture and (Linux) C library: 'linux-x64-glibc'. */
  target: string;
  /** The Node-API version the addon was built for (one binary serves every Node >= 20.17). */
  napiVersion: number;
}

interface PrebuildPath {
  target(): string;
  prebuildFile(root: string): string;
}
// Plain JavaScript shared with the install script, which runs before the TypeScript is built.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const prebuildPath = require(path.join(PACKAGE_ROOT, 'scripts', 'prebuild-path.js')) as PrebuildPath;

/**
 * Where the loader looks for the addon, in order: a build from source before the prebuilt
 * file, since one only exists when the prebuild did not fit or a build was asked for.
 */
export function addonCandidates(): { file: string; source: AddonSource }[] {
  const list: { file: string; source: AddonSource }[] = [];
  if (process.env.NATIVE_RNN_ADDON) list.push({ file: path.resolve(process.env.NATIVE_RNN_ADDON), source: 'NATIVE_RNN_ADDON' });
  list.push({ file: path.join(PACKAGE_ROOT, 'build', 'Release', 'native_rnn.node'), source: 'node-gyp' });
  list.push({ file: path.join(PACKAGE_ROOT, 'build-cmake', 'Release', 'native_rnn.node'), source: 'cmake-js' });
  list.push({ file: prebuildPath.prebuildFile(PACKAGE_ROOT), source: 'prebuild' });
  return list;
}

export interface LoadedAddon {
  addon: Addon | null;
  error: string | null;
  file: string | null;
  info: AddonInfo | null;
}

let loaded: LoadedAddon | null = null;

/** Loads the addon once; returns null and records why when it is missing or broken. */
export function loadAddon(): LoadedAddon {
  if (loaded) return loaded;
  if (process.env.NATIVE_RNN_DISABLE_NATIVE === '1') {
    loaded = { addon: null, error: 'the native backend is disabled by NATIVE_RNN_DISABLE_NATIVE=1', file: null, info: null };
    return loaded;
  }
  const problems: string[] = [];
  for (const { file, source } of addonCandidates()) {
    if (!fs.existsSync(file)) {
      problems.push(source === 'prebuild' ? `${file}: no prebuilt addon for ${prebuildPath.target()} in this package` : `${file}: not built`);
      continue;
    }
    try {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      const addon = require(file) as Addon;
      const info: AddonInfo = { file, source, target: prebuildPath.target(), napiVersion: addon.napiVersion };
      loaded = { addon, error: null, file, info };
      return loaded;
    } catch (e) {
      const message = (e as Error).message;
      problems.push(message.includes(file) ? message : `${file}: ${message}`);
    }
  }
  loaded = {
    addon: null,
    file: null,
    info: null,
    error: 'the native addon could not be loaded (' + problems.join('; ') + '). ' +
      'Build it from source with `NATIVE_RNN_BUILD_FROM_SOURCE=1 npm rebuild native-rnn` ' +
      '(`npm run build:native` in a checkout; needs a C++17 compiler, make and python3); ' +
      'until then the pure-TypeScript backend "ts" serves.',
  };
  return loaded;
}

/** Builds the native Backend around a loaded addon. */
export function createNativeBackend(addon: Addon): Backend & { addon: Addon } {
  const backend: Record<string, unknown> = {
    name: 'native',
    addon,
    // The addon checks every op before it runs any (the same checks and messages as
    // validateProgram, which the ts backend runs): no TypeScript pass over the program first.
    async run(program: readonly Op[]): Promise<void> {
      return addon.run(program);
    },
    getNumThreads: () => addon.getNumThreads(),
    setNumThreads: (n: number) => {
      if (typeof n !== 'number') throw invalidType('setNumThreads', 'n', `an integer in [1, ${MAX_THREADS}]`, n);
      if (!Number.isInteger(n) || n < 1 || n > MAX_THREADS) throw invalidRange('setNumThreads', 'n', `an integer in [1, ${MAX_THREADS}]`, n);
      addon.setNumThreads(n);
    },
  };
  // The kernels are the addon's own functions: its C++ checks read the same declarations as
  // the TypeScript ones and throw the same errors word for word (test/07 compares them on
  // thousands of random calls), so checking in TypeScript first would only add its cost —
  // it doubled a tiny call's (0.69 against 0.35 µs for a 4x4x4 sgemm).
  for (const name of KERNEL_NAMES) backend[name] = addon[name];
  return backend as unknown as Backend & { addon: Addon };
}
