// The pure-TypeScript backend: the shared validation in front of the ts kernels.
import { checkedKernel, validators, validateProgram, KERNEL_NAMES } from './validate';
import { tsKernels } from './ts';
import { invalidRange, invalidType } from './errors';
import { MAX_THREADS } from './limits';
import type { Backend, Kernels, Op } from './types';

function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export function createTsBackend(): Backend {
  const backend: Record<string, unknown> = {
    name: 'ts',
    async run(program: readonly Op[]): Promise<void> {
      // The ops as they are now: the caller may change the list or its op arrays once run()
      // returns (as the native backend allows), and what runs must be what was validated.
      // Checked first (it stops at the first bad op, so a huge sparse list costs nothing),
      // then copied in the same tick: nothing can change in between.
      validateProgram(program);
      const ops = program.map((op) => op.slice() as unknown as Op);
      // Let timers and I/O run before this step's work; the kernels then run on this thread.
      await yieldToLoop();
      for (const op of ops) {
        (tsKernels[op[0] as keyof Kernels] as (...args: unknown[]) => unknown)(...op.slice(1));
      }
    },
    getNumThreads: () => 1,
    setNumThreads: (n: number) => {
      if (typeof n !== 'number') throw invalidType('setNumThreads', 'n', `an integer in [1, ${MAX_THREADS}]`, n);
      if (!Number.isInteger(n) || n < 1 || n > MAX_THREADS) throw invalidRange('setNumThreads', 'n', `an integer in [1, ${MAX_THREADS}]`, n);
    },
  };
  for (const name of KERNEL_NAMES) {
    const validate = validators[name];
    const kernel = tsKernels[name] as (...args: unknown[]) => unknown;
    backend[name] = checkedKernel(name, validate, kernel);
  }
  return backend as unknown as Backend;
}
