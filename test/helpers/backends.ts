// Every kernel set the tests run against. The ts backend always; the integrator adds the
// native one (and any other) here, and every kernel test loops over whatever this returns.
import type { Kernels } from '../../lib/backend/types';
import { tsKernels } from '../../lib/backend/ts';

export interface KernelSet {
  name: string;
  kernels: Kernels;
}

export function kernelSets(): KernelSet[] {
  return [{ name: 'ts', kernels: tsKernels }];
}
