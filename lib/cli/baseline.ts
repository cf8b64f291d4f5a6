// The bigram baseline every reported loss is read against: p(next | current) from add-one
// smoothed counts of adjacent symbol pairs in the training text, scored on the evaluation
// text. A recurrent model that cannot beat it has learned nothing beyond one character of
// context.

export interface BaselineResult {
  /** mean −ln p per predicted symbol */
  loss: number;
  /** loss / ln 2 */
  bpc: number;
  /** predicted symbols (pairs scored) */
  tokens: number;
}

/**
 * Fits bigram counts on `train` (ids in [0, V)) with one added to every cell, and returns the
 * mean negative log-likelihood of each symbol of `evaluation` given the one before it.
 */
export function bigramBaseline(train: Int32Array, evaluation: Int32Array, vocabSize: number): BaselineResult {
  const V = vocabSize;
  if (!Number.isInteger(V) || V < 1) throw new RangeError(`bigramBaseline: vocabSize must be a positive integer, got ${V}`);
  // counts[a·V + b] = 1 + #(a followed by b); rowTotals[a] = V + #(a followed by anything)
  const counts = new Float64Array(V * V).fill(1);
  const rowTotals = new Float64Array(V).fill(V);
  for (let i = 0; i + 1 < train.length; i++) {
    counts[train[i] * V + train[i + 1]] += 1;
    rowTotals[train[i]] += 1;
  }
  let nll = 0;
  const tokens = Math.max(0, evaluation.length - 1);
  for (let i = 0; i + 1 < evaluation.length; i++) {
    const a = evaluation[i], b = evaluation[i + 1];
    nll -= Math.log(counts[a * V + b] / rowTotals[a]);
  }
  const loss = tokens > 0 ? nll / tokens : NaN;
  return { loss, bpc: loss / Math.LN2, tokens };
}
