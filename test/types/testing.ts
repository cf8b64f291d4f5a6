// native-rnn/testing as a user's test suite types it: gradCheck's options and result, the chai
// plugin (chai.use(nativeRnnChai) adds validGradients and allClose to chai's Assertion), and the
// calls that must not compile. Type-checked only, never run (tsc -p test/types, and
// tsc -p test/types/tsconfig.node16.json, which resolves the subpath through package.json "exports").
import * as chai from 'chai';
import { GRUCell, LSTMCell, RNNModel, type Sequence } from 'native-rnn';
import {
  compareClose, gradCheck, GradCheckError, nativeRnnChai, type CloseResult, type GradCheckOptions, type GradCheckPoint,
  type GradCheckResult,
} from 'native-rnn/testing';
import { expectType, type Equal } from './expect';

chai.use(nativeRnnChai);
const { expect } = chai;

export function checks(): void {
  const model = new RNNModel({ cell: 'lstm', vocabSize: 5, hiddenSize: 4, dtype: 'float64', backend: 'ts' });
  const input = { ids: Int32Array.from([0, 1, 2, 3]), steps: 2, batch: 2 };
  const r = gradCheck(model, { input, target: Int32Array.from([1, 2, 3, 4]), atol: 1e-5, rtol: 1e-3, throwOnFailure: false });
  expectType<Equal<typeof r, GradCheckResult>>();
  expectType<Equal<typeof r.worst, GradCheckPoint | null>>();
  expectType<Equal<GradCheckPoint['index'], number | null>>();
  const fast: GradCheckOptions = { fast: true, projections: 2, seed: 1 };
  gradCheck(new GRUCell({ inputSize: 2, hiddenSize: 3, dtype: 'float64' }), fast);
  // a user loss on the logits, with its gradient or as a plain number
  gradCheck(model, { input, loss: (y: Sequence) => ({ loss: y.data[0] ?? 0, grad: new Float64Array(y.data.length) }) });
  gradCheck(model, { input, loss: (y) => Array.from(y.data).reduce((s, v) => s + v * v, 0) });
  try {
    gradCheck(new LSTMCell({ inputSize: 2, hiddenSize: 2, dtype: 'float64' }));
  } catch (e) {
    if (e instanceof GradCheckError) expectType<Equal<typeof e.result, GradCheckResult>>();
  }
  const c: CloseResult = compareClose(new Float64Array(2), [0, 0], { atol: 1e-8 });
  expectType<Equal<typeof c.passed, boolean>>();

  expect(model).to.have.validGradients({ input, target: Int32Array.from([1, 2, 3, 4]) }, { atol: 1e-5, rtol: 1e-3 });
  expect(model).to.not.have.validGradients();
  expect(new Float32Array(3)).to.be.allClose(new Float32Array(3), { rtol: 1e-6 });
  expect([1, 2]).to.be.allClose([1, 2]);
}

export function mistakes(model: RNNModel): void {
  // @ts-expect-error: eps is a number
  gradCheck(model, { eps: '1e-6' });
  // @ts-expect-error: misspelled option (atol)
  gradCheck(model, { atoll: 1e-5 });
  // @ts-expect-error: a loss returns a number or { loss, grad }
  gradCheck(model, { loss: () => 'small' });
  // @ts-expect-error: not a model or a cell
  gradCheck({ params: new Float64Array(1) });
  // @ts-expect-error: the tolerances are the assertion's options, throwOnFailure is not
  expect(model).to.have.validGradients({}, { throwOnFailure: true });
  // @ts-expect-error: allClose takes arrays
  expect(new Float64Array(1)).to.be.allClose('0');
}
