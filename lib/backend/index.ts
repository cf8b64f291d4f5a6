// Backend registry: which backends exist here and how to get one. The native addon is
// preferred; when it is missing, 'auto' falls back to 'ts', and asking for 'native' says why.
import { BackendUnavailableError, invalidType } from './errors';
import { createNativeBackend, loadAddon, type Addon, type AddonInfo } from './native';
import { createTsBackend } from './ts-backend';
import type { Backend, BackendName } from './types';

let nativeBackend: (Backend & { addon: Addon }) | null = null;
let tsBackend: Backend | null = null;

function native(): (Backend & { addon: Addon }) | null {
  if (nativeBackend) return nativeBackend;
  const { addon } = loadAddon();
  if (addon) nativeBackend = createNativeBackend(addon);
  return nativeBackend;
}

/** The backends usable in this process: ['native', 'ts'], or ['ts'] without the addon. */
export function available(): BackendName[] {
  return native() ? ['native', 'ts'] : ['ts'];
}

/** Why the native backend is missing, or null when it loaded. */
export function nativeError(): string | null {
  return native() ? null : loadAddon().error;
}

/** The file the native addon was loaded from, or null. */
export function nativeFile(): string | null {
  return native() ? loadAddon().file : null;
}

/**
 * Which addon binary serves the native backend and where it came from ('prebuild' shipped in
 * the package, 'node-gyp' or 'cmake-js' built from source, or 'NATIVE_RNN_ADDON'), or null
 * without it (nativeError() says why).
 */
export function addonInfo(): AddonInfo | null {
  return native() ? loadAddon().info : null;
}

/** A backend by name; 'auto' (the default) is native when present, else ts. */
export function get(name: BackendName | 'auto' = 'auto'): Backend {
  if (name === 'auto') return native() ?? getTs();
  if (name === 'ts') return getTs();
  if (name === 'native') {
    const b = native();
    if (!b) throw new BackendUnavailableError(`backend 'native' is not available: ${loadAddon().error}`);
    return b;
  }
  throw new TypeError(`backend must be 'native', 'ts' or 'auto', got ${JSON.stringify(name)}`);
}

function getTs(): Backend {
  if (!tsBackend) tsBackend = createTsBackend();
  return tsBackend;
}

/** CPU paths of the native kernels ('generic' | 'avx2' | 'avx512'), or null without the addon. */
export function cpuInfo(): { detected: string; active: string; threads: number } | null {
  const b = native();
  return b ? b.addon.cpuInfo() : null;
}

/** Forces a native kernel path (tests and benchmarks); false when the CPU lacks it. */
export function setIsa(isa: 'generic' | 'avx2' | 'avx512'): boolean {
  const b = native();
  if (!b) throw new BackendUnavailableError(`backend 'native' is not available: ${loadAddon().error}`);
  if (isa !== 'generic' && isa !== 'avx2' && isa !== 'avx512') throw invalidType('setIsa', 'isa', "'generic', 'avx2' or 'avx512'", isa);
  return b.addon.setIsa(isa);
}

/** A backend from an option: a name, 'auto' (default), or a Backend object itself. */
export function resolve(option: BackendName | 'auto' | Backend | undefined): Backend {
  if (option === undefined || typeof option === 'string') return get(option ?? 'auto');
  if (typeof option === 'object' && option !== null && (option.name === 'native' || option.name === 'ts') &&
    typeof option.gemm === 'function') return option;
  throw new TypeError(`backend must be 'native', 'ts', 'auto' or a Backend, got ${typeof option}`);
}
