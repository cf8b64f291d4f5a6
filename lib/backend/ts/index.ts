// The pure-TypeScript backend: plain loops, one concept a file; the fallback where no
// compiler exists and the baseline the benchmarks compare the native addon against.
import type { Kernels } from '../types';
import { activationBackward, activationForward } from './activation';
import {
  addBias, axpy, clipByValue, copy, copyMatrix, dropoutMask, fill, mulInPlace, rowSum, scale, sumSquares,
} from './elementwise';
import { gatherColumns, scatterAddColumns } from './gather';
import { gemm } from './gemm';
import { adagradUpdate, adamUpdate, rmspropUpdate, sgdUpdate } from './optim';
import { gruBackward, gruForward } from './gru';
import { lstmBackward, lstmForward } from './lstm';
import { rnnBackward, rnnForward } from './rnn';
import { softmaxCrossEntropy } from './softmax';

export const tsKernels: Kernels = {
  gemm,
  activationForward,
  activationBackward,
  addBias,
  rowSum,
  axpy,
  scale,
  mulInPlace,
  dropoutMask,
  fill,
  copy,
  copyMatrix,
  sumSquares,
  clipByValue,
  softmaxCrossEntropy,
  gatherColumns,
  scatterAddColumns,
  rnnForward,
  rnnBackward,
  lstmForward,
  lstmBackward,
  gruForward,
  gruBackward,
  sgdUpdate,
  adamUpdate,
  adagradUpdate,
  rmspropUpdate,
};
