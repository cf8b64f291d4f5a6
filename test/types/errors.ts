// Calls that must NOT compile against the shipped declarations. Each line below its
// `@ts-expect-error` is an error today; if a change to the types lets one compile, the
// directive is unused and tsc fails (npm test runs `tsc -p test/types`). One mistake a
// line, so each directive covers exactly one.
import {
  backends, RNNCell, RNNModel, Trainer, Vocabulary, createSchedule, encodeSafetensors, loadCheckpoint, matrixFrom,
  type AddonInfo, type Backend,
} from 'native-rnn';

export async function mistakes(model: RNNModel, tokens: Int32Array, backend: Backend): Promise<void> {
  // @ts-expect-error: no such backend
  backends.get('gpu');
  // @ts-expect-error: no such CPU path
  backends.setIsa('sse4');
  // @ts-expect-error: a report may be null without the addon
  const file: string = backends.addonInfo().file;
  // @ts-expect-error: the source is one of four names
  const source: AddonInfo['source'] = 'download';
  // @ts-expect-error: backend names are not free strings
  backends.resolve('cuda');

  // @ts-expect-error: hiddenSize is required
  new RNNModel({ vocabSize: 10 });
  // @ts-expect-error: hiddenSize is a number
  new RNNModel({ vocabSize: 10, hiddenSize: '64' });
  // @ts-expect-error: misspelled option (hiddenSize)
  new RNNModel({ vocabSize: 10, hiddenSize: 8, hidenSize: 8 });
  // @ts-expect-error: no lstm activation for the tanh RNN
  new RNNModel({ vocabSize: 10, hiddenSize: 8, activation: 'lstm' });
  // @ts-expect-error: dtype is float32 or float64
  new RNNModel({ vocabSize: 10, hiddenSize: 8, dtype: 'float16' });
  // @ts-expect-error: inputSize is required for a cell
  new RNNCell({ hiddenSize: 4 });

  // @ts-expect-error: unknown optimizer
  new Trainer(model, { optimizer: 'adamx' });
  // @ts-expect-error: betas is a pair
  new Trainer(model, { optimizer: 'adam', betas: [0.9] });
  // @ts-expect-error: a schedule kind needs its own fields (cosine: totalSteps)
  createSchedule({ kind: 'cosine' });
  const trainer = new Trainer(model);
  // @ts-expect-error: fit takes token ids or batches, not text
  await trainer.fit('hello');
  // @ts-expect-error: steps is a number
  await trainer.fit(tokens, { steps: '10' });
  // @ts-expect-error: fit returns a Promise: the result needs await
  const loss: number = trainer.fit(tokens).loss;

  // @ts-expect-error: sample needs a length
  model.sample({ temperature: 0.5 });
  // @ts-expect-error: the model's parameters are read-only
  model.params = new Float32Array(1);

  // @ts-expect-error: encode takes text
  new Vocabulary(['a']).encode(42);
  // @ts-expect-error: matrixFrom takes numbers
  matrixFrom(1, 2, ['1', '2']);
  // @ts-expect-error: loadCheckpoint reads a path
  await loadCheckpoint(new Uint8Array(8));
  // @ts-expect-error: a tensor needs a shape
  encodeSafetensors({ w: { dtype: 'F32', data: new Float32Array(1) } });

  // @ts-expect-error: gemm takes 16 arguments
  backend.gemm(false, false, 1, 1, 1, 1, new Float32Array(1), 0, 1, new Float32Array(1), 0, 1, 0, new Float32Array(1), 0);
  // @ts-expect-error: an op names a kernel and its exact arguments
  await backend.run([['scale', 1, 0.5]]);
  // @ts-expect-error: a backend's name cannot be changed
  backend.name = 'ts';

  void file; void source; void loss;
}
