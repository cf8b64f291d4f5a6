// Optimizers, schedules and clipping. Each optimizer runs through Optimizer.record and
// backend.run for several steps on random arrays and is compared with a reference written
// here from the update rules in PyTorch's documentation (torch.optim.SGD, Adam, AdamW,
// Adagrad, RMSprop pseudocode), computed in double.
import { expect } from 'chai';
import { backends, createSchedule, Optimizer, RNNModel, Trainer } from '../lib';
import type { BackendName, FloatArray, Op, OptimizerName, OptimizerOptions } from '../lib';
import { checkClose, DTYPES, Rng } from './helpers/check';

const BACKENDS: BackendName[] = backends.available();

interface RefState {
  t: number;
  b: Float64Array | null; // SGD momentum buffer
  m: Float64Array; // Adam first moment
  v: Float64Array; // Adam second moment / RMSprop square average
  sum: Float64Array; // Adagrad state_sum
}

/**
 * One step of PyTorch's documented algorithm, on θ in place (γ = lr, λ = weight decay,
 * μ = momentum, τ = dampening = 0). The docs' names are kept.
 */
function referenceStep(name: OptimizerName, o: Required<Pick<OptimizerOptions, 'weightDecay' | 'momentum' | 'nesterov' | 'eps' | 'alpha'>> & { betas: [number, number] },
  theta: Float64Array, grad: ArrayLike<number>, gamma: number, s: RefState): void {
  s.t += 1;
  const t = s.t, lambda = o.weightDecay, mu = o.momentum, [beta1, beta2] = o.betas, eps = o.eps, alpha = o.alpha;
  for (let i = 0; i < theta.length; i++) {
    let g = grad[i];
    switch (name) {
      case 'sgd': {
        if (lambda !== 0) g = g + lambda * theta[i];
        if (mu !== 0) {
          const b = t > 1 ? mu * s.b![i] + (1 - 0) * g : g;
          s.b![i] = b;
          g = o.nesterov ? g + mu * b : b;
        }
        theta[i] = theta[i] - gamma * g;
        break;
      }
      case 'adam':
      case 'adamw': {
        if (name === 'adamw') theta[i] = theta[i] - gamma * lambda * theta[i];
        else if (lambda !== 0) g = g + lambda * theta[i];
        s.m[i] = beta1 * s.m[i] + (1 - beta1) * g;
        s.v[i] = beta2 * s.v[i] + (1 - beta2) * g * g;
        const mHat = s.m[i] / (1 - beta1 ** t);
        const vHat = s.v[i] / (1 - beta2 ** t);
        theta[i] = theta[i] - gamma * mHat / (Math.sqrt(vHat) + eps);
        break;
      }
      case 'adagrad': {
        const clr = gamma / (1 + (t - 1) * 0); // lr_decay = 0
        if (lambda !== 0) g = g + lambda * theta[i];
        s.sum[i] = s.sum[i] + g * g;
        theta[i] = theta[i] - clr * g / (Math.sqrt(s.sum[i]) + eps);
        break;
      }
      case 'rmsprop': {
        if (lambda !== 0) g = g + lambda * theta[i];
        s.v[i] = alpha * s.v[i] + (1 - alpha) * g * g;
        theta[i] = theta[i] - gamma * g / (Math.sqrt(s.v[i]) + eps);
        break;
      }
    }
  }
}

const CONFIGS: Array<{ label: string; name: OptimizerName; options: OptimizerOptions; stateKey: string | null; refKey: keyof RefState | null }> = [
  { label: 'sgd', name: 'sgd', options: { lr: 0.1 }, stateKey: null, refKey: null },
  { label: 'sgd + weight decay', name: 'sgd', options: { lr: 0.1, weightDecay: 0.05 }, stateKey: null, refKey: null },
  { label: 'sgd momentum', name: 'sgd', options: { lr: 0.1, momentum: 0.9 }, stateKey: 'velocity', refKey: 'b' },
  { label: 'sgd nesterov + weight decay', name: 'sgd', options: { lr: 0.1, momentum: 0.8, nesterov: true, weightDecay: 0.05 }, stateKey: 'velocity', refKey: 'b' },
  { label: 'adam', name: 'adam', options: { lr: 0.01 }, stateKey: 'exp_avg_sq', refKey: 'v' },
  { label: 'adam + L2 weight decay, custom betas/eps', name: 'adam', options: { lr: 0.01, weightDecay: 0.1, betas: [0.8, 0.99], eps: 1e-6 }, stateKey: 'exp_avg', refKey: 'm' },
  { label: 'adamw (decoupled weight decay)', name: 'adamw', options: { lr: 0.01, weightDecay: 0.1 }, stateKey: 'exp_avg_sq', refKey: 'v' },
  { label: 'adagrad + weight decay', name: 'adagrad', options: { lr: 0.1, weightDecay: 0.05 }, stateKey: 'sum', refKey: 'sum' },
  { label: 'rmsprop + weight decay', name: 'rmsprop', options: { lr: 0.01, alpha: 0.9, weightDecay: 0.05 }, stateKey: 'square_avg', refKey: 'v' },
];

