// Softmax + cross-entropy over the columns of logits (V, N), loss and gradient in one call:
//   p = softmax(z_j) = exp(z_j − max z_j) / Σ exp(z_j − max z_j)
//   loss_j = −log p[y_j] = log Σ exp(z_j − max) − (z_j[y_j] − max)
//   dz_j = scale·(p − onehot(y_j));  y_j = −1: no loss, dz_j = 0.
// Columns are strided in memory, so the passes go row by row over all N columns at once,
// with per-column running max and sums kept in scratch (grown, never shrunk).
import type { FloatArray } from '../types';

let colMax = new Float64Array(0);
let colSum = new Float64Array(0);
let colTarget = new Float64Array(0);

function ensureScratch(N: number): void {
  if (colMax.length < N) {
    colMax = new Float64Array(N);
    colSum = new Float64Array(N);
    colTarget = new Float64Array(N);
  }
}

export function softmaxCrossEntropy(V: number, N: number, logits: FloatArray, offL: number,
  ldl: number, targets: Int32Array, offT: number, scale: number,
  dLogits: FloatArray, offD: number, ldd: number, loss: Float64Array, offLoss: number): number {
  if (V <= 0 || N <= 0) return 0;
  ensureScratch(N);
  const mx = colMax, sum = colSum, zt = colTarget;
  // Pass 1: max_j over each column (row by row, unit stride along j).
  for (let j = 0; j < N; j++) mx[j] = -Infinity;
  for (let i = 0; i < V; i++) {
    const r = offL + i * ldl;
    for (let j = 0; j < N; j++) {
      const z = logits[r + j];
      if (z > mx[j]) mx[j] = z;
    }
  }
  // z_j[y_j] − max_j, read now: in place, pass 2 overwrites the logits.
  for (let j = 0; j < N; j++) {
    sum[j] = 0;
    const y = targets[offT + j];
    zt[j] = y >= 0 ? logits[offL + y * ldl + j] - mx[j] : 0;
  }
  // Pass 2: e = exp(z − max) into dLogits, Σ e per column.
  for (let i = 0; i < V; i++) {
    const r = offL + i * ldl;
    const d = offD + i * ldd;
    for (let j = 0; j < N; j++) {
      const e = Math.exp(logits[r + j] - mx[j]);
      sum[j] += e;
      dLogits[d + j] = e;
    }
  }
  // loss_j = log Σ e − (z[y] − max); keep scale/Σ e per column for pass 3 (0 when ignored).
  let total = 0;
  for (let j = 0; j < N; j++) {
    if (targets[offT + j] < 0) {
      sum[j] = 0;
      continue;
    }
    total += Math.log(sum[j]) - zt[j];
    sum[j] = scale / sum[j];
  }
  // Pass 3: dz = scale·e/Σe − scale·[i = y].
  for (let i = 0; i < V; i++) {
    const d = offD + i * ldd;
    for (let j = 0; j < N; j++) {
      const k = d + j;
      let g = dLogits[k] * sum[j];
      if (targets[offT + j] === i) g -= scale;
      dLogits[k] = g;
    }
  }
  loss[offLoss] += total;
  return total;
}
