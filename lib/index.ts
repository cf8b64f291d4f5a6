// native-rnn: recurrent networks for Node.js with C++ kernels and a pure-TypeScript fallback.
import * as backends from './backend';

export { backends };
export type { Backend, BackendName, Kernels, Op, FloatArray, DType, Activation } from './backend/types';
export { BackendUnavailableError } from './backend/errors';
export type { AddonInfo, AddonSource } from './backend/native';
export {
  zeros, sequenceZeros, matrixFrom, allocate, type Matrix, type Sequence, type TokenSequence,
} from './tensor';
export { RNNCell, type RNNCellOptions, type RNNCellParams, type RNNCellGrads, type RNNCache } from './nn/cell';
export type { InitKind } from './nn/init';
export { Random } from './random';
export { encodeSafetensors, decodeSafetensors } from './io/safetensors';
export { CheckpointError } from './io/errors';
export { Vocabulary } from './data/vocabulary';
export {
  RNNModel, type RNNModelOptions, type RNNModelConfig, type ParamEntry, type LossKind, type ModelInput, type ModelTarget,
  type ForwardResult, type ModelState, type LayerState, type SampleOptions, type Workspace, type LayerWorkspace,
  type LossOptions,
} from './nn/model';
export { registerCell, cellNames, findCell } from './nn/cells/registry';
export { directTorchMapping, layerName } from './nn/cells/torch';
export { rnnCell } from './nn/cells/rnn';
export { lstmCell, gruCell } from './nn/cells/gated';
export {
  LSTMCell, GRUCell, type GatedCellOptions, type GatedCellParams, type GatedCellGrads, type GatedCache, type CellState,
} from './nn/gated-cell';
export type {
  CellKind, CellParam, CellTorchMapping, LayerContext, LayerParams, LayerSizes, BufferView, TorchTensorSpec,
} from './nn/cells/types';
export { Optimizer, createOptimizer, type OptimizerName, type OptimizerOptions } from './train/optimizer';
export { createSchedule, type Schedule, type ScheduleSpec } from './train/schedule';
export {
  Trainer, TokenStreams, TrainingDivergedError, type TrainerOptions, type FitOptions, type FitResult, type StepInfo,
  type EvalResult, type EvaluateOptions, type Batch, type TrainingData, type TrainerSnapshot,
} from './train/trainer';
export {
  saveCheckpoint, loadCheckpoint, encodeCheckpoint, decodeCheckpoint, CHECKPOINT_FORMAT,
  type CheckpointContents, type LoadedCheckpoint, type LoadCheckpointOptions, type JsonValue,
} from './io/checkpoint';
