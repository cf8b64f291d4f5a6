// The backend interface: one method per kernel, with BLAS-style flat arguments
// (typed array + element offset + leading dimension), identical for the native addon and
// the pure-TypeScript backend. Layers above build on this and never know which backend runs.
//
// Conventions (the same as native/kernels/kernels.h):
// - row-major views (data, offset, rows, cols, ld) with ld >= cols;
// - the dtype is the typed array's: every float array of one call is Float32Array, or every
//   one is Float64Array;
// - gradient outputs accumulate (+=); scalar results (loss, sum of squares) are added into a
//   Float64Array slot and also returned, so a recorded program can carry them.

export type FloatArray = Float32Array | Float64Array;
export type DType = 'float32' | 'float64';
export type Activation = 'tanh' | 'relu' | 'sigmoid';
export type BackendName = 'native' | 'ts';

// The kernels themselves: one method each, declared in native/kernels.json and generated into
// kernels.generated.ts (so the signatures, the checks of both sides and the fuzzer agree).
import type { Kernels } from './kernels.generated';
export type { Kernels };

export type KernelName = keyof Kernels;

/** One recorded kernel call: its name and exactly the arguments the method takes. */
export type Op = { [K in KernelName]: [K, ...Parameters<Kernels[K]>] }[KernelName];

export interface Backend extends Kernels {
  readonly name: BackendName;
  /**
   * Runs a recorded list of kernel calls in order. The native backend validates every call
   * first, then runs them all off the main thread (one N-API crossing, the typed arrays held
   * alive until the Promise settles); the ts backend runs them after yielding to the loop.
   */
  run(program: readonly Op[]): Promise<void>;
  /** Threads the kernels use (always 1 on the ts backend). */
  getNumThreads(): number;
  setNumThreads(n: number): void;
}
