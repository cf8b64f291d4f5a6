// Placeholder until the pure-TypeScript kernels land.
import type { Kernels } from '../types';

export const tsKernels = {} as Kernels;
