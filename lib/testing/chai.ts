// A chai plugin: `chai.use(nativeRnnChai)`, then
//   expect(model).to.have.validGradients(batch, { atol, rtol })   // gradCheck as an assertion
//   expect(actual).to.be.allClose(expected, { atol, rtol })        // typed arrays, worst index named
// chai is not a dependency of this package: the plugin works on the chai object chai.use passes
// it, and the declarations below describe only the parts it touches.
import type { RNNCell } from '../nn/cell';
import type { GRUCell, LSTMCell } from '../nn/gated-cell';
import type { RNNModel } from '../nn/model';
import { compareClose, type CloseOptions, type NumericArray } from './close';
import { gradCheck, type GradCheckOptions } from './gradcheck';

/** A batch for validGradients: a model's { input, target } (or { input, loss }), a cell's { input, state?, loss? }. */
export type GradientBatch = Pick<GradCheckOptions, 'input' | 'target' | 'state' | 'loss'>;
/** The tolerances and modes of gradCheck (throwOnFailure is the assertion's). */
export type ValidGradientsOptions = Omit<GradCheckOptions, 'input' | 'target' | 'state' | 'loss' | 'throwOnFailure'>;

/** The parts of chai the plugin uses (chai 4 and 5 both have them). */
export interface ChaiLike {
  Assertion: {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    addMethod(name: string, method: (this: any, ...args: any[]) => void): void;
  };
}
export interface ChaiAssertionLike {
  assert(expression: boolean, message: string, negatedMessage: string, expected?: unknown, actual?: unknown, showDiff?: boolean): void;
}
export interface ChaiUtilsLike {
  flag(object: object, key: string): unknown;
}

declare global {
  // Augments chai's own declarations when @types/chai (or chai 5's) is present; harmless otherwise.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Chai {
    interface Assertion {
      /** gradCheck(subject, { ...batch, ...options }) as an assertion; the message is its report. */
      validGradients(batch?: GradientBatch, options?: ValidGradientsOptions): Assertion;
      /** Element-wise |a − e| ≤ atol + rtol·|e| (defaults atol 1e-8, rtol 1e-5); the message names the worst index. */
      allClose(expected: NumericArray, options?: CloseOptions): Assertion;
    }
  }
}

type Subject = RNNModel | RNNCell | LSTMCell | GRUCell;

/** The plugin: pass it to chai.use. */
export function nativeRnnChai(chai: ChaiLike, utils: ChaiUtilsLike): void {
  chai.Assertion.addMethod('validGradients', function (this: ChaiAssertionLike, batch?: GradientBatch, options?: ValidGradientsOptions) {
    const subject = utils.flag(this, 'object') as Subject;
    const r = gradCheck(subject, { ...(batch ?? {}), ...(options ?? {}), throwOnFailure: false });
    this.assert(r.passed, `expected valid gradients, but ${r.report}`, `expected invalid gradients, but ${r.report}`);
  });
  chai.Assertion.addMethod('allClose', function (this: ChaiAssertionLike, expected: NumericArray, options?: CloseOptions) {
    const actual = utils.flag(this, 'object') as NumericArray;
    const r = compareClose(actual, expected, options, 'allClose');
    this.assert(r.passed, `expected arrays to be close: ${r.report}`, `expected arrays not to be close: ${r.report}`);
  });
}
