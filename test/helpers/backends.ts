// Every kernel set the tests run against: the ts backend, and the native backend once per
// CPU path this machine can run (generic, avx2, avx512), each forced for the duration of
// every call. Every kernel test loops over whatever this returns.
import { backends } from '../../lib';
import type { Kernels } from '../../lib/backend/types';

export interface KernelSet {
  name: string;
  kernels: Kernels;
}

const ISA_ORDER = ['generic', 'avx2', 'avx512'] as const;

/** The native backend with one CPU path forced around each call. */
function nativeWithIsa(isa: (typeof ISA_ORDER)[number], detected: string): Kernels {
  const native = backends.get('native');
  const wrapped: Record<string, unknown> = {};
  for (const name of Object.keys(native) as Array<keyof Kernels>) {
    const f = native[name];
    if (typeof f !== 'function') continue;
    wrapped[name] = (...args: unknown[]) => {
      backends.setIsa(isa);
      try {
        return (f as (...a: unknown[]) => unknown)(...args);
      } finally {
        backends.setIsa(detected as (typeof ISA_ORDER)[number]);
      }
    };
  }
  return wrapped as unknown as Kernels;
}

export function kernelSets(): KernelSet[] {
  const sets: KernelSet[] = [{ name: 'ts', kernels: backends.get('ts') }];
  if (backends.available().includes('native')) {
    const detected = backends.cpuInfo()?.detected ?? 'generic';
    const supported = ISA_ORDER.slice(0, ISA_ORDER.indexOf(detected as (typeof ISA_ORDER)[number]) + 1);
    for (const isa of supported) sets.push({ name: `native/${isa}`, kernels: nativeWithIsa(isa, detected) });
  }
  return sets;
}
