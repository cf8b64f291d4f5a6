// gradCheck: the analytic gradients of a model or a cell against central differences in
// float64, for users' own test suites (PyTorch's torch.autograd.gradcheck, for this library).
//
//   numeric_i = (J(θ + eps·e_i) − J(θ − eps·e_i)) / 2eps       (full mode: every element)
//   numeric_u = (J(θ + eps·u) − J(θ − eps·u)) / 2eps vs ∇J·u    (fast mode: random directions u)
//   passes when |analytic − numeric| ≤ atol + rtol·|numeric|   (PyTorch's criterion and defaults)
//
// J is any scalar loss: a model's built-in loss on a target, or the user's loss on the model's
// logits / the cell's outputs, given with its gradient w.r.t. them (or as a plain number, whose
// gradient w.r.t. the outputs is then taken by central differences too — the parameters'
// gradients still come from the library's backward pass, which is what is checked).
//
// Every check names a parameter by its PyTorch name (nn.RNN / nn.LSTM / nn.GRU state_dict names
// for a model, nn.RNNCell / nn.LSTMCell / nn.GRUCell names for a cell).
import { describe, invalidRange, invalidType } from '../backend/errors';
import type { FloatArray } from '../backend/types';
import { layerName } from '../nn/cells/torch';
import { RNNCell } from '../nn/cell';
import { GRUCell, LSTMCell, type CellState } from '../nn/gated-cell';
import type { ModelInput, ModelTarget, RNNModel } from '../nn/model';
import { checkOptions, keysOf, positiveInt } from '../nn/predicates';
import { Random } from '../random';
import type { Matrix, Sequence, TokenSequence } from '../tensor';

/** The outputs a loss sees: a model's logits (outputSize × T·m) or a cell's outputs h_1..h_T (hiddenSize × T·m). */
export type LossFunction = (output: Sequence) => number | { loss: number; grad: Float64Array | Sequence };

export interface GradCheckOptions {
  /** The batch: token ids or a dense Sequence. Default: a seeded random batch of 3 steps × 2. */
  input?: ModelInput;
  /** Models: the target of the built-in loss. Default (without `loss`): seeded random targets. */
  target?: ModelTarget;
  /** Cells: the initial state (RNNCell: c0 as a Matrix; LSTMCell/GRUCell: { h, c? }). Default zeros. */
  state?: Matrix | CellState;
  /** A loss of your own on the outputs (a model's logits, a cell's outputs). Default for a cell: Σ R ⊙ output, R seeded. */
  loss?: LossFunction;
  /** Central-difference step. Default 1e-6. */
  eps?: number;
  /** Default 1e-5. */
  atol?: number;
  /** Default 1e-3. */
  rtol?: number;
  /** Random projections instead of every element: per parameter, `projections` directions. Default false. */
  fast?: boolean;
  /** Directions per parameter in fast mode. Default 1. */
  projections?: number;
  /** Seeds the default batch, targets, loss and fast mode's directions. Default 0. */
  seed?: number;
  /** Only these parameters (our entry names or PyTorch names). Default: all. */
  parameters?: readonly string[];
  /** Throw a GradCheckError on failure (default true, as PyTorch's raise_exception) or return the result. */
  throwOnFailure?: boolean;
}

const OPTION_KEYS = keysOf<GradCheckOptions>({
  input: true, target: true, state: true, loss: true, eps: true, atol: true, rtol: true, fast: true, projections: true,
  seed: true, parameters: true, throwOnFailure: true,
});

/** One comparison: an element (full mode) or a direction (fast mode, index null). */
export interface GradCheckPoint {
  /** The PyTorch name (the vanilla cell's one bias stands for bias_ih and bias_hh, whose gradients are equal). */
  parameter: string;
  /** This library's name of the tensor (model.entries / cell.params). */
  entry: string;
  /** Element index in the tensor, row-major; null for a random direction. */
  index: number | null;
  /** [row, col] of index (a vector's col is 0); null for a direction. */
  position: [number, number] | null;
  analytic: number;
  numeric: number;
  /** |analytic − numeric| */
  absError: number;
  /** |analytic − numeric| / |numeric| (Infinity when numeric is 0 and they differ). */
  relError: number;
  /** atol + rtol·|numeric|: passes when absError ≤ tolerance. */
  tolerance: number;
}

