// What a TypeScript user writes against the shipped declarations: this file must compile
// (tsc -p test/types, run by npm test). It is type-checked only, never run. Its twin,
// errors.ts, holds the calls that must not compile.
import {
  backends, BackendUnavailableError, CheckpointError, RNNCell, RNNModel, Trainer, TrainingDivergedError, Vocabulary,
  createSchedule, decodeSafetensors, encodeSafetensors, loadCheckpoint, matrixFrom, saveCheckpoint, sequenceZeros, zeros,
  type AddonInfo, type AddonSource, type Backend, type BackendName, type EvalResult, type FitResult, type LoadedCheckpoint,
  type Matrix, type RNNModelConfig, type Sequence, type StepInfo, type TrainerSnapshot,
} from 'native-rnn';
import { expectType, type Equal } from './expect';

// The README's library example, typed.
export async function readmeExample(): Promise<void> {
  const text = 'hello world\nhello there\nhow are you\n'.repeat(50);
  const vocab = Vocabulary.fromText(text);
  const tokens = vocab.encode(text);
  expectType<Equal<typeof tokens, Int32Array>>();

  const model = new RNNModel({ vocabSize: vocab.size, hiddenSize: 64, numLayers: 1, seed: 1 });
  const trainer = new Trainer(model, { optimizer: 'adam', lr: 3e-3, clipNorm: 5 });
  const result = await trainer.fit(tokens, {
    steps: 150, batchSize: 8, seqLength: 16,
    onStep: (s) => {
      expectType<Equal<typeof s, StepInfo>>();
      if (s.step % 50 === 0) console.log(`step ${s.step} loss ${s.loss.toFixed(3)}`);
    },
  });
  expectType<Equal<typeof result, FitResult>>();
  expectType<Equal<typeof result.validation, EvalResult | null>>();
  expectType<Equal<typeof model.backend.name, BackendName>>();

  const ids = model.sample({ length: 40, temperature: 0.5, prime: vocab.encode('h'), seed: 7 });
  expectType<Equal<typeof ids, Int32Array>>();
  console.log('h' + vocab.decode(ids));

  const snapshot = trainer.snapshot();
  expectType<Equal<typeof snapshot, TrainerSnapshot>>();
  await saveCheckpoint('model.safetensors', { model, vocabulary: vocab, trainer: snapshot });
  const loaded = await loadCheckpoint('model.safetensors', { backend: 'ts' });
  expectType<Equal<typeof loaded, LoadedCheckpoint>>();
  expectType<Equal<typeof loaded.config, RNNModelConfig>>();
  const { model: again, vocabulary: v } = loaded;
  if (v === null) throw new Error('no vocabulary');
  const more = again.sample({ length: 20, temperature: 0.5, prime: v.encode('\n'), seed: 2, stopAt: v.idOf('\n') });
  console.log('reloaded:', v.decode(more).trim());
}

// Training with a schedule, validation, an AbortSignal and async callbacks; errors by class.
export async function trainingOptions(model: RNNModel, tokens: Int32Array): Promise<number> {
  const controller = new AbortController();
  const trainer = new Trainer(model, {
    optimizer: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-4, clipValue: 1,
    schedule: { kind: 'cosine', totalSteps: 100, warmup: 10 },
  });
  const adamw = new Trainer(model, { optimizer: 'adamw', betas: [0.9, 0.99], schedule: createSchedule({ kind: 'step', stepSize: 10 }) });
  expectType<Equal<typeof adamw.lr, number>>();
  try {
    const r = await trainer.fit(tokens, {
      epochs: 2, batchSize: 4, seqLength: 8, stateful: true, validation: tokens, evalEvery: 10,
      signal: controller.signal,
      onEvaluate: async (e) => { expectType<Equal<typeof e.bpc, number>>(); },
      onEpoch: (e) => { if (e.epoch > 0) controller.abort(); },
    });
    return r.loss;
  } catch (e) {
    if (e instanceof TrainingDivergedError) return e.step;
    if (e instanceof CheckpointError) return e.code.length;
    throw e;
  }
}

// Backends: choosing, and what the package reports about its addon.
export function backendReport(): string {
  const names: BackendName[] = backends.available();
  const chosen: Backend = backends.get(names.includes('native') ? 'native' : 'auto');
  const info: AddonInfo | null = backends.addonInfo();
  if (info !== null) {
    expectType<Equal<typeof info.source, AddonSource>>();
    expectType<Equal<AddonSource, 'NATIVE_RNN_ADDON' | 'node-gyp' | 'cmake-js' | 'prebuild'>>();
    return `${chosen.name} from ${info.source} (${info.file}, ${info.target}, N-API ${info.napiVersion})`;
  }
  const why: string | null = backends.nativeError();
  const cpu = backends.cpuInfo();
  expectType<Equal<typeof cpu, { detected: string; active: string; threads: number } | null>>();
  try {
    backends.get('native');
  } catch (e) {
    if (e instanceof BackendUnavailableError) return e.message;
  }
  return why ?? 'native';
}

// The seed's cell on its own, and the kernels called directly.
export function cellAndKernels(): Matrix {
  const cell = new RNNCell({ inputSize: 3, hiddenSize: 4, activation: 'tanh', dtype: 'float64', backend: 'ts', seed: 1 });
  const x = matrixFrom(3, 2, [1, 2, 3, 4, 5, 6], 'float64');
  const { c, cache } = cell.forward(x);
  const grads = cell.backward(zeros(4, 2, 'float64'), cache);
  expectType<Equal<typeof grads.dx, Matrix | null>>();
  const X: Sequence = sequenceZeros(3, 5, 2, 'float64');
  const { C } = cell.forwardSequence(X);
  expectType<Equal<typeof C, Sequence>>();
  const backend = backends.get('ts');
  backend.gemm(false, false, 4, 2, 3, 1, cell.params.Wx.data, 0, 3, x.data, 0, 2, 0, c.data, 0, 2);
  void backend.run([['scale', c.data.length, 0.5, c.data, 0]]);
  return grads.dcPrev;
}

// safetensors round trip.
export function safetensors(): number {
  const bytes = encodeSafetensors({ w: { dtype: 'F32', shape: [2, 2], data: new Float32Array(4) } }, { note: 'x' });
  const decoded = decodeSafetensors(bytes, { maxHeaderBytes: 1 << 20 });
  const w = decoded.tensors.get('w');
  return (w?.shape[0] ?? 0) + Object.keys(decoded.metadata).length;
}
