// Argument checks for every kernel, run before either backend. They are not written here: each
// kernel's contract is declared once in native/kernels.json, and decl/check.ts turns each
// declaration into its checks (native/addon/checker.cc runs the same table in C++).
import { describe } from './errors';
import { makeValidator, type Validator } from './decl/check';
import { DECLS } from './decl/table';
import type { Kernels, Op } from './types';

type KernelName = keyof Kernels;

/** Every kernel, in the order of the declarations. */
export const KERNEL_NAMES: readonly KernelName[] = DECLS.map((d) => d.name as KernelName);

/** One validator per kernel, taking the kernel's argument list (an array or `arguments`). */
export const validators: { readonly [K in KernelName]: Validator } = Object.fromEntries(
  DECLS.map((d) => [d.name, makeValidator(d)]),
) as { [K in KernelName]: Validator };

/** How many arguments each kernel takes. */
export const ARG_COUNTS: { readonly [K in KernelName]: number } = Object.fromEntries(
  DECLS.map((d) => [d.name, d.args.length]),
) as { [K in KernelName]: number };

/**
 * `validate` then `kernel`. Plain code: `arguments` goes to the validator as it is and on to the
 * kernel by apply, which V8 passes through without building an array (no rest parameters).
 */
export function checkedKernel(name: KernelName, validate: Validator, kernel: (...a: unknown[]) => unknown): (...a: unknown[]) => unknown {
  const checked = function (this: unknown): unknown {
    // eslint-disable-next-line prefer-rest-params
    validate(arguments);
    // eslint-disable-next-line prefer-rest-params
    return kernel.apply(undefined, arguments as unknown as unknown[]);
  };
  Object.defineProperty(checked, 'name', { value: name });
  return checked;
}

/** Checks every op of a recorded program, so nothing runs unless all of it is valid. */
export function validateProgram(program: unknown): asserts program is readonly Op[] {
  if (!Array.isArray(program)) throw new TypeError('run: program must be an Array of [name, ...args] ops');
  for (let k = 0; k < program.length; k++) {
    const op: unknown = program[k];
    // Worded as the addon's run() words them (the native backend hands programs straight to it).
    if (!Array.isArray(op)) throw new TypeError(`run: program[${k}] must be an Array [name, ...args], got ${describe(op)}`);
    if (typeof op[0] !== 'string') throw new TypeError(`run: program[${k}][0] must be a kernel name, got ${describe(op[0])}`);
    if (!Object.prototype.hasOwnProperty.call(validators, op[0])) {
      throw new TypeError(`run: program[${k}] names an unknown kernel, got ${describe(op[0])}`);
    }
    const name = op[0] as KernelName;
    // Count before copying: an op of length 2^32 - 1 would otherwise be spread element by element.
    if (op.length - 1 !== ARG_COUNTS[name]) throw new TypeError(`${name}: expected ${ARG_COUNTS[name]} arguments, got ${op.length - 1}`);
    validators[name](op.slice(1));
  }
}