export interface GradCheckParameter {
  parameter: string;
  entry: string;
  shape: [number, number];
  checked: number;
  failures: number;
  /** The point with the largest absError / tolerance. */
  worst: GradCheckPoint | null;
}

export interface GradCheckResult {
  passed: boolean;
  mode: 'full' | 'fast';
  /** 'RNNModel (lstm, 2 layers)', 'LSTMCell', … */
  subject: string;
  /** The loss: 'built-in cross-entropy', 'user loss', 'Σ R⊙output (seeded)' … */
  loss: string;
  eps: number;
  atol: number;
  rtol: number;
  seed: number;
  /** Comparisons made (elements or directions). */
  checked: number;
  failures: number;
  parameters: GradCheckParameter[];
  /** The point with the largest absError / tolerance over all parameters. */
  worst: GradCheckPoint | null;
  /** Every failing point, worst first (at most 20). */
  failing: GradCheckPoint[];
  /** A readable summary naming the worst point. */
  report: string;
}

export class GradCheckError extends Error {
  constructor(readonly result: GradCheckResult) {
    super(result.report);
    this.name = 'GradCheckError';
  }
}

/** What the check works on: named tensors (live views of the parameters), J at θ, and ∇J at θ. */
interface Subject {
  name: string;
  lossName: string;
  tensors: Array<{ parameter: string; entry: string; rows: number; cols: number; data: FloatArray }>;
  /** J at the current parameters. */
  loss(): number;
  /** ∇J at the current parameters, one array per tensor (copies). */
  gradients(): Float64Array[];
  /** Puts back what the check disturbed (a model's gradients). */
  restore(): void;
}

const FN = 'gradCheck';
const MAX_FAILING = 20;

function finitePositive(name: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number') throw invalidType(FN, name, 'a number', v);
  if (!Number.isFinite(v) || v < 0 || (name === 'eps' && v === 0)) throw invalidRange(FN, name, name === 'eps' ? 'a finite number > 0' : 'a finite number >= 0', v);
  return v;
}

function refuseFloat32(what: string, dtype: string): void {
  if (dtype !== 'float64') {
    throw new TypeError(`${FN}: ${what} is ${dtype}; central differences need float64 (eps 1e-6 is below float32's resolution) — create it with dtype: 'float64'`);
  }
}

/** ∂J/∂output from a user loss: its own gradient, or central differences of the number it returns. */
function lossGradient(fn: LossFunction, output: Sequence, eps: number): { loss: number; grad: Float64Array } {
  const r = fn(output);
  const n = output.data.length;
  if (typeof r === 'number') {
    if (!Number.isFinite(r)) throw new RangeError(`${FN}: the loss function returned ${describe(r)}`);
    const grad = new Float64Array(n);
    const d = output.data;
    for (let i = 0; i < n; i++) {
      const v = d[i];
      d[i] = v + eps; const up = fn(output) as number;
      d[i] = v - eps; const down = fn(output) as number;
      d[i] = v;
      grad[i] = (up - down) / (2 * eps);
    }
    return { loss: r, grad };
  }
  if (typeof r !== 'object' || r === null || typeof r.loss !== 'number') {
    throw invalidType(FN, 'the loss function\'s result', 'a number or { loss, grad }', r);
  }
  const g = ArrayBuffer.isView(r.grad) ? r.grad : (r.grad as Sequence | undefined)?.data;
  if (!(g instanceof Float64Array) && !(g instanceof Float32Array)) {
    throw invalidType(FN, 'the loss function\'s grad', 'a Float64Array or Sequence of ∂loss/∂output', r.grad);
  }
  if (g.length !== n) throw invalidRange(FN, 'the loss function\'s grad', `${n} values (as the output)`, `${g.length}`);
  return { loss: r.loss, grad: Float64Array.from(g) };
}