describe('41 optimizers vs PyTorch\'s documented updates (several steps, random arrays)', () => {
  const n = 41, steps = 6;
  for (const name of BACKENDS) {
    const backend = backends.get(name);
    for (const dt of DTYPES) {
      for (const c of CONFIGS) {
        it(`[${name}, ${dt.name}] ${c.label}`, async () => {
          const rng = new Rng(c.label.length * 31 + dt.eps * 1e10);
          const opt = new Optimizer(c.name, c.options);
          const p = dt.make(n);
          for (let i = 0; i < n; i++) p[i] = rng.uniform(-2, 2);
          const theta = Float64Array.from(p);
          const ref: RefState = { t: 0, b: new Float64Array(n), m: new Float64Array(n), v: new Float64Array(n), sum: new Float64Array(n) };
          const o = {
            weightDecay: opt.weightDecay, momentum: opt.momentum, nesterov: opt.nesterov, eps: opt.eps, alpha: opt.alpha,
            betas: [opt.beta1, opt.beta2] as [number, number],
          };
          // float64 matches to rounding; float32 rounds p and the state once per step
          const tol = dt.name === 'float64' ? 1e-13 : 3e-6;
          for (let s = 0; s < steps; s++) {
            const g = dt.make(n);
            for (let i = 0; i < n; i++) g[i] = rng.uniform(-1, 1) * (i % 5 === 0 ? 1e-3 : 1);
            const gamma = (opt.lr) * (1 + 0.25 * s); // a different rate every step, as a schedule gives
            const ops: Op[] = [];
            opt.record(ops, p, g, gamma);
            expect(ops).to.have.length(1);
            expect(opt.step).to.equal(s + 1);
            await backend.run(ops);
            referenceStep(c.name, o, theta, g, gamma, ref);
            checkClose(`step ${s + 1} params`, p, theta, tol);
            if (c.stateKey) checkClose(`step ${s + 1} ${c.stateKey}`, opt.state[c.stateKey], ref[c.refKey!] as Float64Array, tol);
          }
          // the test can fail: the parameters really moved
          let moved = 0;
          const start = new Rng(c.label.length * 31 + dt.eps * 1e10);
          for (let i = 0; i < n; i++) moved = Math.max(moved, Math.abs(p[i] - start.uniform(-2, 2)));
          expect(moved).to.be.greaterThan(1e-3);
          expect(p instanceof (dt.name === 'float32' ? Float32Array : Float64Array)).to.equal(true);
          expect(Object.keys(opt.state)).to.deep.equal(opt.stateNames());
        });
      }
    }
  }

  it('defaults follow PyTorch (betas, eps, alpha, AdamW weight decay 0.01) and are reported by toJSON', () => {
    const adam = new Optimizer('adam');
    expect([adam.beta1, adam.beta2, adam.eps, adam.weightDecay, adam.lr]).to.deep.equal([0.9, 0.999, 1e-8, 0, 1e-3]);
    expect(new Optimizer('adamw').weightDecay).to.equal(0.01);
    expect(new Optimizer('adagrad').eps).to.equal(1e-10);
    const rms = new Optimizer('rmsprop');
    expect([rms.alpha, rms.eps, rms.lr]).to.deep.equal([0.99, 1e-8, 1e-2]);
    expect(new Optimizer('sgd', { momentum: 0.9, nesterov: true }).toJSON()).to.deep.include({ name: 'sgd', momentum: 0.9, nesterov: true, step: 0 });
    expect(new Optimizer('sgd').stateNames()).to.deep.equal([]);
  });

  it('bad optimizer options name the option', () => {
    expect(() => new Optimizer('lbfgs' as OptimizerName)).to.throw(TypeError, /name must be/);
    expect(() => new Optimizer('sgd', { lr: -1 })).to.throw(RangeError, /lr must be a finite number >= 0, got -1/);
    expect(() => new Optimizer('sgd', { lr: NaN })).to.throw(RangeError, /lr/);
    expect(() => new Optimizer('sgd', { momentum: -0.5 })).to.throw(RangeError, /momentum/);
    expect(() => new Optimizer('sgd', { nesterov: true })).to.throw(RangeError, /nesterov needs momentum > 0/);
    expect(() => new Optimizer('adam', { betas: [1, 0.9] })).to.throw(RangeError, /betas\[0\] must be in \[0, 1\), got 1/);
    expect(() => new Optimizer('adam', { betas: [0.9] as unknown as [number, number] })).to.throw(TypeError, /betas must be a pair/);
    expect(() => new Optimizer('adam', { eps: -1e-8 })).to.throw(RangeError, /eps/);
    expect(() => new Optimizer('rmsprop', { alpha: 1.5 })).to.throw(RangeError, /alpha/);
    expect(() => new Optimizer('adamw', { weightDecay: -0.1 })).to.throw(RangeError, /weightDecay/);
  });
});

