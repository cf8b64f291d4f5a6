// The TF.js (wasm backend) peer of the training-step benchmark: the same tanh RNN written
// with tfjs-core ops (dense inputs of width n_c, a linear head, mean cross-entropy over all
// steps, Adam). Run in its own process by bench.ts; prints one JSON line per configuration.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

async function bench(nc: number, m: number, T: number, V: number, reps: number): Promise<number> {
  const k = 1 / Math.sqrt(nc);
  const Wx = tf.variable(tf.randomUniform([nc, nc], -k, k));
  const Wc = tf.variable(tf.randomUniform([nc, nc], -k, k));
  const b = tf.variable(tf.zeros([nc]));
  const Wy = tf.variable(tf.randomUniform([nc, V], -k, k));
  const by = tf.variable(tf.zeros([V]));
  const xs = tf.randomNormal([T, m, nc]);
  const labels = tf.oneHot(tf.randomUniform([T * m], 0, V, 'int32'), V);
  const opt = tf.train.adam(1e-3);
  const step = () => {
    const cost = opt.minimize(() => {
      let h = tf.zeros([m, nc]) as tf.Tensor2D;
      const outs: tf.Tensor2D[] = [];
      const steps = tf.unstack(xs) as tf.Tensor2D[];
      for (let t = 0; t < T; t++) {
        h = tf.tanh(tf.add(tf.add(tf.matMul(steps[t], Wx), tf.matMul(h, Wc)), b)) as tf.Tensor2D;
        outs.push(h);
      }
      const logits = tf.add(tf.matMul(tf.concat(outs, 0), Wy), by);
      return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
    }, true);
    return cost;
  };
  for (let w = 0; w < 2; w++) await step()?.data();
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    const cost = step();
    await cost?.data();
    cost?.dispose();
    times.push(performance.now() - t0);
  }
  tf.dispose([Wx, Wc, b, Wy, by, xs, labels]);
  times.sort((a, c) => a - c);
  return times[Math.floor(times.length / 2)];
}

async function main(): Promise<void> {
  await tf.setBackend('wasm');
  await tf.ready();
  const reps = Number(process.env.BENCH_REPS ?? 3);
  for (const spec of process.argv.slice(2)) {
    const [nc, m, T, V] = spec.split(',').map(Number);
    const ms = await bench(nc, m, T, V, reps);
    console.log(JSON.stringify({ config: [nc, m, T, V], ms, backend: tf.getBackend(), version: tf.version_core }));
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