/** The loss value alone (the numeric side). */
function lossValue(fn: LossFunction, output: Sequence): number {
  const r = fn(output);
  return typeof r === 'number' ? r : r.loss;
}

/** Σ R ⊙ output with R ~ N(0, 1) seeded: the default loss of a cell. */
function projectionLoss(rng: Random, n: number): LossFunction {
  const R = new Float64Array(n);
  for (let i = 0; i < n; i++) R[i] = rng.normal();
  return (out) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += R[i] * out.data[i];
    return { loss: s, grad: R };
  };
}

function randomDense(rng: Random, rows: number, T: number, m: number): Sequence {
  const data = new Float64Array(rows * T * m);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return { rows, steps: T, batch: m, data };
}

function randomTokens(rng: Random, vocab: number, T: number, m: number): TokenSequence {
  const ids = new Int32Array(T * m);
  for (let i = 0; i < ids.length; i++) ids[i] = rng.int(vocab);
  return { ids, steps: T, batch: m };
}

function isModel(v: unknown): v is RNNModel {
  // Duck-typed, so a model built by another copy of the package is recognized too.
  const m = v as RNNModel;
  return typeof v === 'object' && v !== null && typeof m.lossAndGradients === 'function' && Array.isArray(m.entries) &&
    typeof m.config === 'object' && (m.params instanceof Float32Array || m.params instanceof Float64Array);
}

/** A model's PyTorch names are its entry names, except the vanilla cell's single bias. */
function torchNameOf(entry: string): string {
  const m = /^rnn\.bias_l(\d+)$/.exec(entry);
  return m ? `${layerName('rnn.bias_ih_l{k}', Number(m[1]))} (= rnn.bias_hh_l${m[1]})` : entry;
}

function modelSubject(model: RNNModel, o: GradCheckOptions, rng: Random, eps: number): Subject {
  const c = model.config;
  refuseFloat32('the model', c.dtype);
  const T = 3, m = 2;
  const input: ModelInput = o.input ?? (c.vocabSize !== null ? randomTokens(rng, c.inputSize, T, m) : randomDense(rng, c.inputSize, T, m));
  if (o.state !== undefined) throw new TypeError(`${FN}: state is for cells; a model's check starts from zero state`);
  if (o.loss !== undefined && o.target !== undefined) throw new TypeError(`${FN}: give a target (the built-in loss) or a loss function, not both`);
  const savedGrads = model.grads.slice();
  const base = {
    name: `RNNModel (${c.cell}, ${c.numLayers} layer${c.numLayers === 1 ? '' : 's'})`,
    tensors: model.entries.map((e) => ({
      parameter: torchNameOf(e.name), entry: e.name, rows: e.rows, cols: e.cols, data: model.params.subarray(e.offset, e.offset + e.size),
    })),
    gradients: () => model.entries.map((e) => Float64Array.from(model.grads.subarray(e.offset, e.offset + e.size))),
    restore: () => { model.grads.set(savedGrads); },
  };
  const userLoss = o.loss;
  if (userLoss !== undefined) {
    if (typeof userLoss !== 'function') throw invalidType(FN, 'loss', 'a function of the logits', userLoss);
    return {
      ...base,
      lossName: 'user loss on the logits',
      loss: () => lossValue(userLoss, model.forward(input).logits),
      gradients: () => {
        const { grad } = lossGradient(userLoss, model.forward(input).logits, eps);
        model.gradientsFromLogits(input, grad);
        return base.gradients();
      },
    };
  }
  let target = o.target;
  if (target === undefined) {
    target = c.loss === 'cross-entropy'
      ? Int32Array.from({ length: input.steps * input.batch }, () => rng.int(c.outputSize))
      : randomDense(rng, c.outputSize, input.steps, input.batch);
  }
  const t = target;
  return {
    ...base,
    lossName: `built-in ${c.loss}${o.target === undefined ? ' on seeded random targets' : ''}`,
    loss: () => model.loss(input, t),
    gradients: () => {
      model.lossAndGradients(input, t);
      return base.gradients();
    },
  };
}

