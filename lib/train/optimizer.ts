// Optimizers over the model's flat parameter and gradient arrays: each update is one kernel
// call, recorded into the step's program. State arrays have the parameters' layout, so a
// checkpoint stores them as tensors beside the weights.
import { invalidRange, invalidType } from '../backend/errors';
import type { FloatArray, Op } from '../backend/types';
import { allocate } from '../tensor';
import type { DType } from '../backend/types';
import { checkOptions, keysOf } from '../nn/predicates';

export type OptimizerName = 'sgd' | 'adam' | 'adamw' | 'adagrad' | 'rmsprop';

export interface OptimizerOptions {
  /** Base learning rate (the schedule multiplies it). Defaults: sgd 0.1, adam 1e-3, adagrad 0.1, rmsprop 1e-2. */
  lr?: number;
  weightDecay?: number;
  /** sgd */
  momentum?: number;
  nesterov?: boolean;
  /** adam / adamw */
  betas?: [number, number];
  eps?: number;
  /** rmsprop smoothing */
  alpha?: number;
}

export const OPTIMIZER_OPTION_KEYS = keysOf<OptimizerOptions>({
  lr: true, weightDecay: true, momentum: true, nesterov: true, betas: true, eps: true, alpha: true,
});

/** Names other libraries use for our options (PyTorch's snake_case folds by itself: weight_decay). */
export const OPTIMIZER_ALIASES: Readonly<Record<string, string>> = { learningRate: 'lr', learning_rate: 'lr', beta1: 'betas', beta2: 'betas', epsilon: 'eps' };

const DEFAULT_LR: Record<OptimizerName, number> = { sgd: 0.1, adam: 1e-3, adamw: 1e-3, adagrad: 0.1, rmsprop: 1e-2 };

function finiteNonNegative(name: string, v: unknown): number {
  if (typeof v !== 'number') throw invalidType('optimizer', name, 'a number', v);
  if (!Number.isFinite(v) || v < 0) throw invalidRange('optimizer', name, 'a finite number >= 0', v);
  return v;
}

function unit(name: string, v: unknown): number {
  if (typeof v !== 'number') throw invalidType('optimizer', name, 'a number', v);
  if (!(v >= 0 && v < 1)) throw invalidRange('optimizer', name, 'in [0, 1)', v);
  return v;
}

export class Optimizer {
  readonly name: OptimizerName;
  readonly lr: number;
  readonly weightDecay: number;
  readonly momentum: number;
  readonly nesterov: boolean;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly alpha: number;
  /** Updates applied so far (Adam's bias correction counts from 1). */
  step = 0;
  /** Named state arrays (velocity; m and v; h; s), each the size of the parameters. */
  readonly state: Record<string, FloatArray> = {};

  constructor(name: OptimizerName, options: OptimizerOptions = {}) {
    checkOptions('new Optimizer', options, OPTIMIZER_OPTION_KEYS, { aliases: OPTIMIZER_ALIASES });
    if (!(name in DEFAULT_LR)) throw invalidType('optimizer', 'name', "'sgd', 'adam', 'adamw', 'adagrad' or 'rmsprop'", name);
    this.name = name;
    this.lr = finiteNonNegative('lr', options.lr ?? DEFAULT_LR[name]);
    this.weightDecay = finiteNonNegative('weightDecay', options.weightDecay ?? (name === 'adamw' ? 0.01 : 0));
    this.momentum = finiteNonNegative('momentum', options.momentum ?? 0);
    this.nesterov = options.nesterov ?? false;
    if (typeof this.nesterov !== 'boolean') throw invalidType('optimizer', 'nesterov', 'a boolean', this.nesterov);
    if (this.nesterov && this.momentum === 0) throw new RangeError('optimizer: nesterov needs momentum > 0');
    const betas = options.betas ?? [0.9, 0.999];
    if (!Array.isArray(betas) || betas.length !== 2) throw invalidType('optimizer', 'betas', 'a pair [beta1, beta2]', betas);
    this.beta1 = unit('betas[0]', betas[0]);
    this.beta2 = unit('betas[1]', betas[1]);
    this.eps = finiteNonNegative('eps', options.eps ?? (name === 'adagrad' ? 1e-10 : 1e-8));
    this.alpha = unit('alpha', options.alpha ?? 0.99);
  }

  /** The state arrays this optimizer keeps, by name. */
  stateNames(): string[] {
    switch (this.name) {
      case 'sgd': return this.momentum > 0 ? ['velocity'] : [];
      case 'adam': case 'adamw': return ['exp_avg', 'exp_avg_sq'];
      case 'adagrad': return ['sum'];
      case 'rmsprop': return ['square_avg'];
    }
  }

  /** Allocates (zeroed) state for n parameters, once. */
  attach(n: number, dtype: DType): void {
    for (const key of this.stateNames()) {
      if (!this.state[key] || this.state[key].length !== n) this.state[key] = allocate(dtype, n);
    }
  }

  /** Records one update of params with grads at learning rate lr, and counts the step. */
  record(ops: Op[], params: FloatArray, grads: FloatArray, lr: number): void {
    const n = params.length;
    this.attach(n, params instanceof Float32Array ? 'float32' : 'float64');
    this.step += 1;
    const s = this.state;
    switch (this.name) {
      case 'sgd':
        ops.push(['sgdUpdate', n, params, 0, grads, 0, this.momentum > 0 ? s.velocity : null, 0, lr, this.momentum, this.nesterov, this.weightDecay]);
        break;
      case 'adam':
      case 'adamw':
        ops.push(['adamUpdate', n, params, 0, grads, 0, s.exp_avg, 0, s.exp_avg_sq, 0, lr, this.beta1, this.beta2, this.eps,
          this.weightDecay, this.name === 'adamw', this.step]);
        break;
      case 'adagrad':
        ops.push(['adagradUpdate', n, params, 0, grads, 0, s.sum, 0, lr, this.eps, this.weightDecay]);
        break;
      case 'rmsprop':
        ops.push(['rmspropUpdate', n, params, 0, grads, 0, s.square_avg, 0, lr, this.alpha, this.eps, this.weightDecay]);
        break;
    }
  }

  /** The settings, for checkpoints. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name, lr: this.lr, weightDecay: this.weightDecay, momentum: this.momentum, nesterov: this.nesterov,
      betas: [this.beta1, this.beta2], eps: this.eps, alpha: this.alpha, step: this.step,
    };
  }
}

export function createOptimizer(spec: OptimizerName | Optimizer | undefined, options: OptimizerOptions = {}): Optimizer {
  if (spec instanceof Optimizer) return spec;
  return new Optimizer(spec ?? 'adam', options);
}
