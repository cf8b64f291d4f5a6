// KNOWN BUG reproducer (not part of npm test): an ArrayBuffer transferred (detached) while an
// async run() that writes it is in flight. The addon holds references to the typed arrays, which
// keeps the JS objects alive but not their memory: once the transferred clone is collected, the
// worker writes freed memory. Under ASan this reports heap-use-after-free in the gemm kernel:
//   npx tsc -p tsconfig.json && LD_PRELOAD=$(g++ -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0 \
//     NATIVE_RNN_ADDON=build-asan-addon/RelWithDebInfo/native_rnn.node node --expose-gc dist/test/fuzz/detach-during-run.js
// (build the addon with scripts/asan-smoke.sh first). A fixed addon resolves or rejects cleanly.
import * as path from 'node:path';

type Addon = { run(program: unknown[]): Promise<void> };

const file = process.env.NATIVE_RNN_ADDON;
if (!file) throw new Error('set NATIVE_RNN_ADDON to the addon to test');
const addon = require(path.resolve(file)) as Addon;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run node with --expose-gc');

const N = 300;
const A = new Float32Array(N * N).fill(1), C = new Float32Array(N * N);
const ops: unknown[] = [];
for (let i = 0; i < 20; i++) ops.push(['gemm', false, false, N, N, N, 1, A, 0, N, A, 0, N, 1, C, 0, N]);
const pending = addon.run(ops);
structuredClone(C.buffer, { transfer: [C.buffer] }); // the clone is dropped at once
for (let i = 0; i < 5; i++) {
  gc();
  void new ArrayBuffer(N * N * 4);
}
pending.then(() => console.log(`resolved; C.length is now ${C.length}`), (e: Error) => console.log(`rejected: ${e.message}`));