type AnyCell = RNNCell | LSTMCell | GRUCell;

function cellSubject(cell: AnyCell, o: GradCheckOptions, rng: Random, eps: number): Subject {
  const kind = cell instanceof RNNCell ? 'RNNCell' : cell instanceof LSTMCell ? 'LSTMCell' : 'GRUCell';
  refuseFloat32(`the ${kind}`, cell.dtype);
  if (o.target !== undefined) throw new TypeError(`${FN}: target is for models; give a cell a loss function of its outputs`);
  const T = 3, m = 2;
  const input = (o.input ?? randomDense(rng, cell.inputSize, T, m)) as Sequence | TokenSequence;
  const steps = input.steps, batch = input.batch;
  const lossFn: LossFunction = o.loss ?? projectionLoss(rng, cell.hiddenSize * steps * batch);
  if (typeof lossFn !== 'function') throw invalidType(FN, 'loss', 'a function of the outputs', lossFn);
  const lossName = o.loss ? 'user loss on the outputs' : 'Σ R⊙output, R ~ N(0, 1) seeded';
  // A cell's parameter as a checked tensor (a bias is one column).
  type Param = { rows: number; cols?: number; data: FloatArray };
  const tensor = (parameter: string, entry: string, x: Param) =>
    ({ parameter, entry, rows: x.rows, cols: x.cols ?? 1, data: x.data });
  // run(): the outputs the loss reads and back(d), the parameter gradients from ∂loss/∂outputs.
  const subject = (tensors: Subject['tensors'], run: () => { out: Sequence; back: (d: Sequence) => Param[] }): Subject => ({
    name: kind, lossName, tensors,
    loss: () => lossValue(lossFn, run().out),
    gradients: () => {
      const { out, back } = run();
      const { grad } = lossGradient(lossFn, out, eps);
      return back({ rows: out.rows, steps: out.steps, batch: out.batch, data: grad }).map((x) => Float64Array.from(x.data));
    },
    restore: () => {},
  });
  if (cell instanceof RNNCell) {
    const c0 = o.state as Matrix | undefined;
    const p = cell.params;
    return subject(
      [tensor('weight_ih', 'Wx', p.Wx), tensor('weight_hh', 'Wc', p.Wc), tensor('bias_ih (= bias_hh)', 'b', { rows: p.b.rows, data: p.b.data })],
      () => {
        const { C, cache } = cell.forwardSequence(input, c0);
        return { out: C, back: (d) => { const g = cell.backwardSequence(d, cache); return [g.dWx, g.dWc, g.db]; } };
      });
  }
  const s0 = o.state as CellState | undefined;
  const p = cell.params;
  return subject(
    [tensor('weight_ih', 'Wx', p.Wx), tensor('weight_hh', 'Wc', p.Wc),
      tensor('bias_ih', 'bx', { rows: p.bx.rows, data: p.bx.data }), tensor('bias_hh', 'bc', { rows: p.bc.rows, data: p.bc.data })],
    () => {
      const { H, cache } = cell.forwardSequence(input, s0);
      return { out: H, back: (d) => { const g = cell.backwardSequence(d, cache); return [g.dWx, g.dWc, g.dbx, g.dbc]; } };
    });
}

function point(parameter: string, entry: string, index: number | null, cols: number, analytic: number, numeric: number,
  atol: number, rtol: number): GradCheckPoint {
  const absError = Math.abs(analytic - numeric);
  return {
    parameter, entry, index, position: index === null ? null : [Math.floor(index / cols), index % cols],
    analytic, numeric, absError,
    relError: absError === 0 ? 0 : absError / Math.abs(numeric),
    tolerance: atol + rtol * Math.abs(numeric),
  };
}

