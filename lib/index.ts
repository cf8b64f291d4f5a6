// native-rnn: recurrent networks for Node.js with C++ kernels and a pure-TypeScript fallback.
import * as backends from './backend';

export { backends };
export type { Backend, BackendName, Kernels, Op, FloatArray, DType, Activation } from './backend/types';
export { BackendUnavailableError } from './backend/errors';
