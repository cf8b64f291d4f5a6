// native-rnn: recurrent networks for Node.js with C++ kernels and a pure-TypeScript fallback.
import * as backends from './backend';

export { backends };
export type { Backend, BackendName, Kernels, Op, FloatArray, DType, Activation } from './backend/types';
export { BackendUnavailableError } from './backend/errors';
export {
  zeros, sequenceZeros, matrixFrom, allocate, type Matrix, type Sequence, type TokenSequence,
} from './tensor';
export { RNNCell, type RNNCellOptions, type RNNCellParams, type RNNCellGrads, type RNNCache } from './nn/cell';
export type { InitKind } from './nn/init';
export { Random } from './random';
export { encodeSafetensors, decodeSafetensors } from './io/safetensors';
export { CheckpointError } from './io/errors';
export { Vocabulary } from './data/vocabulary';