/** How far past its tolerance a point is (> 1 fails); NaN anywhere counts as the worst. */
function excess(p: GradCheckPoint): number {
  const r = p.absError / p.tolerance;
  return Number.isNaN(r) ? Infinity : r;
}

function fails(p: GradCheckPoint): boolean {
  return !(p.absError <= p.tolerance);
}

/** 6 significant digits; exponent form for the small and the large. */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x) || x === 0) return String(x);
  const a = Math.abs(x);
  return a < 1e-3 || a >= 1e6 ? x.toExponential(5) : x.toPrecision(6);
}
const fmt = formatNumber;

export function describePoint(p: GradCheckPoint): string {
  const where = p.index === null ? 'a random direction' : `index ${p.index}${p.position ? ` [${p.position[0]}, ${p.position[1]}]` : ''}`;
  const name = p.parameter === p.entry ? p.parameter : `${p.parameter} (native-rnn: ${p.entry})`;
  return `${name} at ${where}: analytic ${fmt(p.analytic)}, numeric ${fmt(p.numeric)}, ` +
    `|a − n| ${fmt(p.absError)} ${fails(p) ? '>' : '≤'} atol + rtol·|n| = ${fmt(p.tolerance)} (relative error ${fmt(p.relError)})`;
}

function makeReport(r: Omit<GradCheckResult, 'report'>): string {
  const head = `gradCheck ${r.passed ? 'passed' : 'FAILED'}: ${r.subject}, ${r.loss}; ${r.mode} mode, ${r.checked} ` +
    `${r.mode === 'full' ? 'elements' : 'directions'} (eps ${r.eps}, atol ${r.atol}, rtol ${r.rtol}, seed ${r.seed})`;
  const lines = [head];
  if (!r.passed) lines.push(`${r.failures} of ${r.checked} outside |a − n| ≤ atol + rtol·|n|; worst:`);
  else lines.push('worst:');
  if (r.worst) lines.push(`  ${describePoint(r.worst)}`);
  if (!r.passed) {
    const bad = r.parameters.filter((p) => p.failures > 0).map((p) => `${p.parameter} (${p.failures} of ${p.checked})`);
    lines.push(`failing parameters: ${bad.join(', ')}`);
    if (r.mode === 'fast') lines.push('(run with fast: false for the failing elements)');
  }
  return lines.join('\n');
}

/**
 * Checks the analytic gradients of a model (RNNModel, float64) or a cell (RNNCell, LSTMCell,
 * GRUCell, float64) against central differences of a scalar loss; throws a GradCheckError
 * naming the worst parameter, element and errors when a gradient is wrong (or returns the
 * result, with throwOnFailure: false). The parameters are restored bit for bit afterwards (and
 * a model's gradients too).
 */