describe('41 learning-rate schedules', () => {
  const at = (spec: Parameters<typeof createSchedule>[0], steps: number[]) => steps.map((s) => createSchedule(spec)(s));

  it('constant (and no schedule) is 1 at every step', () => {
    expect(at(undefined, [0, 1, 1000])).to.deep.equal([1, 1, 1]);
    expect(at({ kind: 'constant' }, [0, 7, 1e6])).to.deep.equal([1, 1, 1]);
  });

  it('step: gamma^floor(step / stepSize), like StepLR', () => {
    expect(at({ kind: 'step', stepSize: 10, gamma: 0.5 }, [0, 9, 10, 19, 20, 35])).to.deep.equal([1, 1, 0.5, 0.5, 0.25, 0.125]);
    expect(at({ kind: 'step', stepSize: 3 }, [2, 3, 6])).to.deep.equal([1, 0.1, 0.1 ** 2]);
  });

  it('cosine: minFactor + (1 − minFactor)(1 + cos(π·t/T))/2, held at the minimum after T, like CosineAnnealingLR', () => {
    const f = createSchedule({ kind: 'cosine', totalSteps: 100, minFactor: 0.1 });
    checkClose('cosine', [0, 25, 50, 75, 100, 150].map(f), [1, 0.1 + 0.9 * (1 + Math.SQRT1_2) / 2, 0.55, 0.1 + 0.9 * (1 - Math.SQRT1_2) / 2, 0.1, 0.1], 1e-15);
    for (let s = 1; s <= 100; s++) expect(f(s)).to.be.at.most(f(s - 1));
  });

  it('warm-up: linear (s + 1)/warmup over the first steps, then the base schedule', () => {
    expect(at({ kind: 'constant', warmup: 4 }, [0, 1, 2, 3, 4, 50])).to.deep.equal([0.25, 0.5, 0.75, 1, 1, 1]);
    // cosine after a warm-up anneals over the remaining totalSteps − warmup steps
    const f = createSchedule({ kind: 'cosine', totalSteps: 110, warmup: 10 });
    checkClose('warm cosine', [0, 9, 10, 60, 110].map(f), [0.1 * 1, 1, 1, 0.5, 0], 1e-15);
    expect(f(5)).to.be.closeTo(0.6, 1e-15);
    // step with a warm-up: the ramp multiplies the step schedule
    expect(at({ kind: 'step', stepSize: 2, gamma: 0.5, warmup: 2 }, [0, 1, 2, 3, 4])).to.deep.equal([0.5, 1, 0.5, 0.5, 0.25]);
  });

  it('a function is used as is; bad specs name the field', () => {
    const fn = (s: number) => 1 / (1 + s);
    expect(createSchedule(fn)).to.equal(fn);
    expect(() => createSchedule({ kind: 'step', stepSize: 0 })).to.throw(RangeError, /stepSize must be a positive integer/);
    expect(() => createSchedule({ kind: 'step', stepSize: 2, gamma: 0 })).to.throw(RangeError, /gamma/);
    expect(() => createSchedule({ kind: 'cosine', totalSteps: 0 })).to.throw(RangeError, /totalSteps/);
    expect(() => createSchedule({ kind: 'cosine', totalSteps: 10, minFactor: 2 })).to.throw(RangeError, /minFactor/);
    expect(() => createSchedule({ kind: 'constant', warmup: -1 })).to.throw(RangeError, /warmup/);
    expect(() => createSchedule({ kind: 'linear' } as never)).to.throw(TypeError, /kind must be/);
  });

  for (const name of BACKENDS) {
    it(`[${name}] the trainer applies base lr × schedule(step) at each step (onStep lr and the actual SGD update)`, async () => {
      const model = new RNNModel({ vocabSize: 5, hiddenSize: 6, dtype: 'float64', backend: name, seed: 1 });
      const trainer = new Trainer(model, { optimizer: 'sgd', lr: 0.5, schedule: { kind: 'step', stepSize: 2, gamma: 0.5, warmup: 1 } });
      const rng = new Rng(3);
      const batch = { input: { ids: new Int32Array(12).map(() => rng.int(5)), steps: 4, batch: 3 }, target: new Int32Array(12).map(() => rng.int(5)) };
      const lrs: number[] = [];
      let before = model.params.slice();
      await trainer.fit([batch], {
        steps: 5,
        onStep: (info) => {
          lrs.push(info.lr);
          // grads still hold this step's gradient (no clipping): p_after = p_before − lr·g
          const want = before.map((p, i) => p - info.lr * model.grads[i]);
          checkClose(`step ${info.step} update`, model.params, want, 1e-15);
          before = model.params.slice();
        },
      });
      expect(lrs).to.deep.equal([0.5, 0.5, 0.25, 0.25, 0.125]);
      expect(trainer.lr).to.equal(0.5 * 0.5 ** 2);
    });
  }
});