export function gradCheck(subject: RNNModel | RNNCell | LSTMCell | GRUCell, options?: GradCheckOptions): GradCheckResult {
  const o = checkOptions(FN, options, OPTION_KEYS);
  const eps = finitePositive('eps', o.eps, 1e-6);
  const atol = finitePositive('atol', o.atol, 1e-5);
  const rtol = finitePositive('rtol', o.rtol, 1e-3);
  const seed = o.seed ?? 0;
  if (!Number.isSafeInteger(seed)) throw invalidType(FN, 'seed', 'a safe integer', seed);
  const fast = o.fast ?? false;
  if (typeof fast !== 'boolean') throw invalidType(FN, 'fast', 'a boolean', fast);
  const projections = positiveInt(FN, 'projections', o.projections ?? 1);
  const throwOnFailure = o.throwOnFailure ?? true;
  if (typeof throwOnFailure !== 'boolean') throw invalidType(FN, 'throwOnFailure', 'a boolean', throwOnFailure);
  const rng = new Random(seed);
  let s: Subject;
  if (isModel(subject)) s = modelSubject(subject, o, rng, eps);
  else if (subject instanceof RNNCell || subject instanceof LSTMCell || subject instanceof GRUCell) s = cellSubject(subject, o, rng, eps);
  else throw invalidType(FN, 'subject', 'an RNNModel, RNNCell, LSTMCell or GRUCell', subject);

  let tensors = s.tensors.map((t, i) => ({ ...t, i }));
  if (o.parameters !== undefined) {
    if (!Array.isArray(o.parameters)) throw invalidType(FN, 'parameters', 'an array of parameter names', o.parameters);
    const known = s.tensors.flatMap((t) => [t.entry, t.parameter.split(' ')[0]]);
    for (const name of o.parameters) {
      if (!known.includes(name)) throw invalidRange(FN, 'parameters', `names among ${known.join(', ')}`, `'${String(name)}'`);
    }
    tensors = tensors.filter((t) => o.parameters!.includes(t.entry) || o.parameters!.includes(t.parameter.split(' ')[0]));
  }

  const central = (apply: (sign: number) => void): number => {
    apply(1); const up = s.loss();
    apply(-1); const down = s.loss();
    apply(0);
    return (up - down) / (2 * eps);
  };
  const parameters: GradCheckParameter[] = [];
  const failing: GradCheckPoint[] = [];
  try {
    const analytic = s.gradients();
    for (const t of tensors) {
      const g = analytic[t.i];
      const d = t.data;
      const summary: GradCheckParameter = { parameter: t.parameter, entry: t.entry, shape: [t.rows, t.cols], checked: 0, failures: 0, worst: null };
      const consider = (p: GradCheckPoint): void => {
        summary.checked++;
        if (fails(p)) { summary.failures++; failing.push(p); }
        if (summary.worst === null || excess(p) > excess(summary.worst)) summary.worst = p;
      };
      if (!fast) {
        for (let i = 0; i < d.length; i++) {
          const v = d[i];
          const numeric = central((sign) => { d[i] = sign === 0 ? v : v + sign * eps; });
          consider(point(t.parameter, t.entry, i, t.cols, g[i], numeric, atol, rtol));
        }
      } else {
        const saved = Float64Array.from(d);
        for (let k = 0; k < projections; k++) {
          // A unit direction u ~ N(0, I)/‖·‖ in this tensor's elements.
          const u = new Float64Array(d.length);
          let norm = 0;
          for (let i = 0; i < u.length; i++) { u[i] = rng.normal(); norm += u[i] * u[i]; }
          norm = Math.sqrt(norm) || 1;
          let a = 0;
          for (let i = 0; i < u.length; i++) { u[i] /= norm; a += g[i] * u[i]; }
          const numeric = central((sign) => {
            if (sign === 0) d.set(saved);
            else for (let i = 0; i < d.length; i++) d[i] = saved[i] + sign * eps * u[i];
          });
          consider(point(t.parameter, t.entry, null, t.cols, a, numeric, atol, rtol));
        }
      }
      parameters.push(summary);
    }
  } finally {
    s.restore();
  }
  const checked = parameters.reduce((n, p) => n + p.checked, 0);
  let worst: GradCheckPoint | null = null;
  for (const p of parameters) if (p.worst && (worst === null || excess(p.worst) > excess(worst))) worst = p.worst;
  failing.sort((a, b) => excess(b) - excess(a));
  const partial = {
    passed: failing.length === 0, mode: fast ? 'fast' as const : 'full' as const, subject: s.name, loss: s.lossName,
    eps, atol, rtol, seed, checked, failures: failing.length, parameters, worst, failing: failing.slice(0, MAX_FAILING),
  };
  const result: GradCheckResult = { ...partial, report: makeReport(partial) };
  if (!result.passed && throwOnFailure) throw new GradCheckError(result);
  return result;
}