describe('41 gradient clipping', () => {
  for (const name of BACKENDS) {
    const setup = (options: ConstructorParameters<typeof Trainer>[1]) => {
      const model = new RNNModel({ vocabSize: 7, hiddenSize: 10, numLayers: 2, dtype: 'float64', backend: name, seed: 2 });
      const rng = new Rng(5);
      const input = { ids: new Int32Array(30).map(() => rng.int(7)), steps: 6, batch: 5 };
      const target = new Int32Array(30).map(() => rng.int(7));
      // the raw gradient of this batch, from zero state (as trainStep computes it)
      model.lossAndGradients(input, target);
      const raw = model.grads.slice();
      let norm2 = 0;
      for (const g of raw) norm2 += g * g;
      return { model, trainer: new Trainer(model, options), input, target, raw, norm: Math.sqrt(norm2) };
    };
    const norm = (a: FloatArray) => { let s = 0; for (const x of a) s += x * x; return Math.sqrt(s); };

    it(`[${name}] by global norm: the gradient is scaled so its norm equals clipNorm; gradNorm reports the norm before`, async () => {
      const a = setup({ optimizer: 'sgd', lr: 1 });
      const clip = a.norm / 4;
      const { model, trainer, input, target, raw, norm: n0 } = setup({ optimizer: 'sgd', lr: 1, clipNorm: clip });
      const p0 = model.params.slice();
      const r = await trainer.trainStep(input, target);
      expect(r.gradNorm).to.be.closeTo(n0, 1e-12 * n0);
      expect(norm(model.grads)).to.be.closeTo(clip, 1e-12 * clip);
      checkClose('clipped = raw·clip/norm', model.grads, raw.map((g) => g * (clip / n0)), 1e-14);
      checkClose('update used the clipped gradient', model.params, p0.map((p, i) => p - model.grads[i]), 1e-15);
      // below the threshold nothing changes
      const b = setup({ optimizer: 'sgd', lr: 1, clipNorm: n0 * 2 });
      await b.trainer.trainStep(b.input, b.target);
      checkClose('unclipped', b.model.grads, b.raw, 1e-14);
    });

    it(`[${name}] by value: every element clamped to [−clipValue, clipValue]; with clipNorm, norm first`, async () => {
      const probe = setup({});
      const sorted = Array.from(probe.raw, Math.abs).sort((x, y) => x - y);
      const limit = sorted[Math.floor(sorted.length * 0.8)]; // clips the largest 20 %
      const { model, trainer, input, target, raw } = setup({ optimizer: 'sgd', lr: 1, clipValue: limit });
      await trainer.trainStep(input, target);
      const want = raw.map((g) => Math.min(limit, Math.max(-limit, g)));
      checkClose('clamped', model.grads, want, 1e-14);
      const clipped = raw.filter((g) => Math.abs(g) > limit).length;
      expect(clipped).to.be.within(Math.floor(raw.length * 0.1), Math.ceil(raw.length * 0.25));
      const both = setup({ optimizer: 'sgd', lr: 1, clipNorm: probe.norm / 2, clipValue: limit / 4 });
      await both.trainer.trainStep(both.input, both.target);
      const scaled = both.raw.map((g) => g * 0.5);
      checkClose('norm then value', both.model.grads, scaled.map((g) => Math.min(limit / 4, Math.max(-limit / 4, g))), 1e-14);
    });
  }

  it('bad clipping options name the option', () => {
    const model = new RNNModel({ vocabSize: 3, hiddenSize: 2, backend: 'ts' });
    expect(() => new Trainer(model, { clipNorm: 0 })).to.throw(RangeError, /clipNorm must be a positive number, got 0/);
    expect(() => new Trainer(model, { clipValue: -1 })).to.throw(RangeError, /clipValue/);
    expect(() => new Trainer(model, { clipNorm: Infinity })).to.throw(RangeError, /clipNorm/);
  });
});
